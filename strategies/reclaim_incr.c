/* reclaim_incr.c — `rc+incr`: reference counting plus CPython 3.14's
 * incremental cycle collector (Python/gc.c, 3.14.0–3.14.4; 3.14.5 reverted it),
 * in two versions (knob `variant`): 3.14.0 as released, and 3.14.2, which is
 * 3.14.0 plus GH-140262 (issue GH-139951, backported as GH-140447 into 3.14.1;
 * 3.14.1–3.14.4 share its rules). GC_LINEAGE.md §3 lists both rule sets.
 *
 * Invariant: every live container is in exactly one list while it is tracked —
 * young, old[0], old[1] or permanent. One old space is `visited` (already
 * scanned in the current full pass), the other `pending`; an object's space bit
 * says which old list it is in, so flipping `visited_space` at the end of a pass
 * turns every visited object into a pending one without touching it. During an
 * increment the region being collected is its own list, every member carrying
 * GC_REGION, and only objects found unreachable inside it are cleared.
 *
 * Counts and triggers (3.14.0):
 *   - young.count += 1 on each container allocation, -= 1 on each free while
 *     > 0; heap_size counts live containers. An increment runs when young.count
 *     > young threshold (knob `young`, 3.14's threshold0 = 2000), the collector
 *     is enabled and none is running — checked before the new object is tracked
 *     (_PyObject_GC_Link counts before the type tracks the object);
 *   - work_to_do += young.count + min(heap_size / 10 / scale, young.count * 3/2)
 *     (3.14's assess_work_to_do; `scale` is 3.14's threshold1, its
 *     `scale_factor`, clamped to >= 2 as there); after the increment
 *     work_to_do += heap_size / 10 / scale and -= the region's size, so the debt
 *     or credit carries over to the next increment.
 *
 * What GH-140262 changes (variant=3.14.2), letter for letter as GC_LINEAGE.md §3:
 *   (a) counted when tracked, not when allocated: the new object is tracked
 *       first, then counted, then the trigger is tested (_PyObject_GC_TRACK), so
 *       the object that crossed the threshold is already young when the
 *       increment runs; a free un-counts only a tracked object (every object
 *       is tracked here until freed, so frees count as in 3.14.0);
 *   (b) tuples whose items cannot be tracked are never tracked: memstrat's
 *       object model has no tuple type (every container is an instance, list
 *       or dict that CPython tracks too), so this changes nothing here;
 *   (c) assess_work_to_do's cap is young.count * 2 (was * 3/2);
 *   (d) gc_collect_increment returns right after the assessment while
 *       work_to_do < 0: young.count is already zeroed, nothing moves, the
 *       observer still sees an increment (generation 1, 0 examined, 0
 *       collected: 3.14's gc.callbacks fire) but gc.get_stats() is not bumped
 *       (mm_incr_info.stats_increments counts what get_stats would);
 *   (e) no per-increment work_to_do += heap_size / 10 / scale refill.
 * Together (d) and (e) leave the young.count(+cap) credit per trigger against
 * a debit of the whole young list plus closures, so work_to_do stays negative
 * across triggers and young cyclic garbage waits several thresholds: the
 * floating garbage that the 3.14.5 revert answered.
 *
 * mm_collect(g) follows gc.collect(g) in 3.14: 0 collects the young generation
 * (survivors to visited), 1 runs one increment, 2 / MM_COLLECT_FULL one full
 * collection of everything (which also completes the pass). Observers see
 * generation 0, 1, 2 respectively, as gc.get_stats() counts them; automatic
 * collections are increments, so they are generation 1. `examined` is the
 * region's size plus the objects marked from the roots first.
 *
 * Where to start reading: collect_increment (the numbered steps).
 *
 * Mark phase (knob `mark`, on by default as in 3.14): the first increment of a
 * pass only marks — everything the program's registered roots (mm_root_push:
 * 3.14 marks from the interpreter's globals and frame stacks) reach moves to
 * visited without being partitioned (mark_at_start); every later increment
 * first marks from the roots again (mark_stacks), stopping at visited objects.
 * Marked objects cost work (work_to_do -= marked). On the mark-phase path 3.14
 * subtracts the count twice (mark_at_start, then its caller: GH-141890, in
 * 3.14.0 and still in the 3.14 branch after GH-140262), so both variants do;
 * the mark-phase increment is not counted by gc.get_stats() either. 3.14
 * skips frames marked in earlier increments; here every root is looked at
 * again (marking stops at visited objects, so that costs one look per root).
 * A root slot must hold a live object or NULL whenever an allocation can run
 * (mm_root_push's contract for tracing strategies).
 *
 * Not modelled: the untracking of tuples, legacy tp_del finalizers (`uncollectable` is 0). The
 * cycle-breaking steps (weakrefs, finalizers, resurrection, clear) follow
 * reclaim_gen.c's order (3.11's), which the suite's other tests pin down.
 *
 * Pre-header {next, prev, gc_refs, flags}: 32 bytes, as rc+gen reports.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gc_region.h"
#include "reclaim_incr.h"
#include "strategy.h"

/* CPython 3.14's threshold0: young objects between increments. */
#define INCR_YOUNG_DEFAULT "2000"
/* CPython 3.14's threshold1, used as the scan-rate scale factor. */
#define INCR_SCALE_DEFAULT "10"
/* 3.14 clamps the scale factor to at least this (a smaller one scans too fast to be incremental). */
#define INCR_SCALE_MIN 2
/* 3.14's SCAN_RATE_DIVISOR: with scale 10 an increment scans 1% of the heap. */
#define SCAN_RATE_DIVISOR 10
/* Default of `mark`: 3.14 marks from roots at the start of each pass. */
#define INCR_MARK_DEFAULT "1"
/* Default of `variant`: 3.14.0 as released (the model this strategy started as). */
#define INCR_VARIANT_DEFAULT "3.14.0"

