/* The pure parts of the journald input: which entries are kept, how a
 * journal field's "NAME=value" data is split, and the queue of cursors
 * waiting for acknowledgement. No libsystemd here, so all of it is
 * unit-tested without journal files (tests/unit/test_journald_filter.c). */
#ifndef COLLECTOR_JOURNALD_FILTER_H
#define COLLECTOR_JOURNALD_FILTER_H

#include "collector/core/util.h"

#include <stddef.h>
#include <stdint.h>

struct strlist;

/* A syslog priority by name (emerg alert crit err warning notice info
 * debug, also "error", "warn") or number 0..7; -1 if neither. */
int jd_priority_parse(const char *text);

/* The entry's PRIORITY value ("0".."7"); an entry without one (or with
 * anything else) counts as info (6), which is what journald assumes for
 * a service's standard output. */
int jd_priority_value(const char *value, size_t len);

struct jd_filter {
    const struct strlist *units;        /* _SYSTEMD_UNIT globs (fnmatch); NULL/empty: any */
    const struct strlist *identifiers;  /* SYSLOG_IDENTIFIER globs */
    int max_priority;                   /* keep PRIORITY <= this */
};

/* Is an entry with these values kept? Values are not NUL-terminated (NULL:
 * the entry has no such field). When both lists are set an entry matching
 * one of either is kept (units = docker.service with identifiers = kernel
 * takes both); an empty list takes everything only when the other is empty
 * too. The priority applies on top. */
int jd_filter_keep(const struct jd_filter *f, const char *unit, size_t unit_len,
                   const char *identifier, size_t identifier_len, int priority);

/* data is one field as sd_journal_get_data() gives it ("NAME=value", not
 * NUL-terminated, maybe binary). If its name is `name`, point *value at
 * the value and return 1; else 0. */
int jd_field_split(const void *data, size_t len, const char *name, const char **value,
                   size_t *value_len);

/* Cursors of emitted entries in emission order, each with the sequence
 * number the input gave the record; acknowledgement pops them in the same
 * order and leaves the newest acknowledged cursor in `committed`. One
 * arena of bytes, compacted as it drains: no allocation per entry once warm. */
struct jd_cursors {
    struct buf arena;          /* the cursors' bytes, NUL-terminated each */
    struct jd_pending {
        uint64_t seq;
        uint32_t off;
    } *items;
    size_t head, tail, cap;    /* items[head..tail) are pending */
    struct buf committed;      /* newest acknowledged cursor, NUL-terminated; len 0: none */
};

void jd_cursors_init(struct jd_cursors *q);
void jd_cursors_free(struct jd_cursors *q);
void jd_cursors_push(struct jd_cursors *q, uint64_t seq, const char *cursor);
/* Every pending cursor with a sequence number <= seq is acknowledged.
 * Returns 1 if `committed` changed. */
int jd_cursors_ack(struct jd_cursors *q, uint64_t seq);
size_t jd_cursors_pending(const struct jd_cursors *q);
/* The cursor of the newest entry pushed (pending or acknowledged), or NULL. */
const char *jd_cursors_newest(const struct jd_cursors *q);

#endif
