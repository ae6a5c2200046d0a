/* linked.h — the singly linked list shared by `list` and `ring`.
 *
 * Contract: wl_linked_run builds `n` Node(value, next) instances per round by
 * prepending (head = Node(i, head)), walks the list checking the sum of values,
 * optionally closes it into a ring (tail.next = head), then drops the head: a
 * domino free under refcounting, a leaked cycle for a ring without a collector.
 */
#ifndef WL_LINKED_H
#define WL_LINKED_H

#include "workload.h"

/* Knobs of both workloads (n and rounds). */
extern const mm_knob_desc wl_linked_knobs[];

bool wl_linked_run(mm_heap *h, const mm_knobset *ks, bool close_ring, wl_result *r, char *err, size_t errlen);

#endif
