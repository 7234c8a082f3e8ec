/* The zlib backend of core/gzip.h, compiled in where ISA-L is not installed
 * (Makefile: GZIP=zlib). One z_stream per encoder, set up once and reset
 * between bodies. */
#include "collector/core/gzip.h"

#include <limits.h>
#include <stdlib.h>
#include <zlib.h>

#define GZIP_ZLIB_WINDOW_BITS (15 + 16)  /* 32 KiB window, gzip wrapper */
#define GZIP_ZLIB_MEM_LEVEL 8           /* zlib's default */

struct gzip_encoder {
    z_stream zs;
    int ready;              /* deflateInit2 succeeded */
    size_t state_bytes;     /* what zlib allocated through gzip_zlib_alloc */
};

/* compress_level (0..GZIP_LEVEL_MAX) to zlib's: see gzip.h. */
static const int gzip_zlib_levels[GZIP_LEVEL_MAX + 1] = {1, 1, 4, 6};

/* zlib allocates its whole deflate state in deflateInit2 (262 KiB at
 * memLevel 8: window, hash chains, hash heads, pending buffer) and nothing in
 * deflateReset or deflate, so counting here gives the encoder's true size. */
static voidpf gzip_zlib_alloc(voidpf opaque, uInt items, uInt size)
{
    struct gzip_encoder *z = opaque;
    void *p = xcalloc(items, size);
    z->state_bytes += (size_t)items * size;
    return p;
}

static void gzip_zlib_free(voidpf opaque, voidpf p)
{
    (void)opaque;
    free(p);
}

struct gzip_encoder *gzip_encoder_new(int level)
{
    level = gzip_level_clamp(level);
    struct gzip_encoder *z = xcalloc(1, sizeof *z);
    z->zs.zalloc = gzip_zlib_alloc;
    z->zs.zfree = gzip_zlib_free;
    z->zs.opaque = z;
    /* Out of memory aborts in gzip_zlib_alloc; what is left is a zlib that
     * refuses these parameters, which gzip_encode then reports per body. */
    z->ready = deflateInit2(&z->zs, gzip_zlib_levels[level], Z_DEFLATED, GZIP_ZLIB_WINDOW_BITS,
                            GZIP_ZLIB_MEM_LEVEL, Z_DEFAULT_STRATEGY) == Z_OK;
    return z;
}

void gzip_encoder_free(struct gzip_encoder *z)
{
    if (!z)
        return;
    if (z->ready)
        deflateEnd(&z->zs);
    free(z);
}

size_t gzip_encoder_memory(const struct gzip_encoder *z)
{
    return z ? sizeof *z + z->state_bytes : 0;
}

int gzip_encode(struct gzip_encoder *z, const void *data, size_t len, struct buf *out)
{
    buf_reset(out);
    /* z_stream counts in uInt; request bodies are at most a few MiB. */
    if (!z->ready || len > UINT_MAX || deflateReset(&z->zs) != Z_OK)
        return -1;
    size_t bound = deflateBound(&z->zs, (uLong)len);
    if (bound > UINT_MAX)
        return -1;
    buf_reserve(out, bound);
    z->zs.next_in = (Bytef *)data;
    z->zs.avail_in = (uInt)len;
    z->zs.next_out = (Bytef *)out->data;
    z->zs.avail_out = (uInt)bound;
    /* deflateBound is enough for one Z_FINISH call to end the stream. */
    if (deflate(&z->zs, Z_FINISH) != Z_STREAM_END)
        return -1;
    out->len = z->zs.total_out;
    return 0;
}

uint32_t gzip_crc32(uint32_t crc, const void *data, size_t len)
{
    /* crc32 takes uInt lengths; crc32_z (zlib 1.2.9+) takes size_t. */
    return (uint32_t)crc32_z(crc, (const Bytef *)data, len);
}

/* The version built against: the agent runs where it was built. */
const char *gzip_backend(void)
{
    return "zlib " ZLIB_VERSION;
}
