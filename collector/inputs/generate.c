/* `generate` input: synthetic records for tests and benchmarks.
 *
 * Each message is "<prefix> <sequence, 10 digits>" padded with 'x' to
 * `size` bytes, so a test can check exactly which records arrived. With
 * rate = 0 it emits as fast as the pipeline accepts (pausing when the
 * pipeline is full); otherwise about `rate` records per second. When all
 * `count` records are acknowledged it says so once in the log. */
#include "collector/core/log.h"
#include "collector/core/util.h"
#include "collector/loop.h"
#include "collector/pipeline/pipeline.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GENERATE_CHUNK 1024

struct generate_conf {
    int64_t count;
    uint64_t size;
    int64_t rate;
    char *message;
};

static const struct option_def generate_options[] = {
    {"count", OPT_INT, "0", 0, offsetof(struct generate_conf, count), "0..1000000000000",
     "records to generate; 0 = without end"},
    {"size", OPT_SIZE, "100", 0, offsetof(struct generate_conf, size), NULL,
     "bytes per message (at least the prefix and sequence number)"},
    {"rate", OPT_INT, "0", 0, offsetof(struct generate_conf, rate), "0..100000000",
     "records per second; 0 = as fast as the pipeline accepts"},
    {"message", OPT_STRING, NULL, 0, offsetof(struct generate_conf, message), NULL,
     "message prefix; default the input's name"},
    {0},
};

struct generate_state {
    struct generate_conf *conf;
    char *text;                 /* the message buffer, rewritten per record */
    size_t text_len;
    size_t seq_at;              /* where the sequence digits start */
    uint64_t emitted;
    uint64_t acked;
    int stopped;
    int done_logged;
    struct loop_idle idle;
    struct loop_timer *timer;
    int64_t started_ms;
};

static int generate_init(struct input_instance *in, struct diag *diag)
{
    struct generate_conf *conf = in->conf;
    const char *prefix = conf->message ? conf->message : in->name;
    size_t need = strlen(prefix) + 11;
    (void)diag;
    struct generate_state *st = xcalloc(1, sizeof *st);
    st->conf = conf;
    st->text_len = conf->size > need ? conf->size : need;
    st->text = xmalloc(st->text_len + 1);
    memset(st->text, 'x', st->text_len);
    st->text[st->text_len] = '\0';
    memcpy(st->text, prefix, strlen(prefix));
    st->text[strlen(prefix)] = ' ';
    st->seq_at = strlen(prefix) + 1;
    if (st->text_len > need)
        st->text[need] = ' ';
    in->ctx = st;
    return 0;
}

static int finished(const struct generate_state *st)
{
    return st->stopped || (st->conf->count > 0 && st->emitted >= (uint64_t)st->conf->count);
}

/* Write the sequence number's 10 digits in place (no printf on the hot path). */
static void put_sequence(char *at, uint64_t n)
{
    for (int i = 9; i >= 0; i--) {
        at[i] = (char)('0' + n % 10);
        n /= 10;
    }
}

static void emit_one(struct input_instance *in, struct generate_state *st, int64_t ts_ns)
{
    put_sequence(st->text + st->seq_at, st->emitted);
    struct log_event ev = {
        .timestamp_ns = ts_ns,
        .message = st->text,
        .message_len = st->text_len,
        .cookie_a = st->emitted,
    };
    pipeline_emit_log(in, &ev);
    st->emitted++;
}

static void emit_fast(struct loop *loop, void *arg)
{
    struct input_instance *in = arg;
    struct generate_state *st = in->ctx;
    int64_t ts = now_ns(); /* one clock read per chunk */
    for (int i = 0; i < GENERATE_CHUNK && !finished(st); i++) {
        if (pipeline_input_paused(in))
            return; /* resume() re-arms */
        emit_one(in, st, ts);
    }
    if (!finished(st))
        loop_idle_arm(loop, &st->idle);
}

static void emit_paced(struct loop *loop, void *arg)
{
    struct input_instance *in = arg;
    struct generate_state *st = in->ctx;
    (void)loop;
    uint64_t due = (uint64_t)((mono_ms() - st->started_ms) * st->conf->rate / 1000);
    int64_t ts = now_ns();
    while (st->emitted < due && !finished(st) && !pipeline_input_paused(in))
        emit_one(in, st, ts);
}

static int generate_start(struct input_instance *in)
{
    struct generate_state *st = in->ctx;
    st->started_ms = mono_ms();
    if (st->conf->rate > 0) {
        st->timer = loop_timer_add(in->loop, 100, 100, emit_paced, in);
        return st->timer ? 0 : -1;
    }
    loop_idle_init(&st->idle, emit_fast, in);
    loop_idle_arm(in->loop, &st->idle);
    return 0;
}

static void generate_resume(struct input_instance *in)
{
    struct generate_state *st = in->ctx;
    if (st->conf->rate == 0 && !finished(st))
        loop_idle_arm(in->loop, &st->idle);
}

static void generate_commit(struct input_instance *in, uint64_t a, uint64_t b)
{
    struct generate_state *st = in->ctx;
    (void)a;
    (void)b;
    st->acked++;
    if (st->conf->count > 0 && st->acked == (uint64_t)st->conf->count && !st->done_logged) {
        st->done_logged = 1;
        log_msg(LOG_INFO, "generate", "input %s: all %" PRIu64 " records acknowledged", in->name,
                st->acked);
    }
}

static void generate_stop(struct input_instance *in)
{
    struct generate_state *st = in->ctx;
    st->stopped = 1;
    if (st->conf->rate == 0)
        loop_idle_cancel(in->loop, &st->idle);
    loop_timer_del(in->loop, st->timer);
    st->timer = NULL;
}

static void generate_destroy(struct input_instance *in)
{
    struct generate_state *st = in->ctx;
    if (!st)
        return;
    free(st->text);
    free(st);
    in->ctx = NULL;
}

static void generate_describe(struct input_instance *in, struct buf *out)
{
    struct generate_state *st = in->ctx;
    buf_printf(out, "%" PRIu64 " generated, %" PRIu64 " acknowledged", st->emitted, st->acked);
}

const struct input_plugin generate_input = {
    .name = "generate",
    .description = "synthetic records for tests and benchmarks",
    .options = generate_options,
    .conf_size = sizeof(struct generate_conf),
    .init = generate_init,
    .start = generate_start,
    .resume = generate_resume,
    .commit = generate_commit,
    .stop = generate_stop,
    .destroy = generate_destroy,
    .describe = generate_describe,
};
