/* Docker's event stream, held open: see docker_events.h. */
#include "collector/inputs/docker_events.h"

#include "collector/core/util.h"
#include "collector/inputs/containers_meta.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONNECT_TIMEOUT_MS 5000
#define MAX_EVENT (1u << 20)     /* one event's JSON; Docker's are ~1 KB */

struct docker_events {
    char *socket;
    char url[256];
    de_event_fn fn;
    void *arg;
    pthread_t thread;

    pthread_mutex_t lock;        /* guards fd against de_stop's shutdown */
    int fd;                      /* the stream's socket, -1 before/after */
    _Atomic int stop;
    _Atomic int ended;
    char why[256];               /* written before ended is set */

    struct buf pending;          /* stream thread: bytes of an event not complete yet */
    long status;
};

static curl_socket_t open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *addr)
{
    struct docker_events *e = arg;
    (void)purpose;
    int fd = socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
    pthread_mutex_lock(&e->lock);
    e->fd = fd;
    if (fd >= 0 && atomic_load(&e->stop))
        shutdown(fd, SHUT_RDWR);
    pthread_mutex_unlock(&e->lock);
    return fd >= 0 ? fd : CURL_SOCKET_BAD;
}

static int close_socket(void *arg, curl_socket_t fd)
{
    struct docker_events *e = arg;
    pthread_mutex_lock(&e->lock);
    if (e->fd == fd)
        e->fd = -1;
    pthread_mutex_unlock(&e->lock);
    return close(fd);
}

/* Hand over every complete event (Docker ends each with a newline). */
static size_t on_data(char *ptr, size_t size, size_t n, void *arg)
{
    struct docker_events *e = arg;
    size_t len = size * n;
    buf_append(&e->pending, ptr, len);
    if (e->status != 200) {
        if (e->pending.len > 4096)
            e->pending.len = 4096; /* an error's body: kept for the message */
        return len;
    }
    char *start = e->pending.data;
    char *end = start + e->pending.len;
    char *nl;
    while ((nl = memchr(start, '\n', (size_t)(end - start))) != NULL) {
        cm_parse_events(start, (size_t)(nl - start), e->fn, e->arg);
        start = nl + 1;
    }
    size_t rest = (size_t)(end - start);
    if (rest > MAX_EVENT)
        rest = 0; /* not Docker's events: drop it rather than grow */
    memmove(e->pending.data, start, rest);
    e->pending.len = rest;
    return atomic_load(&e->stop) ? 0 : len;
}

static size_t on_header(char *ptr, size_t size, size_t n, void *arg)
{
    struct docker_events *e = arg;
    size_t len = size * n;
    /* "HTTP/1.1 200 OK": the status line tells whether the body is events. */
    if (len > 12 && strncmp(ptr, "HTTP/", 5) == 0) {
        const char *sp = memchr(ptr, ' ', len);
        e->status = sp ? strtol(sp + 1, NULL, 10) : 0;
    }
    return len;
}

static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    struct docker_events *e = arg;
    (void)dt, (void)dn, (void)ut, (void)un;
    return atomic_load(&e->stop) ? 1 : 0;
}

static void *run(void *arg)
{
    struct docker_events *e = arg;
    CURL *h = curl_easy_init();
    CURLcode rc = CURLE_FAILED_INIT;
    if (h) {
        curl_easy_setopt(h, CURLOPT_URL, e->url);
        curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, e->socket);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
        curl_easy_setopt(h, CURLOPT_PROXY, "");
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http");
        curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
        curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, e);
        curl_easy_setopt(h, CURLOPT_CLOSESOCKETFUNCTION, close_socket);
        curl_easy_setopt(h, CURLOPT_CLOSESOCKETDATA, e);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, e);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, e);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, e);
        rc = curl_easy_perform(h);
        curl_easy_cleanup(h);
    }
    if (e->status && e->status != 200)
        snprintf(e->why, sizeof(e->why), "status %ld: %.*s", e->status,
                 (int)(e->pending.len < 200 ? e->pending.len : 200), e->pending.data);
    else if (rc != CURLE_OK)
        snprintf(e->why, sizeof(e->why), "%s", curl_easy_strerror(rc));
    else
        snprintf(e->why, sizeof(e->why), "the stream was closed");
    atomic_store(&e->ended, 1);
    return NULL;
}

struct docker_events *de_start(const char *unix_socket, int64_t since_ns, de_event_fn fn,
                               void *arg)
{
    struct docker_events *e = xcalloc(1, sizeof(*e));
    e->socket = xstrdup(unix_socket);
    e->fn = fn;
    e->arg = arg;
    e->fd = -1;
    buf_init(&e->pending);
    pthread_mutex_init(&e->lock, NULL);
    /* filters={"type":["container"]} */
    const char *filter = "filters=%7B%22type%22%3A%5B%22container%22%5D%7D";
    if (since_ns > 0)
        snprintf(e->url, sizeof(e->url), "http://localhost/events?since=%lld.%09lld&%s",
                 (long long)(since_ns / 1000000000), (long long)(since_ns % 1000000000), filter);
    else
        snprintf(e->url, sizeof(e->url), "http://localhost/events?%s", filter);
    if (pthread_create(&e->thread, NULL, run, e) != 0) {
        pthread_mutex_destroy(&e->lock);
        buf_free(&e->pending);
        free(e->socket);
        free(e);
        return NULL;
    }
    return e;
}

int de_ended(struct docker_events *e, char *why, size_t whylen)
{
    if (!atomic_load(&e->ended))
        return 0;
    snprintf(why, whylen, "%s", e->why);
    return 1;
}

void de_stop(struct docker_events *e)
{
    if (!e)
        return;
    atomic_store(&e->stop, 1);
    pthread_mutex_lock(&e->lock);
    if (e->fd >= 0)
        shutdown(e->fd, SHUT_RDWR); /* curl sees the end at once */
    pthread_mutex_unlock(&e->lock);
    pthread_join(e->thread, NULL);
    pthread_mutex_destroy(&e->lock);
    buf_free(&e->pending);
    free(e->socket);
    free(e);
}
