/* `collector status`: fetch GET /status from a running agent over a plain
 * socket and print it for a person at a terminal (or raw with --json). */
#include "collector/status/http_parse.h"
#include "collector/status/status.h"

#include <errno.h>
#include <jansson.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define CLI_TIMEOUT_MS 5000
#define CLI_MAX_RESPONSE (64u << 20)

static int connect_addr(const struct http_addr *addr, char *err, size_t errlen)
{
    if (addr->kind == HTTP_ADDR_UNIX) {
        struct sockaddr_un sun = {.sun_family = AF_UNIX};
        snprintf(sun.sun_path, sizeof sun.sun_path, "%s", addr->path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0)
            return fd;
        snprintf(err, errlen, "%s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(addr->host[0] ? addr->host : "127.0.0.1", addr->port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "%s", gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    snprintf(err, errlen, "no address");
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        struct timeval tv = {CLI_TIMEOUT_MS / 1000, 0};
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
            snprintf(err, errlen, "%s", strerror(errno));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

/* GET path; the body in out (NUL-terminated), the status code returned, -1 on error. */
static int http_get(const struct http_addr *addr, const char *path, struct buf *out, char *err,
                    size_t errlen)
{
    int fd = connect_addr(addr, err, errlen);
    if (fd < 0)
        return -1;
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: collector\r\nUser-Agent: collector-status\r\n"
                     "Connection: close\r\n\r\n", path);
    if (write_all(fd, req, (size_t)n) < 0) {
        snprintf(err, errlen, "sending the request: %s", strerror(errno));
        close(fd);
        return -1;
    }
    struct buf resp;
    buf_init(&resp);
    char chunk[16384];
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        int r = poll(&p, 1, CLI_TIMEOUT_MS);
        if (r <= 0) {
            snprintf(err, errlen, "no answer within %d s", CLI_TIMEOUT_MS / 1000);
            goto fail;
        }
        ssize_t got = read(fd, chunk, sizeof chunk);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            snprintf(err, errlen, "reading the answer: %s", strerror(errno));
            goto fail;
        }
        if (got == 0)
            break;
        buf_append(&resp, chunk, (size_t)got);
        if (resp.len > CLI_MAX_RESPONSE) {
            snprintf(err, errlen, "answer larger than %u bytes", CLI_MAX_RESPONSE);
            goto fail;
        }
    }
    close(fd);
    int code = 0;
    const char *body = resp.data ? strstr(resp.data, "\r\n\r\n") : NULL;
    if (!body || sscanf(resp.data, "HTTP/1.%*d %d", &code) != 1) {
        snprintf(err, errlen, "not an HTTP answer");
        buf_free(&resp);
        return -1;
    }
    buf_append_str(out, body + 4);
    buf_free(&resp);
    return code;
fail:
    close(fd);
    buf_free(&resp);
    return -1;
}

