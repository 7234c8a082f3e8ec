/* The staging directory: every file of the bundle goes through bundle_stage_write
 * (size cap, binary refusal, redaction, sha256), and every item, written or
 * not, becomes a manifest entry through entry_add. */
#include "collector/bundle/stage.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

char *bundle_host_path(const struct bundle *b, const char *path)
{
    if (!b->o->root || !*b->o->root)
        return xstrdup(path);
    /* Kernel interfaces: the fake root's copy when it has one, else the live one. */
    static const char *const live[] = {"/proc", "/sys/fs/cgroup"};
    for (size_t i = 0; i < sizeof live / sizeof live[0]; i++) {
        size_t n = strlen(live[i]);
        if (strncmp(path, live[i], n) == 0 && (path[n] == '/' || !path[n])) {
            char *top = xasprintf("%s%s", b->o->root, live[i]);
            int has = access(top, F_OK) == 0;
            free(top);
            if (!has)
                return xstrdup(path);
        }
    }
    return xasprintf("%s%s", b->o->root, path);
}

char *bundle_which(const char *name)
{
    if (strchr(name, '/'))
        return access(name, X_OK) == 0 ? xstrdup(name) : NULL;
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    while (*path) {
        const char *colon = strchr(path, ':');
        size_t n = colon ? (size_t)(colon - path) : strlen(path);
        char *full = n ? xasprintf("%.*s/%s", (int)n, path, name) : xasprintf("./%s", name);
        struct stat st;
        if (stat(full, &st) == 0 && S_ISREG(st.st_mode) && access(full, X_OK) == 0)
            return full;
        free(full);
        path += n + (colon ? 1 : 0);
    }
    return NULL;
}

struct bundle_entry *bundle_entry_new(const char *item, const char *source, const char *command)
{
    struct bundle_entry *e = xcalloc(1, sizeof *e);
    e->item = xstrdup(item);
    e->source = source ? xstrdup(source) : NULL;
    e->command = command ? xstrdup(command) : NULL;
    e->exit_status = -1;
    e->status = BUNDLE_ENTRY_OK;
    return e;
}

void bundle_entry_fail(struct bundle_entry *e, enum bundle_entry_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg;
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = xstrdup("?");
    va_end(ap);
    free(e->error);
    e->error = msg;
    e->status = st;
}

void bundle_entry_free(struct bundle_entry *e)
{
    if (!e)
        return;
    free(e->item);
    free(e->source);
    free(e->command);
    free(e->path);
    free(e->error);
    free(e);
}

static const char *status_word(enum bundle_entry_status s)
{
    switch (s) {
    case BUNDLE_ENTRY_OK: return "ok";
    case BUNDLE_ENTRY_FAILED: return "failed";
    case BUNDLE_ENTRY_SKIPPED: return "skipped";
    case BUNDLE_ENTRY_TIMEOUT: return "timed out";
    }
    return "?";
}

void bundle_entry_add(struct bundle *b, struct bundle_entry *e)
{
    pthread_mutex_lock(&b->lock);
    if (b->nentries == b->capentries) {
        b->capentries = b->capentries ? 2 * b->capentries : 64;
        b->entries = xrealloc(b->entries, b->capentries * sizeof *b->entries);
    }
    b->entries[b->nentries++] = e;
    if (!b->o->quiet) {
        fprintf(stderr, "Trying to collect %s ... %s", e->path ? e->path : e->item,
                status_word(e->status));
        if (e->error)
            fprintf(stderr, ": %s", e->error);
        fprintf(stderr, " (%.1fs)\n", (double)e->duration_ms / 1000.0);
    }
    pthread_mutex_unlock(&b->lock);
}

int bundle_sha256_file(const char *path, char out[65])
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        EVP_DigestUpdate(ctx, chunk, n);
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_DigestFinal_ex(ctx, md, &mdlen);
    EVP_MD_CTX_free(ctx);
    fclose(f);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    return 0;
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Offset at which to keep the newest cap bytes, at a line start if one is near. */
static size_t newest_start(const char *data, size_t len, size_t cap)
{
    if (len <= cap)
        return 0;
    size_t start = len - cap;
    const char *nl = memchr(data + start, '\n', len - start);
    if (nl && (size_t)(nl - (data + start)) < 4096)
        start = (size_t)(nl - data) + 1;
    return start;
}

