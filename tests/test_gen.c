/* test_gen.c — `rc+gen`: CPython 3.11's counting rules, cycles collected,
 * freeze/unfreeze, gc=off, and a property test over random graph operations.
 *
 * Property test: per seed ≥ 1M random operations (new object with k slots, store
 * a held object or None into a slot, drop a hold, take a hold on a slot's
 * referent, collect a random generation). After every collection the heap
 * verifier checks that every tracked object's refcount equals its incoming
 * references from tracked objects plus the program's holds, that every
 * referent of a tracked object is itself tracked (nothing reachable was freed:
 * freed memory is poisoned in debug builds and ASan watches it), and that the
 * number of live objects equals the number of tracked ones. After each explicit
 * full collection the live set must equal the set reachable from the holds
 * (no cyclic garbage survives a full collection); at the end, with every hold
 * dropped and a full collection run, nothing at all is alive. The property
 * test runs under every version preset (3.11's alloc trigger, 3.12/3.13/3.15's
 * safe points, with a safe point after every operation) and half its objects
 * are CPython lists, so the free lists take part.
 *
 * The rules of the presets, one at a time: the list free list of 80 fills and
 * drains with the stated count changes and a full collection empties it; the
 * tuple lengths each version keeps; one burst of allocations gives many
 * collections under trigger=alloc and one under safepoint; a scheduled run
 * finds nothing when frees pushed count0 back; 3.13 re-checks gc.disable() at
 * the safe point and 3.12.1 does not; gc.freeze() zeroes all counts from 3.12.
 */
#include <stdlib.h>
#include <string.h>

#include "graph_property.h"
#include "mm.h"
#include "reclaim_gen.h"

/* The same shape marked as CPython's list: it uses the list free list. */
static const mm_type list_type = {
    .name = "list",
    .size = sizeof(mm_varobject),
    .itemsize = sizeof(mm_value),
    .is_container = true,
    .traverse = mm_traverse_var_items,
    .clear = mm_clear_var_items,
    .builtin = MM_BUILTIN_LIST,
};

/* CPython's tuple: its free lists are per length. */
static const mm_type tuple_type = {
    .name = "tuple",
    .size = sizeof(mm_varobject),
    .itemsize = sizeof(mm_value),
    .is_container = true,
    .traverse = mm_traverse_var_items,
    .clear = mm_clear_var_items,
    .builtin = MM_BUILTIN_TUPLE,
};

static mm_heap *gen_heap(const char *knobs) { return test_heap("rc+gen", knobs); }

/* Half the objects (odd slot counts) are CPython lists, so the free lists take part. */
static mm_object *node(mm_heap *h, size_t k) { return mm_new(h, k % 2 ? &list_type : &pnode_type, k); }

/* The threshold is strict and the check precedes tracking, as in _PyObject_GC_Link. */
static void test_counting_rules(void) {
    mm_heap *h = gen_heap(NULL);
    mm_object *keep[701];
    mm_stats s;
    for (int i = 0; i < 700; i++) keep[i] = node(h, 0);
    mm_get_stats(h, &s);
    CHECK(s.collections[0] == 0, "700 allocations must not collect");
    mm_gen_info gi;
    mm_gen_get_info(h, &gi);
    CHECK(gi.count[0] == 700, "count0 %ld", gi.count[0]);
    keep[700] = node(h, 0);
    mm_get_stats(h, &s);
    mm_gen_get_info(h, &gi);
    CHECK(s.collections[0] == 1, "the 701st allocation collects gen0 (%llu)", (unsigned long long)s.collections[0]);
    /* count0 was raised to 701 before the collection reset it; the new object is not counted again */
    CHECK(gi.count[0] == 0 && gi.count[1] == 1, "after: count0 %ld count1 %ld", gi.count[0], gi.count[1]);
    CHECK(gi.size[1] == 700 && gi.size[0] == 1, "700 survivors promoted, new one in gen0 (%zu, %zu)", gi.size[1],
          gi.size[0]);
    /* frees decrement count0 while positive */
    mm_decref(h, keep[700]);
    mm_decref(h, keep[699]);
    mm_gen_get_info(h, &gi);
    CHECK(gi.count[0] == 0, "count0 floors at 0 (%ld)", gi.count[0]);
    for (int i = 0; i < 699; i++) mm_decref(h, keep[i]);
    CHECK(live(h) == 0, "all freed");
    mm_heap_free(h);
}