static long long num(json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static void human_bytes(char *out, size_t len, double v)
{
    const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    snprintf(out, len, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

static void ago(char *out, size_t len, json_t *ms, long long now)
{
    if (!json_is_integer(ms)) {
        snprintf(out, len, "never");
        return;
    }
    long long d = (now - json_integer_value(ms)) / 1000;
    snprintf(out, len, "%llds ago", d < 0 ? 0 : d);
}

static void print_extra(json_t *o, const char *const *known)
{
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        int skip = 0;
        for (int i = 0; known[i]; i++)
            skip |= strcmp(known[i], key) == 0;
        if (skip)
            continue;
        if (json_is_string(v)) {
            printf("      %s: %s\n", key, json_string_value(v));
        } else if (json_is_number(v) || json_is_boolean(v)) {
            char *t = json_dumps(v, JSON_ENCODE_ANY);
            printf("      %s: %s\n", key, t ? t : "");
            free(t);
        } else if (json_is_array(v)) {
            printf("      %s: %zu entr%s\n", key, json_array_size(v),
                   json_array_size(v) == 1 ? "y" : "ies");
        }
    }
}

static void print_status(json_t *root)
{
    long long now = num(root, "time_ms");
    json_t *health = json_object_get(root, "health");
    json_t *cfg = json_object_get(root, "config");
    json_t *pl = json_object_get(root, "pipeline");
    json_t *proc = json_object_get(root, "process");
    char a[64], b[64];
    printf("collector %s (%s) on %s, pid %lld, up %llds\n", str(root, "version"),
           str(root, "git_rev"), str(root, "hostname"), num(root, "pid"),
           num(health, "uptime_seconds"));
    printf("health:     %s\n", json_is_true(json_object_get(root, "healthy")) ? "OK" : "NOT READY");
    json_t *f;
    size_t i;
    json_array_foreach(json_object_get(health, "failures"), i, f)
        printf("  - %s: %s\n", str(f, "check"), str(f, "reason"));
    printf("config:     %s (generation %lld, %lld reloads, %lld failed)\n", str(cfg, "path"),
           num(cfg, "generation"), num(cfg, "reloads"), num(cfg, "reloads_failed"));
    human_bytes(a, sizeof a, (double)num(pl, "buffer_bytes"));
    human_bytes(b, sizeof b, (double)num(pl, "memory_limit"));
    printf("pipeline:   %s of %s buffered, %lld records pending, %lld batches pending\n", a, b,
           num(pl, "records_pending"), num(pl, "batches_pending"));
    human_bytes(a, sizeof a, (double)num(proc, "rss_bytes"));
    printf("process:    RSS %s, CPU %.2fs, %lld threads, %lld fds, %lld inotify watches\n", a,
           json_real_value(json_object_get(proc, "cpu_seconds")), num(proc, "threads"),
           num(proc, "open_fds"), num(proc, "inotify_watches"));
    printf("containers: %lld\n", num(root, "containers"));

    static const char *const in_known[] = {"name", "type", "tag", "records_in", "bytes_in",
                                           "records_acked", "records_unrouted", "state", NULL};
    json_t *inputs = json_object_get(root, "inputs");
    printf("\ninputs (%zu):\n", json_array_size(inputs));
    json_array_foreach(inputs, i, f) {
        human_bytes(a, sizeof a, (double)num(f, "bytes_in"));
        printf("  %-16s %-10s %lld records (%s) in, %lld acked, %lld unrouted\n", str(f, "name"),
               str(f, "type"), num(f, "records_in"), a, num(f, "records_acked"),
               num(f, "records_unrouted"));
        if (*str(f, "state"))
            printf("      %s\n", str(f, "state"));
        print_extra(f, in_known);
    }
    static const char *const out_known[] = {
        "name", "type", "records_out", "bytes_out", "records_dropped", "dropped", "records_truncated",
        "throttled", "queue_depth", "batches_out", "batches_retried", "batches_dropped",
        "last_success_ms", "last_error_ms", "stalled", "last_error", "destination", NULL};
    json_t *outputs = json_object_get(root, "outputs");
    printf("\noutputs (%zu):\n", json_array_size(outputs));
    json_array_foreach(outputs, i, f) {
        human_bytes(a, sizeof a, (double)num(f, "bytes_out"));
        printf("  %-16s %-10s %lld records (%s) out, %lld dropped, queue %lld%s\n", str(f, "name"),
               str(f, "type"), num(f, "records_out"), a, num(f, "records_dropped"),
               num(f, "queue_depth"), json_is_true(json_object_get(f, "stalled")) ? ", STALLED" : "");
        ago(a, sizeof a, json_object_get(f, "last_success_ms"), now);
        ago(b, sizeof b, json_object_get(f, "last_error_ms"), now);
        printf("      last success %s, last error %s, %lld retries, %lld throttled\n", a, b,
               num(f, "batches_retried"), num(f, "throttled"));
        if (*str(f, "destination"))
            printf("      %s\n", str(f, "destination"));
        const char *key;
        json_t *v;
        json_object_foreach(json_object_get(f, "dropped"), key, v)
            if (json_integer_value(v))
                printf("      dropped (%s): %lld\n", key, (long long)json_integer_value(v));
        print_extra(f, out_known);
    }
}

static void cli_usage(FILE *out)
{
    fprintf(out, "usage: collector status [--addr HOST:PORT|/path.sock] [--json]\n");
}

static void cli_help(void)
{
    cli_usage(stdout);
    printf("\nprint a running agent's state (GET /status of its http_listen endpoint)\n\n"
           "  -a, --addr ADDR   the agent's http_listen (default " STATUS_DEFAULT_LISTEN ")\n"
           "  --json            the raw /status document\n\n"
           "exit codes: 0 running and ready; 1 cannot reach the agent or a bad answer;\n"
           "2 usage error; 3 running but not ready (the reasons are printed)\n");
}

#define EXIT_NOT_READY 3

int status_cli_main(int argc, char **argv)
{
    const char *where = STATUS_DEFAULT_LISTEN;
    int raw = 0;
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "--addr") == 0 || strcmp(argv[i], "-a") == 0) && i + 1 < argc)
            where = argv[++i];
        else if (strncmp(argv[i], "--addr=", 7) == 0)
            where = argv[i] + 7;
        else if (strcmp(argv[i], "--json") == 0)
            raw = 1;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cli_help();
            return 0;
        } else if (strcmp(argv[i], "--addr") == 0 || strcmp(argv[i], "-a") == 0) {
            fprintf(stderr, "collector status: %s needs an address (HOST:PORT or a socket path)\n",
                    argv[i]);
            cli_usage(stderr);
            return 2;
        } else {
            fprintf(stderr, "collector status: unexpected argument '%s'\n", argv[i]);
            cli_usage(stderr);
            return 2;
        }
    }
    struct http_addr addr;
    char err[300];
    if (http_addr_parse(where, &addr, err, sizeof err) < 0 || addr.kind == HTTP_ADDR_OFF) {
        fprintf(stderr, "collector status: bad --addr: %s\n",
                addr.kind == HTTP_ADDR_OFF ? "off" : err);
        return 2;
    }
    struct buf body;
    buf_init(&body);
    int code = http_get(&addr, "/status", &body, err, sizeof err);
    if (code < 0) {
        fprintf(stderr,
                "collector status: cannot reach the agent at %s: %s\n"
                "(is it running, with http_listen = %s? see [agent] http_listen)\n",
                where, err, where);
        buf_free(&body);
        return 1;
    }
    if (code != 200) {
        fprintf(stderr, "collector status: the agent at %s answered %d: %s", where, code,
                body.data ? body.data : "\n");
        buf_free(&body);
        return 1;
    }
    json_error_t jerr;
    json_t *root = json_loads(body.data, 0, &jerr);
    if (raw)
        fputs(body.data, stdout);
    buf_free(&body);
    if (!root) {
        fprintf(stderr, "collector status: the agent's answer is not JSON: %s\n", jerr.text);
        return 1;
    }
    if (!raw)
        print_status(root);
    int ready = json_is_true(json_object_get(root, "healthy"));
    json_decref(root);
    return ready ? 0 : EXIT_NOT_READY;
}
