/* collector/inputs/tail/tail_file: reading real files in chunks, line offsets,
 * long lines, repair, truncation, identity, and the file table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/unit/temp_dir.h"

#include "collector/core/util.h"
#include "collector/inputs/tail/tail_file.h"

static char dir[64];

struct got {
    char *lines[64];
    size_t lens[64];
    uint64_t ends[64];
    int n;
};

static void on_line(void *arg, struct tail_file *f, const char *line, size_t len, uint64_t end)
{
    struct got *g = arg;
    (void)f;
    assert_true(g->n < 64);
    g->lines[g->n] = xstrndup(line, len);
    g->lens[g->n] = len;
    g->ends[g->n++] = end;
}

static void got_free(struct got *g)
{
    for (int i = 0; i < g->n; i++)
        free(g->lines[i]);
    g->n = 0;
}

static char *path_of(const char *name)
{
    return xasprintf("%s/%s", dir, name);
}

static void put(const char *path, const char *mode, const void *data, size_t len)
{
    FILE *fp = fopen(path, mode);
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    fclose(fp);
}

static struct tail_file *open_file(const char *path)
{
    struct tail_file *f = tail_file_new(path);
    struct stat st;
    f->fd = tail_open_regular(path, &st);
    assert_true(f->fd >= 0);
    f->dev = (uint64_t)st.st_dev;
    f->ino = (uint64_t)st.st_ino;
    f->size = (uint64_t)st.st_size;
    uint64_t h;
    int n = tail_fingerprint(f->fd, &h);
    f->fp_len = (uint32_t)n;
    f->fp_hash = h;
    return f;
}

static void reader(struct tail_reader *r, struct got *g, size_t chunk, size_t max_line)
{
    tail_reader_init(r, chunk, max_line);
    r->line = on_line;
    r->arg = g;
}

static int setup(void **state)
{
    (void)state;
    return temp_dir_make(dir, sizeof dir, "test_tail_file");
}

static int teardown(void **state)
{
    (void)state;
    return temp_dir_remove(dir);
}

static void test_lines_offsets_partial(void **state)
{
    (void)state;
    char *p = path_of("a.log");
    put(p, "w", "one\r\ntwo\n\nthree-partial", 23);
    struct tail_file *f = open_file(p);
    struct tail_reader r;
    struct got g = {0};
    reader(&r, &g, 4096, 100);
    assert_int_equal(tail_file_read_chunk(&r, f), TAIL_READ_EOF);
    assert_int_equal(g.n, 3);
    assert_string_equal(g.lines[0], "one");
    assert_int_equal(g.ends[0], 5);
    assert_string_equal(g.lines[1], "two");
    assert_int_equal(g.ends[1], 9);
    assert_int_equal(g.lens[2], 0); /* empty line: the caller decides */
    assert_int_equal(f->read_off, 10);  /* the partial line is read again later */
    got_free(&g);

    put(p, "a", "\nfour\n", 6);
    assert_int_equal(tail_file_read_chunk(&r, f), TAIL_READ_EOF);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.lines[0], "three-partial");
    assert_int_equal(g.ends[0], 24);
    assert_string_equal(g.lines[1], "four");
    assert_int_equal(f->read_off, 29);
    got_free(&g);
    assert_int_equal(tail_file_read_chunk(&r, f), TAIL_READ_EOF);
    assert_int_equal(g.n, 0);

    /* a rotated file's unterminated last line is delivered on demand */
    put(p, "a", "tail", 4);
    tail_file_flush_partial(&r, f);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.lines[0], "tail");
    assert_int_equal(f->read_off, 33);
    got_free(&g);
    tail_file_free(f);
    tail_reader_free(&r);
    free(p);
}

static void test_small_chunks_many_reads(void **state)
{
    (void)state;
    char *p = path_of("chunks.log");
    struct buf b;
    buf_init(&b);
    for (int i = 0; i < 50; i++)
        buf_printf(&b, "line %02d\n", i);
    put(p, "w", b.data, b.len);
    struct tail_file *f = open_file(p);
    struct tail_reader r;
    struct got g = {0};
    reader(&r, &g, 16, 10); /* chunk 16 bytes: at most two lines per read */
    int reads = 0, total = 0;
    enum tail_read_result rr;
    do {
        rr = tail_file_read_chunk(&r, f);
        total += g.n;
        for (int i = 0; i < g.n; i++) {
            char want[16];
            snprintf(want, sizeof(want), "line %02d", total - g.n + i);
            assert_string_equal(g.lines[i], want);
        }
        got_free(&g);
        reads++;
    } while (rr == TAIL_READ_MORE && reads < 1000);
    assert_int_equal(total, 50);
    assert_int_equal(f->read_off, b.len);
    buf_free(&b);
    tail_file_free(f);
    tail_reader_free(&r);
    free(p);
}

