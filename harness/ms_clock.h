/* ms_clock.h — the harness's one time source.
 *
 * Contract: ms_now_ns() returns CLOCK_MONOTONIC in nanoseconds. Every recorder
 * (pause log, RSS sampler, latency recorders) stamps events with it, so their
 * timelines share one origin t0 and can be drawn on the same axis.
 * Invariant: the value never decreases within a process (monotonic clock), and
 * it is not comparable across processes or with wall-clock time.
 *
 * Needs _GNU_SOURCE (or _POSIX_C_SOURCE >= 199309L) defined before the first
 * system include, as the build does.
 */
#ifndef MS_CLOCK_H
#define MS_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Nanoseconds per second, to turn a timespec into one integer. */
#define MS_NS_PER_SEC 1000000000ull

/* Inline so that timing a short pause costs a vDSO call and nothing more. */
static inline uint64_t ms_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * MS_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

#endif /* MS_CLOCK_H */
