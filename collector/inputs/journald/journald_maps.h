/* The journal files sd-journal has mapped, let go of between reads.
 *
 * sd-journal reads journal files through shared, read-only mappings and
 * keeps them mapped (up to 64 windows of 8 MiB each): every page of every
 * entry read stays resident, and counts in the agent's RSS, until the
 * journal is closed. Reading 200,000 entries left 63 MiB of RssFile. Pages
 * of a shared file mapping given up with MADV_DONTNEED are read again from
 * the page cache at the next access, so the mappings, and sd-journal's
 * pointers into them, stay valid. */
#ifndef COLLECTOR_INPUTS_JOURNALD_MAPS_H
#define COLLECTOR_INPUTS_JOURNALD_MAPS_H

#include <stddef.h>
#include <stdint.h>

/* One line of /proc/self/maps: 1 with its range if it is a shared,
 * read-only mapping of a journal file (a path ending in .journal or
 * .journal~, deleted or not), else 0. */
int jd_maps_journal_range(const char *line, uintptr_t *start, uintptr_t *end);

/* Give up the resident pages of every journal file mapped in this process.
 * Returns the bytes of the ranges, or -1 if /proc/self/maps is unreadable. */
long long jd_maps_release(void);

#endif
