/* Unit tests: PutLogEvents body encoding and response parsing
 * (collector/cloudwatch/logs_json.c). Bodies are decoded back with jansson
 * and compared with what AWS must store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/cloudwatch/logs_json.h"

#define NOW 1800000000000LL

static json_t *parse(const struct buf *b)
{
    json_error_t err;
    json_t *root = json_loadb(b->data, b->len, 0, &err);
    if (!root)
        fail_msg("body is not JSON: %s: %.*s", err.text, (int)b->len, b->data);
    return root;
}

static void test_put_body_round_trip(void **state)
{
    (void)state;
    struct cwl_event_in ev[] = {
        {NOW + 2, "second \"quoted\" \\ line\n", 24},
        {NOW + 1, "first", 5},
        {NOW + 3, "", 0},                          /* empty: not sent */
        {NOW + 4, "caf\xC3\xA9 \xFF tab\there", 16}, /* invalid byte -> U+FFFD */
        {NOW + 5, "ctl \x01 end", 9},
    };
    for (int i = 0; i < 5; i++)
        ev[i].len = (uint32_t)strlen(ev[i].msg);
    struct cwl_limits lim;
    cwl_limits_default(&lim);
    struct cwl_plan plan;
    cwl_plan_init(&plan);
    cwl_plan_build(&plan, ev, 5, 0, NOW, 0, &lim);
    assert_int_equal(plan.ncalls, 1);
    struct buf b;
    buf_init(&b);
    cwl_json_put_body(&b, "/my/group", "host/stream", ev, &plan, &plan.calls[0], "[T]", 3);
    json_t *root = parse(&b);
    assert_string_equal(json_string_value(json_object_get(root, "logGroupName")), "/my/group");
    assert_string_equal(json_string_value(json_object_get(root, "logStreamName")), "host/stream");
    assert_int_equal(json_object_size(root), 3);
    json_t *events = json_object_get(root, "logEvents");
    assert_int_equal(json_array_size(events), 4);
    const char *want[] = {"first", "second \"quoted\" \\ line\n",
                          "caf\xC3\xA9 \xEF\xBF\xBD tab\there", "ctl \x01 end"};
    int64_t want_ts[] = {NOW + 1, NOW + 2, NOW + 4, NOW + 5};
    size_t total = 0;
    for (size_t i = 0; i < 4; i++) {
        json_t *e = json_array_get(events, i);
        assert_int_equal(json_object_size(e), 2);
        assert_int_equal(json_integer_value(json_object_get(e, "timestamp")), want_ts[i]);
        const char *msg = json_string_value(json_object_get(e, "message"));
        assert_string_equal(msg, want[i]);
        total += strlen(msg) + 26;
    }
    /* the plan's byte count is what AWS counts for the decoded messages */
    assert_int_equal(total, plan.calls[0].bytes);
    json_decref(root);
    buf_free(&b);
    cwl_plan_free(&plan);
}

static void test_put_body_truncated_marker(void **state)
{
    (void)state;
    char *big = malloc(300);
    memset(big, 'z', 300);
    struct cwl_event_in ev[] = {{NOW, big, 300}};
    struct cwl_limits lim;
    cwl_limits_default(&lim);
    lim.max_event_bytes = 100;
    lim.marker_size = 14;
    struct cwl_plan plan;
    cwl_plan_init(&plan);
    cwl_plan_build(&plan, ev, 1, 0, NOW, 0, &lim);
    struct buf b;
    buf_init(&b);
    cwl_json_put_body(&b, "g", "s", ev, &plan, &plan.calls[0], "[Truncated...]", 14);
    json_t *root = parse(&b);
    const char *msg = json_string_value(
        json_object_get(json_array_get(json_object_get(root, "logEvents"), 0), "message"));
    assert_int_equal(strlen(msg), 100);
    assert_memory_equal(msg + 86, "[Truncated...]", 14);
    json_decref(root);
    buf_free(&b);
    free(big);
    cwl_plan_free(&plan);
}

static void test_control_bodies(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    cwl_json_stream_body(&b, "g", "s\"1");
    json_t *root = parse(&b);
    assert_string_equal(json_string_value(json_object_get(root, "logStreamName")), "s\"1");
    json_decref(root);

    buf_reset(&b);
    cwl_json_retention_body(&b, "g", 14);
    root = parse(&b);
    assert_int_equal(json_integer_value(json_object_get(root, "retentionInDays")), 14);
    assert_int_equal(json_object_size(root), 2);
    json_decref(root);

    buf_reset(&b);
    char *tags[] = {"team=core", "env=prod=1", "empty="};
    cwl_json_group_body(&b, "g", "arn:aws:kms:us-east-1:1:key/x", "INFREQUENT_ACCESS", tags, 3);
    root = parse(&b);
    assert_string_equal(json_string_value(json_object_get(root, "kmsKeyId")),
                        "arn:aws:kms:us-east-1:1:key/x");
    assert_string_equal(json_string_value(json_object_get(root, "logGroupClass")),
                        "INFREQUENT_ACCESS");
    json_t *t = json_object_get(root, "tags");
    assert_string_equal(json_string_value(json_object_get(t, "team")), "core");
    assert_string_equal(json_string_value(json_object_get(t, "env")), "prod=1");
    assert_string_equal(json_string_value(json_object_get(t, "empty")), "");
    json_decref(root);

    buf_reset(&b);
    cwl_json_group_body(&b, "g", NULL, NULL, NULL, 0);
    root = parse(&b);
    assert_int_equal(json_object_size(root), 1);
    json_decref(root);
    buf_free(&b);
}

