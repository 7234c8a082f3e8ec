/* The one list of modules. Adding an input or output is adding its file and
 * one line here. */
#include "collector/pipeline/batch.h"
#include "collector/plugin.h"

#include "collector/core/util.h"

#include <string.h>

extern const struct input_plugin generate_input;
extern const struct input_plugin tail_input;
extern const struct input_plugin containers_input;
extern const struct input_plugin container_metrics_input;
extern const struct input_plugin host_metrics_input;
extern const struct input_plugin journald_input;

extern const struct output_plugin null_output;
extern const struct output_plugin stdout_output;
extern const struct output_plugin file_output;
extern const struct output_plugin cloudwatch_logs_output;
extern const struct output_plugin cloudwatch_metrics_output;

const struct input_plugin *const input_plugins[] = {
    &generate_input,
    &tail_input,
    &containers_input,
    &container_metrics_input,
    &host_metrics_input,
    &journald_input,
    NULL,
};

const struct output_plugin *const output_plugins[] = {
    &cloudwatch_logs_output,
    &cloudwatch_metrics_output,
    &file_output,
    &null_output,
    &stdout_output,
    NULL,
};

const char *const drop_reason_names[DROP_REASON_COUNT] = {
    "retries_exhausted", "rejected", "too_old", "too_new", "invalid", "buffer_full", "corrupt",
};

void output_count_drop(struct output_instance *out, enum drop_reason reason, uint64_t n)
{
    out->stats.records_dropped += n;
    out->stats.dropped[reason] += n;
}

void output_note_credentials(struct output_instance *out, int ok, int64_t expire_ms)
{
    out->stats.credentials_expire_ms = expire_ms;
    if (ok)
        out->stats.credentials_failing_ms = 0;
    else if (out->stats.credentials_failing_ms == 0)
        out->stats.credentials_failing_ms = now_ms();
}

void output_drop_records(struct output_instance *out, struct batch *b, enum drop_reason reason,
                         uint32_t n)
{
    output_count_drop(out, reason, n);
    b->dropped += n;
}

const struct input_plugin *input_plugin_find(const char *name)
{
    for (int i = 0; input_plugins[i]; i++)
        if (strcmp(input_plugins[i]->name, name) == 0)
            return input_plugins[i];
    return NULL;
}

const struct output_plugin *output_plugin_find(const char *name)
{
    for (int i = 0; output_plugins[i]; i++)
        if (strcmp(output_plugins[i]->name, name) == 0)
            return output_plugins[i];
    return NULL;
}