int bundle_stage_write(struct bundle *b, struct bundle_entry *e, const char *relpath,
                       const char *data, size_t len, enum redact_mode mode)
{
    if (!e->source_bytes)
        e->source_bytes = len;
    size_t start = newest_start(data, len, b->o->item_max);
    if (memchr(data + start, '\0', len - start < 8192 ? len - start : 8192)) {
        bundle_entry_fail(e, BUNDLE_ENTRY_SKIPPED,
                          "binary content not copied: it cannot be checked for secrets");
        return -1;
    }
    /* Redact the whole text first, then keep the newest bytes: a cut never
     * splits a secret before it is found. Text already cut when read may
     * begin inside a private key block: that part goes whole. */
    struct buf whole, red;
    buf_init(&whole);
    buf_init(&red);
    if (e->truncated) {
        redact_cut_text(data, len, &whole, &e->red);
        data = whole.data ? whole.data : "";
        len = whole.len;
    }
    redact_by_mode(mode, data, len, &red, &e->red);
    buf_free(&whole);
    start = newest_start(red.data ? red.data : "", red.len, b->o->item_max);
    if (start) {
        e->truncated = 1;
        memmove(red.data, red.data + start, red.len - start);
        red.len -= start;
    }
    char *full = xasprintf("%s/%s", b->stage, relpath);
    char *slash = strrchr(full, '/');
    *slash = 0;
    int rc = mkdir_p(full);
    *slash = '/';
    int fd = rc == 0 ? open(full, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
    if (fd < 0 || write_all(fd, red.data ? red.data : "", red.len) < 0) {
        bundle_entry_fail(e, BUNDLE_ENTRY_FAILED, "cannot write %s: %s", relpath, strerror(errno));
        if (fd >= 0)
            close(fd);
        free(full);
        buf_free(&red);
        return -1;
    }
    close(fd);
    free(e->path);
    e->path = xstrdup(relpath);
    e->bytes = red.len;
    sha256_hex(red.data ? red.data : "", red.len, e->sha256);
    free(full);
    buf_free(&red);
    return 0;
}

/* Bytes read beyond the cap so that a secret block cut by the cap is still
 * whole when redacted; bundle_stage_write keeps the newest cap bytes. */
#define READ_SLACK (64 * 1024)

static int read_fd(int fd, size_t cap, struct buf *out, uint64_t *size, int *truncated)
{
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        int err = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        close(fd);
        errno = err;
        return -1;
    }
    *size = (uint64_t)st.st_size;
    *truncated = 0;
    if ((uint64_t)st.st_size > cap) {
        size_t want = cap + READ_SLACK;
        lseek(fd, st.st_size > (off_t)want ? st.st_size - (off_t)want : 0, SEEK_SET);
        *truncated = 1;
    }
    char chunk[65536];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof chunk)) > 0) {
        buf_append(out, chunk, (size_t)n);
        if (out->len > cap + READ_SLACK + sizeof chunk)
            break; /* a file that grows while read: enough */
    }
    int err = n < 0 ? errno : 0;
    close(fd);
    if (n < 0) {
        errno = err;
        return -1;
    }
    return 0;
}

int bundle_read_file(const char *full, size_t cap, struct buf *out, uint64_t *size, int *truncated)
{
    int fd = open(full, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    return read_fd(fd, cap, out, size, truncated);
}

/* Opens a host path without leaving the root: under --root every symlink
 * (absolute or ..) resolves inside the root (openat2 RESOLVE_IN_ROOT), so a
 * link to a file outside it finds nothing. */
static int open_host(const struct bundle *b, const char *path)
{
    char *full = bundle_host_path(b, path);
    const char *root = b->o->root;
    size_t rlen = root ? strlen(root) : 0;
    int fd = -1;
    if (rlen && strncmp(full, root, rlen) == 0) {
        int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd >= 0) {
            struct open_how how = {
                .flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
            };
            const char *rel = path;
            while (*rel == '/')
                rel++;
            fd = (int)syscall(SYS_openat2, rootfd, *rel ? rel : ".", &how, sizeof how);
            if (fd < 0 && errno == ENOSYS) /* kernel before 5.6: no link at the end at least */
                fd = openat(rootfd, *rel ? rel : ".",
                            O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
            int err = errno;
            close(rootfd);
            errno = err;
        }
    } else {
        fd = open(full, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    }
    int err = errno;
    free(full);
    errno = err;
    return fd;
}

int bundle_read_host_file(const struct bundle *b, const char *path, size_t cap, struct buf *out,
                          uint64_t *size, int *truncated)
{
    int fd = open_host(b, path);
    if (fd < 0)
        return -1;
    return read_fd(fd, cap, out, size, truncated);
}

char *bundle_read_host_line(const struct bundle *b, const char *path)
{
    struct buf data;
    buf_init(&data);
    uint64_t size;
    int trunc;
    char *line = NULL;
    if (bundle_read_host_file(b, path, 4096, &data, &size, &trunc) == 0) {
        buf_append(&data, "", 1);
        line = xstrndup(data.data, strcspn(data.data, "\r\n"));
    }
    int err = errno;
    buf_free(&data);
    errno = err;
    return line;
}

void bundle_collect_file(struct bundle *b, const char *item, const char *path, const char *relpath,
                         enum redact_mode mode, int quiet_if_missing)
{
    struct bundle_entry *e = bundle_entry_new(item, path, NULL);
    int64_t t0 = mono_ms();
    struct buf data;
    buf_init(&data);
    uint64_t size = 0;
    int trunc = 0;
    if (bundle_read_host_file(b, path, b->o->item_max, &data, &size, &trunc) < 0) {
        int err = errno;
        if (err == ENOENT && quiet_if_missing == 2) { /* optional, absent: no row */
            bundle_entry_free(e);
            goto out;
        }
        bundle_entry_fail(e, BUNDLE_ENTRY_SKIPPED, "%s: %s",
                          err == ENOENT                     ? "not present"
                          : (err == EACCES || err == EPERM) ? "not permitted"
                                                            : "cannot read",
                          strerror(err));
    } else {
        e->source_bytes = size;
        e->truncated = trunc;
        bundle_stage_write(b, e, relpath, data.data ? data.data : "", data.len, mode);
    }
    e->duration_ms = mono_ms() - t0;
    bundle_entry_add(b, e);
out:
    buf_free(&data);
}
