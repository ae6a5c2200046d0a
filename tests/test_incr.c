/* test_incr.c — `rc+incr`: CPython 3.14.0's trigger and budget rules, cycles
 * collected by increments within two full passes, finalizers once and weakrefs
 * cleared when an increment (not a full collection) finds the garbage, bounded
 * increment work, and a property test over random graph operations.
 *
 * Work bound: each increment's region is at most max(budget, young objects)
 * plus the closure of the last pending object it took (3.14 checks the budget
 * before taking an object, never inside the closure). An observer checks this
 * after every increment; the largest overshoot and region are printed.
 *
 * Property test: as test_gen.c's, with random increments, young collections and
 * full collections (half the seeds register the holds as roots, so root marking
 * runs): after every collection refcounts equal incoming references
 * from tracked objects plus the program's holds, every referent of a tracked
 * object is tracked, live == tracked; after every full collection the live set
 * is exactly what the holds reach; at the end nothing is alive.
 */
#include <stdlib.h>
#include <string.h>

#include "graph_property.h"
#include "mm.h"
#include "reclaim_incr.h"

/* 3.14's default young threshold. */
#define YOUNG_DEFAULT 2000

static mm_heap *incr_heap(const char *knobs) { return test_heap("rc+incr", knobs); }

static mm_object *node(mm_heap *h, size_t k) { return mm_new(h, &pnode_type, k); }

/* Observer: every increment's region is within its budget plus the last closure. */
typedef struct bound_ctx {
    mm_heap *h;
    long increments, violations;
} bound_ctx;

static void check_bound(mm_gc_phase phase, const mm_gc_info *info, void *arg) {
    bound_ctx *b = arg;
    if (phase != MM_GC_STOP || info->generation != 1) return;
    mm_incr_info ii;
    mm_incr_get_info(b->h, &ii);
    long floor = ii.last_budget > (long)ii.last_young ? ii.last_budget : (long)ii.last_young;
    b->increments++;
    if (info->examined != ii.last_examined + ii.last_marked || (long)ii.last_examined > floor + (long)ii.last_closure) b->violations++;
}

/* 3.14: young count > threshold0 (strict), checked before tracking the new
 * object. Without root marking (mark=0) the first increment collects at once. */
static void test_trigger(void) {
    mm_heap *h = incr_heap("mark=0");
    mm_object *keep[YOUNG_DEFAULT + 1];
    mm_stats s;
    for (int i = 0; i < YOUNG_DEFAULT; i++) keep[i] = node(h, 0);
    mm_get_stats(h, &s);
    CHECK(s.collections[1] == 0, "2000 allocations must not collect");
    keep[YOUNG_DEFAULT] = node(h, 0);
    mm_get_stats(h, &s);
    mm_incr_info ii;
    mm_incr_get_info(h, &ii);
    CHECK(s.collections[1] == 1 && s.collections[0] == 0 && s.collections[2] == 0,
          "the 2001st allocation runs one increment, reported as generation 1");
    /* budget: young 2001 + min(2001/10/10, 2001*3/2) = 2001 + 20 */
    CHECK(ii.last_budget == 2021 && ii.last_examined == 2000, "budget %ld (2021), region %zu (2000)", ii.last_budget,
          ii.last_examined);
    /* pending was empty: the pass completed and the spaces flipped; survivors are pending now */
    CHECK(ii.passes == 1 && ii.visited_space == 1 && ii.pending_size == 2000 && ii.young_size == 1,
          "pass done: %llu passes, space %d, pending %zu, young %zu", (unsigned long long)ii.passes, ii.visited_space,
          ii.pending_size, ii.young_size);
    CHECK(ii.work_to_do == 0, "work_to_do resets when a pass completes (%ld)", ii.work_to_do);
    for (int i = 0; i <= YOUNG_DEFAULT; i++) mm_decref(h, keep[i]);
    CHECK(live(h) == 0, "all freed");
    mm_incr_get_info(h, &ii);
    CHECK(ii.heap_size == 0 && ii.young_count == 0, "counts undone on free (%zu, %ld)", ii.heap_size, ii.young_count);
    mm_heap_free(h);

    /* with root marking (the default), a pass's first increment only marks:
     * what the roots reach joins visited; the rest stays where it was */
    h = incr_heap(NULL);
    mm_object *rooted = node(h, 1), *child = node(h, 0), *loose = node(h, 0);
    link_slot(h, rooted, 0, child);
    mm_decref(h, child);
    mm_root_push(h, &rooted);
    mm_collect(h, 1);
    mm_incr_get_info(h, &ii);
    CHECK(ii.last_marked == 2 && ii.visited_size == 2 && ii.young_size == 1 && !ii.mark_phase,
          "mark phase: %zu marked, %zu visited, %zu young", ii.last_marked, ii.visited_size, ii.young_size);
    mm_collect(h, 1);
    mm_incr_get_info(h, &ii);
    CHECK(ii.last_examined == 1 && ii.passes == 1 && ii.mark_phase,
          "then an increment collects the young one and completes the pass (%zu, %llu)", ii.last_examined,
          (unsigned long long)ii.passes);
    mm_root_pop(h, 1);
    mm_decref(h, rooted);
    mm_decref(h, loose);
    CHECK(live(h) == 0, "all freed");
    mm_heap_free(h);

    char err[200];
    CHECK(mm_heap_new_named("rc+incr", "system", "slots", "scale=0", err, sizeof err) == NULL && strstr(err, "scale"),
          "scale=0 refused: %s", err);
    CHECK(mm_heap_new_named("rc+incr", "system", "slots", "policy=sometimes", err, sizeof err) == NULL,
          "bad policy refused: %s", err);
}

