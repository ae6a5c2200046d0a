/* reclaim_trial.h — what tests may ask of `rc+trial` beyond the heap API.
 *
 * Contract: valid only on a heap whose strategy is `rc+trial`.
 */
#ifndef MM_RECLAIM_TRIAL_H
#define MM_RECLAIM_TRIAL_H

#include "mm.h"

/* Candidate roots waiting in the buffer. */
size_t mm_trial_buffered(mm_heap *h);

/* True when o is in the state every live container has after a collection:
 * black and not buffered (freed memory is poisoned in debug builds, which fails this). */
bool mm_trial_is_clean(mm_heap *h, mm_object *o);

#endif
