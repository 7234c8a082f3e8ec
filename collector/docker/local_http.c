/* The local HTTP core: see local_http.h. */
#include "collector/docker/local_http.h"

#include "collector/aws/endpoint.h"

#include <curl/curl.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_MAX_BODY (64u << 20)

struct local_http {
    CURL *curl;
};

/* Settings every request shares: the local APIs are plain, direct and
 * never redirect. */
static void common_options(CURL *c, const char *unix_socket, const char *url, long connect_ms,
                           char *errbuf)
{
    curl_easy_setopt(c, CURLOPT_URL, url);
    if (unix_socket)
        curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, unix_socket);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
}

static void say_error(CURLcode rc, const char *errbuf, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
}

/* ------------------------------------------------------------ requests */

/* Whether something accepts a TCP connection at the URL's host and port
 * ("http://127.0.0.1:51678/..."), within timeout_ms. Asked only until the
 * first request is made: an API that is absent (no ECS agent on this host)
 * is then told apart without loading libcurl (core/libload.h). */
static int tcp_listener_answers(const char *url, long timeout_ms, char *err, size_t errlen)
{
    struct aws_url u;
    if (aws_url_parse(url, &u) < 0)
        return 1; /* not a URL this can read: let libcurl say what is wrong */
    char port[8];
    snprintf(port, sizeof port, "%d", u.port ? u.port : u.https ? 443 : 80);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    if (getaddrinfo(u.host, port, &hints, &ai) != 0 || !ai)
        return 1;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int answered = 1;
    if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        int e = errno;
        if (e == EINPROGRESS) {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            socklen_t len = sizeof e;
            if (poll(&pfd, 1, (int)timeout_ms) <= 0)
                e = ETIMEDOUT;
            else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
                e = errno;
        }
        if (e != 0 && e != EINPROGRESS) {
            snprintf(err, errlen, "connect to %s port %s: %s", u.host, port, strerror(e));
            answered = 0;
        }
    }
    if (fd >= 0)
        close(fd);
    freeaddrinfo(ai);
    return answered;
}

struct sink {
    struct buf *b;
    size_t cap;
};

static size_t on_body(char *ptr, size_t size, size_t n, void *arg)
{
    struct sink *s = arg;
    size_t len = size * n;
    if (s->b->len + len > s->cap)
        return 0; /* larger than we keep: the transfer fails */
    buf_append(s->b, ptr, len);
    return len;
}

void local_http_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* The curl handle is made by the first request: an input that never finds
 * its socket never loads libcurl (core/libload.h). */
struct local_http *local_http_new(void)
{
    return xcalloc(1, sizeof(struct local_http));
}

void local_http_free(struct local_http *h)
{
    if (!h)
        return;
    curl_easy_cleanup(h->curl);
    free(h);
}

int local_http_get(struct local_http *h, const struct local_http_req *req, struct buf *body,
                   char *err, size_t errlen)
{
    /* No socket, no request: said plainly, and without loading libcurl. */
    if (req->unix_socket && access(req->unix_socket, F_OK) < 0) {
        snprintf(err, errlen, "%s: %s", req->unix_socket, strerror(errno));
        return -1;
    }
    long connect_ms = req->connect_timeout_ms > 0 ? req->connect_timeout_ms : req->timeout_ms;
    if (!h->curl) {
        if (!req->unix_socket && !tcp_listener_answers(req->url, connect_ms, err, errlen))
            return -1;
        if (!(h->curl = curl_easy_init())) {
            snprintf(err, errlen, "libcurl could not be loaded (the agent's log says why)");
            return -1;
        }
    }
    CURL *c = h->curl;
    char errbuf[CURL_ERROR_SIZE] = "";
    struct sink s = {body, req->max_body ? req->max_body : DEFAULT_MAX_BODY};
    struct curl_slist *hdrs = NULL;
    buf_reset(body);
    curl_easy_reset(c);
    common_options(c, req->unix_socket, req->url, connect_ms, errbuf);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, req->timeout_ms);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    if (req->header) {
        hdrs = curl_slist_append(NULL, req->header);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    }
    if (req->method && strcmp(req->method, "PUT") == 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
    }
    CURLcode rc = curl_easy_perform(c);
    long status = -1;
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    else
        say_error(rc, errbuf, err, errlen);
    /* The handle must not keep pointers to this call's stack. */
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hdrs);
    return (int)status;
}

/* ------------------------------------------------------------- streams */

struct local_http_stream {
    CURL *curl;
    char errbuf[CURL_ERROR_SIZE];
    size_t max_line;
    local_http_line_fn line;
    void *arg;

