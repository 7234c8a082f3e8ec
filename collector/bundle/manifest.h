/* manifest.json (every entry) and redactions.txt (what kinds were removed
 * where, never the values). */
#ifndef COLLECTOR_BUNDLE_MANIFEST_H
#define COLLECTOR_BUNDLE_MANIFEST_H

#include "collector/bundle/stage.h"

void manifest_write_redactions(struct bundle *b, const char *check_report);
/* Written last; not an entry of itself. 0 or -1. */
int manifest_write(struct bundle *b);

#endif
