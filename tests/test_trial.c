/* test_trial.c — `rc+trial`: Bacon-Rajan trial deletion finds cycles and only cycles.
 *
 * Scenarios: a ring of n freed by one collection; a tree with parent pointers
 * freed once its root is dropped; a cycle reachable from a live object is not
 * collected; a cycle whose member is decremented to non-zero but is still held
 * from outside survives (and goes once the hold does); the `buffer=` size
 * triggers a collection by itself; finalizers run once, weakrefs to garbage are
 * cleared before them, resurrection keeps objects alive; bad knobs are refused.
 *
 * Property test: per seed ≥ 200k random operations (new object with k slots,
 * store a held object or None into a slot, drop a hold, take a hold on a
 * slot's referent, collect). Half the seeds use a tiny buffer so automatic
 * collections run all through. After each explicit collection: live objects ==
 * objects reachable from the holds (no garbage left, nothing live freed), and
 * every reachable object has a valid type (freed memory is poisoned in debug
 * builds and ASan watches it), is black and unbuffered, and has refcount ==
 * incoming references from reachable objects + holds. At the end, every hold
 * dropped and a collection run, nothing is alive.
 */
#include <stdlib.h>
#include <string.h>

#include "graph_property.h"
#include "mm.h"
#include "reclaim_trial.h"

/* A leaf: holds no references, so the collector never colors it. */
static const mm_type leaf_type = {.name = "TLeaf", .size = sizeof(mm_object)};

static mm_heap *trial_heap(const char *knobs) { return test_heap("rc+trial", knobs); }

static mm_object *node(mm_heap *h, size_t k) { return mm_new(h, &pnode_type, k); }

static void test_ring(void) {
    enum { N = 100000 };
    mm_heap *h = trial_heap("buffer=1000000");
    mm_object *first = node(h, 2), *prev = first;
    for (int i = 1; i < N; i++) {
        mm_object *x = node(h, 2);
        link_slot(h, prev, 0, x);
        mm_object *leaf = mm_new(h, &leaf_type, 0);
        link_slot(h, x, 1, leaf); /* a leaf child of a white object is released too */
        mm_decref(h, leaf);
        if (prev != first) mm_decref(h, prev);
        prev = x;
    }
    link_slot(h, prev, 0, first);
    mm_decref(h, prev);
    CHECK(mm_collect(h, MM_COLLECT_FULL) == 0 && live(h) == 2 * N - 1, "held ring survives (%llu live)",
          (unsigned long long)live(h));
    mm_decref(h, first);
    CHECK(live(h) == 2 * N - 1, "rc alone cannot free the ring");
    CHECK(mm_trial_buffered(h) == 1, "the head is buffered once (%zu)", mm_trial_buffered(h));
    uint64_t n = mm_collect(h, MM_COLLECT_FULL);
    CHECK(n == N, "collected counts the ring's containers (%llu)", (unsigned long long)n);
    CHECK(live(h) == 0, "ring and its leaves freed (%llu left)", (unsigned long long)live(h));
    mm_stats s;
    mm_get_stats(h, &s);
    CHECK(s.collections[0] == 2 && s.collected == N && s.preheader_bytes == 16, "stats: %llu collections, 16-byte pre-header",
          (unsigned long long)s.collections[0]);
    mm_heap_free(h);
}

/* A complete binary tree whose nodes point back at their parent: every edge is on a cycle. */
static void test_tree_parent(void) {
    enum { DEPTH = 14 };
    mm_heap *h = trial_heap(NULL);
    mm_object *root = node(h, 3);
    mm_object **level = malloc(sizeof *level << DEPTH), **next = malloc(sizeof *next << DEPTH);
    size_t n = 1, total = 1;
    level[0] = root;
    for (int d = 1; d < DEPTH; d++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            for (int c = 0; c < 2; c++) {
                mm_object *k = node(h, 3);
                link_slot(h, level[i], (size_t)c, k);
                link_slot(h, k, 2, level[i]);
                next[m++] = k;
                mm_decref(h, k);
            }
        }
        mm_object **t = level;
        level = next;
        next = t;
        n = m;
        total += m;
    }
    mm_collect(h, MM_COLLECT_FULL);
    CHECK(live(h) == total, "held tree survives collection (%llu of %zu)", (unsigned long long)live(h), total);
    CHECK(mm_trial_is_clean(h, root) && mm_trial_is_clean(h, level[0]), "survivors are black and unbuffered");
    mm_decref(h, root);
    uint64_t c = mm_collect(h, MM_COLLECT_FULL);
    CHECK(c == total && live(h) == 0, "dropped tree collected (%llu of %zu, %llu left)", (unsigned long long)c, total,
          (unsigned long long)live(h));
    free(level);
    free(next);
    mm_heap_free(h);
}

