/* A map from strings to positions (open addressing, FNV-1a, linear
 * probing), so that looking names up while loading a model is O(1) and a
 * model of n layers loads in O(n), not O(n^2). The keys are not copied:
 * each must outlive the map (the callers keep their names in heap strings
 * that are never moved). */
#include "core/internal.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hash_of(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a 64 */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

/* The slot holding key, or the empty slot where it would go. */
static nninit__strmap_slot *find(const nninit__strmap *m, const char *key)
{
    size_t mask = m->cap - 1, i = (size_t)hash_of(key) & mask;
    while (m->slot[i].key && strcmp(m->slot[i].key, key))
        i = (i + 1) & mask;
    return &m->slot[i];
}

static int grow(nninit__strmap *m)
{
    size_t cap = m->cap ? 2 * m->cap : 64;
    nninit__strmap_slot *old = m->slot;
    size_t old_cap = m->cap;
    m->slot = nninit__calloc_array(cap, sizeof *m->slot);
    if (!m->slot) {
        m->slot = old;
        return -1;
    }
    m->cap = cap;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].key)
            *find(m, old[i].key) = old[i];
    free(old);
    return 0;
}

int nninit__strmap_put(nninit__strmap *m, const char *key, size_t value)
{
    if (2 * (m->n + 1) > m->cap && grow(m)) /* at most half full: short probes */
        return -1;
    nninit__strmap_slot *e = find(m, key);
    if (!e->key) {
        e->key = key;
        m->n++;
    }
    e->value = value;
    return 0;
}

int nninit__strmap_get(const nninit__strmap *m, const char *key, size_t *value)
{
    if (!m->cap)
        return 0;
    const nninit__strmap_slot *e = find(m, key);
    if (!e->key)
        return 0;
    *value = e->value;
    return 1;
}

void nninit__strmap_free(nninit__strmap *m)
{
    free(m->slot);
    memset(m, 0, sizeof *m);
}
