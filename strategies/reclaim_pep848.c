/* reclaim_pep848.c — `rc+pep848`: reference counting plus the generational
 * incremental cycle collector that PEP 848 (draft, 16-Sep-2026, target 3.16)
 * specifies, as its Specification section describes it. No interpreter ships
 * it; GC_LINEAGE.md §5 lists the rules.
 *
 * Invariant: every live container is in exactly one list while it is tracked —
 * the nursery, one of the aging spaces, the old generation's `visited` or
 * `pending` space, the `reachable` worklist or the permanent generation. An old
 * object's space bit says which old list it is in, so swapping pending and
 * visited is one index flip. A collection collects one region (gc_region.h):
 * only objects unreachable from outside the region are freed, so any region is
 * safe; the choice of regions is what the PEP specifies.
 *
 * The heap (PEP 848, "The generations"):
 *   nursery: one space, where new containers are tracked;
 *   aging: threshold1 half-spaces, rounded up to an even number, collected in
 *     pairs — so threshold1/2 spaces (5 by default), youngest first;
 *   old: pending (not yet looked at in this pass) and visited, unbounded;
 *   reachable: old objects known reachable from the roots, waiting to be scanned.
 *
 * Trigger: gross bytes of objects allocated since the last collection (every
 * object, container or not — the PEP: "programs that create lots of large
 * objects may see more frequent GCs" —, its size plus any pre-header; frees do
 * not count back), not a net object count. Side tables the layouts allocate
 * outside objects (mm_raw_alloc) are not counted: the PEP does not say which
 * allocations count, and objects are what it names. At threshold0 kB (default
 * 2000) a collection runs; automatic
 * collections alternate, the first being an old increment: so an old
 * increment when the nursery is half full and a young collection when it is
 * full (2 × threshold0 kB). The young generations hold threshold0 ×
 * (threshold1 + 2) kB of allocation: 24,000 kB by default, the PEP's bound.
 *
 * Where to start reading: old_increment and young_collection (numbered steps).
 *
 * Young collection: the oldest aging space is collected on its own (references
 * from younger spaces and old objects keep its members alive); its survivors
 * join *visited* and work_to_do += their number; the nursery becomes the
 * youngest aging space and a new nursery starts. With threshold1 = 0 there is
 * no aging space and the nursery itself is collected.
 *
 * Old increment, while work_to_do > 0:
 *   1. reachable worklist not empty: scan it (each object moves to visited;
 *      its pending referents move onto the worklist), work_to_do -= moved;
 *   2. else pending empty: the pass is over — swap pending and visited, put the
 *      roots on the worklist, work_to_do = 0, stop;
 *   3. else take pending's first object and its transitive closure within
 *      pending (so a cycle is never split), collect that region;
 *      work_to_do -= survivors, += 2 × collected; survivors join visited.
 * work_to_do starts at −100,000 (knob `debt`), so the first old increments
 * find nothing to do until young collections have promoted that many survivors.
 *
 * Choices where the PEP's pseudocode is ambiguous (it is illustrative):
 *   - scan limit: in `scan_reachable` the `limit` test sits after the loop, so
 *     as written one scan drains the whole worklist. The intent is a bounded
 *     scan; here the scan stops once it has moved `limit` (= work_to_do)
 *     objects, checked before each object, and the next increment resumes it;
 *   - the pseudocode mixes `visited`/`pending` with `visited_space`/
 *     `pending_space`; they are read as the same two old spaces;
 *   - roots: CPython restarts marking from `sys`; memstrat has no `sys`, so the
 *     program's registered roots (mm_root_push) are put on the worklist — those
 *     that are old (as `sys` always is); a root still young is promoted by the
 *     young collections like any object;
 *   - the worklist is popped last-in first-out (`reachable.pop()`);
 *   - "survivors" of an increment are its candidates minus the garbage freed
 *     from it (weakrefs freed after their callbacks are counted as collected
 *     for the statistics, as in rc+gen, but are not candidates);
 *   - every collection, automatic or explicit, restarts the gross-bytes count
 *     ("since the last collection"); explicit ones do not change the
 *     alternation; gc.collect() (full) leaves every survivor in visited, so
 *     the next increment that has work swaps the spaces and restarts marking;
 *   - an automatic old increment with work_to_do <= 0 does nothing but is a
 *     collection the observer sees (0 examined), as gc.callbacks would fire.
 *
 * mm_collect(g) follows the PEP's gc.collect(g): 0 = a young collection, 1 = one
 * old increment, 2 / MM_COLLECT_FULL = the whole heap. Observers see
 * generation 0, 1, 2 respectively.
 *
 * Not modelled: the legacy collector (`-X gc=legacy`: rc+gen's rules with the
 * byte trigger), threshold2 (ignored by the PEP), tuple untracking (no tuple
 * type here), legacy tp_del finalizers (`uncollectable` is 0), whatever the
 * reference branch (markshannon/cpython `incremental-gc`, not read) does beyond
 * the PEP's text. The cycle-breaking order is gc_region.h's (3.14's).
 *
 * Pre-header {next, prev, gc_refs, flags}: 32 bytes, as rc+gen reports.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gc_region.h"
#include "reclaim_pep848.h"
#include "strategy.h"

/* PEP 848's threshold0 default: nursery half-space / aging half-space, in kB. */
#define PEP848_THRESHOLD0_DEFAULT "2000"
/* PEP 848's threshold1 default: aging half-spaces (5 spaces). */
#define PEP848_THRESHOLD1_DEFAULT "10"
/* Most aging half-spaces accepted: 32 spaces keep the ring a small array. */
#define PEP848_THRESHOLD1_MAX 64
#define PEP848_MAX_AGING (PEP848_THRESHOLD1_MAX / 2)
/* The PEP's initial work_to_do is minus this: no old increment until this many
 * objects survived young collections (knob `debt`). */
