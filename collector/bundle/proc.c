/* Commands with timeouts. posix_spawn (no fork of a threaded process's
 * memory), a new process group so a command's children die with it, one
 * pipe for stdout+stderr read with poll() against a monotonic deadline. */
#include "collector/bundle/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void cmd_result_free(struct cmd_result *r)
{
    buf_free(&r->out);
}

char *argv_join(char *const argv[])
{
    struct buf b;
    buf_init(&b);
    for (int i = 0; argv[i]; i++) {
        if (i)
            buf_append_char(&b, ' ');
        if (strpbrk(argv[i], " \t'\"$") || !argv[i][0])
            buf_printf(&b, "'%s'", argv[i]);
        else
            buf_append_str(&b, argv[i]);
    }
    return b.data ? b.data : xstrdup("");
}

static void keep_newest(struct buf *b, size_t cap)
{
    if (b->len <= cap)
        return;
    memmove(b->data, b->data + b->len - cap, cap);
    b->len = cap;
    b->data[cap] = 0;
}

static int reap(pid_t pid, int *status, int block)
{
    for (;;) {
        pid_t w = waitpid(pid, status, block ? 0 : WNOHANG);
        if (w == pid)
            return 1;
        if (w == 0)
            return 0;
        if (errno != EINTR)
            return -1;
    }
}

int proc_run(const char *path, char *const argv[], char *const envp[], int64_t timeout_ms,
             size_t cap, struct cmd_result *r)
{
    memset(r, 0, sizeof *r);
    buf_init(&r->out);
    r->status = -1;
    int64_t start = mono_ms();
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        r->spawn_errno = errno;
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    posix_spawnattr_init(&attr);
    sigset_t none, def;
    sigemptyset(&none);
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &def);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETSIGDEF);
    pid_t pid;
    int rc = posix_spawn(&pid, path, &fa, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        r->spawn_errno = rc;
        r->duration_ms = mono_ms() - start;
        return -1;
    }
    int64_t deadline = start + timeout_ms;
    int exited = 0, status = 0, eof = 0;
    int64_t exited_at = 0;
    char chunk[65536];
    while (!eof) {
        int64_t now = mono_ms();
        if (now >= deadline) {
            r->timed_out = 1;
            break;
        }
        if (exited && now - exited_at > 500)
            break; /* a background child keeps the pipe open: stop reading */
        int wait = (int)(deadline - now);
        if (wait > 100)
            wait = 100;
        struct pollfd p = {.fd = fds[0], .events = POLLIN};
        int n = poll(&p, 1, wait);
        if (n < 0 && errno != EINTR)
            break;
        if (n > 0) {
            ssize_t got = read(fds[0], chunk, sizeof chunk);
            if (got > 0) {
                buf_append(&r->out, chunk, (size_t)got);
                r->total += (uint64_t)got;
                if (r->out.len > 2 * cap + sizeof chunk)
                    keep_newest(&r->out, cap);
            } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
                eof = 1;
            }
        }
        if (!exited && reap(pid, &status, 0) == 1) {
            exited = 1;
            exited_at = mono_ms();
        }
    }
    close(fds[0]);
    /* EOF comes when the command closes its output, a moment before it exits. */
    while (!exited && !r->timed_out) {
        if (reap(pid, &status, 0) == 1) {
            exited = 1;
        } else if (mono_ms() >= deadline) {
            r->timed_out = 1;
        } else {
            struct timespec ts = {0, 2 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    /* The whole group goes: on timeout the command, and in any case anything
     * it left running in the background. */
    kill(-pid, SIGKILL);
    if (!exited)
        reap(pid, &status, 1);
    if (r->out.len > cap) {
        keep_newest(&r->out, cap);
    }
    r->truncated = r->total > cap;
    if (WIFEXITED(status))
        r->status = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        r->status = 128 + WTERMSIG(status);
    r->duration_ms = mono_ms() - start;
    return r->timed_out ? -1 : 0;
}