static void test_cycles(void) {
    mm_heap *h = gen_heap(NULL);
    mm_object *a = cycle3_tail(h, node); /* a 3-cycle plus an acyclic tail hanging off it */
    CHECK(mm_collect(h, 0) == 0, "held cycle survives");
    CHECK(live(h) == 4, "4 live");
    mm_decref(h, a);
    CHECK(live(h) == 4, "rc alone cannot free the cycle");
    uint64_t n = mm_collect(h, MM_COLLECT_FULL);
    /* CPython counts every unreachable object, the tail hanging off the cycle too */
    CHECK(n == 4, "collected counts the cycle and what only it reaches (%llu)", (unsigned long long)n);
    CHECK(live(h) == 0, "cycle and tail freed (%llu left)", (unsigned long long)live(h));
    mm_stats s;
    mm_get_stats(h, &s);
    CHECK(s.collected_by_gen[2] == 4 && s.collections[2] == 1 && s.collections[0] == 1, "per-generation stats");
    mm_heap_free(h);
}

/* GC policies: what each does on the program's events, and nothing else. */
static void test_policies(void) {
    mm_stats s;
    enum { N = 5000 };
    mm_object *keep[N];
    /* manual: no automatic collection; per 100 requests 90 gen0, 9 gen1, 1 gen2 */
    mm_heap *h = gen_heap("policy=manual");
    for (int i = 0; i < N; i++) keep[i] = node(h, 0);
    mm_get_stats(h, &s);
    CHECK(s.collections[0] == 0, "manual: %d allocations, no automatic collection (%llu)", N,
          (unsigned long long)s.collections[0]);
    for (int i = 0; i < 200; i++) mm_event_notify(h, MM_EVENT_REQUEST_END);
    mm_event_notify(h, MM_EVENT_BATCH_END); /* other events: ignored */
    mm_get_stats(h, &s);
    CHECK(s.collections[0] == 180 && s.collections[1] == 18 && s.collections[2] == 2,
          "manual: 200 requests -> 180/18/2 collections, got %llu/%llu/%llu", (unsigned long long)s.collections[0],
          (unsigned long long)s.collections[1], (unsigned long long)s.collections[2]);
    for (int i = 0; i < N; i++) mm_decref(h, keep[i]);
    mm_heap_free(h);
    /* batch: off inside the batch, one full collection at its end, thresholds again after */
    h = gen_heap("policy=batch");
    mm_event_notify(h, MM_EVENT_BATCH_BEGIN);
    for (int i = 0; i < N; i++) keep[i] = node(h, 0);
    mm_get_stats(h, &s);
    CHECK(s.collections[0] + s.collections[1] + s.collections[2] == 0, "batch: no collection during the batch");
    mm_event_notify(h, MM_EVENT_BATCH_END);
    mm_get_stats(h, &s);
    CHECK(s.collections[2] == 1 && s.collections[0] == 0, "batch: one full collection at its end (%llu/%llu)",
          (unsigned long long)s.collections[0], (unsigned long long)s.collections[2]);
    mm_object *more[800];
    for (int i = 0; i < 800; i++) more[i] = node(h, 0);
    mm_get_stats(h, &s);
    CHECK(s.collections[0] == 1, "batch: thresholds work again after it (%llu gen0)",
          (unsigned long long)s.collections[0]);
    for (int i = 0; i < 800; i++) mm_decref(h, more[i]);
    for (int i = 0; i < N; i++) mm_decref(h, keep[i]);
    mm_heap_free(h);
    /* freeze: what exists at the end of warm-up goes to the permanent generation */
    h = gen_heap("policy=freeze");
    for (int i = 0; i < N; i++) keep[i] = node(h, 0);
    mm_event_notify(h, MM_EVENT_REQUEST_END);
    mm_gen_info gi;
    mm_gen_get_info(h, &gi);
    CHECK(gi.permanent_size == 0, "freeze: nothing frozen before warm-up ends");
    mm_event_notify(h, MM_EVENT_WARMUP_END);
    mm_gen_get_info(h, &gi);
    CHECK(gi.permanent_size == N && gi.size[0] + gi.size[1] + gi.size[2] == 0,
          "freeze: all %d objects permanent after warm-up (%zu)", N, gi.permanent_size);
    for (int i = 0; i < N; i++) mm_decref(h, keep[i]);
    mm_heap_free(h);
    /* auto (the default): events change nothing */
    h = gen_heap(NULL);
    for (int i = 0; i < 100; i++) mm_event_notify(h, MM_EVENT_REQUEST_END);
    mm_event_notify(h, MM_EVENT_WARMUP_END);
    mm_get_stats(h, &s);
    mm_gen_get_info(h, &gi);
    CHECK(s.collections[0] == 0 && gi.permanent_size == 0, "auto: events are ignored");
    mm_heap_free(h);
}

