/* test_release_pause.c — release cascades as pauses of kind `release`.
 *
 * A cascade outside any collection that frees at least `release_pause_objects`
 * objects is one release pause: stats.release_pauses and release_pause_objects
 * count it exactly, and the observer sees one START/STOP bracket with generation
 * MM_PAUSE_RELEASE and `collected` equal to the cascade's length. Shorter
 * cascades are no pause: under MM_RELEASE_TIMED_AFTER objects the observer is
 * never called (the fast path reads no clock); from there on a START is
 * cancelled. A collection's own frees are its pause, never a release pause.
 * End to end: `memstrat run list/rc/system/slots/n=N` reports one release pause
 * of N objects (test_cli.sh checks the counters' names).
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mm.h"

/* What the observer saw. */
typedef struct seen {
    int start, stop, cancel;       /* release brackets */
    int gc_stop;                   /* collections */
    uint64_t collected_last, collected_sum;
} seen;

static void observe(mm_gc_phase phase, const mm_gc_info *info, void *arg) {
    seen *s = arg;
    if (info->generation != MM_PAUSE_RELEASE) {
        s->gc_stop += phase == MM_GC_STOP;
        return;
    }
    if (phase == MM_GC_START) s->start++;
    if (phase == MM_GC_CANCEL) s->cancel++;
    if (phase == MM_GC_STOP) {
        s->stop++;
        s->collected_last = info->collected;
        s->collected_sum += info->collected;
    }
}

static mm_heap *heap(const char *reclaim, const char *knobs, seen *s) {
    char err[256];
    mm_heap *h = mm_heap_new_named(reclaim, "system", "slots", knobs, err, sizeof err);
    if (h == NULL) {
        fprintf(stderr, "heap: %s\n", err);
        exit(1);
    }
    memset(s, 0, sizeof *s);
    mm_set_observer(h, observe, s);
    return h;
}

static mm_stats stats(mm_heap *h) {
    mm_stats st;
    mm_get_stats(h, &st);
    return st;
}

/* A chain of n nodes (head -> ... -> tail), held only by the returned head;
 * ring: the tail points back at the head. */
static mm_object *chain(mm_heap *h, mm_class *cls, mm_attr next, long n, bool ring) {
    mm_object *head = NULL, *tail = NULL;
    for (long i = 0; i < n; i++) {
        mm_object *o = mm_instance_new(h, cls);
        if (head != NULL) {
            mm_setattr(h, o, next, mm_ref(head));
            mm_decref(h, head);
        } else {
            tail = o;
        }
        head = o;
    }
    if (ring) mm_setattr(h, tail, next, mm_ref(head));
    return head;
}

/* Builds and drops one chain of n nodes; returns the heap's release counters after. */
static mm_stats drop_chain(mm_heap *h, long n) {
    static const char *const attrs[] = {"next"};
    mm_class *cls = mm_class_new(h, "Node", attrs, 1);
    mm_decref(h, chain(h, cls, mm_intern(h, "next"), n, false));
    return stats(h);
}

static void test_default_threshold(void) {
    seen s;
    mm_heap *h = heap("rc", NULL, &s);
    mm_stats st = drop_chain(h, 5000);
    CHECK(st.release_pauses == 1 && st.release_pause_objects == 5000, "pauses %llu objects %llu",
          (unsigned long long)st.release_pauses, (unsigned long long)st.release_pause_objects);
    CHECK(s.start == 1 && s.stop == 1 && s.cancel == 0 && s.collected_last == 5000,
          "observer start %d stop %d cancel %d collected %llu", s.start, s.stop, s.cancel,
          (unsigned long long)s.collected_last);
    CHECK(mm_stats_live_objects(&st) == 0, "live %llu", (unsigned long long)mm_stats_live_objects(&st));
    mm_heap_free(h);

    /* one short of the default: a START, then a cancel, and no pause */
    h = heap("rc", NULL, &s);
    st = drop_chain(h, 999);
    CHECK(st.release_pauses == 0 && st.release_pause_objects == 0, "999 nodes: pauses %llu",
          (unsigned long long)st.release_pauses);
    CHECK(s.start == 1 && s.cancel == 1 && s.stop == 0, "999 nodes: start %d cancel %d stop %d", s.start, s.cancel,
          s.stop);
    mm_heap_free(h);

    /* exactly the default */
    h = heap("rc", NULL, &s);
    st = drop_chain(h, 1000);
    CHECK(st.release_pauses == 1 && st.release_pause_objects == 1000 && s.stop == 1 && s.collected_last == 1000,
          "1000 nodes: pauses %llu objects %llu", (unsigned long long)st.release_pauses,
          (unsigned long long)st.release_pause_objects);
    mm_heap_free(h);

    /* a short cascade stays on the fast path: the observer is never called */
    h = heap("rc", NULL, &s);
    st = drop_chain(h, 10);
    CHECK(s.start == 0 && s.cancel == 0 && s.stop == 0 && st.release_pauses == 0, "10 nodes: start %d", s.start);
    mm_heap_free(h);
}

