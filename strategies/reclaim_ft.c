/* reclaim_ft.c — `rc+ft`: reference counting plus the free-threaded build's
 * cycle collector (Python/gc_free_threading.c, 3.13t and 3.14t), modelled with
 * one mutator thread.
 *
 * Invariant: every live container is tracked in exactly one list — `heap` (what
 * every collection scans) or `frozen` (gc.freeze(): never scanned again) — and
 * outside a collection its gc_refs is 0 and it carries no collection bit. The
 * collector is not generational: every collection, automatic or gc.collect(g)
 * for any g, scans the whole heap list.
 *
 * Counts and trigger (gc_free_threading.c):
 *   - each container allocation adds 1 to the thread's local count, each
 *     container free subtracts 1; the local count is added to the global young
 *     count only when it reaches +512 or -512 (LOCAL_ALLOC_COUNT_THRESHOLD), and
 *     only a +512 flush tests whether to collect — so collections start up to
 *     511 allocations late. The global count is kept >= 0 (gh-142048's fix);
 *   - should_collect: count > threshold0 (2000), threshold0 != 0, enabled, and
 *     count > long_lived_total / 4 unless threshold1 == 0 (the full-heap cost
 *     amortised as gen2's is in the default build);
 *   - `memgate=on` adds 3.14's memory gate (gh-132917): when the count test
 *     passes, collect only if the memory grew by more than max(10 % of its size
 *     after the last collection, 128 kB), or if the net allocations deferred so
 *     far exceed 40 × threshold0; otherwise the count moves into the deferred
 *     count and is reset. 3.14 reads the process's RSS + swap; the model reads the
 *     allocator's reserved bytes (what it took from the OS, which glibc and the
 *     pool allocator, like mimalloc, do not give back promptly) — an input, as
 *     GC_LINEAGE.md §7 asks, not a measurement of this process;
 *   - a collection: old[g].count += 1 (g < 2), young count and younger old counts
 *     reset; long_lived_total = the reachable objects the scan found.
 *
 * One collection (where to start reading: collect_heap), 3.14's order:
 *   1. mark alive (`markalive=1`, 3.14; skipped while frozen objects exist): what
 *      the program's registered roots (mm_root_push; 3.14 marks from sys, builtins,
 *      static types and the frames' stacks) reach is ALIVE and skipped below;
 *   2. gc_refs = refcount minus references from other scanned objects (alive and
 *      frozen objects are neither scanned nor subtracted from);
 *   3. everything reachable from an object with gc_refs > 0 is reachable;
 *   4. the rest is unreachable; long_lived_total counts the others (alive too);
 *   5. weak references to the unreachable are cleared, their callbacks run;
 *      finalizers run once (PEP 442); resurrected objects leave the set;
 *   6. tp_clear on what is left; what survives clearing stays in the heap.
 *
 * Single mutator: biased reference counting (owner: plain ops on ob_ref_local;
 * other threads: atomics on ob_ref_shared, queued merges) and deferred reference
 * counting change only what each refcount operation costs and which objects
 * need a collection to die; with one thread every operation is the owner's, so
 * the model's refcounts are exact and their cost is the shared inline path's.
 * The stop-the-world pauses are one pause here (one thread).
 *
 * Not modelled: the untracking of tuples (memstrat has no tuple type), legacy
 * tp_del finalizers (`uncollectable` is 0), the free-list clearing, deferred
 * refcounts and their stack refs, the several threads' local counts (collections
 * late by up to 512 × threads). No safe points: the collection runs inside the
 * allocation whose flush passed the test, before the new object is tracked, as
 * rc+gen collects. The 3.14 prefetch buffer changes only speed. FT keeps gc_refs
 * in ob_tid and flags in ob_gc_bits and finds objects by walking mimalloc's heaps;
 * the model keeps {next, prev, gc_refs, flags} (32 bytes) before each container
 * instead, where the real build's cost is a 32-byte object header on every
 * object (16 bytes more than the default build's) and no pre-header.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gc_list.h"
#include "reclaim_ft.h"
#include "strategy.h"

/* gc_free_threading.c's LOCAL_ALLOC_COUNT_THRESHOLD: a thread flushes its count this often. */
#define FT_LOCAL_FLUSH 512
/* The free-threaded build's gc thresholds (young.threshold, old[0].threshold). */
#define FT_THRESHOLD0_DEFAULT "2000"
#define FT_THRESHOLD1_DEFAULT "10"
/* 3.14's memory gate: growth needed, as a fraction of the last figure (1/10)... */
#define FT_MEM_GROWTH_DIVISOR 10
/* ...and at least this many kB (its floor for small processes). */
#define FT_MEM_GROWTH_MIN_KB 128
/* 3.14: deferred net allocations above threshold0 × this force a collection. */
#define FT_DEFERRED_FACTOR 40
/* gc.collect(g) labels: 3 generations, as gc.get_stats() reports them. */
#define FT_GENERATIONS 3