static void test_parse_rejected(void **state)
{
    (void)state;
    struct cwl_rejected r;
    const char *none = "{\"nextSequenceToken\":\"0001\"}";
    assert_int_equal(cwl_json_parse_rejected(none, strlen(none), &r), 0);
    assert_int_equal(r.too_new_start, -1);
    assert_int_equal(r.too_old_end, -1);
    assert_int_equal(r.expired_end, -1);
    assert_int_equal(cwl_json_parse_rejected("", 0, &r), 0);
    assert_int_equal(cwl_json_parse_rejected("not json", 8, &r), -1);

    const char *all = "{\"rejectedLogEventsInfo\":{\"tooNewLogEventStartIndex\":7,"
                      "\"tooOldLogEventEndIndex\":2,\"expiredLogEventEndIndex\":1}}";
    assert_int_equal(cwl_json_parse_rejected(all, strlen(all), &r), 0);
    assert_int_equal(r.too_new_start, 7);
    assert_int_equal(r.too_old_end, 2);
    assert_int_equal(r.expired_end, 1);
    uint32_t old, fresh;
    /* 10 events: [0,2) too old (exclusive end), [7,10) too new (inclusive start) */
    cwl_rejected_counts(&r, 10, &old, &fresh);
    assert_int_equal(old, 2);
    assert_int_equal(fresh, 3);
}

static void test_rejected_counts_edges(void **state)
{
    (void)state;
    uint32_t old, fresh;
    struct cwl_rejected r = {-1, -1, -1};
    cwl_rejected_counts(&r, 5, &old, &fresh);
    assert_int_equal(old + fresh, 0);
    /* expired beyond too old: the larger end wins */
    r = (struct cwl_rejected){-1, 1, 4};
    cwl_rejected_counts(&r, 5, &old, &fresh);
    assert_int_equal(old, 4);
    assert_int_equal(fresh, 0);
    /* first event too new: all rejected as too new */
    r = (struct cwl_rejected){0, -1, -1};
    cwl_rejected_counts(&r, 5, &old, &fresh);
    assert_int_equal(old, 0);
    assert_int_equal(fresh, 5);
    /* overlapping or out-of-range indexes never count more than the events */
    r = (struct cwl_rejected){2, 4, -1};
    cwl_rejected_counts(&r, 5, &old, &fresh);
    assert_int_equal(old, 4);
    assert_int_equal(fresh, 1);
    r = (struct cwl_rejected){99, 99, 99};
    cwl_rejected_counts(&r, 5, &old, &fresh);
    assert_int_equal(old, 5);
    assert_int_equal(fresh, 0);
}

/* The length of the well-formed UTF-8 sequence at s (RFC 3629, Table 3-7 of
 * the Unicode standard: no overlong forms, no surrogates, nothing above
 * U+10FFFF), or 0. Written here from the standard, sharing no code with the
 * agent's UTF-8 helper, so that the two can disagree. */
static size_t reference_utf8_len(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF; /* the allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (avail < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t k = 2; k < n; k++)
        if (s[k] < 0x80 || s[k] > 0xBF)
            return 0;
    return n;
}

/* A plain byte-at-a-time escaper: what buf_append_json_escaped's 8-bytes-at-
 * a-time version must write, byte for byte. */
static void reference_escape(struct buf *b, const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    for (size_t i = 0; i < len;) {
        unsigned char c = s[i];
        size_t n = c >= 0x80 ? reference_utf8_len(s + i, len - i) : 0;
        if (n > 0) {
            buf_append(b, s + i, n);
            i += n;
            continue;
        }
        char esc[8];
        if (c == '"' || c == '\\')
            snprintf(esc, sizeof esc, "\\%c", c);
        else if (c == '\n')
            snprintf(esc, sizeof esc, "\\n");
        else if (c == '\r')
            snprintf(esc, sizeof esc, "\\r");
        else if (c == '\t')
            snprintf(esc, sizeof esc, "\\t");
        else if (c < 0x20)
            snprintf(esc, sizeof esc, "\\u%04x", c);
        else if (c >= 0x80)
            snprintf(esc, sizeof esc, "\xEF\xBF\xBD");
        else
            snprintf(esc, sizeof esc, "%c", c);
        buf_append_str(b, esc);
        i++;
    }
}

static void test_escape_matches_reference(void **state)
{
    (void)state;
    static const char *const pieces[] = {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80",
                                         "\xED\xA0\x80", "\xC0\xAF", "\xFF", "\xF4\x90\x80\x80",
                                         "\"", "\\", "\n", "\r", "\t", "\x01", "\x1f", "\x7f",
                                         " ", "~"};
    uint64_t rng = 7;
    struct buf in, a, b;
    buf_init(&in);
    buf_init(&a);
    buf_init(&b);
    for (int round = 0; round < 5000; round++) {
        buf_reset(&in);
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        size_t len = (rng >> 33) % 200;
        while (in.len < len) {
            rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
            uint32_t r = (uint32_t)(rng >> 33);
            if (r % 4)
                buf_append_char(&in, (char)('a' + r % 26));
            else
                buf_append_str(&in, pieces[(r >> 8) % (sizeof pieces / sizeof pieces[0])]);
        }
        in.len = len;
        buf_reset(&a);
        buf_reset(&b);
        reference_escape(&a, in.data, in.len);
        buf_append_json_escaped(&b, in.data, in.len);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.data, b.data, a.len);
    }
    buf_free(&in);
    buf_free(&a);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_body_round_trip),
        cmocka_unit_test(test_put_body_truncated_marker),
        cmocka_unit_test(test_control_bodies),
        cmocka_unit_test(test_parse_rejected),
        cmocka_unit_test(test_rejected_counts_edges),
        cmocka_unit_test(test_escape_matches_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
