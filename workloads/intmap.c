/* intmap.c — chained hashing with Fibonacci hashing; see intmap.h for the contract. */
#include "intmap.h"

#include <string.h>

/* First table size: small, since a weak dictionary may stay tiny. */
#define WL_INTMAP_MIN_BUCKETS 16
/* Nodes per bucket before doubling: 1 keeps chains short (average < 1 probe). */
#define WL_INTMAP_LOAD 1
/* 2^64 / golden ratio: multiplying by it spreads consecutive keys over the table. */
#define WL_INTMAP_FIB 0x9E3779B97F4A7C15ull

/* Fibonacci hashing: the high bits of key * 2^64/phi, as many as the table needs. */
static size_t wl_intmap_slot(const wl_intmap *m, int64_t key) {
    const uint64_t mixed = (uint64_t)key * WL_INTMAP_FIB;
    return (size_t)(mixed >> 32) & (m->nbuckets - 1);
}

/* Zeroed bucket array of n entries from the cell's allocator (it has no calloc). */
static wl_intmap_node **wl_intmap_table_new(mm_heap *h, size_t n) {
    wl_intmap_node **t = mm_raw_alloc(h, n * sizeof *t);
    if (t != NULL) memset(t, 0, n * sizeof *t);
    return t;
}

bool wl_intmap_init(wl_intmap *m, mm_heap *h) {
    m->h = h;
    m->count = 0;
    m->nbuckets = WL_INTMAP_MIN_BUCKETS;
    m->buckets = wl_intmap_table_new(h, m->nbuckets);
    return m->buckets != NULL;
}

void wl_intmap_fini(wl_intmap *m) {
    if (m->buckets != NULL) mm_raw_free(m->h, m->buckets, m->nbuckets * sizeof *m->buckets);
    m->buckets = NULL;
    m->nbuckets = m->count = 0;
}

wl_intmap_node *wl_intmap_find(const wl_intmap *m, int64_t key) {
    for (wl_intmap_node *n = m->buckets[wl_intmap_slot(m, key)]; n != NULL; n = n->next)
        if (n->key == key) return n;
    return NULL;
}

/* Doubling rehashes every node into the new table: amortised O(1) per insert. */
static bool wl_intmap_grow(wl_intmap *m) {
    const size_t old_n = m->nbuckets;
    wl_intmap_node **old = m->buckets, **t = wl_intmap_table_new(m->h, 2 * old_n);
    if (t == NULL) return false;
    m->buckets = t;
    m->nbuckets = 2 * old_n;
    for (size_t i = 0; i < old_n; i++) {
        for (wl_intmap_node *n = old[i], *next; n != NULL; n = next) {
            next = n->next;
            wl_intmap_node **b = &t[wl_intmap_slot(m, n->key)];
            n->next = *b;
            *b = n;
        }
    }
    mm_raw_free(m->h, old, old_n * sizeof *old);
    return true;
}

bool wl_intmap_insert(wl_intmap *m, wl_intmap_node *n) {
    if (m->count >= m->nbuckets * WL_INTMAP_LOAD && !wl_intmap_grow(m)) return false;
    wl_intmap_node **b = &m->buckets[wl_intmap_slot(m, n->key)];
    n->next = *b;
    *b = n;
    m->count++;
    return true;
}

void wl_intmap_remove(wl_intmap *m, wl_intmap_node *n) {
    wl_intmap_node **p = &m->buckets[wl_intmap_slot(m, n->key)];
    while (*p != n) p = &(*p)->next;
    *p = n->next;
    n->next = NULL;
    m->count--;
}

wl_intmap_node *wl_intmap_take_all(wl_intmap *m) {
    wl_intmap_node *all = NULL;
    for (size_t i = 0; i < m->nbuckets; i++) {
        for (wl_intmap_node *n = m->buckets[i], *next; n != NULL; n = next) {
            next = n->next;
            n->next = all;
            all = n;
        }
        m->buckets[i] = NULL;
    }
    m->count = 0;
    return all;
}

size_t wl_intmap_table_bytes(const wl_intmap *m) { return m->nbuckets * sizeof *m->buckets; }
