/* test_util.h — the small helpers the C tests share: a heap made by name (one
 * line and exit 1 when it cannot be), the live-object count, a store into a
 * var-items slot, and the plain container node ("PNode") most tests build
 * graphs from.
 *
 * Contract: header-only, everything static inline (or unused-tolerant const), so
 * a test includes it whole and uses what it needs without -Wunused warnings.
 * Invariant: nothing here keeps state; each helper is one mm_* call or two.
 */
#ifndef MS_TEST_UTIL_H
#define MS_TEST_UTIL_H

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

#endif
