/* cwl_sink: a light CloudWatch Logs endpoint for benchmarks. It answers every
 * POST (PutLogEvents, CreateLogGroup, CreateLogStream, ...) with 200 and
 * counts requests, events and bytes; it checks no signature and stores
 * nothing, so that the agent, not the sink, is what a benchmark measures.
 *
 *   cwl_sink --port-file PATH [--stats-file PATH] [--tls-cert CERT --tls-key KEY]
 *
 * Listens on 127.0.0.1 (ephemeral port, written to the port file once
 * listening); HTTP/1.1 keep-alive, one thread per connection, HTTPS when a
 * certificate is given. Every 100 ms, and at SIGTERM/SIGINT, it writes
 * "requests=N puts=N events=N body_bytes=N wire_bytes=N gzip_requests=N" to
 * the stats file (and at exit to stdout). Event count: occurrences of
 * {"timestamp": in the (inflated) PutLogEvents bodies. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

static _Atomic unsigned long long n_requests, n_puts, n_events, n_body, n_wire, n_gzip;
static volatile sig_atomic_t stopping;
static const char *stats_path;
static SSL_CTX *tls;

struct conn {
    int fd;
    SSL *ssl;
    char *buf;        /* received bytes */
    size_t len, cap;
    unsigned char *inflated;
    size_t inflated_cap;
};

static ssize_t conn_read(struct conn *c, void *p, size_t n)
{
    if (c->ssl) {
        int r = SSL_read(c->ssl, p, (int)n);
        return r > 0 ? r : -1;
    }
    ssize_t r;
    do
        r = read(c->fd, p, n);
    while (r < 0 && errno == EINTR);
    return r > 0 ? r : -1;
}

static int conn_write(struct conn *c, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t r = c->ssl ? SSL_write(c->ssl, p, (int)n) : write(c->fd, p, n);
        if (r <= 0) {
            if (!c->ssl && r < 0 && errno == EINTR)
                continue;
            return -1;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Read until at least `want` bytes are buffered. */
static int fill(struct conn *c, size_t want)
{
    while (c->len < want) {
        if (c->cap < want + 65536) {
            c->cap = (want + 65536) * 2;
            c->buf = realloc(c->buf, c->cap);
            if (!c->buf)
                return -1;
        }
        ssize_t r = conn_read(c, c->buf + c->len, c->cap - c->len);
        if (r <= 0)
            return -1;
        c->len += (size_t)r;
    }
    return 0;
}

static const char *header(const char *head, size_t head_len, const char *name)
{
    size_t nl = strlen(name);
    for (const char *p = head; p && p < head + head_len; p = strstr(p, "\r\n")) {
        if (p != head)
            p += 2;
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            p += nl + 1;
            while (*p == ' ')
                p++;
            return p;
        }
    }
    return NULL;
}

static size_t count_events(const char *body, size_t len)
{
    static const char key[] = "{\"timestamp\":";
    size_t n = 0;
    const char *p = body, *end = body + len;
    while ((p = memmem(p, (size_t)(end - p), key, sizeof key - 1))) {
        n++;
        p += sizeof key - 1;
    }
    return n;
}

static const char *gunzip(struct conn *c, const char *data, size_t len, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 16) != Z_OK)
        return NULL;
    size_t used = 0;
    z.next_in = (unsigned char *)data;
    z.avail_in = (unsigned)len;
    int rc;
    do {
        if (c->inflated_cap - used < 65536) {
            c->inflated_cap = c->inflated_cap ? c->inflated_cap * 2 : 4 << 20;
            c->inflated = realloc(c->inflated, c->inflated_cap);
        }
        z.next_out = c->inflated + used;
        z.avail_out = (unsigned)(c->inflated_cap - used);
        rc = inflate(&z, Z_NO_FLUSH);
        used = c->inflated_cap - z.avail_out;
    } while (rc == Z_OK);
    inflateEnd(&z);
    *out_len = used;
    return rc == Z_STREAM_END ? (const char *)c->inflated : NULL;
}

