/* test_pep848.c — `rc+pep848`: PEP 848's gross-bytes trigger and alternation,
 * the aging ring (survivors reach visited after threshold1/2 + 1 young
 * collections), work_to_do's exact arithmetic (−debt, + young survivors,
 * − increment survivors, + 2 × collected), the bounded scan of the reachable
 * worklist and the pass restart from the roots; finalizers once with weakrefs
 * already cleared; and the collector property test over random graph
 * operations (nothing reachable freed, refcounts consistent after every
 * collection, no garbage after a final full collection).
 */
#include <stdlib.h>
#include <string.h>

#include "graph_property.h"
#include "mm.h"
#include "reclaim_pep848.h"

/* Bytes of node(h, 0): the varobject header (24) plus the 32-byte pre-header. */
#define NODE0_BYTES 56

static int finalized, finalized_with_live_weakref;
/* a weakref to a finalizable object, which must read NULL when that object's finalizer runs */
static mm_object *watched_wr, *watched_obj;

static void count_finalize(mm_heap *h, mm_object *o) {
    (void)h;
    (void)o;
    finalized++;
    if (o == watched_obj && mm_weakref_get(watched_wr) != NULL) finalized_with_live_weakref++;
}

/* A node type with a finalizer and a weak-reference list (after its 2 slots). */
static const mm_type fin_type = FNODE_TYPE(count_finalize);

/* An object that holds no references (a str, an int): never tracked, but its bytes count. */
static const mm_type leaf_type = {.name = "Leaf", .size = 64};

static mm_heap *pep_heap(const char *knobs) { return test_heap("rc+pep848", knobs); }

static mm_object *node(mm_heap *h, size_t k) { return mm_new(h, &pnode_type, k); }

static mm_pep848_info info(mm_heap *h) {
    mm_pep848_info ii;
    mm_pep848_get_info(h, &ii);
    return ii;
}

/* The trigger is gross bytes (threshold0 kB), frees do not count back; the
 * first automatic collection is an old increment, the next a young one. */
static void test_trigger(void) {
    enum { PER_KB = 1024 / NODE0_BYTES + 1 }; /* 19 nodes of 56 B cross 1 kB */
    mm_heap *h = pep_heap("threshold0=1");
    mm_object *keep[PER_KB];
    for (int i = 0; i < PER_KB / 2; i++) {
        mm_object *t = node(h, 0);
        mm_decref(h, t); /* freed at once: its bytes still count */
        keep[i] = node(h, 0);
    }
    mm_pep848_info ii = info(h);
    CHECK(ii.old_increments == 0 && ii.bytes_since == (PER_KB - 1) * NODE0_BYTES, "18 allocations: %llu bytes, none",
          (unsigned long long)ii.bytes_since);
    keep[PER_KB / 2] = node(h, 0);
    ii = info(h);
    CHECK(ii.old_increments == 1 && ii.young_collections == 0, "the 19th crosses 1 kB: an old increment first");
    CHECK(ii.work_to_do == -100000 && ii.bytes_since == 0, "the increment had no work (%ld)", ii.work_to_do);
    for (int i = 0; i <= PER_KB / 2; i++) mm_decref(h, keep[i]);
    for (int i = 0; i < PER_KB - 1; i++) keep[i] = node(h, 0);
    ii = info(h);
    CHECK(ii.young_collections == 0, "18 more: no collection");
    keep[PER_KB - 1] = node(h, 0);
    ii = info(h);
    CHECK(ii.young_collections == 1 && ii.old_increments == 1, "the 19th: a young collection (alternation)");
    CHECK(ii.aging_spaces == 5 && ii.nursery_size == 0 && ii.aging_sizes[0] == PER_KB,
          "threshold1=10: 5 aging spaces; the nursery (%zu) became the youngest (%zu)", ii.nursery_size,
          ii.aging_sizes[0]);
    for (int i = 0; i < PER_KB; i++) mm_decref(h, keep[i]);
    CHECK(live(h) == 0, "all freed");
    mm_heap_free(h);

    /* objects that are not containers count too: 16 leaves of 64 B are 1 kB */
    h = pep_heap("threshold0=1");
    for (int i = 0; i < 15; i++) mm_decref(h, mm_new(h, &leaf_type, 0));
    ii = info(h);
    CHECK(ii.old_increments == 0 && ii.bytes_since == 15 * 64 && ii.nursery_size == 0, "15 leaves: %llu bytes",
          (unsigned long long)ii.bytes_since);
    mm_decref(h, mm_new(h, &leaf_type, 0));
    CHECK(info(h).old_increments == 1, "the 16th leaf triggers a collection");
    mm_heap_free(h);

    h = pep_heap("threshold1=3");
    CHECK(info(h).aging_spaces == 2, "threshold1=3 rounds up to 4 half-spaces: 2 aging spaces");
    mm_heap_free(h);
    char err[200];
    CHECK(mm_heap_new_named("rc+pep848", "system", "slots", "threshold1=65", err, sizeof err) == NULL,
          "threshold1 over 64 refused: %s", err);
}

