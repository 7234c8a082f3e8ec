/* Unit tests: the PutLogEvents batcher (collector/cloudwatch/logs_batch.c)
 * against every AWS rule, with fixed cases at the exact limits and
 * property-style runs over random sizes, UTF-8 (valid and not), equal and
 * out-of-order timestamps and long time spans. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/cloudwatch/logs_batch.h"
#include "collector/core/util.h"

/* CloudWatch Logs' limits as AWS publishes them (/work/shared/spec/cloudwatch.md
 * 1.3, PutLogEvents API reference), written out here rather than taken from
 * the agent's logs_batch.h, so that a wrong constant there fails these tests. */
#define AWS_MAX_BATCH_BYTES 1048576u                  /* 1 MiB per call */
#define AWS_MAX_EVENT_BYTES (1048576u - 26u)          /* 1 MiB less the 26-byte overhead */
#define AWS_DAY_MS 86400000LL
#define AWS_MAX_SPAN_MS (24LL * 3600 * 1000)          /* a call spans at most 24 h */
#define AWS_MAX_AGE_MS (14LL * 24 * 3600 * 1000)      /* 14 days back */
#define AWS_MAX_AHEAD_MS (2LL * 3600 * 1000)          /* 2 hours ahead */

#define NOW 1800000000000LL /* 2027-01-15 */
#define MIN 60000LL
#define HOUR 3600000LL

static uint64_t rng_state = 42;
static uint32_t rnd(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng_state >> 33);
}

/* Events over one backing store of bytes. */
struct events {
    struct cwl_event_in *ev;
    char **owned;
    uint32_t n;
};

static void ev_add(struct events *e, int64_t ts, const char *msg, size_t len)
{
    e->ev = xrealloc(e->ev, (e->n + 1) * sizeof *e->ev);
    e->owned = xrealloc(e->owned, (e->n + 1) * sizeof *e->owned);
    char *copy = xmalloc(len + 1);
    memcpy(copy, msg, len);
    e->owned[e->n] = copy;
    e->ev[e->n] = (struct cwl_event_in){ts, copy, (uint32_t)len};
    e->n++;
}

static void ev_fill(struct events *e, int64_t ts, char c, size_t len)
{
    char *m = xmalloc(len + 1);
    memset(m, c, len);
    ev_add(e, ts, m, len);
    free(m);
}

static void ev_free(struct events *e)
{
    for (uint32_t i = 0; i < e->n; i++)
        free(e->owned[i]);
    free(e->owned);
    free(e->ev);
    memset(e, 0, sizeof *e);
}

static size_t escaped_len(const char *s, size_t len)
{
    struct buf b;
    buf_init(&b);
    buf_append_json_escaped(&b, s, len);
    size_t n = b.len;
    buf_free(&b);
    return n;
}

/* ------------------------------------------------------------ invariants */

