/* Pure helpers for turning raw file bytes into CloudWatch-safe lines:
 * UTF-8 validation and repair, CR stripping, and the long-line policy.
 *
 * Nothing here allocates unless asked to repair: the common case (a valid
 * line) is checked in place and emitted by pointer. */
#ifndef COLLECTOR_LINE_SPLIT_H
#define COLLECTOR_LINE_SPLIT_H

#include <stddef.h>

struct buf;

/* Is [s, s+len) well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF)? */
int utf8_valid(const char *s, size_t len);

/* Append s to out with every byte that is not part of a well-formed UTF-8
 * sequence replaced by U+FFFD (EF BF BD), one per byte, as the JSON escaper
 * in util.c does. */
void utf8_sanitize(struct buf *out, const char *s, size_t len);

/* Length of s without one trailing '\r' (CRLF line endings). */
size_t line_strip_cr(const char *s, size_t len);

/* Largest n <= max such that cutting s at n does not split a UTF-8
 * sequence (when s is valid UTF-8; otherwise max). Used when a long line
 * is cut into pieces so that every piece stays valid. */
size_t utf8_cut(const char *s, size_t len, size_t max);

#endif
