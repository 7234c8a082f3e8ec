/* Routes of the status endpoint and its life cycle. */
#include "collector/status/status.h"
#include "collector/core/config.h"
#include "collector/core/log.h"
#include "collector/loop.h"
#include "collector/pipeline/pipeline.h"
#include "collector/plugin.h"
#include "collector/status/logfile.h"
#include "collector/status/selfstat.h"
#include "collector/status/status_internal.h"

#include <inttypes.h>
#include <jansson.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_HEAD 16384
#define MAX_CONNS 1024
#define CONN_TIMEOUT_MS 5000
#define MAX_OUTPUTS 64

const struct option_def status_options[] = {
    {"http_listen", OPT_STRING, STATUS_DEFAULT_LISTEN, 0,
     offsetof(struct status_settings, http_listen), NULL,
     "status endpoint (/health, /ready, /metrics, /status): HOST:PORT, [IPV6]:PORT, a unix socket path, "
     "or off"},
    {"health.max_stall", OPT_DURATION, "5m", 0,
     offsetof(struct status_settings, health_max_stall_ms), NULL,
     "/ready fails when an output with data waiting has not delivered for this long"},
    {"log_file", OPT_STRING, NULL, 0, offsetof(struct status_settings, log_file), NULL,
     "write the agent's own log to this file instead of stderr"},
    {"log_file_max_size", OPT_SIZE, "10MiB", 0,
     offsetof(struct status_settings, log_file_max_size), NULL,
     "rotate log_file at about this size; 0 = never"},
    {"log_file_keep", OPT_INT, "5", 0, offsetof(struct status_settings, log_file_keep), "0..100",
     "rotated log files kept (<log_file>.1 is the newest)"},
    {0},
};

/* ------------------------------------------------------------ settings */

void status_settings_check(struct status_settings *s, const struct conf_section *agent_section,
                           const char *path, struct diag *diag)
{
    const struct conf_entry *e = agent_section ? conf_section_get(agent_section, "http_listen") : NULL;
    s->http_listen_explicit = e != NULL;
    struct http_addr addr;
    char err[300];
    if (http_addr_parse(s->http_listen, &addr, err, sizeof err) < 0)
        diag_add(diag, e ? e->file : path, e ? e->line : 0, "http_listen: %s", err);
}

/* ------------------------------------------------------ /health, /ready */

/* Readiness: every check passes (outputs delivering, buffers not full,
 * credentials, the last reload applied, the inputs' own checks). *live is
 * set to 0 when a failure is marked not live (may be NULL). */
static json_t *ready_json(struct status_server *s, int *healthy, int *live)
{
    struct health_failure fails[16];
    int64_t now = now_ms();
    health_outputs_sample(&s->health, now);
    int n = health_evaluate(&s->health, s->view.inputs, s->view.ninputs, now,
                            s->view.reloads->last_error, fails, 16);
    *healthy = n == 0;
    if (live)
        *live = health_live(fails, n, 16);
    json_t *o = json_object();
    json_object_set_new(o, "status", json_string(n ? "not ready" : "ready"));
    json_t *reasons = json_array();
    struct buf joined;
    buf_init(&joined);
    for (int i = 0; i < n && i < 16; i++) {
        json_array_append_new(reasons, json_pack("{s:s, s:s}", "check", fails[i].check, "reason",
                                                 fails[i].reason));
        buf_printf(&joined, "%s%s", i ? "; " : "", fails[i].reason);
    }
    if (n)
        json_object_set_new(o, "reason", json_string(joined.data));
    json_object_set_new(o, "failures", reasons);
    json_object_set_new(o, "uptime_seconds", json_integer((now - s->started_ms) / 1000));
    buf_free(&joined);
    return o;
}

/* Liveness: the process works. Answering at all is the proof (a wedged loop
 * does not answer, and the probe times out); what readiness says is shown,
 * not failed on: restarting does not bring back an endpoint or undo a bad
 * reload, which leaves the previous configuration running. Only a check the
 * operator marked for liveness (an input's INPUT_NOT_LIVE, e.g. host_metrics'
 * ecs_agent_check = health) fails it. */