static void test_freeze_and_off(void) {
    mm_heap *h = gen_heap(NULL);
    garbage_pair(h, node); /* garbage cycle, then frozen */
    mm_freeze(h);
    mm_gen_info gi;
    mm_gen_get_info(h, &gi);
    CHECK(gi.permanent_size == 2 && gi.count[0] == 0, "frozen: %zu permanent", gi.permanent_size);
    CHECK(mm_collect(h, MM_COLLECT_FULL) == 0 && live(h) == 2, "the permanent generation is never collected");
    mm_unfreeze(h);
    CHECK(mm_collect(h, MM_COLLECT_FULL) == 2 && live(h) == 0, "after unfreeze the cycle goes");
    mm_heap_free(h);

    h = gen_heap("gc=off");
    for (int i = 0; i < 5000; i++) {
        mm_object *x = node(h, 1);
        link_slot(h, x, 0, x);
        mm_decref(h, x);
    }
    mm_stats s;
    mm_get_stats(h, &s);
    CHECK(s.collections[0] + s.collections[1] + s.collections[2] == 0 && live(h) == 5000, "gc=off: no automatic collection");
    CHECK(mm_collect(h, MM_COLLECT_FULL) == 5000 && live(h) == 0, "manual collection still works when off");
    mm_heap_free(h);

    h = gen_heap("gc=2000,10,10");
    mm_gen_get_info(h, &gi);
    CHECK(gi.threshold[0] == 2000 && gi.threshold[1] == 10 && gi.threshold[2] == 10, "explicit thresholds");
    mm_heap_free(h);
    h = gen_heap("gc=cpython313");
    mm_gen_get_info(h, &gi);
    CHECK(gi.threshold[0] == 2000, "cpython313 preset");
    mm_heap_free(h);
    char err[200];
    CHECK(mm_heap_new_named("rc+gen", "system", "slots", "gc=7,8", err, sizeof err) == NULL && strstr(err, "gc"),
          "bad thresholds refused: %s", err);
}

/* ---- free lists and safe points ----------------------------------------------------- */

static long count0(mm_heap *h) {
    mm_gen_info gi;
    mm_gen_get_info(h, &gi);
    return gi.count[0];
}

static long fl_lists(mm_heap *h) {
    mm_gen_info gi;
    mm_gen_get_info(h, &gi);
    return gi.freelist_lists;
}

/* list_dealloc keeps 80 lists without PyObject_GC_Del (no uncount); list_new
 * takes them back without _PyObject_GC_Link (no count); a full collection
 * deletes what is kept. Counts below threshold0 throughout. */
