/* gc_list.h — the pieces every tracing-style cycle collector here shares: the
 * tracking pre-header, its circular lists, a growable work list of objects and
 * the traverse macro with the `slots` shape inlined.
 *
 * Contract: header-only (static inline), so each collector's hot loops inline
 * them. A gc_head sits right before the object header (as_gc / from_gc); lists
 * are circular and doubly linked around a sentinel; list_merge is O(1).
 * Invariant: a node is in at most one list; list_remove leaves it unlinked (NULL).
 * Also here: the weakref and finalizer steps rc+gen and rc+incr run on their
 * unreachable list, in CPython's order.
 */
#ifndef MM_GC_LIST_H
#define MM_GC_LIST_H

#include <stdio.h>
#include <stdlib.h>

#include "gc_head16.h"
#include "mm.h"
#include "strategy.h"

/* First capacity of a work list; it doubles from there. */
#define GC_WORK_INITIAL 1024

/* The pre-header: links of the collector's lists, gc_refs in a field of its own,
 * and the collector's flags (32 bytes; CPython packs the same into 16). */
typedef struct gc_head {
    struct gc_head *next, *prev;
    intptr_t gc_refs; /* during a collection: references from outside the set collected */
    uintptr_t flags;
} gc_head;

static inline gc_head *as_gc(mm_object *o) { return (gc_head *)o - 1; }
static inline mm_object *from_gc(gc_head *g) { return (mm_object *)(g + 1); }

static inline void list_init(gc_head *l) { l->next = l->prev = l; }
static inline bool list_empty(const gc_head *l) { return l->next == l; }

static inline void list_append(gc_head *node, gc_head *list) {
    node->prev = list->prev;
    node->next = list;
    list->prev->next = node;
    list->prev = node;
}

static inline void list_remove(gc_head *node) {
    node->prev->next = node->next;
    node->next->prev = node->prev;
    node->next = node->prev = NULL;
}

static inline void list_move(gc_head *node, gc_head *list) {
    list_remove(node);
    list_append(node, list);
}

/* Appends all of from to to, leaving from empty: O(1), as merging generations must be. */
static inline void list_merge(gc_head *from, gc_head *to) {
    if (list_empty(from)) return;
    gc_head *first = from->next, *last = from->prev;
    first->prev = to->prev;
    to->prev->next = first;
    last->next = to;
    to->prev = last;
    list_init(from);
}

static inline size_t list_size(const gc_head *l) {
    size_t n = 0;
    for (const gc_head *g = l->next; g != l; g = g->next) n++;
    return n;
}

/* A growable array of objects: mark stacks, candidate buffers, white sets. */
typedef struct gc_stack {
    mm_object **items;
    size_t len, cap;
} gc_stack;

/* Slow path of gc_stack_push: doubles the array. Without the memory the process
 * stops with one line (mm_realloc_or_stop): a half-done collection cannot be undone. */
static inline void gc_stack_grow_push(gc_stack *s, mm_object *o) {
    size_t cap = s->cap ? s->cap * 2 : GC_WORK_INITIAL;
    s->items = mm_realloc_or_stop(s->items, cap * sizeof *s->items, "growing the collector's work list");
    s->cap = cap;
    s->items[s->len++] = o;
}

static inline void gc_stack_push(gc_stack *s, mm_object *o) {
    if (MM_LIKELY(s->len < s->cap))
        s->items[s->len++] = o;
    else
        gc_stack_grow_push(s, o);
}

/* Calls VISIT(child, ctx) on each reference of o; VISIT is a (mm_object *, void *)
 * function, inlined for the `slots` shape (most of a collection is this loop)
 * and passed to the type's traverse for any other shape. */
#define GC_TRAVERSE(o, VISIT, ctx)                                                        \
    do {                                                                                  \
        const mm_type *t_ = (o)->type;                                                    \
        if (MM_LIKELY(t_->traverse == mm_traverse_slots)) {                               \
            mm_value *s_ = mm_slots(o);                                                   \
            for (uint32_t i_ = 0; i_ < t_->nslots; i_++)                                  \
                if (mm_is_ref(s_[i_])) VISIT((mm_object *)s_[i_], (ctx));                 \
        } else if (t_->traverse) {                                                        \
            t_->traverse((o), VISIT, (ctx));                                              \
        }                                                                                 \
    } while (0)

/* ---- weak references and finalizers of the unreachable (CPython's order) ---- */

/* The weakrefs whose callbacks run once every weakref to the garbage reads NULL, each
 * held by one reference meanwhile. A weakref that is garbage itself gets no callback
 * (CPython's rule): its gc_head carries garbage_flag, or, with CPython's packed head
 * (packed), its prev word carries G16_COLLECTING. */
