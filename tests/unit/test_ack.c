/* Unit tests: in-order release of acknowledgements. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "collector/pipeline/ack.h"

static void test_in_order_release(void **state)
{
    (void)state;
    struct ack_tracker *t = ack_tracker_new();
    uint64_t s0 = ack_tracker_push(t, 1, 10, 100, 0);
    uint64_t s1 = ack_tracker_push(t, 2, 20, 101, 0);
    uint64_t s2 = ack_tracker_push(t, 1, 30, 102, 0);
    assert_int_equal(ack_tracker_pending(t), 3);
    assert_int_equal(ack_tracker_bytes(t), 60);
    uint64_t a, b;
    ack_tracker_done(t, s2);            /* later record done first */
    assert_int_equal(ack_tracker_pop(t, &a, &b), 0);
    ack_tracker_done(t, s0);
    assert_int_equal(ack_tracker_pop(t, &a, &b), 1);
    assert_int_equal(a, 100);
    assert_int_equal(ack_tracker_pop(t, &a, &b), 0); /* s1 still has one output to go */
    ack_tracker_done(t, s1);
    assert_int_equal(ack_tracker_pop(t, &a, &b), 0);
    ack_tracker_done(t, s1);
    assert_int_equal(ack_tracker_pop(t, &a, &b), 1);
    assert_int_equal(a, 101);
    assert_int_equal(ack_tracker_pop(t, &a, &b), 1);
    assert_int_equal(a, 102);
    assert_int_equal(ack_tracker_pending(t), 0);
    assert_int_equal(ack_tracker_bytes(t), 0);
    ack_tracker_done(t, 99);            /* unknown sequence: ignored */
    ack_tracker_free(t);
}

static void test_zero_refs_and_growth(void **state)
{
    (void)state;
    struct ack_tracker *t = ack_tracker_new();
    enum { N = 100000 };
    for (uint64_t i = 0; i < N; i++)
        ack_tracker_push(t, i % 3 == 0 ? 0 : 1, 1, i, i * 2);
    /* finish in reverse order, leaving seq 1 for last */
    for (uint64_t i = N; i-- > 2;)
        if (i % 3)
            ack_tracker_done(t, i);
    uint64_t a, b;
    assert_int_equal(ack_tracker_pop(t, &a, &b), 1); /* seq 0 had nothing to wait for */
    assert_int_equal(a, 0);
    assert_int_equal(ack_tracker_pop(t, &a, &b), 0); /* seq 1 holds everything behind it */
    ack_tracker_done(t, 1);
    for (uint64_t i = 1; i < N; i++) {
        assert_int_equal(ack_tracker_pop(t, &a, &b), 1);
        assert_int_equal(a, i);
        assert_int_equal(b, i * 2);
    }
    assert_int_equal(ack_tracker_pending(t), 0);
    ack_tracker_free(t);
}

static void test_random_completion_order(void **state)
{
    (void)state;
    srandom(42);
    struct ack_tracker *t = ack_tracker_new();
    enum { N = 5000 };
    uint64_t *order = malloc(sizeof(uint64_t) * N);
    for (uint64_t i = 0; i < N; i++) {
        ack_tracker_push(t, 1, 1, i, 0);
        order[i] = i;
    }
    for (int i = N - 1; i > 0; i--) {
        int j = (int)(random() % (i + 1));
        uint64_t tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }
    uint64_t expect = 0, a, b;
    for (int i = 0; i < N; i++) {
        ack_tracker_done(t, order[i]);
        while (ack_tracker_pop(t, &a, &b))
            assert_int_equal(a, expect++);
    }
    assert_int_equal(expect, N);
    free(order);
    ack_tracker_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_order_release),
        cmocka_unit_test(test_zero_refs_and_growth),
        cmocka_unit_test(test_random_completion_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
