/* Unit tests: routing, batching, retries and in-order acknowledgement in
 * the pipeline, with in-process test outputs on a real event loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/pipeline/batch.h"
#include "collector/core/util.h"
#include "collector/loop.h"
#include "collector/pipeline/pipeline.h"
#include "temp_dir.h"

/* A test output: records every message it accepts; fails the first
 * `fail_first` sends with the configured result. */
struct sink {
    pthread_mutex_t lock;
    char **messages;
    int count;
    int batches;
    int max_batch;
    int fail_first;
    enum output_result fail_with;
    int sends;
};

static enum output_result sink_send(struct output_instance *out, void *worker, struct batch *b)
{
    struct sink *s = out->ctx;
    (void)worker;
    pthread_mutex_lock(&s->lock);
    s->sends++;
    if (s->fail_first > 0) {
        s->fail_first--;
        pthread_mutex_unlock(&s->lock);
        return s->fail_with;
    }
    s->batches++;
    if ((int)b->count > s->max_batch)
        s->max_batch = (int)b->count;
    s->messages = realloc(s->messages, sizeof(char *) * (size_t)(s->count + (int)b->count));
    for (uint32_t i = 0; i < b->count; i++)
        s->messages[s->count++] = strdup(batch_str(b, b->logs[i].message_off));
    pthread_mutex_unlock(&s->lock);
    return OUTPUT_OK;
}

static const struct option_def no_options[] = {{0}};
static const struct output_plugin sink_plugin = {
    .name = "sink", .flags = OUTPUT_LOGS, .options = no_options, .send = sink_send,
};

/* The same sink, encoding once: the body is the messages, a line each (as
 * the CloudWatch outputs do, so the disk buffer stores bodies). */
static int lines_encode(struct output_instance *out, void *worker, struct batch *b, struct buf *body)
{
    (void)out;
    (void)worker;
    for (uint32_t i = 0; i < b->count; i++) {
        buf_append_str(body, batch_str(b, b->logs[i].message_off));
        buf_append(body, "\n", 1);
    }
    return 0;
}

static enum output_result lines_send(struct output_instance *out, void *worker, struct batch *b,
                                     const char *body, size_t len)
{
    struct sink *s = out->ctx;
    (void)worker;
    (void)b;
    pthread_mutex_lock(&s->lock);
    s->sends++;
    s->batches++;
    for (const char *p = body, *end = body + len, *nl; p < end; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(end - p));
        s->messages = realloc(s->messages, sizeof(char *) * (size_t)(s->count + 1));
        s->messages[s->count++] = strndup(p, (size_t)(nl - p));
    }
    pthread_mutex_unlock(&s->lock);
    return OUTPUT_OK;
}

static const struct output_plugin lines_plugin = {
    .name = "lines", .flags = OUTPUT_LOGS, .options = no_options, .send = sink_send,
    .encode = lines_encode, .send_encoded = lines_send,
};

/* A test input that records the cookies it is given back. */
struct source {
    uint64_t *commits;
    int ncommits;
};

static void source_commit(struct input_instance *in, uint64_t a, uint64_t b)
{
    struct source *s = in->ctx;
    (void)b;
    s->commits = realloc(s->commits, sizeof(uint64_t) * (size_t)(s->ncommits + 1));
    s->commits[s->ncommits++] = a;
}

static const struct input_plugin source_plugin = {
    .name = "source", .options = no_options, .commit = source_commit,
};

struct fixture {
    struct loop *loop;
    struct input_instance in;
    struct input_instance *inputs[1];
    struct output_instance outs[2];
    struct output_instance *outputs[2];
    struct sink sinks[2];
    struct source src;
    struct pipeline *p;
    int want_commits;
};

static void setup_output(struct fixture *f, int i, const char *match, int max_records,
                         const struct output_plugin *plugin)
{
    struct output_instance *o = &f->outs[i];
    memset(o, 0, sizeof *o);
    o->plugin = plugin;
    o->name = (char *)(i == 0 ? "first" : "second");
    o->index = (uint16_t)i;
    o->common.match.items = calloc(1, sizeof(char *));
    o->common.match.items[0] = strdup(match);
    o->common.match.count = 1;
    o->common.flush_interval_ms = 50;
    o->common.batch_max_records = max_records;
    o->common.batch_max_bytes = 1 << 20;
    o->common.workers = 2;
    o->common.retry_limit = -1;
    o->common.retry_max_backoff_ms = 40;
    pthread_mutex_init(&f->sinks[i].lock, NULL);
    o->ctx = &f->sinks[i];
    f->outputs[i] = o;
}

