/* test_ft.c — `rc+ft`: the free-threaded collector's trigger (512-allocation
 * flushes, count > threshold0, the long_lived_total/4 gate), 3.14's memory gate
 * (deferrals until 40 × threshold0 net allocations), whole-heap collections for
 * every gc.collect(g), freeze as a frozen bit (mark-alive off meanwhile), the
 * mark-alive pass from the roots, finalizers once and weakrefs cleared first, and
 * the collector property test (as test_incr.c's: after every collection refcounts
 * equal incoming references plus holds and live == tracked; after every
 * collection — each is full here — the live set is exactly what the holds reach;
 * at the end nothing is alive).
 */
#include <stdlib.h>
#include <string.h>

#include "graph_property.h"
#include "mm.h"
#include "reclaim_ft.h"

/* gc_free_threading.c's LOCAL_ALLOC_COUNT_THRESHOLD. */
#define FLUSH 512
/* Property test: every BURST_EVERY operations, BURST garbage self-cycles (5 flushes: past the memory gate too). */
#define BURST_EVERY 10000
#define BURST 3000

static mm_heap *ft_heap(const char *knobs) { return test_heap("rc+ft", knobs); }

static uint64_t collections(mm_heap *h) {
    mm_stats s;
    mm_get_stats(h, &s);
    return s.collections[0] + s.collections[1] + s.collections[2];
}

static mm_object *node(mm_heap *h, size_t k) { return mm_new(h, &pnode_type, k); }

/* Observer: allocations made when each collection started, and what it examined. */
typedef struct {
    long *allocs;
    long starts[64];
    uint64_t examined[64];
    int n;
} trace_ctx;

static void trace_obs(mm_gc_phase phase, const mm_gc_info *info, void *arg) {
    trace_ctx *t = arg;
    if (t->n >= 64) return;
    if (phase == MM_GC_START) t->starts[t->n] = *t->allocs;
    else t->examined[t->n++] = info->examined;
}

/* The first automatic collection comes at the first 512-flush with count > 2000:
 * inside the 2048th container allocation, before it is tracked (2047 examined).
 * Then long_lived_total = 2047: count must pass 2000 again (2048 more); frees
 * flush -512 at a time. */
static void test_trigger(void) {
    mm_heap *h = ft_heap(NULL);
    long allocs = 0;
    trace_ctx t = {.allocs = &allocs};
    mm_set_observer(h, trace_obs, &t);
    enum { N = 2 * 2048 + 10 };
    mm_object **keep = malloc(N * sizeof *keep);
    for (int i = 0; i < N; i++) {
        allocs++;
        keep[i] = node(h, 0);
    }
    CHECK(t.n == 2, "two collections in %d allocations (%d)", N, t.n);
    CHECK(t.starts[0] == 2048 && t.examined[0] == 2047, "first at allocation %ld, %llu examined", t.starts[0],
          (unsigned long long)t.examined[0]);
    CHECK(t.starts[1] == 4096 && t.examined[1] == 4095, "second at allocation %ld, %llu examined", t.starts[1],
          (unsigned long long)t.examined[1]);
    mm_ft_info fi;
    mm_ft_get_info(h, &fi);
    CHECK(fi.count == 0 && fi.local == 10 && fi.long_lived_total == 4095 && fi.old_count[0] == 2,
          "count %ld local %ld llt %zu old0 %ld", fi.count, fi.local, fi.long_lived_total, fi.old_count[0]);
    for (int i = 0; i < 600; i++) mm_decref(h, keep[i]);
    mm_ft_get_info(h, &fi);
    CHECK(fi.count == 0 && fi.local == 10 - 600 + FLUSH, "a -512 flush, the count kept >= 0 (count %ld local %ld)",
          fi.count, fi.local);
    for (int i = 600; i < N; i++) mm_decref(h, keep[i]);
    free(keep);

    /* the long_lived_total/4 gate: 40000 live → count must exceed 10000 */
    mm_heap_free(h);
    h = ft_heap(NULL);
    allocs = 0;
    t = (trace_ctx){.allocs = &allocs};
    enum { BIG = 40000 };
    keep = malloc(BIG * sizeof *keep);
    for (int i = 0; i < BIG; i++) keep[i] = node(h, 0);
    mm_collect(h, 0);
    mm_set_observer(h, trace_obs, &t);
    mm_ft_get_info(h, &fi);
    long local0 = fi.local;
    CHECK(fi.long_lived_total == BIG, "llt after gc.collect(0): %zu", fi.long_lived_total);
    mm_object **more = malloc(20000 * sizeof *more);
    for (int i = 0; i < 20000; i++) {
        allocs++;
        more[i] = node(h, 0);
    }
    /* flushes land when local0 + allocs hits 512k; the first count > 10000 is 10240 */
    long expect = 10240 - local0;
    CHECK(t.n >= 1 && t.starts[0] == expect, "gated collection at +%ld (expected +%ld)", t.n ? t.starts[0] : -1, expect);
    for (int i = 0; i < BIG; i++) mm_decref(h, keep[i]);
    for (int i = 0; i < 20000; i++) mm_decref(h, more[i]);
    free(keep);
    free(more);
    CHECK(live(h) == 0, "acyclic garbage freed by refcounting");
    mm_heap_free(h);

    char err[256];
    CHECK(mm_heap_new_named("rc+ft", "system", "slots", "memgate=maybe", err, sizeof err) == NULL &&
              strstr(err, "memgate") != NULL,
          "bad memgate refused: %s", err);
}