/* Survivors reach visited after (aging spaces + 1) young collections, and
 * only then add to work_to_do; a young cycle is collected when its space is
 * the oldest. */
static void test_aging(void) {
    mm_heap *h = pep_heap("threshold0=0/threshold1=4"); /* 2 aging spaces, no automatic collection */
    mm_object *keep[10];
    for (int i = 0; i < 10; i++) keep[i] = node(h, 1);
    mm_object *c = node(h, 1);
    link_slot(h, c, 0, c);
    mm_decref(h, c); /* a self-cycle among them */
    for (int k = 1; k <= 2; k++) {
        mm_collect(h, 0);
        mm_pep848_info ii = info(h);
        CHECK(live(h) == 11 && ii.visited_size == 0 && ii.aging_size == 11 && ii.work_to_do == -100000,
              "young collection %d: still aging (%zu aging, %zu visited)", k, ii.aging_size, ii.visited_size);
    }
    mm_collect(h, 0);
    mm_pep848_info ii = info(h);
    CHECK(live(h) == 10 && ii.visited_size == 10 && ii.last_young_survivors == 10 && ii.work_to_do == -100000 + 10,
          "third: the cycle collected, 10 survivors to visited, work_to_do %ld", ii.work_to_do);
    for (int i = 0; i < 10; i++) mm_decref(h, keep[i]);
    mm_heap_free(h);

    h = pep_heap("threshold0=0/threshold1=0");
    c = node(h, 1);
    link_slot(h, c, 0, c);
    mm_decref(h, c);
    mm_collect(h, 0);
    CHECK(live(h) == 0, "threshold1=0: the nursery itself is collected");
    mm_heap_free(h);
}

/* Old increments: closures from pending's head, work_to_do −= survivors and
 * += 2 × collected; the pass ends when pending is empty (swap, roots onto the
 * worklist, work_to_do = 0); the worklist scan is bounded by work_to_do. */
