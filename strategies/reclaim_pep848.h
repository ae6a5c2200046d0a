/* reclaim_pep848.h — what tests and tools may ask of `rc+pep848` beyond the
 * heap API: its spaces, counters and the figures of the last collection.
 *
 * Contract: valid only on a heap whose strategy is `rc+pep848`.
 */
#ifndef MM_RECLAIM_PEP848_H
#define MM_RECLAIM_PEP848_H

#include "mm.h"

typedef struct mm_pep848_info {
    long threshold0_kb;        /* nursery half-space and aging half-space size */
    int aging_spaces;          /* threshold1 rounded up to even, halved */
    size_t nursery_size, aging_size, visited_size, pending_size, reachable_size, permanent_size;
    size_t aging_sizes[16];    /* youngest first (the first aging_spaces entries; at most 16 shown) */
    uint64_t bytes_since;      /* gross object bytes allocated since the last collection */
    long work_to_do;           /* signed, starts at -debt (the PEP: -100,000) */
    bool young_next;           /* the next automatic collection is a young one */
    int visited_space;         /* 0 or 1: flips when pending runs out */
    uint64_t young_collections, old_increments, passes;
    /* the last old increment: objects scanned from the worklist, closures
     * collected, their candidates and survivors */
    size_t last_scanned, last_closures, last_candidates, last_survivors;
    size_t last_young_survivors; /* the last young collection's survivors */
    bool enabled;
} mm_pep848_info;

void mm_pep848_get_info(mm_heap *h, mm_pep848_info *out);

/* Called after every collection in debug builds (MM_DEBUG); compiled away otherwise. */
typedef void (*mm_pep848_verify_fn)(mm_heap *h, void *ctx);
void mm_pep848_set_verifier(mm_heap *h, mm_pep848_verify_fn fn, void *ctx);

/* True when o is a container in one of the collector's lists (and not poisoned). */
bool mm_pep848_is_tracked(mm_heap *h, mm_object *o);
/* Calls fn on every tracked object. */
void mm_pep848_for_each(mm_heap *h, void (*fn)(mm_object *o, void *ctx), void *ctx);
/* Incoming references from tracked objects, in gc_refs (outside collections
 * only); see mm_gen_incoming_prepare. */
intptr_t mm_pep848_incoming_prepare(mm_heap *h);
intptr_t mm_pep848_incoming(mm_heap *h, mm_object *o);
void mm_pep848_incoming_finish(mm_heap *h);

#endif
