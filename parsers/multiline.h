/* Multiline records: consecutive lines joined into one record.
 *
 * A record starts with a line matching the rule's first-line regex; every
 * following line that does not match is appended (joined with '\n'). The
 * pending record is emitted when the next first line arrives, when the
 * caps (lines, bytes) would be exceeded, when it has waited `timeout_ms`
 * for another line (ml_expired + ml_flush, driven by the caller's timer),
 * or at the end of the source.
 *
 * Pure: no I/O, no clock; the caller passes the time. Lines that arrive
 * with nothing pending and do not match start a record anyway, so nothing
 * is ever dropped. */
#ifndef COLLECTOR_MULTILINE_H
#define COLLECTOR_MULTILINE_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "collector/core/util.h"

#include <stddef.h>
#include <stdint.h>

/* Every match is bounded: a regex that backtracks catastrophically on a line
 * (a label's `^(a|aa)+$` on "aaaa...b") gives up after this much work and
 * the line is kept as a record of its own (ml_feed; counted). */
#define ML_MATCH_LIMIT 10000u   /* backtracking steps (also bounds JIT matching) */
#define ML_DEPTH_LIMIT 1000u     /* nested backtracking frames (the interpreter) */
#define ML_HEAP_LIMIT 1024u      /* KiB of backtracking memory */

struct ml_rule {
    pcre2_code *start;
    pcre2_match_data *md;
    pcre2_match_context *mctx;  /* the limits above */
    int64_t timeout_ms;
    uint32_t max_lines;   /* 0 = no cap */
    size_t max_bytes;     /* 0 = no cap */
};

struct ml_state {
    struct buf buf;       /* the pending record */
    uint32_t lines;       /* lines in it; 0 = nothing pending */
    int sealed;           /* it is a line the regex gave up on: nothing joins it */
    int64_t last_ms;      /* when its last line arrived */
    uint64_t end_off;     /* source position just past its last line */
    uint64_t capped;      /* records cut by a cap */
    uint64_t limited;     /* lines whose match gave up at the limit (kept as their own record) */
};

/* The regex of a built-in rule: "java", "go", "python", "ecs" (the ECS
 * agent and ecs-init), or NULL if there is no such name. */
const char *ml_builtin(const char *name);

/* Compile regex; on error returns -1 with a message (naming the offset) in err. */
int ml_rule_init(struct ml_rule *r, const char *regex, char *err, size_t errlen);
void ml_rule_free(struct ml_rule *r);
/* 1: the line starts a record; 0: it does not; -1: the match gave up at a
 * limit (also counted in ml_limit_hits()). */
int ml_is_start(const struct ml_rule *r, const char *line, size_t len);
/* Matches that gave up at a limit, in this process (every rule): for the
 * agent's metrics. */
uint64_t ml_limit_hits(void);

typedef void (*ml_emit_fn)(void *arg, const char *msg, size_t len, uint64_t end_off);

void ml_state_init(struct ml_state *st);
void ml_state_free(struct ml_state *st);

/* Feed one line (without its newline) ending at source offset end_off. A
 * line whose match gives up at a limit is a record of its own (what was
 * pending is emitted, nothing is joined to it), counted in st->limited. */
void ml_feed(const struct ml_rule *r, struct ml_state *st, const char *line, size_t len,
             uint64_t end_off, int64_t now_ms, ml_emit_fn emit, void *arg);
/* Emit what is pending, if anything. */
void ml_flush(struct ml_state *st, ml_emit_fn emit, void *arg);
/* Has the pending record waited longer than the rule's timeout? */
int ml_expired(const struct ml_rule *r, const struct ml_state *st, int64_t now_ms);
/* Drop what is pending (the source was truncated under it). */
void ml_discard(struct ml_state *st);

#endif
