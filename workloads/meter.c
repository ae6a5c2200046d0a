/* meter.c — the fixed-rate schedule of meter.h, and the workloads' clock.
 *
 * Invariant: arrivals are computed from the request index (k · interval), not
 * summed, so rounding never drifts over a long run.
 */
#include "meter.h"

#include <math.h>
#include <time.h>

#include "workload.h"

/* Nanoseconds per second, to turn a timespec into one integer. */
#define WL_NS_PER_S 1000000000ull

/* Workloads include no harness header, so the harness's clock is read here. */
uint64_t wl_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * WL_NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* The schedule starts empty: the first request arrives at 0 to an idle server. */
void wl_meter_init(wl_meter *m, double interval_ns) {
    m->interval_ns = interval_ns;
    m->next = 0;
    m->free_ns = 0;
}

/* One step of Lindley's recursion (see the header): queueing without sleeping. */
uint64_t wl_meter_next(wl_meter *m, uint64_t response_ns, uint64_t busy_ns) {
    const uint64_t arrival = (uint64_t)llround((double)m->next * m->interval_ns);
    const uint64_t start = arrival > m->free_ns ? arrival : m->free_ns;
    if (busy_ns < response_ns) busy_ns = response_ns;
    m->free_ns = start + busy_ns;
    m->next++;
    return start + response_ns - arrival;
}
