/* `null` output: counts and discards. For benchmarks and for measuring the
 * pipeline alone; its counters are the output statistics every output has. */
#include "collector/pipeline/batch.h"
#include "collector/plugin.h"

static const struct option_def null_options[] = {{0}};

static int null_init(struct output_instance *out, struct diag *diag)
{
    (void)out;
    (void)diag;
    return 0;
}

static enum output_result null_send(struct output_instance *out, void *worker, struct batch *b)
{
    (void)out;
    (void)worker;
    (void)b;
    return OUTPUT_OK;
}

const struct output_plugin null_output = {
    .name = "null",
    .description = "count records and discard them",
    .flags = OUTPUT_LOGS | OUTPUT_METRICS,
    .options = null_options,
    .conf_size = 0,
    .init = null_init,
    .send = null_send,
};
