/* GET /metrics: the agent's own counters and gauges in Prometheus text.
 * Names are collector_*; counters end in _total. Input and output metrics
 * carry the section name and module type as labels. */
#include "collector/pipeline/pipeline.h"
#include "collector/plugin.h"
#include "parsers/multiline.h"
#include "collector/status/selfstat.h"
#include "collector/status/status.h"
#include "collector/status/status_internal.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------ other modules' families */

struct metrics_provider {
    char *name;
    status_metrics_fn fn;
    void *arg;
};
/* Process-wide: one agent per process, touched only on the loop thread. */
static struct metrics_provider providers[16];
static int nproviders;

int status_register_metrics(const char *name, status_metrics_fn fn, void *arg)
{
    if (nproviders >= (int)(sizeof providers / sizeof providers[0]))
        return -1;
    providers[nproviders++] = (struct metrics_provider){xstrdup(name), fn, arg};
    return 0;
}

void status_unregister_metrics(const char *name, void *arg)
{
    for (int i = 0; i < nproviders; i++) {
        if (providers[i].arg == arg && strcmp(providers[i].name, name) == 0) {
            free(providers[i].name);
            memmove(&providers[i], &providers[i + 1],
                    sizeof providers[0] * (size_t)(nproviders - i - 1));
            nproviders--;
            return;
        }
    }
}

/* ------------------------------------------------------- the agent's own */

/* One counter or gauge family over every input (or output). */
struct input_metric {
    const char *name, *type, *help;
    uint64_t (*get)(const struct input_instance *in);
};

static uint64_t in_records(const struct input_instance *in) { return in->stats.records_in; }
static uint64_t in_bytes(const struct input_instance *in) { return in->stats.bytes_in; }
static uint64_t in_acked(const struct input_instance *in) { return in->stats.records_acked; }
static uint64_t in_unrouted(const struct input_instance *in) { return in->stats.records_unrouted; }

static const struct input_metric input_metrics[] = {
    {"collector_input_records_total", "counter", "records read by the input", in_records},
    {"collector_input_bytes_total", "counter", "message bytes read by the input", in_bytes},
    {"collector_input_records_acked_total", "counter",
     "records of the input delivered (or dropped and counted) by every output they were routed to",
     in_acked},
    {"collector_input_records_unrouted_total", "counter", "records that matched no output",
     in_unrouted},
};

struct output_metric {
    const char *name, *type, *help;
    uint64_t (*get)(const struct output_stats *st);
};

static uint64_t o_records(const struct output_stats *s) { return s->records_out; }
static uint64_t o_bytes(const struct output_stats *s) { return s->bytes_out; }
static uint64_t o_truncated(const struct output_stats *s) { return s->records_truncated; }
static uint64_t o_throttled(const struct output_stats *s) { return s->throttled; }
static uint64_t o_batches(const struct output_stats *s) { return s->batches_out; }
static uint64_t o_retried(const struct output_stats *s) { return s->batches_retried; }
static uint64_t o_bdropped(const struct output_stats *s) { return s->batches_dropped; }
static uint64_t o_pending(const struct output_stats *s) { return s->batches_pending; }

static const struct output_metric output_metrics[] = {
    {"collector_output_records_total", "counter", "records delivered", o_records},
    {"collector_output_bytes_total", "counter", "payload bytes delivered", o_bytes},
    {"collector_output_records_truncated_total", "counter",
     "records delivered cut to the destination's size limit", o_truncated},
    {"collector_output_throttled_total", "counter", "requests answered with throttling",
     o_throttled},
    {"collector_output_batches_total", "counter", "batches delivered", o_batches},
    {"collector_output_batch_retries_total", "counter", "failed sends of a batch that is retried",
     o_retried},
    {"collector_output_batches_dropped_total", "counter", "batches given up on", o_bdropped},
    {"collector_output_batches_pending", "gauge", "batches sealed and queued or in flight",
     o_pending},
};

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void format_inputs(const struct status_view *v, struct buf *out)
{
    for (int m = 0; m < COUNT(input_metrics); m++) {
        prom_family(out, input_metrics[m].name, input_metrics[m].type, input_metrics[m].help);
        for (int i = 0; i < v->ninputs; i++) {
            struct prom_label l[2] = {{"input", v->inputs[i]->name},
                                      {"type", v->inputs[i]->plugin->name}};
            prom_sample_u64(out, input_metrics[m].name, l, 2, input_metrics[m].get(v->inputs[i]));
        }
    }
    prom_family(out, "collector_multiline_match_limit_total", "counter",
                "lines whose multiline start regex gave up at the match limit (each kept as a "
                "record of its own)");
    prom_sample_u64(out, "collector_multiline_match_limit_total", NULL, 0, ml_limit_hits());
}

