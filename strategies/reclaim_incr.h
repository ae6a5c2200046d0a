/* reclaim_incr.h — what tests and tools may ask of `rc+incr` beyond the heap API:
 * the collector's counts, spaces and the figures of the last increment, and the
 * debug hooks a heap verifier uses (the same shape as reclaim_gen.h's).
 *
 * Contract: valid only on a heap whose strategy is `rc+incr`.
 */
#ifndef MM_RECLAIM_INCR_H
#define MM_RECLAIM_INCR_H

#include "mm.h"

typedef struct mm_incr_info {
    long young_count, young_threshold, scale;
    size_t young_size, visited_size, pending_size, permanent_size;
    size_t heap_size;          /* live containers (CPython's gcstate->heap_size) */
    long work_to_do;           /* carried between increments, as in 3.14 */
    bool mark_phase;           /* the next increment only marks from the roots */
    int visited_space;         /* 0 or 1: flips when a full pass completes */
    uint64_t passes;           /* full passes completed (pending found empty) */
    uint64_t increments;
    /* the last increment: budget = work_to_do when it started; examined = its
     * region; last_closure = objects the final expansion added (the overshoot bound) */
    long last_budget;
    size_t last_young, last_examined, last_closure;
    size_t last_marked;        /* marked from the roots first (not part of the region) */
    /* over all increments: the largest examined - max(budget, young), and examined */
    long max_overshoot;
    size_t max_examined;
    bool enabled;
    bool gh140262;             /* variant=3.14.2 */
    /* increments gc.get_stats()[1] would count: not the mark-phase ones, not
     * 3.14.2's early returns (the observer sees those too) */
    uint64_t stats_increments;
    uint64_t early_returns;    /* 3.14.2: increments that stopped at work_to_do < 0 */
} mm_incr_info;

void mm_incr_get_info(mm_heap *h, mm_incr_info *out);

/* Called after every collection in debug builds (MM_DEBUG); compiled away otherwise. */
typedef void (*mm_incr_verify_fn)(mm_heap *h, void *ctx);
void mm_incr_set_verifier(mm_heap *h, mm_incr_verify_fn fn, void *ctx);

/* True when o is a container in one of the collector's lists (and not poisoned). */
bool mm_incr_is_tracked(mm_heap *h, mm_object *o);
/* Calls fn on every tracked object. */
void mm_incr_for_each(mm_heap *h, void (*fn)(mm_object *o, void *ctx), void *ctx);
/* Incoming references from tracked objects, in gc_refs (outside collections
 * only); see mm_gen_incoming_prepare. */
intptr_t mm_incr_incoming_prepare(mm_heap *h);
intptr_t mm_incr_incoming(mm_heap *h, mm_object *o);
void mm_incr_incoming_finish(mm_heap *h);

#endif