static void test_freelists(void) {
    enum { N = 100, KEPT = 80 };
    mm_object *l[N];
    mm_heap *h = gen_heap("gc=cpython311");
    for (int i = 0; i < N; i++) l[i] = mm_new(h, &list_type, 1);
    CHECK(count0(h) == N && fl_lists(h) == 0, "100 new lists: count0 %ld, free list %ld", count0(h), fl_lists(h));
    for (int i = 0; i < N; i++) mm_decref(h, l[i]);
    CHECK(fl_lists(h) == KEPT && count0(h) == KEPT,
          "100 freed: 80 kept (no uncount), 20 uncounted: count0 %ld, free list %ld", count0(h), fl_lists(h));
    for (int i = 0; i < 90; i++) l[i] = mm_new(h, &list_type, 1);
    CHECK(fl_lists(h) == 0 && count0(h) == KEPT + 10, "90 new: 80 reused (no count), 10 counted: count0 %ld, free %ld",
          count0(h), fl_lists(h));
    for (int i = 0; i < 50; i++) mm_decref(h, l[i]);
    CHECK(fl_lists(h) == 50 && count0(h) == 90, "50 freed onto the list: count0 %ld, free %ld", count0(h), fl_lists(h));
    mm_collect(h, 1);
    CHECK(fl_lists(h) == 50, "a gen1 collection keeps the free lists (%ld)", fl_lists(h));
    mm_collect(h, 2);
    CHECK(fl_lists(h) == 0 && count0(h) == 0, "a full collection empties them: free %ld, count0 %ld", fl_lists(h),
          count0(h));
    for (int i = 50; i < 90; i++) mm_decref(h, l[i]);
    mm_heap_free(h);

    h = gen_heap("freelists=off");
    for (int i = 0; i < N; i++) l[i] = mm_new(h, &list_type, 1);
    for (int i = 0; i < N; i++) mm_decref(h, l[i]);
    CHECK(count0(h) == 0 && fl_lists(h) == 0, "freelists=off: every free uncounts (count0 %ld)", count0(h));
    mm_heap_free(h);

    /* Tuple lengths kept: 1..19 in 3.11 (slot 0 is the empty tuple), 1..20 from 3.12. */
    static const struct { const char *gc; size_t len; long kept; } tup[] = {
        {"gc=cpython311", 19, 1}, {"gc=cpython311", 20, 0}, {"gc=cpython312", 20, 1}, {"gc=cpython313", 21, 0},
    };
    for (size_t k = 0; k < sizeof tup / sizeof tup[0]; k++) {
        h = gen_heap(tup[k].gc);
        mm_object *t = mm_new(h, &tuple_type, tup[k].len);
        mm_decref(h, t);
        mm_gen_info gi;
        mm_gen_get_info(h, &gi);
        CHECK(gi.freelist_tuples == tup[k].kept && gi.count[0] == tup[k].kept, "%s: tuple of %zu kept %ld",
              tup[k].gc, tup[k].len, gi.freelist_tuples);
        mm_heap_free(h);
    }
}

/* n containers made in one go (one C call): no safe point between them. */
static mm_object *burst(mm_heap *h, size_t n) {
    mm_object *list = mm_new(h, &pnode_type, n);
    for (size_t i = 0; i < n; i++) {
        mm_object *o = mm_new(h, &pnode_type, 0);
        mm_var_items(list)[i] = mm_ref(o);
    }
    return list;
}

static uint64_t total_collections(mm_heap *h) {
    mm_stats s;
    mm_get_stats(h, &s);
    return s.collections[0] + s.collections[1] + s.collections[2];
}