/* gc.collect(): a full collection takes everything at once. */
static void test_full(void) {
    mm_heap *h = incr_heap(NULL);
    mm_object *a = cycle3_tail(h, node);
    CHECK(mm_collect(h, 1) == 0 && live(h) == 4, "a held cycle survives an increment");
    mm_decref(h, a);
    uint64_t n = mm_collect(h, MM_COLLECT_FULL);
    CHECK(n == 4 && live(h) == 0, "full collection: cycle and tail (%llu, %llu left)", (unsigned long long)n,
          (unsigned long long)live(h));
    mm_stats s;
    mm_get_stats(h, &s);
    CHECK(s.collections[2] == 1 && s.collected_by_gen[2] == 4, "reported as generation 2");
    /* gc.collect(0): the young generation only */
    mm_object *x = node(h, 1);
    link_slot(h, x, 0, x);
    mm_decref(h, x);
    CHECK(mm_collect(h, 0) == 1 && live(h) == 0, "young collection frees a young self-cycle");
    mm_heap_free(h);
}

/* Garbage cycles that reached the old spaces are collected by increments alone,
 * within two full passes (a cycle split between visited and pending waits for
 * the flip); a young cycle goes in the next increment. */
static void test_increments(void) {
    enum { LIVE = 20000, CYCLES = 3000 };
    mm_heap *h = incr_heap("young=500");
    bound_ctx b = {.h = h};
    mm_set_observer(h, check_bound, &b);
    mm_object **keep = malloc(LIVE * sizeof *keep);
    for (int i = 0; i < LIVE; i++) {
        keep[i] = node(h, 1);
        if (i) link_slot(h, keep[i], 0, keep[i - 1]);
    }
    mm_object **cyc = malloc(CYCLES * sizeof *cyc);
    for (int i = 0; i < CYCLES; i++) {
        mm_object *p = mm_new(h, &fnode_type, 0), *q = mm_new(h, &fnode_type, 0);
        mm_store(h, p, &mm_slots(p)[0], mm_ref(q));
        mm_store(h, q, &mm_slots(q)[0], mm_ref(p));
        mm_decref(h, q);
        cyc[i] = p;
    }
    mm_object *wr = mm_weakref_new(h, cyc[0], NULL, NULL);
    for (int k = 0; k < 5; k++) mm_collect(h, 1); /* the cycles leave the young generation */
    mm_incr_info ii;
    mm_incr_get_info(h, &ii);
    CHECK(ii.young_size == 0, "increments moved young objects to the old spaces (%zu young)", ii.young_size);
    fnode_finalized = 0;
    for (int i = 0; i < CYCLES; i++) mm_decref(h, cyc[i]);
    CHECK(live(h) == LIVE + 2 * CYCLES + 1, "old garbage cycles wait for the collector");
    uint64_t start = ii.passes;
    long steps = 0;
    while (live(h) > LIVE + 1 && steps < 100000) {
        mm_collect(h, 1);
        steps++;
        mm_incr_get_info(h, &ii);
        if (ii.passes >= start + 2) break;
    }
    mm_incr_get_info(h, &ii);
    CHECK(live(h) == LIVE + 1, "increments alone collect every old cycle within two passes (%llu live, %llu passes)",
          (unsigned long long)live(h), (unsigned long long)(ii.passes - start));
    CHECK(fnode_finalized == 2 * CYCLES, "each finalizer once (%d of %d)", fnode_finalized, 2 * CYCLES);
    CHECK(mm_weakref_get(wr) == NULL, "the weakref to collected garbage reads empty");
    printf("old cycles: %ld increments, %llu passes to collect %d cycles among %d live\n", steps,
           (unsigned long long)(ii.passes - start), CYCLES, LIVE);
    mm_decref(h, wr);

    /* a young cycle: the next increment */
    mm_object *x = node(h, 1);
    link_slot(h, x, 0, x);
    mm_decref(h, x);
    mm_collect(h, 1);
    CHECK(live(h) == (uint64_t)LIVE, "a young cycle goes in the next increment");
    CHECK(mm_collect(h, MM_COLLECT_FULL) == 0, "nothing left for a full collection");
    /* automatic increments while allocating: bounded regions */
    for (int r = 0; r < 20000; r++) {
        mm_object *y = node(h, 1);
        link_slot(h, y, 0, keep[r % LIVE]);
        link_slot(h, keep[r % LIVE], 0, y); /* cycles through the live chain: closures grow */
        mm_decref(h, y);
    }
    mm_incr_get_info(h, &ii);
    CHECK(b.violations == 0 && b.increments > 10, "%ld of %ld increments over budget + closure", b.violations,
          b.increments);
    printf("work: %ld increments, max region %zu, max overshoot past the budget %ld\n", b.increments,
           ii.max_examined, ii.max_overshoot);
    for (int i = 0; i < LIVE; i++) mm_decref(h, keep[i]);
    mm_collect(h, MM_COLLECT_FULL);
    CHECK(live(h) == 0, "all freed at the end (%llu)", (unsigned long long)live(h));
    free(keep);
    free(cyc);
    mm_heap_free(h);
}

