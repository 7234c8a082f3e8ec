/* The .tgz: gzip-compressed pax tar (long paths safe, readable by GNU tar),
 * of the staging tree, written by libarchive. */
#ifndef COLLECTOR_BUNDLE_ARCHIVE_H
#define COLLECTOR_BUNDLE_ARCHIVE_H

#include <stddef.h>

/* Archive everything under top_dir/collect as collect/... into fd.
 * 0, or -1 with err filled. */
int archive_tree(const char *top_dir, int fd, char *err, size_t errlen);

#endif