/* Flags beside gc_region.h's GC_TRACKED and collection bits. */
enum {
    GC_YOUNG = 1u << 1,       /* in the young list */
    GC_PERMANENT = 1u << 2,   /* frozen */
    GC_SPACE = 1u << 3,       /* old objects: which old space (0 or 1) */
};


typedef struct incr_state {
    gc_head young, old[2], permanent; /* list sentinels */
    long young_count, young_threshold, scale;
    bool mark;         /* the `mark` knob: model 3.14's root marking */
    bool mark_phase;   /* the next increment is a pass's first: mark only */
    bool gh140262;     /* variant=3.14.2: GH-140262's rules (a)-(e) */
    uint64_t stats_increments, early_returns;
    size_t heap_size;
    long work_to_do;
    int visited_space;
    bool enabled, collecting;
    uint64_t passes, increments;
    long last_budget, max_overshoot;
    size_t last_young, last_examined, last_closure, last_marked, max_examined;
    gc_stack stack; /* resurrection check's work list, kept between collections */
    mm_incr_verify_fn verify;
    void *verify_ctx;
} incr_state;

static inline incr_state *state_of(mm_heap *h) { return h->strategy_data; }

/* Flags of an object that now lives in old space `space` (collection bits cleared). */
static inline uintptr_t old_flags(int space) { return GC_TRACKED | (space ? (uintptr_t)GC_SPACE : 0); }
static inline void set_old(gc_head *g, int space) { gc_region_survive(g, old_flags(space)); }

static inline int space_of(const gc_head *g) { return (g->flags & GC_SPACE) ? 1 : 0; }

/* ---- knobs ------------------------------------------------------------------- */

static const mm_knob_desc incr_knobs[] = {
    {"young", MM_KNOB_COUNT, INCR_YOUNG_DEFAULT, 0, 1000000000,
     "young threshold: an increment runs when young count > this (3.14's threshold0; 0 = no automatic collection)"},
    {"scale", MM_KNOB_COUNT, INCR_SCALE_DEFAULT, 1, 1000000000,
     "3.14's threshold1 (scale_factor): an increment scans up to heap/10/scale old objects (< 2 acts as 2)"},
    {"mark", MM_KNOB_COUNT, INCR_MARK_DEFAULT, 0, 1,
     "1: a pass starts by marking what the roots reach as visited, as 3.14 does (0: every pass partitions all)"},
    {"variant", MM_KNOB_STRING, INCR_VARIANT_DEFAULT, 0, 0,
     "3.14.0 (as released) | 3.14.2 (GH-140262, 3.14.1-3.14.4: counted when tracked, cap young*2, "
     "no increment while work_to_do < 0, no per-increment refill)"},
    MM_POLICY_KNOB,
    MM_RELEASE_PAUSE_KNOB,
    MM_IMMORTAL_KNOB,
    {0},
};

/* The CLI's early check: ranges are checked by type; the policy and the
 * variant by name. */
