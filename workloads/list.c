/* list.c — `list`: build n nodes, traverse, drop the head (the domino free).
 *
 * Also holds the builder shared with `ring` (see linked.h). Work counted in
 * ops: one node lifecycle (allocate, link, visit, release) per node per round.
 */
#include <stdio.h>

#include "linked.h"

/* Largest list a cell may ask for: 2^31 nodes is 64 GiB under `slots`, past any machine here. */
#define WL_LINKED_MAX_N (1LL << 31)

const mm_knob_desc wl_linked_knobs[] = {
    {"n", MM_KNOB_COUNT, "1000000", 1, WL_LINKED_MAX_N, "nodes per list"},
    {"rounds", MM_KNOB_COUNT, "1", 1, 1000000, "lists built and dropped in turn"},
    {0},
};

bool wl_linked_run(mm_heap *h, const mm_knobset *ks, bool close_ring, wl_result *r, char *err, size_t errlen) {
    int64_t n = mm_knob_int(ks, "n"), rounds = mm_knob_int(ks, "rounds");
    static const char *const attrs[] = {"value", "next"};
    mm_class *node_cls = mm_class_new(h, "Node", attrs, 2);
    if (node_cls == NULL) {
        snprintf(err, errlen, "cannot declare class Node");
        return false;
    }
    mm_attr a_value = mm_intern(h, "value"), a_next = mm_intern(h, "next");
    bool ok = true;
    mm_object *head = NULL, *tail = NULL;
    mm_root_push(h, &head);
    for (int64_t round = 0; round < rounds && ok; round++) {
        for (int64_t i = 0; i < n; i++) {
            mm_object *node = mm_instance_new(h, node_cls);
            if (node == NULL) {
                snprintf(err, errlen, "out of memory after %lld nodes", (long long)i);
                ok = false;
                break;
            }
            mm_setattr(h, node, a_value, mm_int((intptr_t)i));
            if (head != NULL) {
                mm_setattr(h, node, a_next, mm_ref(head));
                mm_decref(h, head); /* the new node holds it now */
            } else {
                tail = node;
            }
            head = node;
        }
        if (!ok) break;
        /* Walk with borrowed references: the list owns every node. */
        int64_t sum = 0, count = 0;
        for (mm_object *p = head; p != NULL; p = mm_as_ref(mm_getattr(h, p, a_next))) {
            sum += mm_as_int(mm_getattr(h, p, a_value));
            if (++count > n) break; /* a ring: stop after one lap */
        }
        if (sum != n * (n - 1) / 2 || count != n) {
            snprintf(err, errlen, "list walk saw %lld nodes summing to %lld, expected %lld and %lld", (long long)count,
                     (long long)sum, (long long)n, (long long)(n * (n - 1) / 2));
            ok = false;
        }
        if (close_ring) mm_setattr(h, tail, a_next, mm_ref(head));
        mm_decref(h, head);
        head = tail = NULL;
    }
    if (head != NULL) mm_decref(h, head);
    mm_root_pop(h, 1);
    r->ops = (double)n * (double)rounds;
    return ok;
}

static bool list_run(mm_heap *h, const mm_knobset *ks, wl_result *r, char *err, size_t errlen) {
    return wl_linked_run(h, ks, false, r, err, errlen);
}

const mm_workload wl_list = {
    .name = "list",
    .summary = "build a linked list of n nodes, walk it, drop the head (the domino free)",
    .knobs = wl_linked_knobs,
    .run = list_run,
};
