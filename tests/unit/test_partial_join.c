/* parsers/partial_join: pieces rejoined, the cap, flush. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "parsers/partial_join.h"

static void test_whole_line_no_copy(void **state)
{
    (void)state;
    struct pj_state st;
    pj_init(&st);
    const char *out;
    size_t n;
    int64_t t;
    int trunc;
    const char *line = "abc";
    assert_int_equal(pj_feed(&st, 100, line, 3, 0, 7, &out, &n, &t, &trunc), 1);
    assert_ptr_equal(out, line);
    assert_int_equal(n, 3);
    assert_true(t == 7);
    assert_int_equal(trunc, 0);
    pj_free(&st);
}

static void test_join(void **state)
{
    (void)state;
    struct pj_state st;
    pj_init(&st);
    const char *out;
    size_t n;
    int64_t t;
    int trunc;
    assert_int_equal(pj_feed(&st, 100, "aa", 2, 1, 1, &out, &n, &t, &trunc), 0);
    assert_int_equal(pj_feed(&st, 100, "bb", 2, 1, 2, &out, &n, &t, &trunc), 0);
    assert_int_equal(pj_feed(&st, 100, "c", 1, 0, 3, &out, &n, &t, &trunc), 1);
    assert_int_equal(n, 5);
    assert_memory_equal(out, "aabbc", 5);
    assert_true(t == 1);
    assert_int_equal(trunc, 0);
    /* next line starts fresh */
    assert_int_equal(pj_feed(&st, 100, "x", 1, 1, 9, &out, &n, &t, &trunc), 0);
    assert_int_equal(pj_feed(&st, 100, "y", 1, 0, 10, &out, &n, &t, &trunc), 1);
    assert_int_equal(n, 2);
    assert_memory_equal(out, "xy", 2);
    assert_true(t == 9);
    pj_free(&st);
}

static void test_cap(void **state)
{
    (void)state;
    struct pj_state st;
    pj_init(&st);
    const char *out;
    size_t n;
    int64_t t;
    int trunc;
    assert_int_equal(pj_feed(&st, 5, "abcd", 4, 1, 1, &out, &n, &t, &trunc), 0);
    assert_int_equal(pj_feed(&st, 5, "efgh", 4, 1, 1, &out, &n, &t, &trunc), 0);
    assert_int_equal(pj_feed(&st, 5, "ij", 2, 0, 1, &out, &n, &t, &trunc), 1);
    assert_int_equal(n, 5);
    assert_memory_equal(out, "abcde", 5);
    assert_int_equal(trunc, 1);
    assert_int_equal(st.truncated_lines, 1);
    assert_int_equal(pj_feed(&st, 5, "0123456", 7, 0, 1, &out, &n, &t, &trunc), 1);
    assert_int_equal(n, 5);
    assert_int_equal(trunc, 1);
    assert_int_equal(st.truncated_lines, 2);
    pj_free(&st);
}

static void test_flush(void **state)
{
    (void)state;
    struct pj_state st;
    pj_init(&st);
    const char *out;
    size_t n;
    int64_t t;
    int trunc;
    assert_int_equal(pj_flush(&st, &out, &n, &t), 0);
    assert_int_equal(pj_feed(&st, 100, "ab", 2, 1, 4, &out, &n, &t, &trunc), 0);
    assert_int_equal(pj_flush(&st, &out, &n, &t), 1);
    assert_int_equal(n, 2);
    assert_true(t == 4);
    assert_int_equal(pj_flush(&st, &out, &n, &t), 0);
    pj_free(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_line_no_copy),
        cmocka_unit_test(test_join),
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_flush),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