static uint64_t fixture_memory_limit = 64 << 20;
/* Where the outputs' disk buffers go: "/tmp" unless a test sets its own. */
static const char *fixture_data_dir = "/tmp";

/* Output 0 of plugin0 with `buffer = buffer0` (NULL: memory); output 1 a sink. */
static void fixture_init_with(struct fixture *f, const char *match0, const char *match1,
                              int max_records, const struct output_plugin *plugin0,
                              const char *buffer0)
{
    memset(f, 0, sizeof *f);
    f->loop = loop_new();
    f->in.plugin = &source_plugin;
    f->in.name = "src";
    f->in.tag = tag_intern("app.logs");
    f->in.ctx = &f->src;
    f->in.loop = f->loop;
    f->inputs[0] = &f->in;
    setup_output(f, 0, match0, max_records, plugin0);
    setup_output(f, 1, match1, max_records, &sink_plugin);
    f->outs[0].common.buffer = (char *)buffer0;
    struct pipeline_limits limits = {fixture_memory_limit, 0, fixture_data_dir};
    f->p = pipeline_new(f->loop, f->inputs, 1, f->outputs, 2, &limits);
    assert_non_null(f->p);
    assert_int_equal(pipeline_start(f->p), 0);
}

static void fixture_init(struct fixture *f, const char *match0, const char *match1, int max_records)
{
    fixture_init_with(f, match0, match1, max_records, &sink_plugin, NULL);
}

static void fixture_free(struct fixture *f)
{
    pipeline_free(f->p);
    loop_free(f->loop);
    for (int i = 0; i < 2; i++) {
        for (int j = 0; j < f->sinks[i].count; j++)
            free(f->sinks[i].messages[j]);
        free(f->sinks[i].messages);
        strlist_free(&f->outs[i].common.match);
    }
    free(f->src.commits);
}

static int commits(struct fixture *f)
{
    return f->src.ncommits;
}

static int delivered(struct fixture *f)
{
    pthread_mutex_lock(&f->sinks[0].lock);
    int n = f->sinks[0].count;
    pthread_mutex_unlock(&f->sinks[0].lock);
    return n;
}

static int (*run_count)(struct fixture *f);

static void stop_when_done(struct loop *loop, void *arg)
{
    struct fixture *f = arg;
    if (run_count(f) >= f->want_commits)
        loop_stop(loop);
}

static void give_up(struct loop *loop, void *arg)
{
    (void)arg;
    loop_stop(loop);
}

/* Run the loop until count(f) reaches n; fail after 10 s. */
static void run_until(struct fixture *f, int (*count)(struct fixture *f), int n, const char *what)
{
    f->want_commits = n;
    run_count = count;
    struct loop_timer *check = loop_timer_add(f->loop, 5, 5, stop_when_done, f);
    struct loop_timer *limit = loop_timer_add(f->loop, 10000, 0, give_up, f);
    loop_run(f->loop);
    loop_timer_del(f->loop, check);
    if (count(f) < n)
        fail_msg("only %d of %d records %s", count(f), n, what);
    else
        loop_timer_del(f->loop, limit);
}

static void run_until_commits(struct fixture *f, int n)
{
    run_until(f, commits, n, "committed");
}

/* Until output 0's sink holds n messages. */
static void run_until_delivered(struct fixture *f, int n)
{
    run_until(f, delivered, n, "delivered");
}

static void emit(struct fixture *f, int i, const char *tag)
{
    char msg[64];
    snprintf(msg, sizeof msg, "line %06d", i);
    struct log_event ev = {
        .timestamp_ns = 1, .message = msg, .message_len = strlen(msg),
        .tag = tag ? tag_intern(tag) : NULL, .cookie_a = (uint64_t)i,
    };
    pipeline_emit_log(&f->in, &ev);
}

