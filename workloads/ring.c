/* ring.c — `ring`: the `list` workload closed into a cycle before the drop.
 *
 * Under pure refcounting every node keeps its successor alive, so dropping the
 * head leaks all n nodes; a cycle collector must find and free them.
 */
#include "linked.h"

static bool ring_run(mm_heap *h, const mm_knobset *ks, wl_result *r, char *err, size_t errlen) {
    return wl_linked_run(h, ks, true, r, err, errlen);
}

const mm_workload wl_ring = {
    .name = "ring",
    .summary = "the list closed into a cycle (tail.next = head) before the head is dropped",
    .knobs = wl_linked_knobs,
    .run = ring_run,
};
