/* `stdout` output: every record as one JSON line on standard output. */
#include "collector/core/log.h"
#include "collector/pipeline/jsonl.h"
#include "collector/pipeline/batch.h"
#include "collector/plugin.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct option_def stdout_options[] = {{0}};

static int stdout_init(struct output_instance *out, struct diag *diag)
{
    (void)out;
    (void)diag;
    return 0;
}

static void *stdout_worker_init(struct output_instance *out)
{
    (void)out;
    struct buf *b = xmalloc(sizeof *b);
    buf_init(b);
    return b;
}

static void stdout_worker_free(struct output_instance *out, void *worker)
{
    (void)out;
    buf_free(worker);
    free(worker);
}

static enum output_result stdout_send(struct output_instance *out, void *worker, struct batch *b)
{
    static struct log_limit limit;
    struct buf *text = worker;
    buf_reset(text);
    jsonl_append_batch(text, b);
    if (write_all(STDOUT_FILENO, text->data, text->len) < 0) {
        log_every(&limit, 10000, LOG_ERROR, "stdout", "output %s: write to stdout failed: %s",
                  out->name, strerror(errno));
        return errno == EPIPE ? OUTPUT_DROP : OUTPUT_RETRY;
    }
    return OUTPUT_OK;
}

static void stdout_describe(struct output_instance *out, struct buf *text)
{
    (void)out;
    buf_append_str(text, "JSON lines on standard output");
}

const struct output_plugin stdout_output = {
    .name = "stdout",
    .description = "write records as JSON lines to standard output",
    .flags = OUTPUT_LOGS | OUTPUT_METRICS,
    .options = stdout_options,
    .init = stdout_init,
    .worker_init = stdout_worker_init,
    .worker_free = stdout_worker_free,
    .send = stdout_send,
    .describe = stdout_describe,
};
