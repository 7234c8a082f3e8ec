#include "collector/status/http_server.h"
#include "collector/core/log.h"
#include "collector/loop.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define SWEEP_INTERVAL_MS 250
#define UNIX_SOCKET_MODE 0660   /* root (the agent) and its group: `collector status` */
#define LINGER_MS 1000          /* after the response: drain the client's leftovers this long */

enum conn_state { CONN_READING, CONN_WRITING, CONN_LINGER };

/* A connection: its fd, its place in the server's list, the bytes it has
 * sent (bounded by max_head) and the response being written. */
struct conn {
    struct http_server *server;
    struct conn *prev, *next;
    int fd;
    enum conn_state state;
    int64_t deadline_ms;
    size_t in_len;
    struct buf out;
    size_t out_off;
    char in[];                  /* max_head bytes */
};

struct http_server {
    struct loop *loop;
    int fd;
    int listen_paused;
    char unix_path[sizeof ((struct sockaddr_un *)0)->sun_path];
    struct http_server_limits limits;
    http_handler_fn handler;
    void *arg;
    struct loop_timer *sweep;
    struct conn *head, *tail;
    struct http_server_counters counters;
    struct buf scratch;
};

const char *http_status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

static void conn_close(struct conn *c)
{
    struct http_server *s = c->server;
    loop_del_fd(s->loop, c->fd);
    close(c->fd);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        s->tail = c->prev;
    s->counters.connections--;
    buf_free(&c->out);
    free(c);
}

/* Write what we can; on completion half-close and linger. Returns 0, or -1
 * when c was closed. */
static int conn_flush(struct conn *c)
{
    while (c->out_off < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            c->out_off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            loop_mod_fd(c->server->loop, c->fd, EPOLLOUT);
            return 0;
        }
        conn_close(c);
        return -1;
    }
    /* Done: stop sending, read and discard whatever the client still sends
     * (closing with unread input would reset the connection and could lose
     * the response), until it closes or LINGER_MS pass. */
    buf_free(&c->out);
    c->out_off = 0;
    shutdown(c->fd, SHUT_WR);
    c->state = CONN_LINGER;
    int64_t linger = mono_ms() + LINGER_MS;
    if (linger < c->deadline_ms)
        c->deadline_ms = linger;
    loop_mod_fd(c->server->loop, c->fd, EPOLLIN);
    return 0;
}

static void respond(struct conn *c, const struct http_response *r, int head_only)
{
    const char *ctype = r->content_type ? r->content_type : "text/plain; charset=utf-8";
    buf_reset(&c->out);
    buf_printf(&c->out,
               "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
               "Cache-Control: no-store\r\nConnection: close\r\n",
               r->status, http_status_text(r->status), ctype, r->body->len);
    if (r->allow)
        buf_printf(&c->out, "Allow: %s\r\n", r->allow);
    buf_append(&c->out, "\r\n", 2);
    if (!head_only && r->body->len)
        buf_append(&c->out, r->body->data, r->body->len);
    c->out_off = 0;
    c->state = CONN_WRITING;
    conn_flush(c);
}

static void respond_error(struct conn *c, int status, const char *why)
{
    struct http_server *s = c->server;
    s->counters.errors++;
    buf_reset(&s->scratch);
    buf_printf(&s->scratch, "%d %s: %s\n", status, http_status_text(status), why);
    struct http_response r = {.status = status, .body = &s->scratch};
    respond(c, &r, 0);
}

static void conn_request(struct conn *c)
{
    struct http_server *s = c->server;
    struct http_request req;
    int rc = http_parse_request(c->in, c->in_len, &req);
    if (rc == HTTP_PARSE_INCOMPLETE) {
        if (c->in_len >= s->limits.max_head)
            respond_error(c, 431, "the request head is larger than the server accepts");
        return;
    }
    if (rc == HTTP_PARSE_VERSION) {
        respond_error(c, 505, "only HTTP/1.x is served");
        return;
    }
    if (rc < 0) {
        respond_error(c, 400, "malformed request");
        return;
    }
    s->counters.requests++;
    buf_reset(&s->scratch);
    struct http_response r = {.status = 200, .body = &s->scratch};
    s->handler(s->arg, &req, &r);
    respond(c, &r, http_method_is(&req, "HEAD"));
    if (s->scratch.cap > 1u << 20) /* do not keep a huge scratch buffer around */
        buf_free(&s->scratch);
}