static json_t *health_json(struct status_server *s, int *live)
{
    int ready;
    json_t *r = ready_json(s, &ready, live);
    json_t *o = json_object();
    json_object_set_new(o, "status", json_string(*live ? "ok" : "not live"));
    json_object_set_new(o, "ready", json_boolean(ready));
    json_t *reason = json_object_get(r, "reason");
    if (reason)
        json_object_set(o, *live ? "not_ready_because" : "reason", reason);
    json_object_set(o, "uptime_seconds", json_object_get(r, "uptime_seconds"));
    json_decref(r);
    return o;
}

/* ------------------------------------------------------------ /status */

static json_t *inputs_json(const struct status_view *v, json_int_t *containers)
{
    json_t *arr = json_array();
    for (int i = 0; i < v->ninputs; i++) {
        struct input_instance *in = v->inputs[i];
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(in->name));
        json_object_set_new(o, "type", json_string(in->plugin->name));
        json_object_set_new(o, "tag", json_string(in->tag->name));
        json_object_set_new(o, "records_in", json_integer((json_int_t)in->stats.records_in));
        json_object_set_new(o, "bytes_in", json_integer((json_int_t)in->stats.bytes_in));
        json_object_set_new(o, "records_acked", json_integer((json_int_t)in->stats.records_acked));
        json_object_set_new(o, "records_unrouted",
                            json_integer((json_int_t)in->stats.records_unrouted));
        if (in->ctx && in->plugin->describe) {
            struct buf text;
            buf_init(&text);
            in->plugin->describe(in, &text);
            json_object_set_new(o, "state", json_string(text.data ? text.data : ""));
            buf_free(&text);
        }
        if (in->ctx && in->plugin->status)
            in->plugin->status(in, (struct json_t *)o);
        json_t *c = json_object_get(o, "containers");
        if (json_is_integer(c))
            *containers += json_integer_value(c);
        else if (json_is_array(c))
            *containers += (json_int_t)json_array_size(c);
        json_array_append_new(arr, o);
    }
    return arr;
}

static json_t *ms_or_null(int64_t ms)
{
    return ms > 0 ? json_integer(ms) : json_null();
}

static json_t *outputs_json(struct status_server *s, int64_t now)
{
    const struct status_view *v = &s->view;
    json_t *arr = json_array();
    for (int i = 0; i < v->noutputs; i++) {
        struct output_instance *out = v->outputs[i];
        struct output_stats *st = &out->stats;
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(out->name));
        json_object_set_new(o, "type", json_string(out->plugin->name));
        json_object_set_new(o, "records_out", json_integer((json_int_t)st->records_out));
        json_object_set_new(o, "bytes_out", json_integer((json_int_t)st->bytes_out));
        json_object_set_new(o, "records_dropped", json_integer((json_int_t)st->records_dropped));
        json_t *dropped = json_object();
        for (int r = 0; r < DROP_REASON_COUNT; r++)
            json_object_set_new(dropped, drop_reason_names[r],
                                json_integer((json_int_t)st->dropped[r]));
        json_object_set_new(o, "dropped", dropped);
        json_object_set_new(o, "records_truncated", json_integer((json_int_t)st->records_truncated));
        json_object_set_new(o, "throttled", json_integer((json_int_t)st->throttled));
        json_object_set_new(o, "queue_depth", json_integer((json_int_t)st->batches_pending));
        json_object_set_new(o, "batches_out", json_integer((json_int_t)st->batches_out));
        json_object_set_new(o, "batches_retried", json_integer((json_int_t)st->batches_retried));
        json_object_set_new(o, "batches_dropped", json_integer((json_int_t)st->batches_dropped));
        json_object_set_new(o, "last_success_ms", ms_or_null(st->last_success_ms));
        json_object_set_new(o, "last_error_ms", ms_or_null(st->last_error_ms));
        struct buf why;
        buf_init(&why);
        int stalled = health_output_stalled(&s->health, i, now, &why);
        json_object_set_new(o, "stalled", json_boolean(stalled));
        if (stalled)
            json_object_set_new(o, "last_error", json_string(why.data));
        buf_free(&why);
        if (out->ctx && out->plugin->describe) {
            struct buf text;
            buf_init(&text);
            out->plugin->describe(out, &text);
            json_object_set_new(o, "destination", json_string(text.data ? text.data : ""));
            buf_free(&text);
        }
        if (out->ctx && out->plugin->status)
            out->plugin->status(out, (struct json_t *)o);
        json_array_append_new(arr, o);
    }
    return arr;
}

