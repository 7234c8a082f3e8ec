/* Rejoining partial lines: Docker (json-file, 16 KB pieces without the
 * trailing newline) and CRI ("P" pieces) split long lines; the pieces of
 * one line are consecutive within one (container, stream), possibly across
 * a file rotation, so the caller keeps one pj_state per (container, stream).
 *
 * pj_feed() takes a piece: a partial one is appended (up to cap bytes; the
 * rest is dropped and the line counted as truncated) and nothing is
 * returned yet; a final one completes the line. A final piece with nothing
 * pending is returned as is (no copy: the common case). Pure. */
#ifndef COLLECTOR_PARSERS_PARTIAL_JOIN_H
#define COLLECTOR_PARSERS_PARTIAL_JOIN_H

#include "collector/core/util.h"

#include <stddef.h>
#include <stdint.h>

struct pj_state {
    struct buf buf;         /* the pieces so far */
    uint32_t pieces;        /* 0 = nothing pending */
    int truncated;          /* the pending line hit the cap */
    int64_t first_time_ns;  /* timestamp of the first piece */
    uint64_t truncated_lines;
};

void pj_init(struct pj_state *st);
void pj_free(struct pj_state *st);

/* Returns 1 with the whole line in *out / *out_len (valid until the next
 * call), its first piece's time in *time_ns (the piece's own time if it is
 * whole) and whether it was cut in *truncated; 0 while pieces are pending. */
int pj_feed(struct pj_state *st, size_t cap, const char *piece, size_t len, int partial,
            int64_t time_ns, const char **out, size_t *out_len, int64_t *out_time_ns,
            int *truncated);

/* Emit what is pending (the source ended mid-line): 1 with the line, or 0. */
int pj_flush(struct pj_state *st, const char **out, size_t *out_len, int64_t *out_time_ns);

#endif
