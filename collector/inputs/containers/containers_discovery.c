/* Container discovery thread: see containers_discovery.h. */
#include "collector/inputs/containers/containers_discovery.h"

#include "collector/core/log.h"
#include "collector/core/util.h"
#include "collector/docker/ecs_agent.h"
#include "collector/docker/events.h"
#include "collector/docker/local_http.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ECS_TIMEOUT_MS 2000
#define WAKE_EVERY_MS 500         /* lookups, ECS refresh, the stream's end */
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 30000
#define EVENTS_OVERLAP_NS 2000000000LL
#define RELIST_EVERY_MS 30000    /* safety net: events lost across a quick dockerd restart */

struct entry {
    struct ctr_info info;
    int exists;                  /* 1 known, -1 looked up and missing */
    int64_t checked_ms;          /* when found missing: asked again 2 s later */
};

struct change {
    char id[72];
    enum cd_change kind;
};

struct ev_batch {
    char (*ids)[72];
    char *actions;              /* 'u' update, 'd' died, 'x' destroyed */
    int n, cap;
};

struct cdisc {
    char *socket, *root, *ecs_url, *name;
    int64_t ecs_refresh_ms;

    pthread_t thread;
    int started;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int stop;
    /* under lock */
    struct entry **entries;
    int n, cap;
    char (*wanted)[72];
    int nwanted, capw;
    struct change *changes;
    int nchanges, capc;
    struct ev_batch events;      /* from the stream, not handled yet */
    struct loop_async *news;     /* wakes the loop: changes to take */
    _Atomic int connected;
    _Atomic int ready;           /* the first pass is over */

    /* thread only */
    struct local_http *http, *ecs_http;
    struct buf body, ecs_scratch;
    struct ecs_info ecs;
    int ecs_ok;
    int64_t ecs_next_ms;
    int64_t since_ns;            /* a little before the last list: where a stream starts */
    struct docker_events *stream;
    int said_down;
};

/* ------------------------------------------------------------ registry */

static struct entry *find_locked(struct cdisc *d, const char *id)
{
    for (int i = 0; i < d->n; i++)
        if (strcmp(d->entries[i]->info.dk.id, id) == 0)
            return d->entries[i];
    return NULL;
}

/* The entry of id, added (unknown yet) if there is none. */
static struct entry *entry_locked(struct cdisc *d, const char *id)
{
    struct entry *e = find_locked(d, id);
    if (e)
        return e;
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 16;
        d->entries = xrealloc(d->entries, sizeof(*d->entries) * (size_t)d->cap);
    }
    e = xcalloc(1, sizeof(*e));
    snprintf(e->info.dk.id, sizeof(e->info.dk.id), "%s", id);
    d->entries[d->n++] = e;
    return e;
}

static void push_change_locked(struct cdisc *d, const char *id, enum cd_change kind)
{
    if (d->nchanges == 0)
        loop_async_send(d->news); /* later ones join this wake-up until taken */
    if (d->nchanges == d->capc) {
        d->capc = d->capc ? d->capc * 2 : 16;
        d->changes = xrealloc(d->changes, sizeof(*d->changes) * (size_t)d->capc);
    }
    snprintf(d->changes[d->nchanges].id, sizeof(d->changes[0].id), "%s", id);
    d->changes[d->nchanges++].kind = kind;
}

static void fill_from_ecs(struct cdisc *d, struct ctr_info *info)
{
    if (!d->ecs_ok || !cm_is_ecs(info))
        return;
    struct docker_container *c = &info->dk;
    snprintf(info->container_instance_id, sizeof(info->container_instance_id), "%s",
             d->ecs.container_instance_id);
    if (!c->cluster[0])
        snprintf(c->cluster, sizeof(c->cluster), "%s", d->ecs.cluster);
    const struct ecs_task_info *t = c->task_arn[0] ? ecs_find_task(&d->ecs, c->task_arn) : NULL;
    if (t && !c->family[0])
        snprintf(c->family, sizeof(c->family), "%s", t->family);
    if (t && !c->revision[0])
        snprintf(c->revision, sizeof(c->revision), "%s", t->revision);
}

static void store(struct cdisc *d, const struct ctr_info *info)
{
    pthread_mutex_lock(&d->lock);
    struct entry *e = entry_locked(d, info->dk.id);
    if (e->exists != 1 || memcmp(&e->info, info, sizeof(*info)) != 0) {
        e->info = *info;
        e->exists = 1;
        push_change_locked(d, info->dk.id, CD_UPDATED);
    }
    pthread_mutex_unlock(&d->lock);
}

