/* test_floating.c — floating garbage (strategies/floating.c) against independent
 * counts: a small hand-built heap whose garbage is known by construction, and
 * random graph operations under every strategy that keeps refcounts, where the
 * oracle is the test's own walk from its holds (live − reachable). Also: passes
 * every N allocations, never inside a collection, and the refusal under boehm.
 */
#include <stdlib.h>
#include <string.h>

/* Holds of the random graphs: a small program, many passes over it. */
#define GP_HANDLES 256
#include "graph_property.h"
#include "mm.h"

static mm_object *node(mm_heap *h, size_t k) { return mm_new(h, &pnode_type, k); }

/* Bytes of a k-slot node with the heap's pre-header. */
static uint64_t node_bytes(mm_heap *h, size_t k) {
    mm_stats s;
    mm_get_stats(h, &s);
    return s.preheader_bytes + sizeof(mm_varobject) + k * sizeof(mm_value);
}

/* Built by hand: a held chain a→b→c with c→self (reachable: 3); a dropped
 * 2-cycle p⇄q (2 floating under rc); a dropped cycle x⇄y with x→z (z acyclic,
 * held only by garbage: 3 floating); a rooted r (registered, refcount 1 from its
 * hold); an acyclic dropped d (freed at once under rc, floating under none). */
static void test_hand_built(const char *reclaim) {
    mm_heap *h = test_heap(reclaim, NULL);
    char err[256];
    CHECK(mm_floating_start(h, 0, NULL, NULL, err, sizeof err), "%s: census starts: %s", reclaim, err);
    mm_object *a = node(h, 1), *b = node(h, 1), *c = node(h, 1);
    link_slot(h, a, 0, b);
    link_slot(h, b, 0, c);
    link_slot(h, c, 0, c);
    mm_decref(h, b);
    mm_decref(h, c);
    mm_object *p = node(h, 1), *q = node(h, 1);
    link_slot(h, p, 0, q);
    link_slot(h, q, 0, p);
    mm_decref(h, p);
    mm_decref(h, q);
    mm_object *x = node(h, 2), *y = node(h, 1), *z = node(h, 0);
    link_slot(h, x, 0, y);
    link_slot(h, y, 0, x);
    link_slot(h, x, 1, z);
    mm_decref(h, y);
    mm_decref(h, z);
    mm_decref(h, x);
    mm_object *r = node(h, 0);
    mm_root_push(h, &r);
    mm_object *d = node(h, 0);
    mm_decref(h, d);
    mm_floating f;
    CHECK(mm_floating_measure(h, &f), "%s: a pass runs", reclaim);
    bool frees = strcmp(reclaim, "none") != 0;
    uint64_t want = frees ? 5 : 6;
    uint64_t want_bytes = 3 * node_bytes(h, 1) + node_bytes(h, 2) + node_bytes(h, 0) + (frees ? 0 : node_bytes(h, 0));
    CHECK(f.objects == want && f.bytes == want_bytes, "%s: floating %llu objects / %llu bytes, expected %llu / %llu",
          reclaim, (unsigned long long)f.objects, (unsigned long long)f.bytes, (unsigned long long)want,
          (unsigned long long)want_bytes);
    CHECK(f.live_objects == live(h) && f.allocations == 10, "%s: census %llu == live %llu, %llu allocations", reclaim,
          (unsigned long long)f.live_objects, (unsigned long long)live(h), (unsigned long long)f.allocations);
    /* a collection frees the cycles: nothing floats but what only refcounting would have freed */
    if (mm_has_collector(h)) {
        mm_collect(h, MM_COLLECT_FULL);
        mm_floating_measure(h, &f);
        CHECK(f.objects == 0 && f.live_objects == live(h) && live(h) == 4,
              "%s: after a full collection nothing floats (%llu, %llu live)", reclaim, (unsigned long long)f.objects,
              (unsigned long long)live(h));
    }
    /* dropping the hold of a makes a, b, c garbage (c's self-loop keeps it under rc) */
    mm_decref(h, a);
    mm_floating_measure(h, &f);
    uint64_t after = mm_has_collector(h) ? 1 : frees ? 6 : 9;
    CHECK(f.objects == after, "%s: after dropping a: %llu floating, expected %llu", reclaim,
          (unsigned long long)f.objects, (unsigned long long)after);
    mm_root_pop(h, 1);
    mm_decref(h, r);
    mm_heap_free(h);
}

