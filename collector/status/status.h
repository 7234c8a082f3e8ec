/* The status endpoint: GET /health, /ready, /metrics, /status on the agent's loop,
 * plus the agent's own log file. Started by agent_start after the pipeline,
 * stopped by agent_stop before it is freed.
 *
 *   [agent]
 *   http_listen = 127.0.0.1:8934      # or [::1]:8934, /run/collector.sock, off
 *   health.max_stall = 5m
 *   log_file = /var/log/collector.log # default: stderr
 */
#ifndef COLLECTOR_STATUS_H
#define COLLECTOR_STATUS_H

#include "collector/core/options.h"
#include "collector/core/util.h"
#include "collector/status/view.h"

#include <stdint.h>

/* No common agent's default: Fluent Bit takes 2020, Fluentd 24220, the
 * CloudWatch agent 25888/8125/25826, the X-Ray daemon 2000, the ECS agent
 * 51678/51679, Vector 8686, the OpenTelemetry collector 13133/8888. */
#define STATUS_DEFAULT_LISTEN "127.0.0.1:8934"

struct loop;
struct conf_section;
struct diag;

/* Keys of the [agent] section bound by agent_load (status_options). */
struct status_settings {
    char *http_listen;
    int64_t health_max_stall_ms;
    char *log_file;
    uint64_t log_file_max_size;
    int64_t log_file_keep;
    /* Not keys: set by status_settings_check. */
    int http_listen_explicit;   /* written in the file (a bind failure is then fatal) */
};

extern const struct option_def status_options[];

/* Validate what the table cannot (the listen address); the [agent] section
 * may be NULL. Errors go to diag with file:line. */
void status_settings_check(struct status_settings *s, const struct conf_section *agent_section,
                           const char *path, struct diag *diag);

struct status_server;

/* Configure the log file and start listening. NULL on a fatal error (logged,
 * naming the address). With http_listen = off only the housekeeping timer runs.
 * The view is copied; what it points to must outlive the server. */
struct status_server *status_start(const struct status_view *view, struct loop *loop);
void status_stop(struct status_server *s);

/* Extra metrics from other modules (the disk buffer, the AWS client):
 * fn appends Prometheus text (prometheus.h) for its own families.
 * Inputs report health through their plugin's health callback (plugin.h). */
typedef void (*status_metrics_fn)(void *arg, struct buf *out);
int status_register_metrics(const char *name, status_metrics_fn fn, void *arg);
void status_unregister_metrics(const char *name, void *arg);

/* `collector status [--addr ADDR] [--json]`: the CLI command (status_cli.c). */
int status_cli_main(int argc, char **argv);

#endif