/* Check every rule on a plan built from start; returns the number of sent events. */
static uint32_t check_plan(const struct cwl_plan *p, const struct events *e, uint32_t start,
                           int64_t now, int retention, const struct cwl_limits *lim)
{
    int64_t oldest = now - AWS_MAX_AGE_MS;
    if (retention > 0 && now - retention * AWS_DAY_MS > oldest)
        oldest = now - retention * AWS_DAY_MS;
    /* stable sort */
    for (uint32_t i = 1; i < p->nitems; i++) {
        const struct cwl_event_in *a = &e->ev[p->items[i - 1].index];
        const struct cwl_event_in *b = &e->ev[p->items[i].index];
        assert_true(a->timestamp_ms <= b->timestamp_ms);
        if (a->timestamp_ms == b->timestamp_ms)
            assert_true(p->items[i - 1].index < p->items[i].index);
    }
    /* a permutation */
    char *seen = xcalloc(e->n ? e->n : 1, 1);
    for (uint32_t i = 0; i < p->nitems; i++) {
        assert_false(seen[p->items[i].index]);
        seen[p->items[i].index] = 1;
    }
    free(seen);
    /* calls: contiguous over [start, n), each within limits */
    uint32_t pos = start, sent = 0, empty = 0, old = 0, fresh = 0, trunc = 0;
    for (uint32_t k = 0; k < p->ncalls; k++) {
        const struct cwl_call *c = &p->calls[k];
        assert_int_equal(c->begin, pos);
        assert_true(c->end > c->begin);
        pos = c->end;
        uint32_t nsend = 0;
        uint64_t bytes = 0;
        int64_t first = INT64_MIN, last = 0;
        for (uint32_t i = c->begin; i < c->end; i++) {
            const struct cwl_item *it = &p->items[i];
            const struct cwl_event_in *ev = &e->ev[it->index];
            switch (it->fate) {
            case CWL_EMPTY:
                assert_int_equal(ev->len, 0);
                empty++;
                continue;
            case CWL_TOO_OLD:
                assert_true(ev->timestamp_ms < oldest);
                old++;
                continue;
            case CWL_TOO_NEW:
                assert_true(ev->timestamp_ms > now + AWS_MAX_AHEAD_MS);
                fresh++;
                continue;
            default:
                break;
            }
            assert_true(ev->len > 0);
            assert_true(ev->timestamp_ms >= oldest && ev->timestamp_ms <= now + AWS_MAX_AHEAD_MS);
            /* the size is what is sent: sanitized prefix (+ marker) */
            size_t sz = cwl_utf8_sanitized_len(ev->msg, it->send_len);
            if (it->truncated) {
                assert_true(it->send_len < ev->len);
                sz += lim->marker_size;
                trunc++;
            } else {
                assert_int_equal(it->send_len, ev->len);
            }
            assert_int_equal(it->size, sz);
            assert_true(it->size <= lim->max_event_bytes);
            if (first == INT64_MIN)
                first = ev->timestamp_ms;
            last = ev->timestamp_ms;
            nsend++;
            bytes += it->size + CWL_EVENT_OVERHEAD;
        }
        assert_int_equal(nsend, c->nsend);
        assert_true(nsend >= 1);
        assert_true(nsend <= lim->max_events);
        assert_int_equal(bytes, c->bytes);
        assert_true(bytes <= lim->max_bytes);
        assert_true(last - first < lim->max_span_ms);
        sent += nsend;
    }
    if (p->ncalls)
        assert_int_equal(pos, e->n);
    else
        for (uint32_t i = start; i < p->nitems; i++)
            assert_int_not_equal(p->items[i].fate, CWL_SEND);
    if (p->ncalls) {
        assert_int_equal(empty, p->nempty);
        assert_int_equal(old, p->ntoo_old);
        assert_int_equal(fresh, p->ntoo_new);
        assert_int_equal(trunc, p->ntruncated);
    }
    return sent;
}

/* ------------------------------------------------------------ fixed cases */

static void test_exact_byte_limit(void **state)
{
    (void)state;
    struct cwl_limits lim;
    cwl_limits_default(&lim);
    struct cwl_plan p;
    cwl_plan_init(&p);
    struct events e = {0};
    /* 4 events of (262118 + 26) = 262144 bytes: exactly 1 MiB together */
    for (int i = 0; i < 4; i++)
        ev_fill(&e, NOW, 'a', 262118);
    cwl_plan_build(&p, e.ev, e.n, 0, NOW, 0, &lim);
    assert_int_equal(p.ncalls, 1);
    assert_int_equal(p.calls[0].bytes, AWS_MAX_BATCH_BYTES);
    /* one byte more: two calls */
    free(e.owned[3]);
    e.owned[3] = xmalloc(262119);
    memset(e.owned[3], 'a', 262119);
    e.ev[3].msg = e.owned[3];
    e.ev[3].len = 262119;
    cwl_plan_build(&p, e.ev, e.n, 0, NOW, 0, &lim);
    assert_int_equal(p.ncalls, 2);
    assert_int_equal(p.calls[0].nsend, 3);
    check_plan(&p, &e, 0, NOW, 0, &lim);
    ev_free(&e);
    cwl_plan_free(&p);
}

