/* parsers/timestamp: strptime-like parsing and the last-good rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "parsers/timestamp.h"

#define NOW_2024_06 1717200000000000000LL /* 2024-06-01T00:00:00Z */
#define S(x) ((int64_t)(x) * 1000000000LL)

static int64_t parse(const char *fmt, const char *text, size_t *used)
{
    int64_t ns = -1;
    size_t u = 0;
    int rc = ts_parse(fmt, text, strlen(text), NOW_2024_06, 0, &ns, &u);
    if (used)
        *used = u;
    return rc == 0 ? ns : INT64_MIN;
}

static void test_iso8601_with_fraction_and_zones(void **state)
{
    (void)state;
    /* 2024-03-01T12:00:00Z = 1709294400 */
    assert_int_equal(parse("%Y-%m-%dT%H:%M:%S%z", "2024-03-01T12:00:00Z", NULL), S(1709294400));
    assert_int_equal(parse("%Y-%m-%dT%H:%M:%S.%f%z", "2024-03-01T12:00:00.123456789Z", NULL),
                     S(1709294400) + 123456789);
    assert_int_equal(parse("%Y-%m-%dT%H:%M:%S.%f%z", "2024-03-01T12:00:00.5+02:00", NULL),
                     S(1709294400 - 7200) + 500000000);
    assert_int_equal(parse("%Y-%m-%dT%H:%M:%S.%f%z", "2024-03-01T12:00:00.25-0530", NULL),
                     S(1709294400 + 5 * 3600 + 1800) + 250000000);
    assert_int_equal(parse("%FT%T%z", "2024-03-01T12:00:00+00", NULL), S(1709294400));
    /* more than nine fraction digits: the rest is ignored */
    assert_int_equal(parse("%T.%f", "00:00:01.1234567891234", NULL) % S(1), 123456789);
}

static void test_other_formats(void **state)
{
    (void)state;
    size_t used;
    assert_int_equal(parse("%d/%b/%Y:%H:%M:%S %z", "01/Mar/2024:12:00:00 +0000", &used), S(1709294400));
    assert_int_equal(used, strlen("01/Mar/2024:12:00:00 +0000"));
    assert_int_equal(parse("%s", "1709294400", NULL), S(1709294400));
    assert_int_equal(parse("%s", "1709294400.75", NULL), S(1709294400) + 750000000);
    assert_int_equal(parse("%Y-%m-%d %I:%M:%S %p", "2024-03-01 12:00:00 PM", NULL), S(1709294400));
    assert_int_equal(parse("%Y-%m-%d %I:%M:%S %p", "2024-03-01 12:00:00 AM", NULL), S(1709251200));
    assert_int_equal(parse("%a, %d %B %Y %H:%M:%S %Z", "Fri, 01 March 2024 12:00:00 GMT", NULL),
                     S(1709294400));
    assert_int_equal(parse("%Y-%m-%d %H:%M:%S,%L", "2024-03-01 12:00:00,042", NULL),
                     S(1709294400) + 42000000);
    /* consumed stops where the format ends: the rest of the line is not parsed */
    parse("%Y-%m-%dT%H:%M:%SZ", "2024-03-01T12:00:00Z [INFO] started", &used);
    assert_int_equal(used, 20);
}

static void test_syslog_without_year(void **state)
{
    (void)state;
    /* now is June 2024: "Mar  1" is this year, "Dec 31" is last year */
    assert_int_equal(parse("%b %e %H:%M:%S", "Mar  1 12:00:00", NULL), S(1709294400));
    assert_int_equal(parse("%b %e %H:%M:%S", "Dec 31 23:59:59", NULL), S(1704067199));
}

static void test_failures(void **state)
{
    (void)state;
    assert_int_equal(parse("%Y-%m-%d", "garbage", NULL), INT64_MIN);
    assert_int_equal(parse("%Y-%m-%d", "2024-13-01", NULL), INT64_MIN);
    assert_int_equal(parse("%H:%M", "25:00", NULL), INT64_MIN);
    assert_int_equal(parse("%Y-%m-%dT%H:%M:%S%z", "2024-03-01T12:00:00", NULL), INT64_MIN);
    assert_int_equal(parse("%Y-%Q", "2024-x", NULL), INT64_MIN);
    assert_int_equal(parse("%Y", "", NULL), INT64_MIN);
}

static void test_format_check(void **state)
{
    (void)state;
    char bad = 'x';
    assert_int_equal(ts_format_check("%Y-%m-%dT%H:%M:%S.%f%z %% %T %F %s %L %b %e %p %Z", &bad), 0);
    assert_int_equal(ts_format_check("%Y-%Q", &bad), -1);
    assert_int_equal(bad, 'Q');
    assert_int_equal(ts_format_check("%Y%", &bad), -1);
    assert_int_equal(bad, '\0');
}

static void test_last_good_rule(void **state)
{
    (void)state;
    struct ts_state st = {0};
    assert_int_equal(ts_resolve(&st, 0, 0, 111), 111);      /* nothing good yet: now */
    assert_int_equal(ts_resolve(&st, 1, 500, 222), 500);
    assert_int_equal(ts_resolve(&st, 0, 0, 333), 500);      /* last good */
    assert_int_equal(ts_resolve(&st, 1, 600, 444), 600);
    assert_int_equal(ts_resolve(&st, 0, 0, 555), 600);
    assert_int_equal(st.failures, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iso8601_with_fraction_and_zones),
        cmocka_unit_test(test_other_formats),
        cmocka_unit_test(test_syslog_without_year),
        cmocka_unit_test(test_failures),
        cmocka_unit_test(test_format_check),
        cmocka_unit_test(test_last_good_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