static void test_safepoints(void) {
    enum { BURST = 100000 };
    /* 3.11: a collection inside the allocation every 701 (142 in all, as
     * python3.11 gives for list(zip(a, b)) of 100,000); 3.12+: one, at the
     * safe point, with count0 = 100,002 when it starts. */
    mm_heap *h = gen_heap("gc=cpython311");
    mm_object *l = burst(h, BURST);
    mm_safepoint(h);
    CHECK(total_collections(h) == 142, "alloc trigger: %llu collections", (unsigned long long)total_collections(h));
    mm_decref(h, l);
    mm_heap_free(h);
    static const char *const presets[] = {"gc=cpython312", "gc=cpython313", "gc=cpython315", "trigger=safepoint"};
    for (size_t k = 0; k < 4; k++) {
        h = gen_heap(presets[k]);
        l = burst(h, BURST);
        CHECK(total_collections(h) == 0 && count0(h) == BURST + 1, "%s: nothing inside the burst (count0 %ld)",
              presets[k], count0(h));
        mm_safepoint(h);
        mm_stats s;
        mm_get_stats(h, &s);
        CHECK(s.collections[0] == 1 && total_collections(h) == 1 && count0(h) == 0,
              "%s: one gen0 collection at the safe point (%llu)", presets[k], (unsigned long long)total_collections(h));
        mm_safepoint(h);
        CHECK(total_collections(h) == 1, "%s: a safe point runs only what was scheduled", presets[k]);
        mm_decref(h, l);
        mm_heap_free(h);
    }
    /* Frees between the schedule and the safe point: the generation is chosen
     * then, and nothing is over its threshold. */
    h = gen_heap("gc=cpython312");
    l = burst(h, 700);
    CHECK(h->safepoint_pending && count0(h) == 701, "701st allocation schedules (count0 %ld)", count0(h));
    mm_decref(h, l);
    mm_safepoint(h);
    CHECK(total_collections(h) == 0 && !h->safepoint_pending, "freed before the safe point: no collection");
    mm_heap_free(h);
    /* gc.disable() after the schedule: 3.13 re-checks, 3.12.1 does not (gh-116604). */
    static const struct { const char *gc; uint64_t runs; } dis[] = {{"gc=cpython312", 1}, {"gc=cpython313", 0}};
    for (size_t k = 0; k < 2; k++) {
        h = gen_heap(dis[k].gc);
        l = burst(h, 2500);
        mm_gc_disable(h);
        mm_safepoint(h);
        CHECK(total_collections(h) == dis[k].runs, "%s: disabled after scheduling: %llu runs", dis[k].gc,
              (unsigned long long)total_collections(h));
        mm_decref(h, l);
        mm_heap_free(h);
    }
    /* gc.freeze(): 3.11 zeroes count0 only, 3.12+ all three. */
    static const struct { const char *gc; long count1; } fr[] = {{"gc=cpython311", 1}, {"gc=cpython312", 0}};
    for (size_t k = 0; k < 2; k++) {
        h = gen_heap(fr[k].gc);
        mm_collect(h, 0);
        mm_freeze(h);
        mm_gen_info gi;
        mm_gen_get_info(h, &gi);
        CHECK(gi.count[0] == 0 && gi.count[1] == fr[k].count1, "%s: counts after freeze %ld/%ld", fr[k].gc,
              gi.count[0], gi.count[1]);
        mm_heap_free(h);
    }
}

/* ---- property test (the harness: graph_property.h) ------------------------------ */

/* Between collections every object is tracked with a clean head (tracked_first:
 * checked before the incoming counts use gc_refs); heap_ok: links both ways, no
 * tags, gc_refs 0 (the next collection adds to it). */
static const gp_gc gen_gc = {.is_tracked = mm_gen_is_tracked, .for_each = mm_gen_for_each,
                             .incoming_prepare = mm_gen_incoming_prepare, .incoming = mm_gen_incoming,
                             .incoming_finish = mm_gen_incoming_finish, .heap_ok = mm_gen_links_ok,
                             .tracked_first = true};

/* Runs the random program of `seed` and leaves its statistics in *out. */
static void property_seed(uint64_t seed, long ops, const char *knobs, mm_stats *out) {
    mm_heap *h = gen_heap(knobs);
    gp_world *w = gp_world_new(&gen_gc, node);
    gp_seed(seed);
#if MM_DEBUG
    mm_gen_set_verifier(h, gp_verify, w);
#endif
    for (long op = 0; op < ops; op++) {
        if (gp_step(w, h, &gp_mix_generational) == GP_COLLECT)
            gp_collect_random(w, h); /* verifies: release builds too */
        mm_safepoint(h); /* the presets with safe points collect here */
    }
    gp_finish(w, h, seed, false);
    mm_stats s;
    mm_get_stats(h, &s);
    CHECK(s.collections[0] > 100 && s.collected > 0, "seed %llu: the collector ran (%llu gen0, %llu collected)",
          (unsigned long long)seed, (unsigned long long)s.collections[0], (unsigned long long)s.collected);
    *out = s;
    printf("seed %llu (%s): %ld ops, %llu/%llu/%llu collections, %llu collected, %ld verifications, %ld full checks\n",
           (unsigned long long)seed, knobs ? knobs : "defaults", ops, (unsigned long long)s.collections[0], (unsigned long long)s.collections[1],
           (unsigned long long)s.collections[2], (unsigned long long)s.collected, w->verify_runs, w->full_checks);
    free(w);
    mm_heap_free(h);
}

