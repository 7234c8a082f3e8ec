/* Allocation-free JSON scanning primitives shared by the parsers that read
 * JSON text in place (docker_json, fields): skip whitespace, decode a
 * string into a caller's buffer, skip any value. */
#ifndef COLLECTOR_PARSERS_JSON_SCAN_H
#define COLLECTOR_PARSERS_JSON_SCAN_H

#include <stddef.h>

const char *js_skip_ws(const char *p, const char *end);

/* Decode the JSON string starting after its opening quote into *o
 * (advanced; a decoded string is never longer than its escaped form).
 * Returns the position after the closing quote, or NULL if malformed. */
const char *js_string(const char *p, const char *end, char **o);

/* Skip one JSON value starting at p; returns the position after it (at the
 * ',' or closing bracket that follows), or NULL if malformed. */
const char *js_skip_value(const char *p, const char *end);

/* One member of an object: the key (decoded), the value (a string decoded,
 * anything else as written, whitespace trimmed). */
typedef void (*js_member_fn)(void *arg, const char *key, size_t key_len, const char *value,
                             size_t value_len, int is_string);

/* Walk the object at p (its '{'): fn for each member, strings decoded into
 * *o (advanced). Returns the position after its '}', or NULL if malformed. */
const char *js_object(const char *p, const char *end, char **o, js_member_fn fn, void *arg);

#endif