#define PEP848_DEBT_DEFAULT "100000"
/* Bytes per kB of threshold0 (the PEP says kB; read as 1024 bytes). */
#define PEP848_KB 1024

/* Flags beside gc_region.h's GC_TRACKED and collection bits. */
enum {
    GC_YOUNG = 1u << 1,     /* nursery or an aging space */
    GC_PERMANENT = 1u << 2, /* frozen */
    GC_SPACE = 1u << 3,     /* old objects: which old space (0 or 1) */
    GC_REACH = 1u << 7,     /* on the reachable worklist */
};

typedef struct pep848_state {
    gc_head nursery, aging[PEP848_MAX_AGING], old[2], reachable, permanent; /* list sentinels */
    int aging_n;     /* aging spaces (threshold1 rounded up to even, halved) */
    int aging_first; /* ring index of the youngest aging space */
    long threshold0_kb;
    uint64_t trigger_bytes, bytes_since;
    uint64_t bytes_seen; /* the heap's bytes_allocated as of the last count (blocks caught up) */
    long work_to_do;
    bool young_next;
    int visited_space;
    bool enabled, collecting;
    uint64_t region_freed; /* region members freed during collections (survivor counts) */
    uint64_t young_collections, old_increments, passes;
    size_t last_scanned, last_closures, last_candidates, last_survivors, last_young_survivors;
    gc_stack stack; /* resurrection check's work list */
    mm_pep848_verify_fn verify;
    void *verify_ctx;
} pep848_state;

static inline pep848_state *state_of(mm_heap *h) { return h->strategy_data; }

static inline uintptr_t old_flags(int space) { return GC_TRACKED | (space ? (uintptr_t)GC_SPACE : 0); }

/* A pending object: old, in the pending space, not on the worklist, not in a region. */
static inline bool is_pending(const gc_head *g, int pending) {
    uintptr_t f = g->flags;
    return (f & GC_TRACKED) && !(f & (GC_YOUNG | GC_PERMANENT | GC_REACH | GC_COLLECTION_BITS)) &&
           ((f & GC_SPACE) ? 1 : 0) == pending;
}

/* Ring index of the i-th youngest aging space. */
static inline int aging_at(const pep848_state *st, int i) { return (st->aging_first + i) % st->aging_n; }

/* ---- knobs ------------------------------------------------------------------- */

