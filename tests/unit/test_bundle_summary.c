/* Unit tests: summary verdicts and the bundle size budget. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "collector/bundle/budget.h"
#include "collector/bundle/summary.h"

static void test_verdicts(void **state)
{
    (void)state;
    assert_int_equal(verdict_pct(50, 70, 90), V_OK);
    assert_int_equal(verdict_pct(70, 70, 90), V_WARN);
    assert_int_equal(verdict_pct(95, 70, 90), V_FAIL);
    struct buf out;
    buf_init(&out);
    verdict_line(&out, V_WARN, "disk", "mounts.txt", "/ is %d%% used", 83);
    assert_string_equal(out.data, "WARN disk               / is 83% used  [mounts.txt]\n");
    buf_free(&out);
}

static void test_meminfo(void **state)
{
    (void)state;
    assert_int_equal(
        meminfo_available_pct("MemTotal: 1000 kB\nMemFree: 10 kB\nMemAvailable: 250 kB\n"), 25);
    assert_int_equal(meminfo_available_pct("MemTotal: 1000 kB\n"), -1);
}

static void test_oom(void **state)
{
    (void)state;
    const char *dmesg = "[1.0] foo\n[2.0] Out of memory: Killed process 123 (java)\n"
                        "[3.0] Memory cgroup out of memory: Killed process 7 (x)\n";
    assert_int_equal(count_oom_kills(dmesg, strlen(dmesg)), 2);
    assert_int_equal(
        count_cgroup_oom_kills("/sys/fs/cgroup/a/memory.events\nlow 0\noom 3\noom_kill 2\n"
                               "/b\noom_kill 1\n"),
        3);
}

static void test_recent_errors(void **state)
{
    (void)state;
    /* now = 2024-01-01T12:00:00Z */
    int64_t now = 1704110400;
    const char *log = "level=error time=2024-01-01T11:30:00Z msg=\"recent\"\n"
                      "level=error time=2024-01-01T10:00:00Z msg=\"old\"\n"
                      "level=info time=2024-01-01T11:59:00Z msg=\"fine\"\n"
                      "2024-01-01T11:45:00Z [ERROR] legacy format\n"
                      "2024-01-01T13:45:00+02:00 [ERROR] with offset, 11:45Z\n"
                      "level=error no time at all\n";
    assert_int_equal(count_recent_errors(log, strlen(log), now, 3600), 3);
}

static void test_acs(void **state)
{
    (void)state;
    const char *a = "msg=\"Error connecting to ACS\"\nmsg=\"Connected to ACS endpoint\"\n";
    const char *b = "msg=\"Connected to ACS endpoint\"\nmsg=\"Error connecting to ACS: timeout\"\n";
    assert_int_equal(acs_connection_state(a, strlen(a)), 1);
    assert_int_equal(acs_connection_state(b, strlen(b)), 0);
    assert_int_equal(acs_connection_state("nothing", 7), -1);
}

static void test_limits(void **state)
{
    (void)state;
    const char *t = "fs.inotify.max_user_watches 8192\nfs.file-nr 1024 0 9000\nbad ?\n";
    assert_int_equal(limits_value(t, "fs.inotify.max_user_watches", 0), 8192);
    assert_int_equal(limits_value(t, "fs.file-nr", 2), 9000);
    assert_int_equal(limits_value(t, "bad", 0), -1);
    assert_int_equal(limits_value(t, "missing", 0), -1);
}

static void test_budget(void **state)
{
    (void)state;
    uint64_t sizes[] = {10, 100, 1000, 5};
    assert_true(budget_threshold(sizes, 4, 2000) == UINT64_MAX);
    /* 10 + 5 whole, 100 and 1000 cut at T: 15 + 2T <= 215 -> T = 100 */
    assert_int_equal(budget_threshold(sizes, 4, 215), 100);
    /* 15 + 100 whole, 1000 cut: T = 85 -> then 100 is cut too: 15 + 2*T <= 200 -> T = 92 */
    uint64_t t = budget_threshold(sizes, 4, 200);
    uint64_t total = 0;
    for (int i = 0; i < 4; i++)
        total += sizes[i] < t ? sizes[i] : t;
    assert_true(total <= 200);
    assert_true(total >= 197);
    assert_int_equal(budget_threshold(sizes, 4, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verdicts), cmocka_unit_test(test_meminfo),
        cmocka_unit_test(test_oom),      cmocka_unit_test(test_recent_errors),
        cmocka_unit_test(test_limits),   cmocka_unit_test(test_acs),
        cmocka_unit_test(test_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
