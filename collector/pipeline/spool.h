/* The disk buffer of one output: sealed batches as checksummed chunk files,
 * replayed in order after a restart and deleted once acknowledged.
 *
 * Files: <dir>/<id, 16 hex digits>.chunk, written as .tmp then renamed, so a
 * chunk either exists whole or not at all (a crash mid-write leaves a .tmp,
 * removed at the next open). A delivered chunk is renamed <id>.spare (up to
 * 4 of them) and the next chunk is written over a spare, then renamed to its
 * own .chunk name, instead of creating a file and deleting another: spares
 * are never read, and are removed at close and at the next open. Chunk
 * layout, little-endian:
 *
 *   "CLCHUNK2"                        magic, 8 bytes
 *   u32 kind, u32 count               batch kind and record count
 *   u64 payload_bytes, i64 created_ms
 *   u32 key_len, key bytes            the destination key
 *   u32 raw_len, u32 stored_len       body sizes: encoded, and as stored
 *   u32 flags                         0 (none defined yet)
 *   u32 header_crc                    CRC-32 of everything above
 *   body                              (tags, metas, records, arena), plain or gzip
 *   u32 body_crc                      CRC-32 of the body as stored
 *
 * CLCHUNK3 (encode once, outputs with an encode() step): the same header
 * with "CLCHUNK3", then u32 dropped (records the output dropped when
 * encoding) before header_crc; the body is the output's encoded batch, the
 * exact request bytes, stored and sent as they are (raw_len = stored_len).
 * A CLCHUNK1 or CLCHUNK2 chunk of such an output (written before encode
 * once) is read back as records and encoded once when its turn comes.
 *
 * A CLCHUNK2 body (outputs without encode) is stored plain: nothing on the
 * way to the wire is compressed twice (the output gzips what it sends, once). Compressing chunks cost ~10
 * CPU-s/GB on the shipped default path (deflate, then inflate when a batch
 * waiting on disk is read back); the price is disk space: a chunk holds the
 * records' bytes uncompressed. Chunks of the earlier format "CLCHUNK1" (no
 * flags field, a zlib body) are still read, and sent as usual (logged once
 * at start).
 *
 * The body keeps the batch's arena verbatim (records refer to it by offset)
 * and replaces the tag and meta pointers by indexes into small tables, so
 * writing and reading are a few memcpy and at most one (de)compression.
 * At start only each chunk's header is read. A chunk whose checksum, size or
 * structure is wrong, or that is not a regular file, is moved to the corrupt
 * directory and reported; it never stops (or blocks) the agent. */
#ifndef COLLECTOR_SPOOL_H
#define COLLECTOR_SPOOL_H

#include "collector/pipeline/batch.h"

#include <stdint.h>

enum spool_sync {
    SPOOL_SYNC_BATCH,     /* fsync every chunk and its directory entry */
    SPOOL_SYNC_INTERVAL,  /* syncfs at most once a second */
    SPOOL_SYNC_OFF,       /* leave it to the kernel */
};

struct spool;

/* What spool_open found on disk, oldest first. */
struct spool_entry {
    uint64_t id;
    enum batch_kind kind;
    uint32_t count;
    uint64_t payload_bytes;
    uint64_t file_bytes;
    char *key;
    int encoded;           /* CLCHUNK3: the output's body, sent as stored */
};

/* Open (creating) dir; corrupt chunks go to corrupt_dir. Existing chunks
 * are listed in *entries (caller frees with spool_entries_free). Returns
 * NULL with errno set if dir cannot be created. */
struct spool *spool_open(const char *dir, const char *corrupt_dir, enum spool_sync sync,
                         struct spool_entry **entries, int *nentries);
void spool_entries_free(struct spool_entry *entries, int n);
void spool_close(struct spool *s);

/* Write b as a new chunk. Returns its id (> 0), or 0 with errno set. */
uint64_t spool_write(struct spool *s, const struct batch *b);

/* Read chunk id into a new batch (thread-safe). NULL if it is corrupt or
 * missing: a corrupt one has been moved aside and *corrupt set to 1. */
struct batch *spool_read(struct spool *s, uint64_t id, int *corrupt);

/* Pure decoding, no files: the bytes of one whole chunk (either format) to
 * a new batch, or NULL with *why (may be NULL) saying what is wrong. What
 * spool_read does after reading the file; for fuzzing and tests. */
struct batch *spool_chunk_decode(const void *data, size_t len, const char **why);

/* Delete an acknowledged (or dropped) chunk. */
void spool_remove(struct spool *s, uint64_t id);

/* Bytes of chunk files currently on disk, and how many. */
uint64_t spool_bytes(const struct spool *s);
uint64_t spool_count(const struct spool *s);

#endif
