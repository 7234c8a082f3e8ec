/* Rejoining partial lines: see partial_join.h. */
#include "parsers/partial_join.h"

#include <string.h>

void pj_init(struct pj_state *st)
{
    memset(st, 0, sizeof(*st));
    buf_init(&st->buf);
}

void pj_free(struct pj_state *st)
{
    buf_free(&st->buf);
}

static void append_capped(struct pj_state *st, size_t cap, const char *piece, size_t len)
{
    size_t room = st->buf.len < cap ? cap - st->buf.len : 0;
    if (len > room) {
        if (!st->truncated)
            st->truncated_lines++;
        st->truncated = 1;
        len = room;
    }
    buf_append(&st->buf, piece, len);
}

int pj_feed(struct pj_state *st, size_t cap, const char *piece, size_t len, int partial,
            int64_t time_ns, const char **out, size_t *out_len, int64_t *out_time_ns,
            int *truncated)
{
    if (!partial && st->pieces == 0) {
        *truncated = 0;
        if (len > cap) {
            st->truncated_lines++;
            *truncated = 1;
            len = cap;
        }
        *out = piece;
        *out_len = len;
        *out_time_ns = time_ns;
        return 1;
    }
    if (st->pieces == 0) {
        buf_reset(&st->buf);
        st->truncated = 0;
        st->first_time_ns = time_ns;
    }
    st->pieces++;
    append_capped(st, cap, piece, len);
    if (partial)
        return 0;
    *out = st->buf.data;
    *out_len = st->buf.len;
    *out_time_ns = st->first_time_ns;
    *truncated = st->truncated;
    st->pieces = 0;
    return 1;
}

int pj_flush(struct pj_state *st, const char **out, size_t *out_len, int64_t *out_time_ns)
{
    if (st->pieces == 0)
        return 0;
    *out = st->buf.data;
    *out_len = st->buf.len;
    *out_time_ns = st->first_time_ns;
    st->pieces = 0;
    return 1;
}
