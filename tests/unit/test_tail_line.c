/* parsers/line_split: UTF-8 validation and repair, CR stripping, cuts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "collector/core/util.h"
#include "parsers/line_split.h"

#define V(s) utf8_valid(s, sizeof(s) - 1)

static void test_valid(void **state)
{
    (void)state;
    assert_true(V(""));
    assert_true(V("plain ascii that is longer than eight bytes"));
    assert_true(V("nul \0 inside"));
    assert_true(V("\xc2\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf"));
    assert_false(V("\xff"));
    assert_false(V("abcdefgh\x80"));             /* lone continuation after the fast path */
    assert_false(V("\xc0\xaf"));                 /* overlong */
    assert_false(V("\xe0\x80\xaf"));             /* overlong */
    assert_false(V("\xed\xa0\x80"));             /* surrogate */
    assert_false(V("\xf4\x90\x80\x80"));         /* > U+10FFFF */
    assert_false(V("\xe2\x82"));                 /* truncated */
    assert_false(V("\xf0\x9f\x98"));
}

static void check_sanitize(const char *in, size_t len, const char *want)
{
    struct buf b;
    buf_init(&b);
    utf8_sanitize(&b, in, len);
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    assert_true(utf8_valid(b.data, b.len));
    buf_free(&b);
}

#define R "\xef\xbf\xbd"

static void test_sanitize(void **state)
{
    (void)state;
    check_sanitize("ok", 2, "ok");
    check_sanitize("a\xff" "b", 3, "a" R "b");
    check_sanitize("\xe2\x82", 2, R R);
    check_sanitize("\xc0\xaf", 2, R R);
    check_sanitize("\xed\xa0\x80", 3, R R R);
    check_sanitize("\xe2\x82\xac\xff\xe2\x82\xac", 7, "\xe2\x82\xac" R "\xe2\x82\xac");
}

static void test_strip_cr(void **state)
{
    (void)state;
    assert_int_equal(line_strip_cr("abc\r", 4), 3);
    assert_int_equal(line_strip_cr("abc", 3), 3);
    assert_int_equal(line_strip_cr("\r", 1), 0);
    assert_int_equal(line_strip_cr("", 0), 0);
    assert_int_equal(line_strip_cr("a\r\r", 3), 2); /* only one */
}

static void test_cut(void **state)
{
    (void)state;
    const char *s = "ab\xe2\x82\xac" "cd"; /* a b € c d */
    assert_int_equal(utf8_cut(s, 7, 10), 7);
    assert_int_equal(utf8_cut(s, 7, 2), 2);
    assert_int_equal(utf8_cut(s, 7, 3), 2);  /* would split the euro sign */
    assert_int_equal(utf8_cut(s, 7, 4), 2);
    assert_int_equal(utf8_cut(s, 7, 5), 5);
    assert_int_equal(utf8_cut("\x80\x80\x80\x80\x80", 5, 3), 3); /* not UTF-8: as asked */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_sanitize),
        cmocka_unit_test(test_strip_cr),
        cmocka_unit_test(test_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