static void test_old(void) {
    enum { CYC = 30, LIVE = 400, DEBT = 300, CHAIN = 50 };
    mm_heap *h = pep_heap("threshold0=0/threshold1=0/debt=300");
    mm_object *cyc[CYC], **keep = malloc(LIVE * sizeof *keep);
    for (int i = 0; i < CYC; i++) { /* garbage cycles first: pending's head */
        mm_object *p = node(h, 1), *q = node(h, 1);
        link_slot(h, p, 0, q);
        link_slot(h, q, 0, p);
        mm_decref(h, q);
        cyc[i] = p;
    }
    for (int i = 0; i < LIVE; i++) keep[i] = node(h, 0);
    mm_collect(h, 0); /* all survive to visited: work_to_do = -300 + 460 = 160 */
    mm_pep848_info ii = info(h);
    CHECK(ii.visited_size == 2 * CYC + LIVE && ii.work_to_do == 2 * CYC + LIVE - DEBT, "visited %zu, work %ld",
          ii.visited_size, ii.work_to_do);
    for (int i = 0; i < CYC; i++) mm_decref(h, cyc[i]);
    /* pending is empty: the increment ends the (empty) pass at once */
    mm_collect(h, 1);
    ii = info(h);
    CHECK(ii.passes == 1 && ii.work_to_do == 0 && ii.pending_size == 2 * CYC + LIVE && ii.last_closures == 0,
          "pass restart: %llu passes, work %ld, %zu pending", (unsigned long long)ii.passes, ii.work_to_do,
          ii.pending_size);
    /* 100 young survivors give work 100; each garbage cycle adds 4, each live one costs 1 */
    mm_object *more[100];
    for (int i = 0; i < 100; i++) more[i] = node(h, 0);
    mm_collect(h, 0);
    mm_collect(h, 1);
    ii = info(h);
    long processed_live = 100 + 4 * CYC;
    CHECK(live(h) == LIVE + 100, "every garbage cycle went (%llu live)", (unsigned long long)live(h));
    CHECK(ii.last_closures == (size_t)(CYC + processed_live) && ii.last_candidates == (size_t)(2 * CYC + processed_live) &&
              ii.last_survivors == (size_t)processed_live && ii.work_to_do == 0,
          "closures %zu, candidates %zu, survivors %zu, work %ld", ii.last_closures, ii.last_candidates,
          ii.last_survivors, ii.work_to_do);
    CHECK(ii.pending_size == (size_t)(LIVE - processed_live), "the rest still pending (%zu)", ii.pending_size);
    for (int i = 0; i < 100; i++) mm_decref(h, more[i]);
    for (int i = 0; i < LIVE; i++) mm_decref(h, keep[i]);
    CHECK(live(h) == 0, "all freed");
    free(keep);
    mm_heap_free(h);

    /* the roots: a rooted chain in old space is scanned 10 at a time */
    h = pep_heap("threshold0=0/threshold1=0/debt=0");
    mm_object *chain[CHAIN];
    for (int i = 0; i < CHAIN; i++) chain[i] = node(h, 1);
    for (int i = 0; i + 1 < CHAIN; i++) link_slot(h, chain[i], 0, chain[i + 1]);
    mm_object *root = chain[0];
    for (int i = 1; i < CHAIN; i++) mm_decref(h, chain[i]);
    mm_root_push(h, &root);
    mm_collect(h, 0); /* work = 50 */
    mm_collect(h, 1); /* pending empty: swap, the root onto the worklist, work 0 */
    ii = info(h);
    CHECK(ii.reachable_size == 1 && ii.pending_size == CHAIN - 1 && ii.work_to_do == 0, "root on the worklist (%zu)",
          ii.reachable_size);
    mm_object *ten[10];
    for (int i = 0; i < 10; i++) ten[i] = node(h, 0);
    mm_collect(h, 0); /* work = 10 */
    mm_collect(h, 1);
    ii = info(h);
    CHECK(ii.last_scanned == 10 && ii.reachable_size == 1 && ii.pending_size == CHAIN - 11 && ii.work_to_do == 0,
          "bounded scan: %zu scanned, %zu on the worklist, %zu pending", ii.last_scanned, ii.reachable_size,
          ii.pending_size);
    for (int i = 0; i < 10; i++) mm_decref(h, ten[i]);
    mm_root_pop(h, 1);
    mm_decref(h, root);
    CHECK(live(h) == 0, "all freed");
    mm_heap_free(h);
}

/* Finalizers once, weakrefs to the garbage already cleared when they run;
 * gc.collect() takes everything; freeze keeps a cycle forever. */
static void test_finalizers_full_freeze(void) {
    enum { CYCLES = 500 };
    mm_heap *h = pep_heap("threshold0=4/debt=0");
    finalized = finalized_with_live_weakref = 0;
    mm_object *first = NULL;
    for (int i = 0; i < CYCLES; i++) {
        mm_object *p = mm_new(h, &fin_type, 0), *q = mm_new(h, &fin_type, 0);
        mm_store(h, p, &mm_slots(p)[0], mm_ref(q));
        mm_store(h, q, &mm_slots(q)[0], mm_ref(p));
        mm_decref(h, q);
        if (i == 0) {
            first = watched_obj = p;
            watched_wr = mm_weakref_new(h, p, NULL, NULL);
        } else {
            mm_decref(h, p);
        }
    }
    mm_decref(h, first);
    for (int k = 0; k < 40; k++) { /* automatic collections while allocating */
        mm_object *t = node(h, 1);
        link_slot(h, t, 0, t);
        mm_decref(h, t);
    }
    uint64_t before_full = live(h);
    mm_collect(h, MM_COLLECT_FULL);
    CHECK(live(h) == 1, "gc.collect(): only the weakref is left (%llu, %llu before)", (unsigned long long)live(h),
          (unsigned long long)before_full);
    CHECK(finalized == 2 * CYCLES && finalized_with_live_weakref == 0, "each finalizer once (%d of %d), weakref cleared first (%d)",
          finalized, 2 * CYCLES, finalized_with_live_weakref);
    CHECK(mm_weakref_get(watched_wr) == NULL, "the weakref reads empty");
    mm_decref(h, watched_wr);
    watched_wr = watched_obj = NULL;
    mm_stats s;
    mm_get_stats(h, &s);
    CHECK(s.collections[0] > 0 && s.collections[1] > 0 && s.collections[2] == 1, "young %llu, increments %llu, full %llu",
          (unsigned long long)s.collections[0], (unsigned long long)s.collections[1],
          (unsigned long long)s.collections[2]);

    garbage_pair(h, node);
    mm_freeze(h);
    CHECK(info(h).permanent_size == 2 && mm_collect(h, MM_COLLECT_FULL) == 0 && live(h) == 2,
          "the permanent generation is never collected");
    mm_unfreeze(h);
    CHECK(mm_collect(h, MM_COLLECT_FULL) == 2 && live(h) == 0, "after unfreeze the cycle goes");
    mm_heap_free(h);
}

