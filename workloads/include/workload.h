/* workload.h — what a workload is: a program that drives the heap through mm_*.
 * The workload library's one public header (the harness sees workloads only
 * through it); a workload itself sees only this, mm.h and knobs.h of the floor
 * below, plus its own directory's private helpers (tests/test_layering.sh).
 *
 * Contract: run() does the workload's whole work against a fresh heap, reports
 * the units of work done (r->ops, for ops_per_s) and any workload-specific
 * counters, and returns with every program hold released and every root popped,
 * so that whatever is still alive afterwards (after a full collection) is leaked.
 * It returns false with one line in err when the work went wrong (a checksum
 * mismatch, allocation failure, bad input file).
 * A workload is one file defining one `const mm_workload`, listed in
 * workloads/registry.c.
 *
 * Safe points (mm_safepoint, mm.h): where a collection that an allocation only
 * scheduled runs (rc+gen with trigger=safepoint, CPython 3.12+'s eval-breaker
 * check). The suite has no bytecode loop, so it names them, after what the
 * Python twins execute: every instance creation (mm_instance_new: a class call
 * whose __init__ entry checks the breaker), the end of each trace statement, each
 * step of a workload's loops (the back-edge) and the end of each unit of work (a
 * request, a batch record, a cache operation). Objects made inside one C call
 * (mm_instance_alloc, the trace's `burst`) have none between them. A workload
 * adding a loop that allocates calls mm_safepoint once per step.
 *
 * Latency sink: request-style workloads hand each measured request's latency to
 * the harness through wl_latency_record; the harness sets r->latency_fn before
 * run() (NULL: nobody listens, the call does nothing). Warm-up requests are not
 * handed over. Times come from wl_now_ns, the harness's clock (CLOCK_MONOTONIC).
 */
#ifndef WL_WORKLOAD_H
#define WL_WORKLOAD_H

#include "mm.h"

/* Workload-specific counters per cell (hit rate, ns per pair, ...). */
#define WL_MAX_COUNTERS 24

/* Receives one request's simple (service) and metered latency, in ns. */
typedef void (*wl_latency_fn)(void *ctx, uint64_t simple_ns, uint64_t metered_ns);

/* Asks the harness to note the heap's live bytes now (a point of the live-bytes
 * timeline: what the program holds, not what the allocator or the OS keep). */
typedef void (*wl_live_fn)(void *ctx);

/* Forked workers (prefork): a workload that forks tells the harness each
 * worker's pid when it starts (WL_WORKER_START: the harness samples its memory,
 * /proc/PID/smaps_rollup, from then on) and when it has finished its work but
 * not yet exited (WL_WORKER_END: the harness takes the worker's final sample
 * before returning, then forgets it). The worker must stay alive across the END
 * call; the workload reaps it afterwards. */
typedef enum { WL_WORKER_START, WL_WORKER_END } wl_worker_event;
typedef void (*wl_worker_fn)(void *ctx, int pid, wl_worker_event e);

typedef struct wl_result {
    double ops;
    wl_latency_fn latency_fn; /* set by the harness, NULL when not recording */
    void *latency_ctx;
    wl_live_fn live_fn;       /* set by the harness, NULL when not recording */
    void *live_ctx;
    wl_worker_fn worker_fn;   /* set by the harness, NULL when not recording */
    void *worker_ctx;
    int ncounters;
    struct {
        char name[48];
        double value;
    } counters[WL_MAX_COUNTERS];
} wl_result;

typedef struct mm_workload {
    const char *name;
    const char *summary;
    const mm_knob_desc *knobs;
    /* Optional: rules across knobs, or input files to validate, checked by the CLI
     * before anything runs so bad input exits 2; false with one line in err. */
    bool (*check)(const mm_knobset *ks, char *err, size_t errlen);
    bool (*run)(mm_heap *h, const mm_knobset *ks, wl_result *r, char *err, size_t errlen);
    /* Runs only in an interpreter (a strategy whose component view says
     * `interpreter`): the user's own program. Its run() refuses, with one line. */
    bool interpreter;
} mm_workload;

/* Adds a named counter to the result (ignored past WL_MAX_COUNTERS). */
void wl_counter(wl_result *r, const char *name, double value);

/* Hands one measured request's latencies to the harness (no-op without a sink). */
static inline void wl_latency_record(wl_result *r, uint64_t simple_ns, uint64_t metered_ns) {
    if (r->latency_fn != NULL) r->latency_fn(r->latency_ctx, simple_ns, metered_ns);
}

/* One point of the live-bytes timeline (no-op without a sink). Workloads whose
 * live set changes over time (cache) call it every so many operations. */
static inline void wl_live_sample(wl_result *r) {
    if (r->live_fn != NULL) r->live_fn(r->live_ctx);
}

/* A forked worker's start or end (no-op without a sink). */
static inline void wl_worker(wl_result *r, int pid, wl_worker_event e) {
    if (r->worker_fn != NULL) r->worker_fn(r->worker_ctx, pid, e);
}

/* CLOCK_MONOTONIC in ns: the harness's time source, readable without a harness header. */
uint64_t wl_now_ns(void);

extern const mm_workload *const wl_workloads[]; /* NULL-terminated */
const mm_workload *wl_find(const char *name);

#endif