static bool incr_check(const mm_knobset *ks, char *err, size_t errlen) {
    const char *v = mm_knob_str(ks, "variant");
    if (strcmp(v, "3.14.0") != 0 && strcmp(v, "3.14.2") != 0) {
        snprintf(err, errlen, "rc+incr: unknown variant '%s' (3.14.0 | 3.14.2)", v);
        return false;
    }
    return mm_policy_check(ks, err, errlen);
}

static bool incr_init(mm_heap *h, const mm_knobset *ks, char *err, size_t errlen) {
    if (!incr_check(ks, err, errlen)) return false;
    incr_state *st = calloc(1, sizeof *st);
    if (st == NULL) {
        snprintf(err, errlen, "out of memory creating the collector");
        return false;
    }
    list_init(&st->young);
    list_init(&st->old[0]);
    list_init(&st->old[1]);
    list_init(&st->permanent);
    st->young_threshold = (long)mm_knob_int(ks, "young");
    st->scale = (long)mm_knob_int(ks, "scale");
    st->mark = mm_knob_int(ks, "mark") != 0;
    st->mark_phase = st->mark;
    st->gh140262 = strcmp(mm_knob_str(ks, "variant"), "3.14.2") == 0;
    st->enabled = true;
    h->strategy_data = st;
    return true;
}

/* Objects still tracked are leaks the harness counted; only our state goes. */
static void incr_fini(mm_heap *h) {
    incr_state *st = state_of(h);
    free(st->stack.items);
    free(st);
}

/* ---- increments, passes, full collections ----------------------------------------- */

/* One region collected onto old space `space` (gc_region.h's collect_region). */
static size_t collect_onto(mm_heap *h, gc_head *region, int space) {
    incr_state *st = state_of(h);
    return collect_region(h, &st->stack, region, &st->old[space], old_flags(space));
}

/* 3.14's expand_region_transitively_reachable: from `from` to the region's end,
 * every pending object a member refers to joins the region (and is scanned in
 * turn), so that a cycle is never split between the region and pending.
 * Returns how many joined. */
typedef struct expand_ctx {
    gc_head *region;
    int pending;
    size_t added;
} expand_ctx;

static inline void visit_expand(mm_object *child, void *arg) {
    if (!child->type->is_container) return;
    expand_ctx *e = arg;
    gc_head *g = as_gc(child);
    uintptr_t f = g->flags;
    if ((f & GC_TRACKED) && !(f & (GC_YOUNG | GC_PERMANENT | GC_REGION)) && space_of(g) == e->pending) {
        join_region(g);
        list_move(g, e->region);
        e->added++;
    }
}

static size_t expand_region(gc_head *region, gc_head *from, int pending) {
    expand_ctx e = {.region = region, .pending = pending};
    for (gc_head *g = from; g != region; g = g->next) {
        mm_object *o = from_gc(g);
        GC_TRAVERSE(o, visit_expand, &e);
    }
    return e.added;
}

/* 3.14's completed_scavenge: the pass is over. With nothing frozen, the spaces
 * swap roles by flipping one index (every visited object is now pending, at no
 * cost); with a permanent generation, 3.14 instead moves visited back into
 * pending, relabelling each object. The carried work resets. */
static void completed_pass(incr_state *st) {
    int visited = st->visited_space, pending = visited ^ 1;
    if (list_empty(&st->permanent)) {
        st->visited_space = pending;
    } else {
        for (gc_head *g = st->old[visited].next; g != &st->old[visited]; g = g->next) set_old(g, pending);
        list_merge(&st->old[visited], &st->old[pending]);
    }
    st->work_to_do = 0;
    st->passes++;
    st->mark_phase = st->mark;
}

/* Root marking's step: an object not yet visited (young or pending) moves to
 * visited and will be scanned; visited and frozen objects stop the walk. */
static inline void visit_mark(mm_object *child, void *arg) {
    if (!child->type->is_container) return;
    incr_state *st = arg;
    gc_head *g = as_gc(child);
    uintptr_t f = g->flags;
    if (!(f & GC_TRACKED) || (f & GC_PERMANENT)) return;
    if (!(f & GC_YOUNG) && space_of(g) == st->visited_space) return;
    set_old(g, st->visited_space);
    list_move(g, &st->old[st->visited_space]);
    gc_stack_push(&st->stack, child);
    st->last_marked++;
}