/* ---- random graphs against the test's own walk ---------------------------------- */

/* 35% new, 40% store, 17% drop, 7% hold a referent (up to 3 slots), 1% measure. */
static const gp_mix floating_mix = {100, 35, 75, 75, 92, 99, 99, 3};

typedef struct {
    mm_heap *h;
    bool in_gc;
    long passes, in_gc_passes, started;
    uint64_t last_alloc, max_gap;
} pass_ctx;

static void on_pass(const mm_floating *f, void *arg) {
    pass_ctx *p = arg;
    if (f == NULL) {
        p->started++;
        if (p->in_gc) p->in_gc_passes++;
        return;
    }
    p->passes++;
    if (f->allocations - p->last_alloc > p->max_gap) p->max_gap = f->allocations - p->last_alloc;
    p->last_alloc = f->allocations;
}

static void on_gc(mm_gc_phase phase, const mm_gc_info *info, void *arg) {
    (void)info;
    ((pass_ctx *)arg)->in_gc = phase == MM_GC_START;
}

static void random_graph(const char *reclaim, const char *knobs, uint64_t seed) {
    mm_heap *h = test_heap(reclaim, knobs);
    enum { EVERY = 97, OPS = 60000 };
    pass_ctx pc = {.h = h};
    char err[256];
    CHECK(mm_floating_start(h, EVERY, on_pass, &pc, err, sizeof err), "%s: census: %s", reclaim, err);
    mm_set_observer(h, on_gc, &pc);
    gp_world *w = gp_world_new(NULL, node); /* the oracle is the walk from the holds */
    gp_seed(seed);
    long checks = 0, bad = 0;
    uint64_t max_floating = 0;
    for (long op = 0; op < OPS; op++) {
        if (gp_step(w, h, &floating_mix) != GP_COLLECT) continue;
        mm_floating f;
        mm_floating_measure(h, &f);
        uint64_t want = live(h) - gp_reachable_count(w);
        checks++;
        if (f.objects != want || f.live_objects != live(h)) {
            if (bad++ == 0)
                fprintf(stderr, "%s: floating %llu, live %llu - reachable = %llu\n", reclaim,
                        (unsigned long long)f.objects, (unsigned long long)live(h), (unsigned long long)want);
        }
        if (f.objects > max_floating) max_floating = f.objects;
    }
    CHECK(bad == 0 && checks > 100, "%s: %ld of %ld passes disagree with live - reachable", reclaim, bad, checks);
    CHECK(pc.in_gc_passes == 0 && pc.started == pc.passes, "%s: no pass inside a collection (%ld)", reclaim,
          pc.in_gc_passes);
    mm_stats s;
    mm_get_stats(h, &s);
    long want_passes = (long)(s.objects_allocated / EVERY);
    CHECK(pc.passes == want_passes, "%s: a pass every %d allocations (%ld passes, %llu allocations)", reclaim, EVERY,
          pc.passes, (unsigned long long)s.objects_allocated);
    printf("%s: %ld checks, %ld periodic passes (largest gap %llu allocations), max floating %llu\n", reclaim, checks,
           pc.passes, (unsigned long long)pc.max_gap, (unsigned long long)max_floating);
    gp_release_holds(w, h);
    free(w);
    mm_heap_free(h);
}

int main(void) {
    const char *all[] = {"none", "rc", "rc+gen", "rc+trial", "rc+incr", "rc+ft"};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) test_hand_built(all[i]);
    random_graph("none", NULL, 1);
    random_graph("rc", NULL, 2);
    random_graph("rc+gen", "gc=50,5,5", 3);
    random_graph("rc+trial", NULL, 4);
    random_graph("rc+incr", "young=50", 5);
    random_graph("rc+ft", "threshold0=50/threshold1=0", 6);
#ifndef MS_SANITIZE_BUILD
    char err[256];
    mm_heap *h = mm_heap_new_named("boehm", "system", "slots", NULL, err, sizeof err);
    if (h != NULL) {
        CHECK(!mm_floating_start(h, 10, NULL, NULL, err, sizeof err) && strstr(err, "not measured"),
              "boehm refused: %s", err);
        mm_heap_free(h);
    }
#endif
    return check_summary();
}
