/* deflate_bench FILE [MAX_MB]: which gzip to put on the wire.
 *
 * Turns FILE's lines into PutLogEvents-shaped bodies of about 1 MiB (what
 * cloudwatch_logs compresses), then gzips every body with zlib (the levels
 * core/gzip_zlib.c uses), libdeflate and ISA-L's igzip at several levels, one
 * thread, and prints per encoder: CPU seconds per GB of input, MB/s and the
 * compressed size as a % of the input. Each body is decompressed with zlib
 * afterwards to check it. libdeflate and igzip are measured where they are
 * installed (the Makefile defines DEFLATE_BENCH_LIBDEFLATE, _ISAL). */
#include "collector/core/util.h"

#ifdef DEFLATE_BENCH_ISAL
#include <isa-l/igzip_lib.h>
#endif
#ifdef DEFLATE_BENCH_LIBDEFLATE
#include <libdeflate.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#define BODY_BYTES (1u << 20)

struct body {
    char *data;
    size_t len;
};

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct body *read_bodies(const char *path, size_t max_bytes, int *n, size_t *total)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        exit(1);
    }
    struct body *bodies = NULL;
    int nb = 0;
    struct buf cur;
    buf_init(&cur);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    *total = 0;
    while ((len = getline(&line, &cap, f)) > 0 && *total < max_bytes) {
        if (line[len - 1] == '\n')
            len--;
        if (cur.len == 0)
            buf_append_str(&cur, "{\"logGroupName\":\"g\",\"logStreamName\":\"s\",\"logEvents\":[");
        else
            buf_append(&cur, ",", 1);
        buf_append_str(&cur, "{\"timestamp\":1700000000000,\"message\":\"");
        buf_append_json_escaped(&cur, line, (size_t)len);
        buf_append_str(&cur, "\"}");
        if (cur.len >= BODY_BYTES - 4096) {
            buf_append_str(&cur, "]}");
            bodies = realloc(bodies, sizeof *bodies * (size_t)(nb + 1));
            bodies[nb++] = (struct body){cur.data, cur.len};
            *total += cur.len;
            buf_init(&cur);
        }
    }
    free(line);
    fclose(f);
    buf_free(&cur);
    *n = nb;
    return bodies;
}

enum encoder { ZLIB, LIBDEFLATE, ISAL };

/* What one encoder keeps from body to body. */
struct enc_state {
    z_stream zs;
    void *libdeflate;
    unsigned char *isal_buf;
    size_t isal_len;
};

static size_t encode(enum encoder e, int level, const struct body *in, unsigned char *out,
                     size_t cap, struct enc_state *st)
{
    if (e == ZLIB) {
        z_stream *zs = &st->zs;
        deflateReset(zs);
        zs->next_in = (Bytef *)in->data;
        zs->avail_in = (uInt)in->len;
        zs->next_out = out;
        zs->avail_out = (uInt)cap;
        if (deflate(zs, Z_FINISH) != Z_STREAM_END)
            return 0;
        return zs->total_out;
    }
#ifdef DEFLATE_BENCH_LIBDEFLATE
    if (e == LIBDEFLATE)
        return libdeflate_gzip_compress(st->libdeflate, in->data, in->len, out, cap);
#endif
#ifdef DEFLATE_BENCH_ISAL
    if (e == ISAL) {
        struct isal_zstream zs;
        isal_deflate_init(&zs);
        zs.gzip_flag = IGZIP_GZIP;
        zs.level = (uint32_t)level;
        zs.level_buf = st->isal_buf;
        zs.level_buf_size = (uint32_t)st->isal_len;
        zs.end_of_stream = 1;
        zs.flush = NO_FLUSH;
        zs.next_in = (uint8_t *)in->data;
        zs.avail_in = (uint32_t)in->len;
        zs.next_out = out;
        zs.avail_out = (uint32_t)cap;
        if (isal_deflate(&zs) != COMP_OK || zs.internal_state.state != ZSTATE_END)
            return 0;
        return zs.total_out;
    }
#endif
    (void)level;
    return 0;
}