static const mm_knob_desc pep848_knobs[] = {
    {"threshold0", MM_KNOB_COUNT, PEP848_THRESHOLD0_DEFAULT, 0, 1000000000,
     "kB of gross object allocation between collections (nursery half-space; 0 = no automatic collection)"},
    {"threshold1", MM_KNOB_COUNT, PEP848_THRESHOLD1_DEFAULT, 0, PEP848_THRESHOLD1_MAX,
     "aging half-spaces, rounded up to even (10: 5 aging spaces; 0: the nursery is collected directly)"},
    {"debt", MM_KNOB_COUNT, PEP848_DEBT_DEFAULT, 0, 1000000000,
     "work_to_do starts at minus this (the PEP's -100,000): young survivors to promote before old increments work"},
    MM_POLICY_KNOB,
    MM_RELEASE_PAUSE_KNOB,
    MM_IMMORTAL_KNOB,
    {0},
};

static bool pep848_check(const mm_knobset *ks, char *err, size_t errlen) { return mm_policy_check(ks, err, errlen); }

static bool pep848_init(mm_heap *h, const mm_knobset *ks, char *err, size_t errlen) {
    if (!pep848_check(ks, err, errlen)) return false;
    pep848_state *st = calloc(1, sizeof *st);
    if (st == NULL) {
        snprintf(err, errlen, "out of memory creating the collector");
        return false;
    }
    list_init(&st->nursery);
    for (int i = 0; i < PEP848_MAX_AGING; i++) list_init(&st->aging[i]);
    list_init(&st->old[0]);
    list_init(&st->old[1]);
    list_init(&st->reachable);
    list_init(&st->permanent);
    long t1 = (long)mm_knob_int(ks, "threshold1");
    st->aging_n = (int)((t1 + 1) / 2); /* half-spaces rounded up to even, in pairs */
    st->threshold0_kb = (long)mm_knob_int(ks, "threshold0");
    st->trigger_bytes = (uint64_t)st->threshold0_kb * PEP848_KB;
    st->work_to_do = -(long)mm_knob_int(ks, "debt");
    st->enabled = true;
    h->strategy_data = st;
    return true;
}

/* Objects still tracked are leaks the harness counted; only our state goes. */
static void pep848_fini(mm_heap *h) {
    pep848_state *st = state_of(h);
    free(st->stack.items);
    free(st);
}

/* ---- regions ------------------------------------------------------------------- */

/* Collects `region` onto visited; returns the survivors (candidates minus the
 * region's garbage) and adds the objects collected to *collected. */
static size_t collect_onto_visited(mm_heap *h, gc_head *region, size_t candidates, uint64_t *collected) {
    pep848_state *st = state_of(h);
    uint64_t freed0 = st->region_freed;
    *collected += collect_region(h, &st->stack, region, &st->old[st->visited_space], old_flags(st->visited_space));
    return candidates - (size_t)(st->region_freed - freed0);
}

/* The closure's visitor: a pending referent joins the region (and is scanned in turn). */
typedef struct closure_ctx {
    gc_head *region;
    int pending;
    size_t added;
} closure_ctx;

static inline void visit_closure(mm_object *child, void *arg) {
    if (!child->type->is_container) return;
    closure_ctx *c = arg;
    gc_head *g = as_gc(child);
    if (is_pending(g, c->pending)) {
        join_region(g);
        list_move(g, c->region);
        c->added++;
    }
}

/* form_transitive_closure(obj, pending): obj and everything it reaches
 * through pending objects, so a cycle is wholly inside or wholly outside.
 * Returns the region's size. */
static size_t form_closure(gc_head *first, gc_head *region, int pending) {
    join_region(first);
    list_move(first, region);
    closure_ctx c = {.region = region, .pending = pending, .added = 1};
    for (gc_head *g = first; g != region; g = g->next) {
        mm_object *o = from_gc(g);
        GC_TRAVERSE(o, visit_closure, &c);
    }
    return c.added;
}

/* ---- the reachable worklist ---------------------------------------------------- */

/* scan_reachable's visitor: a pending referent of a reachable object is reachable. */
static inline void visit_scan(mm_object *child, void *arg) {
    if (!child->type->is_container) return;
    pep848_state *st = arg;
    gc_head *g = as_gc(child);
    if (is_pending(g, st->visited_space ^ 1)) {
        g->flags = GC_TRACKED | GC_REACH;
        list_move(g, &st->reachable);
    }
}

/* scan_reachable(limit), bounded (see the header): moves objects from the
 * worklist to visited, pulling their pending referents onto it, until `limit`
 * moved or the worklist is empty. Returns how many moved. */