static void test_live_cycles_survive(void) {
    mm_heap *h = trial_heap(NULL);
    /* a 3-cycle reachable from a live holder */
    mm_object *holder = node(h, 1), *a = node(h, 1), *b = node(h, 1), *c = node(h, 1);
    link_slot(h, holder, 0, a);
    link_slot(h, a, 0, b);
    link_slot(h, b, 0, c);
    link_slot(h, c, 0, a);
    mm_decref(h, a);
    mm_decref(h, b);
    mm_decref(h, c);
    CHECK(mm_trial_buffered(h) == 3, "three decrements to non-zero, three candidates (%zu)", mm_trial_buffered(h));
    CHECK(mm_collect(h, MM_COLLECT_FULL) == 0 && live(h) == 4, "a cycle reachable from a live object survives");
    CHECK(a->refcount == 2 && b->refcount == 1 && c->refcount == 1, "counts restored (%ld %ld %ld)", (long)a->refcount,
          (long)b->refcount, (long)c->refcount);
    CHECK(mm_trial_is_clean(h, a) && mm_trial_is_clean(h, b) && mm_trial_is_clean(h, c), "survivors black, unbuffered");
    link_slot(h, holder, 0, NULL);
    CHECK(mm_collect(h, MM_COLLECT_FULL) == 3 && live(h) == 1, "unlinked from the holder, the cycle goes");
    mm_decref(h, holder);

    /* a member decremented to non-zero while the program still holds it */
    mm_object *x = node(h, 1), *y = node(h, 1);
    link_slot(h, x, 0, y);
    link_slot(h, y, 0, x);
    mm_incref(x); /* a second program hold on x */
    mm_decref(h, x);
    mm_decref(h, y);
    CHECK(mm_collect(h, MM_COLLECT_FULL) == 0 && live(h) == 2, "externally held cycle survives");
    CHECK(x->refcount == 2 && y->refcount == 1, "its counts are intact (%ld, %ld)", (long)x->refcount, (long)y->refcount);
    mm_decref(h, x);
    CHECK(mm_collect(h, MM_COLLECT_FULL) == 2 && live(h) == 0, "after the hold goes, so does the cycle");

    /* an object freed by refcounting while buffered leaves the buffer */
    mm_object *p = node(h, 0);
    mm_incref(p);
    mm_decref(h, p);
    CHECK(mm_trial_buffered(h) == 1, "buffered");
    mm_decref(h, p);
    CHECK(mm_trial_buffered(h) == 0 && live(h) == 0, "freed while buffered: out of the buffer");
    mm_heap_free(h);
}

static void test_buffer_trigger(void) {
    enum { B = 100 };
    mm_heap *h = trial_heap("buffer=100");
    mm_stats s;
    for (int i = 0; i < B - 1; i++) {
        mm_object *x = node(h, 1);
        link_slot(h, x, 0, x);
        mm_decref(h, x);
    }
    mm_get_stats(h, &s);
    CHECK(s.collections[0] == 0 && mm_trial_buffered(h) == B - 1 && live(h) == B - 1, "no collection below the buffer size");
    mm_object *x = node(h, 1);
    link_slot(h, x, 0, x);
    mm_decref(h, x);
    mm_get_stats(h, &s);
    CHECK(s.collections[0] == 1 && s.collected == B && live(h) == 0 && mm_trial_buffered(h) == 0,
          "the %dth candidate triggers a collection (%llu collections, %llu live)", B,
          (unsigned long long)s.collections[0], (unsigned long long)live(h));
    /* disabled: the buffer only grows; mm_collect still works */
    mm_gc_disable(h);
    for (int i = 0; i < 3 * B; i++) {
        mm_object *y = node(h, 1);
        link_slot(h, y, 0, y);
        mm_decref(h, y);
    }
    mm_get_stats(h, &s);
    CHECK(s.collections[0] == 1 && live(h) == 3 * B, "disabled: no automatic collection");
    CHECK(mm_collect(h, 0) == 3 * B && live(h) == 0, "mm_collect runs while disabled");
    mm_heap_free(h);
    char err[200];
    CHECK(mm_heap_new_named("rc+trial", "system", "slots", "buffer=0", err, sizeof err) == NULL && strstr(err, "buffer"),
          "buffer=0 refused: %s", err);
    CHECK(mm_heap_new_named("rc+trial", "system", "slots", "policy=sometimes", err, sizeof err) == NULL &&
              strstr(err, "policy"),
          "bad policy refused: %s", err);
    CHECK(mm_heap_new_named("rc+trial", "system", "slots", "gc=700,10,10", err, sizeof err) == NULL,
          "rc+gen's knob refused: %s", err);
}