/* 3.14's mark_at_start / mark_stacks: what the program's roots reach is alive,
 * so it joins visited at the cost of one traversal instead of a partition —
 * this is what keeps a large live structure from being re-partitioned every
 * pass. Returns how many objects were marked. */
static size_t mark_from_roots(mm_heap *h) {
    incr_state *st = state_of(h);
    st->last_marked = 0;
    for (size_t i = 0; i < h->roots_len; i++) {
        mm_object *o = *h->roots[i];
        if (o == NULL) continue;
        visit_mark(o, st);
        while (st->stack.len > 0) {
            mm_object *m = st->stack.items[--st->stack.len];
            GC_TRAVERSE(m, visit_mark, st);
        }
    }
    return st->last_marked;
}

/* 3.14's assess_work_to_do: new objects plus a slice of the heap no larger than
 * 1.5× the new objects (2× after GH-140262), so a big heap cannot make
 * increments quadratic. */
static long assess_work(incr_state *st) {
    long scale = st->scale < INCR_SCALE_MIN ? INCR_SCALE_MIN : st->scale;
    long young = st->young_count;
    long slice = (long)st->heap_size / SCAN_RATE_DIVISOR / scale;
    long cap = st->gh140262 ? young * 2 : young * 3 / 2;
    if (slice > cap) slice = cap;
    st->young_count = 0;
    return young + slice;
}

/* An increment that ends before collecting (the mark phase, or 3.14.2's early
 * return): the observer sees it, gc.get_stats() would not. */
static uint64_t end_without_collecting(mm_heap *h, size_t marked) {
    incr_state *st = state_of(h);
    st->increments++;
    st->last_budget = st->work_to_do;
    st->last_young = st->last_examined = st->last_closure = 0;
    st->last_marked = marked;
    mm_gc_info info = {.generation = 1, .examined = marked};
    mm_gc_end(h, &info);
#if MM_DEBUG
    if (st->verify) st->verify(h, st->verify_ctx);
#endif
    return 0;
}

/* One increment, 3.14's gc_collect_increment:
 *   1. budget: work_to_do += assess_work (young count + capped heap slice);
 *      3.14.2: stop here while work_to_do < 0 (nothing examined);
 *      at a pass's start (mark phase) mark from the roots and stop there
 *      (work_to_do -= marked, twice, as gc.c does);
 *      otherwise mark from the roots (work_to_do -= marked) and go on;
 *   2. the region starts as all young objects (they join the visited space);
 *   3. while the region is smaller than work_to_do and pending is not empty:
 *      take pending's oldest object and expand the region by transitive closure
 *      over pending (expand_region);
 *   4. partition and clear the region (collect_region); survivors -> visited;
 *   5. work_to_do += heap/10/scale − region size (debt or credit carries over);
 *   6. pending empty: the full pass is complete, the spaces swap roles. */
static uint64_t collect_increment(mm_heap *h) {
    incr_state *st = state_of(h);
    mm_gc_begin(h, 1);
    long scale = st->scale < INCR_SCALE_MIN ? INCR_SCALE_MIN : st->scale;
    st->work_to_do += assess_work(st);
    if (st->gh140262 && st->work_to_do < 0) {
        st->early_returns++;
        return end_without_collecting(h, 0);
    }
    if (st->mark_phase) {
        size_t marked = mark_from_roots(h);
        st->work_to_do -= 2 * (long)marked; /* GH-141890: mark_at_start and its caller both subtract */
        st->mark_phase = false;
        return end_without_collecting(h, marked);
    }
    st->work_to_do -= (long)mark_from_roots(h);
    long budget = st->work_to_do;
    int visited = st->visited_space, pending = visited ^ 1;
    gc_head region;
    list_init(&region);
    size_t young = mark_region(&st->young);
    list_merge(&st->young, &region);
    size_t size = young, closure = 0;
    while ((long)size < st->work_to_do && !list_empty(&st->old[pending])) {
        gc_head *g = st->old[pending].next;
        join_region(g);
        list_move(g, &region);
        closure = expand_region(&region, g, pending);
        size += 1 + closure;
    }
    size_t collected = collect_onto(h, &region, visited);
    if (!st->gh140262) st->work_to_do += (long)st->heap_size / SCAN_RATE_DIVISOR / scale;
    st->work_to_do -= (long)size;
    st->stats_increments++;
    if (list_empty(&st->old[pending])) completed_pass(st);

    long floor = budget > (long)young ? budget : (long)young;
    st->increments++;
    st->last_budget = budget;
    st->last_young = young;
    st->last_examined = size;
    st->last_closure = closure;
    if ((long)size - floor > st->max_overshoot) st->max_overshoot = (long)size - floor;
    if (size > st->max_examined) st->max_examined = size;
    mm_gc_info info = {.generation = 1, .examined = size + st->last_marked, .collected = collected};
    mm_gc_end(h, &info);
#if MM_DEBUG
    if (st->verify) st->verify(h, st->verify_ctx);
#endif
    return collected;
}

