/* reclaim_rc.c — `rc`: pure reference counting, CPython without its cycle collector.
 *
 * Contract: an object is freed the moment its refcount reaches zero, and what it
 * held is released in turn (iteratively: mm_release keeps a work list, so a
 * 10-million-node chain frees in constant C stack). Cycles are never freed: a
 * ring of n objects dropped by the program stays allocated, n objects leaked.
 * Invariant: live objects = objects reachable from program holds + objects kept
 * alive only by reference cycles.
 *
 * Pauses: it has no collector, but a cascade that frees at least
 * `release_pause_objects` objects (dropping the head of a long list: the domino
 * free) is a pause of kind `release`, which its users feel like any other
 * (mm_release in heap.c).
 */
#include "strategy.h"

static const mm_knob_desc rc_knobs[] = {
    MM_RELEASE_PAUSE_KNOB,
    MM_IMMORTAL_KNOB,
    {0},
};

const mm_strategy mm_strategy_rc = {
    .name = "rc",
    .summary = "pure reference counting: freed at zero, children released in turn; cycles leak",
    .knobs = rc_knobs,
    .preheader = 0,
    .has_collector = false,
    .generations = 0,
    .pause_kinds = NULL, /* no collection; its release pauses are their own kind */
    .on_zero = mm_release,
};