/* 3.14's memory gate: with memory not growing by 10 %, each passing flush is
 * deferred until the deferred net allocations exceed 40 × threshold0; off, every
 * passing flush collects. Garbage here is 2-cycles, so only collections free. A
 * 64 MB block makes the memory figure large (a mapped block counts as reserved). */
static long gate_period(const char *knobs) {
    mm_heap *h = ft_heap(knobs);
    long allocs = 0, last = 0, period = 0;
    trace_ctx t = {.allocs = &allocs};
    mm_set_observer(h, trace_obs, &t);
    for (int i = 0; i < 200000 && t.n < 6; i++) {
        mm_object *a = node(h, 1);
        mm_object *b = node(h, 1);
        allocs += 2;
        link_slot(h, a, 0, b);
        link_slot(h, b, 0, a);
        mm_decref(h, a);
        mm_decref(h, b);
    }
    /* the period between the last two collections (the first comes at once: no figure yet) */
    if (t.n >= 3) {
        last = t.starts[t.n - 1];
        period = last - t.starts[t.n - 2];
    }
    mm_ft_info fi;
    mm_ft_get_info(h, &fi);
    printf("%s: %d collections, period %ld allocations, %llu deferrals\n", knobs, t.n, period,
           (unsigned long long)fi.deferrals);
    mm_collect(h, MM_COLLECT_FULL);
    CHECK(live(h) == 0, "%s: all cycles freed", knobs);
    mm_heap_free(h);
    return period;
}

static void test_memgate(void) {
    enum { BLOCKS = 65536, BLOCK = 1000 }; /* small blocks: glibc counts them in its arena */
    char **blocks = malloc(BLOCKS * sizeof *blocks);
    for (int i = 0; i < BLOCKS; i++) {
        blocks[i] = malloc(BLOCK);
        memset(blocks[i], 1, BLOCK);
    }
    long off = gate_period("threshold0=500/memgate=off");
    long on = gate_period("threshold0=500/memgate=on");
    for (int i = 0; i < BLOCKS; i++) free(blocks[i]);
    free(blocks);
    /* frees of garbage inside a collection lower the local count (up to 511 left),
     * so a period is one or two flushes */
    CHECK(off > FLUSH / 2 && off <= 2 * FLUSH, "memgate=off: a collection every flush or two (%ld)", off);
    /* deferred at each flush until > 40 x 500 net allocations, then the next flush */
    CHECK(on > 40 * 500 && on <= 40 * 500 + 3 * FLUSH, "memgate=on: every ~40 x threshold0 (%ld)", on);
}

/* Every gc.collect(g) scans the whole heap; the label moves the counts only. */
static void test_full(void) {
    mm_heap *h = ft_heap(NULL);
    mm_object *a = cycle3_tail(h, node);
    CHECK(mm_collect(h, 0) == 0 && live(h) == 4, "a held cycle survives");
    mm_decref(h, a);
    CHECK(mm_collect(h, 0) == 4 && live(h) == 0, "gc.collect(0) is a whole-heap collection");
    mm_stats s;
    mm_get_stats(h, &s);
    CHECK(s.collections[0] == 2 && s.collected_by_gen[0] == 4, "reported as generation 0");
    mm_ft_info fi;
    mm_ft_get_info(h, &fi);
    CHECK(fi.old_count[0] == 2 && fi.old_count[1] == 0, "old[0].count += 1 per collection(0)");
    mm_collect(h, 1);
    mm_ft_get_info(h, &fi);
    CHECK(fi.old_count[0] == 0 && fi.old_count[1] == 1, "collection(1): old[0] reset, old[1] += 1");
    mm_heap_free(h);
}