static size_t scan_reachable(pep848_state *st, long limit) {
    size_t moved = 0;
    while (!list_empty(&st->reachable) && (long)moved < limit) {
        gc_head *g = st->reachable.prev; /* reachable.pop(): the last one */
        gc_region_survive(g, old_flags(st->visited_space));
        list_move(g, &st->old[st->visited_space]);
        moved++;
        mm_object *o = from_gc(g);
        GC_TRAVERSE(o, visit_scan, st);
    }
    return moved;
}

/* The pass is over: pending (empty) and visited swap; marking restarts from
 * the roots that are old (all old objects are pending now). */
static void restart_pass(mm_heap *h) {
    pep848_state *st = state_of(h);
    st->visited_space ^= 1;
    int pending = st->visited_space ^ 1;
    for (size_t i = 0; i < h->roots_len; i++) {
        mm_object *o = *h->roots[i];
        if (o == NULL || !o->type->is_container) continue;
        gc_head *g = as_gc(o);
        if (!is_pending(g, pending)) continue;
        g->flags = GC_TRACKED | GC_REACH;
        list_move(g, &st->reachable);
    }
    st->work_to_do = 0;
    st->passes++;
}

/* ---- collections ------------------------------------------------------------------ */

static inline void after_collection(mm_heap *h, const mm_gc_info *info) {
    pep848_state *st = state_of(h);
    st->bytes_since = 0;
    mm_gc_end(h, info);
#if MM_DEBUG
    if (st->verify) st->verify(h, st->verify_ctx);
#endif
}

/* One old increment, the PEP's old_collection (steps 1-3 of the header). */
static uint64_t old_increment(mm_heap *h) {
    pep848_state *st = state_of(h);
    mm_gc_begin(h, 1);
    uint64_t collected = 0;
    size_t scanned = 0, closures = 0, candidates = 0, survivors = 0;
    while (st->work_to_do > 0) {
        /* 1. scan what the roots reach, within the budget */
        if (!list_empty(&st->reachable)) {
            size_t moved = scan_reachable(st, st->work_to_do);
            st->work_to_do -= (long)moved;
            scanned += moved;
            continue;
        }
        int pending = st->visited_space ^ 1;
        /* 2. nothing pending: the pass is over */
        if (list_empty(&st->old[pending])) {
            restart_pass(h);
            break;
        }
        /* 3. the first pending object's closure is the region */
        gc_head region;
        list_init(&region);
        size_t n = form_closure(st->old[pending].next, &region, pending);
        size_t s = collect_onto_visited(h, &region, n, &collected);
        st->work_to_do -= (long)s;
        st->work_to_do += 2 * (long)(n - s); /* much garbage: sweep faster */
        closures++;
        candidates += n;
        survivors += s;
    }
    st->old_increments++;
    st->last_scanned = scanned;
    st->last_closures = closures;
    st->last_candidates = candidates;
    st->last_survivors = survivors;
    mm_gc_info info = {.generation = 1, .examined = scanned + candidates, .collected = collected};
    after_collection(h, &info);
    return collected;
}

/* The PEP's young_collection:
 *   1. the oldest aging space (the nursery when there is none) is the region;
 *   2. collect it; survivors join visited, work_to_do += survivors;
 *   3. the nursery becomes the youngest aging space; a new nursery starts. */
static uint64_t young_collection(mm_heap *h) {
    pep848_state *st = state_of(h);
    mm_gc_begin(h, 0);
    int oldest = st->aging_n ? aging_at(st, st->aging_n - 1) : -1;
    gc_head *src = oldest >= 0 ? &st->aging[oldest] : &st->nursery;
    gc_head region;
    list_init(&region);
    size_t n = mark_region(src);
    list_merge(src, &region);
    uint64_t collected = 0;
    size_t s = collect_onto_visited(h, &region, n, &collected);
    st->work_to_do += (long)s;
    if (oldest >= 0) {
        list_merge(&st->nursery, &st->aging[oldest]); /* flags stay GC_YOUNG */
        st->aging_first = oldest;
    }
    st->young_collections++;
    st->last_young_survivors = s;
    mm_gc_info info = {.generation = 0, .examined = n, .collected = collected};
    after_collection(h, &info);
    return collected;
}

