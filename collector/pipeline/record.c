#include "collector/pipeline/record.h"
#include "collector/core/util.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct meta *meta_new(const char *const *pairs, int npairs)
{
    int count = 0;
    for (int i = 0; i < npairs; i++)
        if (pairs[2 * i] && pairs[2 * i + 1])
            count++;
    struct meta *m = xmalloc(sizeof *m + sizeof(struct meta_kv) * (size_t)count);
    atomic_init(&m->refs, 1);
    m->count = 0;
    for (int i = 0; i < npairs; i++) {
        if (!pairs[2 * i] || !pairs[2 * i + 1])
            continue;
        m->kv[m->count].key = xstrdup(pairs[2 * i]);
        m->kv[m->count].value = xstrdup(pairs[2 * i + 1]);
        m->count++;
    }
    return m;
}

struct meta *meta_ref(struct meta *m)
{
    if (m)
        atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
    return m;
}

void meta_unref(struct meta *m)
{
    if (!m || atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (int i = 0; i < m->count; i++) {
        free(m->kv[i].key);
        free(m->kv[i].value);
    }
    free(m);
}

const char *meta_get(const struct meta *m, const char *key)
{
    if (!m)
        return NULL;
    for (int i = 0; i < m->count; i++)
        if (strcmp(m->kv[i].key, key) == 0)
            return m->kv[i].value;
    return NULL;
}

/* The tag table: open addressing over interned tags. Tags are few (one per
 * input, or per container) and live for the whole process, so it only grows.
 * A mutex makes interning safe from any thread; lookups are rare because
 * inputs keep the pointer. */
static pthread_mutex_t tag_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tag **tag_table;
static size_t tag_cap, tag_count;

static void tag_table_grow(void)
{
    size_t cap = tag_cap ? tag_cap * 2 : 64;
    struct tag **table = xcalloc(cap, sizeof *table);
    for (size_t i = 0; i < tag_cap; i++) {
        if (!tag_table[i])
            continue;
        size_t j = hash_fnv1a(tag_table[i]->name, strlen(tag_table[i]->name)) & (cap - 1);
        while (table[j])
            j = (j + 1) & (cap - 1);
        table[j] = tag_table[i];
    }
    free(tag_table);
    tag_table = table;
    tag_cap = cap;
}

const struct tag *tag_intern(const char *name)
{
    pthread_mutex_lock(&tag_lock);
    if (tag_count * 2 >= tag_cap)
        tag_table_grow();
    size_t i = hash_fnv1a(name, strlen(name)) & (tag_cap - 1);
    while (tag_table[i] && strcmp(tag_table[i]->name, name) != 0)
        i = (i + 1) & (tag_cap - 1);
    if (!tag_table[i]) {
        struct tag *t = xcalloc(1, sizeof *t);
        t->name = xstrdup(name);
        tag_table[i] = t;
        tag_count++;
    }
    struct tag *t = tag_table[i];
    pthread_mutex_unlock(&tag_lock);
    return t;
}
