/* meter.h — metered latency on a fixed-rate arrival schedule (DaCapo's idea).
 *
 * Contract: requests arrive at 0, I, 2I, ... (I = interval_ns, virtual time from
 * the first measured request) at one server that serves them in order. The
 * workload runs them back to back and tells the meter how long each took; the
 * meter replays that on the schedule without sleeping (Lindley's recursion):
 *   start_k = max(arrival_k, free_k),  free_{k+1} = start_k + busy_k,
 *   metered_k = start_k + response_k − arrival_k.
 * response_k is the request's simple latency (its answer is ready); busy_k ≥
 * response_k also counts work the server does after answering (a collection
 * run at the request's end), which delays only the requests behind it.
 *
 * Invariant: metered_k ≥ response_k for every k (a request never starts before
 * it arrives), and a pause of length P inside request k adds up to P to the
 * metered latency of every request queued behind it until the queue drains.
 */
#ifndef WL_METER_H
#define WL_METER_H

#include <stdint.h>

typedef struct wl_meter {
    double interval_ns; /* time between two intended arrivals */
    uint64_t next;      /* index of the next request on the schedule */
    uint64_t free_ns;   /* virtual time at which the server is free again */
} wl_meter;

/* A schedule with one arrival every interval_ns (> 0), starting at 0. */
void wl_meter_init(wl_meter *m, double interval_ns);

/* The next request took response_ns to answer and kept the server busy_ns
 * (busy_ns < response_ns is read as busy_ns = response_ns); returns its metered latency. */
uint64_t wl_meter_next(wl_meter *m, uint64_t response_ns, uint64_t busy_ns);

#endif
