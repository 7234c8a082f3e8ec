/* Unit tests: health checks (output stall rule, reload error, the inputs'
 * health callbacks). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "collector/plugin.h"
#include "collector/status/health.h"

/* An input whose health is whatever verdict its ctx holds. */
static int scripted_health(struct input_instance *in, char *why, size_t len)
{
    int verdict = *(int *)in->ctx;
    if (verdict)
        snprintf(why, len, "the ECS agent has not answered for %ds", 90);
    return verdict;
}

static const struct input_plugin scripted_plugin = {.name = "scripted", .health = scripted_health};
static const struct input_plugin silent_plugin = {.name = "silent"};

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

static void test_evaluate_reload_and_inputs(void **state)
{
    (void)state;
    struct health_failure f[4];
    assert_int_equal(health_evaluate(NULL, NULL, 0, 0, NULL, f, 4), 0);
    assert_int_equal(health_evaluate(NULL, NULL, 0, 0, "00.conf:3: unknown key 'x'", f, 4), 1);
    assert_string_equal(f[0].check, "config_reload");
    assert_string_equal(f[0].reason, "configuration reload failed: 00.conf:3: unknown key 'x'");
    assert_false(f[0].not_live);
    assert_true(health_live(f, 1, 4));

    int verdict = INPUT_HEALTHY, other = INPUT_NOT_READY;
    struct input_instance host = {.plugin = &scripted_plugin, .name = "host", .ctx = &verdict};
    struct input_instance idle = {.plugin = &scripted_plugin, .name = "idle", .ctx = NULL};
    struct input_instance plain = {.plugin = &silent_plugin, .name = "tail", .ctx = &other};
    struct input_instance *inputs[3] = {&host, &idle, &plain};
    assert_int_equal(health_evaluate(NULL, inputs, 3, 0, NULL, f, 4), 0);
    /* Not ready: fails /ready, not /health. */
    verdict = INPUT_NOT_READY;
    assert_int_equal(health_evaluate(NULL, inputs, 3, 0, NULL, f, 4), 1);
    assert_string_equal(f[0].check, "input");
    assert_string_equal(f[0].reason, "input host: the ECS agent has not answered for 90s");
    assert_false(f[0].not_live);
    assert_true(health_live(f, 1, 4));
    /* Not live: fails both. */
    verdict = INPUT_NOT_LIVE;
    assert_int_equal(health_evaluate(NULL, inputs, 3, 0, "bad", f, 4), 2);
    assert_string_equal(f[1].check, "input");
    assert_true(f[1].not_live);
    assert_false(health_live(f, 2, 4));
    /* More failures than room: counted, not written past max. */
    struct input_instance *many[5] = {&host, &host, &host, &host, &host};
    assert_int_equal(health_evaluate(NULL, many, 5, 0, NULL, f, 2), 5);
    assert_false(health_live(f, 5, 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_output_stall),
        cmocka_unit_test(test_evaluate_reload_and_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