static void test_long_line_truncate(void **state)
{
    (void)state;
    char *p = path_of("long.log");
    struct buf b;
    buf_init(&b);
    buf_append_str(&b, "short\n");
    for (int i = 0; i < 100; i++)
        buf_append_char(&b, 'x');
    buf_append_str(&b, "\nafter\n");
    put(p, "w", b.data, b.len);
    struct tail_file *f = open_file(p);
    struct tail_reader r;
    struct got g = {0};
    reader(&r, &g, 32, 20); /* the long line spans several reads */
    r.marker = "[cut]";
    r.marker_len = 5;
    for (int i = 0; i < 20 && tail_file_read_chunk(&r, f) == TAIL_READ_MORE; i++)
        ;
    while (tail_file_read_chunk(&r, f) == TAIL_READ_MORE)
        ;
    assert_int_equal(g.n, 3);
    assert_string_equal(g.lines[0], "short");
    assert_string_equal(g.lines[1], "xxxxxxxxxxxxxxx[cut]");
    assert_int_equal(g.lens[1], 20);
    assert_string_equal(g.lines[2], "after");
    assert_int_equal(r.long_lines, 1);
    assert_int_equal(f->read_off, b.len);
    got_free(&g);
    buf_free(&b);
    tail_file_free(f);
    tail_reader_free(&r);
    free(p);
}

static void test_long_line_split_keeps_utf8(void **state)
{
    (void)state;
    char *p = path_of("split.log");
    /* 10 euro signs (3 bytes each) = 30 bytes; pieces of at most 8 bytes */
    struct buf b;
    buf_init(&b);
    for (int i = 0; i < 10; i++)
        buf_append_str(&b, "\xe2\x82\xac");
    buf_append_str(&b, "\nz\n");
    put(p, "w", b.data, b.len);
    struct tail_file *f = open_file(p);
    struct tail_reader r;
    struct got g = {0};
    reader(&r, &g, 4096, 8);
    r.long_mode = TAIL_LONG_SPLIT;
    while (tail_file_read_chunk(&r, f) == TAIL_READ_MORE)
        ;
    assert_int_equal(g.n, 6); /* 5 pieces of two euros, then z */
    struct buf joined;
    buf_init(&joined);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(g.lens[i], 6);
        buf_append(&joined, g.lines[i], g.lens[i]);
    }
    assert_memory_equal(joined.data, b.data, 30);
    assert_int_equal(g.ends[4], 31);
    assert_string_equal(g.lines[5], "z");
    got_free(&g);
    buf_free(&joined);
    buf_free(&b);
    tail_file_free(f);
    tail_reader_free(&r);
    free(p);
}

static void test_invalid_utf8_repaired(void **state)
{
    (void)state;
    char *p = path_of("bad.log");
    put(p, "w", "a\xff" "b\n\xe2\x82\n", 7);
    struct tail_file *f = open_file(p);
    struct tail_reader r;
    struct got g = {0};
    reader(&r, &g, 4096, 100);
    tail_file_read_chunk(&r, f);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.lines[0], "a\xef\xbf\xbd" "b");
    assert_string_equal(g.lines[1], "\xef\xbf\xbd\xef\xbf\xbd");
    assert_int_equal(g.ends[1], 7);
    assert_int_equal(r.invalid_utf8, 2);
    got_free(&g);
    tail_file_free(f);
    tail_reader_free(&r);
    free(p);
}