enum {
    FT_TRACKED = 1u << 0,     /* in `heap` or `frozen` */
    FT_FROZEN = 1u << 1,      /* gc.freeze(): never scanned */
    FT_ALIVE = 1u << 2,       /* step 1: reached from the roots */
    FT_REACHED = 1u << 3,     /* step 3: found reachable */
    FT_UNREACHABLE = 1u << 4, /* step 4: in the unreachable list */
    FT_IN_SET = 1u << 5,      /* resurrection check: member of the re-partitioned set */
};

typedef struct ft_state {
    gc_head heap, frozen;
    long count;                 /* young.count: flushed net allocations */
    long local;                 /* the (one) thread's unflushed count */
    long threshold0, threshold1;
    long old_count[FT_GENERATIONS - 1];
    size_t long_lived_total;
    bool memgate, markalive, freeze_active;
    long deferred_count;
    uint64_t last_mem_kb;
    bool enabled, collecting;
    uint64_t deferrals;
    gc_stack stack;
    mm_ft_verify_fn verify;
    void *verify_ctx;
} ft_state;

static inline ft_state *state_of(mm_heap *h) { return h->strategy_data; }

/* ---- knobs --------------------------------------------------------------------- */

static const mm_knob_desc ft_knobs[] = {
    {"threshold0", MM_KNOB_COUNT, FT_THRESHOLD0_DEFAULT, 0, 1000000000,
     "young threshold: collect when the flushed count > this (0 = no automatic collection)"},
    {"threshold1", MM_KNOB_COUNT, FT_THRESHOLD1_DEFAULT, 0, 1000000000,
     "0 drops the long_lived_total/4 gate (and the memory gate), as in CPython; otherwise unused"},
    {"memgate", MM_KNOB_STRING, "off", 0, 0,
     "off (3.13t) | on: 3.14t's gate: collect only after 10% memory growth or 40 x threshold0 deferred net allocations"},
    {"markalive", MM_KNOB_COUNT, "1", 0, 1,
     "1: mark what the roots reach as alive first, skipped by the scan (3.14t; off while frozen); 0: 3.13t"},
    MM_POLICY_KNOB,
    MM_RELEASE_PAUSE_KNOB,
    MM_IMMORTAL_KNOB,
    {0},
};

static bool ft_check(const mm_knobset *ks, char *err, size_t errlen) {
    const char *m = mm_knob_str(ks, "memgate");
    if (strcmp(m, "off") != 0 && strcmp(m, "on") != 0) {
        snprintf(err, errlen, "knob 'memgate': '%s' is not off or on", m);
        return false;
    }
    return mm_policy_check(ks, err, errlen);
}

/* The memory figure the gate compares, in kB (see the header). */
static uint64_t mem_kb(mm_heap *h) {
    mm_alloc_stats a;
    mm_get_alloc_stats(h, &a);
    return a.reserved_bytes / 1024;
}

static bool ft_init(mm_heap *h, const mm_knobset *ks, char *err, size_t errlen) {
    if (!ft_check(ks, err, errlen)) return false;
    ft_state *st = calloc(1, sizeof *st);
    if (st == NULL) {
        snprintf(err, errlen, "out of memory creating the collector");
        return false;
    }
    list_init(&st->heap);
    list_init(&st->frozen);
    st->threshold0 = (long)mm_knob_int(ks, "threshold0");
    st->threshold1 = (long)mm_knob_int(ks, "threshold1");
    st->memgate = strcmp(mm_knob_str(ks, "memgate"), "on") == 0;
    st->markalive = mm_knob_int(ks, "markalive") != 0;
    st->enabled = true;
    h->strategy_data = st;
    return true;
}

static void ft_fini(mm_heap *h) {
    ft_state *st = state_of(h);
    free(st->stack.items);
    free(st);
}

/* ---- the trigger ------------------------------------------------------------------ */

/* 3.14's memory test, reached only when the count test passed: growth since the
 * last collection over the floor collects; otherwise the count is deferred. */
static bool mem_grew(mm_heap *h, ft_state *st) {
    uint64_t mem = mem_kb(h), last = st->last_mem_kb;
    uint64_t floor = last / FT_MEM_GROWTH_DIVISOR > FT_MEM_GROWTH_MIN_KB ? last / FT_MEM_GROWTH_DIVISOR : FT_MEM_GROWTH_MIN_KB;
    if (mem > last && mem - last > floor) return true;
    st->deferred_count += st->count;
    st->count = 0;
    st->deferrals++;
    return false;
}