static void store_missing(struct cdisc *d, const char *id)
{
    pthread_mutex_lock(&d->lock);
    struct entry *e = entry_locked(d, id);
    if (e->exists == 1)
        push_change_locked(d, id, CD_DESTROYED);
    e->exists = -1;
    e->checked_ms = mono_ms();
    pthread_mutex_unlock(&d->lock);
}

static void drop(struct cdisc *d, const char *id)
{
    pthread_mutex_lock(&d->lock);
    for (int i = 0; i < d->n; i++) {
        if (strcmp(d->entries[i]->info.dk.id, id) == 0) {
            if (d->entries[i]->exists == 1)
                push_change_locked(d, id, CD_DESTROYED);
            free(d->entries[i]);
            d->entries[i] = d->entries[--d->n];
            break;
        }
    }
    pthread_mutex_unlock(&d->lock);
}

/* ------------------------------------------------------ thread: lookups */

static int docker_get(struct cdisc *d, const char *path, char *err, size_t errlen)
{
    return docker_api_get(d->http, d->socket, path, &d->body, err, errlen);
}

static int read_config_file(struct cdisc *d, const char *id, struct ctr_info *info)
{
    char *path = xasprintf("%s/containers/%s/config.v2.json", d->root, id);
    FILE *fp = fopen(path, "r");
    free(path);
    if (!fp)
        return -1;
    buf_reset(&d->body);
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0 && d->body.len < (4u << 20))
        buf_append(&d->body, chunk, n);
    fclose(fp);
    return cm_parse(d->body.data, d->body.len, id, info);
}

/* Look one container up (API, else its config file) and store the result. */
static void inspect(struct cdisc *d, const char *id)
{
    struct ctr_info *info = xcalloc(1, sizeof(*info));
    int ok = -1;
    if (atomic_load(&d->connected)) {
        char path[160], err[256];
        snprintf(path, sizeof(path), "/containers/%s/json", id);
        int status = docker_get(d, path, err, sizeof(err));
        if (status == 200)
            ok = cm_parse(d->body.data, d->body.len, id, info);
        else if (status == 404)
            ok = -2;
        else if (status < 0)
            atomic_store(&d->connected, 0);
    }
    if (ok == -1)
        ok = read_config_file(d, id, info);
    if (ok == 0) {
        fill_from_ecs(d, info);
        store(d, info);
    } else {
        store_missing(d, id);
    }
    free(info);
}

static void on_list_id(const char *id, void *arg)
{
    inspect(arg, id);
}

static int list_all(struct cdisc *d)
{
    char err[256];
    int64_t t = now_ns();
    int status = docker_get(d, "/containers/json?all=1", err, sizeof(err));
    if (status != 200) {
        if (!d->said_down++)
            log_msg(LOG_WARN, "containers",
                    "[%s] Docker API %s unreachable (%s): following %s/containers by its files "
                    "meanwhile; retrying with backoff",
                    d->name, d->socket, status < 0 ? err : "bad status", d->root);
        return -1;
    }
    atomic_store(&d->connected, 1);
    if (d->said_down)
        log_msg(LOG_INFO, "containers", "[%s] Docker API %s reachable again", d->name, d->socket);
    d->said_down = 0;
    struct buf copy;
    buf_init(&copy);
    buf_append(&copy, d->body.data, d->body.len);
    docker_parse_list(copy.data, copy.len, on_list_id, d);
    buf_free(&copy);
    d->since_ns = t;
    return 0;
}

static void on_event(void *arg, const char *action, const char *id)
{
    struct ev_batch *b = arg;
    char kind = 0;
    if (strcmp(action, "start") == 0 || strcmp(action, "create") == 0 ||
        strcmp(action, "rename") == 0 || strcmp(action, "restart") == 0)
        kind = 'u';
    else if (strcmp(action, "die") == 0 || strcmp(action, "stop") == 0 ||
             strcmp(action, "kill") == 0)
        kind = 'd';
    else if (strcmp(action, "destroy") == 0)
        kind = 'x';
    if (!kind)
        return;
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 16;
        b->ids = xrealloc(b->ids, sizeof(*b->ids) * (size_t)b->cap);
        b->actions = xrealloc(b->actions, (size_t)b->cap);
    }
    snprintf(b->ids[b->n], sizeof(b->ids[0]), "%s", id);
    b->actions[b->n++] = kind;
}

/* Stream thread: queue the event for the discovery thread and wake it. */
static void on_stream_event(void *arg, const char *action, const char *id)
{
    struct cdisc *d = arg;
    pthread_mutex_lock(&d->lock);
    int before = d->events.n;
    on_event(&d->events, action, id);
    if (d->events.n != before)
        pthread_cond_signal(&d->cond);
    pthread_mutex_unlock(&d->lock);
}

