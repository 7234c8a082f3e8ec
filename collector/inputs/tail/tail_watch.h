/* Finding files: glob expansion (`*`, `?`, `[...]`, and `**` for any
 * number of directories) with exclusions, and inotify on the directories
 * the globs walk through, as one fd in the event loop.
 *
 * Only directories are watched (one watch covers every file in it; IN_MODIFY
 * on a directory reports writes to its files), so the watch count is the
 * number of directories, bounded by max_watches. Directories beyond the cap,
 * a failed inotify_init or inotify_add_watch (ENOSPC: the user's
 * fs.inotify.max_user_watches is exhausted) make the watcher "degraded":
 * the caller then polls (stat) what it follows and rescans on its poll
 * interval, so nothing is lost, only later. A queue overflow (IN_Q_OVERFLOW)
 * is reported to the caller, which rescans and checks every file once. Each
 * of these is logged once. */
#ifndef COLLECTOR_TAIL_WATCH_H
#define COLLECTOR_TAIL_WATCH_H

#include "collector/core/options.h"

#include <stdint.h>
#include <sys/stat.h>

struct loop;
struct tail_watch;

/* A path matching the globs: st is its stat(), or err its errno. */
typedef void (*tw_found_fn)(void *arg, const char *path, const struct stat *st, int err);
/* Something happened to path (a directory entry) in a watched directory:
 * mask is inotify's. path is NULL for IN_Q_OVERFLOW. */
typedef void (*tw_event_fn)(void *arg, const char *path, uint32_t mask);

struct tail_watch *tw_new(struct loop *loop, const struct strlist *include,
                          const struct strlist *exclude, int64_t max_watches, tw_found_fn found,
                          tw_event_fn event, void *arg);
void tw_free(struct tail_watch *w);

/* Walk every glob, watching the directories on the way, and report matches. */
void tw_scan(struct tail_watch *w);

/* Does path match an include glob and no exclude glob? */
int tw_matches(const struct tail_watch *w, const char *path);

/* Take inotify events in batches at most every ms (0 = as they come). */
void tw_set_coalesce(struct tail_watch *w, int64_t ms);

/* Writes to files (IN_MODIFY) reported since the last call. */
uint64_t tw_take_modify_events(struct tail_watch *w);
/* Stop or restart asking for write events: when files are written so
 * often that checking their sizes on a timer is cheaper than one event per
 * write, the caller turns them off and polls (creations, renames and
 * deletions are still reported). */
void tw_set_modify_events(struct tail_watch *w, int on);

/* Must the caller poll (some directory unwatched, or events were lost)? */
int tw_degraded(const struct tail_watch *w);
/* Number of directories watched. */
int tw_watch_count(const struct tail_watch *w);

/* Pure glob matching, exposed for tests: `*` and `?` stay within one path
 * component, `**` as a whole component matches zero or more components. */
int tw_glob_match(const char *pattern, const char *path);

#endif