/* header=: the pre-header each heap reports, and an unknown size refused in one line. */
static void test_header_knob(void) {
    static const struct { const char *knobs; size_t bytes; } cases[] = {
        {NULL, 16}, {"gc=cpython311", 16}, {"gc=cpython313", 16}, {"gc=700,10,10", 16}, {"header=32", 32}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mm_heap *h = gen_heap(cases[i].knobs);
        mm_object *o = node(h, 3), *leaf = node(h, 0);
        mm_stats s;
        mm_get_stats(h, &s);
        CHECK(s.preheader_bytes == cases[i].bytes && mm_gen_is_tracked(h, o),
              "%s: a %zu-byte head, the object tracked (%zu)", cases[i].knobs ? cases[i].knobs : "defaults",
              cases[i].bytes, s.preheader_bytes);
        CHECK(s.bytes_allocated == 2 * cases[i].bytes + 2 * sizeof(mm_varobject) + 3 * sizeof(mm_value),
              "%s: the head is in each container's bytes (%llu)", cases[i].knobs ? cases[i].knobs : "defaults",
              (unsigned long long)s.bytes_allocated);
        mm_decref(h, o);
        mm_decref(h, leaf);
        CHECK(live(h) == 0 && mm_gen_links_ok(h), "header %zu: freed and untracked", cases[i].bytes);
        mm_heap_free(h);
    }
    char err[256] = "";
    CHECK(mm_heap_new_named("rc+gen", "system", "slots", "header=24", err, sizeof err) == NULL &&
              strstr(err, "header") && strstr(err, "16 | 32"),
          "header=24 refused: %s", err);
}

int main(void) {
    test_header_knob();
    test_counting_rules();
    test_cycles();
    test_freeze_and_off();
    test_policies();
    test_freelists();
    test_safepoints();
    int seeds = gp_env_seeds(6);
    long ops = gp_env_ops(500000);
    /* every preset, and small thresholds under both triggers (many full collections) */
    static const char *const knobs[] = {NULL, "gc=50,3,3", "gc=cpython312", "gc=cpython313", "gc=cpython315",
                                        "gc=50,3,3/trigger=safepoint"};
    /* each under both heads: CPython's passes on the 16-byte head and the
     * two-walk partition on the 32-byte one decide the same collections and
     * free the same objects, generation by generation */
    static const char *const knobs32[] = {"header=32", "gc=50,3,3/header=32", "gc=cpython312/header=32",
                                          "gc=cpython313/header=32", "gc=cpython315/header=32",
                                          "gc=50,3,3/trigger=safepoint/header=32"};
    for (int s = 1; s <= seeds; s++) {
        mm_stats s16, s32;
        property_seed((uint64_t)s, ops, knobs[(s - 1) % 6], &s16);
        property_seed((uint64_t)s, ops, knobs32[(s - 1) % 6], &s32);
        bool same = s16.collected == s32.collected;
        for (int g = 0; g < 3; g++)
            same = same && s16.collections[g] == s32.collections[g] && s16.collected_by_gen[g] == s32.collected_by_gen[g];
        CHECK(same && s16.preheader_bytes == 16 && s32.preheader_bytes == 32,
              "seed %d: header=16 and header=32 agree (%llu vs %llu collected, %llu vs %llu gen0)", s,
              (unsigned long long)s16.collected, (unsigned long long)s32.collected,
              (unsigned long long)s16.collections[0], (unsigned long long)s32.collections[0]);
    }
    return check_summary();
}
