#include "collector/inputs/tail/tail_watch.h"
#include "collector/core/log.h"
#include "collector/core/util.h"
#include "collector/loop.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <unistd.h>

#define DIR_MASK                                                                             \
    (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_MODIFY | IN_ATTRIB |          \
     IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
#define NBUCKETS 1024

struct wdir {
    int wd;
    char *path;
    dev_t dev;          /* what the path named when watched: a filesystem */
    ino_t ino;          /* mounted over it later makes the watch stale */
    struct wdir *next_wd, *next_path;
};

struct glob {
    char *text;
    char **comps;       /* split on '/', empty components dropped */
    int ncomps;
    int absolute;
};

struct tail_watch {
    struct loop *loop;
    int fd;                    /* inotify, -1 if unavailable */
    struct glob *globs;
    int nglobs;
    const struct strlist *exclude;
    int64_t max_watches;
    int nwatches;
    int degraded;
    int said_cap, said_nospc, said_overflow;
    struct wdir *by_wd[NBUCKETS];
    struct wdir *by_path[NBUCKETS];
    int64_t coalesce_ms;
    int modify_off;                /* IN_MODIFY left out: the caller polls sizes */
    uint64_t modify_events;
    struct loop_timer *resume;     /* re-enables the inotify fd */
    tw_found_fn found;
    tw_event_fn event;
    void *arg;
    char evbuf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
};

static uint32_t str_hash(const char *s)
{
    uint32_t h = 2166136261u;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

/* ---------------------------------------------------------------- globs */

static int has_magic(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

static void glob_parse(struct glob *g, const char *text)
{
    memset(g, 0, sizeof(*g));
    g->text = xstrdup(text);
    g->absolute = text[0] == '/';
    char *copy = xstrdup(text), *save = NULL;
    for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        g->comps = xrealloc(g->comps, sizeof(char *) * (size_t)(g->ncomps + 1));
        g->comps[g->ncomps++] = xstrdup(c);
    }
    free(copy);
}

static void glob_free(struct glob *g)
{
    for (int i = 0; i < g->ncomps; i++)
        free(g->comps[i]);
    free(g->comps);
    free(g->text);
}

static int match_comps(char *const *pc, int np, char *const *sc, int ns)
{
    if (np == 0)
        return ns == 0;
    if (strcmp(pc[0], "**") == 0)
        return match_comps(pc + 1, np - 1, sc, ns) || (ns > 0 && match_comps(pc, np, sc + 1, ns - 1));
    if (ns == 0 || fnmatch(pc[0], sc[0], 0) != 0)
        return 0;
    return match_comps(pc + 1, np - 1, sc + 1, ns - 1);
}

static int split(const char *path, char *copy, char **comps, int max)
{
    int n = 0;
    strcpy(copy, path);
    char *save = NULL;
    for (char *c = strtok_r(copy, "/", &save); c && n < max; c = strtok_r(NULL, "/", &save))
        comps[n++] = c;
    return n;
}

int tw_glob_match(const char *pattern, const char *path)
{
    if ((pattern[0] == '/') != (path[0] == '/'))
        return 0;
    size_t lp = strlen(pattern), ls = strlen(path);
    if (lp >= PATH_MAX || ls >= PATH_MAX)
        return 0;
    char pcopy[PATH_MAX], scopy[PATH_MAX];
    char *pc[128], *sc[128];
    int np = split(pattern, pcopy, pc, 128);
    int ns = split(path, scopy, sc, 128);
    return match_comps(pc, np, sc, ns);
}

static int excluded(const struct tail_watch *w, const char *path)
{
    if (!w->exclude)
        return 0;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    for (int i = 0; i < w->exclude->count; i++) {
        const char *x = w->exclude->items[i];
        if (strchr(x, '/') ? tw_glob_match(x, path) : fnmatch(x, base, 0) == 0)
            return 1;
    }
    return 0;
}

int tw_matches(const struct tail_watch *w, const char *path)
{
    for (int i = 0; i < w->nglobs; i++)
        if (tw_glob_match(w->globs[i].text, path))
            return !excluded(w, path);
    return 0;
}

/* -------------------------------------------------------------- watches */

static struct wdir *find_wd(const struct tail_watch *w, int wd)
{
    for (struct wdir *d = w->by_wd[(uint32_t)wd % NBUCKETS]; d; d = d->next_wd)
        if (d->wd == wd)
            return d;
    return NULL;
}

static struct wdir *find_dir(const struct tail_watch *w, const char *path)
{
    for (struct wdir *d = w->by_path[str_hash(path) % NBUCKETS]; d; d = d->next_path)
        if (strcmp(d->path, path) == 0)
            return d;
    return NULL;
}

static void forget_wd(struct tail_watch *w, struct wdir *d)
{
    struct wdir **pp;
    for (pp = &w->by_wd[(uint32_t)d->wd % NBUCKETS]; *pp != d; pp = &(*pp)->next_wd)
        ;
    *pp = d->next_wd;
    for (pp = &w->by_path[str_hash(d->path) % NBUCKETS]; *pp != d; pp = &(*pp)->next_path)
        ;
    *pp = d->next_path;
    free(d->path);
    free(d);
    w->nwatches--;
}

static void watch_dir(struct tail_watch *w, const char *path)
{
    if (w->fd < 0)
        return;
    struct stat st;
    if (stat(path, &st) < 0)
        return;
    struct wdir *old = find_dir(w, path);
    if (old) {
        if (old->dev == st.st_dev && old->ino == st.st_ino)
            return;
        /* Another directory under that name now (a volume mounted over
         * it, or deleted and recreated): watch the new one. */
        inotify_rm_watch(w->fd, old->wd);
        forget_wd(w, old);
        w->event(w->arg, path, IN_IGNORED);
    }
    if (w->nwatches >= w->max_watches) {
        w->degraded = 1;
        if (!w->said_cap++)
            log_msg(LOG_WARN, "tail",
                    "max_watches (%lld) reached at %s: directories beyond it are polled",
                    (long long)w->max_watches, path);
        return;
    }
    int wd = inotify_add_watch(w->fd, path, w->modify_off ? DIR_MASK & ~IN_MODIFY : DIR_MASK);
    if (wd < 0) {
        if (errno == ENOSPC) {
            w->degraded = 1;
            if (!w->said_nospc++)
                log_msg(LOG_WARN, "tail",
                        "inotify watch limit reached (fs.inotify.max_user_watches) at %s: "
                        "falling back to polling for directories not watched",
                        path);
        } else if (errno != ENOENT && errno != ENOTDIR) {
            w->degraded = 1;
            log_msg(LOG_WARN, "tail", "cannot watch %s: %s; polling it", path, strerror(errno));
        }
        return;
    }
    if (find_wd(w, wd))
        return; /* the same directory under another name */
    struct wdir *d = xcalloc(1, sizeof(*d));
    d->wd = wd;
    d->path = xstrdup(path);
    d->dev = st.st_dev;
    d->ino = st.st_ino;
    d->next_wd = w->by_wd[(uint32_t)wd % NBUCKETS];
    w->by_wd[(uint32_t)wd % NBUCKETS] = d;
    d->next_path = w->by_path[str_hash(path) % NBUCKETS];
    w->by_path[str_hash(path) % NBUCKETS] = d;
    w->nwatches++;
}

static char *join(const char *dir, const char *name)
{
    if (dir[0] == '\0')
        return xstrdup(name);
    if (strcmp(dir, "/") == 0)
        return xasprintf("/%s", name);
    return xasprintf("%s/%s", dir, name);
}

static void candidate(struct tail_watch *w, const char *path)
{
    if (excluded(w, path))
        return;
    struct stat st;
    if (stat(path, &st) < 0) {
        if (errno != ENOENT)
            w->found(w->arg, path, NULL, errno);
        return;
    }
    w->found(w->arg, path, &st, 0);
}

static int is_dir(const char *dir, const struct dirent *de, const char *path, int follow)
{
    if (de && de->d_type == DT_DIR)
        return 1;
    if (de && de->d_type != DT_UNKNOWN && !(follow && de->d_type == DT_LNK))
        return 0;
    struct stat st;
    (void)dir;
    return (follow ? stat(path, &st) : lstat(path, &st)) == 0 && S_ISDIR(st.st_mode);
}

/* Match g->comps[i..] under dir (which exists and is a directory). */
static void walk(struct tail_watch *w, const struct glob *g, int i, const char *dir, int depth)
{
    if (depth > 64)
        return;
    const char *comp = g->comps[i];
    int last = i == g->ncomps - 1;

    if (!has_magic(comp)) {
        /* A literal name: watch its directory only where a change there
         * matters (the file itself, or a missing directory to appear). */
        char *p = join(dir, comp);
        if (last) {
            watch_dir(w, dir[0] ? dir : ".");
            candidate(w, p);
        } else if (is_dir(dir, NULL, p, 1)) {
            walk(w, g, i + 1, p, depth + 1);
        } else {
            watch_dir(w, dir[0] ? dir : ".");
        }
        free(p);
        return;
    }
    watch_dir(w, dir[0] ? dir : ".");
    int globstar = strcmp(comp, "**") == 0;
    if (globstar && !last)
        walk(w, g, i + 1, dir, depth + 1); /* zero directories */

    DIR *d = opendir(dir[0] ? dir : ".");
    if (!d) {
        if (errno != ENOENT && errno != ENOTDIR)
            w->found(w->arg, dir, NULL, errno);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char *p = join(dir, de->d_name);
        if (globstar) {
            /* Symlinked directories are not followed by **: no loops. */
            if (is_dir(dir, de, p, 0))
                walk(w, g, i, p, depth + 1);
            else if (last)
                candidate(w, p);
        } else if (fnmatch(comp, de->d_name, 0) == 0) {
            if (last)
                candidate(w, p);
            else if (is_dir(dir, de, p, 1))
                walk(w, g, i + 1, p, depth + 1);
        }
        free(p);
    }
    closedir(d);
}

void tw_scan(struct tail_watch *w)
{
    for (int i = 0; i < w->nglobs; i++) {
        const struct glob *g = &w->globs[i];
        if (g->ncomps == 0)
            continue;
        walk(w, g, 0, g->absolute ? "/" : "", 0);
    }
}

/* ---------------------------------------------------------------- events */

static void resume_events(struct loop *loop, void *arg)
{
    struct tail_watch *w = arg;
    w->resume = NULL;
    loop_mod_fd(loop, w->fd, EPOLLIN);
}

static void on_inotify(struct loop *loop, int fd, uint32_t events, void *arg)
{
    struct tail_watch *w = arg;
    (void)events;
    /* Under a steady stream of writes, take events in batches: stop
     * listening for coalesce_ms after each batch (the kernel queues and
     * merges them meanwhile). Fewer wake-ups for the same work. */
    if (w->coalesce_ms > 0 && !w->resume) {
        w->resume = loop_timer_add(loop, w->coalesce_ms, 0, resume_events, w);
        if (w->resume)
            loop_mod_fd(loop, fd, 0);
    }
    for (;;) {
        ssize_t n = read(fd, w->evbuf, sizeof(w->evbuf));
        if (n <= 0)
            return;
        for (char *p = w->evbuf; p < w->evbuf + n;) {
            struct inotify_event *ev = (struct inotify_event *)p;
            p += sizeof(*ev) + ev->len;
            if (ev->mask & IN_Q_OVERFLOW) {
                if (!w->said_overflow++)
                    log_msg(LOG_WARN, "tail",
                            "inotify queue overflowed: events were lost; rescanning and "
                            "checking every file (said once)");
                /* The caller rescans and checks every file now: that
                 * reconciles what was lost, no need to poll from now on. */
                w->event(w->arg, NULL, IN_Q_OVERFLOW);
                continue;
            }
            struct wdir *d = find_wd(w, ev->wd);
            if (!d)
                continue;
            if (ev->mask & IN_IGNORED) {
                /* The directory was deleted or its filesystem unmounted. */
                char *gone = xstrdup(d->path);
                forget_wd(w, d);
                w->event(w->arg, gone, IN_IGNORED);
                free(gone);
                continue;
            }
            if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
                w->event(w->arg, d->path, ev->mask);
                continue;
            }
            if (ev->len == 0)
                continue;
            if (ev->mask & IN_MODIFY)
                w->modify_events++;
            char path[PATH_MAX];
            size_t dl = strcmp(d->path, "/") ? strlen(d->path) : 0;
            size_t nl = strlen(ev->name);
            if (dl + 1 + nl >= sizeof(path))
                continue;
            memcpy(path, d->path, dl);
            path[dl] = '/';
            memcpy(path + dl + 1, ev->name, nl + 1);
            const char *rel = strncmp(path, "./", 2) == 0 ? path + 2 : path;
            w->event(w->arg, rel, ev->mask);
        }
    }
}

struct tail_watch *tw_new(struct loop *loop, const struct strlist *include,
                          const struct strlist *exclude, int64_t max_watches, tw_found_fn found,
                          tw_event_fn event, void *arg)
{
    struct tail_watch *w = xcalloc(1, sizeof(*w));
    w->loop = loop;
    w->exclude = exclude;
    w->max_watches = max_watches;
    w->found = found;
    w->event = event;
    w->arg = arg;
    w->nglobs = include->count;
    w->globs = xcalloc((size_t)include->count, sizeof(*w->globs));
    for (int i = 0; i < include->count; i++)
        glob_parse(&w->globs[i], include->items[i]);

    w->fd = max_watches > 0 ? inotify_init1(IN_NONBLOCK | IN_CLOEXEC) : -1;
    if (w->fd < 0) {
        w->degraded = 1;
        if (max_watches > 0)
            log_msg(LOG_WARN, "tail", "inotify unavailable (%s): polling files instead",
                    strerror(errno));
    } else if (loop && loop_add_fd(loop, w->fd, EPOLLIN, on_inotify, w) < 0) {
        log_msg(LOG_WARN, "tail", "cannot poll inotify: %s; polling files instead", strerror(errno));
        close(w->fd);
        w->fd = -1;
        w->degraded = 1;
    }
    return w;
}

void tw_free(struct tail_watch *w)
{
    if (!w)
        return;
    if (w->resume)
        loop_timer_del(w->loop, w->resume);
    if (w->fd >= 0) {
        if (w->loop)
            loop_del_fd(w->loop, w->fd);
        close(w->fd);
    }
    for (int i = 0; i < NBUCKETS; i++) {
        struct wdir *d = w->by_wd[i];
        while (d) {
            struct wdir *next = d->next_wd;
            free(d->path);
            free(d);
            d = next;
        }
    }
    for (int i = 0; i < w->nglobs; i++)
        glob_free(&w->globs[i]);
    free(w->globs);
    free(w);
}

int tw_degraded(const struct tail_watch *w)
{
    return w->degraded;
}

int tw_watch_count(const struct tail_watch *w)
{
    return w->nwatches;
}

void tw_set_coalesce(struct tail_watch *w, int64_t ms)
{
    w->coalesce_ms = w->loop ? ms : 0;
}

uint64_t tw_take_modify_events(struct tail_watch *w)
{
    uint64_t n = w->modify_events;
    w->modify_events = 0;
    return n;
}

void tw_set_modify_events(struct tail_watch *w, int on)
{
    if (w->fd < 0 || w->modify_off == !on)
        return;
    w->modify_off = !on;
    uint32_t mask = on ? DIR_MASK : DIR_MASK & ~IN_MODIFY;
    for (int i = 0; i < NBUCKETS; i++)
        for (struct wdir *d = w->by_wd[i]; d; d = d->next_wd)
            (void)inotify_add_watch(w->fd, d->path, mask); /* replaces the mask, same wd */
}
