/* `collector bundle`: the run from arguments to archive (see bundle.h). */
#include "collector/bundle/bundle.h"
#include "collector/bundle/job.h"
#include "collector/bundle/archive.h"
#include "collector/bundle/budget.h"
#include "collector/bundle/debug.h"
#include "collector/bundle/host.h"
#include "collector/bundle/http.h"
#include "collector/bundle/items.h"
#include "collector/bundle/manifest.h"
#include "collector/bundle/summary.h"
#include "collector/core/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MIN_FREE_BYTES (32ull << 20)

static char **child_env(void)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = xcalloc(n + 3, sizeof *env);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "LANG=", 5) != 0 && strncmp(environ[i], "LC_ALL=", 7) != 0)
            env[k++] = xstrdup(environ[i]);
    env[k++] = xstrdup("LANG=C");
    env[k++] = xstrdup("LC_ALL=C");
    env[k] = NULL;
    return env;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void rm_tree(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Where the archive goes: NULL for stdout. */
static char *archive_path(const struct bundle *b)
{
    const char *o = b->o->output;
    if (o && strcmp(o, "-") == 0)
        return NULL;
    char *name = b->instance_id ? xasprintf("collect-%s-%s.tgz", b->instance_id, b->stamp)
                                : xasprintf("collect-%s.tgz", b->stamp);
    struct stat st;
    char *path;
    if (!o)
        path = xstrdup(name);
    else if (stat(o, &st) == 0 && S_ISDIR(st.st_mode))
        path = xasprintf("%s/%s", o, name);
    else
        path = xstrdup(o);
    free(name);
    return path;
}

/* Files above the threshold keep their newest bytes (line-aligned). */
static void apply_budget(struct bundle *b)
{
    uint64_t *sizes = xcalloc(b->nentries + 1, sizeof *sizes);
    for (size_t i = 0; i < b->nentries; i++)
        sizes[i] = b->entries[i]->path ? b->entries[i]->bytes : 0;
    uint64_t t = budget_threshold(sizes, b->nentries, b->o->max_size);
    free(sizes);
    if (t == UINT64_MAX)
        return;
    for (size_t i = 0; i < b->nentries; i++) {
        struct bundle_entry *e = b->entries[i];
        if (!e->path || e->bytes <= t)
            continue;
        char *full = xasprintf("%s/%s", b->stage, e->path);
        int fd = open(full, O_RDWR | O_CLOEXEC);
        if (fd >= 0) {
            char *data = xmalloc(t + 1);
            ssize_t n = pread(fd, data, t, (off_t)(e->bytes - t));
            size_t start = 0;
            if (n > 0) {
                char *nl = memchr(data, '\n', (size_t)n);
                if (nl && nl - data < 4096)
                    start = (size_t)(nl - data) + 1;
                if (ftruncate(fd, 0) == 0 && pwrite(fd, data + start, (size_t)n - start, 0) >= 0)
                    e->bytes = (uint64_t)n - start;
            }
            free(data);
            close(fd);
            bundle_sha256_file(full, e->sha256);
            e->truncated = 1;
            char *old = e->error;
            e->error = old ? xasprintf("%s; cut to its newest %llu bytes to fit --max-size", old,
                                       (unsigned long long)e->bytes)
                           : xasprintf("cut to its newest %llu bytes to fit --max-size",
                                       (unsigned long long)e->bytes);
            free(old);
        }
        free(full);
    }
}

/* Scan every staged file again; anything the patterns still find is
 * redacted in place and reported. Returns a one-line report (owned). */
static char *redact_check(struct bundle *b)
{
    unsigned found = 0, files = 0;
    struct redact_stats all = {0};
    struct buf data, out;
    buf_init(&data);
    buf_init(&out);
    for (size_t i = 0; i < b->nentries; i++) {
        struct bundle_entry *e = b->entries[i];
        if (!e->path)
            continue;
        char *full = xasprintf("%s/%s", b->stage, e->path);
        uint64_t size;
        int trunc;
        buf_reset(&data);
        buf_reset(&out);
        if (bundle_read_file(full, (size_t)e->bytes + 1, &data, &size, &trunc) == 0) {
            struct redact_stats st = {0};
            redact_text(data.data ? data.data : "", data.len, &out, &st);
            if (redact_total(&st)) {
                int fd = open(full, O_WRONLY | O_TRUNC | O_CLOEXEC);
                if (fd >= 0) {
                    write_all(fd, out.data, out.len);
                    close(fd);
                }
                e->bytes = out.len;
                bundle_sha256_file(full, e->sha256);
                redact_stats_add(&e->red, &st);
                redact_stats_add(&all, &st);
                found += redact_total(&st);
                files++;
            }
        }
        free(full);
    }
    buf_free(&data);
    buf_free(&out);
    if (found) {
        struct buf kinds;
        buf_init(&kinds);
        redact_stats_format(&all, &kinds);
        char *report = xasprintf("%u more value%s found and redacted in %u file%s: %s", found,
                                 found == 1 ? "" : "s", files, files == 1 ? "" : "s", kinds.data);
        buf_free(&kinds);
        return report;
    }
    return xstrdup("passed (no secret pattern left in any file)");
}

static void write_instance_id(struct bundle *b)
{
    struct bundle_entry *e = bundle_entry_new("instance-id", "bundle", NULL);
    char *text = xasprintf("%s\n", b->instance_id ? b->instance_id : "");
    bundle_stage_write(b, e, "instance-id.txt", text, strlen(text), REDACT_TEXT);
    if (!b->instance_id)
        bundle_entry_fail(e, BUNDLE_ENTRY_SKIPPED, "%s", b->instance_source);
    bundle_entry_add(b, e);
    free(text);
}

static void write_disk_check(struct bundle *b)
{
    struct buf out;
    buf_init(&out);
    buf_append_str(&out, "# disk-full pre-check: filesystems above 70% are warned about\n");
    host_disk_check(b, &out);
    struct bundle_entry *e = bundle_entry_new("disk-precheck", "/proc/self/mounts + statvfs", NULL);
    bundle_stage_write(b, e, "disk-usage.txt", out.data, out.len, REDACT_TEXT);
    bundle_entry_add(b, e);
    buf_free(&out);
}

static int stage_setup(struct bundle *b, const char *out_path)
{
    char *dir;
    if (out_path) {
        char *copy = xstrdup(out_path);
        dir = xstrdup(dirname(copy));
        free(copy);
    } else {
        const char *t = getenv("TMPDIR");
        dir = xstrdup(t && *t ? t : "/tmp");
    }
    struct statvfs sv;
    if (statvfs(dir, &sv) == 0 && (uint64_t)sv.f_bavail * sv.f_frsize < MIN_FREE_BYTES) {
        fprintf(stderr, "collector bundle: only %llu MiB free in %s: not enough for a bundle\n",
                (unsigned long long)((uint64_t)sv.f_bavail * sv.f_frsize >> 20), dir);
        free(dir);
        return -1;
    }
    b->tmp = xasprintf("%s/.collector-bundle-XXXXXX", dir);
    free(dir);
    if (!mkdtemp(b->tmp)) {
        fprintf(stderr, "collector bundle: cannot create a staging directory %s: %s\n", b->tmp,
                strerror(errno));
        return -1;
    }
    b->stage = xasprintf("%s/collect/%s", b->tmp, b->dirname);
    if (mkdir_p(b->stage) < 0) {
        fprintf(stderr, "collector bundle: cannot create %s: %s\n", b->stage, strerror(errno));
        return -1;
    }
    return 0;
}

static int write_archive(struct bundle *b, const char *out_path)
{
    char err[512] = "";
    int fd = 1;
    char *partial = NULL;
    if (out_path) {
        partial = xasprintf("%s.partial", out_path);
        /* A new file of ours, mode 0600: whatever was there (a link someone
         * planted, a file of another mode) is removed, never followed or
         * reused; if one reappears in between, O_EXCL refuses it. */
        if (unlink(partial) != 0 && errno != ENOENT)
            fprintf(stderr, "collector bundle: cannot remove %s: %s\n", partial, strerror(errno));
        fd = open(partial, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0)
            fchmod(fd, 0600); /* the umask can only remove bits; this says it */
        if (fd < 0) {
            fprintf(stderr, "collector bundle: cannot write %s: %s\n", partial, strerror(errno));
            free(partial);
            return -1;
        }
    }
    int rc = archive_tree(b->tmp, fd, err, sizeof err);
    if (out_path) {
        if (close(fd) != 0 && rc == 0) {
            snprintf(err, sizeof err, "%s", strerror(errno));
            rc = -1;
        }
        if (rc == 0 && rename(partial, out_path) != 0) {
            snprintf(err, sizeof err, "rename: %s", strerror(errno));
            rc = -1;
        }
        if (rc != 0)
            unlink(partial);
        free(partial);
    }
    if (rc != 0)
        fprintf(stderr, "collector bundle: cannot write the archive: %s\n", err);
    return rc;
}

static void bundle_free(struct bundle *b)
{
    for (size_t i = 0; i < b->nentries; i++)
        bundle_entry_free(b->entries[i]);
    free(b->entries);
    if (b->envp) {
        for (int i = 0; b->envp[i]; i++)
            free(b->envp[i]);
        free(b->envp);
    }
    free(b->tmp);
    free(b->stage);
    free(b->dirname);
    free(b->instance_id);
    free(b->instance_source);
    free(b->disk_worst);
    free(b->data_dir);
    free(b->status_url);
    free(b->config_path);
    pthread_mutex_destroy(&b->lock);
    pthread_cond_destroy(&b->cond);
}

static int run_brief(const struct bundle_opts *o)
{
    struct bundle b = {.o = o};
    pthread_mutex_init(&b.lock, NULL);
    pthread_cond_init(&b.cond, NULL);
    b.started_ms = now_ms();
    int64_t t0 = mono_ms();
    time_t now = (time_t)(b.started_ms / 1000);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(b.stamp, sizeof b.stamp, "%Y%m%d%H%M", &tm);
    b.is_root = geteuid() == 0;
    b.envp = child_env();
    b.ecs_url = o->ecs_url ? xstrdup(o->ecs_url) : NULL;
    b.systemd = host_is_systemd(&b);
    host_instance_id(&b);
    b.dirname = xstrdup(b.instance_id ? b.instance_id : "system");
    char *out_path = archive_path(&b);
    int rc = 1;
    if (stage_setup(&b, out_path) < 0)
        goto done;
    if (!o->quiet)
        fprintf(stderr, "collector bundle: collecting into %s (%s, %s)\n",
                out_path ? out_path : "stdout",
                b.is_root ? "root" : "not root: some items will not be readable",
                b.systemd ? "systemd" : "no systemd");
    write_instance_id(&b);
    write_disk_check(&b);
    items_queue(&b);
    bundle_run_jobs(&b);
    apply_budget(&b);
    char *check = o->redact_check ? redact_check(&b) : xstrdup("skipped (--no-redact-check)");
    summary_write(&b);
    manifest_write_redactions(&b, check);
    free(check);
    if (manifest_write(&b) < 0) {
        fprintf(stderr, "collector bundle: cannot write manifest.json\n");
        goto done;
    }
    if (write_archive(&b, out_path) < 0)
        goto done;
    rc = 0;
    if (!o->quiet) {
        int failed = 0, skipped = 0;
        for (size_t i = 0; i < b.nentries; i++) {
            failed += b.entries[i]->status == BUNDLE_ENTRY_FAILED ||
                      b.entries[i]->status == BUNDLE_ENTRY_TIMEOUT;
            skipped += b.entries[i]->status == BUNDLE_ENTRY_SKIPPED;
        }
        fprintf(stderr,
                "collector bundle: %zu items (%d failed or timed out, %d skipped) in %.1fs\n",
                b.nentries, failed, skipped, (double)(mono_ms() - t0) / 1000.0);
    }
    if (out_path)
        printf("%s\n", out_path);
done:
    if (b.tmp)
        rm_tree(b.tmp);
    free(out_path);
    free(b.ecs_url);
    b.ecs_url = NULL;
    bundle_free(&b);
    return rc;
}

int bundle_main(int argc, char **argv, bundle_config_lister list_config)
{
    struct bundle_opts o;
    char err[256];
    int r = bundle_parse_args(argc, argv, &o, err, sizeof err);
    o.list_config = list_config;
    if (r == 1) {
        fputs(bundle_usage, stdout);
        return 0;
    }
    if (r < 0) {
        fprintf(stderr, "collector bundle: %s\n%s", err, bundle_usage);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    log_set_level(LOG_ERROR); /* configuration loading must not chatter on stderr */
    if (o.mode == MODE_ENABLE_DEBUG)
        return bundle_enable_debug(&o);
    bundle_http_init();
    return run_brief(&o);
}
