/* Small helpers used everywhere: allocation that aborts on OOM, clocks,
 * duration and size parsing, growable byte buffers. */
#ifndef COLLECTOR_UTIL_H
#define COLLECTOR_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Allocation failure is not recoverable for an agent with bounded buffers:
 * these abort with a message instead of returning NULL. */
void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int64_t now_ms(void);        /* wall clock, ms since the epoch */
int64_t now_ns(void);        /* wall clock, ns since the epoch */
int64_t mono_ms(void);       /* monotonic clock, ms */
int64_t mono_ns(void);       /* monotonic clock, ns */

/* "500ms", "5s", "2m", "1h", "1d", plain "30" = seconds. Returns 0 or -1. */
int parse_duration_ms(const char *text, int64_t *out_ms);
/* "64KiB", "8MiB", "1GiB", "10MB", "512k", plain bytes. Returns 0 or -1. */
int parse_size(const char *text, uint64_t *out_bytes);
/* "true|false|yes|no|on|off|1|0". Returns 0 or -1. */
int parse_bool(const char *text, int *out);

/* A growable byte buffer. len excludes the NUL that is always kept after data. */
struct buf {
    char *data;
    size_t len;
    size_t cap;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *data, size_t len);
void buf_append_str(struct buf *b, const char *s);
void buf_append_char(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s as the inside of a JSON string (quotes not added). Bytes that are
 * not valid UTF-8 become U+FFFD, so the output is always valid JSON. */
void buf_append_json_escaped(struct buf *b, const char *s, size_t len);

/* Length of the well-formed UTF-8 sequence at p: 1 for ASCII, 2..4, or 0 if
 * the bytes there are not one (overlongs, surrogates and code points above
 * U+10FFFF are not). The one definition of "valid UTF-8" in the agent: the
 * JSON escaper, the tail input's repair and CloudWatch's size counting agree. */
size_t utf8_seq_len(const unsigned char *p, size_t avail);

/* Write all of data to fd, retrying on EINTR/short writes. 0 or -1 (errno). */
int write_all(int fd, const void *data, size_t len);
/* Create dir and its parents (mode 0755). 0 or -1 (errno). */
int mkdir_p(const char *path);

/* 64-bit FNV-1a of n bytes: hash tables' keys (not for anything an attacker
 * must not be able to collide: the tables stay bounded either way). */
uint64_t hash_fnv1a(const void *data, size_t n);

#endif