/* gc.collect(0) in 3.14 (gc_collect_young): the young generation alone; its
 * survivors join the visited space. */
static uint64_t collect_young(mm_heap *h) {
    incr_state *st = state_of(h);
    mm_gc_begin(h, 0);
    gc_head region;
    list_init(&region);
    size_t n = mark_region(&st->young);
    list_merge(&st->young, &region);
    size_t collected = collect_onto(h, &region, st->visited_space);
    st->young_count = 0;
    mm_gc_info info = {.generation = 0, .examined = n, .collected = collected};
    mm_gc_end(h, &info);
#if MM_DEBUG
    if (st->verify) st->verify(h, st->verify_ctx);
#endif
    return collected;
}

/* gc.collect() in 3.14 (gc_collect_full): young and both old spaces form one
 * region; survivors go to visited, and the pass completes. */
static uint64_t collect_full(mm_heap *h) {
    incr_state *st = state_of(h);
    mm_gc_begin(h, 2);
    int visited = st->visited_space;
    gc_head region;
    list_init(&region);
    size_t n = mark_region(&st->young) + mark_region(&st->old[0]) + mark_region(&st->old[1]);
    list_merge(&st->young, &region);
    list_merge(&st->old[0], &region);
    list_merge(&st->old[1], &region);
    size_t collected = collect_onto(h, &region, visited);
    st->young_count = 0;
    completed_pass(st);
    mm_gc_info info = {.generation = 2, .examined = n, .collected = collected};
    mm_gc_end(h, &info);
#if MM_DEBUG
    if (st->verify) st->verify(h, st->verify_ctx);
#endif
    return collected;
}

/* ---- hooks ------------------------------------------------------------------------ */

/* The trigger: young count over the threshold, enabled, none running. */
static inline void maybe_increment(mm_heap *h, incr_state *st) {
    if (MM_UNLIKELY(st->young_count > st->young_threshold) && st->enabled && st->young_threshold &&
        !st->collecting) {
        st->collecting = true;
        collect_increment(h);
        st->collecting = false;
    }
}

static inline void track_young(incr_state *st, mm_object *o) {
    gc_head *g = as_gc(o);
    g->flags = GC_TRACKED | GC_YOUNG;
    g->gc_refs = 0;
    list_append(g, &st->young);
}

/* Allocation. 3.14.0: count, maybe run an increment (the new object not yet
 * tracked), track. 3.14.2 (GH-140262 (a)): track, count, maybe run one. */
static void incr_on_new(mm_heap *h, mm_object *o) {
    if (!o->type->is_container) return;
    incr_state *st = state_of(h);
    if (st->gh140262) track_young(st, o);
    st->young_count++;
    st->heap_size++;
    maybe_increment(h, st);
    if (!st->gh140262) track_young(st, o);
}

/* Free: untrack; undo the count while positive; the heap shrinks. */
static void incr_before_free(mm_heap *h, mm_object *o) {
    if (!o->type->is_container) return;
    incr_state *st = state_of(h);
    gc_head *g = as_gc(o);
    if (g->flags & GC_TRACKED) list_remove(g);
    g->flags = 0;
    if (st->young_count > 0) st->young_count--;
    if (st->heap_size > 0) st->heap_size--;
}

/* gc.collect(g): runs even when disabled; not re-entrant. */
static uint64_t incr_collect(mm_heap *h, int generation) {
    incr_state *st = state_of(h);
    if (st->collecting || generation < MM_COLLECT_FULL) return 0;
    st->collecting = true;
    uint64_t n = generation == 0 ? collect_young(h) : generation == 1 ? collect_increment(h) : collect_full(h);
    st->collecting = false;
    return n;
}

static void incr_set_enabled(mm_heap *h, bool enabled) { state_of(h)->enabled = enabled; }