static void test_routes_batches_and_commits_in_order(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, "app.*", "other.*", 100);
    enum { N = 2500 };
    for (int i = 0; i < N; i++)
        emit(&f, i, NULL);
    run_until_commits(&f, N);
    assert_int_equal(f.sinks[0].count, N);
    assert_int_equal(f.sinks[1].count, 0);      /* tag does not match other.* */
    assert_true(f.sinks[0].max_batch <= 100);   /* sealed by record count */
    assert_true(f.sinks[0].batches >= N / 100);
    for (int i = 0; i < N; i++) {
        char want[64];
        snprintf(want, sizeof want, "line %06d", i);
        assert_string_equal(f.sinks[0].messages[i], want); /* order kept */
        assert_int_equal(f.src.commits[i], i);              /* commits in order */
    }
    assert_int_equal(f.in.stats.records_in, N);
    assert_int_equal(f.outs[0].stats.records_out, N);
    assert_int_equal(pipeline_pending(f.p), 0);
    struct pipeline_memory_use u;
    pipeline_memory_use(f.p, &u);
    assert_int_equal(u.batches + u.encoded, 0);
    assert_int_equal(u.total, u.spare); /* only the emptied batches kept for reuse */
    fixture_free(&f);
}

/* memory_limit counts what a batch holds (its record array and arena),
 * not only the messages' bytes: 50 records of 11 bytes in an open batch
 * count at least the 50 record slots, and nothing once delivered. */
static void test_memory_counts_batch_capacity(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, "app.*", "other.*", 100);
    enum { N = 50 };
    for (int i = 0; i < N; i++)
        emit(&f, i, NULL);
    uint64_t payload = 0;
    for (int i = 0; i < N; i++)
        payload += 11;
    assert_true(pipeline_memory(f.p) >= N * sizeof(struct log_record) + payload);
    pipeline_flush(f.p);
    run_until_commits(&f, N);
    struct pipeline_memory_use u;
    pipeline_memory_use(f.p, &u);
    assert_int_equal(u.batches + u.encoded, 0);
    assert_true(u.spare > 0); /* the delivered batch, kept for reuse: counted */
    assert_int_equal(pipeline_memory(f.p), u.spare);
    fixture_free(&f);
}

/* A batch written to the disk buffer as its body keeps no records, but its
 * record arrays are kept, counted, for the next batch (at full speed they
 * were freed and grown again for every batch, and glibc gave them back to
 * the kernel in half of the runs: twice the CPU). */
static void test_disk_buffer_keeps_record_arrays_for_reuse(void **state)
{
    (void)state;
    char dir[128];
    assert_int_equal(temp_dir_make(dir, sizeof dir, "test_pipeline"), 0);
    fixture_data_dir = dir;
    struct fixture f;
    memset(&f, 0, sizeof f);
    fixture_init_with(&f, "app.*", "other.*", 100, &lines_plugin, "disk");
    enum { N = 350 };
    for (int i = 0; i < 100; i++)
        emit(&f, i, NULL);           /* the first batch: sealed, written, acknowledged */
    run_until_commits(&f, 100);
    struct pipeline_memory_use u;
    pipeline_memory_use(f.p, &u);
    /* its 100 record slots and its arena, not only a batch's shell */
    assert_true(u.spare >= 100 * sizeof(struct log_record) + 100 * 11);
    for (int i = 100; i < N; i++)
        emit(&f, i, NULL);
    pipeline_flush(f.p);
    run_until_commits(&f, N);
    /* every record, in order, once */
    run_until_delivered(&f, N);
    assert_int_equal(f.sinks[0].count, N);
    for (int i = 0; i < N; i++) {
        char want[64];
        snprintf(want, sizeof want, "line %06d", i);
        assert_string_equal(f.sinks[0].messages[i], want);
    }
    fixture_free(&f);
    fixture_data_dir = "/tmp";
    assert_int_equal(temp_dir_remove(dir), 0);
}

/* memory_limit counts the plugins' own buffers too (an output's encode and
 * HTTP buffers, an input's read buffer): with 900 KiB of them under a 1 MiB
 * limit, the input pauses once batches hold the last ~124 KiB, not at 1 MiB
 * of batches; the buffers alone never pause it (nothing would resume it). */
