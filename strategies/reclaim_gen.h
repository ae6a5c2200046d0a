/* reclaim_gen.h — what tests and tools may ask of `rc+gen` beyond the heap API:
 * the collector's counts and thresholds (gc.get_count/get_threshold), and the
 * debug hooks the heap verifier uses.
 *
 * Contract: valid only on a heap whose strategy is `rc+gen`.
 */
#ifndef MM_RECLAIM_GEN_H
#define MM_RECLAIM_GEN_H

#include "mm.h"

typedef struct mm_gen_info {
    long count[3], threshold[3];
    size_t size[3];          /* objects in each generation list */
    size_t permanent_size;
    size_t long_lived_total, long_lived_pending;
    bool enabled;
    long freelist_dicts, freelist_lists; /* objects kept on CPython's free lists */
    long freelist_tuples;                /* all lengths together */
} mm_gen_info;

void mm_gen_get_info(mm_heap *h, mm_gen_info *out);

/* Called after every collection in debug builds (MM_DEBUG); compiled away otherwise. */
typedef void (*mm_gen_verify_fn)(mm_heap *h, void *ctx);
void mm_gen_set_verifier(mm_heap *h, mm_gen_verify_fn fn, void *ctx);

/* True when o is a container in one of the collector's lists (and not poisoned). */
bool mm_gen_is_tracked(mm_heap *h, mm_object *o);
/* The lists are as they must be between collections (links agree both ways,
 * no collection-time state left in any head). */
bool mm_gen_links_ok(mm_heap *h);
/* Calls fn on every tracked object. */
void mm_gen_for_each(mm_heap *h, void (*fn)(mm_object *o, void *ctx), void *ctx);
/* Counts, for every tracked object, the references to it from tracked objects
 * (read back with mm_gen_incoming); returns the number of tracked objects. Uses
 * the gc_refs field as scratch, so only outside a collection. */
intptr_t mm_gen_incoming_prepare(mm_heap *h);
intptr_t mm_gen_incoming(mm_heap *h, mm_object *o);
/* Restores gc_refs to 0 (its value between collections) after the reads. */
void mm_gen_incoming_finish(mm_heap *h);

#endif
