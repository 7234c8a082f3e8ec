/* Docker's event stream, held open: see events.h. */
#include "collector/docker/events.h"

#include "collector/core/util.h"
#include "collector/docker/local_http.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONNECT_TIMEOUT_MS 5000
#define MAX_EVENT (1u << 20)     /* one event's JSON; Docker's are ~1 KB */

struct docker_events {
    struct local_http_stream *stream;
    docker_event_fn fn;
    void *arg;
    pthread_t thread;
    _Atomic int ended;
    char why[256];               /* written before ended is set */
};

int docker_events_parse(const char *json, size_t len, docker_event_fn fn, void *arg)
{
    size_t off = 0;
    int n = 0;
    while (off < len) {
        while (off < len && (json[off] == ' ' || json[off] == '\n' || json[off] == '\r' ||
                             json[off] == '\t'))
            off++;
        if (off >= len)
            break;
        json_error_t err;
        json_t *ev = json_loadb(json + off, len - off, JSON_DISABLE_EOF_CHECK, &err);
        if (!ev)
            return n ? n : -1;
        off += (size_t)err.position;
        const char *type = json_string_value(json_object_get(ev, "Type"));
        const char *action = json_string_value(json_object_get(ev, "Action"));
        const char *id = json_string_value(json_object_get(json_object_get(ev, "Actor"), "ID"));
        if (type && strcmp(type, "container") == 0 && action && id) {
            fn(arg, action, id);
            n++;
        }
        json_decref(ev);
    }
    return n;
}

/* Docker ends each event with a newline. */
static void on_line(void *arg, const char *text, size_t len)
{
    struct docker_events *e = arg;
    docker_events_parse(text, len, e->fn, e->arg);
}

static void *run(void *arg)
{
    struct docker_events *e = arg;
    local_http_stream_run(e->stream, e->why, sizeof(e->why));
    atomic_store(&e->ended, 1);
    return NULL;
}

struct docker_events *docker_events_start(const char *unix_socket, int64_t since_ns,
                                          docker_event_fn fn, void *arg)
{
    char url[256];
    /* filters={"type":["container"]} */
    const char *filter = "filters=%7B%22type%22%3A%5B%22container%22%5D%7D";
    if (since_ns > 0)
        snprintf(url, sizeof(url), "http://localhost/events?since=%lld.%09lld&%s",
                 (long long)(since_ns / 1000000000), (long long)(since_ns % 1000000000), filter);
    else
        snprintf(url, sizeof(url), "http://localhost/events?%s", filter);
    struct docker_events *e = xcalloc(1, sizeof(*e));
    e->fn = fn;
    e->arg = arg;
    e->stream = local_http_stream_new(unix_socket, url, CONNECT_TIMEOUT_MS, MAX_EVENT, on_line, e);
    if (!e->stream || pthread_create(&e->thread, NULL, run, e) != 0) {
        local_http_stream_free(e->stream);
        free(e);
        return NULL;
    }
    return e;
}

int docker_events_ended(struct docker_events *e, char *why, size_t whylen)
{
    if (!atomic_load(&e->ended))
        return 0;
    snprintf(why, whylen, "%s", e->why);
    return 1;
}

void docker_events_stop(struct docker_events *e)
{
    if (!e)
        return;
    local_http_stream_stop(e->stream);
    pthread_join(e->thread, NULL);
    local_http_stream_free(e->stream);
    free(e);
}
