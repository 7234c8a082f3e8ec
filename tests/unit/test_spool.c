/* Unit tests: the disk buffer's chunk files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/temp_dir.h"
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>
#include <unistd.h>

#include "collector/core/util.h"
#include "collector/pipeline/spool.h"

static char root[256];

static int setup(void **state)
{
    (void)state;
    return temp_dir_make(root, sizeof root, "collector-spool");
}

static int teardown(void **state)
{
    (void)state;
    return temp_dir_remove(root);
}

static struct batch *make_logs(int n, struct meta *m)
{
    struct batch *b = batch_new(BATCH_LOGS);
    b->dest_key = "group\nstream";
    const struct tag *t = tag_intern("spool.test");
    for (int i = 0; i < n; i++) {
        char msg[64];
        snprintf(msg, sizeof msg, "message %d \xc3\xa9", i);
        struct field_ref f = {"k", "v", 1, 1};
        struct log_event ev = {.timestamp_ns = 1000 + i, .message = msg,
                               .message_len = strlen(msg), .meta = m,
                               .fields = i % 2 ? &f : NULL, .nfields = i % 2};
        batch_add_log(b, &ev, t, 0, (uint64_t)i, 26);
    }
    return b;
}

static struct spool *open_spool(struct spool_entry **e, int *n)
{
    char dir[300], corrupt[300];
    snprintf(dir, sizeof dir, "%s/buffer", root);
    snprintf(corrupt, sizeof corrupt, "%s/corrupt", root);
    struct spool *s = spool_open(dir, corrupt, SPOOL_SYNC_BATCH, e, n);
    assert_non_null(s);
    return s;
}

static void test_roundtrip_logs(void **state)
{
    (void)state;
    const char *pairs[] = {"file_path", "/var/log/a.log", "file_name", "a.log"};
    struct meta *m = meta_new(pairs, 2);
    struct batch *b = make_logs(500, m);
    struct spool_entry *e;
    int n;
    struct spool *s = open_spool(&e, &n);
    assert_int_equal(n, 0);
    uint64_t id = spool_write(s, b);
    assert_true(id > 0);
    assert_int_equal(spool_count(s), 1);
    assert_true(spool_bytes(s) > 0);
    int corrupt = 0;
    struct batch *r = spool_read(s, id, &corrupt);
    assert_non_null(r);
    assert_int_equal(corrupt, 0);
    assert_int_equal(r->count, 500);
    assert_int_equal(r->payload_bytes, b->payload_bytes);
    for (uint32_t i = 0; i < r->count; i++) {
        assert_int_equal(r->logs[i].timestamp_ns, b->logs[i].timestamp_ns);
        assert_int_equal(r->logs[i].message_len, b->logs[i].message_len);
        assert_memory_equal(batch_str(r, r->logs[i].message_off), batch_str(b, b->logs[i].message_off),
                            r->logs[i].message_len);
        assert_ptr_equal(r->logs[i].tag, tag_intern("spool.test"));
        assert_string_equal(meta_get(r->logs[i].meta, "file_path"), "/var/log/a.log");
        assert_int_equal(r->logs[i].nfields, i % 2);
        if (i % 2) {
            const char *k, *v;
            uint32_t kl, vl;
            batch_log_field(r, &r->logs[i], 0, &k, &kl, &v, &vl);
            assert_memory_equal(k, "k", 1);
            assert_memory_equal(v, "v", 1);
        }
    }
    batch_free(r);
    spool_remove(s, id);
    assert_int_equal(spool_count(s), 0);
    assert_int_equal(spool_bytes(s), 0);
    spool_close(s);
    batch_free(b);
    meta_unref(m);
}

static void test_roundtrip_metrics_and_replay_order(void **state)
{
    (void)state;
    struct spool_entry *e;
    int n;
    struct spool *s = open_spool(&e, &n);
    uint64_t ids[3];
    for (int k = 0; k < 3; k++) {
        struct batch *b = batch_new(BATCH_METRICS);
        b->dest_key = k == 1 ? "other" : "";
        struct dimension_ref d[2] = {{"ClusterName", "prod"}, {"TaskId", "abc"}};
        struct metric_event ev = {.name = "CpuUtilized", .value = 12.5 + k, .unit = "Percent",
                                  .timestamp_ms = 99, .dimensions = d, .ndimensions = 2};
        batch_add_metric(b, &ev, tag_intern("m"), 0, 0);
        ids[k] = spool_write(s, b);
        assert_true(ids[k] > 0);
        batch_free(b);
    }
    spool_close(s);
    /* reopen: entries come back oldest first with their keys */
    s = open_spool(&e, &n);
    assert_int_equal(n, 3);
    for (int k = 0; k < 3; k++) {
        assert_int_equal(e[k].id, ids[k]);
        assert_int_equal(e[k].kind, BATCH_METRICS);
        assert_int_equal(e[k].count, 1);
        assert_string_equal(e[k].key, k == 1 ? "other" : "");
    }
    int corrupt;
    struct batch *r = spool_read(s, ids[2], &corrupt);
    assert_non_null(r);
    assert_true(r->metrics[0].value == 14.5);
    const char *name, *value;
    batch_metric_dim(r, &r->metrics[0], 1, &name, &value);
    assert_string_equal(name, "TaskId");
    assert_string_equal(value, "abc");
    assert_string_equal(batch_str(r, r->metrics[0].unit_off), "Percent");
    batch_free(r);
    spool_entries_free(e, n);
    /* a new chunk gets an id after the ones found */
    struct batch *b = make_logs(1, NULL);
    assert_true(spool_write(s, b) > ids[2]);
    batch_free(b);
    spool_close(s);
}

