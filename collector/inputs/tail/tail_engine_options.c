/* The option rows of the tail engine's settings that the tail and
 * containers inputs share: see tail_engine.h. */
#include "collector/inputs/tail/tail_engine.h"

#include <stddef.h>

const struct option_def tail_engine_options[] = {
    {"refresh_interval", OPT_DURATION, "10s", 0,
     offsetof(struct tail_engine_settings, refresh_interval_ms), NULL,
     "rescan for files this often (inotify, and Docker events for containers, find new ones "
     "at once; this is the safety net)"},
    {"rotate_wait", OPT_DURATION, "5s", 0, offsetof(struct tail_engine_settings, rotate_wait_ms),
     NULL, "keep reading a rotated or deleted file this long after its last write"},
    {"max_open_files", OPT_INT, "1024", 0, offsetof(struct tail_engine_settings, max_open_files),
     "1..1000000", "open file descriptors at most; idle files are closed to make room"},
    {"read_interval", OPT_DURATION, "250ms", 0,
     offsetof(struct tail_engine_settings, read_interval_ms), NULL,
     "when writes are so frequent (over 1000/s, and more than 8/s per open file) that a "
     "write event each costs more than checking sizes, sizes are checked this often instead; "
     "0 = always use write events"},
    {"checkpoint_interval", OPT_DURATION, "500ms", 0,
     offsetof(struct tail_engine_settings, checkpoint_interval_ms), NULL,
     "save acknowledged offsets this often when they changed (and at stop)"},
    {0},
};