static void test_several_lists(void) {
    seen s;
    mm_heap *h = heap("rc", NULL, &s);
    static const char *const attrs[] = {"next"};
    mm_class *cls = mm_class_new(h, "Node", attrs, 1);
    mm_attr next = mm_intern(h, "next");
    for (int i = 0; i < 3; i++) mm_decref(h, chain(h, cls, next, 2000, false));
    mm_decref(h, chain(h, cls, next, 500, false)); /* no pause */
    mm_stats st = stats(h);
    CHECK(st.release_pauses == 3 && st.release_pause_objects == 6000 && s.stop == 3 && s.collected_sum == 6000,
          "3 x 2000 + 500: pauses %llu objects %llu stops %d", (unsigned long long)st.release_pauses,
          (unsigned long long)st.release_pause_objects, s.stop);
    mm_heap_free(h);
}

static void test_knob(void) {
    seen s;
    mm_heap *h = heap("rc", "release_pause_objects=10", &s);
    mm_stats st = drop_chain(h, 10);
    CHECK(st.release_pauses == 1 && st.release_pause_objects == 10, "knob 10, 10 nodes: pauses %llu",
          (unsigned long long)st.release_pauses);
    st = drop_chain(h, 9);
    CHECK(st.release_pauses == 1 && st.release_pause_objects == 10, "knob 10, 9 nodes more: pauses %llu",
          (unsigned long long)st.release_pauses);
    mm_heap_free(h);

    h = heap("rc", "release_pause_objects=1", &s);
    st = drop_chain(h, 1);
    CHECK(st.release_pauses == 1 && st.release_pause_objects == 1 && s.stop == 1, "knob 1, one object: pauses %llu",
          (unsigned long long)st.release_pauses);
    mm_heap_free(h);

    h = heap("rc", "release_pause_objects=0", &s);
    st = drop_chain(h, 5000);
    CHECK(st.release_pauses == 0 && s.start == 0 && s.stop == 0, "knob 0: pauses %llu, starts %d",
          (unsigned long long)st.release_pauses, s.start);
    mm_heap_free(h);

    char err[256];
    CHECK(mm_heap_new_named("rc", "system", "slots", "release_pause_objects=-1", err, sizeof err) == NULL,
          "a negative threshold is refused");
}

/* The counts do not depend on anyone observing (deterministic counters). */
static void test_without_observer(void) {
    seen s;
    mm_heap *h = heap("rc", NULL, &s);
    mm_set_observer(h, NULL, NULL);
    mm_stats st = drop_chain(h, 3000);
    CHECK(st.release_pauses == 1 && st.release_pause_objects == 3000 && s.start == 0, "unobserved: pauses %llu",
          (unsigned long long)st.release_pauses);
    mm_heap_free(h);
}

/* Under rc+gen a dropped chain is a release pause; a ring freed by a collection is
 * the collection's pause, not a release pause. */
static void test_collector(void) {
    seen s;
    mm_heap *h = heap("rc+gen", "gc=off", &s);
    static const char *const attrs[] = {"next"};
    mm_class *cls = mm_class_new(h, "Node", attrs, 1);
    mm_attr next = mm_intern(h, "next");
    mm_decref(h, chain(h, cls, next, 4000, false));
    mm_stats st = stats(h);
    CHECK(st.release_pauses == 1 && st.release_pause_objects == 4000, "rc+gen chain: pauses %llu",
          (unsigned long long)st.release_pauses);
    mm_decref(h, chain(h, cls, next, 4000, true));
    mm_collect(h, MM_COLLECT_FULL);
    st = stats(h);
    CHECK(st.collected == 4000 && mm_stats_live_objects(&st) == 0, "ring collected %llu live %llu",
          (unsigned long long)st.collected, (unsigned long long)mm_stats_live_objects(&st));
    CHECK(st.release_pauses == 1 && st.release_pause_objects == 4000 && s.stop == 1 && s.gc_stop >= 1,
          "a collection's frees are no release pause: pauses %llu, release stops %d, gc stops %d",
          (unsigned long long)st.release_pauses, s.stop, s.gc_stop);
    mm_heap_free(h);
}

/* A binary tree of 2^12 - 1 nodes: the cascade counts every node, whatever its shape. */
static void test_tree(void) {
    seen s;
    mm_heap *h = heap("rc", NULL, &s);
    static const char *const attrs[] = {"left", "right"};
    mm_class *cls = mm_class_new(h, "Tree", attrs, 2);
    mm_attr left = mm_intern(h, "left"), right = mm_intern(h, "right");
    enum { DEPTH = 12 };
    mm_object *level[1 << (DEPTH - 1)];
    long width = 1L << (DEPTH - 1);
    for (long i = 0; i < width; i++) level[i] = mm_instance_new(h, cls);
    for (; width > 1; width /= 2) {
        for (long i = 0; i < width / 2; i++) {
            mm_object *p = mm_instance_new(h, cls);
            mm_setattr(h, p, left, mm_ref(level[2 * i]));
            mm_setattr(h, p, right, mm_ref(level[2 * i + 1]));
            mm_decref(h, level[2 * i]);
            mm_decref(h, level[2 * i + 1]);
            level[i] = p;
        }
    }
    mm_decref(h, level[0]);
    mm_stats st = stats(h);
    const uint64_t nodes = (1u << DEPTH) - 1;
    CHECK(st.release_pauses == 1 && st.release_pause_objects == nodes && s.collected_last == nodes,
          "tree: pauses %llu objects %llu", (unsigned long long)st.release_pauses,
          (unsigned long long)st.release_pause_objects);
    mm_heap_free(h);
}

int main(void) {
    test_default_threshold();
    test_several_lists();
    test_knob();
    test_without_observer();
    test_collector();
    test_tree();
    return check_summary();
}
