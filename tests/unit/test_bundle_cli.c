/* Unit tests: `collector bundle` argument parsing and the pure helpers of
 * enable-debug and host facts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "collector/bundle/cli.h"
#include "collector/bundle/debug.h"
#include "collector/bundle/host.h"

static int parse(struct bundle_opts *o, char *err, ...)
{
    char *argv[32] = {"bundle"};
    int argc = 1;
    va_list ap;
    va_start(ap, err);
    char *a;
    while ((a = va_arg(ap, char *)))
        argv[argc++] = a;
    va_end(ap);
    return bundle_parse_args(argc, argv, o, err, 256);
}

static void test_defaults(void **state)
{
    (void)state;
    unsetenv("COLLECTOR_BUNDLE_ROOT");
    struct bundle_opts o;
    char err[256];
    assert_int_equal(parse(&o, err, NULL), 0);
    assert_null(o.output);
    assert_int_equal(o.mode, MODE_BRIEF);
    assert_int_equal(o.since_ms, 0);
    assert_true(o.redact_check);
    assert_false(o.quiet);
    assert_int_equal(o.max_size, BUNDLE_DEFAULT_MAX_SIZE);
    assert_int_equal(o.timeout_ms, BUNDLE_DEFAULT_TIMEOUT_MS);
    assert_null(o.root);
}

static void test_options(void **state)
{
    (void)state;
    struct bundle_opts o;
    char err[256];
    assert_int_equal(parse(&o, err, "-o", "-", "--mode=enable-debug", "--since", "2h",
                           "--max-size=10MiB", "--no-redact-check", "-q", "--timeout", "5s", "-j",
                           "3", "--root", "/tmp/fake", "--item-max", "64MiB", NULL),
                     0);
    assert_string_equal(o.output, "-");
    assert_int_equal(o.mode, MODE_ENABLE_DEBUG);
    assert_int_equal(o.since_ms, 2 * 3600 * 1000);
    assert_int_equal(o.max_size, 10 << 20);
    assert_int_equal(o.item_max, 10 << 20); /* clamped to max-size */
    assert_false(o.redact_check);
    assert_true(o.quiet);
    assert_int_equal(o.timeout_ms, 5000);
    assert_int_equal(o.jobs, 3);
    assert_string_equal(o.root, "/tmp/fake");
    assert_int_equal(parse(&o, err, "--help", NULL), 1);
    assert_int_equal(parse(&o, err, "--root", "/", NULL), 0);
    assert_null(o.root);
}

static void test_errors(void **state)
{
    (void)state;
    struct bundle_opts o;
    char err[256];
    assert_int_equal(parse(&o, err, "--mode", "debug", NULL), -1);
    assert_non_null(strstr(err, "brief or enable-debug"));
    assert_int_equal(parse(&o, err, "--since", "soon", NULL), -1);
    assert_non_null(strstr(err, "--since"));
    assert_int_equal(parse(&o, err, "--max-size", "12", NULL), -1);
    assert_int_equal(parse(&o, err, "--foo", NULL), -1);
    assert_non_null(strstr(err, "unknown argument '--foo'"));
    assert_int_equal(parse(&o, err, "-o", NULL), -1);
    assert_non_null(strstr(err, "needs a value"));
    assert_int_equal(parse(&o, err, "-j", "0", NULL), -1);
}

static void test_sysconfig(void **state)
{
    (void)state;
    struct buf out;
    buf_init(&out);
    assert_int_equal(debug_sysconfig_add_d("# x\nOPTIONS=\"--selinux-enabled\"\nY=1\n", &out), 0);
    assert_string_equal(out.data, "# x\nOPTIONS=\"-D --selinux-enabled\"\nY=1\n");
    assert_int_equal(debug_sysconfig_add_d("Y=1", &out), 0);
    assert_string_equal(out.data, "Y=1\nOPTIONS=\"-D $OPTIONS\"\n");
    assert_int_equal(debug_sysconfig_add_d("OPTIONS=\"-D --x\"\n", &out), 1);
    buf_free(&out);
    assert_true(debug_ecs_has_debug("ECS_CLUSTER=a\nECS_LOGLEVEL=debug\n"));
    assert_false(debug_ecs_has_debug("ECS_LOGLEVEL=info\n# ECS_LOGLEVEL=debugger\n"));
}

static void test_instance_id(void **state)
{
    (void)state;
    assert_true(instance_id_valid("i-0123456789abcdef0"));
    assert_true(instance_id_valid("mi-0123456789abcdef0"));
    assert_false(instance_id_valid("../etc"));
    assert_false(instance_id_valid("a/b"));
    assert_false(instance_id_valid(""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),    cmocka_unit_test(test_options),
        cmocka_unit_test(test_errors),      cmocka_unit_test(test_sysconfig),
        cmocka_unit_test(test_instance_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
