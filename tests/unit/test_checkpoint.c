/* collector/inputs/checkpoint: round trip, atomic replace, corrupt stores. */
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

#include "collector/core/log.h"
#include "collector/core/util.h"
#include "collector/inputs/checkpoint.h"

static char dir[] = "/tmp/test_checkpoint.XXXXXX";

static int setup(void **state)
{
    (void)state;
    log_set_level(LOG_ERROR);
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char *cmd = xasprintf("rm -rf %s", dir);
    int rc = system(cmd);
    free(cmd);
    return rc;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_missing_is_first_start(void **state)
{
    (void)state;
    struct ckpt_store s;
    char *p = xasprintf("%s/sub/dir/none.ckpt", dir);
    assert_int_equal(ckpt_load(&s, p), 0);
    assert_int_equal(s.existed, 0);
    assert_int_equal(s.count, 0);
    assert_null(ckpt_find(&s, 1, 2));
    struct stat st;
    char *d = xasprintf("%s/sub/dir", dir);
    assert_int_equal(stat(d, &st), 0); /* created */
    ckpt_free(&s);
    free(d);
    free(p);
}

static void test_round_trip(void **state)
{
    (void)state;
    char *p = xasprintf("%s/rt.ckpt", dir);
    struct ckpt_entry e[3] = {
        {.dev = 64768, .ino = 99, .fp_len = 256, .fp_hash = 0xdeadbeefcafef00dULL, .offset = 12345,
         .path = "/var/log/ecs/ecs-agent.log"},
        {.dev = 64768, .ino = 7, .fp_len = 0, .fp_hash = 0, .offset = 0, .path = "/a b/with space.log"},
        {.dev = 1, .ino = UINT64_MAX, .fp_len = 10, .fp_hash = 1, .offset = UINT64_MAX / 2,
         .path = "/new\nline"},
    };
    assert_int_equal(ckpt_write(p, e, 3), 0);
    struct ckpt_store s;
    assert_int_equal(ckpt_load(&s, p), 0);
    assert_int_equal(s.existed, 1);
    assert_int_equal(s.count, 3);
    struct ckpt_entry *f = ckpt_find(&s, 64768, 99);
    assert_non_null(f);
    assert_int_equal(f->offset, 12345);
    assert_int_equal(f->fp_len, 256);
    assert_true(f->fp_hash == 0xdeadbeefcafef00dULL);
    assert_string_equal(f->path, "/var/log/ecs/ecs-agent.log");
    f = ckpt_find(&s, 64768, 7);
    assert_non_null(f);
    assert_string_equal(f->path, "/a b/with space.log");
    f = ckpt_find(&s, 1, UINT64_MAX);
    assert_non_null(f);
    assert_string_equal(f->path, "/new?line");
    assert_null(ckpt_find(&s, 64768, 100));
    ckpt_free(&s);

    /* replaced atomically: no temporary left behind */
    assert_int_equal(ckpt_write(p, e, 1), 0);
    char *tmp = xasprintf("%s.tmp", p);
    assert_int_equal(access(tmp, F_OK), -1);
    assert_int_equal(ckpt_load(&s, p), 0);
    assert_int_equal(s.count, 1);
    ckpt_free(&s);
    free(tmp);
    free(p);
}

static void check_corrupt(const char *text)
{
    char *p = xasprintf("%s/bad.ckpt", dir);
    char *aside = xasprintf("%s.corrupt", p);
    unlink(aside);
    write_text(p, text);
    struct ckpt_store s;
    assert_int_equal(ckpt_load(&s, p), 0);
    assert_int_equal(s.existed, 1); /* not a first start: new files are read from head */
    assert_int_equal(s.count, 0);
    assert_int_equal(access(aside, F_OK), 0);
    assert_int_equal(access(p, F_OK), -1);
    ckpt_free(&s);
    free(aside);
    free(p);
}

static void test_corrupt_moved_aside(void **state)
{
    (void)state;
    check_corrupt("garbage\n");
    check_corrupt("");
    check_corrupt("collector-checkpoint 1\n1 2 3 ff 4 /x\n");            /* no end line */
    check_corrupt("collector-checkpoint 1\n1 2 3 ff 4 /x\nend 2\n");     /* wrong count */
    check_corrupt("collector-checkpoint 1\n1 2 zz\nend 1\n");            /* bad fields */
    check_corrupt("collector-checkpoint 1\n1 2 3 ff 4 /x\nend 1\n1 2 3 ff 4 /y\n");
}

/* A FIFO or a link put where the store lives is neither followed nor waited
 * on: the input starts without it (alarm: a blocking open would hang). */
static void test_not_regular_refused(void **state)
{
    (void)state;
    char *fifo = xasprintf("%s/fifo.ckpt", dir);
    char *real = xasprintf("%s/real.ckpt", dir);
    char *link = xasprintf("%s/link.ckpt", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    struct ckpt_entry e = {.dev = 1, .ino = 2, .offset = 3, .path = "/x"};
    assert_int_equal(ckpt_write(real, &e, 1), 0);
    assert_int_equal(symlink(real, link), 0);
    alarm(5);
    struct ckpt_store s;
    assert_int_equal(ckpt_load(&s, fifo), 0);
    assert_int_equal(s.count, 0);
    ckpt_free(&s);
    assert_int_equal(ckpt_load(&s, link), 0);
    assert_int_equal(s.count, 0); /* the link was not followed */
    ckpt_free(&s);
    /* a FIFO planted at the temporary name does not block the writer */
    char *tmp = xasprintf("%s.tmp", real);
    assert_int_equal(mkfifo(tmp, 0600), 0);
    assert_int_equal(ckpt_write(real, &e, 1), -1);
    alarm(0);
    free(tmp);
    free(fifo);
    free(real);
    free(link);
}

static void test_add_keeps_sorted(void **state)
{
    (void)state;
    struct ckpt_store s;
    char *p = xasprintf("%s/add.ckpt", dir);
    assert_int_equal(ckpt_load(&s, p), 0);
    for (uint64_t ino = 50; ino < 100; ino = ino >= 7 ? ino - 7 : 100) {
        struct ckpt_entry e = {.dev = 3, .ino = ino, .offset = ino * 10, .path = xstrdup("/p")};
        ckpt_add(&s, &e);
    }
    struct ckpt_entry again = {.dev = 3, .ino = 8, .offset = 1, .path = xstrdup("/q")};
    ckpt_add(&s, &again);
    assert_int_equal(s.count, 8);
    for (uint64_t ino = 50; ino < 100; ino = ino >= 7 ? ino - 7 : 100) {
        struct ckpt_entry *e = ckpt_find(&s, 3, ino);
        assert_non_null(e);
        assert_int_equal(e->offset, ino == 8 ? 1 : ino * 10);
    }
    assert_string_equal(ckpt_find(&s, 3, 8)->path, "/q");
    ckpt_free(&s);
    free(p);
}

static void test_unwritable(void **state)
{
    (void)state;
    struct ckpt_entry e = {.dev = 1, .ino = 2, .path = "/x"};
    assert_int_equal(ckpt_write("/nonexistent-dir/x.ckpt", &e, 1), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_is_first_start),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_corrupt_moved_aside),
        cmocka_unit_test(test_not_regular_refused),
        cmocka_unit_test(test_add_keeps_sorted),
        cmocka_unit_test(test_unwritable),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