static void test_event_count_limit(void **state)
{
    (void)state;
    struct cwl_limits lim;
    cwl_limits_default(&lim);
    struct cwl_plan p;
    cwl_plan_init(&p);
    struct events e = {0};
    for (int i = 0; i < 10001; i++)
        ev_fill(&e, NOW - 1000 + i / 100, 'x', 3);
    cwl_plan_build(&p, e.ev, e.n, 0, NOW, 0, &lim);
    assert_int_equal(p.ncalls, 2);
    assert_int_equal(p.calls[0].nsend, 10000);
    assert_int_equal(p.calls[1].nsend, 1);
    check_plan(&p, &e, 0, NOW, 0, &lim);
    ev_free(&e);
    cwl_plan_free(&p);
}

static void test_single_event_limit(void **state)
{
    (void)state;
    struct cwl_limits lim;
    cwl_limits_default(&lim);
    struct cwl_plan p;
    cwl_plan_init(&p);
    struct events e = {0};
    ev_fill(&e, NOW, 'a', AWS_MAX_EVENT_BYTES);      /* exactly at the limit: kept whole */
    ev_fill(&e, NOW, 'b', AWS_MAX_EVENT_BYTES + 1);  /* one over: truncated */
    ev_fill(&e, NOW, 'c', 3 * 1048576);              /* far over */
    cwl_plan_build(&p, e.ev, e.n, 0, NOW, 0, &lim);
    assert_int_equal(p.ncalls, 3); /* each fills a call alone */
    assert_int_equal(p.items[0].truncated, 0);
    assert_int_equal(p.items[0].size, AWS_MAX_EVENT_BYTES);
    assert_int_equal(p.items[1].truncated, 1);
    assert_int_equal(p.items[1].size, AWS_MAX_EVENT_BYTES);
    assert_int_equal(p.items[1].send_len, AWS_MAX_EVENT_BYTES - lim.marker_size);
    assert_int_equal(p.items[2].truncated, 1);
    assert_int_equal(p.ntruncated, 2);
    check_plan(&p, &e, 0, NOW, 0, &lim);
    ev_free(&e);
    cwl_plan_free(&p);
}

static void test_truncation_on_character_boundary(void **state)
{
    (void)state;
    struct cwl_limits lim;
    cwl_limits_default(&lim);
    lim.max_event_bytes = 100;
    lim.marker_size = 14;
    struct cwl_plan p;
    cwl_plan_init(&p);
    struct events e = {0};
    /* "é" is 2 bytes, "€" 3, an invalid byte is sent as 3 (U+FFFD) */
    struct buf m;
    buf_init(&m);
    for (int i = 0; i < 60; i++)
        buf_append_str(&m, "\xE2\x82\xAC"); /* 180 bytes */
    ev_add(&e, NOW, m.data, m.len);
    buf_reset(&m);
    for (int i = 0; i < 60; i++)
        buf_append_char(&m, (char)0xFF); /* 60 raw bytes, 180 as sent */
    ev_add(&e, NOW, m.data, m.len);
    buf_reset(&m);
    buf_append_str(&m, "a");
    for (int i = 0; i < 50; i++)
        buf_append_str(&m, "\xC3\xA9");
    ev_add(&e, NOW, m.data, m.len);
    buf_free(&m);
    cwl_plan_build(&p, e.ev, e.n, 0, NOW, 0, &lim);
    /* 86 bytes of room: 28 euro signs (84 bytes) */
    assert_int_equal(p.items[0].send_len, 84);
    assert_int_equal(p.items[0].size, 98);
    /* invalid: 28 bytes -> 84 sent */
    assert_int_equal(p.items[1].send_len, 28);
    assert_int_equal(p.items[1].size, 98);
    /* "a" + 42 x 2 bytes = 85 */
    assert_int_equal(p.items[2].send_len, 85);
    assert_int_equal(p.items[2].size, 99);
    check_plan(&p, &e, 0, NOW, 0, &lim);
    ev_free(&e);
    cwl_plan_free(&p);
}

