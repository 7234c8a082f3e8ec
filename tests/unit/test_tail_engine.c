/* collector/inputs/tail_engine: the engine on a real loop, inotify and
 * files, driven through the sequences that decide what a file is. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/unit/temp_dir.h"

#include "collector/core/log.h"
#include "collector/core/util.h"
#include "collector/inputs/tail/tail_engine.h"
#include "collector/loop.h"
#include "collector/pipeline/pipeline.h"
#include "collector/plugin.h"

static char dir[64];

struct lines {
    char *text[64];
    int n;
};

static void on_line(void *arg, struct tail_file *f, const char *line, size_t len, uint64_t end_off,
                    int64_t read_ns)
{
    struct lines *l = arg;
    (void)f;
    (void)end_off;
    (void)read_ns;
    if (l->n < 64)
        l->text[l->n++] = xstrndup(line, len);
}

static const struct option_def no_options[] = {{0}};
static const struct input_plugin engine_plugin = {.name = "engine", .options = no_options};

struct fixture {
    struct loop *loop;
    struct input_instance in;
    struct input_instance *inputs[1];
    struct pipeline *p;
    struct strlist globs;
    struct tail_engine *e;
    struct lines lines;
    int (*until)(struct fixture *);
    int timed_out;              /* the one-shot limit fired (and is freed) */
    uint64_t dev, ino;
};

static void check(struct loop *loop, void *arg)
{
    struct fixture *f = arg;
    if (f->until(f))
        loop_stop(loop);
}

static void give_up(struct loop *loop, void *arg)
{
    struct fixture *f = arg;
    f->timed_out = 1;
    loop_stop(loop);
}

/* Run the loop until until(f) holds (or 5 s); returns whether it held. */
static int run_until(struct fixture *f, int (*until)(struct fixture *))
{
    f->until = until;
    if (until(f))
        return 1;
    f->timed_out = 0;
    struct loop_timer *tick = loop_timer_add(f->loop, 10, 10, check, f);
    struct loop_timer *limit = loop_timer_add(f->loop, 5000, 0, give_up, f);
    loop_run(f->loop);
    loop_timer_del(f->loop, tick);
    if (!f->timed_out)
        loop_timer_del(f->loop, limit);
    return until(f);
}

static void run_for(struct fixture *f, int64_t ms)
{
    loop_timer_add(f->loop, ms, 0, give_up, f); /* freed when it fires */
    loop_run(f->loop);
}

static void fixture_start(struct fixture *f)
{
    memset(f, 0, sizeof(*f));
    f->loop = loop_new();
    f->in.plugin = &engine_plugin;
    f->in.name = "t";
    f->in.tag = tag_intern("t");
    f->in.loop = f->loop;
    f->inputs[0] = &f->in;
    struct pipeline_limits limits = {64 << 20, 0, dir};
    f->p = pipeline_new(f->loop, f->inputs, 1, NULL, 0, &limits);
    assert_non_null(f->p);
    f->in.pipeline = f->p;
    f->globs.items = xcalloc(1, sizeof(char *));
    f->globs.items[0] = xasprintf("%s/*.log*", dir);
    f->globs.count = 1;
    struct tail_engine_conf conf = {
        .path = &f->globs,
        .settings = {.refresh_interval_ms = 100, .rotate_wait_ms = 100, .close_inactive_ms = 60000,
                     .max_open_files = 64, .read_interval_ms = 1000, .checkpoint_interval_ms = 1000},
        .poll_interval_ms = 1000,
        .read_from_head = 1,
        .read_new_from_head = 1,
        .max_watches = 16,
        .buffer_size = 65536,
        .max_line_size = 16384,
    };
    struct tail_engine_ops ops = {.line = on_line};
    f->e = tail_engine_new(&f->in, &conf, &ops, &f->lines);
    assert_int_equal(tail_engine_start(f->e), 0);
}

static void fixture_free(struct fixture *f)
{
    tail_engine_free(f->e);
    pipeline_free(f->p);
    loop_free(f->loop);
    strlist_free(&f->globs);
    for (int i = 0; i < f->lines.n; i++)
        free(f->lines.text[i]);
}

static void write_file(const char *name, const char *text, const char *mode)
{
    char *p = xasprintf("%s/%s", dir, name);
    FILE *fp = fopen(p, mode);
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    free(p);
}

static void rename_in_dir(const char *from, const char *to)
{
    char *a = xasprintf("%s/%s", dir, from), *b = xasprintf("%s/%s", dir, to);
    assert_int_equal(rename(a, b), 0);
    free(a);
    free(b);
}

static int three_lines(struct fixture *f) { return f->lines.n >= 3; }
static int four_lines(struct fixture *f) { return f->lines.n >= 4; }
static int let_go(struct fixture *f) { return !tail_engine_follows(f->e, f->dev, f->ino); }
static int followed(struct fixture *f) { return tail_engine_follows(f->e, f->dev, f->ino); }

/* A rotated file is let go when a rescan after rotate_wait does not find it
 * under a name the globs match. During a burst of renames (Docker renames
 * every .log.N to .log.N+1 at each rotation) a rescan can miss a file that
 * still has such a name, and the next event or rescan finds it again. Here
 * the missed name is a rename out of the globs and back: the engine sees
 * the same sequence. The file, read to its end before, must go on from
 * there and not be read again from its first line. */
static void test_rotated_file_let_go_and_found_again_is_not_read_twice(void **state)
{
    (void)state;
    write_file("app.log", "one\ntwo\nthree\n", "w");
    char *path = xasprintf("%s/app.log", dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    free(path);

    struct fixture f;
    fixture_start(&f);
    f.dev = (uint64_t)st.st_dev;
    f.ino = (uint64_t)st.st_ino;
    assert_true(run_until(&f, three_lines));

    rename_in_dir("app.log", "app.moving");       /* rotated: no matching name ... */
    assert_true(run_until(&f, let_go));            /* ... rotate_wait, a rescan: let go */
    rename_in_dir("app.moving", "app.log.1");     /* the name the rescan missed */
    assert_true(run_until(&f, followed));
    run_for(&f, 300);                              /* rescans and reading passes */
    assert_int_equal(f.lines.n, 3);

    /* Followed from where it was: a late write is read, once. */
    write_file("app.log.1", "four\n", "a");
    assert_true(run_until(&f, four_lines));
    run_for(&f, 200);
    assert_int_equal(f.lines.n, 4);
    assert_string_equal(f.lines.text[0], "one");
    assert_string_equal(f.lines.text[2], "three");
    assert_string_equal(f.lines.text[3], "four");
    fixture_free(&f);
}

static int setup(void **state)
{
    (void)state;
    log_set_level(LOG_ERROR);
    return temp_dir_make(dir, sizeof(dir), "test_tail_engine");
}

static int teardown(void **state)
{
    (void)state;
    return temp_dir_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rotated_file_let_go_and_found_again_is_not_read_twice),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
