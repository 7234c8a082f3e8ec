/* AWS "standard" retry mode, pure: which failures to retry, backoff with
 * full jitter (random in [0, min(cap, base * 2^(n-1))]), and the retry
 * budget (token bucket: a retry costs 5, 10 after a timeout/connection
 * error; a success refunds what its retries took, or adds 1). */
#ifndef COLLECTOR_AWS_RETRY_H
#define COLLECTOR_AWS_RETRY_H

#include <stdint.h>

#include "collector/aws/aws.h"

#define AWS_RETRY_COST 5
#define AWS_RETRY_TIMEOUT_COST 10
#define AWS_RETRY_SUCCESS_INCREMENT 1
#define AWS_RETRY_DEFAULT_BUDGET 500

/* Throttle, transient and network errors are retried; nothing else. */
int aws_retry_retryable(enum aws_error_kind kind);

/* Backoff before retry number `retry` (1 = after the first failure).
 * r in [0,1) is the jitter draw. Never above max_ms, never negative. */
int64_t aws_retry_backoff_ms(int retry, int64_t base_ms, int64_t max_ms, double r);

/* Capacity 0 = unlimited (every acquire succeeds at no cost). */
struct aws_retry_budget *aws_retry_budget_new(int capacity);
void aws_retry_budget_free(struct aws_retry_budget *b);
/* Take the cost of one retry: returns the cost taken (0 if unlimited), or
 * -1 when the budget is exhausted (the caller gives up). */
int aws_retry_budget_acquire(struct aws_retry_budget *b, enum aws_error_kind kind);
/* After a successful call: refund `taken` (sum of its acquires), or +1. */
void aws_retry_budget_success(struct aws_retry_budget *b, int taken);
int aws_retry_budget_available(struct aws_retry_budget *b);

/* Sleep and jitter, overridable by tests (aws_set_sleep_fn/aws_set_random_fn). */
void aws_sleep_ms(int64_t ms);
double aws_random01(void);

#endif
