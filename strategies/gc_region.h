/* gc_region.h — collecting one region of the heap, the step that CPython's
 * incremental collectors (3.14's gc_collect_region) share: partition a list of
 * candidates into reachable-from-outside and unreachable, then break the
 * unreachable cycles in CPython's order (weakrefs cleared first, finalizers
 * once, resurrection check, tp_clear). rc+incr and rc+pep848 use it.
 *
 * Contract: header-only (static inline, for the hot partition loops). The
 * caller's flag word keeps GC_TRACKED and the three collection bits below at
 * these values and puts its own bits above GC_REGION_OWN_BITS; every member of
 * the region carries GC_REGION (join_region). Survivors leave with the flags
 * the caller passes (`survivor`: tracked plus the caller's space bits) and are
 * appended to `to`.
 * Invariant: only objects found unreachable inside the region are cleared;
 * anything referenced from outside it (program holds, other spaces) survives.
 */
#ifndef MM_GC_REGION_H
#define MM_GC_REGION_H

#include "gc_list.h"

enum {
    GC_TRACKED = 1u << 0,     /* in one of the collector's lists */
    GC_REGION = 1u << 4,      /* member of the region being collected */
    GC_UNREACHABLE = 1u << 5, /* partition: in the (tentatively) unreachable list */
    GC_IN_SET = 1u << 6,      /* resurrection check: member of the re-partitioned set */
    GC_COLLECTION_BITS = GC_REGION | GC_UNREACHABLE | GC_IN_SET,
};
/* Bits 1..3 and from 7 on belong to the caller. */
#define GC_REGION_OWN_BITS 7

/* A survivor's flags: the caller's, collection bits cleared. */
static inline void gc_region_survive(gc_head *g, uintptr_t survivor) {
    g->flags = survivor;
    g->gc_refs = 0;
}

/* ---- the partition: which of the region is garbage ------------------------------ */

static inline void visit_subtract(mm_object *child, void *arg) {
    (void)arg;
    if (!child->type->is_container) return;
    gc_head *g = as_gc(child);
    if (g->flags & GC_REGION) g->gc_refs--;
}

/* Step 3's state: the region's list, and how many set-aside objects came back. */
typedef struct reach_ctx {
    gc_head *region;
    size_t rescued;
} reach_ctx;

/* move_unreachable's visitor: a child of a reachable object is reachable; one
 * already set aside as unreachable goes back to the region's tail to be scanned.
 * Scanned members no longer carry GC_REGION, so they are skipped. */
static inline void visit_reachable(mm_object *child, void *arg) {
    if (!child->type->is_container) return;
    gc_head *g = as_gc(child);
    if (!(g->flags & GC_REGION)) return;
    if (g->flags & GC_UNREACHABLE) {
        reach_ctx *r = arg;
        g->flags &= ~(uintptr_t)GC_UNREACHABLE;
        list_move(g, r->region);
        g->gc_refs = 1;
        r->rescued++;
    } else if (g->gc_refs == 0) {
        g->gc_refs = 1;
    }
}

/* CPython's deduce_unreachable on the region (members flagged GC_REGION), in its
 * classic passes, since the region is small by design:
 *   1. gc_refs = refcount: done as each object joins the region (join_region);
 *   2. every reference from a member to a member subtracts one: what remains
 *      counts references from outside the region (program holds, visited or
 *      pending objects, young ones outside an old-only region);
 *   3. walk the region: a member with gc_refs > 0 is reachable and makes its
 *      children reachable (re-appending any already set aside); one with 0 is set
 *      aside in `unreachable` for now.
 * A reachable member leaves the region as it is scanned (it becomes an object
 * with the survivor flags, so no later visit counts it), but stays in the list.
 * Returns how many ended in `unreachable`. */
static inline size_t deduce_unreachable(gc_head *region, gc_head *unreachable, uintptr_t survivor) {
    gc_head *g;
    for (g = region->next; g != region;) { /* 3.14's update_refs: an immortal member is untracked (PEP 683) */
        gc_head *next = g->next;
        if (MM_UNLIKELY(mm_is_immortal(from_gc(g)))) {
            list_remove(g);
            g->flags = 0;
            g->gc_refs = 0;
        }
        g = next;
    }
    for (g = region->next; g != region; g = g->next) {
        mm_object *o = from_gc(g);
        GC_TRAVERSE(o, visit_subtract, NULL);
    }
    size_t set_aside = 0;
    reach_ctx r = {.region = region};
    for (g = region->next; g != region;) {
        gc_head *next;
        if (g->gc_refs > 0) {
            gc_region_survive(g, survivor);
            mm_object *o = from_gc(g);
            GC_TRAVERSE(o, visit_reachable, &r);
            next = g->next; /* read after the visit: it may have appended to region */
        } else {
            next = g->next;
            g->flags |= GC_UNREACHABLE;
            list_move(g, unreachable);
            set_aside++;
        }
        g = next;
    }
    return set_aside - r.rescued;
}

/* ---- cycle breaking (reclaim_gen.c's steps, onto the survivors' list) ------------- */

static inline void visit_in_set_subtract(mm_object *child, void *arg) {
    (void)arg;
    if (child->type->is_container && (as_gc(child)->flags & GC_IN_SET)) as_gc(child)->gc_refs--;
}

