/* parsers/multiline: first-line rule, caps, timeout, built-in patterns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "parsers/multiline.h"

struct out {
    char *msgs[32];
    uint64_t ends[32];
    int n;
};

static void collect(void *arg, const char *msg, size_t len, uint64_t end_off)
{
    struct out *o = arg;
    o->msgs[o->n] = strndup(msg, len);
    o->ends[o->n++] = end_off;
}

static void out_free(struct out *o)
{
    for (int i = 0; i < o->n; i++)
        free(o->msgs[i]);
    o->n = 0;
}

/* Feed text line by line (offsets as in a file) and flush at the end. */
static void feed_all(struct ml_rule *r, const char *text, struct out *o, int flush)
{
    struct ml_state st;
    ml_state_init(&st);
    uint64_t off = 0;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        off += len + 1;
        ml_feed(r, &st, p, len, off, 0, collect, o);
        p += len + (nl ? 1 : 0);
    }
    if (flush)
        ml_flush(&st, collect, o);
    ml_state_free(&st);
}

static void rule(struct ml_rule *r, const char *regex)
{
    char err[200];
    assert_int_equal(ml_rule_init(r, regex, err, sizeof(err)), 0);
    r->timeout_ms = 1000;
}

static void test_custom_start(void **state)
{
    (void)state;
    struct ml_rule r;
    struct out o = {0};
    rule(&r, "^\\d{4}-");
    feed_all(&r, "orphan\n  cont\n2024-01 a\n b\n c\n2024-02 d\n", &o, 1);
    assert_int_equal(o.n, 3);
    assert_string_equal(o.msgs[0], "orphan\n  cont");
    assert_string_equal(o.msgs[1], "2024-01 a\n b\n c");
    assert_int_equal(o.ends[1], strlen("orphan\n  cont\n2024-01 a\n b\n c\n"));
    assert_string_equal(o.msgs[2], "2024-02 d");
    out_free(&o);
    ml_rule_free(&r);
}

static void test_caps(void **state)
{
    (void)state;
    struct ml_rule r;
    struct out o = {0};
    rule(&r, "^S");
    r.max_lines = 2;
    feed_all(&r, "S1\na\nb\nc\nS2\n", &o, 1);
    assert_int_equal(o.n, 3);
    assert_string_equal(o.msgs[0], "S1\na");
    assert_string_equal(o.msgs[1], "b\nc");
    assert_string_equal(o.msgs[2], "S2");
    out_free(&o);
    r.max_lines = 0;
    r.max_bytes = 8;
    feed_all(&r, "S123\n456\n789\n", &o, 1);
    assert_int_equal(o.n, 2);
    assert_string_equal(o.msgs[0], "S123\n456");
    assert_string_equal(o.msgs[1], "789");
    out_free(&o);
    ml_rule_free(&r);
}

static void test_timeout(void **state)
{
    (void)state;
    struct ml_rule r;
    struct out o = {0};
    struct ml_state st;
    rule(&r, "^S");
    r.timeout_ms = 500;
    ml_state_init(&st);
    ml_feed(&r, &st, "S1", 2, 3, 1000, collect, &o);
    ml_feed(&r, &st, " x", 2, 6, 1200, collect, &o);
    assert_false(ml_expired(&r, &st, 1699));
    assert_true(ml_expired(&r, &st, 1700));
    ml_flush(&st, collect, &o);
    assert_false(ml_expired(&r, &st, 99999));
    assert_int_equal(o.n, 1);
    assert_string_equal(o.msgs[0], "S1\n x");
    assert_int_equal(o.ends[0], 6);
    out_free(&o);
    ml_state_free(&st);
    ml_rule_free(&r);
}

static void test_invalid_regex(void **state)
{
    (void)state;
    struct ml_rule r;
    char err[200];
    assert_int_equal(ml_rule_init(&r, "^(unclosed", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "invalid regex at offset"));
    assert_null(ml_builtin("cobol"));
}

/* A start regex that backtracks catastrophically on a line (a container
 * label's ^(a|aa)+$ on "aaa...ab") gives up at the match limit: the line is
 * neither joined to the record before it nor lost, it is a record of its
 * own. (Without a limit of its own PCRE2 spends ~10^7 steps on each such
 * line and, finding no match, joins it.) */