typedef struct gc_weakref_batch {
    gc_stack wrs;
    uintptr_t garbage_flag;
    bool packed;
} gc_weakref_batch;

/* mm_weakrefs_clear's callback: gathers a cleared weakref into the batch. */
static inline void gc_weakref_batch_add(mm_heap *h, mm_object *wr, void *arg) {
    (void)h;
    gc_weakref_batch *b = arg;
    if (wr->type->is_container &&
        (b->packed ? g16_collecting(as_gc16(wr)) : (as_gc(wr)->flags & b->garbage_flag) != 0))
        return;
    mm_incref(wr);
    gc_stack_push(&b->wrs, wr);
}

/* Clears every weak reference to o, if it has any; those with callbacks go into b. */
static inline void gc_clear_weakrefs_of(mm_heap *h, mm_object *o, gc_weakref_batch *b) {
    if (o->type->weaklist_offset && *(mm_object **)((char *)o + o->type->weaklist_offset))
        mm_weakrefs_clear(h, o, gc_weakref_batch_add, b);
}

/* Clears every weak reference to an object of `garbage`, before any finalizer runs, so
 * none can reach garbage through one; those with callbacks go into b. */
static inline void gc_clear_weakrefs(mm_heap *h, gc_head *garbage, gc_weakref_batch *b) {
    for (gc_head *g = garbage->next; g != garbage; g = g->next) gc_clear_weakrefs_of(h, from_gc(g), b);
}

/* The same over a list of CPython's packed heads. */
static inline void gc16_clear_weakrefs(mm_heap *h, gc_head16 *garbage, gc_weakref_batch *b) {
    for (gc_head16 *g = g16_next(garbage); g != garbage; g = g16_next(g)) gc_clear_weakrefs_of(h, from_gc16(g), b);
}

/* Runs the batch's callbacks, each weakref held across its own; returns how many
 * were freed right after their callback (CPython counts them as collected). A
 * container weakref still alive afterwards is passed to survive (NULL: it stays
 * where it is). Frees the batch. */
static inline size_t gc_weakref_batch_run(mm_heap *h, gc_weakref_batch *b, void (*survive)(mm_object *wr, void *ctx),
                                          void *ctx) {
    size_t freed = 0;
    for (size_t i = 0; i < b->wrs.len; i++) {
        mm_object *wr = b->wrs.items[i];
        mm_weakref_fire(h, wr);
        if (wr->refcount == 1) freed++;
        else if (survive != NULL && wr->type->is_container) survive(wr, ctx);
        mm_decref(h, wr);
    }
    free(b->wrs.items);
    return freed;
}

/* tp_clear on one garbage object, the object held across the call so it cannot
 * vanish mid-clear (CPython's delete_garbage step). The caller checks afterwards
 * whether it survived its clear. */
static inline void gc_clear_one(mm_heap *h, mm_object *o) {
    if (!o->type->clear) return;
    mm_incref(o);
    o->type->clear(h, o);
    mm_decref(h, o);
}

/* One object's finalizer, once in its life (PEP 442), the object held across the call;
 * true if it ran. */
static inline bool gc_finalize_one(mm_heap *h, mm_object *o) {
    if (!o->type->finalize || mm_finalized(h, o)) return false;
    mm_set_finalized(h, o);
    mm_incref(o);
    o->type->finalize(h, o);
    mm_decref(h, o);
    return true;
}

/* CPython's finalize_garbage: each unreachable object's finalizer, once (PEP 442).
 * Objects move to a `seen` list before the call, since a finalizer may free others of
 * the list (or this one). Returns how many finalizers ran. */
static inline size_t gc_finalize_garbage(mm_heap *h, gc_head *unreachable) {
    gc_head seen;
    list_init(&seen);
    size_t ran = 0;
    while (!list_empty(unreachable)) {
        gc_head *g = unreachable->next;
        list_move(g, &seen);
        ran += gc_finalize_one(h, from_gc(g));
    }
    list_merge(&seen, unreachable);
    return ran;
}

/* The same over a list of CPython's packed heads. */
static inline size_t gc16_finalize_garbage(mm_heap *h, gc_head16 *unreachable) {
    gc_head16 seen;
    g16_list_init(&seen);
    size_t ran = 0;
    while (!g16_list_empty(unreachable)) {
        gc_head16 *g = g16_next(unreachable);
        g16_list_move(g, &seen);
        ran += gc_finalize_one(h, from_gc16(g));
    }
    g16_list_merge(&seen, unreachable);
    return ran;
}

#endif
