/* libarchive, opened when the first bundle is written (see core/libload.h):
 * the archive_* functions bundle/archive.c calls, under libarchive's own
 * names, each forwarding to libarchive.so.13. The daemon never maps
 * libarchive (and its ICU, libxml2 and libstdc++) unless a bundle is asked
 * for. When it cannot be loaded, archive_write_new returns NULL and
 * archive_tree says so. */
#include <archive.h>
#include <archive_entry.h>

#include "collector/core/libload.h"
#include "collector/core/log.h"

#include <pthread.h>

#define ARCHIVE_LIB_SONAME "libarchive.so.13"

/* X(function) for each function used: the table, the symbol list and the
 * stand-ins below all come from this list. */
#define ARCHIVE_LIB_FUNCTIONS(X)                                                     \
    X(archive_write_new) X(archive_write_add_filter_gzip)                            \
    X(archive_write_set_format_pax_restricted) X(archive_write_set_bytes_in_last_block) \
    X(archive_write_open_fd) X(archive_write_header) X(archive_write_data)           \
    X(archive_write_close) X(archive_write_free) X(archive_error_string)             \
    X(archive_entry_new) X(archive_entry_free) X(archive_entry_set_pathname)         \
    X(archive_entry_set_mtime) X(archive_entry_set_uname) X(archive_entry_set_gname) \
    X(archive_entry_set_filetype) X(archive_entry_set_perm) X(archive_entry_set_size)

static struct {
#define ARCHIVE_LIB_FIELD(name) __typeof__(name) *name;
    ARCHIVE_LIB_FUNCTIONS(ARCHIVE_LIB_FIELD)
#undef ARCHIVE_LIB_FIELD
} archive_lib;

static pthread_once_t archive_lib_once = PTHREAD_ONCE_INIT;
static int archive_lib_loaded;

static void archive_lib_load(void)
{
    const struct libload_symbol symbols[] = {
#define ARCHIVE_LIB_SYMBOL(name) {#name, &archive_lib.name},
        ARCHIVE_LIB_FUNCTIONS(ARCHIVE_LIB_SYMBOL)
#undef ARCHIVE_LIB_SYMBOL
    };
    char err[512];
    archive_lib_loaded = libload_open(ARCHIVE_LIB_SONAME, symbols,
                                      sizeof symbols / sizeof symbols[0], err, sizeof err) == 0;
    if (!archive_lib_loaded)
        log_msg(LOG_ERROR, "bundle", "%s: no bundle can be written", err);
}

/* The two constructors load the library; everything else takes an object
 * one of them made, so the library is loaded by then. */
struct archive *archive_write_new(void)
{
    pthread_once(&archive_lib_once, archive_lib_load);
    return archive_lib_loaded ? archive_lib.archive_write_new() : NULL;
}

struct archive_entry *archive_entry_new(void)
{
    pthread_once(&archive_lib_once, archive_lib_load);
    return archive_lib_loaded ? archive_lib.archive_entry_new() : NULL;
}

int archive_write_add_filter_gzip(struct archive *a)
{
    return archive_lib.archive_write_add_filter_gzip(a);
}

int archive_write_set_format_pax_restricted(struct archive *a)
{
    return archive_lib.archive_write_set_format_pax_restricted(a);
}

int archive_write_set_bytes_in_last_block(struct archive *a, int bytes)
{
    return archive_lib.archive_write_set_bytes_in_last_block(a, bytes);
}

int archive_write_open_fd(struct archive *a, int fd)
{
    return archive_lib.archive_write_open_fd(a, fd);
}

int archive_write_header(struct archive *a, struct archive_entry *e)
{
    return archive_lib.archive_write_header(a, e);
}

la_ssize_t archive_write_data(struct archive *a, const void *data, size_t len)
{
    return archive_lib.archive_write_data(a, data, len);
}

int archive_write_close(struct archive *a)
{
    return archive_lib.archive_write_close(a);
}

int archive_write_free(struct archive *a)
{
    return a ? archive_lib.archive_write_free(a) : ARCHIVE_OK;
}

const char *archive_error_string(struct archive *a)
{
    return archive_lib.archive_error_string(a);
}

void archive_entry_free(struct archive_entry *e)
{
    if (e)
        archive_lib.archive_entry_free(e);
}

void archive_entry_set_pathname(struct archive_entry *e, const char *name)
{
    archive_lib.archive_entry_set_pathname(e, name);
}

void archive_entry_set_mtime(struct archive_entry *e, time_t seconds, long nanoseconds)
{
    archive_lib.archive_entry_set_mtime(e, seconds, nanoseconds);
}

void archive_entry_set_uname(struct archive_entry *e, const char *name)
{
    archive_lib.archive_entry_set_uname(e, name);
}

void archive_entry_set_gname(struct archive_entry *e, const char *name)
{
    archive_lib.archive_entry_set_gname(e, name);
}

void archive_entry_set_filetype(struct archive_entry *e, unsigned int type)
{
    archive_lib.archive_entry_set_filetype(e, type);
}

void archive_entry_set_perm(struct archive_entry *e, __LA_MODE_T mode)
{
    archive_lib.archive_entry_set_perm(e, mode);
}

void archive_entry_set_size(struct archive_entry *e, la_int64_t size)
{
    archive_lib.archive_entry_set_size(e, size);
}
