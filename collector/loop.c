#include "collector/loop.h"
#include "collector/core/log.h"
#include "collector/core/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

/* Registered fds are kept in an array indexed by fd (fds are small, dense
 * integers), so a lookup on each event is one index. */
struct fd_handler {
    loop_fd_fn fn;
    void *arg;
    int active;
};

struct loop_timer {
    int fd;
    loop_fn fn;
    void *arg;
    int once;
};

struct loop {
    int epfd;
    int running;
    struct fd_handler *fds;
    int nfds;
    struct loop_idle *idle_head;     /* armed for the next pass */
    struct loop_idle *idle_running;  /* the rest of the pass being run */
};

struct loop *loop_new(void)
{
    struct loop *loop = xcalloc(1, sizeof *loop);
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epfd < 0) {
        free(loop);
        return NULL;
    }
    return loop;
}

void loop_free(struct loop *loop)
{
    if (!loop)
        return;
    close(loop->epfd);
    free(loop->fds);
    free(loop);
}

static void ensure_fd_slot(struct loop *loop, int fd)
{
    if (fd < loop->nfds)
        return;
    int n = loop->nfds ? loop->nfds : 64;
    while (n <= fd)
        n *= 2;
    loop->fds = xrealloc(loop->fds, sizeof *loop->fds * (size_t)n);
    memset(loop->fds + loop->nfds, 0, sizeof *loop->fds * (size_t)(n - loop->nfds));
    loop->nfds = n;
}

int loop_add_fd(struct loop *loop, int fd, uint32_t events, loop_fd_fn fn, void *arg)
{
    ensure_fd_slot(loop, fd);
    struct epoll_event ev = {.events = events, .data.fd = fd};
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return -1;
    loop->fds[fd] = (struct fd_handler){fn, arg, 1};
    return 0;
}

int loop_mod_fd(struct loop *loop, int fd, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.fd = fd};
    return epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev);
}

void loop_del_fd(struct loop *loop, int fd)
{
    if (fd < 0 || fd >= loop->nfds || !loop->fds[fd].active)
        return;
    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
    loop->fds[fd].active = 0;
}

static void set_timerfd(int fd, int64_t delay_ms, int64_t interval_ms)
{
    if (delay_ms <= 0)
        delay_ms = 1; /* 0 would disarm the timer */
    struct itimerspec its = {
        .it_value = {delay_ms / 1000, (delay_ms % 1000) * 1000000},
        .it_interval = {interval_ms / 1000, (interval_ms % 1000) * 1000000},
    };
    timerfd_settime(fd, 0, &its, NULL);
}

static void timer_fired(struct loop *loop, int fd, uint32_t events, void *arg)
{
    struct loop_timer *t = arg;
    uint64_t expirations;
    (void)events;
    if (read(fd, &expirations, sizeof expirations) < 0 && errno == EAGAIN)
        return;
    loop_fn fn = t->fn;
    void *fn_arg = t->arg;
    if (t->once)
        loop_timer_del(loop, t);
    fn(loop, fn_arg);
}

struct loop_timer *loop_timer_add(struct loop *loop, int64_t delay_ms, int64_t interval_ms,
                                  loop_fn fn, void *arg)
{
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd < 0) {
        log_msg(LOG_ERROR, "loop", "timerfd_create: %s", strerror(errno));
        return NULL;
    }
    struct loop_timer *t = xcalloc(1, sizeof *t);
    t->fd = fd;
    t->fn = fn;
    t->arg = arg;
    t->once = interval_ms <= 0;
    set_timerfd(fd, delay_ms, interval_ms > 0 ? interval_ms : 0);
    if (loop_add_fd(loop, fd, EPOLLIN, timer_fired, t) < 0) {
        close(fd);
        free(t);
        return NULL;
    }
    return t;
}

void loop_timer_del(struct loop *loop, struct loop_timer *timer)
{
    if (!timer)
        return;
    loop_del_fd(loop, timer->fd);
    close(timer->fd);
    free(timer);
}

