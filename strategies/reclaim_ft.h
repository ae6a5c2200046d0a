/* reclaim_ft.h — what tests and tools may ask of `rc+ft` beyond the heap API:
 * the collector's counts (gc.get_count), sizes and the memory gate's figures,
 * and the debug hooks a heap verifier uses (the shape of reclaim_gen.h's).
 *
 * Contract: valid only on a heap whose strategy is `rc+ft`.
 */
#ifndef MM_RECLAIM_FT_H
#define MM_RECLAIM_FT_H

#include "mm.h"

typedef struct mm_ft_info {
    long count;            /* young.count: flushed net allocations */
    long local;            /* the thread's unflushed count (-511..511) */
    long threshold0;
    long old_count[2];
    size_t heap_size, frozen_size;
    size_t long_lived_total;
    long deferred_count;   /* memgate=on: net allocations deferred since the last collection */
    uint64_t deferrals;    /* memgate=on: times the gate deferred a collection */
    bool freeze_active;
} mm_ft_info;

void mm_ft_get_info(mm_heap *h, mm_ft_info *out);

/* Called after every collection in debug builds (MM_DEBUG); compiled away otherwise. */
typedef void (*mm_ft_verify_fn)(mm_heap *h, void *ctx);
void mm_ft_set_verifier(mm_heap *h, mm_ft_verify_fn fn, void *ctx);

/* True when o is a container in the heap or frozen list, with no collection bit. */
bool mm_ft_is_tracked(mm_heap *h, mm_object *o);
/* Calls fn on every tracked object (heap, then frozen). */
void mm_ft_for_each(mm_heap *h, void (*fn)(mm_object *o, void *ctx), void *ctx);

#endif
