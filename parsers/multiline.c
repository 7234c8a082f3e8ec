#include "parsers/multiline.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

/* Built-in first-line rules. Each says what a continuation is NOT, since
 * stack traces are recognisable by their continuation lines:
 *  java:   "\tat ...", "Caused by: ...", "\t... 5 more", and the
 *          "pkg.SomeException: message" line following the log line.
 *  go:     panic output: "goroutine 1 [running]:", "main.f(...)",
 *          "\t/path/file.go:10 +0x1d", "created by ...", blank lines.
 *  python: "Traceback (most recent call last):", indented frames, the
 *          chained-exception sentences and the final "ValueError: ..." line.
 *  ecs:    the ECS agent (logfmt "level=info time=..." and the older
 *          "2024-01-01T00:00:00Z [INFO] ..." seelog format) and ecs-init:
 *          a record starts with either prefix. */
static const struct {
    const char *name, *regex;
} builtins[] = {
    {"java", "^(?![ \\t]|Caused by:|Suppressed:|\\.\\.\\. \\d+ (more|common frames omitted)|"
             "(?:[\\w$]+\\.)+[\\w$]*(?:Exception|Error|Throwable)(?::|$))"},
    {"go", "^(?![ \\t]|$|goroutine \\d+ \\[|created by |exit status \\d|\\[signal |"
           "[\\w./*()\\-]+\\(.*\\)$)"},
    {"python", "^(?![ \\t]|$|Traceback \\(most recent call last\\):|"
               "During handling of the above exception|The above exception was the direct cause|"
               "[\\w.]*(?:Error|Exception|Warning|Interrupt|Exit|Iteration)\\b(?::|$))"},
    {"ecs", "^(?:level=\\w+ time=|\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2})"},
    {NULL, NULL},
};

const char *ml_builtin(const char *name)
{
    for (int i = 0; builtins[i].name; i++)
        if (strcmp(builtins[i].name, name) == 0)
            return builtins[i].regex;
    return NULL;
}

int ml_rule_init(struct ml_rule *r, const char *regex, char *err, size_t errlen)
{
    int code;
    PCRE2_SIZE off;
    memset(r, 0, sizeof(*r));
    r->start = pcre2_compile((PCRE2_SPTR)regex, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_MATCH_INVALID_UTF,
                             &code, &off, NULL);
    if (!r->start) {
        char msg[160];
        pcre2_get_error_message(code, (PCRE2_UCHAR *)msg, sizeof(msg));
        snprintf(err, errlen, "invalid regex at offset %zu: %s", (size_t)off, msg);
        return -1;
    }
    (void)pcre2_jit_compile(r->start, PCRE2_JIT_COMPLETE); /* optional speed-up */
    r->md = pcre2_match_data_create_from_pattern(r->start, NULL);
    r->mctx = pcre2_match_context_create(NULL);
    if (!r->md || !r->mctx) {
        snprintf(err, errlen, "out of memory");
        ml_rule_free(r);
        return -1;
    }
    pcre2_set_match_limit(r->mctx, ML_MATCH_LIMIT);
    pcre2_set_depth_limit(r->mctx, ML_DEPTH_LIMIT);
    pcre2_set_heap_limit(r->mctx, ML_HEAP_LIMIT);
    return 0;
}

void ml_rule_free(struct ml_rule *r)
{
    if (r->md)
        pcre2_match_data_free(r->md);
    if (r->mctx)
        pcre2_match_context_free(r->mctx);
    r->mctx = NULL;
    if (r->start)
        pcre2_code_free(r->start);
    r->md = NULL;
    r->start = NULL;
}

static _Atomic uint64_t limit_hits;

uint64_t ml_limit_hits(void)
{
    return atomic_load(&limit_hits);
}

int ml_is_start(const struct ml_rule *r, const char *line, size_t len)
{
    int rc = pcre2_match(r->start, (PCRE2_SPTR)line, len, 0, 0, r->md, r->mctx);
    if (rc >= 0)
        return 1;
    if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT) {
        atomic_fetch_add(&limit_hits, 1);
        return -1;
    }
    return 0;
}

void ml_state_init(struct ml_state *st)
{
    memset(st, 0, sizeof(*st));
    buf_init(&st->buf);
}

void ml_state_free(struct ml_state *st)
{
    buf_free(&st->buf);
}

void ml_flush(struct ml_state *st, ml_emit_fn emit, void *arg)
{
    if (st->lines == 0)
        return;
    emit(arg, st->buf.data, st->buf.len, st->end_off);
    st->lines = 0;
    st->sealed = 0;
    /* Keep small capacity for reuse, give back what a huge record took. */
    if (st->buf.cap > 256 * 1024)
        buf_free(&st->buf);
    else
        buf_reset(&st->buf);
}

void ml_discard(struct ml_state *st)
{
    st->lines = 0;
    st->sealed = 0;
    buf_reset(&st->buf);
}

void ml_feed(const struct ml_rule *r, struct ml_state *st, const char *line, size_t len,
             uint64_t end_off, int64_t now_ms, ml_emit_fn emit, void *arg)
{
    int sealed = 0;
    if (st->lines > 0 && st->sealed) {
        ml_flush(st, emit, arg);
    } else if (st->lines > 0) {
        int over = (r->max_lines && st->lines >= r->max_lines) ||
                   (r->max_bytes && st->buf.len + 1 + len > r->max_bytes);
        int start = ml_is_start(r, line, len);
        if (start < 0) {
            /* Undecidable within the limit: neither joined nor lost, a
             * record of its own (sealed: the next line starts another). */
            st->limited++;
            sealed = 1;
            ml_flush(st, emit, arg);
        } else if (start) {
            ml_flush(st, emit, arg);
        } else if (over) {
            st->capped++;
            ml_flush(st, emit, arg);
        } else {
            buf_append_char(&st->buf, '\n');
        }
    }
    buf_append(&st->buf, line, len);
    st->lines++;
    st->sealed = sealed;
    st->last_ms = now_ms;
    st->end_off = end_off;
}

int ml_expired(const struct ml_rule *r, const struct ml_state *st, int64_t now_ms)
{
    return st->lines > 0 && now_ms - st->last_ms >= r->timeout_ms;
}