static int serve_one(struct conn *c)
{
    char *end;
    for (;;) {
        end = c->len ? memmem(c->buf, c->len, "\r\n\r\n", 4) : NULL;
        if (end)
            break;
        if (fill(c, c->len + 1) < 0)
            return -1;
    }
    size_t head_len = (size_t)(end - c->buf) + 4;
    c->buf[head_len - 2] = '\0'; /* headers as a string (the blank line is cut) */
    const char *cl = header(c->buf, head_len, "Content-Length");
    size_t body_len = cl ? strtoull(cl, NULL, 10) : 0;
    const char *expect = header(c->buf, head_len, "Expect");
    if (expect && strncasecmp(expect, "100-continue", 12) == 0 &&
        conn_write(c, "HTTP/1.1 100 Continue\r\n\r\n", 25) < 0)
        return -1;
    const char *enc = header(c->buf, head_len, "Content-Encoding");
    int gz = enc && strncasecmp(enc, "gzip", 4) == 0;
    const char *target = header(c->buf, head_len, "X-Amz-Target");
    int put = target && strncmp(target, "Logs_20140328.PutLogEvents", 26) == 0;
    if (fill(c, head_len + body_len) < 0)
        return -1;
    const char *body = c->buf + head_len;
    size_t plain_len = body_len;
    const char *plain = gz ? gunzip(c, body, body_len, &plain_len) : body;
    n_requests++;
    n_wire += body_len;
    if (gz)
        n_gzip++;
    if (put && plain) {
        n_puts++;
        n_body += plain_len;
        n_events += count_events(plain, plain_len);
    }
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\n"
                             "x-amzn-RequestId: 00000000-0000-0000-0000-000000000000\r\n"
                             "Content-Length: 2\r\n\r\n{}";
    if (conn_write(c, ok, sizeof ok - 1) < 0)
        return -1;
    size_t used = head_len + body_len;
    memmove(c->buf, c->buf + used, c->len - used);
    c->len -= used;
    return 0;
}

static void *conn_main(void *arg)
{
    struct conn *c = arg;
    if (tls) {
        c->ssl = SSL_new(tls);
        SSL_set_fd(c->ssl, c->fd);
        if (SSL_accept(c->ssl) <= 0)
            goto out;
    }
    while (!stopping && serve_one(c) == 0)
        ;
out:
    if (c->ssl) {
        SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
    }
    close(c->fd);
    free(c->buf);
    free(c->inflated);
    free(c);
    return NULL;
}

static void write_stats(FILE *f)
{
    fprintf(f, "requests=%llu puts=%llu events=%llu body_bytes=%llu wire_bytes=%llu "
               "gzip_requests=%llu\n",
            (unsigned long long)n_requests, (unsigned long long)n_puts,
            (unsigned long long)n_events, (unsigned long long)n_body,
            (unsigned long long)n_wire, (unsigned long long)n_gzip);
}

static void save_stats(void)
{
    if (!stats_path)
        return;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", stats_path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    write_stats(f);
    fclose(f);
    rename(tmp, stats_path);
}

static void *stats_main(void *arg)
{
    (void)arg;
    while (!stopping) {
        save_stats();
        usleep(100000);
    }
    return NULL;
}

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

int main(int argc, char **argv)
{
    const char *port_file = NULL, *cert = NULL, *key = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--port-file") == 0)
            port_file = argv[i + 1];
        else if (strcmp(argv[i], "--stats-file") == 0)
            stats_path = argv[i + 1];
        else if (strcmp(argv[i], "--tls-cert") == 0)
            cert = argv[i + 1];
        else if (strcmp(argv[i], "--tls-key") == 0)
            key = argv[i + 1];
    }
    if (!port_file) {
        fprintf(stderr, "usage: cwl_sink --port-file PATH [--stats-file PATH] "
                        "[--tls-cert CERT --tls-key KEY]\n");
        return 2;
    }
    if (cert) {
        tls = SSL_CTX_new(TLS_server_method());
        if (!tls || SSL_CTX_use_certificate_chain_file(tls, cert) != 1 ||
            SSL_CTX_use_PrivateKey_file(tls, key ? key : cert, SSL_FILETYPE_PEM) != 1) {
            ERR_print_errors_fp(stderr);
            return 1;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: accept() returns EINTR */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof addr;
    if (bind(ls, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(ls, 64) < 0 ||
        getsockname(ls, (struct sockaddr *)&addr, &alen) < 0) {
        perror("cwl_sink: listen");
        return 1;
    }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
    FILE *pf = fopen(tmp, "w");
    if (!pf) {
        perror(tmp);
        return 1;
    }
    fprintf(pf, "%d\n", ntohs(addr.sin_port));
    fclose(pf);
    rename(tmp, port_file);

    pthread_t st;
    pthread_create(&st, NULL, stats_main, NULL);
    while (!stopping) {
        int fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn *c = calloc(1, sizeof *c);
        c->fd = fd;
        pthread_t t;
        if (pthread_create(&t, NULL, conn_main, c) == 0)
            pthread_detach(t);
        else
            close(fd), free(c);
    }
    pthread_join(st, NULL);
    save_stats();
    write_stats(stdout);
    return 0;
}