/* ---- property test (the harness: graph_property.h) ------------------------------ */

/* newborn_ok: PEP 848 tracks before the trigger, so a collection inside node() may
 * see the new object tracked with only the caller's reference, not yet counted live. */
static const gp_gc pep_gc = {.is_tracked = mm_pep848_is_tracked, .for_each = mm_pep848_for_each,
                             .incoming_prepare = mm_pep848_incoming_prepare, .incoming = mm_pep848_incoming,
                             .incoming_finish = mm_pep848_incoming_finish, .newborn_ok = true};

static void property_seed(uint64_t seed, long ops, const char *knobs) {
    mm_heap *h = pep_heap(knobs);
    gp_world *w = gp_world_new(&pep_gc, node);
    gp_seed(seed);
    bool rooted = seed % 2 == 0; /* half the seeds register the holds: the worklist runs */
    if (rooted) gp_root_holds(w, h);
#if MM_DEBUG
    mm_pep848_set_verifier(h, gp_verify, w);
#endif
    for (long op = 0; op < ops; op++)
        if (gp_step(w, h, &gp_mix_generational) == GP_COLLECT)
            gp_collect_random(w, h); /* young, one old increment, or full */
    gp_finish(w, h, seed, rooted);
    mm_stats s;
    mm_get_stats(h, &s);
    mm_pep848_info ii = info(h);
    CHECK(s.collections[0] > 100 && s.collections[1] > 100 && ii.passes > 10 && s.collected > 0,
          "seed %llu: the collector ran (%llu young, %llu increments, %llu passes, %llu collected)",
          (unsigned long long)seed, (unsigned long long)s.collections[0], (unsigned long long)s.collections[1],
          (unsigned long long)ii.passes, (unsigned long long)s.collected);
    printf("seed %llu (%s): %ld ops, %llu/%llu/%llu collections, %llu passes, %llu collected, %ld verifications\n",
           (unsigned long long)seed, knobs, ops, (unsigned long long)s.collections[0],
           (unsigned long long)s.collections[1], (unsigned long long)s.collections[2], (unsigned long long)ii.passes,
           (unsigned long long)s.collected, w->verify_runs);
    free(w);
    mm_heap_free(h);
}

/* Blocks an instance owns apart (the `shared` layout's 3.11 values) count toward
 * the byte trigger as objects do, one allocation late: after 100 instances and
 * one more object, every byte the heap allocated is counted. */
static void test_blocks_count(void) {
    char err[256];
    mm_heap *h = mm_heap_new_named("rc+pep848", "system", "shared", NULL, err, sizeof err);
    CHECK(h != NULL, "heap: %s", err);
    if (h == NULL) return;
    mm_gc_disable(h);
    mm_class *c = mm_class_new(h, "C", NULL, 0);
    mm_attr a = mm_intern(h, "a");
    mm_object *objs[100];
    for (int i = 0; i < 100; i++) {
        objs[i] = mm_instance_new(h, c);
        mm_setattr(h, objs[i], a, mm_int(i));
    }
    mm_object *last = mm_instance_new(h, c); /* catches the 100th block up */
    mm_stats s;
    mm_get_stats(h, &s);
    mm_pep848_info info;
    mm_pep848_get_info(h, &info);
    uint64_t last_block = s.bytes_allocated - info.bytes_since;
    CHECK(last_block > 0 && last_block < 64, "counted %llu of %llu bytes: all but the last instance's block",
          (unsigned long long)info.bytes_since, (unsigned long long)s.bytes_allocated);
    mm_decref(h, last);
    for (int i = 0; i < 100; i++) mm_decref(h, objs[i]);
    mm_heap_free(h);
}

int main(void) {
    test_trigger();
    test_aging();
    test_old();
    test_finalizers_full_freeze();
    test_blocks_count();
    int seeds = gp_env_seeds(4);
    long ops = gp_env_ops(300000);
    static const char *const knobs[] = {"threshold0=1/debt=50", "threshold0=2/threshold1=2/debt=0",
                                        "threshold0=1/threshold1=0/debt=10", "threshold0=3/threshold1=6/debt=200"};
    for (int s = 1; s <= seeds; s++) property_seed((uint64_t)s, ops, knobs[(s - 1) % 4]);
    return check_summary();
}
