/* parsers/fields: JSON and logfmt messages into fields and a timestamp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "parsers/fields.h"

static const char *field(const struct fields_result *r, const char *key, char *out, size_t cap)
{
    for (int i = 0; i < r->n; i++) {
        if (r->fields[i].key_len == strlen(key) && memcmp(r->fields[i].key, key, strlen(key)) == 0) {
            snprintf(out, cap, "%.*s", (int)r->fields[i].value_len, r->fields[i].value);
            return out;
        }
    }
    return NULL;
}

static void test_json(void **state)
{
    (void)state;
    struct buf scratch;
    buf_init(&scratch);
    struct fields_result r;
    char v[256];
    const char *m = "{\"level\":\"warn\",\"msg\":\"disk \\\"sda\\\" at 91%\\n\",\"n\":42,"
                    "\"ok\":true,\"ctx\":{\"a\":[1,2]},\"time\":\"2024-05-01T12:00:00.5Z\"}  ";
    assert_int_equal(fields_parse(FIELDS_JSON, m, strlen(m), &scratch, &r), 0);
    assert_int_equal(r.n, 6);
    assert_string_equal(field(&r, "level", v, sizeof v), "warn");
    assert_string_equal(field(&r, "msg", v, sizeof v), "disk \"sda\" at 91%\n");
    assert_string_equal(field(&r, "n", v, sizeof v), "42");
    assert_string_equal(field(&r, "ok", v, sizeof v), "true");
    assert_string_equal(field(&r, "ctx", v, sizeof v), "{\"a\":[1,2]}");
    assert_true(r.time_ns == 1714564800500000000LL);
    /* not JSON, or not one object: kept as it is */
    const char *bad[] = {"plain text", "{\"a\":1", "{\"a\":1} tail", "[1,2]", "{\"a\" 1}", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(fields_parse(FIELDS_JSON, bad[i], strlen(bad[i]), &scratch, &r), -1);
        assert_int_equal(r.n, 0);
    }
    /* epoch timestamps, by magnitude */
    const char *ep[] = {"{\"ts\":1714564800.25}", "{\"ts\":1714564800250}",
                        "{\"timestamp\":\"1714564800250000\"}", "{\"@timestamp\":1714564800250000000}"};
    for (size_t i = 0; i < sizeof(ep) / sizeof(ep[0]); i++) {
        assert_int_equal(fields_parse(FIELDS_JSON, ep[i], strlen(ep[i]), &scratch, &r), 0);
        assert_true(r.time_ns == 1714564800250000000LL);
    }
    const char *huge = "{\"ts\":99999999999999999999}";
    assert_int_equal(fields_parse(FIELDS_JSON, huge, strlen(huge), &scratch, &r), 0);
    assert_true(r.time_ns == 0);
    const char *nots = "{\"time\":\"yesterday\"}";
    assert_int_equal(fields_parse(FIELDS_JSON, nots, strlen(nots), &scratch, &r), 0);
    assert_true(r.time_ns == 0);
    buf_free(&scratch);
}

static void test_logfmt(void **state)
{
    (void)state;
    struct buf scratch;
    buf_init(&scratch);
    struct fields_result r;
    char v[256];
    const char *m = "ts=2024-05-01T12:00:00Z level=info msg=\"user \\\"bob\\\" logged in\" dry  n=3";
    assert_int_equal(fields_parse(FIELDS_LOGFMT, m, strlen(m), &scratch, &r), 0);
    assert_int_equal(r.n, 5);
    assert_string_equal(field(&r, "level", v, sizeof v), "info");
    assert_string_equal(field(&r, "msg", v, sizeof v), "user \"bob\" logged in");
    assert_string_equal(field(&r, "dry", v, sizeof v), "");
    assert_string_equal(field(&r, "n", v, sizeof v), "3");
    assert_true(r.time_ns == 1714564800000000000LL);
    const char *bad[] = {"just words here", "k=\"unterminated", "=v", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(fields_parse(FIELDS_LOGFMT, bad[i], strlen(bad[i]), &scratch, &r), -1);
    buf_free(&scratch);
}

static void test_many_fields_and_names(void **state)
{
    (void)state;
    struct buf scratch, line;
    buf_init(&scratch);
    buf_init(&line);
    for (int i = 0; i < 100; i++)
        buf_printf(&line, "k%d=%d ", i, i);
    struct fields_result r;
    assert_int_equal(fields_parse(FIELDS_LOGFMT, line.data, line.len, &scratch, &r), 0);
    assert_int_equal(r.n, FIELDS_MAX);
    enum fields_format f;
    assert_int_equal(fields_format_of("json", &f), 0);
    assert_int_equal(f, FIELDS_JSON);
    assert_int_equal(fields_format_of("logfmt", &f), 0);
    assert_int_equal(f, FIELDS_LOGFMT);
    assert_int_equal(fields_format_of("none", &f), 0);
    assert_int_equal(f, FIELDS_NONE);
    assert_int_equal(fields_format_of("xml", &f), -1);
    buf_free(&scratch);
    buf_free(&line);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_logfmt),
        cmocka_unit_test(test_many_fields_and_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
