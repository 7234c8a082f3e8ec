/* The event loop: one thread, epoll over file descriptors, timers (one
 * timerfd each) and idle callbacks (work that wants to run again as soon as
 * the loop has polled, such as reading the next chunk of a large file
 * without starving everything else). Signals arrive through a signalfd that
 * the agent registers as an ordinary fd. */
#ifndef COLLECTOR_LOOP_H
#define COLLECTOR_LOOP_H

#include <stdint.h>

struct loop;
struct loop_timer;

typedef void (*loop_fd_fn)(struct loop *loop, int fd, uint32_t events, void *arg);
typedef void (*loop_fn)(struct loop *loop, void *arg);

/* An idle callback is embedded in its owner's struct; loop_idle_arm()
 * schedules one run on the next iteration (arming twice runs once). */
struct loop_idle {
    loop_fn fn;
    void *arg;
    int armed;
    struct loop_idle *next;
};

struct loop *loop_new(void);
void loop_free(struct loop *loop);

/* events: EPOLLIN / EPOLLOUT ... Returns 0 or -1 (errno). */
int loop_add_fd(struct loop *loop, int fd, uint32_t events, loop_fd_fn fn, void *arg);
int loop_mod_fd(struct loop *loop, int fd, uint32_t events);
void loop_del_fd(struct loop *loop, int fd);

/* First run after delay_ms, then every interval_ms (0 = once). */
struct loop_timer *loop_timer_add(struct loop *loop, int64_t delay_ms, int64_t interval_ms,
                                  loop_fn fn, void *arg);
void loop_timer_del(struct loop *loop, struct loop_timer *timer);

void loop_idle_init(struct loop_idle *idle, loop_fn fn, void *arg);
void loop_idle_arm(struct loop *loop, struct loop_idle *idle);
/* Must be called before the idle's owner is freed. */
void loop_idle_cancel(struct loop *loop, struct loop_idle *idle);

/* A thread-to-loop handoff: any thread calls loop_async_send(); the loop
 * thread then runs fn once (several sends before it runs coalesce into one
 * run). One eventfd per handle. loop_async_new() returns NULL (errno) when
 * the eventfd cannot be made or registered; loop_async_free() must run on
 * the loop thread after the sending threads are done. */
struct loop_async;
struct loop_async *loop_async_new(struct loop *loop, loop_fn fn, void *arg);
void loop_async_send(struct loop_async *async);
void loop_async_free(struct loop_async *async);

/* Run until loop_stop(); returns 0, or -1 on an epoll failure. */
int loop_run(struct loop *loop);
void loop_stop(struct loop *loop);

#endif