/* gc_should_collect (3.13t / 3.14t), with the memory gate when asked for. */
static bool should_collect(mm_heap *h, ft_state *st) {
    if (st->count <= st->threshold0 || st->threshold0 == 0 || !st->enabled) return false;
    if (st->threshold1 == 0) return true;
    if (!st->memgate) return (size_t)st->count > st->long_lived_total / 4;
    if ((size_t)st->count < st->long_lived_total / 4) return false;
    if (st->deferred_count > st->threshold0 * FT_DEFERRED_FACTOR) return true;
    return mem_grew(h, st);
}

/* ---- the collection ---------------------------------------------------------------- */

/* A member of this collection's scan: tracked, not frozen, not alive. */
static inline bool scanned(const gc_head *g) {
    return (g->flags & (FT_TRACKED | FT_FROZEN | FT_ALIVE)) == FT_TRACKED;
}

/* Step 1's visitor: a tracked, unfrozen object not yet alive becomes alive. */
static inline void visit_alive(mm_object *child, void *arg) {
    if (!child->type->is_container) return;
    gc_head *g = as_gc(child);
    if (!scanned(g)) return;
    g->flags |= FT_ALIVE;
    gc_stack_push(arg, child);
}

/* 3.14's mark_alive_from_roots: the roots are never garbage, nor what they reach,
 * so one traversal each spares them the partition. */
static void mark_alive(mm_heap *h, ft_state *st) {
    for (size_t i = 0; i < h->roots_len; i++) {
        mm_object *o = *h->roots[i];
        if (o == NULL) continue;
        visit_alive(o, &st->stack);
        while (st->stack.len > 0) {
            mm_object *m = st->stack.items[--st->stack.len];
            GC_TRAVERSE(m, visit_alive, &st->stack);
        }
    }
}

/* Step 2's visitor: a reference from another scanned object is no reason to live. */
static inline void visit_subtract(mm_object *child, void *arg) {
    (void)arg;
    if (!child->type->is_container) return;
    gc_head *g = as_gc(child);
    if (scanned(g)) g->gc_refs--;
}

/* Step 3's visitor: a child of a reachable object is reachable. */
static inline void visit_reach(mm_object *child, void *arg) {
    if (!child->type->is_container) return;
    gc_head *g = as_gc(child);
    if (!scanned(g) || (g->flags & FT_REACHED)) return;
    g->flags |= FT_REACHED;
    gc_stack_push(arg, child);
}

/* Steps 2–4 (deduce_unreachable_heap): splits the heap list; the unreachable move
 * to `unreachable` in heap order. Returns the objects scanned (alive included). */
static size_t deduce_unreachable(ft_state *st, gc_head *unreachable) {
    gc_head *heap = &st->heap, *g, *next;
    size_t n = 0;
    for (g = heap->next; g != heap; g = next, n++) {
        next = g->next;
        if (!scanned(g)) continue;
        mm_object *o = from_gc(g);
        if (MM_UNLIKELY(mm_is_immortal(o))) { /* the FT update_refs: an immortal object is untracked (PEP 683) */
            list_remove(g);
            g->flags = 0;
            g->gc_refs = 0;
            continue;
        }
        g->gc_refs += o->refcount;
        GC_TRAVERSE(o, visit_subtract, NULL);
    }
    for (g = heap->next; g != heap; g = g->next) {
        if (!scanned(g) || (g->flags & FT_REACHED) || g->gc_refs <= 0) continue;
        g->flags |= FT_REACHED;
        gc_stack_push(&st->stack, from_gc(g));
        while (st->stack.len > 0) {
            mm_object *m = st->stack.items[--st->stack.len];
            GC_TRAVERSE(m, visit_reach, &st->stack);
        }
    }
    st->long_lived_total = 0;
    for (g = heap->next; g != heap;) {
        gc_head *next = g->next;
        g->gc_refs = 0;
        if (scanned(g) && !(g->flags & FT_REACHED)) {
            g->flags = FT_TRACKED | FT_UNREACHABLE;
            list_remove(g);
            list_append(g, unreachable);
        } else {
            g->flags = FT_TRACKED;
            st->long_lived_total++;
        }
        g = next;
    }
    return n;
}

static inline void visit_in_set_subtract(mm_object *child, void *arg) {
    (void)arg;
    if (!child->type->is_container) return;
    gc_head *g = as_gc(child);
    if (g->flags & FT_IN_SET) g->gc_refs--;
}

