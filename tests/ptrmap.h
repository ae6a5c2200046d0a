/* ptrmap.h — the property tests' oracle map: object pointer → count (program holds,
 * reachability). Open addressing, linear probing, doubled at half full.
 * Contract: header-only for tests; keys are never removed (a count goes to 0 instead).
 */
#ifndef MS_TEST_PTRMAP_H
#define MS_TEST_PTRMAP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "mm.h"

typedef struct {
    mm_object **keys;
    long *vals;
    size_t cap, len;
} ptrmap;

static void pm_init(ptrmap *m, size_t cap) {
    m->cap = cap;
    m->len = 0;
    m->keys = calloc(cap, sizeof *m->keys);
    m->vals = calloc(cap, sizeof *m->vals);
}
static void pm_free(ptrmap *m) {
    free(m->keys);
    free(m->vals);
}
static size_t pm_slot(const ptrmap *m, mm_object *k) {
    size_t i = ((uintptr_t)k >> 4) * 0x9E3779B97F4A7C15ull % m->cap;
    while (m->keys[i] && m->keys[i] != k) i = (i + 1) % m->cap;
    return i;
}
static long *pm_get(ptrmap *m, mm_object *k, bool insert) {
    if (insert && (m->len + 1) * 2 > m->cap) {
        ptrmap n;
        pm_init(&n, m->cap * 2);
        for (size_t i = 0; i < m->cap; i++)
            if (m->keys[i]) {
                size_t j = pm_slot(&n, m->keys[i]);
                n.keys[j] = m->keys[i];
                n.vals[j] = m->vals[i];
                n.len++;
            }
        pm_free(m);
        *m = n;
    }
    size_t i = pm_slot(m, k);
    if (m->keys[i] == NULL) {
        if (!insert) return NULL;
        m->keys[i] = k;
        m->len++;
    }
    return &m->vals[i];
}

#endif