/* gc.collect(): every space is one region; survivors to visited. */
static uint64_t full_collection(mm_heap *h) {
    pep848_state *st = state_of(h);
    mm_gc_begin(h, 2);
    gc_head region;
    list_init(&region);
    size_t n = mark_region(&st->nursery);
    list_merge(&st->nursery, &region);
    for (int i = 0; i < st->aging_n; i++) {
        n += mark_region(&st->aging[i]);
        list_merge(&st->aging[i], &region);
    }
    gc_head *rest[3] = {&st->old[0], &st->old[1], &st->reachable};
    for (int i = 0; i < 3; i++) {
        n += mark_region(rest[i]);
        list_merge(rest[i], &region);
    }
    uint64_t collected = 0;
    collect_onto_visited(h, &region, n, &collected);
    mm_gc_info info = {.generation = 2, .examined = n, .collected = collected};
    after_collection(h, &info);
    return collected;
}

/* The PEP's collect(): young and old alternate, an old increment first. */
static void auto_collect(mm_heap *h) {
    pep848_state *st = state_of(h);
    st->collecting = true;
    if (st->young_next)
        young_collection(h);
    else
        old_increment(h);
    st->young_next = !st->young_next;
    st->collecting = false;
}

/* ---- hooks ------------------------------------------------------------------------ */

/* Allocation: a container is tracked in the nursery; every object's bytes
 * count, and blocks allocated apart since the last object (mm_block_alloc: the
 * `shared` layout's 3.11/3.12 values, counted one allocation late); at
 * threshold0 kB a collection runs. */
static void pep848_on_new(mm_heap *h, mm_object *o) {
    pep848_state *st = state_of(h);
    if (o->type->is_container) {
        gc_head *g = as_gc(o);
        g->flags = GC_TRACKED | GC_YOUNG;
        g->gc_refs = 0;
        list_append(g, &st->nursery);
    }
    const uint64_t size = mm_sizeof(o) + mm_preheader_of(h, o->type);
    st->bytes_since += h->stats.bytes_allocated - st->bytes_seen + size; /* mm_new adds o after on_new */
    st->bytes_seen = h->stats.bytes_allocated + size;
    if (MM_UNLIKELY(st->bytes_since >= st->trigger_bytes) && st->trigger_bytes && st->enabled && !st->collecting)
        auto_collect(h);
}

/* Free: untrack; a region member freed inside a collection is its garbage. */
static void pep848_before_free(mm_heap *h, mm_object *o) {
    if (!o->type->is_container) return;
    pep848_state *st = state_of(h);
    gc_head *g = as_gc(o);
    if (g->flags & GC_TRACKED) list_remove(g);
    if (g->flags & GC_COLLECTION_BITS) st->region_freed++;
    g->flags = 0;
}

/* gc.collect(g): runs even when disabled; not re-entrant. */
static uint64_t pep848_collect(mm_heap *h, int generation) {
    pep848_state *st = state_of(h);
    if (st->collecting || generation < MM_COLLECT_FULL) return 0;
    st->collecting = true;
    uint64_t n = generation == 0 ? young_collection(h) : generation == 1 ? old_increment(h) : full_collection(h);
    st->collecting = false;
    return n;
}

static void pep848_set_enabled(mm_heap *h, bool enabled) { state_of(h)->enabled = enabled; }

/* Calls fn on each list the collector keeps (the permanent one too when asked). */
static void for_each_list(pep848_state *st, bool permanent, void (*fn)(gc_head *l, void *ctx), void *ctx) {
    fn(&st->nursery, ctx);
    for (int i = 0; i < st->aging_n; i++) fn(&st->aging[i], ctx);
    fn(&st->old[0], ctx);
    fn(&st->old[1], ctx);
    fn(&st->reachable, ctx);
    if (permanent) fn(&st->permanent, ctx);
}

static void freeze_list(gc_head *l, void *ctx) {
    for (gc_head *g = l->next; g != l; g = g->next) g->flags = GC_TRACKED | GC_PERMANENT;
    list_merge(l, ctx);
}

/* gc.freeze(): everything tracked becomes permanent, never examined again. */
static void pep848_freeze(mm_heap *h) {
    pep848_state *st = state_of(h);
    for_each_list(st, false, freeze_list, &st->permanent);
}

