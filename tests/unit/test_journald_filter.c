/* Unit tests: the pure parts of the journald input
 * (collector/inputs/journald/journald_filter.c): priorities, the unit / identifier /
 * priority filter, "NAME=value" fields, the queue of cursors awaiting
 * acknowledgement; and the {unit} / {identifier} name placeholders the
 * input's meta feeds (collector/cloudwatch/names.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/cloudwatch/names.h"
#include "collector/core/options.h"
#include "collector/inputs/journald/journald_filter.h"
#include "collector/pipeline/record.h"

static void test_priority_parse(void **state)
{
    assert_int_equal(jd_priority_parse("emerg"), 0);
    assert_int_equal(jd_priority_parse("err"), 3);
    assert_int_equal(jd_priority_parse("error"), 3);
    assert_int_equal(jd_priority_parse("WARNING"), 4);
    assert_int_equal(jd_priority_parse("warn"), 4);
    assert_int_equal(jd_priority_parse("info"), 6);
    assert_int_equal(jd_priority_parse("debug"), 7);
    assert_int_equal(jd_priority_parse("5"), 5);
    assert_int_equal(jd_priority_parse("8"), -1);
    assert_int_equal(jd_priority_parse("55"), -1);
    assert_int_equal(jd_priority_parse("loud"), -1);
    assert_int_equal(jd_priority_parse(""), -1);
    assert_int_equal(jd_priority_parse(NULL), -1);
}

static void test_priority_value(void **state)
{
    assert_int_equal(jd_priority_value("3", 1), 3);
    assert_int_equal(jd_priority_value("0", 1), 0);
    assert_int_equal(jd_priority_value(NULL, 0), 6);    /* missing: info */
    assert_int_equal(jd_priority_value("9", 1), 6);     /* nonsense: info */
    assert_int_equal(jd_priority_value("33", 2), 6);
}

static char *words[] = {"docker.service", "ecs*.service"};
static char *idents[] = {"kernel"};

static void test_filter(void **state)
{
    struct strlist units = {words, 2}, ids = {idents, 1}, none = {NULL, 0};
    struct jd_filter all = {&none, &none, 7};
    assert_true(jd_filter_keep(&all, NULL, 0, NULL, 0, 7));

    struct jd_filter by_unit = {&units, &none, 7};
    assert_true(jd_filter_keep(&by_unit, "docker.service", 14, "dockerd", 7, 6));
    assert_true(jd_filter_keep(&by_unit, "ecs.service", 11, NULL, 0, 6));          /* glob */
    assert_true(jd_filter_keep(&by_unit, "ecs-init.service", 16, NULL, 0, 6));
    assert_false(jd_filter_keep(&by_unit, "sshd.service", 12, "sshd", 4, 6));
    assert_false(jd_filter_keep(&by_unit, NULL, 0, "kernel", 6, 6));
    /* Not NUL-terminated: only len bytes count. */
    assert_true(jd_filter_keep(&by_unit, "docker.serviceXYZ", 14, NULL, 0, 6));
    assert_false(jd_filter_keep(&by_unit, "docker.serviceXYZ", 17, NULL, 0, 6));

    /* Units or identifiers: either list takes an entry. */
    struct jd_filter both = {&units, &ids, 7};
    assert_true(jd_filter_keep(&both, NULL, 0, "kernel", 6, 6));
    assert_true(jd_filter_keep(&both, "docker.service", 14, NULL, 0, 6));
    assert_false(jd_filter_keep(&both, "cron.service", 12, "CRON", 4, 6));

    /* Priority on top: the most verbose kept. */
    struct jd_filter warn = {&units, &ids, 4};
    assert_true(jd_filter_keep(&warn, "docker.service", 14, NULL, 0, 3));
    assert_true(jd_filter_keep(&warn, "docker.service", 14, NULL, 0, 4));
    assert_false(jd_filter_keep(&warn, "docker.service", 14, NULL, 0, 6));
    struct jd_filter warn_all = {&none, &none, 4};
    assert_false(jd_filter_keep(&warn_all, NULL, 0, NULL, 0, 5));
}

