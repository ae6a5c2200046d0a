/* test_util.h — the small helpers the C tests share: a heap made by name (one
 * line and exit 1 when it cannot be), the live-object count, a store into a
 * var-items slot, the plain container node ("PNode") most tests build graphs
 * from, the two small garbage shapes several tests start from, and the
 * finalizable node ("FNode").
 *
 * Contract: header-only, everything static inline (or unused-tolerant const), so
 * a test includes it whole and uses what it needs without -Wunused warnings.
 * Invariant: nothing here keeps state; each helper is one mm_* call or two.
 */
#ifndef MS_TEST_UTIL_H
#define MS_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "mm.h"

/* A container with nitems value slots (mm_new's extra), traversed and cleared as
 * items: the shape of a Python list without the list's free list. */
__attribute__((unused)) static const mm_type pnode_type = {
    .name = "PNode",
    .size = sizeof(mm_varobject),
    .itemsize = sizeof(mm_value),
    .is_container = true,
    .traverse = mm_traverse_var_items,
    .clear = mm_clear_var_items,
};

/* A heap of `reclaim` on the system allocator and slots layout; a test cannot go
 * on without it, so a refusal prints the reason in one line and exits 1. */
static inline mm_heap *test_heap(const char *reclaim, const char *knobs) {
    char err[256];
    mm_heap *h = mm_heap_new_named(reclaim, "system", "slots", knobs, err, sizeof err);
    if (h == NULL) {
        fprintf(stderr, "heap %s: %s\n", reclaim, err);
        exit(1);
    }
    return h;
}

/* Objects allocated and not yet freed: what "nothing left" is checked against. */
static inline uint64_t live(mm_heap *h) {
    mm_stats s;
    mm_get_stats(h, &s);
    return mm_stats_live_objects(&s);
}

/* from.items[i] = to (or None): every write goes through mm_store, as the API requires. */
static inline void link_slot(mm_heap *h, mm_object *from, size_t i, mm_object *to) {
    mm_store(h, from, &mm_var_items(from)[i], to ? mm_ref(to) : MM_NONE);
}

/* A PNode with k slots, all None. */
static inline mm_object *pnode(mm_heap *h, size_t k) { return mm_new(h, &pnode_type, k); }

/* A garbage 2-cycle a <-> b made with make(h, 1) and dropped: only a collection
 * frees it (make lets a test choose the node type, e.g. rc+gen's lists). */
static inline void garbage_pair(mm_heap *h, mm_object *(*make)(mm_heap *, size_t)) {
    mm_object *a = make(h, 1), *b = make(h, 1);
    link_slot(h, a, 0, b);
    link_slot(h, b, 0, a);
    mm_decref(h, a);
    mm_decref(h, b);
}

/* A 3-cycle a -> b -> c -> a with an acyclic tail off a (a.items[1]); returns a,
 * the only hold: dropping it leaves 4 objects only a collection frees. */
static inline mm_object *cycle3_tail(mm_heap *h, mm_object *(*make)(mm_heap *, size_t)) {
    mm_object *a = make(h, 2), *b = make(h, 1), *c = make(h, 1), *tail = make(h, 0);
    link_slot(h, a, 0, b);
    link_slot(h, b, 0, c);
    link_slot(h, c, 0, a);
    link_slot(h, a, 1, tail);
    mm_decref(h, b);
    mm_decref(h, c);
    mm_decref(h, tail);
    return a;
}

/* A node with 2 slots, a finalizer and a weak-reference list after its slots;
 * FNODE_TYPE(fin) is its mm_type with the test's finalizer. */
typedef struct fnode {
    mm_object ob;
    mm_value slot[2];
    mm_object *weaklist;
} fnode;

#define FNODE_TYPE(fin)                                                                                  \
    {                                                                                                    \
        .name = "FNode", .size = sizeof(fnode), .nslots = 2, .is_container = true,                       \
        .traverse = mm_traverse_slots, .clear = mm_clear_slots, .finalize = (fin),                       \
        .weaklist_offset = offsetof(fnode, weaklist),                                                     \
    }

/* Finalizer runs of fnode_type objects: a test zeroes it, makes garbage, counts. */
static int fnode_finalized;
static inline void fnode_count_finalize(mm_heap *h, mm_object *o) {
    (void)h;
    (void)o;
    fnode_finalized++;
}

/* The FNode whose finalizer only counts. */
__attribute__((unused)) static const mm_type fnode_type = FNODE_TYPE(fnode_count_finalize);

#endif