/* gc.unfreeze(): the permanent generation joins visited. */
static void pep848_unfreeze(mm_heap *h) {
    pep848_state *st = state_of(h);
    for (gc_head *g = st->permanent.next; g != &st->permanent; g = g->next)
        gc_region_survive(g, old_flags(st->visited_space));
    list_merge(&st->permanent, &st->old[st->visited_space]);
}

/* ---- introspection for tests and tools ------------------------------------------- */

void mm_pep848_get_info(mm_heap *h, mm_pep848_info *out) {
    pep848_state *st = state_of(h);
    memset(out, 0, sizeof *out);
    out->threshold0_kb = st->threshold0_kb;
    out->aging_spaces = st->aging_n;
    out->nursery_size = list_size(&st->nursery);
    for (int i = 0; i < st->aging_n; i++) {
        size_t n = list_size(&st->aging[aging_at(st, i)]);
        out->aging_size += n;
        if (i < 16) out->aging_sizes[i] = n;
    }
    out->visited_size = list_size(&st->old[st->visited_space]);
    out->pending_size = list_size(&st->old[st->visited_space ^ 1]);
    out->reachable_size = list_size(&st->reachable);
    out->permanent_size = list_size(&st->permanent);
    out->bytes_since = st->bytes_since;
    out->work_to_do = st->work_to_do;
    out->young_next = st->young_next;
    out->visited_space = st->visited_space;
    out->young_collections = st->young_collections;
    out->old_increments = st->old_increments;
    out->passes = st->passes;
    out->last_scanned = st->last_scanned;
    out->last_closures = st->last_closures;
    out->last_candidates = st->last_candidates;
    out->last_survivors = st->last_survivors;
    out->last_young_survivors = st->last_young_survivors;
    out->enabled = st->enabled;
}

void mm_pep848_set_verifier(mm_heap *h, mm_pep848_verify_fn fn, void *ctx) {
    pep848_state *st = state_of(h);
    st->verify = fn;
    st->verify_ctx = ctx;
}

/* Tracked, with no collection bit (poisoned freed memory, 0xdb.., fails the bit test). */
bool mm_pep848_is_tracked(mm_heap *h, mm_object *o) {
    (void)h;
    if (!o->type->is_container) return false;
    uintptr_t f = as_gc(o)->flags;
    return (f & GC_TRACKED) && !(f & GC_COLLECTION_BITS) && !((f & GC_YOUNG) && (f & (GC_PERMANENT | GC_REACH)));
}

typedef struct each_ctx {
    void (*fn)(mm_object *o, void *ctx);
    void *ctx;
} each_ctx;

static void each_in_list(gc_head *l, void *arg) {
    each_ctx *e = arg;
    for (gc_head *g = l->next; g != l; g = g->next) e->fn(from_gc(g), e->ctx);
}

void mm_pep848_for_each(mm_heap *h, void (*fn)(mm_object *o, void *ctx), void *ctx) {
    each_ctx e = {fn, ctx};
    for_each_list(state_of(h), true, each_in_list, &e);
}

intptr_t mm_pep848_incoming_prepare(mm_heap *h) {
    intptr_t n = 0;
    mm_pep848_for_each(h, gc_region_zero_refs, NULL);
    mm_pep848_for_each(h, gc_region_count_from, &n);
    return n;
}

intptr_t mm_pep848_incoming(mm_heap *h, mm_object *o) {
    (void)h;
    return as_gc(o)->gc_refs;
}

void mm_pep848_incoming_finish(mm_heap *h) { mm_pep848_for_each(h, gc_region_zero_refs, NULL); }

const mm_strategy mm_strategy_pep848 = {
    .name = "rc+pep848",
    .summary = "refcounting + PEP 848's generational incremental collector (nursery, aging spaces, pending/visited "
               "old spaces, gross-bytes trigger)",
    .knobs = pep848_knobs,
    .preheader = sizeof(gc_head),
    .has_collector = true,
    .generations = 3, /* reported as 0 young, 1 old increment, 2 full */
    .pause_kinds = "young increment gen2",
    .check = pep848_check,
    .init = pep848_init,
    .fini = pep848_fini,
    .on_new = pep848_on_new,
    .on_zero = mm_release,
    .before_free = pep848_before_free,
    .collect = pep848_collect,
    .set_enabled = pep848_set_enabled,
    .freeze = pep848_freeze,
    .unfreeze = pep848_unfreeze,
};
