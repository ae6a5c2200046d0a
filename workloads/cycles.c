/* cycles.c — `cycles`: small reference cycles shed at a steady rate beside a
 * long-lived heap: the shape of the programs whose memory decided 3.14's
 * collector revert (httpx, mypy: many small cyclic structures per request, a
 * large heap that lives throughout). Floating garbage (objects unreachable but
 * not yet freed) is the figure this workload is for.
 *
 * Contract, in the order run() does it:
 *   1. build the live heap: `live` Node(value, next) instances in one list built
 *      by prepending, held (and rooted) for the whole run;
 *   2. `cycles` steps; each builds one cycle of `size` Node instances (each
 *      node's next is the following one, the last's the first; size=1 is a
 *      self-loop), holds it in a ring of `hold` slots and lets go of the cycle
 *      made `hold` steps before — which is then cyclic garbage: only a cycle
 *      collector frees it;
 *   3. every `cycles`/64 steps a point of the live-bytes timeline;
 *   4. let go of the held cycles and the live heap; check the live heap's sum.
 * Object work: live + size × cycles Node instances, nothing else (the Python
 * twin, tools/twins/cycles.py, makes exactly these). ops = cycles.
 * Counters: cycles_shed (cycles that became garbage during the run, = cycles),
 * live_heap_objects (= live).
 */
#include <stdio.h>
#include <stdlib.h>

#include "workload.h"

/* Points of the live-bytes timeline over a run. */
#define WL_CYCLES_LIVE_SAMPLES 64
/* Largest cycle: a cycle is "small"; past this it is a list workload. */
#define WL_CYCLES_MAX_SIZE 1000
/* Largest live heap / hold ring: 2^31 nodes is 64 GiB under `slots`. */
#define WL_CYCLES_MAX_N (1LL << 31)

static const mm_knob_desc cycles_knobs[] = {
    {"cycles", MM_KNOB_COUNT, "200000", 1, 1000000000, "cycles built and shed, one per step (ops)"},
    {"size", MM_KNOB_COUNT, "2", 1, WL_CYCLES_MAX_SIZE, "Node instances per cycle (1: a self-loop)"},
    {"live", MM_KNOB_COUNT, "100000", 0, WL_CYCLES_MAX_N, "Node instances in the long-lived heap beside them"},
    {"hold", MM_KNOB_COUNT, "100", 1, 10000000, "steps a cycle stays held before it is shed"},
    {0},
};

typedef struct cycles_ctx {
    mm_heap *h;
    mm_class *node;
    mm_attr a_value, a_next;
} cycles_ctx;

/* One cycle of n nodes (new reference to its first node), or NULL without memory. */
static mm_object *build_cycle(cycles_ctx *c, int64_t n, int64_t step) {
    mm_object *first = mm_instance_new(c->h, c->node);
    if (first == NULL) return NULL;
    mm_setattr(c->h, first, c->a_value, mm_int((intptr_t)step));
    mm_object *prev = first;
    for (int64_t i = 1; i < n; i++) {
        mm_object *o = mm_instance_new(c->h, c->node);
        if (o == NULL) { /* leave what exists acyclic, so refcounting frees it */
            mm_decref(c->h, first);
            return NULL;
        }
        mm_setattr(c->h, o, c->a_value, mm_int((intptr_t)step));
        mm_setattr(c->h, prev, c->a_next, mm_ref(o));
        mm_decref(c->h, o); /* prev holds it */
        prev = o;
    }
    mm_setattr(c->h, prev, c->a_next, mm_ref(first)); /* close it */
    return first;
}

static bool cycles_run(mm_heap *h, const mm_knobset *ks, wl_result *r, char *err, size_t errlen) {
    const int64_t ncycles = mm_knob_int(ks, "cycles"), size = mm_knob_int(ks, "size"), live = mm_knob_int(ks, "live");
    const size_t hold = (size_t)mm_knob_int(ks, "hold");
    static const char *const attrs[] = {"value", "next"};
    cycles_ctx c = {.h = h, .node = mm_class_new(h, "Node", attrs, 2)};
    if (c.node == NULL) {
        snprintf(err, errlen, "cannot declare class Node");
        return false;
    }
    c.a_value = mm_intern(h, "value");
    c.a_next = mm_intern(h, "next");
    mm_object **ring = calloc(hold, sizeof *ring);
    if (ring == NULL) {
        snprintf(err, errlen, "out of memory for a ring of %zu holds", hold);
        return false;
    }
    mm_object *head = NULL;
    mm_root_push(h, &head);
    for (size_t i = 0; i < hold; i++) mm_root_push(h, &ring[i]);
    bool ok = true;

    /* 1. the live heap */
    for (int64_t i = 0; i < live && ok; i++) {
        mm_object *n = mm_instance_new(h, c.node);
        if (n == NULL) {
            snprintf(err, errlen, "out of memory after %lld live nodes", (long long)i);
            ok = false;
            break;
        }
        mm_setattr(h, n, c.a_value, mm_int((intptr_t)i));
        if (head != NULL) {
            mm_setattr(h, n, c.a_next, mm_ref(head));
            mm_decref(h, head);
        }
        head = n;
    }

    /* 2–3. the steady stream of cycles */
    const int64_t sample_every = ncycles / WL_CYCLES_LIVE_SAMPLES + 1;
    int64_t step = 0;
    size_t slot = 0;
    for (; step < ncycles && ok; step++) {
        if (step % sample_every == 0) wl_live_sample(r);
        mm_object *cyc = build_cycle(&c, size, step);
        if (cyc == NULL) {
            snprintf(err, errlen, "out of memory after %lld cycles", (long long)step);
            ok = false;
            break;
        }
        mm_object *old = ring[slot];
        ring[slot] = cyc;
        slot = (slot + 1) % hold;
        if (old != NULL) mm_decref(h, old); /* shed: cyclic garbage from here on */
    }
    wl_live_sample(r);

    /* 4. let go; the live heap's values must still sum up */
    for (size_t i = 0; i < hold; i++)
        if (ring[i] != NULL) mm_decref(h, ring[i]);
    int64_t sum = 0, count = 0;
    for (mm_object *p = head; p != NULL; p = mm_as_ref(mm_getattr(h, p, c.a_next))) {
        sum += mm_as_int(mm_getattr(h, p, c.a_value));
        count++;
    }
    if (ok && (count != live || sum != live * (live - 1) / 2)) {
        snprintf(err, errlen, "live heap walk saw %lld nodes summing to %lld, expected %lld and %lld",
                 (long long)count, (long long)sum, (long long)live, (long long)(live * (live - 1) / 2));
        ok = false;
    }
    if (head != NULL) mm_decref(h, head);
    head = NULL;
    mm_root_pop(h, hold + 1);
    free(ring);
    r->ops = (double)step;
    wl_counter(r, "cycles_shed", (double)step);
    wl_counter(r, "live_heap_objects", (double)live);
    return ok;
}

const mm_workload wl_cycles = {
    .name = "cycles",
    .summary = "small cycles (size nodes) shed at a steady rate beside a long-lived heap (live nodes): floating garbage",
    .knobs = cycles_knobs,
    .run = cycles_run,
};