static void test_sanitized_size_counts_replacements(void **state)
{
    (void)state;
    struct cwl_limits lim;
    cwl_limits_default(&lim);
    struct cwl_plan p;
    cwl_plan_init(&p);
    struct events e = {0};
    /* 262118 raw bytes each, but with invalid bytes they grow when sent: the
     * four no longer fit in one call although their raw sizes do. */
    for (int i = 0; i < 4; i++) {
        char *m = xmalloc(262118);
        memset(m, 'a', 262118);
        m[i * 7] = (char)0x80;
        ev_add(&e, NOW, m, 262118);
        free(m);
    }
    cwl_plan_build(&p, e.ev, e.n, 0, NOW, 0, &lim);
    assert_int_equal(p.items[0].size, 262120);
    assert_int_equal(p.ncalls, 2);
    check_plan(&p, &e, 0, NOW, 0, &lim);
    ev_free(&e);
    cwl_plan_free(&p);
}

static void test_order_stable(void **state)
{
    (void)state;
    struct cwl_limits lim;
    cwl_limits_default(&lim);
    struct cwl_plan p;
    cwl_plan_init(&p);
    struct events e = {0};
    int64_t ts[] = {5, 3, 5, 1, 3, 5, 0, 1};
    for (int i = 0; i < 8; i++) {
        char m[8];
        int n = snprintf(m, sizeof m, "m%d", i);
        ev_add(&e, NOW - 100 + ts[i], m, (size_t)n);
    }
    cwl_plan_build(&p, e.ev, e.n, 0, NOW, 0, &lim);
    uint32_t want[] = {6, 3, 7, 1, 4, 0, 2, 5};
    for (int i = 0; i < 8; i++)
        assert_int_equal(p.items[i].index, want[i]);
    assert_int_equal(p.ncalls, 1);
    check_plan(&p, &e, 0, NOW, 0, &lim);
    ev_free(&e);
    cwl_plan_free(&p);
}

static void test_span_24h(void **state)
{
    (void)state;
    struct cwl_limits lim;
    cwl_limits_default(&lim);
    struct cwl_plan p;
    cwl_plan_init(&p);
    struct events e = {0};
    int64_t t0 = NOW - 3 * AWS_DAY_MS;
    ev_fill(&e, t0, 'a', 1);
    ev_fill(&e, t0 + AWS_DAY_MS - 1, 'b', 1); /* span just under 24 h: same call */
    ev_fill(&e, t0 + AWS_DAY_MS, 'c', 1);     /* exactly 24 h after the first: next call */
    ev_fill(&e, t0 + 2 * AWS_DAY_MS + 5, 'd', 1);
    cwl_plan_build(&p, e.ev, e.n, 0, NOW, 0, &lim);
    assert_int_equal(p.ncalls, 3);
    assert_int_equal(p.calls[0].nsend, 2);
    assert_int_equal(p.calls[1].nsend, 1);
    assert_int_equal(p.calls[2].nsend, 1);
    check_plan(&p, &e, 0, NOW, 0, &lim);
    ev_free(&e);
    cwl_plan_free(&p);
}

static void test_time_window_and_empty(void **state)
{
    (void)state;
    struct cwl_limits lim;
    cwl_limits_default(&lim);
    struct cwl_plan p;
    cwl_plan_init(&p);
    struct events e = {0};
    ev_fill(&e, NOW - AWS_MAX_AGE_MS - 1, 'o', 5);  /* too old */
    ev_fill(&e, NOW - AWS_MAX_AGE_MS, 'k', 5);      /* oldest accepted */
    ev_fill(&e, NOW, 'k', 0);                       /* empty */
    ev_fill(&e, NOW + AWS_MAX_AHEAD_MS, 'k', 5);    /* newest accepted */
    ev_fill(&e, NOW + AWS_MAX_AHEAD_MS + 1, 'n', 5);/* too new */
    ev_fill(&e, -5, 'o', 5);                        /* before the epoch */
    cwl_plan_build(&p, e.ev, e.n, 0, NOW, 0, &lim);
    assert_int_equal(p.ntoo_old, 2);
    assert_int_equal(p.ntoo_new, 1);
    assert_int_equal(p.nempty, 1);
    /* the two accepted are 14 d + 2 h apart: two calls */
    assert_int_equal(p.ncalls, 2);
    check_plan(&p, &e, 0, NOW, 0, &lim);
    /* a known retention of 7 days moves the oldest accepted time */
    cwl_plan_build(&p, e.ev, e.n, 0, NOW, 7, &lim);
    assert_int_equal(p.ntoo_old, 3);
    assert_int_equal(p.ncalls, 1);
    check_plan(&p, &e, 0, NOW, 7, &lim);
    /* a retention longer than 14 days changes nothing */
    cwl_plan_build(&p, e.ev, e.n, 0, NOW, 30, &lim);
    assert_int_equal(p.ntoo_old, 2);
    ev_free(&e);
    cwl_plan_free(&p);
}

