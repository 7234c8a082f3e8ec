/* The agent's own log to a file, with size rotation ([agent] log_file,
 * log_file_max_size, log_file_keep). Default: stderr (journald).
 *
 * The log writes to one descriptor number for the life of the process;
 * rotation opens the new file and dup2()s it onto that number, so threads
 * logging at that moment write to the old or the new file, never to a
 * closed descriptor. Rotation is checked by logfile_check() on a timer, so
 * a file may pass max_size by what is logged between two checks. */
#ifndef COLLECTOR_STATUS_LOGFILE_H
#define COLLECTOR_STATUS_LOGFILE_H

#include <stddef.h>
#include <stdint.h>

/* path NULL or "": log to stderr. Reopens only when the path changes.
 * 0, or -1 with the reason in err (the log stays where it was). */
int logfile_configure(const char *path, uint64_t max_size, int keep, char *err, size_t errlen);
/* Rotate if the file reached max_size. */
void logfile_check(void);

#endif