static void start_stream(struct cdisc *d)
{
    d->stream = docker_events_start(d->socket, d->since_ns - EVENTS_OVERLAP_NS, on_stream_event, d);
    if (!d->stream)
        atomic_store(&d->connected, 0);
}

/* Handle what the stream brought; -1 once it has ended (dockerd stopped or
 * restarted): the caller relists and starts a new one. */
static int take_events(struct cdisc *d)
{
    pthread_mutex_lock(&d->lock);
    struct ev_batch b = d->events;
    memset(&d->events, 0, sizeof(d->events));
    pthread_mutex_unlock(&d->lock);
    for (int i = 0; i < b.n; i++) {
        if (b.actions[i] == 'u') {
            inspect(d, b.ids[i]);
        } else if (b.actions[i] == 'd') {
            inspect(d, b.ids[i]);
            pthread_mutex_lock(&d->lock);
            push_change_locked(d, b.ids[i], CD_DIED);
            pthread_mutex_unlock(&d->lock);
        } else {
            drop(d, b.ids[i]);
        }
    }
    free(b.ids);
    free(b.actions);
    char why[256];
    if (!d->stream || !docker_events_ended(d->stream, why, sizeof(why)))
        return 0;
    docker_events_stop(d->stream);
    d->stream = NULL;
    atomic_store(&d->connected, 0);
    d->said_down = 1;
    log_msg(LOG_WARN, "containers", "[%s] Docker events stream ended (%s); reconnecting", d->name,
            why);
    return -1;
}

static void refresh_ecs(struct cdisc *d)
{
    if (!d->ecs_url || !d->ecs_url[0] || mono_ms() < d->ecs_next_ms)
        return;
    d->ecs_next_ms = mono_ms() + d->ecs_refresh_ms;
    int was = d->ecs_ok;
    d->ecs_ok = ecs_fetch(d->ecs_http, d->ecs_url, ECS_TIMEOUT_MS, &d->ecs_scratch, &d->ecs) == 0;
    if (!d->ecs_ok && d->ecs_refresh_ms > 5000)
        d->ecs_next_ms = mono_ms() + 5000; /* not there (yet): ask again soon */
    if (d->ecs_ok && !was) {
        /* Fill the gaps of what is known already. */
        pthread_mutex_lock(&d->lock);
        int n = d->n;
        char (*ids)[72] = xcalloc((size_t)n + 1, sizeof(*ids));
        for (int i = 0; i < n; i++)
            snprintf(ids[i], sizeof(ids[0]), "%s", d->entries[i]->info.dk.id);
        pthread_mutex_unlock(&d->lock);
        for (int i = 0; i < n; i++)
            inspect(d, ids[i]);
        free(ids);
    }
}

static void serve_wanted(struct cdisc *d)
{
    for (;;) {
        char id[72];
        pthread_mutex_lock(&d->lock);
        if (d->nwanted == 0) {
            pthread_mutex_unlock(&d->lock);
            return;
        }
        memcpy(id, d->wanted[--d->nwanted], sizeof(id));
        pthread_mutex_unlock(&d->lock);
        inspect(d, id);
    }
}

/* Without the API: every container directory's config.v2.json. */
static void scan_root(struct cdisc *d)
{
    char *dir = xasprintf("%s/containers", d->root);
    DIR *dp = opendir(dir);
    free(dir);
    struct dirent *de;
    while (dp && (de = readdir(dp))) {
        char id[72];
        char *path = xasprintf("/%s/%s-json.log", de->d_name, de->d_name);
        if (cm_id_of_path(path, id) == 0)
            inspect(d, id);
        free(path);
    }
    if (dp)
        closedir(dp);
}

static void *run(void *arg)
{
    struct cdisc *d = arg;
    int64_t backoff = BACKOFF_MIN_MS, next_connect = 0, next_relist = mono_ms() + RELIST_EVERY_MS;
    int have_api = d->socket && d->socket[0];
    refresh_ecs(d);
    if (!have_api || list_all(d) < 0) {
        scan_root(d);
        next_connect = mono_ms() + backoff;
    } else {
        start_stream(d);
    }
    atomic_store(&d->ready, 1);
    loop_async_send(d->news);
    for (;;) {
        refresh_ecs(d);
        if (have_api) {
            if (!atomic_load(&d->connected) && mono_ms() >= next_connect) {
                if (list_all(d) == 0) {
                    backoff = BACKOFF_MIN_MS;
                    start_stream(d);
                } else {
                    next_connect = mono_ms() + backoff;
                    backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
                }
            } else if (atomic_load(&d->connected) && take_events(d) < 0) {
                next_connect = mono_ms() + backoff;
            } else if (atomic_load(&d->connected) && mono_ms() >= next_relist) {
                next_relist = mono_ms() + RELIST_EVERY_MS;
                list_all(d);
            }
        }
        serve_wanted(d);
        pthread_mutex_lock(&d->lock);
        if (!d->stop && d->nwanted == 0 && d->events.n == 0) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += WAKE_EVERY_MS * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&d->cond, &d->lock, &ts);
        }
        int stop = d->stop;
        pthread_mutex_unlock(&d->lock);
        if (stop)
            return NULL;
    }
}