static json_t *status_json(struct status_server *s)
{
    const struct status_view *v = &s->view;
    int64_t now = now_ms();
    int healthy;
    json_t *root = json_object();
    json_object_set_new(root, "version", json_string(COLLECTOR_VERSION));
    json_object_set_new(root, "git_rev", json_string(COLLECTOR_GIT_REV));
    json_object_set_new(root, "hostname", json_string(v->hostname ? v->hostname : ""));
    json_object_set_new(root, "pid", json_integer(getpid()));
    json_object_set_new(root, "time_ms", json_integer(now));
    json_object_set_new(root, "health", ready_json(s, &healthy, NULL));
    json_object_set_new(root, "healthy", json_boolean(healthy));
    json_object_set_new(root, "ready", json_boolean(healthy));
    const struct status_reloads *r = v->reloads;
    json_t *cfg = json_pack("{s:s, s:I, s:I, s:I}", "path", v->config_path, "generation",
                            (json_int_t)r->generation, "reloads", (json_int_t)r->ok,
                            "reloads_failed", (json_int_t)r->failed);
    json_object_set_new(cfg, "loaded_ms", json_integer(s->started_ms));
    json_object_set_new(cfg, "last_reload_error",
                        r->last_error ? json_string(r->last_error) : json_null());
    json_object_set_new(root, "config", cfg);
    json_int_t containers = 0;
    json_object_set_new(root, "inputs", inputs_json(v, &containers));
    json_object_set_new(root, "containers", json_integer(containers));
    json_object_set_new(root, "outputs", outputs_json(s, now));
    json_t *disabled = json_array();
    for (int i = 0; i < v->ndisabled; i++)
        json_array_append_new(disabled, json_string(v->disabled[i]));
    json_object_set_new(root, "outputs_disabled", disabled);
    struct pipeline_memory_use mu;
    pipeline_memory_use(v->pipeline, &mu);
    /* buffer_bytes: the data waiting to be delivered (0 at rest); memory.total:
     * everything memory_limit counts, buffers that stay included */
    uint64_t buffered = mu.batches + mu.encoded + mu.spool_reads;
    json_t *pl = json_pack("{s:I, s:I, s:I, s:I}", "buffer_bytes", (json_int_t)buffered,
                           "memory_limit", (json_int_t)v->memory_limit, "records_pending",
                           (json_int_t)pipeline_pending(v->pipeline), "batches_pending",
                           (json_int_t)pipeline_batches_pending(v->pipeline));
    /* where the bytes memory_limit counts are */
    json_object_set_new(pl, "memory",
                        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "limit",
                                  (json_int_t)v->memory_limit, "total", (json_int_t)mu.total,
                                  "batches", (json_int_t)mu.batches, "encoded",
                                  (json_int_t)mu.encoded, "spare_batches", (json_int_t)mu.spare,
                                  "spool_reads", (json_int_t)mu.spool_reads, "read_buffers",
                                  (json_int_t)mu.read_buffers, "output_buffers",
                                  (json_int_t)mu.output_buffers));
    json_object_set_new(root, "pipeline", pl);
    struct selfstat ss;
    selfstat_read(&ss);
    json_object_set_new(root, "process",
                        json_pack("{s:I, s:f, s:I, s:I, s:I}", "rss_bytes", (json_int_t)ss.rss_bytes,
                                  "cpu_seconds", ss.cpu_user_seconds + ss.cpu_system_seconds,
                                  "threads", (json_int_t)ss.threads, "open_fds",
                                  (json_int_t)ss.open_fds, "inotify_watches",
                                  (json_int_t)ss.inotify_watches));
    if (s->http) {
        struct http_server_counters hc;
        http_server_counters(s->http, &hc);
        json_object_set_new(root, "http",
                            json_pack("{s:s, s:i, s:I, s:I}", "listen",
                                      v->settings->http_listen, "connections", hc.connections,
                                      "requests", (json_int_t)hc.requests, "timeouts",
                                      (json_int_t)hc.timeouts));
    }
    return root;
}

/* ------------------------------------------------------------ routing */