static void test_field_split(void **state)
{
    const char *v;
    size_t n;
    assert_true(jd_field_split("MESSAGE=hi there", 16, "MESSAGE", &v, &n));
    assert_int_equal(n, 8);
    assert_memory_equal(v, "hi there", 8);
    /* Binary values: the length is the data's, NULs included. */
    const char bin[] = {'M', 'E', 'S', 'S', 'A', 'G', 'E', '=', 'a', '\0', 'b'};
    assert_true(jd_field_split(bin, sizeof bin, "MESSAGE", &v, &n));
    assert_int_equal(n, 3);
    assert_int_equal(v[1], '\0');
    /* An empty value is a value. */
    assert_true(jd_field_split("MESSAGE=", 8, "MESSAGE", &v, &n));
    assert_int_equal(n, 0);
    /* Another field, a prefix of the name, no '='. */
    assert_false(jd_field_split("MESSAGE_ID=x", 12, "MESSAGE", &v, &n));
    assert_false(jd_field_split("_PID=12", 7, "_PIDX", &v, &n));
    assert_false(jd_field_split("MESSAGE", 7, "MESSAGE", &v, &n));
}

static void test_cursors(void **state)
{
    struct jd_cursors q;
    jd_cursors_init(&q);
    assert_int_equal(jd_cursors_ack(&q, 5), 0); /* nothing pending */
    assert_int_equal(q.committed.len, 0);
    assert_null(jd_cursors_newest(&q));
    char c[64];
    for (int i = 0; i < 1000; i++) {
        snprintf(c, sizeof c, "s=abc;i=%x", i);
        jd_cursors_push(&q, (uint64_t)i, c);
    }
    assert_int_equal(jd_cursors_pending(&q), 1000);
    assert_string_equal(jd_cursors_newest(&q), "s=abc;i=3e7");
    assert_int_equal(jd_cursors_ack(&q, 0), 1);
    assert_string_equal(q.committed.data, "s=abc;i=0");
    assert_int_equal(jd_cursors_ack(&q, 499), 1);
    assert_string_equal(q.committed.data, "s=abc;i=1f3");
    assert_int_equal(jd_cursors_pending(&q), 500);
    /* Pushing more compacts the acknowledged front away; order is kept. */
    for (int i = 1000; i < 1600; i++) {
        snprintf(c, sizeof c, "s=abc;i=%x", i);
        jd_cursors_push(&q, (uint64_t)i, c);
    }
    assert_int_equal(jd_cursors_ack(&q, 499), 0); /* already acknowledged */
    assert_int_equal(jd_cursors_ack(&q, 1000), 1);
    assert_string_equal(q.committed.data, "s=abc;i=3e8");
    assert_int_equal(jd_cursors_ack(&q, 1599), 1);
    assert_string_equal(q.committed.data, "s=abc;i=63f");
    assert_int_equal(jd_cursors_pending(&q), 0);
    assert_string_equal(jd_cursors_newest(&q), "s=abc;i=63f"); /* acknowledged, none pending */
    jd_cursors_push(&q, 1600, "last");
    assert_int_equal(jd_cursors_ack(&q, 1600), 1);
    assert_string_equal(q.committed.data, "last");
    jd_cursors_free(&q);
}

static void test_unit_identifier_placeholders(void **state)
{
    char err[256];
    struct cwl_template *t = cwl_template_parse("/ecs/host/journal/{unit}/{identifier}", err,
                                                sizeof err);
    assert_non_null(t);
    assert_true(cwl_template_vars(t) & (1u << CWL_VAR_UNIT));
    assert_true(cwl_template_vars(t) & CWL_VARS_PER_RECORD & (1u << CWL_VAR_IDENTIFIER));
    const char *pairs[] = {"systemd_unit", "docker.service", "syslog_identifier", "dockerd"};
    struct meta *m = meta_new(pairs, 2);
    struct buf b;
    buf_init(&b);
    cwl_template_render(t, NULL, "tag", m, &b);
    assert_string_equal(b.data, "/ecs/host/journal/docker.service/dockerd");
    /* A kernel entry has no unit. */
    const char *kpairs[] = {"systemd_unit", NULL, "syslog_identifier", "kernel"};
    struct meta *k = meta_new(kpairs, 2);
    buf_reset(&b);
    cwl_template_render(t, NULL, "tag", k, &b);
    assert_string_equal(b.data, "/ecs/host/journal/" CWL_UNKNOWN_VALUE "/kernel");
    buf_free(&b);
    meta_unref(m);
    meta_unref(k);
    cwl_template_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_priority_parse),
        cmocka_unit_test(test_priority_value),
        cmocka_unit_test(test_filter),
        cmocka_unit_test(test_field_split),
        cmocka_unit_test(test_cursors),
        cmocka_unit_test(test_unit_identifier_placeholders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
