#include "collector/status/logfile.h"
#include "collector/core/log.h"
#include "collector/core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int log_fd = -1;          /* the stable descriptor, once a file was configured */
static char *log_path;
static uint64_t log_max_size;
static int log_keep;

static int open_log(const char *path)
{
    return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
}

int logfile_configure(const char *path, uint64_t max_size, int keep, char *err, size_t errlen)
{
    log_max_size = max_size;
    log_keep = keep < 0 ? 0 : keep;
    if (!path || !*path) {
        if (log_fd >= 0)
            dup2(STDERR_FILENO, log_fd); /* the number stays valid for writers */
        log_set_fd(STDERR_FILENO);
        free(log_path);
        log_path = NULL;
        return 0;
    }
    if (log_path && strcmp(log_path, path) == 0)
        return 0;
    int fd = open_log(path);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open log_file %s: %s", path, strerror(errno));
        return -1;
    }
    if (log_fd < 0) {
        log_fd = fd;
    } else {
        dup2(fd, log_fd);
        close(fd);
    }
    log_set_fd(log_fd);
    free(log_path);
    log_path = xstrdup(path);
    return 0;
}

void logfile_check(void)
{
    struct stat st;
    if (!log_path || log_max_size == 0 || fstat(log_fd, &st) != 0 ||
        (uint64_t)st.st_size < log_max_size)
        return;
    size_t len = strlen(log_path) + 16;
    char *from = xmalloc(len), *to = xmalloc(len);
    if (log_keep == 0) {
        unlink(log_path);
    } else {
        snprintf(to, len, "%s.%d", log_path, log_keep);
        unlink(to);
        for (int i = log_keep - 1; i >= 1; i--) {
            snprintf(from, len, "%s.%d", log_path, i);
            snprintf(to, len, "%s.%d", log_path, i + 1);
            rename(from, to);
        }
        snprintf(to, len, "%s.1", log_path);
        rename(log_path, to);
    }
    free(from);
    free(to);
    int fd = open_log(log_path);
    if (fd < 0) {
        log_msg(LOG_ERROR, "agent", "cannot reopen log_file %s after rotation: %s", log_path,
                strerror(errno));
        return; /* keep writing to the rotated file rather than nowhere */
    }
    dup2(fd, log_fd);
    close(fd);
}
