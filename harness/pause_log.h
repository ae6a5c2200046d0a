/* pause_log.h — bounded log of individual pauses, for timeline plots.
 *
 * Contract: the log holds at most `capacity` events, in the order added;
 * once full, further events are counted as dropped and discarded, so memory
 * is fixed at creation and adding never allocates (safe inside a pause).
 * Invariant: len + dropped == number of ms_pause_log_add calls.
 *
 * Times are CLOCK_MONOTONIC ns (ms_now_ns in ms_clock.h); the CSV writer
 * subtracts a common origin t0 so the pause timeline lines up with the RSS
 * timeline. Not thread-safe: one log per recording thread.
 */
#ifndef MS_PAUSE_LOG_H
#define MS_PAUSE_LOG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t start_ns;    /* CLOCK_MONOTONIC at the observer's start event */
    uint64_t duration_ns; /* wall time of the collection or increment */
    int generation;       /* generation collected; -1 when not generational */
    uint64_t collected;   /* objects freed by this collection */
} ms_pause_event;

typedef struct ms_pause_log ms_pause_log;

/* NULL on allocation failure. capacity 0 is allowed (everything dropped). */
ms_pause_log *ms_pause_log_new(size_t capacity);
void ms_pause_log_free(ms_pause_log *log);

/* O(1), never allocates; counts a drop when full. */
void ms_pause_log_add(ms_pause_log *log, const ms_pause_event *ev);

size_t ms_pause_log_len(const ms_pause_log *log);
size_t ms_pause_log_dropped(const ms_pause_log *log);
size_t ms_pause_log_capacity(const ms_pause_log *log);
/* NULL when i >= len. */
const ms_pause_event *ms_pause_log_at(const ms_pause_log *log, size_t i);

/* CSV "t_ms,duration_us,generation,collected", one line per kept event, with
 * t_ms = (start_ns - t0_ns) / 1e6 (negative if the event precedes t0).
 * Written to "<path>.tmp", flushed, fsync'ed, then renamed over path, so a
 * reader never sees a half-written file. Returns 0, or -1 with errno set
 * (the tmp file is removed). */
int ms_pause_log_write_csv(const ms_pause_log *log, const char *path, uint64_t t0_ns);

#endif /* MS_PAUSE_LOG_H */