/* ---- finalizers and weak references ---------------------------------------------------- */

static int finalized_a, finalized_b, callbacks;
static bool a_saw_b_weakref_dead;
static mm_object *weak_to_b, *resurrect_into;

static void fin_a(mm_heap *h, mm_object *o) {
    (void)h;
    (void)o;
    finalized_a++;
    if (weak_to_b) a_saw_b_weakref_dead = mm_weakref_get(weak_to_b) == NULL;
}

static void fin_b(mm_heap *h, mm_object *o) {
    (void)h;
    (void)o;
    finalized_b++;
}

static void fin_resurrect(mm_heap *h, mm_object *o) {
    (void)h;
    finalized_a++;
    mm_incref(o);
    resurrect_into = o;
}

static void count_callback(mm_heap *h, mm_object *wr, void *ctx) {
    (void)h;
    (void)ctx;
    callbacks++;
    CHECK(mm_weakref_get(wr) == NULL, "a callback sees its weakref already cleared");
}

static void reset(void) {
    finalized_a = finalized_b = callbacks = 0;
    a_saw_b_weakref_dead = false;
    weak_to_b = resurrect_into = NULL;
}

static const char *const node_attrs[] = {"a", "b", MM_WEAKREF_ATTR};

/* Makes the cycle a <-> b through slot "b"; returns new references to both. */
static void cycle(mm_heap *h, mm_class *ca, mm_class *cb, mm_object **a, mm_object **b) {
    mm_attr ab = mm_intern(h, "b");
    *a = mm_instance_new(h, ca);
    *b = mm_instance_new(h, cb);
    mm_setattr(h, *a, ab, mm_ref(*b));
    mm_setattr(h, *b, ab, mm_ref(*a));
}

/* The scenarios of test_finalize.c's collector test, with CPython's expected results. */
static void test_finalizers_weakrefs(void) {
    mm_heap *h = trial_heap(NULL);
    mm_class *plain = mm_class_new(h, "N", node_attrs, 3);
    mm_class *ca = mm_class_new(h, "FA", node_attrs, 3);
    mm_class *cb = mm_class_new(h, "FB", node_attrs, 3);
    mm_class *cr = mm_class_new(h, "R", node_attrs, 3);
    mm_class_set_finalizer(ca, fin_a);
    mm_class_set_finalizer(cb, fin_b);
    mm_class_set_finalizer(cr, fin_resurrect);
    mm_attr aa = mm_intern(h, "a");
    mm_object *a, *b;

    reset();
    cycle(h, ca, cb, &a, &b);
    mm_object *w = mm_weakref_new(h, a, count_callback, NULL);
    weak_to_b = mm_weakref_new(h, b, NULL, NULL);
    mm_decref(h, a);
    mm_decref(h, b);
    uint64_t n = mm_collect(h, MM_COLLECT_FULL);
    CHECK(n == 2 && live(h) == 2, "finalizable cycle collected (%llu)", (unsigned long long)n);
    CHECK(finalized_a == 1 && finalized_b == 1, "each finalizer once (%d, %d)", finalized_a, finalized_b);
    CHECK(a_saw_b_weakref_dead, "weakrefs to garbage are cleared before finalizers run");
    CHECK(callbacks == 1 && mm_weakref_get(w) == NULL, "the live weakref's callback ran once (%d)", callbacks);
    mm_decref(h, w);
    mm_decref(h, weak_to_b);
    CHECK(live(h) == 0, "all freed (%llu live)", (unsigned long long)live(h));

    reset();
    cycle(h, cr, plain, &a, &b);
    mm_decref(h, a);
    mm_decref(h, b);
    n = mm_collect(h, MM_COLLECT_FULL);
    CHECK(n == 0 && resurrect_into == a && live(h) == 2, "resurrection: nothing collected, both live (%llu, %llu)",
          (unsigned long long)n, (unsigned long long)live(h));
    mm_object *back = resurrect_into;
    resurrect_into = NULL;
    mm_decref(h, back);
    n = mm_collect(h, MM_COLLECT_FULL);
    CHECK(n == 2 && finalized_a == 1 && live(h) == 0, "then collected, no second finalizer (%llu, %d)",
          (unsigned long long)n, finalized_a);

    reset();
    cycle(h, plain, plain, &a, &b);
    mm_object *gw = mm_weakref_new(h, a, count_callback, NULL);
    mm_setattr(h, b, aa, mm_ref(gw));
    mm_decref(h, gw);
    mm_decref(h, a);
    mm_decref(h, b);
    n = mm_collect(h, MM_COLLECT_FULL);
    CHECK(n == 3 && callbacks == 0 && live(h) == 0, "a garbage weakref's callback does not run (%llu, %d)",
          (unsigned long long)n, callbacks);

    reset();
    enum { CYCLES = 10000 };
    for (int i = 0; i < CYCLES; i++) {
        cycle(h, ca, cb, &a, &b);
        mm_decref(h, a);
        mm_decref(h, b);
    }
    mm_collect(h, MM_COLLECT_FULL);
    CHECK(finalized_a == CYCLES && finalized_b == CYCLES && live(h) == 0, "bulk: %d/%d finalizers for %d cycles",
          finalized_a, finalized_b, CYCLES);
    mm_heap_free(h);
}

