/* gc_head16.h — CPython's 16-byte GC head (PyGC_Head since 3.8) and its lists:
 * two words where a roomy head has four, because the collector's state hides in
 * the links' low bits and, during a collection, in the prev link itself.
 *
 * Contract: header-only (static inline). A gc_head16 sits right before the
 * object header (as_gc16 / from_gc16). Lists are circular and doubly linked
 * around a sentinel between collections, exactly as Include/internal/pycore_gc.h
 * and Modules/gcmodule.c (3.11) keep them:
 *   - next: the next node; 0 when the object is untracked; during
 *     move_unreachable, bit 0 (G16_NEXT_UNREACHABLE) marks members of the
 *     tentatively unreachable list;
 *   - prev: the previous node in bits 2..63; bit 1 (G16_COLLECTING) marks a
 *     member of the generation being collected; bit 0 is CPython's FINALIZED
 *     bit, kept clear here (the heap records finalization for every strategy).
 *     Between update_refs and move_unreachable the pointer bits hold gc_refs
 *     instead (shifted by G16_SHIFT), so the list is singly linked meanwhile.
 * Invariant: outside a collection every tracked node has a valid prev pointer,
 * no COLLECTING bit and no UNREACHABLE bit; list functions keep prev's low bits.
 */
#ifndef MM_GC_HEAD16_H
#define MM_GC_HEAD16_H

#include <stdint.h>

#include "mm.h"

typedef struct gc_head16 {
    uintptr_t next; /* gc_head16 *, tag bit 0 during move_unreachable */
    uintptr_t prev; /* gc_head16 * or gc_refs << G16_SHIFT, tags in bits 0-1 */
} gc_head16;

enum {
    G16_FINALIZED = 1u,        /* prev bit 0: CPython's _PyGC_PREV_MASK_FINALIZED (unused here) */
    G16_COLLECTING = 2u,       /* prev bit 1: in the set being collected */
    G16_SHIFT = 2,             /* gc_refs sits above the two tag bits */
    G16_NEXT_UNREACHABLE = 1u, /* next bit 0: in move_unreachable's unreachable list */
};
/* The pointer bits of prev (heads are at least 8-byte aligned, so bits 0-1 are free). */
#define G16_PTR_MASK (~(uintptr_t)3)

static inline gc_head16 *as_gc16(mm_object *o) { return (gc_head16 *)o - 1; }
static inline mm_object *from_gc16(gc_head16 *g) { return (mm_object *)(g + 1); }

static inline gc_head16 *g16_next(const gc_head16 *g) { return (gc_head16 *)g->next; }
static inline gc_head16 *g16_prev(const gc_head16 *g) { return (gc_head16 *)(g->prev & G16_PTR_MASK); }
static inline void g16_set_next(gc_head16 *g, gc_head16 *n) { g->next = (uintptr_t)n; }
/* Keeps prev's tag bits, as _PyGCHead_SET_PREV does. */
static inline void g16_set_prev(gc_head16 *g, gc_head16 *p) { g->prev = (g->prev & ~G16_PTR_MASK) | (uintptr_t)p; }

/* ---- gc_refs in the prev word (valid from update_refs to move_unreachable) ---- */

static inline intptr_t g16_refs(const gc_head16 *g) { return (intptr_t)(g->prev >> G16_SHIFT); }
static inline void g16_set_refs(gc_head16 *g, intptr_t r) {
    g->prev = (g->prev & ~G16_PTR_MASK) | ((uintptr_t)r << G16_SHIFT);
}
/* update_refs' start: gc_refs = refcount, COLLECTING set, FINALIZED kept. */
static inline void g16_reset_refs(gc_head16 *g, intptr_t r) {
    g->prev = (g->prev & G16_FINALIZED) | G16_COLLECTING | ((uintptr_t)r << G16_SHIFT);
}
static inline void g16_decref(gc_head16 *g) { g->prev -= (uintptr_t)1 << G16_SHIFT; }
static inline bool g16_collecting(const gc_head16 *g) { return (g->prev & G16_COLLECTING) != 0; }
static inline void g16_clear_collecting(gc_head16 *g) { g->prev &= ~(uintptr_t)G16_COLLECTING; }

/* ---- lists (valid while prev holds pointers) ---- */

static inline void g16_list_init(gc_head16 *l) { l->next = l->prev = (uintptr_t)l; }
static inline bool g16_list_empty(const gc_head16 *l) { return l->next == (uintptr_t)l; }

static inline void g16_list_append(gc_head16 *node, gc_head16 *list) {
    gc_head16 *last = (gc_head16 *)list->prev;
    g16_set_prev(node, last);
    g16_set_next(last, node);
    g16_set_next(node, list);
    list->prev = (uintptr_t)node;
}

/* Unlinks node; next = 0 says "untracked" (CPython's gc_list_remove). */
static inline void g16_list_remove(gc_head16 *node) {
    gc_head16 *prev = g16_prev(node), *next = g16_next(node);
    g16_set_next(prev, next);
    g16_set_prev(next, prev);
    node->next = 0;
}

static inline void g16_list_move(gc_head16 *node, gc_head16 *list) {
    gc_head16 *prev = g16_prev(node), *next = g16_next(node);
    g16_set_next(prev, next);
    g16_set_prev(next, prev);
    g16_list_append(node, list);
}

/* Appends all of from to to, leaving from empty: O(1). */
static inline void g16_list_merge(gc_head16 *from, gc_head16 *to) {
    if (g16_list_empty(from)) return;
    gc_head16 *tail = (gc_head16 *)to->prev, *first = g16_next(from), *last = (gc_head16 *)from->prev;
    g16_set_next(tail, first);
    g16_set_prev(first, tail);
    g16_set_next(last, to);
    to->prev = (uintptr_t)last;
    g16_list_init(from);
}

static inline size_t g16_list_size(const gc_head16 *l) {
    size_t n = 0;
    for (const gc_head16 *g = g16_next(l); g != l; g = g16_next(g)) n++;
    return n;
}

#endif
