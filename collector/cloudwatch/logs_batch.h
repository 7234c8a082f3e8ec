/* The PutLogEvents batcher: pure rules, no I/O.
 *
 * Input: the events of one pipeline batch (timestamp in ms, message bytes as
 * read, possibly invalid UTF-8), the wall clock and the group's retention
 * when known. Output: a plan, that is the events in send order (stable sort
 * by timestamp), the fate of each (sent, empty, too old, too new), the bytes
 * of each message that are sent (an oversize message is cut on a character
 * boundary and a marker appended), and the list of PutLogEvents calls, each
 * a contiguous range of the sorted events that respects every AWS rule:
 *
 *   - at most 10,000 events and 1,048,576 bytes, counted as AWS counts:
 *     UTF-8 bytes of the message *as sent* (an invalid byte is sent as
 *     U+FFFD, 3 bytes) + 26 per event;
 *   - one event at most max_event_bytes (1,048,550: 1 MiB - 26);
 *   - chronological order, and a span (last - first) below 24 h;
 *   - no event older than now - 14 days (or the retention) or newer than
 *     now + 2 h, and no empty message.
 *
 * Calls cover the sorted events from `start` to the end without gaps:
 * events that are not sent belong to the call around them, so a caller that
 * delivered calls 0..k can record "sorted position calls[k].end is done" and
 * plan again from there on a retry (the sort is deterministic), never
 * resending an accepted call.
 *
 * Memory: the plan's arrays are reused from one batch to the next; nothing
 * is allocated per event once they have grown. */
#ifndef COLLECTOR_CWL_LOGS_BATCH_H
#define COLLECTOR_CWL_LOGS_BATCH_H

#include <stddef.h>
#include <stdint.h>

#define CWL_MAX_EVENTS 10000u
#define CWL_MAX_BATCH_BYTES 1048576u
#define CWL_EVENT_OVERHEAD 26u
#define CWL_MAX_EVENT_BYTES (CWL_MAX_BATCH_BYTES - CWL_EVENT_OVERHEAD)
#define CWL_DAY_MS 86400000LL
#define CWL_MAX_SPAN_MS CWL_DAY_MS
#define CWL_MAX_AGE_MS (14 * CWL_DAY_MS)
#define CWL_MAX_AHEAD_MS (2 * 3600000LL)

struct cwl_event_in {
    int64_t timestamp_ms;
    const char *msg;
    uint32_t len;
};

enum cwl_fate {
    CWL_SEND = 0,
    CWL_EMPTY,      /* empty message: AWS rejects it */
    CWL_TOO_OLD,    /* before now - 14 days, or before the retention */
    CWL_TOO_NEW,    /* after now + 2 h */
};

struct cwl_item {
    uint32_t index;       /* position in the caller's event array */
    uint32_t send_len;    /* bytes of msg that are sent (< len when truncated) */
    uint32_t size;        /* bytes AWS counts for the message as sent (marker included) */
    uint8_t fate;         /* enum cwl_fate */
    uint8_t truncated;    /* the marker is appended after send_len bytes */
};

struct cwl_call {
    uint32_t begin, end;  /* range of plan items [begin, end) */
    uint32_t nsend;       /* items in the range that are sent (>= 1) */
    uint32_t bytes;       /* AWS-counted payload: sum(size + 26) */
};

struct cwl_limits {
    uint32_t max_events;      /* <= CWL_MAX_EVENTS */
    uint32_t max_bytes;       /* <= CWL_MAX_BATCH_BYTES */
    uint32_t max_event_bytes; /* <= CWL_MAX_EVENT_BYTES */
    uint32_t marker_size;     /* UTF-8 bytes of the truncation marker (valid UTF-8) */
    int64_t max_span_ms;      /* a call spans strictly less than this */
};

/* AWS's own limits (marker "[Truncated...]"). */
void cwl_limits_default(struct cwl_limits *lim);

struct cwl_plan {
    struct cwl_item *items;   /* sorted; items[start..n) are planned */
    uint32_t nitems;
    struct cwl_call *calls;
    uint32_t ncalls;
    /* Items of [start, n) by fate, and truncations among the sent ones. */
    uint32_t nempty, ntoo_old, ntoo_new, ntruncated;
    /* Reused storage. */
    uint32_t items_cap, calls_cap;
    struct cwl_item *tmp;
    uint32_t tmp_cap;
};

void cwl_plan_init(struct cwl_plan *p);
void cwl_plan_free(struct cwl_plan *p);

/* Plan the sending of ev[0..n) from sorted position `start` (0 the first
 * time). retention_days <= 0: unknown. */
void cwl_plan_build(struct cwl_plan *p, const struct cwl_event_in *ev, uint32_t n, uint32_t start,
                    int64_t now_ms, int retention_days, const struct cwl_limits *lim);

/* The bytes AWS counts for msg once invalid UTF-8 is replaced (3 per bad
 * byte, as buf_append_json_escaped does). */
size_t cwl_utf8_sanitized_len(const char *msg, size_t len);

/* The longest prefix of msg, on a character boundary, whose sanitized size
 * is at most limit; its sanitized size in *size. */
size_t cwl_utf8_cut(const char *msg, size_t len, size_t limit, size_t *size);

/* Counts of the events a call's range holds, by fate. */
void cwl_call_fates(const struct cwl_plan *p, const struct cwl_call *c, uint32_t *empty,
                    uint32_t *too_old, uint32_t *too_new, uint32_t *truncated);

#endif
