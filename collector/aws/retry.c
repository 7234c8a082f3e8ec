/* Standard retry mode (see retry.h). */
#include "collector/aws/retry.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "collector/core/util.h"

struct aws_retry_budget {
    pthread_mutex_t lock;
    int capacity;
    int tokens;
};

int aws_retry_retryable(enum aws_error_kind kind)
{
    return kind == AWS_ERR_THROTTLE || kind == AWS_ERR_TRANSIENT || kind == AWS_ERR_NETWORK;
}

int64_t aws_retry_backoff_ms(int retry, int64_t base_ms, int64_t max_ms, double r)
{
    if (retry < 1) retry = 1;
    if (base_ms < 0) base_ms = 0;
    if (max_ms < 0) max_ms = 0;
    if (r < 0) r = 0;
    if (r >= 1) r = 0.999999;
    int64_t bound = base_ms;
    for (int i = 1; i < retry && bound < max_ms; i++) bound *= 2;  /* no overflow */
    if (bound > max_ms) bound = max_ms;
    return (int64_t)(r * (double)bound);
}

struct aws_retry_budget *aws_retry_budget_new(int capacity)
{
    struct aws_retry_budget *b = xcalloc(1, sizeof *b);
    pthread_mutex_init(&b->lock, NULL);
    b->capacity = capacity < 0 ? 0 : capacity;
    b->tokens = b->capacity;
    return b;
}

void aws_retry_budget_free(struct aws_retry_budget *b)
{
    if (!b) return;
    pthread_mutex_destroy(&b->lock);
    free(b);
}

int aws_retry_budget_acquire(struct aws_retry_budget *b, enum aws_error_kind kind)
{
    if (!b || b->capacity == 0) return 0;
    int cost = kind == AWS_ERR_NETWORK ? AWS_RETRY_TIMEOUT_COST : AWS_RETRY_COST;
    int taken = -1;
    pthread_mutex_lock(&b->lock);
    if (b->tokens >= cost) {
        b->tokens -= cost;
        taken = cost;
    }
    pthread_mutex_unlock(&b->lock);
    return taken;
}

void aws_retry_budget_success(struct aws_retry_budget *b, int taken)
{
    if (!b || b->capacity == 0) return;
    pthread_mutex_lock(&b->lock);
    b->tokens += taken > 0 ? taken : AWS_RETRY_SUCCESS_INCREMENT;
    if (b->tokens > b->capacity) b->tokens = b->capacity;
    pthread_mutex_unlock(&b->lock);
}

int aws_retry_budget_available(struct aws_retry_budget *b)
{
    if (!b) return 0;
    pthread_mutex_lock(&b->lock);
    int t = b->tokens;
    pthread_mutex_unlock(&b->lock);
    return t;
}

static void (*_Atomic sleep_fn)(int64_t);
static double (*_Atomic random_fn)(void);

void aws_set_sleep_fn(void (*fn)(int64_t ms)) { atomic_store(&sleep_fn, fn); }
void aws_set_random_fn(double (*fn)(void)) { atomic_store(&random_fn, fn); }

void aws_sleep_ms(int64_t ms)
{
    void (*fn)(int64_t) = atomic_load(&sleep_fn);
    if (fn) {
        fn(ms);
        return;
    }
    if (ms <= 0) return;
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* xorshift64*, one state per thread, seeded from the clock and the stack. */
double aws_random01(void)
{
    double (*fn)(void) = atomic_load(&random_fn);
    if (fn) return fn();
    static _Thread_local uint64_t state;
    if (!state) {
        int local;
        state = (uint64_t)now_ns() ^ ((uint64_t)(uintptr_t)&local << 16) ^ 0x9e3779b97f4a7c15ULL;
        if (!state) state = 1;
    }
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    uint64_t v = state * 0x2545F4914F6CDD1DULL;
    return (double)(v >> 11) / 9007199254740992.0;  /* 53 bits -> [0,1) */
}
