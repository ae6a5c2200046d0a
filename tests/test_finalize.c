/* test_finalize.c — finalizers (PEP 442) and weak references, under `rc`, `rc+gen`
 * and `rc+incr` (whose gc.collect() is a full collection with the same steps).
 *
 * The collector scenarios mirror a python3.11 script run once by hand (objects
 * are instances of a `__slots__` class with `__weakref__`); its results are the
 * expected values here:
 *   s2 cycle A<->B, both with __del__, a live weakref with callback to A:
 *      gc.collect() == 2, A's __del__ sees the weakref to B already dead,
 *      the callback runs once;
 *   s3 A's __del__ stores A in a global (resurrection), A<->B: collect() == 0,
 *      both live on; after the global is dropped collect() == 2 and __del__ is
 *      not called again;
 *   s4 A<->B, B holds a weakref-with-callback to A (the weakref is garbage too):
 *      the callback does not run; CPython returns 4 (A, B, the weakref and the
 *      callback's lambda); here the callback is C, so 3;
 *   s5 A<->B, a live holder's weakref to A whose callback drops that weakref:
 *      collect() == 3 (A, B and the weakref freed after its callback).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "test_util.h"
#include "reclaim_gen.h"
#include "reclaim_incr.h"
#include "registry.h"

static int finalized_a, finalized_b, callbacks;
static bool a_saw_b_weakref_dead;
static mm_object *weak_to_b;       /* s2: a weakref A's finalizer reads */
static mm_object *resurrect_into;  /* s3: where the finalizer stores its object */
static mm_heap *current;
/* The bulk scenario's record of fin_a's calls, by cycle number (attribute "a"). */
#define ORDER_MAX 10000
static long order[ORDER_MAX];
static int norder;

