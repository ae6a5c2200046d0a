/* pressure.h — policy=pressure: RSS checked every so many allocations; above
 * the limit, a full collection and the allocator's trim (pressure.c).
 *
 * Private to strategies/: heap.c starts and stops it; the floors above see its
 * counters in mm_stats and its events through mm_pressure_events (mm.h).
 */
#ifndef MM_PRESSURE_H
#define MM_PRESSURE_H

#include "mm.h"

/* The knobs rss_limit and pressure_check: legal only with policy=pressure, and
 * policy=pressure needs an rss_limit above 0. False with one line in err. */
bool mm_pressure_check_knobs(const mm_knobset *ks, bool pressure, char *err, size_t errlen);

/* Starts the policy on a new heap: it sees every object allocation from here on
 * (it wraps h->on_new). False with one line in err. */
bool mm_pressure_start(mm_heap *h, const mm_knobset *ks, char *err, size_t errlen);

/* Frees the policy's state; nothing when it never started. */
void mm_pressure_stop(mm_heap *h);

#endif