static void test_truncation_and_identity(void **state)
{
    (void)state;
    char *p = path_of("t.log");
    put(p, "w", "first line\nsecond line\n", 23);
    struct tail_file *f = open_file(p);
    struct tail_reader r;
    struct got g = {0};
    reader(&r, &g, 4096, 100);
    tail_file_read_chunk(&r, f);
    assert_int_equal(g.n, 2);
    got_free(&g);
    assert_false(tail_file_truncated(f));

    /* copytruncate */
    assert_int_equal(truncate(p, 0), 0);
    put(p, "a", "new\n", 4);
    assert_true(tail_file_truncated(f));
    uint16_t epoch = f->epoch;
    tail_file_restart(f);
    assert_int_equal(f->epoch, epoch + 1);
    assert_int_equal(f->read_off, 0);
    tail_file_read_chunk(&r, f);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.lines[0], "new");
    got_free(&g);
    assert_int_equal(f->fp_len, 4);

    /* closed, then reopened: same file */
    tail_file_close(f);
    assert_int_equal(tail_file_reopen(f), 0);
    struct stat st;
    assert_int_equal(tail_file_check_path(f, &st), TAIL_PATH_SAME);

    /* renamed away, a new file under the name */
    char *p2 = path_of("t.log.1");
    assert_int_equal(rename(p, p2), 0);
    assert_int_equal(tail_file_check_path(f, &st), TAIL_PATH_GONE);
    put(p, "w", "other\n", 6);
    assert_int_equal(tail_file_check_path(f, &st), TAIL_PATH_REPLACED);
    tail_file_close(f);
    assert_int_equal(tail_file_reopen(f), -1);
    assert_int_equal(errno, ESTALE);

    /* not regular files */
    assert_int_equal(tail_open_regular(dir, &st), -1);
    assert_int_equal(errno, EISDIR);
    char *fifo = path_of("fifo");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(tail_open_regular(fifo, &st), -1);
    assert_int_equal(errno, EINVAL);

    tail_file_free(f);
    tail_reader_free(&r);
    free(fifo);
    free(p2);
    free(p);
}

static void test_table(void **state)
{
    (void)state;
    struct tail_table t;
    tail_table_init(&t);
    struct tail_file *files[300];
    for (int i = 0; i < 300; i++) {
        char name[32];
        snprintf(name, sizeof(name), "/x/f%03d.log", i);
        files[i] = tail_file_new(name);
        files[i]->dev = 1;
        files[i]->ino = (uint64_t)i + 1000;
        tail_table_add(&t, files[i]);
    }
    assert_int_equal(t.count, 300);
    for (int i = 0; i < 300; i++) {
        char name[32];
        snprintf(name, sizeof(name), "/x/f%03d.log", i);
        assert_ptr_equal(tail_table_by_path(&t, name), files[i]);
        assert_ptr_equal(tail_table_by_inode(&t, 1, (uint64_t)i + 1000), files[i]);
        assert_ptr_equal(tail_table_by_cookie(&t, tail_cookie(files[i])), files[i]);
    }
    assert_null(tail_table_by_inode(&t, 2, 1000));

    /* rename and detach */
    tail_table_set_path(&t, files[5], "/x/renamed.log");
    assert_null(tail_table_by_path(&t, "/x/f005.log"));
    assert_ptr_equal(tail_table_by_path(&t, "/x/renamed.log"), files[5]);
    tail_table_set_path(&t, files[5], NULL);
    assert_null(tail_table_by_path(&t, "/x/renamed.log"));
    assert_ptr_equal(tail_table_by_inode(&t, 1, 1005), files[5]);

    /* a removed file's cookie no longer resolves, even when its slot is reused */
    uint64_t old = tail_cookie(files[7]);
    tail_table_remove(&t, files[7]);
    tail_file_free(files[7]);
    assert_null(tail_table_by_cookie(&t, old));
    struct tail_file *n = tail_file_new("/x/new.log");
    n->dev = 1;
    n->ino = 5;
    tail_table_add(&t, n);
    assert_int_equal((uint32_t)n->cookie, (uint32_t)old);
    assert_null(tail_table_by_cookie(&t, old));
    assert_ptr_equal(tail_table_by_cookie(&t, tail_cookie(n)), n);

    /* the epoch bits do not change which file a cookie names */
    n->epoch = 3;
    assert_ptr_equal(tail_table_by_cookie(&t, tail_cookie(n)), n);
    assert_int_equal(tail_cookie(n) >> 48, 3);
    tail_table_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines_offsets_partial),
        cmocka_unit_test(test_small_chunks_many_reads),
        cmocka_unit_test(test_long_line_truncate),
        cmocka_unit_test(test_long_line_split_keeps_utf8),
        cmocka_unit_test(test_invalid_utf8_repaired),
        cmocka_unit_test(test_truncation_and_identity),
        cmocka_unit_test(test_table),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