void loop_idle_init(struct loop_idle *idle, loop_fn fn, void *arg)
{
    idle->fn = fn;
    idle->arg = arg;
    idle->armed = 0;
    idle->next = NULL;
}

void loop_idle_arm(struct loop *loop, struct loop_idle *idle)
{
    if (idle->armed)
        return;
    idle->armed = 1;
    idle->next = loop->idle_head;
    loop->idle_head = idle;
}

static int unlink_idle(struct loop_idle **head, struct loop_idle *idle)
{
    for (struct loop_idle **pp = head; *pp; pp = &(*pp)->next) {
        if (*pp == idle) {
            *pp = idle->next;
            return 1;
        }
    }
    return 0;
}

void loop_idle_cancel(struct loop *loop, struct loop_idle *idle)
{
    if (!idle->armed)
        return;
    if (!unlink_idle(&loop->idle_head, idle))
        unlink_idle(&loop->idle_running, idle);
    idle->armed = 0;
    idle->next = NULL;
}

/* Run the idle callbacks armed before this pass; ones armed while running
 * wait for the next pass, after the loop has polled again. */
static void run_idle(struct loop *loop)
{
    loop->idle_running = loop->idle_head;
    loop->idle_head = NULL;
    while (loop->idle_running) {
        struct loop_idle *idle = loop->idle_running;
        loop->idle_running = idle->next;
        idle->next = NULL;
        idle->armed = 0;
        idle->fn(loop, idle->arg);
    }
}

int loop_run(struct loop *loop)
{
    struct epoll_event events[64];
    loop->running = 1;
    while (loop->running) {
        int timeout = loop->idle_head ? 0 : 1000;
        int n = epoll_wait(loop->epfd, events, 64, timeout);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            log_msg(LOG_ERROR, "loop", "epoll_wait: %s", strerror(errno));
            return -1;
        }
        for (int i = 0; i < n && loop->running; i++) {
            int fd = events[i].data.fd;
            if (fd < loop->nfds && loop->fds[fd].active)
                loop->fds[fd].fn(loop, fd, events[i].events, loop->fds[fd].arg);
        }
        if (loop->running)
            run_idle(loop);
    }
    return 0;
}

void loop_stop(struct loop *loop)
{
    loop->running = 0;
}

struct loop_async {
    struct loop *loop;
    int fd;
    loop_fn fn;
    void *arg;
};

static void on_async(struct loop *loop, int fd, uint32_t events, void *arg)
{
    struct loop_async *async = arg;
    uint64_t n;
    (void)events;
    /* Reading resets the counter: sends made before this read are all
     * served by the run below; a send after it wakes the loop again. */
    if (read(fd, &n, sizeof n) < 0 && errno != EAGAIN)
        log_msg(LOG_ERROR, "loop", "eventfd read: %s", strerror(errno));
    async->fn(loop, async->arg);
}

struct loop_async *loop_async_new(struct loop *loop, loop_fn fn, void *arg)
{
    struct loop_async *async = xcalloc(1, sizeof *async);
    async->loop = loop;
    async->fn = fn;
    async->arg = arg;
    async->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (async->fd < 0 || loop_add_fd(loop, async->fd, EPOLLIN, on_async, async) < 0) {
        int saved = errno;
        if (async->fd >= 0)
            close(async->fd);
        free(async);
        errno = saved;
        return NULL;
    }
    return async;
}

void loop_async_send(struct loop_async *async)
{
    uint64_t one = 1;
    /* EAGAIN means the counter is saturated: a wake-up is pending anyway. */
    if (write(async->fd, &one, sizeof one) < 0 && errno != EAGAIN)
        log_msg(LOG_ERROR, "loop", "eventfd write: %s", strerror(errno));
}

void loop_async_free(struct loop_async *async)
{
    if (!async)
        return;
    loop_del_fd(async->loop, async->fd);
    close(async->fd);
    free(async);
}
