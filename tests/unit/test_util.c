/* Unit tests: duration/size/bool parsing, JSON escaping, buffers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "collector/core/util.h"

static void test_durations(void **state)
{
    (void)state;
    int64_t ms;
    assert_int_equal(parse_duration_ms("500ms", &ms), 0);
    assert_int_equal(ms, 500);
    assert_int_equal(parse_duration_ms("5s", &ms), 0);
    assert_int_equal(ms, 5000);
    assert_int_equal(parse_duration_ms("2m", &ms), 0);
    assert_int_equal(ms, 120000);
    assert_int_equal(parse_duration_ms("1h", &ms), 0);
    assert_int_equal(ms, 3600000);
    assert_int_equal(parse_duration_ms("1.5s", &ms), 0);
    assert_int_equal(ms, 1500);
    assert_int_equal(parse_duration_ms("30", &ms), 0); /* plain number = seconds */
    assert_int_equal(ms, 30000);
    assert_int_equal(parse_duration_ms(" 10 s ", &ms), 0);
    assert_int_equal(ms, 10000);
    const char *bad[] = {"", "s", "-1s", "5 parsecs", "5ss", "abc", "1e400s", NULL};
    for (int i = 0; bad[i]; i++)
        assert_int_equal(parse_duration_ms(bad[i], &ms), -1);
}

static void test_sizes(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(parse_size("64KiB", &v), 0);
    assert_int_equal(v, 65536);
    assert_int_equal(parse_size("8MiB", &v), 0);
    assert_int_equal(v, 8u << 20);
    assert_int_equal(parse_size("1GiB", &v), 0);
    assert_int_equal(v, 1u << 30);
    assert_int_equal(parse_size("10MB", &v), 0);
    assert_int_equal(v, 10000000);
    assert_int_equal(parse_size("512k", &v), 0);
    assert_int_equal(v, 512 * 1024);
    assert_int_equal(parse_size("1048576", &v), 0);
    assert_int_equal(v, 1048576);
    const char *bad[] = {"", "MiB", "-5", "12 apples", "1ZiB", NULL};
    for (int i = 0; bad[i]; i++)
        assert_int_equal(parse_size(bad[i], &v), -1);
}

static void test_bools(void **state)
{
    (void)state;
    int b;
    const char *yes[] = {"true", "YES", "on", "1"}, *no[] = {"false", "No", "off", "0"};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(parse_bool(yes[i], &b), 0);
        assert_int_equal(b, 1);
        assert_int_equal(parse_bool(no[i], &b), 0);
        assert_int_equal(b, 0);
    }
    assert_int_equal(parse_bool("maybe", &b), -1);
}

static void expect_escaped(const char *in, size_t len, const char *want)
{
    struct buf b;
    buf_init(&b);
    buf_append_json_escaped(&b, in, len);
    assert_string_equal(b.data ? b.data : "", want);
    buf_free(&b);
}

static void test_json_escape(void **state)
{
    (void)state;
    expect_escaped("plain", 5, "plain");
    expect_escaped("a\"b\\c", 5, "a\\\"b\\\\c");
    expect_escaped("t\tn\nr\r", 6, "t\\tn\\nr\\r");
    expect_escaped("\x01", 1, "\\u0001");
    expect_escaped("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    /* invalid bytes, truncated sequences, overlongs, surrogates -> U+FFFD each byte */
    expect_escaped("a\xff" "b", 3, "a\xef\xbf\xbd" "b");
    expect_escaped("\xc3", 1, "\xef\xbf\xbd");
    expect_escaped("\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd");
    expect_escaped("\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    expect_escaped("x\0y", 3, "x\\u0000y");
}

static void test_buf(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    for (int i = 0; i < 1000; i++)
        buf_printf(&b, "%d,", i);
    assert_true(b.len > 3000);
    assert_int_equal(b.data[b.len], '\0');
    assert_memory_equal(b.data, "0,1,2,", 6);
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    buf_append_str(&b, "x");
    assert_string_equal(b.data, "x");
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_durations), cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_bools),     cmocka_unit_test(test_json_escape),
        cmocka_unit_test(test_buf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
