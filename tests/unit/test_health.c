/* Unit tests: health checks (output stall rule, reload error, registry). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "collector/plugin.h"
#include "collector/status/health.h"

static int fail_check(void *arg, struct buf *reason)
{
    buf_printf(reason, "disk buffer full (%s)", (const char *)arg);
    return 1;
}

static int ok_check(void *arg, struct buf *reason)
{
    (void)arg;
    (void)reason;
    return 0;
}

static void test_output_stall(void **state)
{
    (void)state;
    struct output_instance out;
    memset(&out, 0, sizeof out);
    out.name = "cw";
    struct output_instance *list[1] = {&out};
    struct health_outputs h;
    health_outputs_init(&h, list, 1, 1000);
    int64_t t0 = h.idle_ms[0];
    struct buf why;
    buf_init(&why);
    /* Nothing pending: never stalled, however long since a success. */
    assert_false(health_output_stalled(&h, 0, t0 + 100000, &why));
    /* Pending since t0 + 10 s (last idle then). */
    health_outputs_sample(&h, t0 + 10000);
    out.stats.batches_pending = 2;
    health_outputs_sample(&h, t0 + 10500);
    assert_int_equal(h.idle_ms[0], t0 + 10000);
    assert_false(health_output_stalled(&h, 0, t0 + 11000, &why));
    assert_true(health_output_stalled(&h, 0, t0 + 11001, &why));
    assert_non_null(strstr(why.data, "output cw has not delivered"));
    assert_non_null(strstr(why.data, "2 batches waiting"));
    /* A recent success resets the clock even while batches are pending. */
    out.stats.last_success_ms = t0 + 11500;
    assert_false(health_output_stalled(&h, 0, t0 + 12000, NULL));
    assert_true(health_output_stalled(&h, 0, t0 + 12600, NULL));
    /* max_stall 0 disables the check. */
    h.max_stall_ms = 0;
    assert_false(health_output_stalled(&h, 0, t0 + 99999, NULL));
    buf_free(&why);
    health_outputs_free(&h);
}

static void test_evaluate_and_registry(void **state)
{
    (void)state;
    struct health_failure f[4];
    assert_int_equal(health_evaluate(NULL, 0, NULL, f, 4), 0);
    assert_int_equal(health_evaluate(NULL, 0, "00.conf:3: unknown key 'x'", f, 4), 1);
    assert_string_equal(f[0].check, "config_reload");
    assert_string_equal(f[0].reason, "configuration reload failed: 00.conf:3: unknown key 'x'");
    static char a[] = "spool", b[] = "other";
    assert_int_equal(health_register("disk_buffer", fail_check, a), 0);
    assert_int_equal(health_register("credentials", ok_check, b), 0);
    assert_int_equal(health_evaluate(NULL, 0, NULL, f, 4), 1);
    assert_string_equal(f[0].check, "disk_buffer");
    assert_string_equal(f[0].reason, "disk buffer full (spool)");
    health_unregister("disk_buffer", b); /* wrong arg: stays */
    assert_int_equal(health_evaluate(NULL, 0, NULL, f, 4), 1);
    health_unregister("disk_buffer", a);
    assert_int_equal(health_evaluate(NULL, 0, NULL, f, 4), 0);
    health_unregister("credentials", b);
    /* More failures than room: counted, not written past max. */
    for (int i = 0; i < 5; i++)
        health_register("x", fail_check, a);
    assert_int_equal(health_evaluate(NULL, 0, NULL, f, 2), 5);
    for (int i = 0; i < 5; i++)
        health_unregister("x", a);
    assert_int_equal(health_evaluate(NULL, 0, NULL, f, 2), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_output_stall),
        cmocka_unit_test(test_evaluate_and_registry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