static void test_match_limit(void **state)
{
    (void)state;
    struct ml_rule r;
    rule(&r, "^(a|aa)+$");
    char bad[64];
    memset(bad, 'a', 40);
    strcpy(bad + 40, "b");
    char text[512];
    snprintf(text, sizeof text, "aaaa\n%s\n%s\naa\n%s\n", bad, bad, bad);
    struct out o = {0};
    feed_all(&r, text, &o, 1);
    assert_int_equal(o.n, 5);
    assert_string_equal(o.msgs[0], "aaaa");
    assert_string_equal(o.msgs[1], bad);
    assert_int_equal(o.ends[1], 5 + 41 + 1);
    assert_string_equal(o.msgs[2], bad);     /* was pending, then flushed at "aa" */
    assert_string_equal(o.msgs[3], "aa");
    assert_string_equal(o.msgs[4], bad);     /* flushed at the end */
    out_free(&o);
    ml_rule_free(&r);
}

static void builtin(struct ml_rule *r, const char *name)
{
    const char *re = ml_builtin(name);
    assert_non_null(re);
    rule(r, re);
}

static void test_java(void **state)
{
    (void)state;
    struct ml_rule r;
    struct out o = {0};
    builtin(&r, "java");
    feed_all(&r,
             "2024-01-01 10:00:00 ERROR failed\n"
             "java.lang.IllegalStateException: boom\n"
             "\tat com.example.A.run(A.java:10)\n"
             "Caused by: java.io.IOException: disk\n"
             "\t... 2 more\n"
             "2024-01-01 10:00:01 INFO next\n",
             &o, 1);
    assert_int_equal(o.n, 2);
    assert_non_null(strstr(o.msgs[0], "\t... 2 more"));
    assert_string_equal(o.msgs[1], "2024-01-01 10:00:01 INFO next");
    out_free(&o);
    ml_rule_free(&r);
}

static void test_go(void **state)
{
    (void)state;
    struct ml_rule r;
    struct out o = {0};
    builtin(&r, "go");
    feed_all(&r,
             "panic: runtime error: index out of range\n"
             "\n"
             "goroutine 1 [running]:\n"
             "main.main()\n"
             "\t/src/main.go:10 +0x1d\n"
             "exit status 2\n"
             "2024/01/01 10:00:00 restarted\n",
             &o, 1);
    assert_int_equal(o.n, 2);
    assert_non_null(strstr(o.msgs[0], "exit status 2"));
    assert_string_equal(o.msgs[1], "2024/01/01 10:00:00 restarted");
    out_free(&o);
    ml_rule_free(&r);
}

static void test_python(void **state)
{
    (void)state;
    struct ml_rule r;
    struct out o = {0};
    builtin(&r, "python");
    feed_all(&r,
             "ERROR:root:request failed\n"
             "Traceback (most recent call last):\n"
             "  File \"app.py\", line 3, in <module>\n"
             "    main()\n"
             "ValueError: bad value\n"
             "INFO:root:next\n",
             &o, 1);
    assert_int_equal(o.n, 2);
    assert_non_null(strstr(o.msgs[0], "ValueError: bad value"));
    assert_string_equal(o.msgs[1], "INFO:root:next");
    out_free(&o);
    ml_rule_free(&r);
}

static void test_ecs(void **state)
{
    (void)state;
    struct ml_rule r;
    struct out o = {0};
    builtin(&r, "ecs");
    feed_all(&r,
             "level=info time=2024-01-01T00:00:00Z msg=\"Task engine\" module=engine.go\n"
             "level=error time=2024-01-01T00:00:01Z msg=\"multi\n"
             "line detail\"\n"
             "2024-01-01T00:00:02Z [INFO] ecs-init: starting\n"
             "  continued\n",
             &o, 1);
    assert_int_equal(o.n, 3);
    assert_string_equal(o.msgs[1], "level=error time=2024-01-01T00:00:01Z msg=\"multi\nline detail\"");
    assert_string_equal(o.msgs[2], "2024-01-01T00:00:02Z [INFO] ecs-init: starting\n  continued");
    out_free(&o);
    ml_rule_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_custom_start), cmocka_unit_test(test_caps),
        cmocka_unit_test(test_timeout),      cmocka_unit_test(test_invalid_regex),
        cmocka_unit_test(test_match_limit),
        cmocka_unit_test(test_java),         cmocka_unit_test(test_go),
        cmocka_unit_test(test_python),       cmocka_unit_test(test_ecs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
