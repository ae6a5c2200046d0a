/* reclaim_none.c — `none`: never frees anything.
 *
 * Contract: refcounts are still maintained (the inline hot path is the same for
 * every strategy) but reaching zero frees nothing. This is the lower-bound
 * baseline of the LBO method (Cai et al., ISPASS 2022): any other strategy's
 * extra time over `none` on the same workload is what reclamation costs.
 * Invariant: objects_freed stays 0; every object ever made is still live.
 */
#include "strategy.h"

static const mm_knob_desc none_knobs[] = {MM_IMMORTAL_KNOB, {0}};

const mm_strategy mm_strategy_none = {
    .name = "none",
    .summary = "never frees: the lower-bound baseline (refcounts kept, nothing reclaimed)",
    .knobs = none_knobs,
    .preheader = 0,
    .has_collector = false,
    .generations = 0,
    .on_zero = NULL, /* the heap substitutes a function that keeps the object */
};