/* Finalizers once, weakrefs cleared before them, resurrection kept. */
static mm_object *resurrected;
static void resurrect(mm_heap *h, mm_object *o) {
    (void)h;
    fnode_finalized++;
    if (resurrected == NULL) {
        mm_incref(o);
        resurrected = o;
    }
}

static void test_finalizers(void) {
    mm_heap *h = ft_heap(NULL);
    enum { CYCLES = 1000 };
    fnode_finalized = 0;
    mm_object *first = NULL, *wr = NULL;
    for (int i = 0; i < CYCLES; i++) {
        mm_object *p = mm_new(h, &fnode_type, 0), *q = mm_new(h, &fnode_type, 0);
        mm_store(h, p, &mm_slots(p)[0], mm_ref(q));
        mm_store(h, q, &mm_slots(q)[0], mm_ref(p));
        if (i == 0) {
            first = p;
            wr = mm_weakref_new(h, p, NULL, NULL);
        }
        mm_decref(h, q);
        mm_decref(h, p);
    }
    (void)first;
    mm_collect(h, MM_COLLECT_FULL);
    CHECK(fnode_finalized == 2 * CYCLES && live(h) == 1, "each finalizer once, all cycles freed (%d, %llu live)",
          fnode_finalized, (unsigned long long)live(h));
    CHECK(mm_weakref_get(wr) == NULL, "the weakref reads empty");
    mm_decref(h, wr);

    mm_class *cls;
    static const char *const attrs[] = {"other", MM_WEAKREF_ATTR};
    cls = mm_class_new(h, "R", attrs, 2);
    mm_class_set_finalizer(cls, resurrect);
    mm_attr a_other = mm_intern(h, "other");
    mm_object *x = mm_instance_new(h, cls), *y = mm_instance_new(h, cls);
    mm_setattr(h, x, a_other, mm_ref(y));
    mm_setattr(h, y, a_other, mm_ref(x));
    mm_decref(h, x);
    mm_decref(h, y);
    fnode_finalized = 0;
    resurrected = NULL;
    CHECK(mm_collect(h, MM_COLLECT_FULL) == 0 && live(h) == 2 && fnode_finalized == 2,
          "a resurrected cycle lives on (%llu live, %d finalized)", (unsigned long long)live(h), fnode_finalized);
    mm_object *r = resurrected;
    resurrected = (mm_object *)1; /* no second resurrection: finalizers do not run again anyway */
    mm_decref(h, r);
    CHECK(mm_collect(h, MM_COLLECT_FULL) == 2 && live(h) == 0 && fnode_finalized == 2, "then goes, finalizers not rerun");
    mm_heap_free(h);
}

/* Freeze: frozen objects are never examined nor collected; mark-alive is skipped
 * while frozen; with roots, mark-alive keeps what they reach out of the partition
 * (examined still counts every scanned object, alive ones included). */
static void test_freeze_markalive(void) {
    mm_heap *h = ft_heap(NULL);
    garbage_pair(h, node);
    mm_freeze(h);
    mm_ft_info fi;
    mm_ft_get_info(h, &fi);
    CHECK(fi.frozen_size == 2 && fi.freeze_active, "frozen: %zu", fi.frozen_size);
    long allocs = 0;
    trace_ctx t = {.allocs = &allocs};
    mm_set_observer(h, trace_obs, &t);
    CHECK(mm_collect(h, MM_COLLECT_FULL) == 0 && live(h) == 2 && t.examined[0] == 0, "frozen never collected");
    mm_unfreeze(h);
    CHECK(mm_collect(h, MM_COLLECT_FULL) == 2 && live(h) == 0, "after unfreeze the cycle goes");
    mm_heap_free(h);

    /* a rooted self-referencing chain: alive, never partitioned, never freed */
    h = ft_heap(NULL);
    mm_object *root = node(h, 1);
    mm_root_push(h, &root);
    link_slot(h, root, 0, root);
    mm_object *g = node(h, 1);
    link_slot(h, g, 0, g);
    mm_decref(h, g);
    CHECK(mm_collect(h, MM_COLLECT_FULL) == 1 && live(h) == 1, "the garbage goes, the rooted object stays");
    mm_ft_get_info(h, &fi);
    CHECK(fi.long_lived_total == 1, "alive objects count as long-lived (%zu)", fi.long_lived_total);
    mm_root_pop(h, 1);
    mm_decref(h, root);
    CHECK(mm_collect(h, MM_COLLECT_FULL) == 1 && live(h) == 0, "unrooted, it is garbage");
    mm_heap_free(h);
}

