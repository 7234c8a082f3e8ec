/* Acknowledgement tracking for one input.
 *
 * Every record an input emits gets the next sequence number and a count of
 * the outputs it was routed to. Outputs finish batches in any order; when a
 * record's count reaches zero it is done, and done records are released to
 * the input strictly in sequence order, so the input never commits a file
 * offset past a record that is still in flight.
 *
 * Memory layout: a ring buffer of fixed-size entries indexed by
 * (seq - head_seq); it doubles when full and never shrinks below its peak,
 * so the steady state allocates nothing. Pure logic: no I/O, no threads. */
#ifndef COLLECTOR_ACK_H
#define COLLECTOR_ACK_H

#include <stdint.h>

struct ack_tracker;

struct ack_tracker *ack_tracker_new(void);
void ack_tracker_free(struct ack_tracker *t);

/* Add a record routed to `refs` outputs (0: nothing to wait for). bytes is
 * what it counts against the input's memory limit. Returns its sequence. */
uint64_t ack_tracker_push(struct ack_tracker *t, uint32_t refs, uint32_t bytes,
                          uint64_t cookie_a, uint64_t cookie_b);

/* One output is done with record seq. */
void ack_tracker_done(struct ack_tracker *t, uint64_t seq);

/* Take the oldest record if it is done. Returns 1 and its cookie, or 0. */
int ack_tracker_pop(struct ack_tracker *t, uint64_t *cookie_a, uint64_t *cookie_b);

uint64_t ack_tracker_pending(const struct ack_tracker *t);   /* records not popped */
uint64_t ack_tracker_bytes(const struct ack_tracker *t);     /* their bytes */

#endif