static void format_outputs(const struct status_view *v, struct buf *out)
{
    for (int m = 0; m < COUNT(output_metrics); m++) {
        prom_family(out, output_metrics[m].name, output_metrics[m].type, output_metrics[m].help);
        for (int i = 0; i < v->noutputs; i++) {
            struct prom_label l[2] = {{"output", v->outputs[i]->name},
                                      {"type", v->outputs[i]->plugin->name}};
            prom_sample_u64(out, output_metrics[m].name, l, 2,
                            output_metrics[m].get(&v->outputs[i]->stats));
        }
    }
    prom_family(out, "collector_output_records_dropped_total", "counter",
                "records not delivered, by reason");
    for (int i = 0; i < v->noutputs; i++) {
        for (int r = 0; r < DROP_REASON_COUNT; r++) {
            struct prom_label l[3] = {{"output", v->outputs[i]->name},
                                      {"type", v->outputs[i]->plugin->name},
                                      {"reason", drop_reason_names[r]}};
            prom_sample_u64(out, "collector_output_records_dropped_total", l, 3,
                            v->outputs[i]->stats.dropped[r]);
        }
    }
    prom_family(out, "collector_output_last_success_timestamp_seconds", "gauge",
                "when a batch was last delivered (0 = never)");
    for (int i = 0; i < v->noutputs; i++) {
        struct prom_label l[2] = {{"output", v->outputs[i]->name},
                                  {"type", v->outputs[i]->plugin->name}};
        prom_sample_double(out, "collector_output_last_success_timestamp_seconds", l, 2,
                           (double)v->outputs[i]->stats.last_success_ms / 1000.0);
    }
    prom_family(out, "collector_output_last_error_timestamp_seconds", "gauge",
                "when a send last failed (0 = never)");
    for (int i = 0; i < v->noutputs; i++) {
        struct prom_label l[2] = {{"output", v->outputs[i]->name},
                                  {"type", v->outputs[i]->plugin->name}};
        prom_sample_double(out, "collector_output_last_error_timestamp_seconds", l, 2,
                           (double)v->outputs[i]->stats.last_error_ms / 1000.0);
    }
    struct {
        const char *name, *type, *help;
    } const per_output[] = {
        {"collector_output_buffer_bytes", "gauge", "bytes of chunks in the output's disk buffer"},
        {"collector_output_buffer_chunks", "gauge", "chunks in the output's disk buffer"},
        {"collector_output_buffer_full", "gauge", "1 when the disk buffer is at buffer.max_size"},
        {"collector_output_buffer_write_errors_total", "counter", "chunks that could not be written"},
        {"collector_output_chunks_corrupt_total", "counter", "damaged chunks moved aside"},
        {"collector_output_credentials_expiry_timestamp_seconds", "gauge",
         "when the temporary AWS credentials in use expire (0 = static or none)"},
    };
    for (size_t f = 0; f < sizeof per_output / sizeof per_output[0]; f++) {
        prom_family(out, per_output[f].name, per_output[f].type, per_output[f].help);
        for (int i = 0; i < v->noutputs; i++) {
            const struct output_stats *st = &v->outputs[i]->stats;
            struct prom_label l[2] = {{"output", v->outputs[i]->name},
                                      {"type", v->outputs[i]->plugin->name}};
            double value = f == 0 ? (double)st->buffer_bytes
                       : f == 1 ? (double)st->buffer_chunks
                       : f == 2 ? (double)st->buffer_full
                       : f == 3 ? (double)st->buffer_write_errors
                       : f == 4 ? (double)st->chunks_corrupt
                                : (double)st->credentials_expire_ms / 1000.0;
            prom_sample_double(out, per_output[f].name, l, 2, value);
        }
    }
    prom_family(out, "collector_output_send_duration_seconds", "histogram",
                "time one send() of a batch took");
    for (int i = 0; i < v->noutputs; i++) {
        struct prom_label l[2] = {{"output", v->outputs[i]->name},
                                  {"type", v->outputs[i]->plugin->name}};
        prom_histogram_format(out, "collector_output_send_duration_seconds", l, 2,
                              &v->outputs[i]->stats.send_seconds);
    }
}

static void gauge(struct buf *out, const char *name, const char *type, const char *help,
                  double value)
{
    prom_family(out, name, type, help);
    prom_sample_double(out, name, NULL, 0, value);
}