/* ------------------------------------------------------------------ API */

struct cdisc *cd_new(const struct cdisc_conf *conf)
{
    struct cdisc *d = xcalloc(1, sizeof(*d));
    d->socket = xstrdup(conf->docker_socket ? conf->docker_socket : "");
    d->root = xstrdup(conf->docker_root ? conf->docker_root : "/var/lib/docker");
    d->ecs_url = xstrdup(conf->introspection_url ? conf->introspection_url : "");
    d->name = xstrdup(conf->name ? conf->name : "containers");
    d->ecs_refresh_ms = conf->introspection_refresh_ms > 0 ? conf->introspection_refresh_ms : 60000;
    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->cond, NULL);
    buf_init(&d->body);
    buf_init(&d->ecs_scratch);
    return d;
}

int cd_start(struct cdisc *d, struct loop *loop, loop_fn news, void *arg)
{
    d->news = loop_async_new(loop, news, arg);
    if (!d->news)
        return -1;
    d->http = local_http_new();
    d->ecs_http = local_http_new();
    if (pthread_create(&d->thread, NULL, run, d) != 0)
        return -1;
    d->started = 1;
    return 0;
}

void cd_free(struct cdisc *d)
{
    if (!d)
        return;
    if (d->started) {
        pthread_mutex_lock(&d->lock);
        d->stop = 1;
        pthread_cond_signal(&d->cond);
        pthread_mutex_unlock(&d->lock);
        pthread_join(d->thread, NULL);
    }
    docker_events_stop(d->stream);
    loop_async_free(d->news);
    free(d->events.ids);
    free(d->events.actions);
    local_http_free(d->http);
    local_http_free(d->ecs_http);
    for (int i = 0; i < d->n; i++)
        free(d->entries[i]);
    free(d->entries);
    free(d->wanted);
    free(d->changes);
    buf_free(&d->body);
    buf_free(&d->ecs_scratch);
    ecs_info_free(&d->ecs);
    pthread_mutex_destroy(&d->lock);
    pthread_cond_destroy(&d->cond);
    free(d->socket);
    free(d->root);
    free(d->ecs_url);
    free(d->name);
    free(d);
}

int cd_get(struct cdisc *d, const char *id, struct ctr_info *out)
{
    pthread_mutex_lock(&d->lock);
    struct entry *e = find_locked(d, id);
    int r;
    if (e && e->exists == 1) {
        *out = e->info;
        r = 1;
    } else if (e && mono_ms() - e->checked_ms < 2000) {
        r = -1;
    } else {
        r = 0;
        int dup = 0;
        for (int i = 0; i < d->nwanted && !dup; i++)
            dup = strcmp(d->wanted[i], id) == 0;
        if (!dup && d->nwanted < 4096) {
            if (d->nwanted == d->capw) {
                d->capw = d->capw ? d->capw * 2 : 16;
                d->wanted = xrealloc(d->wanted, sizeof(*d->wanted) * (size_t)d->capw);
            }
            snprintf(d->wanted[d->nwanted++], sizeof(d->wanted[0]), "%s", id);
            pthread_cond_signal(&d->cond);
        }
    }
    pthread_mutex_unlock(&d->lock);
    return r;
}

int cd_take_changes(struct cdisc *d, void (*fn)(void *arg, const char *id, enum cd_change c),
                    void *arg)
{
    pthread_mutex_lock(&d->lock);
    int n = d->nchanges;
    struct change *list = d->changes;
    d->changes = NULL;
    d->nchanges = d->capc = 0;
    pthread_mutex_unlock(&d->lock);
    for (int i = 0; i < n; i++)
        fn(arg, list[i].id, list[i].kind);
    free(list);
    return n;
}

int cd_connected(struct cdisc *d)
{
    return atomic_load(&d->connected);
}

int cd_ready(struct cdisc *d)
{
    return atomic_load(&d->ready);
}

int cd_count(struct cdisc *d)
{
    pthread_mutex_lock(&d->lock);
    int n = d->n;
    pthread_mutex_unlock(&d->lock);
    return n;
}