static void test_nothing_to_send(void **state)
{
    (void)state;
    struct cwl_limits lim;
    cwl_limits_default(&lim);
    struct cwl_plan p;
    cwl_plan_init(&p);
    struct events e = {0};
    ev_fill(&e, NOW, 'x', 0);
    ev_fill(&e, NOW - 30 * AWS_DAY_MS, 'x', 4);
    cwl_plan_build(&p, e.ev, e.n, 0, NOW, 0, &lim);
    assert_int_equal(p.ncalls, 0);
    assert_int_equal(p.nempty, 1);
    assert_int_equal(p.ntoo_old, 1);
    ev_free(&e);
    cwl_plan_free(&p);
}

static void test_resume_after_accepted_calls(void **state)
{
    (void)state;
    struct cwl_limits lim;
    cwl_limits_default(&lim);
    lim.max_events = 7;
    struct cwl_plan p, q;
    cwl_plan_init(&p);
    cwl_plan_init(&q);
    struct events e = {0};
    for (int i = 0; i < 40; i++)
        ev_fill(&e, NOW - (i * 7919) % 1000, (char)('a' + i % 26), 1 + (size_t)(i % 5));
    cwl_plan_build(&p, e.ev, e.n, 0, NOW, 0, &lim);
    assert_true(p.ncalls >= 6);
    for (uint32_t k = 1; k < p.ncalls; k++) {
        uint32_t done = p.calls[k - 1].end;
        cwl_plan_build(&q, e.ev, e.n, done, NOW, 0, &lim);
        assert_int_equal(q.ncalls, p.ncalls - k);
        for (uint32_t j = 0; j < q.ncalls; j++) {
            assert_int_equal(q.calls[j].begin, p.calls[k + j].begin);
            assert_int_equal(q.calls[j].end, p.calls[k + j].end);
        }
        check_plan(&q, &e, done, NOW, 0, &lim);
    }
    cwl_plan_build(&q, e.ev, e.n, e.n, NOW, 0, &lim);
    assert_int_equal(q.ncalls, 0);
    ev_free(&e);
    cwl_plan_free(&p);
    cwl_plan_free(&q);
}

/* ------------------------------------------------------------- properties */

/* A random message: ASCII, valid multi-byte UTF-8 and invalid bytes mixed. */
static void random_message(struct buf *m, size_t len)
{
    static const char *const pieces[] = {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80",
                                         "\xED\xA0\x80" /* surrogate: invalid */,
                                         "\xC0\xAF" /* overlong: invalid */, "\xFF", "\"",
                                         "\\", "\n"};
    buf_reset(m);
    while (m->len < len) {
        uint32_t r = rnd() % 10;
        if (r < 6)
            buf_append_char(m, (char)('a' + rnd() % 26));
        else
            buf_append_str(m, pieces[rnd() % (sizeof pieces / sizeof pieces[0])]);
    }
    m->len = len; /* may cut a sequence in two: more invalid input */
}