static void body_json(struct http_response *resp, json_t *doc)
{
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    buf_append_str(resp->body, text ? text : "{}");
    buf_append_char(resp->body, '\n');
    free(text);
    json_decref(doc);
    resp->content_type = "application/json";
}

static void handle(void *arg, const struct http_request *req, struct http_response *resp)
{
    struct status_server *s = arg;
    int known = http_path_is(req, "/health") || http_path_is(req, "/ready") ||
                http_path_is(req, "/metrics") ||
                http_path_is(req, "/status") || http_path_is(req, "/");
    if (!known) {
        resp->status = 404;
        buf_append_str(resp->body, "not found; try /health, /ready, /metrics or /status\n");
        return;
    }
    if (!http_method_is(req, "GET") && !http_method_is(req, "HEAD")) {
        resp->status = 405;
        resp->allow = "GET, HEAD";
        buf_append_str(resp->body, "only GET and HEAD are served\n");
        return;
    }
    if (http_path_is(req, "/health")) {
        int live;
        json_t *doc = health_json(s, &live);
        resp->status = live ? 200 : 503;
        body_json(resp, doc);
    } else if (http_path_is(req, "/ready")) {
        int ready;
        json_t *doc = ready_json(s, &ready, NULL);
        resp->status = ready ? 200 : 503;
        body_json(resp, doc);
    } else if (http_path_is(req, "/metrics")) {
        status_metrics_format(s, resp->body);
        resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    } else if (http_path_is(req, "/status")) {
        body_json(resp, status_json(s));
    } else {
        buf_printf(resp->body, "collector %s\n/health  liveness: 200 while the agent runs, "
                   "503 for a check set to liveness\n"
                   "/ready   readiness: 200, or 503 with the reasons\n"
                   "/metrics Prometheus text\n/status  JSON state of inputs and outputs\n",
                   COLLECTOR_VERSION);
    }
}

/* ------------------------------------------------------------ life cycle */

static void on_tick(struct loop *loop, void *arg)
{
    struct status_server *s = arg;
    (void)loop;
    health_outputs_sample(&s->health, now_ms());
    logfile_check();
}

struct status_server *status_start(const struct status_view *view, struct loop *loop)
{
    const struct status_settings *cfg = view->settings;
    char err[512];
    if (logfile_configure(cfg->log_file, cfg->log_file_max_size, (int)cfg->log_file_keep, err,
                          sizeof err) < 0)
        log_msg(LOG_ERROR, "agent", "%s; logging to stderr", err);
    logfile_check(); /* also here: frequent reloads restart the tick before it fires */
    struct status_server *s = xcalloc(1, sizeof *s);
    s->view = *view;
    s->loop = loop;
    s->started_ms = now_ms();
    health_outputs_init(&s->health, view->outputs, view->noutputs, cfg->health_max_stall_ms);
    if (http_addr_parse(cfg->http_listen, &s->addr, err, sizeof err) < 0) {
        log_msg(LOG_ERROR, "status", "http_listen: %s", err);
        status_stop(s);
        return NULL;
    }
    if (s->addr.kind != HTTP_ADDR_OFF) {
        struct http_server_limits limits = {MAX_HEAD, MAX_CONNS, CONN_TIMEOUT_MS};
        s->http = http_server_new(loop, &s->addr, &limits, handle, s, err, sizeof err);
        if (!s->http) {
            if (cfg->http_listen_explicit) {
                log_msg(LOG_ERROR, "status", "cannot listen on http_listen = %s: %s",
                        cfg->http_listen, err);
                status_stop(s);
                return NULL;
            }
            log_msg(LOG_WARN, "status",
                    "cannot listen on the default http_listen = %s: %s; running without the "
                    "status endpoint (set http_listen to another address, or off)",
                    cfg->http_listen, err);
        } else {
            log_msg(LOG_INFO, "status", "status endpoint on %s%s (/health /ready /metrics /status)",
                    s->addr.kind == HTTP_ADDR_UNIX ? "unix:" : "http://", cfg->http_listen);
        }
    }
    s->tick = loop_timer_add(loop, 1000, 1000, on_tick, s);
    return s;
}

void status_stop(struct status_server *s)
{
    if (!s)
        return;
    http_server_free(s->http);
    loop_timer_del(s->loop, s->tick);
    health_outputs_free(&s->health);
    free(s);
}