static void enc_start(enum encoder e, int level, struct enc_state *st)
{
    memset(st, 0, sizeof *st);
    if (e == ZLIB)
        deflateInit2(&st->zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
#ifdef DEFLATE_BENCH_LIBDEFLATE
    if (e == LIBDEFLATE)
        st->libdeflate = libdeflate_alloc_compressor(level);
#endif
#ifdef DEFLATE_BENCH_ISAL
    if (e == ISAL) {
        st->isal_len = level == 1 ? ISAL_DEF_LVL1_DEFAULT
                       : level == 2 ? ISAL_DEF_LVL2_DEFAULT
                       : level == 3 ? ISAL_DEF_LVL3_DEFAULT
                                    : ISAL_DEF_LVL0_DEFAULT;
        st->isal_buf = xmalloc(st->isal_len);
    }
#endif
}

static void enc_end(enum encoder e, struct enc_state *st)
{
    if (e == ZLIB)
        deflateEnd(&st->zs);
#ifdef DEFLATE_BENCH_LIBDEFLATE
    if (e == LIBDEFLATE)
        libdeflate_free_compressor(st->libdeflate);
#endif
    free(st->isal_buf);
}

static int check(const unsigned char *gz, size_t len, const struct body *in, unsigned char *tmp)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    inflateInit2(&zs, 15 + 16);
    zs.next_in = (Bytef *)gz;
    zs.avail_in = (uInt)len;
    zs.next_out = tmp;
    zs.avail_out = (uInt)(in->len + 1);
    int rc = inflate(&zs, Z_FINISH);
    int ok = rc == Z_STREAM_END && zs.total_out == in->len && memcmp(tmp, in->data, in->len) == 0;
    inflateEnd(&zs);
    return ok;
}

static void run(const char *name, enum encoder e, int level, const struct body *bodies, int n,
                size_t total)
{
    size_t cap = BODY_BYTES * 2;
    unsigned char *out = xmalloc(cap), *tmp = xmalloc(cap);
    struct enc_state st;
    enc_start(e, level, &st);
    size_t packed = 0;
    int bad = 0;
    double cpu = 0;
    for (int i = 0; i < n; i++) {
        double t0 = cpu_now();
        size_t len = encode(e, level, &bodies[i], out, cap, &st);
        cpu += cpu_now() - t0;
        packed += len;
        if (!len || !check(out, len, &bodies[i], tmp))
            bad++;
    }
    enc_end(e, &st);
    double gb = (double)total / 1e9;
    printf("%-14s level %d  %6.2f CPU-s/GB  %7.0f MB/s  ratio %5.1f %%%s\n", name, level, cpu / gb,
           (double)total / 1e6 / cpu, 100.0 * (double)packed / (double)total,
           bad ? "  DECOMPRESSION MISMATCH" : "");
    free(out);
    free(tmp);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: deflate_bench FILE [MAX_MB]\n");
        return 2;
    }
    size_t max = (argc > 2 ? (size_t)atol(argv[2]) : 200) << 20;
    int n;
    size_t total;
    struct body *bodies = read_bodies(argv[1], max, &n, &total);
    if (!n) {
        fprintf(stderr, "deflate_bench: %s holds less than one body\n", argv[1]);
        return 1;
    }
    printf("deflate_bench: %d PutLogEvents bodies, %.1f MB\n", n, (double)total / 1e6);
    run("zlib", ZLIB, 1, bodies, n, total);
    run("zlib", ZLIB, 4, bodies, n, total);
    run("zlib", ZLIB, 6, bodies, n, total);
#ifdef DEFLATE_BENCH_LIBDEFLATE
    for (int l = 1; l <= 6; l++)
        run("libdeflate", LIBDEFLATE, l, bodies, n, total);
#endif
#ifdef DEFLATE_BENCH_ISAL
    for (int l = 0; l <= 3; l++)
        run("isal igzip", ISAL, l, bodies, n, total);
#endif
    for (int i = 0; i < n; i++)
        free(bodies[i].data);
    free(bodies);
    return 0;
}