    pthread_mutex_t lock;        /* guards fd against stop's shutdown */
    int fd;                      /* the stream's socket, -1 before/after */
    _Atomic int stop;

    struct buf pending;          /* bytes of a line not complete yet */
    long status;
};

static curl_socket_t open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *addr)
{
    struct local_http_stream *s = arg;
    (void)purpose;
    int fd = socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
    pthread_mutex_lock(&s->lock);
    s->fd = fd;
    if (fd >= 0 && atomic_load(&s->stop))
        shutdown(fd, SHUT_RDWR);
    pthread_mutex_unlock(&s->lock);
    return fd >= 0 ? fd : CURL_SOCKET_BAD;
}

static int close_socket(void *arg, curl_socket_t fd)
{
    struct local_http_stream *s = arg;
    pthread_mutex_lock(&s->lock);
    if (s->fd == fd)
        s->fd = -1;
    pthread_mutex_unlock(&s->lock);
    return close(fd);
}

/* Hand over every complete line. */
static size_t on_stream_data(char *ptr, size_t size, size_t n, void *arg)
{
    struct local_http_stream *s = arg;
    size_t len = size * n;
    buf_append(&s->pending, ptr, len);
    if (s->status != 200) {
        if (s->pending.len > 4096)
            s->pending.len = 4096; /* an error's body: kept for the message */
        return len;
    }
    char *start = s->pending.data;
    char *end = start + s->pending.len;
    char *nl;
    while ((nl = memchr(start, '\n', (size_t)(end - start))) != NULL) {
        s->line(s->arg, start, (size_t)(nl - start));
        start = nl + 1;
    }
    size_t rest = (size_t)(end - start);
    if (rest > s->max_line)
        rest = 0; /* not the lines we expect: drop it rather than grow */
    memmove(s->pending.data, start, rest);
    s->pending.len = rest;
    return atomic_load(&s->stop) ? 0 : len;
}

static size_t on_stream_header(char *ptr, size_t size, size_t n, void *arg)
{
    struct local_http_stream *s = arg;
    size_t len = size * n;
    /* "HTTP/1.1 200 OK": the status line tells whether the body is lines. */
    if (len > 12 && strncmp(ptr, "HTTP/", 5) == 0) {
        const char *sp = memchr(ptr, ' ', len);
        s->status = sp ? strtol(sp + 1, NULL, 10) : 0;
    }
    return len;
}

static int on_stream_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
                              curl_off_t un)
{
    struct local_http_stream *s = arg;
    (void)dt, (void)dn, (void)ut, (void)un;
    return atomic_load(&s->stop) ? 1 : 0;
}

struct local_http_stream *local_http_stream_new(const char *unix_socket, const char *url,
                                                long connect_timeout_ms, size_t max_line,
                                                local_http_line_fn line, void *arg)
{
    struct local_http_stream *s = xcalloc(1, sizeof *s);
    s->curl = curl_easy_init();
    if (!s->curl) {
        free(s);
        return NULL;
    }
    s->max_line = max_line;
    s->line = line;
    s->arg = arg;
    s->fd = -1;
    buf_init(&s->pending);
    pthread_mutex_init(&s->lock, NULL);
    CURL *c = s->curl;
    common_options(c, unix_socket, url, connect_timeout_ms, s->errbuf);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, s);
    curl_easy_setopt(c, CURLOPT_CLOSESOCKETFUNCTION, close_socket);
    curl_easy_setopt(c, CURLOPT_CLOSESOCKETDATA, s);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_stream_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, s);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_stream_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_stream_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, s);
    return s;
}

long local_http_stream_run(struct local_http_stream *s, char *why, size_t whylen)
{
    CURLcode rc = curl_easy_perform(s->curl);
    if (s->status && s->status != 200)
        snprintf(why, whylen, "status %ld: %.*s", s->status,
                 (int)(s->pending.len < 200 ? s->pending.len : 200), s->pending.data);
    else if (rc != CURLE_OK)
        snprintf(why, whylen, "%s", curl_easy_strerror(rc));
    else
        snprintf(why, whylen, "the stream was closed");
    return s->status ? s->status : -1;
}

void local_http_stream_stop(struct local_http_stream *s)
{
    atomic_store(&s->stop, 1);
    pthread_mutex_lock(&s->lock);
    if (s->fd >= 0)
        shutdown(s->fd, SHUT_RDWR); /* curl sees the end at once */
    pthread_mutex_unlock(&s->lock);
}

void local_http_stream_free(struct local_http_stream *s)
{
    if (!s)
        return;
    curl_easy_cleanup(s->curl);
    pthread_mutex_destroy(&s->lock);
    buf_free(&s->pending);
    free(s);
}
