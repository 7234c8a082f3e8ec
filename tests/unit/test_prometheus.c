/* Unit tests: Prometheus text formatting (names, escaping, histograms) and
 * the /proc/self parsers behind the process metrics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "collector/status/prometheus.h"
#include "collector/status/selfstat.h"

static void test_names(void **state)
{
    (void)state;
    assert_true(prom_valid_name("collector_output_records_total", 0));
    assert_true(prom_valid_name("a:b", 0));
    assert_false(prom_valid_name("a:b", 1));
    assert_true(prom_valid_name("_x9", 0));
    assert_false(prom_valid_name("9x", 0));
    assert_false(prom_valid_name("", 0));
    assert_false(prom_valid_name("a-b", 0));
    assert_false(prom_valid_name("__reserved", 1));
    assert_true(prom_valid_name("output", 1));
}

static void test_counter_with_labels(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    prom_family(&b, "x_total", "counter", "line one\nback\\slash");
    struct prom_label l[2] = {{"output", "a\"b\\c\nd"}, {"type", "file"}};
    prom_sample_u64(&b, "x_total", l, 2, 18446744073709551615ull);
    prom_sample_i64(&b, "x_total", NULL, 0, -3);
    assert_string_equal(b.data, "# HELP x_total line one\\nback\\\\slash\n"
                                "# TYPE x_total counter\n"
                                "x_total{output=\"a\\\"b\\\\c\\nd\",type=\"file\"} 18446744073709551615\n"
                                "x_total -3\n");
    buf_free(&b);
}

static void test_doubles(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    prom_sample_double(&b, "g", NULL, 0, 0.1);
    prom_sample_double(&b, "g", NULL, 0, 1795323139.153);
    prom_sample_double(&b, "g", NULL, 0, NAN);
    prom_sample_double(&b, "g", NULL, 0, INFINITY);
    prom_sample_double(&b, "g", NULL, 0, -INFINITY);
    prom_sample_double(&b, "g", NULL, 0, 3);
    assert_string_equal(b.data, "g 0.1\ng 1795323139.153\ng NaN\ng +Inf\ng -Inf\ng 3\n");
    buf_free(&b);
}

static void test_histogram(void **state)
{
    (void)state;
    static const double bounds[] = {0.01, 0.1, 1};
    struct histogram h;
    histogram_init(&h, bounds, 3);
    histogram_observe(&h, 0.005);
    histogram_observe(&h, 0.01); /* le is inclusive */
    histogram_observe(&h, 0.5);
    histogram_observe(&h, 7);
    struct buf b;
    buf_init(&b);
    struct prom_label l[1] = {{"output", "o"}};
    prom_histogram_format(&b, "lat_seconds", l, 1, &h);
    assert_string_equal(b.data, "lat_seconds_bucket{output=\"o\",le=\"0.01\"} 2\n"
                                "lat_seconds_bucket{output=\"o\",le=\"0.1\"} 2\n"
                                "lat_seconds_bucket{output=\"o\",le=\"1\"} 3\n"
                                "lat_seconds_bucket{output=\"o\",le=\"+Inf\"} 4\n"
                                "lat_seconds_sum{output=\"o\"} 7.515\n"
                                "lat_seconds_count{output=\"o\"} 4\n");
    buf_reset(&b);
    histogram_init(&h, bounds, 3);
    prom_histogram_format(&b, "h", NULL, 0, &h);
    assert_non_null(strstr(b.data, "h_bucket{le=\"+Inf\"} 0\nh_sum 0\nh_count 0\n"));
    buf_free(&b);
}

static void test_parse_stat(void **state)
{
    (void)state;
    /* The command may contain spaces and ')'. */
    const char *text = "1234 (my (odd) cmd) S 1 1234 1234 0 -1 4194560 100 0 0 0 "
                       "250 75 0 0 20 0 3 0 98765 123456789 512 18446744073709551615 "
                       "1 1 0 0 0 0 0 0 0 0 0 0 17 2 0 0 0 0 0\n";
    uint64_t ut, st, th, start, rss;
    assert_int_equal(selfstat_parse_stat(text, &ut, &st, &th, &start, &rss), 0);
    assert_int_equal(ut, 250);
    assert_int_equal(st, 75);
    assert_int_equal(th, 3);
    assert_int_equal(start, 98765);
    assert_int_equal(rss, 512);
    assert_int_equal(selfstat_parse_stat("garbage", &ut, &st, &th, &start, &rss), -1);
    assert_int_equal(selfstat_parse_stat("1 (x) S 1 2", &ut, &st, &th, &start, &rss), -1);
}

static void test_count_watches(void **state)
{
    (void)state;
    const char *info = "pos:\t0\nflags:\t02004000\nmnt_id:\t15\nino:\t1057\n"
                       "inotify wd:2 ino:5 sdev:800001 mask:fce ignored_mask:0 fhandle-bytes:8\n"
                       "inotify wd:1 ino:2 sdev:800001 mask:fce ignored_mask:0 fhandle-bytes:8\n";
    assert_int_equal(selfstat_count_watches(info), 2);
    assert_int_equal(selfstat_count_watches("pos:\t0\n"), 0);
}

static void test_selfstat_read(void **state)
{
    (void)state;
    struct selfstat s;
    selfstat_read(&s);
    assert_true(s.rss_bytes > 0);
    assert_true(s.open_fds >= 3);
    assert_true(s.threads >= 1);
    assert_true(s.start_time_seconds > 1.5e9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),       cmocka_unit_test(test_counter_with_labels),
        cmocka_unit_test(test_doubles),     cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_parse_stat),  cmocka_unit_test(test_count_watches),
        cmocka_unit_test(test_selfstat_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