static void fin_a(mm_heap *h, mm_object *o) {
    finalized_a++;
    if (weak_to_b) a_saw_b_weakref_dead = mm_weakref_get(weak_to_b) == NULL;
    mm_value id = mm_getattr(h, o, mm_intern(h, "a"));
    if ((id & 1u) && norder < ORDER_MAX) order[norder++] = mm_as_int(id);
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

/* s5's callback: the holder drops the weakref whose callback this is. */
static void drop_holder_slot(mm_heap *h, mm_object *wr, void *ctx) {
    (void)wr;
    callbacks++;
    mm_object *holder = ctx;
    mm_store(h, holder, &mm_slots(holder)[0], MM_NONE);
}

/* The heap under test; "rc+gen32" is rc+gen with header=32 (its other head). */
static mm_heap *heap(const char *reclaim) {
    char err[256];
    const char *off = strcmp(reclaim, "rc+incr") == 0 ? "young=0" : "gc=off";
    if (strcmp(reclaim, "rc+gen32") == 0) {
        reclaim = "rc+gen";
        off = "gc=off/header=32";
    }
    mm_heap *h = mm_heap_new_named(reclaim, "system", "slots", off, err, sizeof err);
    if (h == NULL) h = mm_heap_new_named(reclaim, "system", "slots", NULL, err, sizeof err);
    if (h == NULL) {
        fprintf(stderr, "heap: %s\n", err);
        exit(1);
    }
    current = h;
    return h;
}

static void reset(void) {
    finalized_a = finalized_b = callbacks = 0;
    a_saw_b_weakref_dead = false;
    weak_to_b = resurrect_into = NULL;
}

static const char *const node_attrs[] = {"a", "b", MM_WEAKREF_ATTR};

/* Refcounting path: finalizer once, resurrection keeps weakrefs, callbacks after. */
static void test_refcount_path(const char *reclaim) {
    reset();
    mm_heap *h = heap(reclaim);
    mm_class *plain = mm_class_new(h, "N", node_attrs, 3);
    mm_class *res = mm_class_new(h, "R", node_attrs, 3);
    mm_class_set_finalizer(res, fin_resurrect);
    CHECK(plain->type.weaklist_offset != 0 && plain->type.size == sizeof(mm_object) + 3 * sizeof(mm_value),
          "%s: __weakref__ adds one 8-byte field after the slots", reclaim);
    static const char *const no_weak[] = {"a"};
    mm_class *closed = mm_class_new(h, "Closed", no_weak, 1);
    mm_object *c = mm_instance_new(h, closed);
    CHECK(mm_weakref_new(h, c, NULL, NULL) == NULL, "%s: no weakref to a class without __weakref__", reclaim);
    mm_decref(h, c);

    mm_object *o = mm_instance_new(h, plain);
    mm_object *w = mm_weakref_new(h, o, count_callback, NULL);
    CHECK(w && mm_weakref_get(w) == o && mm_weakref_count(o) == 1, "%s: a weakref reads its referent", reclaim);
    CHECK(o->refcount == 1, "%s: a weakref does not keep its referent alive", reclaim);
    mm_decref(h, o);
    CHECK(mm_weakref_get(w) == NULL && callbacks == 1, "%s: referent freed: weakref empty, callback once (%d)",
          reclaim, callbacks);
    mm_decref(h, w);

    mm_object *r = mm_instance_new(h, res);
    mm_object *rw = mm_weakref_new(h, r, count_callback, NULL);
    callbacks = 0;
    mm_decref(h, r);
    CHECK(resurrect_into == r && finalized_a == 1 && mm_weakref_get(rw) == r && callbacks == 0,
          "%s: a resurrecting finalizer runs once and the weakref stays", reclaim);
    uint64_t before = live(h);
    mm_object *back = resurrect_into;
    resurrect_into = NULL;
    mm_decref(h, back);
    CHECK(finalized_a == 1, "%s: the finalizer does not run twice (ran %d times)", reclaim, finalized_a);
    CHECK(live(h) == before - 1 && mm_weakref_get(rw) == NULL && callbacks == 1,
          "%s: the second death frees it and clears the weakref", reclaim);
    mm_decref(h, rw);
    CHECK(live(h) == 0, "%s: nothing left (%llu live)", reclaim, (unsigned long long)live(h));
    mm_heap_free(h);
}

/* Makes the cycle a <-> b through slot "b"; returns new references to both. */
static void cycle(mm_heap *h, mm_class *ca, mm_class *cb, mm_object **a, mm_object **b) {
    mm_attr ab = mm_intern(h, "b");
    *a = mm_instance_new(h, ca);
    *b = mm_instance_new(h, cb);
    mm_setattr(h, *a, ab, mm_ref(*b));
    mm_setattr(h, *b, ab, mm_ref(*a));
}

/* Tracked by the collector of either strategy. */
static bool tracked(mm_heap *h, const char *reclaim, mm_object *o) {
    return strcmp(reclaim, "rc+incr") == 0 ? mm_incr_is_tracked(h, o) : mm_gen_is_tracked(h, o);
}

static void test_collector(const char *reclaim) {
    mm_heap *h = heap(reclaim);
    mm_class *plain = mm_class_new(h, "N", node_attrs, 3);
    mm_class *ca = mm_class_new(h, "FA", node_attrs, 3);
    mm_class *cb = mm_class_new(h, "FB", node_attrs, 3);
    mm_class *cr = mm_class_new(h, "R", node_attrs, 3);
    mm_class_set_finalizer(ca, fin_a);
    mm_class_set_finalizer(cb, fin_b);
    mm_class_set_finalizer(cr, fin_resurrect);
    mm_attr aa = mm_intern(h, "a");
    mm_object *a, *b;

    /* s2 */
    reset();
    cycle(h, ca, cb, &a, &b);
    mm_object *w = mm_weakref_new(h, a, count_callback, NULL);
    weak_to_b = mm_weakref_new(h, b, NULL, NULL);
    mm_decref(h, a);
    mm_decref(h, b);
    uint64_t n = mm_collect(h, MM_COLLECT_FULL);
    CHECK(n == 2, "s2: collect() == 2 as in CPython, got %llu", (unsigned long long)n);
    CHECK(finalized_a == 1 && finalized_b == 1, "s2: each finalizer once (%d, %d)", finalized_a, finalized_b);
    CHECK(a_saw_b_weakref_dead, "s2: weakrefs to garbage are cleared before finalizers run");
    CHECK(callbacks == 1 && mm_weakref_get(w) == NULL, "s2: the live weakref's callback ran once (%d)", callbacks);
    mm_decref(h, w);
    mm_decref(h, weak_to_b);
    CHECK(live(h) == 0, "s2: all freed (%llu live)", (unsigned long long)live(h));

    /* s3 */
    reset();
    cycle(h, cr, plain, &a, &b);
    mm_decref(h, a);
    mm_decref(h, b);
    n = mm_collect(h, MM_COLLECT_FULL);
    CHECK(n == 0 && resurrect_into == a && live(h) == 2, "s3: resurrection: collect() == 0, both live (%llu, %llu)",
          (unsigned long long)n, (unsigned long long)live(h));
    CHECK(tracked(h, reclaim, a) && tracked(h, reclaim, b), "s3: the resurrected are tracked again");
    mm_object *back = resurrect_into;
    resurrect_into = NULL;
    mm_decref(h, back);
    n = mm_collect(h, MM_COLLECT_FULL);
    CHECK(n == 2 && finalized_a == 1 && live(h) == 0, "s3: then collect() == 2, no second finalizer (%llu, %d)",
          (unsigned long long)n, finalized_a);

    /* s4 */
    reset();
    cycle(h, plain, plain, &a, &b);
    mm_object *gw = mm_weakref_new(h, a, count_callback, NULL);
    mm_setattr(h, b, aa, mm_ref(gw));
    mm_decref(h, gw);
    mm_decref(h, a);
    mm_decref(h, b);
    n = mm_collect(h, MM_COLLECT_FULL);
    CHECK(n == 3 && callbacks == 0 && live(h) == 0, "s4: a garbage weakref's callback does not run (%llu, %d)",
          (unsigned long long)n, callbacks);

    /* s5 */
    reset();
    mm_object *holder = mm_instance_new(h, plain);
    cycle(h, plain, plain, &a, &b);
    mm_object *hw = mm_weakref_new(h, a, drop_holder_slot, holder);
    mm_setattr(h, holder, aa, mm_ref(hw));
    mm_decref(h, hw);
    mm_decref(h, a);
    mm_decref(h, b);
    n = mm_collect(h, MM_COLLECT_FULL);
    CHECK(n == 3 && callbacks == 1 && live(h) == 1, "s5: collect() == 3 as in CPython, got %llu (%d callbacks)",
          (unsigned long long)n, callbacks);
    mm_decref(h, holder);

    /* Many finalizable cycles at once: every finalizer exactly once, in the order CPython
     * runs them: its unreachable list's, which is allocation order for garbage made of
     * whole cycles (move_unreachable meets them oldest first and rescues none). */
    reset();
    enum { CYCLES = ORDER_MAX };
    norder = 0;
    for (int i = 0; i < CYCLES; i++) {
        cycle(h, ca, cb, &a, &b);
        mm_setattr(h, a, aa, mm_int(i));
        mm_decref(h, a);
        mm_decref(h, b);
    }
    n = mm_collect(h, MM_COLLECT_FULL);
    int in_order = norder == CYCLES;
    for (int i = 0; in_order && i < CYCLES; i++) in_order = order[i] == i;
    CHECK(in_order, "bulk: %d finalizers of A ran in allocation order (%d recorded)", CYCLES, norder);
    CHECK(n == 2 * CYCLES && finalized_a == CYCLES && finalized_b == CYCLES && live(h) == 0,
          "bulk: %llu collected, %d/%d finalizers for %d cycles", (unsigned long long)n, finalized_a, finalized_b,
          CYCLES);
    mm_heap_free(h);
}

int main(void) {
    test_refcount_path("rc");
    test_refcount_path("rc+gen");
    test_refcount_path("rc+incr");
    test_refcount_path("rc+gen32");
    test_collector("rc+gen");
    test_collector("rc+gen32");
    test_collector("rc+incr");
    return check_summary();
}