static inline void visit_in_set_reach(mm_object *child, void *arg) {
    if (!child->type->is_container) return;
    gc_head *g = as_gc(child);
    if (g->flags & FT_IN_SET) {
        g->flags &= ~(uintptr_t)FT_IN_SET;
        gc_stack_push(arg, child);
    }
}

/* handle_resurrected_objects: after finalizers, the unreachable set is
 * partitioned on its own; what outside references now reach returns to the heap. */
static void split_resurrected(ft_state *st, gc_head *unreachable) {
    gc_head *g;
    for (g = unreachable->next; g != unreachable; g = g->next) {
        g->gc_refs = from_gc(g)->refcount;
        g->flags |= FT_IN_SET;
    }
    for (g = unreachable->next; g != unreachable; g = g->next) GC_TRAVERSE(from_gc(g), visit_in_set_subtract, NULL);
    for (g = unreachable->next; g != unreachable; g = g->next) {
        if (g->gc_refs > 0 && (g->flags & FT_IN_SET)) {
            g->flags &= ~(uintptr_t)FT_IN_SET;
            gc_stack_push(&st->stack, from_gc(g));
            while (st->stack.len > 0) {
                mm_object *m = st->stack.items[--st->stack.len];
                GC_TRAVERSE(m, visit_in_set_reach, &st->stack);
            }
        }
    }
    for (g = unreachable->next; g != unreachable;) {
        gc_head *next = g->next;
        g->gc_refs = 0;
        if (g->flags & FT_IN_SET) {
            g->flags &= ~(uintptr_t)FT_IN_SET;
        } else {
            g->flags = FT_TRACKED;
            list_remove(g);
            list_append(g, &st->heap);
        }
        g = next;
    }
}

/* Weak references to the garbage read NULL before any finalizer; callbacks of
 * weakrefs that are not garbage themselves run. Returns the weakrefs freed right
 * after their callback (counted as collected, as rc+gen counts them). */
static size_t handle_weakrefs(mm_heap *h, gc_head *unreachable) {
    gc_weakref_batch b = {.garbage_flag = FT_UNREACHABLE};
    gc_clear_weakrefs(h, unreachable, &b);
    return gc_weakref_batch_run(h, &b, NULL, NULL);
}

/* tp_clear on each unreachable object, held across the call; one that survives
 * its clear goes back to the heap list. */
static void delete_garbage(mm_heap *h, ft_state *st, gc_head *unreachable) {
    while (!list_empty(unreachable)) {
        gc_head *g = unreachable->next;
        mm_object *o = from_gc(g);
        gc_clear_one(h, o);
        if (unreachable->next == g) {
            g->flags = FT_TRACKED;
            g->gc_refs = 0;
            list_remove(g);
            list_append(g, &st->heap);
        }
    }
}

/* One whole-heap collection labelled `generation` (gc_collect_internal's steps,
 * numbered in the header). */
static uint64_t collect_heap(mm_heap *h, int generation) {
    ft_state *st = state_of(h);
    mm_gc_begin(h, generation);
    if (generation + 1 < FT_GENERATIONS) st->old_count[generation] += 1;
    st->count = 0;
    for (int i = 1; i <= generation; i++) st->old_count[i - 1] = 0;

    if (st->markalive && !st->freeze_active) mark_alive(h, st);
    gc_head unreachable;
    list_init(&unreachable);
    size_t examined = deduce_unreachable(st, &unreachable);

    size_t collected = 0;
    if (!list_empty(&unreachable)) {
        collected += handle_weakrefs(h, &unreachable);
        if (gc_finalize_garbage(h, &unreachable) > 0) split_resurrected(st, &unreachable);
        collected += list_size(&unreachable);
        delete_garbage(h, st, &unreachable);
    }
    if (st->memgate) {
        st->deferred_count = 0;
        st->last_mem_kb = mem_kb(h);
    }
    mm_gc_info info = {.generation = generation, .examined = examined, .collected = collected};
    mm_gc_end(h, &info);
#if MM_DEBUG
    if (st->verify) st->verify(h, st->verify_ctx);
#endif
    return collected;
}

/* ---- hooks --------------------------------------------------------------------------- */

/* record_allocation's slow path: the flush, and the test it alone runs. */
static void flush_allocations(mm_heap *h, ft_state *st) {
    st->count += st->local;
    st->local = 0;
    if (should_collect(h, st) && !st->collecting) {
        st->collecting = true;
        collect_heap(h, 0);
        st->collecting = false;
    }
}