/* ---- property test (the harness: graph_property.h) ------------------------------ */

/* rc+ft keeps no incoming counts: the verifier counts them itself. */
static const gp_gc ft_gc = {.is_tracked = mm_ft_is_tracked, .for_each = mm_ft_for_each};

/* 35% new, 40% store, 15% drop, 7% hold a referent, 2% garbage self-cycle (raises the count), 1% collect. */
static const gp_mix ft_mix = {100, 35, 75, 75, 90, 97, 99, 4};

/* Every collection is whole-heap: after each (automatic ones included) the live
 * set is exactly what the holds reach. */
typedef struct {
    gp_world *w;
    mm_heap *h;
    long checks, failures, automatic;
    bool manual; /* inside the test's own mm_collect call */
} full_ctx;

static void check_after(mm_gc_phase phase, const mm_gc_info *info, void *arg) {
    (void)info;
    full_ctx *f = arg;
    if (phase != MM_GC_STOP) return;
    f->checks++;
    if (!f->manual) f->automatic++;
    /* the allocation that triggered it is not yet held: at most one object more */
    uint64_t l = live(f->h), r = gp_reachable_count(f->w);
    if (l != r) f->failures++;
}

static void property_seed(uint64_t seed, long ops, const char *knobs) {
    mm_heap *h = ft_heap(knobs);
    gp_world *w = gp_world_new(&ft_gc, node);
    full_ctx f = {.w = w, .h = h};
    mm_set_observer(h, check_after, &f);
    gp_seed(seed);
    bool rooted = seed % 2 == 0; /* half the seeds register the holds: mark-alive runs */
    if (rooted) gp_root_holds(w, h);
#if MM_DEBUG
    mm_ft_set_verifier(h, gp_verify, w);
#endif
    for (long op = 0; op < ops; op++) {
        if (op % BURST_EVERY == 0) /* a burst of garbage: net allocations enough for automatic collections */
            for (int k = 0; k < BURST; k++) gp_garbage_cycle(w, h);
        if (gp_step(w, h, &ft_mix) == GP_COLLECT) {
            f.manual = true;
            mm_collect(h, (int)(gp_rnd() % 3));
            f.manual = false;
            gp_verify(h, w);
        }
    }
    gp_verify(h, w);
    gp_release_holds(w, h);
    if (rooted) mm_root_pop(h, GP_HANDLES);
    mm_set_observer(h, NULL, NULL);
    mm_collect(h, MM_COLLECT_FULL);
    mm_stats s;
    mm_get_stats(h, &s);
    gp_check_verified(w, seed);
    CHECK(f.failures == 0, "seed %llu: %ld of %ld collections left garbage or freed the reachable",
          (unsigned long long)seed, f.failures, f.checks);
    CHECK(live(h) == 0, "seed %llu: %llu objects survive the final collection", (unsigned long long)seed,
          (unsigned long long)live(h));
    CHECK(f.automatic >= 5 && s.collected > 0, "seed %llu: automatic collections ran (%ld, %llu collected)",
          (unsigned long long)seed, f.automatic, (unsigned long long)s.collected);
    printf("seed %llu (%s): %ld ops, %llu/%llu/%llu collections (%ld automatic), %llu collected, %ld checks\n",
           (unsigned long long)seed, knobs, ops, (unsigned long long)s.collections[0],
           (unsigned long long)s.collections[1], (unsigned long long)s.collections[2], f.automatic,
           (unsigned long long)s.collected, f.checks);
    free(w);
    mm_heap_free(h);
}

int main(void) {
    test_trigger();
    test_memgate();
    test_full();
    test_finalizers();
    test_freeze_markalive();
    int seeds = gp_env_seeds(4);
    long ops = gp_env_ops(150000);
    for (int s = 1; s <= seeds; s++)
        property_seed((uint64_t)s, ops, s % 2 ? "threshold0=100/markalive=0" : "threshold0=50/memgate=on");
    (void)collections;
    return check_summary();
}