static void corrupt_file(uint64_t id, long offset, int truncate_it)
{
    char path[300];
    snprintf(path, sizeof path, "%s/buffer/%016llx.chunk", root, (unsigned long long)id);
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    if (truncate_it) {
        struct stat st;
        fstat(fd, &st);
        assert_int_equal(ftruncate(fd, st.st_size - 10), 0);
    } else {
        char c;
        assert_int_equal(pread(fd, &c, 1, offset), 1);
        c ^= 0x5a;
        assert_int_equal(pwrite(fd, &c, 1, offset), 1);
    }
    close(fd);
}

static int count_files(const char *sub)
{
    char dir[300];
    snprintf(dir, sizeof dir, "%s/%s", root, sub);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

static void test_corrupt_and_truncated_chunks_are_moved_aside(void **state)
{
    (void)state;
    struct spool_entry *e;
    int n;
    struct spool *s = open_spool(&e, &n);
    uint64_t ids[4];
    for (int k = 0; k < 4; k++) {
        struct batch *b = make_logs(100, NULL);
        ids[k] = spool_write(s, b);
        batch_free(b);
    }
    corrupt_file(ids[0], 200, 0);   /* body byte flipped: caught on read */
    corrupt_file(ids[1], 0, 1);     /* truncated: caught on read */
    corrupt_file(ids[2], 10, 0);    /* header damaged: caught at open */
    int corrupt;
    assert_null(spool_read(s, ids[0], &corrupt));
    assert_int_equal(corrupt, 1);
    assert_null(spool_read(s, ids[1], &corrupt));
    assert_int_equal(corrupt, 1);
    spool_close(s);
    /* a leftover .tmp from a crash is removed at open */
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s/buffer/00000000000000ff.tmp", root);
    close(open(tmp, O_CREAT | O_WRONLY, 0600));
    s = open_spool(&e, &n);
    assert_int_equal(n, 1);           /* only the good one */
    assert_int_equal(e[0].id, ids[3]);
    assert_int_equal(count_files("corrupt"), 3);
    assert_int_equal(count_files("buffer"), 1);
    struct batch *r = spool_read(s, ids[3], &corrupt);
    assert_non_null(r);
    assert_int_equal(r->count, 100);
    batch_free(r);
    spool_entries_free(e, n);
    spool_close(s);
}

static void test_garbage_file_with_chunk_name(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/buffer", root);
    mkdir_p(path);
    snprintf(path, sizeof path, "%s/buffer/0000000000000007.chunk", root);
    FILE *f = fopen(path, "w");
    for (int i = 0; i < 5000; i++)
        fputc((i * 7919) & 0xff, f);
    fclose(f);
    struct spool_entry *e;
    int n;
    struct spool *s = open_spool(&e, &n);
    assert_int_equal(n, 0);
    assert_int_equal(count_files("corrupt"), 1);
    spool_close(s);
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = malloc(*len + 1);
    assert_int_equal(fread(data, 1, *len, f), *len);
    fclose(f);
    return data;
}

static int count_in(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

static void chunk_file(uint64_t id, char *path, size_t len)
{
    snprintf(path, len, "%s/buffer/%016llx.chunk", root, (unsigned long long)id);
}

/* A chunk holds the batch's bytes plain (nothing is compressed twice on the
 * way to the wire), and reads back whole. */
static void test_chunk_body_is_plain(void **state)
{
    (void)state;
    struct batch *b = make_logs(2000, NULL);
    struct spool_entry *e;
    int n;
    struct spool *s = open_spool(&e, &n);
    uint64_t id = spool_write(s, b);
    assert_true(id > 0);
    char path[400];
    chunk_file(id, path, sizeof path);
    size_t len;
    char *data = read_all(path, &len);
    assert_memory_equal(data, "CLCHUNK2", 8);
    assert_non_null(memmem(data, len, "message 1999 \xc3\xa9", 15));
    assert_int_equal(spool_bytes(s), len);
    free(data);
    int corrupt = 0;
    struct batch *r = spool_read(s, id, &corrupt);
    assert_non_null(r);
    assert_int_equal(r->count, 2000);
    assert_memory_equal(batch_str(r, r->logs[1999].message_off), "message 1999", 12);
    batch_free(r);
    spool_remove(s, id);
    spool_close(s);
    spool_entries_free(e, n);
    batch_free(b);
}

/* spool_chunk_decode is spool_read without the file: the same bytes decode
 * to the same batch, and every single-byte change or cut is refused with
 * a reason (the fuzz target's entry point). */
static void test_chunk_decode_is_pure(void **state)
{
    (void)state;
    struct batch *b = make_logs(50, NULL);
    struct spool_entry *e;
    int n;
    struct spool *s = open_spool(&e, &n);
    uint64_t id = spool_write(s, b);
    assert_true(id > 0);
    char path[400];
    chunk_file(id, path, sizeof path);
    size_t len;
    char *data = read_all(path, &len);
    const char *why = NULL;
    struct batch *r = spool_chunk_decode(data, len, &why);
    assert_non_null(r);
    assert_int_equal(r->count, 50);
    assert_memory_equal(batch_str(r, r->logs[49].message_off), "message 49", 10);
    batch_free(r);
    for (size_t i = 0; i < len; i += 7) {
        data[i] ^= 0x20;
        why = NULL;
        assert_null(spool_chunk_decode(data, len, &why));
        assert_non_null(why);
        data[i] ^= 0x20;
    }
    assert_null(spool_chunk_decode(data, len - 1, &why));
    assert_string_equal(why, "truncated or bad checksum");
    assert_null(spool_chunk_decode(data, 3, NULL));
    free(data);
    spool_close(s);
    spool_entries_free(e, n);
    batch_free(b);
}

/* Encode once: a batch with its output's body is stored as that body
 * (CLCHUNK3), byte for byte, with its count and the records the output
 * dropped when encoding; it reads back as the same bytes, without records. */
static void test_encoded_body_stored_as_is(void **state)
{
    (void)state;
    struct batch *b = make_logs(10, NULL);
    static const char body[] = "{\"logGroupName\":\"g\",\"opaque\":\"\x01\x02 request bytes\"}";
    buf_append(&b->body, body, sizeof body);
    b->has_body = 1;
    b->dropped = 3;
    struct spool_entry *e;
    int n;
    struct spool *s = open_spool(&e, &n);
    uint64_t id = spool_write(s, b);
    assert_true(id > 0);
    char path[400];
    chunk_file(id, path, sizeof path);
    size_t len;
    char *data = read_all(path, &len);
    assert_memory_equal(data, "CLCHUNK3", 8);
    assert_non_null(memmem(data, len, body, sizeof body));
    assert_null(memmem(data, len, "message 1", 9)); /* the records are not stored */
    free(data);
    spool_close(s);
    spool_entries_free(e, n);
    s = open_spool(&e, &n);
    assert_int_equal(n, 1);
    assert_int_equal(e[0].encoded, 1);
    assert_int_equal(e[0].count, 10);
    int corrupt = 0;
    struct batch *r = spool_read(s, id, &corrupt);
    assert_non_null(r);
    assert_true(r->has_body);
    assert_true(r->records_dropped);
    assert_null(r->logs);
    assert_int_equal(r->count, 10);
    assert_int_equal(r->dropped, 3);
    assert_int_equal(r->body.len, sizeof body);
    assert_memory_equal(r->body.data, body, sizeof body);
    batch_free(r);
    spool_close(s);
    spool_entries_free(e, n);
    batch_free(b);
}

static void put32(struct buf *b, uint32_t v) { buf_append(b, &v, 4); }

/* A chunk the previous release wrote (CLCHUNK1: no flags, zlib body) is
 * listed at start and read back. Made here from a plain CLCHUNK2 chunk. */
static void test_previous_format_is_read(void **state)
{
    (void)state;
    struct batch *b = make_logs(300, NULL);
    struct spool_entry *e;
    int n;
    struct spool *s = open_spool(&e, &n);
    uint64_t id = spool_write(s, b);
    spool_close(s);
    spool_entries_free(e, n);
    char path[400];
    chunk_file(id, path, sizeof path);
    size_t len;
    char *v2 = read_all(path, &len);
    uint32_t key_len, raw_len;
    memcpy(&key_len, v2 + 32, 4);
    size_t at = 36 + key_len;
    memcpy(&raw_len, v2 + at, 4);
    const char *body = v2 + at + 16;
    uLongf packed_len = compressBound(raw_len);
    char *packed = malloc(packed_len);
    assert_int_equal(compress2((Bytef *)packed, &packed_len, (const Bytef *)body, raw_len, 6), Z_OK);
    struct buf v1;
    buf_init(&v1);
    buf_append(&v1, "CLCHUNK1", 8);
    buf_append(&v1, v2 + 8, at - 8);            /* kind .. key */
    put32(&v1, raw_len);
    put32(&v1, (uint32_t)packed_len);
    put32(&v1, (uint32_t)crc32(0, (const Bytef *)v1.data, (uInt)v1.len));
    buf_append(&v1, packed, packed_len);
    put32(&v1, (uint32_t)crc32(0, (const Bytef *)packed, (uInt)packed_len));
    FILE *f = fopen(path, "wb");
    assert_int_equal(fwrite(v1.data, 1, v1.len, f), v1.len);
    fclose(f);

    s = open_spool(&e, &n);
    assert_int_equal(n, 1);
    assert_int_equal(e[0].count, 300);
    assert_string_equal(e[0].key, "group\nstream");
    int corrupt = 0;
    struct batch *r = spool_read(s, id, &corrupt);
    assert_non_null(r);
    assert_int_equal(corrupt, 0);
    assert_int_equal(r->count, 300);
    assert_memory_equal(batch_str(r, r->logs[299].message_off), "message 299", 11);
    batch_free(r);
    spool_close(s);
    spool_entries_free(e, n);
    buf_free(&v1);
    free(packed);
    free(v2);
    batch_free(b);
}

/* Not regular files named like chunks (a FIFO nobody writes, which a plain
 * open() would wait on forever; a symlink) are moved aside at start without
 * blocking; a huge sparse chunk whose size its header does not explain is
 * moved aside from its header alone. */
static void test_fifo_symlink_and_sparse_chunk_refused(void **state)
{
    (void)state;
    struct spool_entry *e;
    int n;
    struct spool *s = open_spool(&e, &n);
    struct batch *b = make_logs(10, NULL);
    uint64_t id = spool_write(s, b);
    spool_close(s);
    spool_entries_free(e, n);
    char path[400], fifo[400], link[400];
    chunk_file(id, path, sizeof path);
    assert_int_equal(truncate(path, 400LL << 20), 0);
    chunk_file(id + 1, fifo, sizeof fifo);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    chunk_file(id + 2, link, sizeof link);
    assert_int_equal(symlink("/etc/hostname", link), 0);

    alarm(20); /* a blocking open fails the test instead of hanging it */
    s = open_spool(&e, &n);
    alarm(0);
    assert_int_equal(n, 0);
    char corrupt[300], buffer[300];
    snprintf(corrupt, sizeof corrupt, "%s/corrupt", root);
    snprintf(buffer, sizeof buffer, "%s/buffer", root);
    assert_int_equal(count_in(corrupt), 3);
    assert_int_equal(count_in(buffer), 0);
    spool_close(s);
    spool_entries_free(e, n);
    batch_free(b);
}

/* A delivered chunk is not deleted but written over by the next one (the
 * same inode, cut to the new length), and no spare outlives the spool. */
static void test_delivered_chunk_is_written_over(void **state)
{
    (void)state;
    struct spool_entry *e;
    int n;
    struct spool *s = open_spool(&e, &n);
    struct batch *big = make_logs(500, NULL), *small = make_logs(10, NULL);
    uint64_t id1 = spool_write(s, big);
    char path[400];
    chunk_file(id1, path, sizeof path);
    struct stat st1, st2;
    assert_int_equal(stat(path, &st1), 0);
    spool_remove(s, id1);
    assert_int_equal(spool_count(s), 0);
    assert_int_equal(spool_bytes(s), 0);
    assert_int_equal(count_files("buffer"), 1); /* the spare */
    assert_int_not_equal(access(path, F_OK), 0);

    uint64_t id2 = spool_write(s, small);
    assert_true(id2 > id1);
    chunk_file(id2, path, sizeof path);
    assert_int_equal(stat(path, &st2), 0);
    assert_int_equal(st2.st_ino, st1.st_ino);
    assert_true(st2.st_size < st1.st_size);
    assert_int_equal((uint64_t)st2.st_size, spool_bytes(s));
    assert_int_equal(count_files("buffer"), 1);
    int corrupt = 0;
    struct batch *r = spool_read(s, id2, &corrupt);
    assert_non_null(r);
    assert_int_equal(r->count, 10);
    assert_memory_equal(batch_str(r, r->logs[9].message_off), "message 9",
                        strlen("message 9"));
    batch_free(r);

    /* a spare at close is removed; one a crash left is removed at open */
    uint64_t id3 = spool_write(s, small);
    spool_remove(s, id3);
    assert_int_equal(count_files("buffer"), 2);
    spool_close(s);
    assert_int_equal(count_files("buffer"), 1);
    char stale[400];
    snprintf(stale, sizeof stale, "%s/buffer/%016llx.spare", root, (unsigned long long)99);
    FILE *f = fopen(stale, "w");
    fputs("not a chunk", f);
    fclose(f);
    s = open_spool(&e, &n);
    assert_int_equal(n, 1);
    assert_int_equal(e[0].id, id2);
    assert_int_equal(count_files("buffer"), 1);
    assert_int_equal(count_files("corrupt"), 0);
    spool_entries_free(e, n);
    spool_close(s);
    batch_free(big);
    batch_free(small);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_roundtrip_logs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roundtrip_metrics_and_replay_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_and_truncated_chunks_are_moved_aside, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_file_with_chunk_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chunk_body_is_plain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chunk_decode_is_pure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_encoded_body_stored_as_is, setup, teardown),
        cmocka_unit_test_setup_teardown(test_previous_format_is_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifo_symlink_and_sparse_chunk_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delivered_chunk_is_written_over, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
