/* reclaim_rc.c — `rc`: pure reference counting, CPython without its cycle collector.
 *
 * Contract: an object is freed the moment its refcount reaches zero, and what it
 * held is released in turn (iteratively: mm_release keeps a work list, so a
 * 10-million-node chain frees in constant C stack). Cycles are never freed: a
 * ring of n objects dropped by the program stays allocated, n objects leaked.
 * Invariant: live objects = objects reachable from program holds + objects kept
 * alive only by reference cycles.
 */
#include "strategy.h"

static const mm_knob_desc rc_knobs[] = {MM_IMMORTAL_KNOB, {0}};

const mm_strategy mm_strategy_rc = {
    .name = "rc",
    .summary = "pure reference counting: freed at zero, children released in turn; cycles leak",
    .knobs = rc_knobs,
    .preheader = 0,
    .has_collector = false,
    .generations = 0,
    .on_zero = mm_release,
};
