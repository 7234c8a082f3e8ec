/* The ISA-L backend of core/gzip.h (Makefile: GZIP=isal, the default where
 * libisal is installed). igzip keeps no state between bodies but its
 * per-level hash tables, allocated once. */
#include "collector/core/gzip.h"

#include <isa-l/crc.h>
#include <isa-l/igzip_lib.h>
#include <stdlib.h>
#include <string.h>

struct gzip_encoder {
    int level;
    unsigned char *level_buf;   /* igzip's per-level hash tables */
    size_t level_buf_len;
    struct isal_zstream zs;
};

static size_t level_buf_len(int level)
{
    switch (level) {
    case 0: return ISAL_DEF_LVL0_DEFAULT;
    case 1: return ISAL_DEF_LVL1_DEFAULT;
    case 2: return ISAL_DEF_LVL2_DEFAULT;
    default: return ISAL_DEF_LVL3_DEFAULT;
    }
}

struct gzip_encoder *gzip_encoder_new(int level)
{
    level = gzip_level_clamp(level);
    struct gzip_encoder *z = xcalloc(1, sizeof *z);
    z->level = level;
    z->level_buf_len = level_buf_len(level);
    z->level_buf = xmalloc(z->level_buf_len);
    return z;
}

void gzip_encoder_free(struct gzip_encoder *z)
{
    if (!z)
        return;
    free(z->level_buf);
    free(z);
}

size_t gzip_encoder_memory(const struct gzip_encoder *z)
{
    return z ? sizeof *z + z->level_buf_len : 0;
}

/* Space left in out after used bytes, in igzip's 32-bit count. */
static uint32_t out_room(const struct buf *out, size_t used)
{
    size_t room = out->cap - 1 - used;
    return room > UINT32_MAX ? UINT32_MAX : (uint32_t)room;
}

int gzip_encode(struct gzip_encoder *z, const void *data, size_t len, struct buf *out)
{
    /* Enough for levels 1..3, which fall back to stored blocks (5 bytes per
     * 64 KiB), plus the gzip header and trailer. Level 0 codes incompressible
     * bytes with fixed Huffman codes, about 1.23 times their size: for that
     * the loop below grows out and lets igzip go on. */
    size_t bound = len + len / 16 + 1024;
    if (len > UINT32_MAX / 2) /* igzip counts its output in 32 bits */
        return -1;
    buf_reset(out);
    buf_reserve(out, bound);
    struct isal_zstream *zs = &z->zs;
    isal_deflate_init(zs);
    zs->gzip_flag = IGZIP_GZIP;
    zs->level = (uint32_t)z->level;
    zs->level_buf = z->level_buf;
    zs->level_buf_size = (uint32_t)z->level_buf_len;
    zs->end_of_stream = 1;
    zs->flush = NO_FLUSH;
    zs->next_in = (uint8_t *)data;
    zs->avail_in = (uint32_t)len;
    zs->next_out = (uint8_t *)out->data;
    zs->avail_out = out_room(out, 0);
    for (;;) {
        uint32_t in_before = zs->avail_in, out_before = zs->total_out;
        if (isal_deflate(zs) != COMP_OK)
            return -1;
        if (zs->internal_state.state == ZSTATE_END)
            break;
        if (zs->avail_in == in_before && zs->total_out == out_before)
            return -1; /* no progress: not a full output buffer */
        buf_reserve(out, zs->total_out + len / 2 + 1024);
        zs->next_out = (uint8_t *)out->data + zs->total_out;
        zs->avail_out = out_room(out, zs->total_out);
    }
    out->len = zs->total_out;
    return 0;
}

uint32_t gzip_crc32(uint32_t crc, const void *data, size_t len)
{
    return crc32_gzip_refl(crc, (const unsigned char *)data, len);
}

/* ISA-L (2.30) has no call that tells its version at run time. */
const char *gzip_backend(void)
{
    return "ISA-L igzip";
}