static void test_memory_limit_counts_plugin_buffers(void **state)
{
    (void)state;
    struct fixture f;
    fixture_memory_limit = 1 << 20;
    fixture_init(&f, "app.*", "other.*", 100000);
    fixture_memory_limit = 64 << 20;
    atomic_store(&f.outs[0].buffer_bytes, 800 << 10);
    atomic_store(&f.in.buffer_bytes, 100 << 10);
    assert_false(pipeline_input_paused(&f.in));
    struct pipeline_memory_use u;
    pipeline_memory_use(f.p, &u);
    assert_int_equal(u.output_buffers, 800 << 10);
    assert_int_equal(u.read_buffers, 100 << 10);
    assert_int_equal(u.total, 900 << 10);
    int n = 0;
    while (!pipeline_input_paused(&f.in) && n < 100000)
        emit(&f, n++, NULL);
    pipeline_memory_use(f.p, &u);
    assert_true(u.batches > 0);
    assert_true(u.batches < (1 << 20) / 2); /* paused long before 1 MiB of batches */
    assert_int_equal(u.total, u.batches + u.encoded + u.spare + u.spool_reads + u.read_buffers +
                                  u.output_buffers);
    run_until_commits(&f, n);               /* the pause flushed them: delivered */
    assert_int_equal(f.sinks[0].count, n);
    pipeline_memory_use(f.p, &u);
    assert_int_equal(u.batches + u.encoded, 0);
    atomic_store(&f.outs[0].buffer_bytes, 0);
    atomic_store(&f.in.buffer_bytes, 0);
    fixture_free(&f);
}

static void test_retry_keeps_order_and_waits_for_all_outputs(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, "*", "app.*", 10);
    f.sinks[1].fail_first = 3;
    f.sinks[1].fail_with = OUTPUT_RETRY;
    enum { N = 200 };
    for (int i = 0; i < N; i++)
        emit(&f, i, NULL);
    run_until_commits(&f, N);
    for (int s = 0; s < 2; s++) {
        assert_int_equal(f.sinks[s].count, N);
        for (int i = 0; i < N; i++) {
            char want[64];
            snprintf(want, sizeof want, "line %06d", i);
            assert_string_equal(f.sinks[s].messages[i], want);
        }
    }
    assert_int_equal(f.outs[1].stats.batches_retried, 3);
    assert_int_equal(f.outs[1].stats.records_dropped, 0);
    fixture_free(&f);
}

static void test_drop_is_counted_and_acknowledged(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, "app.*", "none", 50);
    f.sinks[0].fail_first = 1;
    f.sinks[0].fail_with = OUTPUT_DROP;
    for (int i = 0; i < 100; i++)
        emit(&f, i, NULL);
    run_until_commits(&f, 100);
    assert_int_equal(f.outs[0].stats.records_dropped, 50);
    assert_int_equal(f.sinks[0].count, 50);
    fixture_free(&f);
}

static void test_unrouted_records_are_counted_and_committed(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, "app.*", "other.*", 10);
    for (int i = 0; i < 5; i++)
        emit(&f, i, "nobody.listens");
    assert_int_equal(f.src.ncommits, 5); /* committed at once: nothing to wait for */
    assert_int_equal(f.in.stats.records_unrouted, 5);
    assert_int_equal(f.sinks[0].count + f.sinks[1].count, 0);
    fixture_free(&f);
}

static void test_route_matches_globs(void **state)
{
    (void)state;
    char *items[] = {"ecs.*", "docker.[ab]", "exact"};
    struct strlist l = {items, 3};
    assert_true(route_matches(&l, "ecs.agent"));
    assert_true(route_matches(&l, "docker.a"));
    assert_false(route_matches(&l, "docker.c"));
    assert_true(route_matches(&l, "exact"));
    assert_false(route_matches(&l, "exactly"));
    struct strlist empty = {NULL, 0};
    assert_false(route_matches(&empty, "anything"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes_batches_and_commits_in_order),
        cmocka_unit_test(test_memory_counts_batch_capacity),
        cmocka_unit_test(test_disk_buffer_keeps_record_arrays_for_reuse),
        cmocka_unit_test(test_memory_limit_counts_plugin_buffers),
        cmocka_unit_test(test_retry_keeps_order_and_waits_for_all_outputs),
        cmocka_unit_test(test_drop_is_counted_and_acknowledged),
        cmocka_unit_test(test_unrouted_records_are_counted_and_committed),
        cmocka_unit_test(test_route_matches_globs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