static void on_conn(struct loop *loop, int fd, uint32_t events, void *arg)
{
    struct conn *c = arg;
    size_t cap = c->server->limits.max_head;
    (void)loop;
    (void)fd;
    if (c->state == CONN_WRITING) {
        if (events & (EPOLLERR | EPOLLHUP)) {
            conn_close(c);
            return;
        }
        conn_flush(c);
        return;
    }
    if (c->state == CONN_LINGER) {
        char sink[4096];
        for (;;) {
            ssize_t n = recv(c->fd, sink, sizeof sink, MSG_DONTWAIT);
            if (n > 0)
                continue;
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return;
            conn_close(c);
            return;
        }
    }
    /* Reading the head: one recv per event, at most up to the cap. */
    ssize_t n = recv(c->fd, c->in + c->in_len, cap - c->in_len, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0) {
        conn_close(c); /* the client went away before a complete request */
        return;
    }
    c->in_len += (size_t)n;
    conn_request(c);
}

static void set_listen(struct http_server *s, int on)
{
    if (s->listen_paused == !on)
        return;
    s->listen_paused = !on;
    loop_mod_fd(s->loop, s->fd, on ? EPOLLIN : 0);
}

/* Full: the newcomer takes the slot of the oldest connection that has not
 * sent a complete request (one that sent nothing first). A flood of idle
 * connections thus cannot lock out a probe, which sends its request at once
 * and is answered before a thousand newer connections push it out. 0 when a
 * slot was freed, -1 when every connection is being answered. */
static int evict_idle(struct http_server *s)
{
    struct conn *victim = NULL;
    for (struct conn *c = s->head; c; c = c->next) {
        if (c->state != CONN_READING)
            continue;
        if (c->in_len == 0) {
            victim = c;
            break;
        }
        if (!victim)
            victim = c;
    }
    if (!victim)
        return -1;
    s->counters.rejected++;
    conn_close(victim);
    return 0;
}

static void on_accept(struct loop *loop, int fd, uint32_t events, void *arg)
{
    struct http_server *s = arg;
    (void)events;
    for (int i = 0; i < 256; i++) {
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                static struct log_limit limit;
                log_every(&limit, 60000, LOG_WARN, "status",
                          "cannot accept status connections: %s; pausing", strerror(errno));
                set_listen(s, 0); /* the sweep turns it back on */
            }
            return;
        }
        if (s->counters.connections >= s->limits.max_conns && evict_idle(s) < 0) {
            s->counters.rejected++;
            close(cfd);
            continue;
        }
        struct conn *c = malloc(sizeof *c + s->limits.max_head);
        if (!c) {
            close(cfd);
            continue;
        }
        memset(c, 0, sizeof *c);
        c->server = s;
        c->fd = cfd;
        c->state = CONN_READING;
        c->deadline_ms = mono_ms() + s->limits.timeout_ms;
        if (loop_add_fd(loop, cfd, EPOLLIN, on_conn, c) < 0) {
            close(cfd);
            free(c);
            continue;
        }
        c->prev = s->tail;
        if (s->tail)
            s->tail->next = c;
        else
            s->head = c;
        s->tail = c;
        s->counters.connections++;
    }
}

static void on_sweep(struct loop *loop, void *arg)
{
    struct http_server *s = arg;
    int64_t now = mono_ms();
    (void)loop;
    struct conn *c = s->head;
    while (c) {
        struct conn *next = c->next;
        if (now >= c->deadline_ms) {
            if (c->state != CONN_LINGER)
                s->counters.timeouts++;
            conn_close(c);
        }
        c = next;
    }
    set_listen(s, 1);
}