/* gc.freeze(): everything tracked becomes permanent, never examined again. */
static void incr_freeze(mm_heap *h) {
    incr_state *st = state_of(h);
    gc_head *lists[3] = {&st->young, &st->old[0], &st->old[1]};
    for (int i = 0; i < 3; i++) {
        for (gc_head *g = lists[i]->next; g != lists[i]; g = g->next) g->flags = GC_TRACKED | GC_PERMANENT;
        list_merge(lists[i], &st->permanent);
    }
    st->young_count = 0;
}

/* gc.unfreeze(): the permanent generation joins the visited space (3.14). */
static void incr_unfreeze(mm_heap *h) {
    incr_state *st = state_of(h);
    for (gc_head *g = st->permanent.next; g != &st->permanent; g = g->next) set_old(g, st->visited_space);
    list_merge(&st->permanent, &st->old[st->visited_space]);
}

/* ---- introspection for tests and tools ------------------------------------------- */

void mm_incr_get_info(mm_heap *h, mm_incr_info *out) {
    incr_state *st = state_of(h);
    memset(out, 0, sizeof *out);
    out->young_count = st->young_count;
    out->young_threshold = st->young_threshold;
    out->scale = st->scale;
    out->young_size = list_size(&st->young);
    out->visited_size = list_size(&st->old[st->visited_space]);
    out->pending_size = list_size(&st->old[st->visited_space ^ 1]);
    out->permanent_size = list_size(&st->permanent);
    out->heap_size = st->heap_size;
    out->work_to_do = st->work_to_do;
    out->visited_space = st->visited_space;
    out->passes = st->passes;
    out->increments = st->increments;
    out->last_budget = st->last_budget;
    out->last_young = st->last_young;
    out->last_examined = st->last_examined;
    out->last_closure = st->last_closure;
    out->last_marked = st->last_marked;
    out->mark_phase = st->mark_phase;
    out->max_overshoot = st->max_overshoot;
    out->max_examined = st->max_examined;
    out->enabled = st->enabled;
    out->gh140262 = st->gh140262;
    out->stats_increments = st->stats_increments;
    out->early_returns = st->early_returns;
}

void mm_incr_set_verifier(mm_heap *h, mm_incr_verify_fn fn, void *ctx) {
    incr_state *st = state_of(h);
    st->verify = fn;
    st->verify_ctx = ctx;
}

/* Tracked, with no collection bit, in the list its flags name (poisoned freed
 * memory, 0xdb.., fails the bit test). */
bool mm_incr_is_tracked(mm_heap *h, mm_object *o) {
    (void)h;
    if (!o->type->is_container) return false;
    uintptr_t f = as_gc(o)->flags;
    return (f & GC_TRACKED) && !(f & GC_COLLECTION_BITS) && !((f & GC_YOUNG) && (f & GC_PERMANENT));
}

void mm_incr_for_each(mm_heap *h, void (*fn)(mm_object *o, void *ctx), void *ctx) {
    incr_state *st = state_of(h);
    gc_head *lists[4] = {&st->young, &st->old[0], &st->old[1], &st->permanent};
    for (int i = 0; i < 4; i++)
        for (gc_head *g = lists[i]->next; g != lists[i]; g = g->next) fn(from_gc(g), ctx);
}

intptr_t mm_incr_incoming_prepare(mm_heap *h) {
    intptr_t n = 0;
    mm_incr_for_each(h, gc_region_zero_refs, NULL);
    mm_incr_for_each(h, gc_region_count_from, &n);
    return n;
}

intptr_t mm_incr_incoming(mm_heap *h, mm_object *o) {
    (void)h;
    return as_gc(o)->gc_refs;
}

void mm_incr_incoming_finish(mm_heap *h) { mm_incr_for_each(h, gc_region_zero_refs, NULL); }

const mm_strategy mm_strategy_incr = {
    .name = "rc+incr",
    .summary = "refcounting + CPython 3.14's incremental cycle collector (young + visited/pending old spaces; variant=3.14.0|3.14.2)",
    .knobs = incr_knobs,
    .preheader = sizeof(gc_head),
    .has_collector = true,
    .generations = 3, /* reported as 0 young, 1 increment, 2 full */
    .pause_kinds = "gen0 increment gen2",
    .check = incr_check,
    .init = incr_init,
    .fini = incr_fini,
    .on_new = incr_on_new,
    .on_zero = mm_release,
    .before_free = incr_before_free,
    .collect = incr_collect,
    .set_enabled = incr_set_enabled,
    .freeze = incr_freeze,
    .unfreeze = incr_unfreeze,
};
