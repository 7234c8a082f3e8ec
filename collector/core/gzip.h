/* gzip encoding (request bodies sent with Content-Encoding: gzip). Two
 * backends behind one interface, exactly one compiled in (Makefile: GZIP):
 *
 *   gzip_isal.c  ISA-L's igzip, the fastest deflate measured on the target
 *                hosts at a ratio close to zlib's default; used wherever
 *                libisal is installed (Debian, Ubuntu).
 *   gzip_zlib.c  zlib, for hosts without ISA-L (Amazon Linux 2023's core
 *                repositories have none); 3.6 to 3.8 times igzip's CPU
 *                at the default level.
 *
 * Figures: docs/cloudwatch_logs.md, tests/tools/deflate_bench.c. One encoder
 * per thread; its working memory is allocated once, by gzip_encoder_new.
 * gzip_crc32 gives zlib's crc32 values in both backends. */
#ifndef COLLECTOR_CORE_GZIP_H
#define COLLECTOR_CORE_GZIP_H

#include "collector/core/util.h"

#include <stddef.h>
#include <stdint.h>

/* Levels 0..3 (compress_level), 1 the shipped default. igzip uses them as
 * they are. zlib maps 0 -> 1, 1 -> 1, 2 -> 4, 3 -> 6: zlib's level 0 stores
 * without compressing, and its level 1 is its fastest that compresses; 4 is
 * the first with lazy matching, 6 zlib's own default. */
#define GZIP_LEVEL_MAX 3

/* For the backends: a level out of range means the nearest one. */
static inline int gzip_level_clamp(int level)
{
    return level < 0 ? 0 : level > GZIP_LEVEL_MAX ? GZIP_LEVEL_MAX : level;
}

struct gzip_encoder;

/* Never NULL: running out of memory ends the agent, as xmalloc does. */
struct gzip_encoder *gzip_encoder_new(int level);
void gzip_encoder_free(struct gzip_encoder *z);
/* Replace out's contents by the gzip member of data. 0 or -1. */
int gzip_encode(struct gzip_encoder *z, const void *data, size_t len, struct buf *out);
/* Bytes of working memory the encoder holds (for memory accounting). */
size_t gzip_encoder_memory(const struct gzip_encoder *z);
/* CRC-32 (the gzip/zlib one) of data, continuing from crc (0 to start). */
uint32_t gzip_crc32(uint32_t crc, const void *data, size_t len);
/* Which deflate this build uses, e.g. "zlib 1.2.13" (logged at start and
 * printed by `collector version`). */
const char *gzip_backend(void);

#endif
