#include "collector/inputs/journald/journald_filter.h"
#include "collector/core/options.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const priority_names[8] = {
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
};

int jd_priority_parse(const char *text)
{
    if (!text)
        return -1;
    if (text[0] >= '0' && text[0] <= '7' && text[1] == '\0')
        return text[0] - '0';
    for (int i = 0; i < 8; i++)
        if (strcasecmp(text, priority_names[i]) == 0)
            return i;
    if (strcasecmp(text, "error") == 0)
        return 3;
    if (strcasecmp(text, "warn") == 0)
        return 4;
    return -1;
}

int jd_priority_value(const char *value, size_t len)
{
    if (value && len == 1 && value[0] >= '0' && value[0] <= '7')
        return value[0] - '0';
    return 6;
}

/* fnmatch() wants a C string: values longer than a unit name can be are
 * cut (they then match only a glob that allows any tail). */
static int list_matches(const struct strlist *globs, const char *value, size_t len)
{
    if (!value)
        return 0;
    char text[512];
    if (len >= sizeof text)
        len = sizeof text - 1;
    memcpy(text, value, len);
    text[len] = '\0';
    for (int i = 0; i < globs->count; i++)
        if (fnmatch(globs->items[i], text, 0) == 0)
            return 1;
    return 0;
}

int jd_filter_keep(const struct jd_filter *f, const char *unit, size_t unit_len,
                   const char *identifier, size_t identifier_len, int priority)
{
    if (priority > f->max_priority)
        return 0;
    int have_units = f->units && f->units->count > 0;
    int have_idents = f->identifiers && f->identifiers->count > 0;
    if (!have_units && !have_idents)
        return 1;
    if (have_units && list_matches(f->units, unit, unit_len))
        return 1;
    return have_idents && list_matches(f->identifiers, identifier, identifier_len);
}

int jd_field_split(const void *data, size_t len, const char *name, const char **value,
                   size_t *value_len)
{
    size_t nlen = strlen(name);
    const char *d = data;
    if (len <= nlen || memcmp(d, name, nlen) != 0 || d[nlen] != '=')
        return 0;
    *value = d + nlen + 1;
    *value_len = len - nlen - 1;
    return 1;
}

void jd_cursors_init(struct jd_cursors *q)
{
    memset(q, 0, sizeof *q);
    buf_init(&q->arena);
    buf_init(&q->committed);
}

void jd_cursors_free(struct jd_cursors *q)
{
    buf_free(&q->arena);
    free(q->items);
    buf_free(&q->committed);
    memset(q, 0, sizeof *q);
}

/* Drop what was acknowledged from the front of items and arena. */
static void compact(struct jd_cursors *q)
{
    if (q->head == q->tail) {
        q->head = q->tail = 0;
        buf_reset(&q->arena);
        return;
    }
    uint32_t base = q->items[q->head].off;
    size_t n = q->tail - q->head;
    memmove(q->items, q->items + q->head, n * sizeof *q->items);
    for (size_t i = 0; i < n; i++)
        q->items[i].off -= base;
    memmove(q->arena.data, q->arena.data + base, q->arena.len - base);
    q->arena.len -= base;
    q->head = 0;
    q->tail = n;
}

void jd_cursors_push(struct jd_cursors *q, uint64_t seq, const char *cursor)
{
    if (q->tail == q->cap) {
        if (q->head > 0)
            compact(q);
        if (q->tail == q->cap) {
            q->cap = q->cap ? q->cap * 2 : 256;
            q->items = xrealloc(q->items, q->cap * sizeof *q->items);
        }
    }
    q->items[q->tail].seq = seq;
    q->items[q->tail].off = (uint32_t)q->arena.len;
    q->tail++;
    buf_append(&q->arena, cursor, strlen(cursor) + 1);
}

int jd_cursors_ack(struct jd_cursors *q, uint64_t seq)
{
    const char *newest = NULL;
    while (q->head < q->tail && q->items[q->head].seq <= seq) {
        newest = q->arena.data + q->items[q->head].off;
        q->head++;
    }
    if (!newest)
        return 0;
    buf_reset(&q->committed);
    buf_append_str(&q->committed, newest);
    if (q->head == q->tail)
        compact(q);
    return 1;
}

size_t jd_cursors_pending(const struct jd_cursors *q)
{
    return q->tail - q->head;
}

const char *jd_cursors_newest(const struct jd_cursors *q)
{
    if (q->tail > q->head)
        return q->arena.data + q->items[q->tail - 1].off;
    return q->committed.len ? q->committed.data : NULL;
}