/* ---- property test (the harness: graph_property.h) ----------------------------------- */

/* 35% new, 35% store, 5% store both ways (a 2-cycle or a self-loop, so garbage
 * cycles are common), 15% drop, 9.8% hold a referent, 0.2% collect. */
static const gp_mix trial_mix = {1000, 350, 700, 750, 900, 998, 998, 4};

/* A reached object is a live node (not poisoned) left black and unbuffered. */
static bool trial_sane(mm_object *o) { return o->type == &pnode_type && mm_trial_is_clean(NULL, o); }

/* The oracle after a collection: live == reachable, each reachable object sane with a true count. */
static bool verify_after_collect(mm_heap *h, gp_world *w) {
    gp_reach r = {.sane = trial_sane};
    gp_reach_walk(&r, w->held, GP_HANDLES);
    for (size_t i = 0; i < r.seen.cap; i++)
        if (r.seen.keys[i] && r.seen.keys[i]->refcount != r.seen.vals[i]) r.bad++;
    bool ok = r.bad == 0 && r.seen.len == live(h) && mm_trial_buffered(h) == 0;
    if (!ok)
        fprintf(stderr, "verify: %ld bad, %zu reachable, %llu live, %zu buffered\n", r.bad, r.seen.len,
                (unsigned long long)live(h), mm_trial_buffered(h));
    gp_reach_free(&r);
    return ok;
}

static void property_seed(uint64_t seed, long ops, const char *knobs) {
    mm_heap *h = trial_heap(knobs);
    gp_world *w = gp_world_new(NULL, node); /* no gp_verify: the oracle is the walk above */
    gp_seed(seed);
    long checks = 0, failures = 0;
    for (long op = 0; op < ops; op++) {
        if (gp_step(w, h, &trial_mix) == GP_COLLECT) {
            mm_collect(h, MM_COLLECT_FULL);
            checks++;
            if (!verify_after_collect(h, w)) failures++;
        }
    }
    gp_release_holds(w, h);
    mm_collect(h, MM_COLLECT_FULL);
    mm_stats s;
    mm_get_stats(h, &s);
    CHECK(failures == 0, "seed %llu: %ld of %ld checks after a collection failed", (unsigned long long)seed, failures,
          checks);
    CHECK(live(h) == 0, "seed %llu: %llu objects survive the final collection", (unsigned long long)seed,
          (unsigned long long)live(h));
    CHECK(s.collections[0] > (uint64_t)checks && s.collected > 0, "seed %llu: automatic collections ran too (%llu, %ld explicit)",
          (unsigned long long)seed, (unsigned long long)s.collections[0], checks);
    printf("seed %llu (%s): %ld ops, %llu collections, %llu collected, %ld checks\n", (unsigned long long)seed,
           knobs, ops, (unsigned long long)s.collections[0], (unsigned long long)s.collected, checks);
    free(w);
    mm_heap_free(h);
}

int main(void) {
    test_ring();
    test_tree_parent();
    test_live_cycles_survive();
    test_buffer_trigger();
    test_finalizers_weakrefs();
    int seeds = gp_env_seeds(4);
    long ops = gp_env_ops(200000);
    for (int s = 1; s <= seeds; s++) property_seed((uint64_t)s, ops, s % 2 ? "buffer=20" : "buffer=500");
    return check_summary();
}
