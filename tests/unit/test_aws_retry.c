/* Standard retry mode: what is retried, backoff bounds with full jitter and
 * the cap, the retry budget, and the overridable sleep/random hooks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "collector/aws/retry.h"

static void test_retryable(void **state)
{
    (void)state;
    assert_true(aws_retry_retryable(AWS_ERR_THROTTLE));
    assert_true(aws_retry_retryable(AWS_ERR_TRANSIENT));
    assert_true(aws_retry_retryable(AWS_ERR_NETWORK));
    assert_false(aws_retry_retryable(AWS_ERR_NONE));
    assert_false(aws_retry_retryable(AWS_ERR_CLIENT));     /* validation: never */
    assert_false(aws_retry_retryable(AWS_ERR_AUTH));
    assert_false(aws_retry_retryable(AWS_ERR_EXPIRED));    /* refresh path, not backoff */
    assert_false(aws_retry_retryable(AWS_ERR_NOT_FOUND));
    assert_false(aws_retry_retryable(AWS_ERR_CREDENTIALS));
    assert_false(aws_retry_retryable(AWS_ERR_INTERNAL));
}

static void test_backoff_bounds(void **state)
{
    (void)state;
    const int64_t base = 100, cap = 20000;
    for (int retry = 1; retry <= 64; retry++) {
        int64_t bound = base;
        for (int i = 1; i < retry && bound < cap; i++) bound *= 2;
        if (bound > cap) bound = cap;
        for (double r = 0.0; r < 1.0; r += 0.05) {
            int64_t d = aws_retry_backoff_ms(retry, base, cap, r);
            assert_true(d >= 0);
            assert_true(d <= bound);
        }
        assert_int_equal(aws_retry_backoff_ms(retry, base, cap, 0.0), 0);
        assert_true(aws_retry_backoff_ms(retry, base, cap, 0.999999) >= bound - 1);
    }
    /* the cap, with huge retry numbers and no overflow */
    assert_true(aws_retry_backoff_ms(1000000, 1000, 20000, 0.999) <= 20000);
    assert_true(aws_retry_backoff_ms(1000000, 1000, 20000, 0.999) >= 19900);
    /* exponential below the cap: 1 s, 2 s, 4 s bounds */
    assert_int_equal(aws_retry_backoff_ms(1, 1000, 20000, 0.5), 500);
    assert_int_equal(aws_retry_backoff_ms(2, 1000, 20000, 0.5), 1000);
    assert_int_equal(aws_retry_backoff_ms(3, 1000, 20000, 0.5), 2000);
    assert_int_equal(aws_retry_backoff_ms(6, 1000, 20000, 0.5), 10000);
    assert_int_equal(aws_retry_backoff_ms(7, 1000, 20000, 0.5), 10000);
    /* nonsense in, sane out */
    assert_int_equal(aws_retry_backoff_ms(0, 1000, 20000, 2.0) <= 1000, 1);
    assert_int_equal(aws_retry_backoff_ms(3, -5, 20000, 0.5), 0);
    assert_int_equal(aws_retry_backoff_ms(3, 1000, -1, 0.5), 0);
}

static void test_full_jitter_distribution(void **state)
{
    (void)state;
    double sum = 0;
    int low = 0, high = 0;
    for (int i = 0; i < 4000; i++) {
        double r = aws_random01();
        assert_true(r >= 0.0 && r < 1.0);
        int64_t d = aws_retry_backoff_ms(3, 1000, 20000, r);   /* bound 4000 */
        assert_true(d >= 0 && d < 4000);
        sum += (double)d;
        if (d < 1000) low++;
        if (d >= 3000) high++;
    }
    double mean = sum / 4000;
    assert_true(mean > 1600 && mean < 2400);   /* uniform over [0,4000): mean 2000 */
    assert_true(low > 700 && high > 700);      /* spread over the whole range */
}

static void test_budget(void **state)
{
    (void)state;
    struct aws_retry_budget *b = aws_retry_budget_new(20);
    assert_int_equal(aws_retry_budget_available(b), 20);
    assert_int_equal(aws_retry_budget_acquire(b, AWS_ERR_THROTTLE), 5);
    assert_int_equal(aws_retry_budget_acquire(b, AWS_ERR_NETWORK), 10);
    assert_int_equal(aws_retry_budget_acquire(b, AWS_ERR_TRANSIENT), 5);
    assert_int_equal(aws_retry_budget_available(b), 0);
    assert_int_equal(aws_retry_budget_acquire(b, AWS_ERR_THROTTLE), -1);  /* exhausted */
    aws_retry_budget_success(b, 15);                                     /* refund */
    assert_int_equal(aws_retry_budget_available(b), 15);
    aws_retry_budget_success(b, 0);                                      /* +1 */
    assert_int_equal(aws_retry_budget_available(b), 16);
    for (int i = 0; i < 10; i++) aws_retry_budget_success(b, 0);
    assert_int_equal(aws_retry_budget_available(b), 20);                 /* capped */
    aws_retry_budget_free(b);

    b = aws_retry_budget_new(0);                                         /* unlimited */
    for (int i = 0; i < 1000; i++) assert_int_equal(aws_retry_budget_acquire(b, AWS_ERR_NETWORK), 0);
    aws_retry_budget_free(b);
    assert_int_equal(aws_retry_budget_acquire(NULL, AWS_ERR_THROTTLE), 0);
}

static int64_t slept;
static void fake_sleep(int64_t ms) { slept += ms; }
static double fixed_random(void) { return 0.25; }

static void test_hooks(void **state)
{
    (void)state;
    aws_set_sleep_fn(fake_sleep);
    aws_set_random_fn(fixed_random);
    aws_sleep_ms(123);
    aws_sleep_ms(7);
    assert_int_equal(slept, 130);
    assert_true(aws_random01() == 0.25);
    aws_set_sleep_fn(NULL);
    aws_set_random_fn(NULL);
    aws_sleep_ms(1);                        /* real sleep, short */
    assert_int_equal(slept, 130);
    assert_true(aws_random01() != 0.25 || aws_random01() != 0.25);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retryable),
        cmocka_unit_test(test_backoff_bounds),
        cmocka_unit_test(test_full_jitter_distribution),
        cmocka_unit_test(test_budget),
        cmocka_unit_test(test_hooks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