/* Room for max_conns sockets besides what the agent already uses: raise the
 * soft descriptor limit toward the hard one if needed. */
static void ensure_fd_room(int max_conns)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    rlim_t want = (rlim_t)max_conns + 4096;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
        rl.rlim_cur = (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want) ? want : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static int listen_unix(struct http_server *s, const struct http_addr *addr, char *err, size_t errlen)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", addr->path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    struct stat st;
    if (lstat(addr->path, &st) == 0 && S_ISSOCK(st.st_mode)) {
        /* A stale socket from an earlier run is removed; a live one is not. */
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int live = probe >= 0 && connect(probe, (struct sockaddr *)&sun, sizeof sun) == 0;
        if (probe >= 0)
            close(probe);
        if (live) {
            snprintf(err, errlen, "%s: another process is listening there", addr->path);
            close(fd);
            return -1;
        }
        unlink(addr->path);
    }
    /* The mode is set, not left to the umask, before anyone can connect
     * (a socket accepts nothing before listen()). */
    if (bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0 || chmod(addr->path, UNIX_SOCKET_MODE) < 0 ||
        listen(fd, 1024) < 0) {
        snprintf(err, errlen, "%s: %s", addr->path, strerror(errno));
        close(fd);
        return -1;
    }
    snprintf(s->unix_path, sizeof s->unix_path, "%s", addr->path);
    return fd;
}

static int listen_tcp(const struct http_addr *addr, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(addr->host[0] ? addr->host : NULL, addr->port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "%s:%s: %s", addr->host, addr->port, gai_strerror(rc));
        return -1;
    }
    int fd = -1, saved = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1024) == 0)
            break;
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(err, errlen, "%s%s%s:%s: %s", strchr(addr->host, ':') ? "[" : "", addr->host,
                 strchr(addr->host, ':') ? "]" : "", addr->port, strerror(saved));
    return fd;
}

int http_server_probe(const struct http_addr *addr, char *err, size_t errlen)
{
    if (addr->kind != HTTP_ADDR_TCP)
        return 0;
    int fd = listen_tcp(addr, err, errlen);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

struct http_server *http_server_new(struct loop *loop, const struct http_addr *addr,
                                    const struct http_server_limits *limits,
                                    http_handler_fn handler, void *arg, char *err, size_t errlen)
{
    struct http_server *s = xcalloc(1, sizeof *s);
    s->loop = loop;
    s->limits = *limits;
    if (s->limits.max_head < 256)
        s->limits.max_head = 256;
    if (s->limits.max_conns < 1)
        s->limits.max_conns = 1;
    s->handler = handler;
    s->arg = arg;
    buf_init(&s->scratch);
    ensure_fd_room(s->limits.max_conns);
    s->fd = addr->kind == HTTP_ADDR_UNIX ? listen_unix(s, addr, err, errlen)
                                         : listen_tcp(addr, err, errlen);
    if (s->fd < 0) {
        free(s);
        return NULL;
    }
    if (loop_add_fd(loop, s->fd, EPOLLIN, on_accept, s) < 0) {
        snprintf(err, errlen, "epoll: %s", strerror(errno));
        close(s->fd);
        if (s->unix_path[0])
            unlink(s->unix_path);
        free(s);
        return NULL;
    }
    s->sweep = loop_timer_add(loop, SWEEP_INTERVAL_MS, SWEEP_INTERVAL_MS, on_sweep, s);
    return s;
}

void http_server_free(struct http_server *s)
{
    if (!s)
        return;
    while (s->head)
        conn_close(s->head);
    loop_timer_del(s->loop, s->sweep);
    loop_del_fd(s->loop, s->fd);
    close(s->fd);
    if (s->unix_path[0])
        unlink(s->unix_path);
    buf_free(&s->scratch);
    free(s);
}

void http_server_counters(const struct http_server *s, struct http_server_counters *out)
{
    *out = s->counters;
}
