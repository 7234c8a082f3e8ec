/* The journal files the journald input reads, looked at by the input
 * itself: sd-journal skips a file it cannot open without saying so, and an
 * operator wants to know. At start and whenever sd-journal says files were
 * added or removed, the directories (and their subdirectories, one level:
 * /var/log/journal/<machine-id>/) are listed; each file not seen before is
 * opened alone and its first entry read, and one that fails is logged once
 * as skipped: when it still fails two seconds after it first did (a file
 * being created fails too, for a moment).
 *
 * The same listing finds files sd-journal missed: it learns of new files by
 * inotify, and a file created by a writer that fills it through mmap (as
 * journald and journal-remote do) can be seen empty at IN_CREATE and never
 * again. jd_files_check() says how many files became readable, and the
 * input then reopens the journal at its position. */
#ifndef COLLECTOR_JOURNALD_FILES_H
#define COLLECTOR_JOURNALD_FILES_H

#include <stdint.h>

struct jd_files {
    char *path;                 /* the input's `path`, or NULL: the system journal's directories */
    struct jd_file {
        uint64_t dev, ino;
        int corrupt;            /* failed, and said */
        int64_t failing_since;  /* failed, not said yet (ms, monotonic); 0: readable */
    } *items;
    int count;
    int corrupt;                /* files found unreadable, in total */
};

void jd_files_init(struct jd_files *f, const char *path);
void jd_files_free(struct jd_files *f);
/* List the directories again; check new files (and those failing, not
 * said yet) and log the ones skipped. Returns how many became readable. */
int jd_files_check(struct jd_files *f, const char *input_name);
/* Journal files present and readable. */
int jd_files_count(const struct jd_files *f);
int jd_files_corrupt(const struct jd_files *f);

#endif
