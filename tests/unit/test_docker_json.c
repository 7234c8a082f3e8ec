/* parsers/docker_json: json-file lines, escapes, partial pieces, times, attrs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "parsers/docker_json.h"

static int parse(const char *s, struct buf *b, struct dj_line *l)
{
    return dj_parse(s, strlen(s), b, l);
}

static void test_basic(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    struct dj_line l;
    assert_int_equal(parse("{\"log\":\"hello world\\n\",\"stream\":\"stderr\",\"time\":"
                           "\"2024-05-01T12:00:00.123456789Z\"}", &b, &l), 0);
    assert_int_equal(l.msg_len, 11);
    assert_memory_equal(l.msg, "hello world", 11);
    assert_int_equal(l.partial, 0);
    assert_int_equal(l.stream, LOG_STREAM_STDERR);
    assert_true(l.time_ns == 1714564800123456789LL);
    buf_free(&b);
}

static void test_partial_and_escapes(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    struct dj_line l;
    assert_int_equal(parse("{\"log\":\"a\\\"b\\\\c\\t\\u00e9\\ud83d\\ude00\",\"stream\":\"stdout\","
                           "\"time\":\"2024-05-01T12:00:00Z\"}", &b, &l), 0);
    assert_int_equal(l.partial, 1);
    assert_int_equal(l.stream, LOG_STREAM_STDOUT);
    const char want[] = "a\"b\\c\t\xc3\xa9\xf0\x9f\x98\x80";
    assert_int_equal(l.msg_len, sizeof(want) - 1);
    assert_memory_equal(l.msg, want, sizeof(want) - 1);
    assert_true(l.time_ns == 1714564800000000000LL);
    /* a lone surrogate becomes U+FFFD */
    assert_int_equal(parse("{\"log\":\"x\\ud800y\\n\"}", &b, &l), 0);
    assert_int_equal(l.msg_len, 5);
    assert_memory_equal(l.msg, "x\xef\xbf\xbdy", 5);
    buf_free(&b);
}

static void test_attrs(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    struct dj_line l;
    assert_int_equal(parse("{\"log\":\"m\\n\",\"stream\":\"stdout\",\"attrs\":{\"tag\":\"web\","
                           "\"n\":1,\"env\":\"pr\\u006fd\"},\"time\":\"2024-05-01T12:00:00.5+02:00\"}",
                           &b, &l), 0);
    assert_int_equal(l.nattrs, 2);
    assert_memory_equal(l.attrs[0].key, "tag", 3);
    assert_memory_equal(l.attrs[0].value, "web", 3);
    assert_int_equal(l.attrs[1].value_len, 4);
    assert_memory_equal(l.attrs[1].value, "prod", 4);
    assert_memory_equal(l.msg, "m", 1);
    assert_true(l.time_ns == 1714564800500000000LL - 7200LL * 1000000000LL);
    buf_free(&b);
}

static void test_invalid(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    struct dj_line l;
    assert_int_equal(parse("plain text", &b, &l), -1);
    assert_int_equal(parse("{\"stream\":\"stdout\"}", &b, &l), -1);
    assert_int_equal(parse("{\"log\":\"unterminated", &b, &l), -1);
    assert_int_equal(parse("{\"log\":\"bad \\x escape\"}", &b, &l), -1);
    /* a bad time is not fatal */
    assert_int_equal(parse("{\"log\":\"m\\n\",\"time\":\"yesterday\"}", &b, &l), 0);
    assert_true(l.time_ns == 0);
    buf_free(&b);
}

static void test_rfc3339(void **state)
{
    (void)state;
    int64_t ns;
    assert_int_equal(rfc3339_ns("1970-01-01T00:00:01Z", 20, &ns), 0);
    assert_true(ns == 1000000000LL);
    assert_int_equal(rfc3339_ns("1970-01-01T00:00:01.000000001Z", 30, &ns), 0);
    assert_true(ns == 1000000001LL);
    assert_int_equal(rfc3339_ns("2000-02-29T23:59:59.1Z", 22, &ns), 0);
    assert_true(ns == 951868799100000000LL);
    assert_int_equal(rfc3339_ns("2000-13-29T23:59:59Z", 20, &ns), -1);
    assert_int_equal(rfc3339_ns("2000-01-01T00:00:00", 19, &ns), -1);
    assert_int_equal(rfc3339_ns("2000-01-01T00:00:00.Z", 21, &ns), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),    cmocka_unit_test(test_partial_and_escapes),
        cmocka_unit_test(test_attrs),    cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_rfc3339),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