/* freeze: nothing frozen is examined; completing a pass with a permanent
 * generation relabels visited as pending instead of flipping (3.14). */
static void test_freeze(void) {
    mm_heap *h = incr_heap(NULL);
    garbage_pair(h, node);
    mm_freeze(h);
    mm_incr_info ii;
    mm_incr_get_info(h, &ii);
    CHECK(ii.permanent_size == 2, "frozen: %zu permanent", ii.permanent_size);
    CHECK(mm_collect(h, MM_COLLECT_FULL) == 0 && live(h) == 2, "the permanent generation is never collected");
    mm_incr_get_info(h, &ii);
    CHECK(ii.visited_space == 0, "with a permanent generation the pass does not flip");
    mm_unfreeze(h);
    CHECK(mm_collect(h, MM_COLLECT_FULL) == 2 && live(h) == 0, "after unfreeze the cycle goes");
    mm_heap_free(h);
}

/* 3.14.0 vs 3.14.2 (GH-140262): they differ exactly in (a) the order of
 * tracking and counting, (c) the assessment's cap, (d) the early return while
 * work_to_do < 0 and (e) the per-increment refill; the mark phase subtracts
 * its count twice in both (GH-141890). */
static void test_variants(void) {
    mm_incr_info ii;
    /* (a) 3.14.0 counts before tracking: the 2001st object is not in the region;
     * 3.14.2 tracks first: it is */
    for (int v = 0; v < 2; v++) {
        mm_heap *h = incr_heap(v ? "mark=0/variant=3.14.2" : "mark=0/variant=3.14.0");
        mm_object *keep[YOUNG_DEFAULT + 1];
        for (int i = 0; i <= YOUNG_DEFAULT; i++) keep[i] = node(h, 0);
        mm_incr_get_info(h, &ii);
        CHECK(ii.gh140262 == (v == 1), "variant read");
        CHECK(ii.last_examined == (size_t)(v ? 2001 : 2000) && ii.young_size == (size_t)(v ? 0 : 1),
              "%s: region %zu, young after %zu", v ? "3.14.2" : "3.14.0", ii.last_examined, ii.young_size);
        CHECK(ii.stats_increments == 1 && ii.early_returns == 0, "one increment get_stats counts");
        for (int i = 0; i <= YOUNG_DEFAULT; i++) mm_decref(h, keep[i]);
        mm_heap_free(h);
    }
    /* (c), (e), (d): two chains of 1000 reach pending; a young increment takes
     * chain A whole (closure) and leaves B pending, so work_to_do goes negative */
    enum { CHAIN = 1000, FEW = 10 };
    for (int v = 0; v < 2; v++) {
        mm_heap *h = incr_heap(v ? "mark=0/young=1000000/variant=3.14.2" : "mark=0/young=1000000");
        mm_object **a = malloc(2 * CHAIN * sizeof *a);
        for (int i = 0; i < 2 * CHAIN; i++) a[i] = node(h, 1);
        for (int i = 0; i < 2 * CHAIN; i++)
            if (i % CHAIN != CHAIN - 1) link_slot(h, a[i], 0, a[i + 1]);
        mm_collect(h, 0); /* young -> visited */
        mm_collect(h, 1); /* empty region, pass completes: both chains pending */
        mm_incr_get_info(h, &ii);
        CHECK(ii.pending_size == 2 * CHAIN && ii.work_to_do == 0, "chains pending (%zu)", ii.pending_size);
        mm_object *few[FEW];
        for (int i = 0; i < FEW; i++) few[i] = node(h, 1);
        link_slot(h, few[0], 0, few[0]);
        mm_decref(h, few[0]); /* a young self-cycle */
        mm_collect(h, 1);
        mm_incr_get_info(h, &ii);
        /* young 10 + min(2010/10/10 = 20, cap): cap 15 (3.14.0) or 20 (3.14.2) */
        CHECK(ii.last_budget == (v ? 30 : 25), "(c) budget %ld", ii.last_budget);
        CHECK(ii.last_examined == FEW + CHAIN && ii.pending_size == CHAIN, "chain A taken whole (%zu, %zu)",
              ii.last_examined, ii.pending_size);
        /* (e): 3.14.0 adds heap/100 = 2009/100 = 20 after the increment */
        CHECK(ii.work_to_do == (v ? 30 - 1010 : 25 + 20 - 1010), "(e) work_to_do %ld", ii.work_to_do);
        CHECK(live(h) == 2 * CHAIN + FEW - 1, "the young self-cycle went");
        mm_object *z = node(h, 1);
        link_slot(h, z, 0, z);
        mm_decref(h, z);
        mm_stats before, after;
        mm_get_stats(h, &before);
        mm_collect(h, 1);
        mm_get_stats(h, &after);
        mm_incr_get_info(h, &ii);
        CHECK(after.collections[1] == before.collections[1] + 1, "the observer sees the increment either way");
        if (v) {
            CHECK(ii.early_returns == 1 && ii.stats_increments == 2 && live(h) == 2 * CHAIN + FEW,
                  "(d) 3.14.2: work_to_do %ld < 0: no collection, the young cycle waits (%llu live)",
                  ii.work_to_do, (unsigned long long)live(h));
            CHECK(ii.young_count == 0 && ii.young_size == 1, "(d) young.count zeroed, young list kept");
        } else {
            CHECK(ii.early_returns == 0 && ii.stats_increments == 3 && live(h) == 2 * CHAIN + FEW - 1,
                  "3.14.0 collects the young cycle though work_to_do is negative (%ld)", ii.work_to_do);
        }
        for (int i = 1; i < FEW; i++) mm_decref(h, few[i]);
        for (int i = 0; i < 2 * CHAIN; i++) mm_decref(h, a[i]);
        mm_collect(h, MM_COLLECT_FULL);
        CHECK(live(h) == 0, "all freed");
        free(a);
        mm_heap_free(h);
    }
    /* the mark phase subtracts twice, and get_stats does not count it */
    for (int v = 0; v < 2; v++) {
        mm_heap *h = incr_heap(v ? "variant=3.14.2" : NULL);
        mm_object *rooted = node(h, 1), *child = node(h, 0);
        link_slot(h, rooted, 0, child);
        mm_decref(h, child);
        mm_root_push(h, &rooted);
        mm_collect(h, 1);
        mm_incr_get_info(h, &ii);
        /* young 2 + min(0, ...) = 2; marked 2, subtracted twice */
        CHECK(ii.last_marked == 2 && ii.work_to_do == 2 - 4 && ii.stats_increments == 0,
              "mark phase: %zu marked, work_to_do %ld", ii.last_marked, ii.work_to_do);
        mm_root_pop(h, 1);
        mm_decref(h, rooted);
        mm_heap_free(h);
    }
    char err[200];
    CHECK(mm_heap_new_named("rc+incr", "system", "slots", "variant=3.14.1", err, sizeof err) == NULL &&
              strstr(err, "variant"),
          "an unknown variant is refused: %s", err);
}