static inline void visit_in_set_reach(mm_object *child, void *arg) {
    if (!child->type->is_container) return;
    gc_head *g = as_gc(child);
    if (g->flags & GC_IN_SET) {
        g->flags &= ~(uintptr_t)GC_IN_SET;
        gc_stack_push(arg, child);
    }
}

/* handle_resurrected_objects: after finalizers ran, the unreachable set is
 * partitioned again on its own; what is referenced from outside it now
 * (resurrected, and what that reaches) moves to `to`, alive. */
static inline void split_resurrected(gc_stack *stack, gc_head *unreachable, gc_head *to, uintptr_t survivor) {
    gc_head *g;
    for (g = unreachable->next; g != unreachable; g = g->next) {
        g->gc_refs = from_gc(g)->refcount;
        g->flags |= GC_IN_SET;
    }
    for (g = unreachable->next; g != unreachable; g = g->next) {
        mm_object *o = from_gc(g);
        if (o->type->traverse) o->type->traverse(o, visit_in_set_subtract, NULL);
    }
    for (g = unreachable->next; g != unreachable; g = g->next) {
        if (g->gc_refs <= 0 || !(g->flags & GC_IN_SET)) continue;
        g->flags &= ~(uintptr_t)GC_IN_SET;
        gc_stack_push(stack, from_gc(g));
        while (stack->len > 0) {
            mm_object *o = stack->items[--stack->len];
            if (o->type->traverse) o->type->traverse(o, visit_in_set_reach, stack);
        }
    }
    for (g = unreachable->next; g != unreachable;) {
        gc_head *next = g->next;
        if (g->flags & GC_IN_SET) {
            g->flags &= ~(uintptr_t)GC_IN_SET;
            g->gc_refs = 0;
        } else {
            gc_region_survive(g, survivor);
            list_move(g, to);
        }
        g = next;
    }
}

/* Every weak reference to garbage is cleared before any finalizer runs, then
 * callbacks of weakrefs that are not garbage run. Returns weakrefs freed right
 * after their callback (counted as collected, as reclaim_gen.c does). */
static inline size_t handle_weakrefs(mm_heap *h, gc_head *unreachable) {
    gc_weakref_batch b = {.garbage_flag = GC_UNREACHABLE};
    gc_clear_weakrefs(h, unreachable, &b);
    return gc_weakref_batch_run(h, &b, NULL, NULL);
}

/* tp_clear on each garbage object, holding a reference across the call; one
 * that survives its clear (still referenced) moves to `to`. */
static inline void delete_garbage(mm_heap *h, gc_head *unreachable, gc_head *to, uintptr_t survivor) {
    while (!list_empty(unreachable)) {
        gc_head *g = unreachable->next;
        mm_object *o = from_gc(g);
        gc_clear_one(h, o);
        if (unreachable->next == g) {
            gc_region_survive(g, survivor);
            list_move(g, to);
        }
    }
}

/* 3.14's gc_collect_region: partitions `region`, moves survivors to `to` (old
 * flags `survivor`), breaks the garbage's cycles. Returns objects collected. */
static inline size_t collect_region(mm_heap *h, gc_stack *stack, gc_head *region, gc_head *to, uintptr_t survivor) {
    gc_head unreachable;
    list_init(&unreachable);
    size_t garbage = deduce_unreachable(region, &unreachable, survivor);
    list_merge(region, to);
    if (garbage == 0) return 0;
    size_t collected = handle_weakrefs(h, &unreachable);
    /* without finalizers nothing leaves the set before clearing: its size is known */
    if (gc_finalize_garbage(h, &unreachable) > 0) {
        split_resurrected(stack, &unreachable, to, survivor);
        collected += list_size(&unreachable);
    } else {
        collected += garbage;
    }
    delete_garbage(h, &unreachable, to, survivor);
    return collected;
}

/* ---- joining a region ---------------------------------------------------------------- */

/* An object joins the region: membership, and step 1 of the partition. */
static inline void join_region(gc_head *g) {
    g->flags = GC_TRACKED | GC_REGION;
    g->gc_refs = from_gc(g)->refcount;
}

/* Every object of a list joins the region; returns how many. */
static inline size_t mark_region(gc_head *list) {
    size_t n = 0;
    for (gc_head *g = list->next; g != list; g = g->next, n++) join_region(g);
    return n;
}

/* The debug verifiers' census of incoming references (mm_incr_incoming_prepare and
 * mm_pep848_incoming_prepare): per-object callbacks for the strategy's for_each. */
static inline void gc_region_zero_refs(mm_object *o, void *ctx) {
    (void)ctx;
    as_gc(o)->gc_refs = 0;
}

static inline void gc_region_count_incoming(mm_object *child, void *arg) {
    (void)arg;
    if (child->type->is_container) as_gc(child)->gc_refs++;
}

/* Counts o into *(intptr_t *)ctx and adds its references to its children's gc_refs. */
static inline void gc_region_count_from(mm_object *o, void *ctx) {
    (*(intptr_t *)ctx)++;
    if (o->type->traverse) o->type->traverse(o, gc_region_count_incoming, NULL);
}

#endif