static void format_agent(struct status_server *s, struct buf *out)
{
    const struct status_view *v = &s->view;
    prom_family(out, "collector_build_info", "gauge", "version of the running agent (always 1)");
    struct prom_label bl[2] = {{"version", COLLECTOR_VERSION}, {"git_rev", COLLECTOR_GIT_REV}};
    prom_sample_u64(out, "collector_build_info", bl, 2, 1);

    int64_t now = now_ms();
    health_outputs_sample(&s->health, now);
    struct health_failure fails[16];
    int failing = health_evaluate(&s->health, v->inputs, v->ninputs, now, v->reloads->last_error,
                                  fails, 16);
    int live = health_live(fails, failing, 16);
    gauge(out, "collector_healthy", "gauge", "1 when /health (liveness) answers 200, else 0",
          live);
    gauge(out, "collector_ready", "gauge", "1 when /ready answers 200, else 0", failing == 0);
    gauge(out, "collector_health_failures", "gauge", "failing readiness checks", failing);

    const struct status_reloads *r = v->reloads;
    gauge(out, "collector_config_generation", "gauge",
          "configuration generation: 1 at start, +1 per successful reload", (double)r->generation);
    prom_family(out, "collector_config_reloads_total", "counter", "configuration reloads (SIGHUP)");
    struct prom_label ok[1] = {{"result", "success"}}, bad[1] = {{"result", "failure"}};
    prom_sample_u64(out, "collector_config_reloads_total", ok, 1, r->ok);
    prom_sample_u64(out, "collector_config_reloads_total", bad, 1, r->failed);
    gauge(out, "collector_config_last_reload_successful", "gauge",
          "0 while the last reload failed, else 1", r->last_error ? 0 : 1);
    gauge(out, "collector_config_loaded_timestamp_seconds", "gauge",
          "when the running configuration was loaded", (double)s->started_ms / 1000.0);

    struct pipeline_memory_use mu;
    pipeline_memory_use(v->pipeline, &mu);
    gauge(out, "collector_pipeline_buffer_bytes", "gauge",
          "bytes of data waiting in memory: batches, their bodies, chunks read back",
          (double)(mu.batches + mu.encoded + mu.spool_reads));
    prom_family(out, "collector_pipeline_memory_bytes", "gauge",
                "bytes memory_limit counts, by what holds them");
    const struct {
        const char *kind;
        uint64_t bytes;
    } parts[] = {{"batches", mu.batches},           {"encoded", mu.encoded},
                 {"spare_batches", mu.spare},       {"spool_reads", mu.spool_reads},
                 {"read_buffers", mu.read_buffers}, {"output_buffers", mu.output_buffers}};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        struct prom_label kind[1] = {{"kind", parts[i].kind}};
        prom_sample_u64(out, "collector_pipeline_memory_bytes", kind, 1, parts[i].bytes);
    }
    gauge(out, "collector_pipeline_buffer_limit_bytes", "gauge", "memory_limit",
          (double)v->memory_limit);
    gauge(out, "collector_pipeline_batches_pending", "gauge",
          "sealed batches queued or in flight, every output", (double)pipeline_batches_pending(v->pipeline));
    gauge(out, "collector_pipeline_records_pending", "gauge",
          "records read and not yet acknowledged, every input", (double)pipeline_pending(v->pipeline));
}

static void format_process(struct status_server *s, struct buf *out)
{
    struct selfstat ss;
    selfstat_read(&ss);
    gauge(out, "collector_process_resident_memory_bytes", "gauge", "resident set size",
          (double)ss.rss_bytes);
    prom_family(out, "collector_process_cpu_seconds_total", "counter", "CPU time used, by mode");
    struct prom_label user[1] = {{"mode", "user"}}, sys[1] = {{"mode", "system"}};
    prom_sample_double(out, "collector_process_cpu_seconds_total", user, 1, ss.cpu_user_seconds);
    prom_sample_double(out, "collector_process_cpu_seconds_total", sys, 1, ss.cpu_system_seconds);
    gauge(out, "collector_process_threads", "gauge", "threads", (double)ss.threads);
    gauge(out, "collector_process_open_fds", "gauge", "open file descriptors", (double)ss.open_fds);
    gauge(out, "collector_process_max_fds", "gauge", "descriptor limit (soft RLIMIT_NOFILE)",
          (double)ss.max_fds);
    gauge(out, "collector_process_inotify_watches", "gauge", "inotify watches held",
          (double)ss.inotify_watches);
    gauge(out, "collector_process_start_time_seconds", "gauge", "process start time",
          ss.start_time_seconds);
    if (s->http) {
        struct http_server_counters hc;
        http_server_counters(s->http, &hc);
        gauge(out, "collector_http_connections", "gauge", "open status endpoint connections",
              hc.connections);
        prom_family(out, "collector_http_requests_total", "counter",
                    "status endpoint requests answered");
        prom_sample_u64(out, "collector_http_requests_total", NULL, 0, hc.requests);
        prom_family(out, "collector_http_bad_requests_total", "counter",
                    "malformed, oversized or non-HTTP/1 requests answered with an error");
        prom_sample_u64(out, "collector_http_bad_requests_total", NULL, 0, hc.errors);
        prom_family(out, "collector_http_timeouts_total", "counter",
                    "connections closed at their deadline (slow clients)");
        prom_sample_u64(out, "collector_http_timeouts_total", NULL, 0, hc.timeouts);
        prom_family(out, "collector_http_rejected_total", "counter",
                    "connections closed at once: too many open");
        prom_sample_u64(out, "collector_http_rejected_total", NULL, 0, hc.rejected);
    }
}

void status_metrics_format(struct status_server *s, struct buf *out)
{
    format_agent(s, out);
    format_inputs(&s->view, out);
    format_outputs(&s->view, out);
    format_process(s, out);
    for (int i = 0; i < nproviders; i++)
        providers[i].fn(providers[i].arg, out);
}