static void test_sanitized_len_matches_escaper(void **state)
{
    (void)state;
    struct buf m;
    buf_init(&m);
    for (int round = 0; round < 2000; round++) {
        random_message(&m, rnd() % 300);
        /* without quotes/backslashes/controls the escaper writes the sent bytes */
        for (size_t i = 0; i < m.len; i++)
            if (m.data[i] == '"' || m.data[i] == '\\' || m.data[i] == '\n')
                m.data[i] = 'q';
        assert_int_equal(cwl_utf8_sanitized_len(m.data, m.len), escaped_len(m.data, m.len));
        size_t limit = rnd() % 400, size;
        size_t cut = cwl_utf8_cut(m.data, m.len, limit, &size);
        assert_true(size <= limit);
        assert_int_equal(size, cwl_utf8_sanitized_len(m.data, cut));
        /* maximal: the next character would not fit */
        if (cut < m.len)
            assert_true(cwl_utf8_sanitized_len(m.data, m.len) > limit);
    }
    buf_free(&m);
}

static void run_random(struct cwl_limits *lim, int rounds, uint32_t max_n, uint32_t max_len)
{
    struct cwl_plan p;
    cwl_plan_init(&p);
    struct buf m;
    buf_init(&m);
    for (int round = 0; round < rounds; round++) {
        struct events e = {0};
        uint32_t n = 1 + rnd() % max_n;
        int64_t base = NOW - (int64_t)(rnd() % (16 * 24)) * HOUR;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t kind = rnd() % 20;
            size_t len = kind == 0 ? 0 : kind == 1 ? max_len + rnd() % max_len : rnd() % max_len;
            random_message(&m, len);
            int64_t ts = base + (int64_t)(rnd() % 2000) * MIN * (rnd() % 4 == 0 ? 1 : 0) +
                         (int64_t)(rnd() % 50);
            if (rnd() % 30 == 0)
                ts = NOW + 3 * HOUR;
            ev_add(&e, ts, m.data, m.len);
        }
        int retention = rnd() % 3 == 0 ? 7 : 0;
        cwl_plan_build(&p, e.ev, e.n, 0, NOW, retention, lim);
        uint32_t sent = check_plan(&p, &e, 0, NOW, retention, lim);
        assert_int_equal(sent + p.nempty + p.ntoo_old + p.ntoo_new, n);
        /* resuming from any accepted call gives the same remaining calls */
        if (p.ncalls > 1) {
            uint32_t k = 1 + rnd() % (p.ncalls - 1);
            struct cwl_plan q;
            cwl_plan_init(&q);
            cwl_plan_build(&q, e.ev, e.n, p.calls[k - 1].end, NOW, retention, lim);
            assert_int_equal(q.ncalls, p.ncalls - k);
            assert_int_equal(q.calls[0].end, p.calls[k].end);
            check_plan(&q, &e, p.calls[k - 1].end, NOW, retention, lim);
            cwl_plan_free(&q);
        }
        ev_free(&e);
    }
    buf_free(&m);
    cwl_plan_free(&p);
}

static void test_random_small_limits(void **state)
{
    (void)state;
    struct cwl_limits lim;
    cwl_limits_default(&lim);
    lim.max_events = 13;
    lim.max_bytes = 3000;
    lim.max_event_bytes = 700;
    lim.max_span_ms = 6 * HOUR;
    run_random(&lim, 400, 300, 500);
}

static void test_random_aws_limits(void **state)
{
    (void)state;
    struct cwl_limits lim;
    cwl_limits_default(&lim);
    run_random(&lim, 12, 4000, 2000);
    /* a few huge events among small ones */
    lim.max_event_bytes = AWS_MAX_EVENT_BYTES;
    run_random(&lim, 3, 6, 700000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_byte_limit),
        cmocka_unit_test(test_event_count_limit),
        cmocka_unit_test(test_single_event_limit),
        cmocka_unit_test(test_truncation_on_character_boundary),
        cmocka_unit_test(test_sanitized_size_counts_replacements),
        cmocka_unit_test(test_order_stable),
        cmocka_unit_test(test_span_24h),
        cmocka_unit_test(test_time_window_and_empty),
        cmocka_unit_test(test_nothing_to_send),
        cmocka_unit_test(test_resume_after_accepted_calls),
        cmocka_unit_test(test_sanitized_len_matches_escaper),
        cmocka_unit_test(test_random_small_limits),
        cmocka_unit_test(test_random_aws_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