/* Allocation: count locally, flush every 512 (maybe collecting), then track. */
static void ft_on_new(mm_heap *h, mm_object *o) {
    if (!o->type->is_container) return;
    ft_state *st = state_of(h);
    if (MM_UNLIKELY(++st->local >= FT_LOCAL_FLUSH)) flush_allocations(h, st);
    gc_head *g = as_gc(o);
    g->flags = FT_TRACKED;
    g->gc_refs = 0;
    list_append(g, &st->heap);
}

/* Free: untrack; count locally, flush every -512 (the global count stays >= 0). */
static void ft_before_free(mm_heap *h, mm_object *o) {
    if (!o->type->is_container) return;
    ft_state *st = state_of(h);
    gc_head *g = as_gc(o);
    if (g->flags & FT_TRACKED) list_remove(g);
    g->flags = 0;
    if (MM_UNLIKELY(--st->local <= -FT_LOCAL_FLUSH)) {
        st->count += st->local;
        if (st->count < 0) st->count = 0;
        st->local = 0;
    }
}

/* gc.collect(g): always the whole heap; runs while disabled; not re-entrant. */
static uint64_t ft_collect(mm_heap *h, int generation) {
    ft_state *st = state_of(h);
    if (generation == MM_COLLECT_FULL || generation >= FT_GENERATIONS) generation = FT_GENERATIONS - 1;
    if (generation < 0 || st->collecting) return 0;
    st->collecting = true;
    uint64_t n = collect_heap(h, generation);
    st->collecting = false;
    return n;
}

static void ft_set_enabled(mm_heap *h, bool enabled) { state_of(h)->enabled = enabled; }

/* gc.freeze(): every tracked object gets the frozen bit; counts are not reset;
 * 3.14 turns the mark-alive pass off until unfreeze. */
static void ft_freeze(mm_heap *h) {
    ft_state *st = state_of(h);
    for (gc_head *g = st->heap.next; g != &st->heap; g = g->next) g->flags |= FT_FROZEN;
    list_merge(&st->heap, &st->frozen);
    st->freeze_active = true;
}

static void ft_unfreeze(mm_heap *h) {
    ft_state *st = state_of(h);
    for (gc_head *g = st->frozen.next; g != &st->frozen; g = g->next) g->flags &= ~(uintptr_t)FT_FROZEN;
    list_merge(&st->frozen, &st->heap);
    st->freeze_active = false;
}

/* ---- introspection for tests and tools ---------------------------------------------- */

void mm_ft_get_info(mm_heap *h, mm_ft_info *out) {
    ft_state *st = state_of(h);
    memset(out, 0, sizeof *out);
    out->count = st->count;
    out->local = st->local;
    out->threshold0 = st->threshold0;
    out->old_count[0] = st->old_count[0];
    out->old_count[1] = st->old_count[1];
    out->heap_size = list_size(&st->heap);
    out->frozen_size = list_size(&st->frozen);
    out->long_lived_total = st->long_lived_total;
    out->deferred_count = st->deferred_count;
    out->deferrals = st->deferrals;
    out->freeze_active = st->freeze_active;
}

void mm_ft_set_verifier(mm_heap *h, mm_ft_verify_fn fn, void *ctx) {
    ft_state *st = state_of(h);
    st->verify = fn;
    st->verify_ctx = ctx;
}

bool mm_ft_is_tracked(mm_heap *h, mm_object *o) {
    (void)h;
    if (!o->type->is_container) return false;
    uintptr_t f = as_gc(o)->flags;
    return (f & FT_TRACKED) && !(f & ~(uintptr_t)(FT_TRACKED | FT_FROZEN));
}

void mm_ft_for_each(mm_heap *h, void (*fn)(mm_object *o, void *ctx), void *ctx) {
    ft_state *st = state_of(h);
    for (gc_head *g = st->heap.next; g != &st->heap; g = g->next) fn(from_gc(g), ctx);
    for (gc_head *g = st->frozen.next; g != &st->frozen; g = g->next) fn(from_gc(g), ctx);
}

const mm_strategy mm_strategy_ft = {
    .name = "rc+ft",
    .summary = "refcounting + the free-threaded build's whole-heap collector (3.13t/3.14t, one mutator)",
    .knobs = ft_knobs,
    .preheader = sizeof(gc_head),
    .has_collector = true,
    .generations = FT_GENERATIONS,
    .pause_kinds = "full0 full1 full2",
    .check = ft_check,
    .init = ft_init,
    .fini = ft_fini,
    .on_new = ft_on_new,
    .on_zero = mm_release,
    .before_free = ft_before_free,
    .collect = ft_collect,
    .set_enabled = ft_set_enabled,
    .freeze = ft_freeze,
    .unfreeze = ft_unfreeze,
};
