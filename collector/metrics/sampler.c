/* Sampling thread and hand-off: see sampler.h. */
#include "collector/metrics/sampler.h"

#include "collector/core/log.h"
#include "collector/loop.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct sampler {
    struct loop *loop;
    int64_t interval_ms;
    sampler_fill_fn fill;
    sampler_emit_fn emit;
    void *arg;
    struct loop_async *ready_async; /* sampler thread -> loop */
    pthread_t thread;
    int thread_started;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int stopping;                   /* under lock */
    struct mframe frames[3];
    struct mframe *work, *ready, *out;
    int ready_full;                 /* under lock */
    _Atomic uint64_t frames_made, skipped, cpu_ns;
};

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* From the priming round to the first one that publishes rates. */
#define SAMPLER_PRIME_MS 10000
#define SAMPLER_MIN_GAP_MS 1000

static void *run(void *arg)
{
    struct sampler *s = arg;
    int64_t next = wall_ms();
    for (;;) {
        pthread_mutex_lock(&s->lock);
        while (!s->stopping) {
            int64_t now = wall_ms();
            if (now >= next)
                break;
            struct timespec until = {.tv_sec = next / 1000, .tv_nsec = (next % 1000) * 1000000};
            pthread_cond_timedwait(&s->cond, &s->lock, &until);
        }
        int stop = s->stopping;
        pthread_mutex_unlock(&s->lock);
        if (stop)
            break;
        int64_t ts = wall_ms();
        /* The next wake-up on the interval grid, at least SAMPLER_MIN_GAP_MS
         * (or half an interval, if shorter) away: a round that ran late must
         * not be followed by one a few ms later, whose rates (over a
         * /proc/stat delta of a jiffy or two) would be noise; and the round
         * after the priming one is followed by the next grid point, so that
         * no minute is skipped after the start. */
        int64_t gap = s->interval_ms / 2 < SAMPLER_MIN_GAP_MS ? s->interval_ms / 2
                                                              : SAMPLER_MIN_GAP_MS;
        next = ((ts + gap) / s->interval_ms + 1) * s->interval_ms;
        /* The first round only primes the counters rates are computed
         * from; the first published figures come one short priming period
         * later, not up to an interval and a half after the start. */
        if (s->frames_made == 0 && ts + SAMPLER_PRIME_MS < next)
            next = ts + SAMPLER_PRIME_MS;
        uint64_t c0 = thread_cpu_ns();
        mframe_reset(s->work);
        s->work->timestamp_ms = ts;
        s->fill(s->arg, s->work);
        s->cpu_ns += thread_cpu_ns() - c0;
        s->frames_made++;
        pthread_mutex_lock(&s->lock);
        struct mframe *t = s->ready;
        s->ready = s->work;
        s->work = t;
        if (s->ready_full)
            s->skipped++;
        s->ready_full = 1;
        pthread_mutex_unlock(&s->lock);
        loop_async_send(s->ready_async);
    }
    return NULL;
}

static void on_ready(struct loop *loop, void *arg)
{
    struct sampler *s = arg;
    (void)loop;
    pthread_mutex_lock(&s->lock);
    int have = s->ready_full;
    if (have) {
        struct mframe *t = s->out;
        s->out = s->ready;
        s->ready = t;
        s->ready_full = 0;
    }
    pthread_mutex_unlock(&s->lock);
    if (have)
        s->emit(s->arg, s->out);
}

struct sampler *sampler_start(struct loop *loop, int64_t interval_ms, sampler_fill_fn fill,
                              sampler_emit_fn emit, void *arg)
{
    struct sampler *s = xcalloc(1, sizeof *s);
    s->loop = loop;
    s->interval_ms = interval_ms > 0 ? interval_ms : 60000;
    s->fill = fill;
    s->emit = emit;
    s->arg = arg;
    for (int i = 0; i < 3; i++)
        mframe_init(&s->frames[i]);
    s->work = &s->frames[0];
    s->ready = &s->frames[1];
    s->out = &s->frames[2];
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_cond_init(&s->cond, &ca);
    pthread_condattr_destroy(&ca);
    s->ready_async = loop_async_new(loop, on_ready, s);
    if (!s->ready_async) {
        log_msg(LOG_ERROR, "metrics", "sampler: eventfd: %s", strerror(errno));
        sampler_stop(s);
        return NULL;
    }
    if (pthread_create(&s->thread, NULL, run, s) != 0) {
        log_msg(LOG_ERROR, "metrics", "sampler: cannot start a thread");
        sampler_stop(s);
        return NULL;
    }
    s->thread_started = 1;
    return s;
}

void sampler_stop(struct sampler *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->stopping = 1;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    if (s->thread_started)
        pthread_join(s->thread, NULL);
    loop_async_free(s->ready_async);
    for (int i = 0; i < 3; i++)
        mframe_free(&s->frames[i]);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    free(s);
}

uint64_t sampler_frames(const struct sampler *s)
{
    return s->frames_made;
}

uint64_t sampler_skipped(const struct sampler *s)
{
    return s->skipped;
}

uint64_t sampler_cpu_ns(const struct sampler *s)
{
    return s->cpu_ns;
}
