/* Run one command with a deadline: its own process group (killed as a whole
 * on timeout), stdin from /dev/null, stdout and stderr captured together,
 * newest `cap` bytes kept. Safe to call from several threads. */
#ifndef COLLECTOR_BUNDLE_PROC_H
#define COLLECTOR_BUNDLE_PROC_H

#include "collector/core/util.h"

#include <stddef.h>
#include <stdint.h>

struct cmd_result {
    struct buf out;
    int status; /* exit code; 128+N when killed by signal N; -1 not started */
    int timed_out;
    int spawn_errno; /* errno when the command could not be started */
    int truncated;   /* more than cap bytes: the oldest were dropped */
    uint64_t total;  /* bytes produced */
    int64_t duration_ms;
};

/* path: the executable; argv[0] its name. Returns 0 if it ran to completion
 * (any exit status), -1 if not started or timed out. */
int proc_run(const char *path, char *const argv[], char *const envp[], int64_t timeout_ms,
             size_t cap, struct cmd_result *r);
void cmd_result_free(struct cmd_result *r);
/* "a b 'c d'" for the manifest (owned). */
char *argv_join(char *const argv[]);

#endif
