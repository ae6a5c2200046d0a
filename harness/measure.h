/* measure.h — what one iteration of a cell measured, and the recorders that fill it.
 *
 * Contract: two kinds of "measure" fill the same ms_measurement: a model's
 * (run.c: a heap, its observer, the workload in this process) and an
 * interpreter's (run_cpython.c: a child process and the probe's lines). Both go
 * through the same recorders (ms_recorders_new, ms_record_pause,
 * ms_record_latency), so the counters and files run.c's report_counters and
 * write_outputs make of them have the same names and meanings. Private to the
 * two; everything else of `memstrat run` sees run.h.
 */
#ifndef MS_MEASURE_H
#define MS_MEASURE_H

#include "cell.h"
#include "cow_sampler.h"
#include "pause_hist.h"
#include "pause_log.h"
#include "rss_sampler.h"

/* Default sampling period of the RSS thread (--ms_rss_period_us): 10 ms, not the
 * design's ~1 ms: measured by tools/harness_cost.py (docs/noise.md), the thread
 * burns 1.5-2.5% of a cell's span at 1 ms and 0.4-0.8% at 10 ms, and the rules'
 * budget is 1%. Collection ends add marks (below), so collectors' timelines stay
 * fine-grained; the peak is VmHWM's whatever the period. */
#define MS_RSS_PERIOD_US 10000
/* Least time between two RSS marks at collection ends: a mark costs ~1.25 µs (a
 * pread of statm), and gen0 collections can come every ~35 µs; this keeps the
 * marks under 1% of the run while the timer still covers the rest. */
#define MS_RSS_MARK_MIN_GAP_NS 200000u

/* One cell of a `memstrat run` and how it ended. */
typedef struct ms_cell_run {
    ms_cell cell;
    int index;
    int malloc_code; /* mm_malloc_code of the process malloc */
    const char *timeline_path; /* NULL: not written */
    const char *pauses_path;
    const char *latency_path;
    uint64_t floating_every;    /* --ms_floating=N: a shadow run, a pass every N allocations; 0: none */
    const char *floating_path;  /* --ms_floating_timeline=FILE; NULL: not written */
    unsigned rss_period_us; /* --ms_rss_period_us: 0 = no sampler thread (marks only) */
    bool observe;           /* --ms_observe: false = no observer, no pause counters */
    int sampler_cpu;        /* --ms_pin's second CPU for the sampler thread; -1: inherited */
    bool failed;
    int status; /* when failed: MS_EXIT_FAILED, or MS_EXIT_USAGE (bad input found while running) */
    char error[MS_CELL_MAX + 700];
} ms_cell_run;

/* What the pause recorder needs while a collection is reported. */
typedef struct ms_pause_ctx {
    ms_hist *all;     /* collections and increments */
    ms_hist *release; /* release cascades (MM_PAUSE_RELEASE): pause_release_* */
    int generations; /* of the strategy: per_gen[0..generations-1] exist */
    ms_hist *per_gen[MM_MAX_GENERATIONS];
    ms_pause_log *log;
    ms_rss_sampler *rss;
    uint64_t start_ns;
    uint64_t release_start_ns; /* a collection may run inside a cascade (a finalizer allocates) */
    uint64_t last_mark_ns;
    uint64_t examined; /* objects looked at by every collection of the run */
} ms_pause_ctx;

/* The two latency histograms of request-style work (a workload's sink, probe lines). */
typedef struct ms_latency_ctx {
    ms_hist *simple, *metered;
} ms_latency_ctx;

/* The live-bytes timeline of a heap (models only): points the workload asks for. */
typedef struct ms_live_ctx {
    mm_heap *h;
    uint64_t t0;
    double *t_ms, *mb;
    size_t len, cap;
} ms_live_ctx;

typedef struct ms_measurement {
    mm_heap *h;               /* NULL: the cell ran in an interpreter (no heap figures) */
    bool ok;                  /* the workload reported success (else err says why) */
    char err[600];
    wl_result r;              /* ops and the workload's own counters */
    uint64_t t0, t1;          /* the timed span */
    uint64_t rss_peak, rss_final;
    mm_stats before, after;   /* at the end of the timed span / after the leak check */
    mm_alloc_stats alloc;     /* the allocator's figures after the leak check */
    int malloc_code;          /* mm_malloc_code of the malloc the workload ran on */
    int python_version;       /* interpreter cells: 100 * major + minor; else 0 */
    bool no_pauses;           /* pauses were not observed (probe=0): no pause counters */
    ms_pause_ctx pauses;
    ms_latency_ctx latency;
    ms_live_ctx live;
    ms_cow_sampler *cow;      /* forked workers' memory (prefork); NULL: none forked */
    struct ms_floating_rec *floating; /* shadow runs only (floating.c); NULL otherwise */
} ms_measurement;

/* Zeroes m and makes its histograms and pause log (per generation below the
 * cell's strategy's `generations`); false with cr->error when memory ran out. */
bool ms_recorders_new(ms_cell_run *cr, ms_measurement *m);
/* Frees what m holds (recorders, sampler, timeline, heap). */
void ms_measurement_free(ms_measurement *m);
/* One pause ending at now_ns: the histograms (a release cascade's in its own), the
 * log, and an RSS mark when the last one is MS_RSS_MARK_MIN_GAP_NS old. */
void ms_record_pause(ms_pause_ctx *ctx, const ms_pause_event *ev, uint64_t examined, uint64_t now_ns);
/* One measured request or unit (a wl_latency_fn: ctx is an ms_latency_ctx). */
void ms_record_latency(void *ctx, uint64_t simple_ns, uint64_t metered_ns);

/* A forked worker's start (final NULL) or end: the workers' memory sampler (made
 * with the first worker). At the end, final is the worker's own last figures (an
 * interpreter's worker) or NULL (a model's worker, alive: the harness reads it). */
void ms_record_worker(ms_measurement *m, int pid, bool end, const ms_cow_mem *final);

/* The interpreter's "measure" (run_cpython.c): start the child, read the probe,
 * sample its RSS. False (with cr->error, cr->status) when the cell failed: a
 * child that failed leaves no counters worth reporting. */
bool ms_measure_cpython(ms_cell_run *cr, ms_measurement *m);

#endif
