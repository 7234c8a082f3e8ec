/* The Docker Engine API's event stream, held open: GET /events on the unix
 * socket, read as it comes on a thread of its own. Docker writes one JSON
 * object per event and keeps the response open until it stops; each
 * container event is handed to fn(arg, action, id) on that thread.
 *
 * The stream ends when dockerd stops or restarts (or answers with an
 * error): docker_events_ended() then says so and why, and the owner starts
 * a new one (after relisting, with `since` a little before the end, so that
 * nothing falls between). docker_events_stop() ends it at once: it shuts
 * the socket down. */
#ifndef COLLECTOR_DOCKER_EVENTS_H
#define COLLECTOR_DOCKER_EVENTS_H

#include <stddef.h>
#include <stdint.h>

struct docker_events;

typedef void (*docker_event_fn)(void *arg, const char *action, const char *id);

/* Follow container events from since_ns (wall clock ns; 0 = from now).
 * NULL if the thread cannot be started. */
struct docker_events *docker_events_start(const char *unix_socket, int64_t since_ns,
                                          docker_event_fn fn, void *arg);
/* 1 once the stream is over (why in why[]), 0 while it is open. */
int docker_events_ended(struct docker_events *e, char *why, size_t whylen);
/* Ends the stream, joins its thread and frees e. */
void docker_events_stop(struct docker_events *e);

/* Docker events text (JSON objects one after another): fn(arg, action,
 * container id) for each container event. Number of events, or -1 when
 * the text starts with something else. Pure. */
int docker_events_parse(const char *json, size_t len, docker_event_fn fn, void *arg);

#endif