/* ---- property test (the harness: graph_property.h) ------------------------------ */


/* newborn_ok: 3.14.2 tracks before the trigger, so a collection inside node() may
 * see the new object tracked with only the caller's reference, not yet counted live. */
static const gp_gc incr_gc = {.is_tracked = mm_incr_is_tracked, .for_each = mm_incr_for_each,
                              .incoming_prepare = mm_incr_incoming_prepare, .incoming = mm_incr_incoming,
                              .incoming_finish = mm_incr_incoming_finish, .newborn_ok = true};

static void property_seed(uint64_t seed, long ops, const char *knobs) {
    mm_heap *h = incr_heap(knobs);
    gp_world *w = gp_world_new(&incr_gc, node);
    bound_ctx b = {.h = h};
    mm_set_observer(h, check_bound, &b);
    gp_seed(seed);
    bool rooted = seed % 2 == 0; /* half the seeds register the holds: root marking runs */
    if (rooted) gp_root_holds(w, h);
#if MM_DEBUG
    mm_incr_set_verifier(h, gp_verify, w);
#endif
    for (long op = 0; op < ops; op++)
        if (gp_step(w, h, &gp_mix_generational) == GP_COLLECT)
            gp_collect_random(w, h); /* young, one increment, or full */
    gp_finish(w, h, seed, rooted);
    mm_stats s;
    mm_get_stats(h, &s);
    mm_incr_info ii;
    mm_incr_get_info(h, &ii);
    CHECK(b.violations == 0, "seed %llu: %ld of %ld increments over budget + closure", (unsigned long long)seed,
          b.violations, b.increments);
    CHECK(s.collections[1] > 100 && s.collected > 0, "seed %llu: the collector ran (%llu increments, %llu collected)",
          (unsigned long long)seed, (unsigned long long)s.collections[1], (unsigned long long)s.collected);
    printf("seed %llu: %ld ops, %llu/%llu/%llu collections, %llu passes, %llu collected, max region %zu, max "
           "overshoot %ld, %ld verifications\n",
           (unsigned long long)seed, ops, (unsigned long long)s.collections[0], (unsigned long long)s.collections[1],
           (unsigned long long)s.collections[2], (unsigned long long)ii.passes, (unsigned long long)s.collected,
           ii.max_examined, ii.max_overshoot, w->verify_runs);
    free(w);
    mm_heap_free(h);
}

int main(void) {
    test_trigger();
    test_full();
    test_increments();
    test_freeze();
    test_variants();
    int seeds = gp_env_seeds(4);
    long ops = gp_env_ops(300000);
    for (int s = 1; s <= seeds; s++) property_seed((uint64_t)s, ops, s % 2 ? "young=100/scale=2" : "young=50");
    /* 3.14.2's rules keep the property (its early returns leave garbage longer, never free the living) */
    for (int s = 1; s <= seeds; s++)
        property_seed((uint64_t)s + 100, ops / 2, s % 2 ? "young=100/scale=2/variant=3.14.2" : "young=50/variant=3.14.2");
    return check_summary();
}
