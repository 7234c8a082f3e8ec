/* parsers/cri: CRI log lines and format detection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "parsers/cri.h"

static void test_full_and_partial(void **state)
{
    (void)state;
    struct cri_line c;
    const char *s = "2024-05-01T12:00:00.123456789Z stderr F hello world";
    assert_int_equal(cri_parse(s, strlen(s), &c), 0);
    assert_int_equal(c.stream, LOG_STREAM_STDERR);
    assert_int_equal(c.partial, 0);
    assert_int_equal(c.msg_len, 11);
    assert_memory_equal(c.msg, "hello world", 11);
    assert_true(c.time_ns == 1714564800123456789LL);
    s = "2024-05-01T12:00:00Z stdout P:x piece";
    assert_int_equal(cri_parse(s, strlen(s), &c), 0);
    assert_int_equal(c.partial, 1);
    assert_int_equal(c.stream, LOG_STREAM_STDOUT);
    assert_memory_equal(c.msg, "piece", 5);
    s = "2024-05-01T12:00:00Z stdout F";
    assert_int_equal(cri_parse(s, strlen(s), &c), 0);
    assert_int_equal(c.msg_len, 0);
}

static void test_not_cri(void **state)
{
    (void)state;
    struct cri_line c;
    const char *bad[] = {"hello", "2024-05-01T12:00:00Z stdin F x", "2024-05-01T12:00:00Z stdout X x",
                         "notatime stdout F x", "2024-05-01T12:00:00Z stdout"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(cri_parse(bad[i], strlen(bad[i]), &c), -1);
}

static void test_detect(void **state)
{
    (void)state;
    const char *j = "{\"log\":\"x\\n\"}";
    const char *c = "2024-05-01T12:00:00Z stdout F x";
    assert_int_equal(log_format_detect(j, strlen(j)), LOG_FORMAT_DOCKER_JSON);
    assert_int_equal(log_format_detect(c, strlen(c)), LOG_FORMAT_CRI);
    assert_int_equal(log_format_detect("plain", 5), LOG_FORMAT_UNKNOWN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_and_partial),
        cmocka_unit_test(test_not_cri),
        cmocka_unit_test(test_detect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
