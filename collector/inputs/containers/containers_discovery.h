/* Container discovery for the containers input, on a thread of its own (it
 * does blocking HTTP: the Docker Engine API on its unix socket, the ECS
 * agent's introspection API), never on the loop.
 *
 * At start and after every reconnection it lists every container (GET
 * /containers/json?all=1) and inspects each; then it follows the event
 * stream, GET /events held open (docker_events.h: start, die, destroy,
 * rename), from a little before the list (a window that overlaps: the
 * handling is idempotent). When the stream ends (dockerd restarted) it
 * relists and follows a new one; a relist every 30 s is the safety net. When
 * the socket cannot be reached it says so once, retries with backoff (1 s
 * doubling to 30 s), and meanwhile reads <docker_root>/containers/<id>/
 * config.v2.json for the containers the loop asks about (the fallback).
 *
 * The loop side never blocks: cd_get() copies what is known (or asks for
 * it, answered on the next pass), cd_take_changes() hands over what changed.
 * The thread tells the loop through a loop_async when there is something
 * to take (a change, or the first pass being over): no polling. */
#ifndef COLLECTOR_CONTAINERS_DISCOVERY_H
#define COLLECTOR_CONTAINERS_DISCOVERY_H

#include "collector/inputs/containers/containers_meta.h"
#include "collector/loop.h"

#include <stdint.h>

struct cdisc_conf {
    const char *docker_socket;     /* "" = no API: files only */
    const char *docker_root;
    const char *introspection_url; /* "" = none */
    int64_t introspection_refresh_ms;
    const char *name;              /* the input's, for log lines */
};

enum cd_change { CD_UPDATED = 1, CD_DIED, CD_DESTROYED };

struct cdisc;

struct cdisc *cd_new(const struct cdisc_conf *conf);
/* Starts the thread; news(loop, arg) then runs on the loop thread when
 * changes wait to be taken or the first pass is over. 0 or -1. */
int cd_start(struct cdisc *d, struct loop *loop, loop_fn news, void *arg);
void cd_free(struct cdisc *d);      /* stops and joins the thread (loop thread) */

/* Loop side. 1 with a copy in *out, 0 if not known yet (it is looked up),
 * -1 if it does not exist. */
int cd_get(struct cdisc *d, const char *id, struct ctr_info *out);
/* fn(id, change) for every change since the last call; returns how many. */
int cd_take_changes(struct cdisc *d, void (*fn)(void *arg, const char *id, enum cd_change c),
                    void *arg);
int cd_connected(struct cdisc *d);
/* Has the first pass (list and inspect, or the directory scan) finished? */
int cd_ready(struct cdisc *d);
/* Containers known. */
int cd_count(struct cdisc *d);

#endif
