/* collector/inputs/tail/tail_watch: glob matching, directory walks with **,
 * exclusions, the watch cap, and inotify events through the loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/unit/temp_dir.h"

#include "collector/core/log.h"
#include "collector/core/util.h"
#include "collector/inputs/tail/tail_watch.h"
#include "collector/loop.h"

static char dir[64];

struct seen {
    char *paths[64];
    int errs[64];
    int n;
    char *events[64];
    uint32_t masks[64];
    int nev;
};

static void on_found(void *arg, const char *path, const struct stat *st, int err)
{
    struct seen *s = arg;
    if (s->n < 64) {
        s->errs[s->n] = st ? 0 : err;
        s->paths[s->n++] = xstrdup(path + strlen(dir));
    }
}

static void on_event(void *arg, const char *path, uint32_t mask)
{
    struct seen *s = arg;
    if (s->nev < 64 && path) {
        s->masks[s->nev] = mask;
        s->events[s->nev++] = xstrdup(path + strlen(dir));
    }
}

static int has(const struct seen *s, const char *p)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->paths[i], p) == 0)
            return 1;
    return 0;
}

static void seen_free(struct seen *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->paths[i]);
    for (int i = 0; i < s->nev; i++)
        free(s->events[i]);
    memset(s, 0, sizeof(*s));
}

static void touch(const char *rel)
{
    char *p = xasprintf("%s%s", dir, rel);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fclose(f);
    free(p);
}

static void mkd(const char *rel)
{
    char *p = xasprintf("%s%s", dir, rel);
    assert_int_equal(mkdir_p(p), 0);
    free(p);
}

static int setup(void **state)
{
    (void)state;
    log_set_level(LOG_ERROR);
    return temp_dir_make(dir, sizeof dir, "test_tail_watch");
}

static int teardown(void **state)
{
    (void)state;
    return temp_dir_remove(dir);
}

static void test_glob_match(void **state)
{
    (void)state;
    assert_true(tw_glob_match("/var/log/*.log", "/var/log/syslog.log"));
    assert_false(tw_glob_match("/var/log/*.log", "/var/log/sub/x.log"));
    assert_true(tw_glob_match("/var/log/ecs/ecs-agent.log*", "/var/log/ecs/ecs-agent.log.2024-01-01-10"));
    assert_true(tw_glob_match("/a/**/x.log", "/a/x.log"));
    assert_true(tw_glob_match("/a/**/x.log", "/a/b/c/d/x.log"));
    assert_false(tw_glob_match("/a/**/x.log", "/b/x.log"));
    assert_true(tw_glob_match("/a/**", "/a/b/c"));
    assert_true(tw_glob_match("/a/f?.log", "/a/f1.log"));
    assert_false(tw_glob_match("/a/f?.log", "/a/f12.log"));
    assert_true(tw_glob_match("/a/[mn]essages", "/a/messages"));
    assert_false(tw_glob_match("/a/[!m]essages", "/a/messages"));
    assert_true(tw_glob_match("/a//b/*.log", "/a/b/c.log"));
    assert_false(tw_glob_match("a/*.log", "/a/c.log"));
    assert_true(tw_glob_match("logs/*.log", "logs/c.log"));
}

static void test_scan(void **state)
{
    (void)state;
    mkd("/s/one/two");
    mkd("/s/three");
    touch("/s/top.log");
    touch("/s/top.txt");
    touch("/s/one/a.log");
    touch("/s/one/two/b.log");
    touch("/s/one/two/skip.gz.log");
    touch("/s/three/c.log");
    mkd("/s/dir.log");
    char *pattern = xasprintf("%s/s/**/*.log", dir);
    struct strlist inc = {&pattern, 1};
    char *ex = "*.gz.log";
    struct strlist exc = {&ex, 1};
    struct seen s = {0};
    struct tail_watch *w = tw_new(NULL, &inc, &exc, 100, on_found, on_event, &s);
    tw_scan(w);
    assert_true(has(&s, "/s/top.log"));
    assert_true(has(&s, "/s/one/a.log"));
    assert_true(has(&s, "/s/one/two/b.log"));
    assert_true(has(&s, "/s/three/c.log"));
    assert_false(has(&s, "/s/top.txt"));
    assert_false(has(&s, "/s/one/two/skip.gz.log"));
    assert_true(has(&s, "/s/dir.log")); /* matches too: the tail input says it is a directory */
    assert_int_equal(tw_watch_count(w), 5); /* s, s/one, s/one/two, s/three, s/dir.log */
    assert_false(tw_degraded(w));
    char *p = xasprintf("%s/s/x/y.log", dir);
    assert_true(tw_matches(w, p));
    free(p);
    p = xasprintf("%s/s/x/y.gz.log", dir);
    assert_false(tw_matches(w, p));
    free(p);
    tw_free(w);
    seen_free(&s);

    /* a cap of two watches: degraded, every match still found */
    w = tw_new(NULL, &inc, &exc, 2, on_found, on_event, &s);
    tw_scan(w);
    assert_int_equal(tw_watch_count(w), 2);
    assert_true(tw_degraded(w));
    assert_int_equal(s.n, 5);
    tw_free(w);
    seen_free(&s);

    /* no inotify at all */
    w = tw_new(NULL, &inc, &exc, 0, on_found, on_event, &s);
    tw_scan(w);
    assert_int_equal(tw_watch_count(w), 0);
    assert_true(tw_degraded(w));
    assert_int_equal(s.n, 5);
    tw_free(w);
    seen_free(&s);
    free(pattern);
}

static void stop_loop(struct loop *loop, void *arg)
{
    (void)arg;
    loop_stop(loop);
}

static void test_events(void **state)
{
    (void)state;
    mkd("/e");
    char *pattern = xasprintf("%s/e/*.log", dir);
    struct strlist inc = {&pattern, 1};
    struct seen s = {0};
    struct loop *loop = loop_new();
    struct tail_watch *w = tw_new(loop, &inc, NULL, 10, on_found, on_event, &s);
    tw_scan(w);
    assert_int_equal(s.n, 0);
    assert_int_equal(tw_watch_count(w), 1);
    touch("/e/new.log");
    char *a = xasprintf("%s/e/new.log", dir), *b = xasprintf("%s/e/new.log.1", dir);
    assert_int_equal(rename(a, b), 0);
    loop_timer_add(loop, 100, 0, stop_loop, NULL);
    loop_run(loop);
    int created = 0, moved = 0;
    for (int i = 0; i < s.nev; i++) {
        if (strcmp(s.events[i], "/e/new.log") == 0 && (s.masks[i] & IN_CREATE))
            created = 1;
        if (strcmp(s.events[i], "/e/new.log") == 0 && (s.masks[i] & IN_MOVED_FROM))
            moved = 1;
    }
    assert_true(created);
    assert_true(moved);
    tw_free(w);
    loop_free(loop);
    seen_free(&s);
    free(a);
    free(b);
    free(pattern);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_glob_match),
        cmocka_unit_test(test_scan),
        cmocka_unit_test(test_events),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
