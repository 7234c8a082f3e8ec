/* Unit tests: the gzip encoder of PutLogEvents bodies (collector/core/gzip.h).
 * Every level's output is a gzip member zlib (what CloudWatch's side of
 * Content-Encoding: gzip amounts to) inflates back to the input, for log-like
 * text, incompressible bytes and nothing.
 *
 * Built twice: build/tests/test_gzip against the backend the build chose,
 * build/tests/test_gzip_zlib against core/gzip_zlib.c whatever it chose
 * (GZIP_TEST_BACKEND names the backend that binary must be testing). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "collector/core/gzip.h"

static void inflate_equals(const struct buf *gz, const char *want, size_t want_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(inflateInit2(&zs, 15 + 16), Z_OK);
    char *out = malloc(want_len + 16);
    zs.next_in = (Bytef *)gz->data;
    zs.avail_in = (uInt)gz->len;
    zs.next_out = (Bytef *)out;
    zs.avail_out = (uInt)(want_len + 16);
    assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
    assert_int_equal(zs.total_out, want_len);
    assert_int_equal(zs.avail_in, 0); /* one member, nothing after it */
    assert_memory_equal(out, want, want_len);
    inflateEnd(&zs);
    free(out);
}

static char *log_text(size_t *len)
{
    struct buf b;
    buf_init(&b);
    for (int i = 0; i < 20000; i++)
        buf_printf(&b, "{\"timestamp\":%d,\"message\":\"GET /api/v1/orders status=%d took %d ms\"},",
                   1700000000 + i, 200 + i % 7, i % 997);
    *len = b.len;
    return b.data;
}

static void test_levels_round_trip(void **state)
{
    (void)state;
    size_t len;
    char *text = log_text(&len);
    /* -1 and GZIP_LEVEL_MAX + 1 are out of range: the nearest level is used */
    for (int level = -1; level <= GZIP_LEVEL_MAX + 1; level++) {
        struct gzip_encoder *z = gzip_encoder_new(level);
        struct buf out;
        buf_init(&out);
        for (int round = 0; round < 2; round++) { /* the encoder is reused */
            assert_int_equal(gzip_encode(z, text, len, &out), 0);
            assert_true(out.len < len / 4);
            inflate_equals(&out, text, len);
        }
        buf_free(&out);
        gzip_encoder_free(z);
    }
    free(text);
}

static int is_zlib(void)
{
    return strncmp(gzip_backend(), "zlib ", 5) == 0;
}

/* Higher levels are worth their CPU with zlib (1 -> 6, gzip.h); igzip's 2
 * and 3 gain nothing on log text, so only zlib is held to it. */
static void test_zlib_levels_differ(void **state)
{
    (void)state;
    if (!is_zlib())
        return; /* (cmocka's skip() reads as a failure in TAP) */
    size_t len, size[GZIP_LEVEL_MAX + 1];
    char *text = log_text(&len);
    struct buf out;
    buf_init(&out);
    for (int level = 0; level <= GZIP_LEVEL_MAX; level++) {
        struct gzip_encoder *z = gzip_encoder_new(level);
        assert_int_equal(gzip_encode(z, text, len, &out), 0);
        size[level] = out.len;
        gzip_encoder_free(z);
    }
    assert_true(size[2] < size[1]);
    assert_true(size[3] < size[2]);
    buf_free(&out);
    free(text);
}

/* Every level, also igzip's 0, which codes incompressible bytes with fixed
 * Huffman codes and so makes them larger. */
static void test_incompressible_and_empty(void **state)
{
    (void)state;
    size_t len = 3 << 20;
    char *noise = malloc(len);
    uint64_t x = 88172645463325252ULL;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        noise[i] = (char)x;
    }
    for (int level = 0; level <= GZIP_LEVEL_MAX; level++) {
        struct gzip_encoder *z = gzip_encoder_new(level);
        struct buf out;
        buf_init(&out);
        assert_int_equal(gzip_encode(z, noise, len, &out), 0);
        inflate_equals(&out, noise, len);
        assert_int_equal(gzip_encode(z, "", 0, &out), 0);
        inflate_equals(&out, "", 0);
        buf_free(&out);
        gzip_encoder_free(z);
    }
    free(noise);
}

/* The binary tests the backend it was built for, and the memory an encoder
 * reports is what it holds from its creation on: for zlib, the deflate state
 * at a 32 KiB window and memLevel 8 (256 KiB of buffers and a few KiB of
 * struct), allocated once and reused by every body. */
static void test_backend_and_memory(void **state)
{
    (void)state;
#ifdef GZIP_TEST_BACKEND
    assert_true(strncmp(gzip_backend(), GZIP_TEST_BACKEND, strlen(GZIP_TEST_BACKEND)) == 0);
#endif
    size_t len;
    char *text = log_text(&len);
    struct gzip_encoder *z = gzip_encoder_new(1);
    size_t mem = gzip_encoder_memory(z);
    print_message("# backend: %s, encoder memory %zu bytes\n", gzip_backend(), mem);
    if (is_zlib())
        assert_in_range(mem, 256 * 1024, 280 * 1024);
    else
        assert_in_range(mem, 1024, 1024 * 1024);
    struct buf out;
    buf_init(&out);
    assert_int_equal(gzip_encode(z, text, len, &out), 0);
    assert_int_equal(gzip_encoder_memory(z), mem);
    buf_free(&out);
    gzip_encoder_free(z);
    free(text);
}

/* gzip_crc32 is zlib's crc32 (the disk buffer's chunks of both formats). */
static void test_crc32_is_zlibs(void **state)
{
    (void)state;
    size_t len;
    char *text = log_text(&len);
    for (size_t n = 0; n < 300; n += 37)
        assert_int_equal(gzip_crc32(0, text, n), (uint32_t)crc32(0, (const Bytef *)text, (uInt)n));
    uint32_t part = gzip_crc32(0, text, 1000);
    assert_int_equal(gzip_crc32(part, text + 1000, len - 1000),
                     (uint32_t)crc32(0, (const Bytef *)text, (uInt)len));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels_round_trip),
        cmocka_unit_test(test_zlib_levels_differ),
        cmocka_unit_test(test_incompressible_and_empty),
        cmocka_unit_test(test_backend_and_memory),
        cmocka_unit_test(test_crc32_is_zlibs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
