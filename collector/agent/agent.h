/* The agent: configuration turned into running inputs, outputs and a
 * pipeline on one event loop; signals; reload; graceful stop. */
#ifndef COLLECTOR_AGENT_H
#define COLLECTOR_AGENT_H

#include "collector/agent/agent_check.h"
#include "collector/core/config.h"
#include "collector/plugin.h"

#include <stdint.h>
#include <stdio.h>

struct aws_settings;
struct status_settings;
struct status_server;

/* [agent] section. */
struct agent_conf {
    char *log_level;
    char *log_format;              /* logfmt | json */
    char *data_dir;
    char *hostname;                /* default: gethostname() */
    int64_t shutdown_timeout_ms;
    uint64_t memory_limit;
    uint64_t input_memory_limit;
    struct aws_settings *aws;      /* AWS keys of the [agent] section (aws.h) */
    struct status_settings *status; /* status endpoint and own log keys (status/status.h) */
};

struct agent {
    char *config_path;
    struct config cfg;
    struct agent_conf conf;
    struct plugin_host host;            /* what plugins see of conf (plugin.h) */
    struct input_instance **inputs;
    int ninputs;
    struct output_instance **outputs;   /* the enabled ones */
    int noutputs;
    char **disabled;                    /* "name (type): why" of outputs left out */
    int ndisabled;
    struct loop *loop;
    struct pipeline *pipeline;
    struct status_server *status;  /* the status endpoint while running */
    struct diag warnings;          /* check-config's warnings, file:line (agent_check.h) */
};

/* Read and validate the configuration at path into a new agent (nothing
 * started). On error returns NULL with every problem in diag. */
struct agent *agent_load(const char *path, struct diag *diag);
void agent_free(struct agent *a);

/* What check-config's checks read (agent_check.h). */
struct check_view agent_check_view(const struct agent *a);

/* check-config: print the effective configuration, secrets masked. */
void agent_print_config(const struct agent *a, FILE *out);

/* The configuration at path listed as check-config prints it (secrets
 * masked), or its errors; the number of errors (bundle.h's lister). */
int agent_list_config(const char *path, FILE *out);

/* Run until SIGTERM/SIGINT; SIGHUP reloads. Returns the process exit code. */
int agent_run(const char *path);

/* The configuration reference in Markdown, generated from every option
 * table (README.md embeds it; a test checks it is current). */
void agent_print_reference(FILE *out);

/* `collector help input TYPE` / `output TYPE`: the common and the module's
 * options from their tables. 0, or -1 when there is no such module. */
int agent_print_module_help(FILE *out, const char *kind, const char *type);
/* `collector help agent`: every key of the [agent] section. */
void agent_print_agent_help(FILE *out);

extern const struct option_def agent_options[];
/* Keys every [input] and every [output] section takes (type, tag / match...). */
extern const struct option_def input_common_options[];
extern const struct option_def output_common_options[];

#endif
