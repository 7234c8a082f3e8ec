/* gzip encoding (request bodies sent with Content-Encoding: gzip, disk buffer
 * chunks): ISA-L's igzip, the fastest deflate measured on the target hosts at
 * a ratio close to zlib's default (figures: docs/cloudwatch_logs.md,
 * tests/tools/deflate_bench.c). One encoder per thread; its working memory is
 * allocated once. gzip_crc32 is zlib's crc32, computed with ISA-L. */
#ifndef COLLECTOR_CORE_GZIP_H
#define COLLECTOR_CORE_GZIP_H

#include "collector/core/util.h"

#include <stddef.h>
#include <stdint.h>

#define GZIP_LEVEL_MAX 3   /* igzip levels 0..3; 1 is the shipped default */

struct gzip_encoder;

struct gzip_encoder *gzip_encoder_new(int level);
void gzip_encoder_free(struct gzip_encoder *z);
/* Replace out's contents by the gzip member of data. 0 or -1. */
int gzip_encode(struct gzip_encoder *z, const void *data, size_t len, struct buf *out);
/* Bytes of working memory the encoder holds (for memory accounting). */
size_t gzip_encoder_memory(const struct gzip_encoder *z);
/* CRC-32 (the gzip/zlib one) of data, continuing from crc (0 to start). */
uint32_t gzip_crc32(uint32_t crc, const void *data, size_t len);

#endif
