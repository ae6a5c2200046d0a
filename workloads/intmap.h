/* intmap.h — an intrusive hash map from int64 keys to nodes in raw memory.
 *
 * Contract: the user embeds a wl_intmap_node as the first member of its own
 * node, allocates that node itself and links it with wl_intmap_insert; the map
 * never allocates or frees nodes, only its bucket array, which comes from
 * mm_raw_alloc so the cell's allocator counts it as the program's memory (as a
 * CPython dict's table counts in pymalloc's figures). Used by the weak-value
 * dictionary and by the strong caches of the `cache` workload.
 *
 * Invariant: every linked node sits in the chain of bucket hash(key) and keys
 * are unique; count <= nbuckets * WL_INTMAP_LOAD after every insert (the table
 * doubles first). The table never shrinks, as CPython's dicts do not on delete.
 */
#ifndef WL_INTMAP_H
#define WL_INTMAP_H

#include "mm.h"

typedef struct wl_intmap_node {
    int64_t key;
    struct wl_intmap_node *next; /* bucket chain */
} wl_intmap_node;

typedef struct wl_intmap {
    mm_heap *h;
    wl_intmap_node **buckets;
    size_t nbuckets; /* a power of two */
    size_t count;
} wl_intmap;

/* An empty map with a small table; false when the allocator fails. */
bool wl_intmap_init(wl_intmap *m, mm_heap *h);
/* Frees the bucket array; the nodes are the user's (take them first). */
void wl_intmap_fini(wl_intmap *m);
/* The node with this key, or NULL. */
wl_intmap_node *wl_intmap_find(const wl_intmap *m, int64_t key);
/* Links n (its key must be absent); false when growing the table failed, and
 * then n is not linked. */
bool wl_intmap_insert(wl_intmap *m, wl_intmap_node *n);
/* Unlinks n, which must be linked. */
void wl_intmap_remove(wl_intmap *m, wl_intmap_node *n);
/* Unlinks every node and returns them chained through `next` (NULL if empty),
 * so the user can release them without the map changing under it. */
wl_intmap_node *wl_intmap_take_all(wl_intmap *m);
/* Bytes of the bucket array (what the map itself holds in raw memory). */
size_t wl_intmap_table_bytes(const wl_intmap *m);

#endif
