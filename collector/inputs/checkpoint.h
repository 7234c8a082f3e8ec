/* The persisted position store of file-following inputs: for each file,
 * its identity (device, inode, and a hash of its first bytes) and the
 * offset up to which its records were acknowledged by the outputs.
 *
 * One text file per input instance, rewritten whole on each save:
 *
 *   collector-checkpoint 1
 *   <dev> <ino> <fp_len> <fp_hash hex> <offset> <path>
 *   ...
 *   end <count>
 *
 * Saving writes a temporary file, fsyncs it, renames it over the old one
 * and fsyncs the directory, so a crash leaves either the old or the new
 * store. A store that does not parse is moved aside (<path>.corrupt) with a
 * warning and the input starts as if it had none. */
#ifndef COLLECTOR_CHECKPOINT_H
#define COLLECTOR_CHECKPOINT_H

#include <stdint.h>

struct ckpt_entry {
    uint64_t dev, ino;
    uint32_t fp_len;
    uint64_t fp_hash;
    uint64_t offset;
    char *path;          /* where it was last seen (for humans and orphan recovery) */
    int used;            /* for the caller: matched to a live file */
};

struct ckpt_store {
    char *path;
    struct ckpt_entry *entries;   /* sorted by (dev, ino) after load */
    int count;
    int existed;                  /* a store was found (not the very first start) */
};

/* Load the store at path (a missing file is an empty store). Returns 0, or
 * -1 only if the directory cannot be created. */
int ckpt_load(struct ckpt_store *s, const char *path);
void ckpt_free(struct ckpt_store *s);

/* The entry for (dev, ino), or NULL. */
struct ckpt_entry *ckpt_find(struct ckpt_store *s, uint64_t dev, uint64_t ino);

/* Add (or replace) an entry; the store takes e->path. */
void ckpt_add(struct ckpt_store *s, const struct ckpt_entry *e);

/* Atomically replace the store at path with these entries. 0 or -1 (errno). */
int ckpt_write(const char *path, const struct ckpt_entry *entries, int count);

#endif
