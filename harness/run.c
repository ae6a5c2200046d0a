/* run.c — `memstrat run CELL... [Google Benchmark flags]`: one benchmark per cell.
 *
 * Contract: every cell is parsed and validated before anything runs (bad input:
 * one line on stderr, exit 2). Each cell registers one Google Benchmark named by
 * its spec; one iteration = one whole workload on a fresh heap. Timed: the
 * workload's run (its own collections included). Not timed: heap creation, and
 * the leak check afterwards — the strategy's full collection (if it has one)
 * after the workload dropped every root; what is still alive then is leaked.
 * Counter names and the CSV formats below are read by tests and by the analysis
 * package: they are an interface.
 *
 * Where to start reading: run_once, three steps with one job each —
 *   1. measure:         fresh heap and recorders, the timed workload, the untimed
 *                       leak check; everything else reads what it recorded. A
 *                       cell that runs in an interpreter (`cpython`) has its own
 *                       measure, ms_measure_cpython (run_cpython.c: a child and
 *                       the probe's lines into the same recorders, measure.h);
 *   2. report_counters: the iteration time and every counter Google Benchmark
 *                       writes (per generation only for g < the strategy's
 *                       `generations`, from its component view);
 *   3. write_outputs:   the optional files (--ms_timeline, its .live twin,
 *                       --ms_pauses, --ms_latency, --ms_floating_timeline).
 *
 * Shadow runs: --ms_floating=N turns on the heap's floating-garbage census and a
 * whole-heap pass every N allocations (floating.c); the counters floating_* and
 * its timeline are the results of such a run, its times are not.
 *
 * Pauses: the heap's observer brackets every collection; the harness times the
 * bracket (strategies never time themselves) into a log-linear histogram, a
 * bounded event log and an RSS mark. A release cascade (MM_PAUSE_RELEASE) is
 * bracketed the same way into its own histogram (pause_release_*) and the same
 * log (generation -2); a cancelled bracket is no pause. RSS: a sampler thread
 * (every --ms_rss_period_us, default MS_RSS_PERIOD_US; 0: marks only) plus VmHWM
 * after resetting it through /proc/self/clear_refs at cell start.
 *
 * The harness's own cost (docs/noise.md): --ms_rss_period_us=0 and
 * --ms_observe=0 take the sampler thread and the observer away, so that
 * tools/harness_cost.py can measure what each costs; --ms_pin=A[,B] pins the
 * process to CPU A and the sampler thread to B, for tools/noise.sh.
 *
 * Request latency: request-style workloads hand each measured request's simple
 * and metered latency to the harness's sink (workload.h); two histograms of the
 * same log-linear kind become req_* and req_metered_* counters, and with
 * --ms_latency=FILE a CSV of percentile points of both, for CDF plots.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sched_setaffinity, CPU_SET */
#endif
#include "run.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"
#include "cli.h"
#include "floating.h"
#include "gbench_shim.h"
#include "measure.h"
#include "ms_clock.h"
#include "oom.h"
#include "run_paths.h"

/* Pause events kept for the timeline; beyond that only the histogram counts. */
#define MS_PAUSE_LOG_CAPACITY 200000
/* Bytes per MB in every *_mb counter (MiB, as RSS tools print). */
#define MS_MB (1024.0 * 1024.0)

/* Percentile points of the latency CSV: every 1% up to 99, then finer into the
 * tail, so a CDF on a log axis shows both the body and the p99.99. */
static const double ms_latency_points[] = {
    0,    1,    2,     5,     10,    20,    25,    30,   40,   50,   60,   70,   75,   80,   90,  95,  96, 97,
    98,   99,   99.1,  99.2,  99.3,  99.4,  99.5,  99.6, 99.7, 99.8, 99.9, 99.91, 99.93, 99.95, 99.97, 99.99, 99.999, 100,
};

void ms_record_pause(ms_pause_ctx *ctx, const ms_pause_event *ev, uint64_t examined, uint64_t now_ns) {
    ms_hist_record(ev->generation == MM_PAUSE_RELEASE ? ctx->release : ctx->all, ev->duration_ns);
    ctx->examined += examined;
    if (ev->generation >= 0 && ev->generation < ctx->generations)
        ms_hist_record(ctx->per_gen[ev->generation], ev->duration_ns);
    ms_pause_log_add(ctx->log, ev);
    if (now_ns - ctx->last_mark_ns >= MS_RSS_MARK_MIN_GAP_NS) {
        ms_rss_mark(ctx->rss);
        ctx->last_mark_ns = now_ns;
    }
}

/* The observer: a pause is the wall time between START and STOP of one collection
 * or one release cascade (each kind its own start: a collection can nest in a
 * cascade); CANCEL (a cascade that stayed short) reads no clock. */
static void on_gc(mm_gc_phase phase, const mm_gc_info *info, void *arg) {
    ms_pause_ctx *ctx = arg;
    if (phase == MM_GC_CANCEL) return;
    uint64_t *start = info->generation == MM_PAUSE_RELEASE ? &ctx->release_start_ns : &ctx->start_ns;
    if (phase == MM_GC_START) {
        *start = ms_now_ns();
        return;
    }
    uint64_t end = ms_now_ns();
    ms_pause_event ev = {*start, end - *start, info->generation, info->collected};
    ms_record_pause(ctx, &ev, info->examined, end);
}

/* The live-bytes timeline: points the workload asks for (wl_live_sample), each
 * the heap's live bytes at that moment; kept in memory, written after the run. */
/* Most points kept: a workload asking for more is still recorded up to here. */
#define MS_LIVE_MAX_POINTS 100000

static void on_live(void *arg) {
    ms_live_ctx *lc = arg;
    if (lc->len == lc->cap) {
        size_t cap = lc->cap ? lc->cap * 2 : 1024;
        if (cap > MS_LIVE_MAX_POINTS) return;
        double *t = realloc(lc->t_ms, cap * sizeof *t), *m = t ? realloc(lc->mb, cap * sizeof *m) : NULL;
        if (t) lc->t_ms = t;
        if (m == NULL) return;
        lc->mb = m;
        lc->cap = cap;
    }
    mm_stats s;
    mm_get_stats(lc->h, &s);
    lc->t_ms[lc->len] = (double)(ms_now_ns() - lc->t0) / 1e6;
    lc->mb[lc->len++] = (double)mm_stats_live_bytes(&s) / MS_MB;
}

typedef struct live_emit {
    const ms_live_ctx *lc;
} live_emit;

static int emit_live(FILE *f, void *arg) {
    const ms_live_ctx *lc = ((live_emit *)arg)->lc;
    fputs("t_ms,live_mb\n", f);
    for (size_t i = 0; i < lc->len; i++) fprintf(f, "%.3f,%.4f\n", lc->t_ms[i], lc->mb[i]);
    return ferror(f) ? -1 : 0;
}

/* The workload's worker sink (prefork): follow a forked worker's memory, or
 * take its final sample. The sampler is made with the first worker. */
void ms_record_worker(ms_measurement *m, int pid, bool end, const ms_cow_mem *final) {
    if (!end) {
        if (m->cow == NULL) m->cow = ms_cow_new(m->t0);
        ms_cow_add(m->cow, (pid_t)pid);
    } else if (final != NULL) {
        ms_cow_end_with(m->cow, (pid_t)pid, final);
    } else {
        ms_cow_end(m->cow, (pid_t)pid);
    }
}

static void on_worker(void *arg, int pid, wl_worker_event e) {
    ms_record_worker(arg, pid, e == WL_WORKER_END, NULL);
}

/* Counters of forked workers: the mean over workers of their final sample, and
 * private memory per 1,000 requests served (all workers' private over all requests). */
static void report_cow_counters(ms_gb_state *st, const ms_measurement *m) {
    int n = 0;
    double priv = 0, shared = 0, pss = 0;
    for (int i = 0; i < ms_cow_workers(m->cow); i++) {
        ms_cow_mem mem;
        if (!ms_cow_final(m->cow, i, &mem)) continue;
        n++;
        priv += (double)mem.private_dirty / MS_MB;
        shared += (double)mem.shared / MS_MB;
        pss += (double)mem.pss / MS_MB;
    }
    if (n == 0) return;
    ms_gb_counter(st, "cow_workers", n);
    ms_gb_counter(st, "cow_private_mb_end", priv / n);
    ms_gb_counter(st, "cow_shared_mb_end", shared / n);
    ms_gb_counter(st, "cow_pss_mb_end", pss / n);
    if (m->r.ops > 0) ms_gb_counter(st, "cow_private_mb_per_1k_requests", priv / (m->r.ops / 1000.0));
}

/* policy=pressure's events, one row each: where (objects allocated), RSS read
 * over the limit, RSS after the full collection and the allocator's trim. */
static int emit_pressure(FILE *f, void *arg) {
    const mm_heap *h = arg;
    size_t n;
    const mm_pressure_event *ev = mm_pressure_events(h, &n);
    fputs("event,allocations,rss_before_mb,rss_after_mb,collected\n", f);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%zu,%llu,%.3f,%.3f,%llu\n", i + 1, (unsigned long long)ev[i].allocations, (double)ev[i].rss_before / MS_MB,
                (double)ev[i].rss_after / MS_MB, (unsigned long long)ev[i].collected);
    return ferror(f) ? -1 : 0;
}

/* policy=pressure's counters: checks, events, and the RSS each event left
 * (the highest and the last): what the limit held to after giving back. */
static void report_pressure_counters(ms_gb_state *st, const ms_measurement *m) {
    size_t n;
    const mm_pressure_event *ev = mm_pressure_events(m->h, &n);
    uint64_t after_max = 0;
    for (size_t i = 0; i < n; i++)
        if (ev[i].rss_after > after_max) after_max = ev[i].rss_after;
    ms_gb_counter(st, "pressure_checks", (double)m->before.pressure_checks);
    ms_gb_counter(st, "pressure_events", (double)m->before.pressure_events);
    ms_gb_counter(st, "pressure_rss_after_max_mb", (double)after_max / MS_MB);
    ms_gb_counter(st, "pressure_rss_after_last_mb", n ? (double)ev[n - 1].rss_after / MS_MB : 0);
}

/* The workload's latency sink: one measured request. */
void ms_record_latency(void *arg, uint64_t simple_ns, uint64_t metered_ns) {
    ms_latency_ctx *lc = arg;
    ms_hist_record(lc->simple, simple_ns);
    ms_hist_record(lc->metered, metered_ns);
}

/* CSV "percentile,simple_us,metered_us" at ms_latency_points: both CDFs of a
 * cell in one small file that gnuplot reads with `using 2:1` and `3:1`. */
static int emit_latency(FILE *f, void *arg) {
    const ms_latency_ctx *lc = arg;
    fprintf(f, "percentile,simple_us,metered_us\n");
    for (size_t i = 0; i < sizeof ms_latency_points / sizeof ms_latency_points[0]; i++) {
        const double p = ms_latency_points[i];
        fprintf(f, "%g,%.3f,%.3f\n", p, ms_hist_percentile(lc->simple, p) / 1e3, ms_hist_percentile(lc->metered, p) / 1e3);
    }
    return ferror(f) ? -1 : 0;
}

static void report_hist_us(ms_gb_state *st, const char *prefix, const ms_hist *h) {
    static const struct {
        const char *suffix;
        double p;
    } pcts[] = {{"p50_us", 50}, {"p90_us", 90}, {"p99_us", 99}, {"p999_us", 99.9}};
    char name[64];
    for (size_t i = 0; i < sizeof pcts / sizeof pcts[0]; i++) {
        snprintf(name, sizeof name, "%s_%s", prefix, pcts[i].suffix);
        ms_gb_counter(st, name, ms_hist_percentile(h, pcts[i].p) / 1e3);
    }
    snprintf(name, sizeof name, "%s_max_us", prefix);
    ms_gb_counter(st, name, (double)ms_hist_max(h) / 1e3);
}

bool ms_recorders_new(ms_cell_run *cr, ms_measurement *m) {
    memset(m, 0, sizeof *m);
    bool ok = (m->pauses.all = ms_hist_new()) != NULL && (m->pauses.release = ms_hist_new()) != NULL &&
              (m->pauses.log = ms_pause_log_new(MS_PAUSE_LOG_CAPACITY)) != NULL &&
              (m->latency.simple = ms_hist_new()) != NULL && (m->latency.metered = ms_hist_new()) != NULL;
    int gens = cr->cell.reclaim.generations;
    m->pauses.generations = gens < MM_MAX_GENERATIONS ? gens : MM_MAX_GENERATIONS;
    for (int g = 0; g < m->pauses.generations; g++) ok = (m->pauses.per_gen[g] = ms_hist_new()) != NULL && ok;
    if (!ok) {
        snprintf(cr->error, sizeof cr->error, "%s: out of memory for the pause and latency recorders", cr->cell.spec);
        ms_measurement_free(m);
    }
    return ok;
}

void ms_measurement_free(ms_measurement *m) {
    ms_rss_free(m->pauses.rss);
    ms_hist_free(m->latency.simple);
    ms_hist_free(m->latency.metered);
    ms_pause_log_free(m->pauses.log);
    ms_hist_free(m->pauses.all);
    ms_hist_free(m->pauses.release);
    for (int g = 0; g < m->pauses.generations; g++) ms_hist_free(m->pauses.per_gen[g]);
    free(m->live.t_ms);
    free(m->live.mb);
    ms_cow_free(m->cow);
    ms_floating_free(m->floating);
    mm_heap_free(m->h);
    memset(m, 0, sizeof *m);
}

/* A shadow run (--ms_floating): the heap's census from its first allocation on.
 * A strategy that cannot be counted (boehm) says so once and runs without it:
 * its floating_* counters are absent, which the analysis reports as n/a. */
static void start_floating(const ms_cell_run *cr, ms_measurement *m) {
    char err[300];
    m->floating = ms_floating_begin(m->h, cr->floating_every, m->t0, err, sizeof err);
    if (m->floating == NULL) fprintf(stderr, "memstrat: %s: %s\n", cr->cell.spec, err);
}

/* Step 1 of a model's cell: a fresh heap and recorders, the timed workload, the
 * untimed leak check. False (with cr->error) only when there is nothing to
 * report: no heap or no recorders. A workload that failed is still measured (m->ok false). */
static bool measure(ms_cell_run *cr, ms_measurement *m) {
    const ms_cell *c = &cr->cell;
    if (!ms_recorders_new(cr, m)) return false;
    mm_config cfg = ms_cell_config(c);
    if ((m->h = mm_heap_new(&cfg, m->err, sizeof m->err)) == NULL) {
        snprintf(cr->error, sizeof cr->error, "%s: %s", c->spec, m->err);
        ms_measurement_free(m);
        return false;
    }
    m->malloc_code = cr->malloc_code;
    if (cr->observe) mm_set_observer(m->h, on_gc, &m->pauses);
    m->no_pauses = !cr->observe;
    m->r.latency_fn = ms_record_latency;
    m->r.latency_ctx = &m->latency;

    bool peak_reset = ms_rss_reset_peak() == 0;
    m->t0 = ms_now_ns();
    m->pauses.rss = ms_rss_start(0, cr->rss_period_us, m->t0, cr->sampler_cpu);
    if (m->pauses.rss == NULL)
        fprintf(stderr, "memstrat: no RSS timeline: cannot start the sampler (%s)\n", strerror(errno));
    m->live = (ms_live_ctx){.h = m->h, .t0 = m->t0};
    m->r.live_fn = on_live;
    m->r.live_ctx = &m->live;
    m->r.worker_fn = on_worker;
    m->r.worker_ctx = m;
    if (cr->floating_every) start_floating(cr, m);
    m->ok = c->workload->run(m->h, &c->knobs, &m->r, m->err, sizeof m->err);
    m->t1 = ms_now_ns();
    ms_cow_stop(m->cow);
    if (m->floating) ms_floating_end(m->floating, m->h);
    ms_rss_mark(m->pauses.rss);
    ms_rss_stop(m->pauses.rss);
    m->rss_final = ms_rss_current_bytes();
    m->rss_peak = ms_rss_peak_bytes();
    if (!peak_reset || ms_rss_max_sampled(m->pauses.rss) > m->rss_peak) m->rss_peak = ms_rss_max_sampled(m->pauses.rss);

    /* the leak check: unobserved, untimed; what survives a full collection is leaked */
    mm_get_stats(m->h, &m->before);
    mm_set_observer(m->h, NULL, NULL);
    if (c->reclaim.has_collector) mm_collect(m->h, MM_COLLECT_FULL);
    mm_get_stats(m->h, &m->after);
    mm_get_alloc_stats(m->h, &m->alloc);
    if (!m->ok) snprintf(cr->error, sizeof cr->error, "%s: %s", c->spec, m->err);
    return true;
}

/* The counters only a heap has (the object model's own books): an interpreter
 * cell has none of them. */
static void report_heap_counters(ms_gb_state *st, const ms_cell_run *cr, const ms_measurement *m) {
    const mm_stats *before = &m->before;
    const mm_alloc_stats *as = &m->alloc;
    ms_gb_counter(st, "live_objects", (double)mm_stats_live_objects(before));
    ms_gb_counter(st, "live_bytes", (double)mm_stats_live_bytes(before));
    ms_gb_counter(st, "live_objects_peak", (double)before->live_objects_peak);
    ms_gb_counter(st, "objects_allocated", (double)before->objects_allocated);
    ms_gb_counter(st, "live_bytes_peak", (double)before->live_bytes_peak);
    ms_gb_counter(st, "leaked_objects", (double)mm_stats_live_objects(&m->after));
    ms_gb_counter(st, "leaked_bytes", (double)mm_stats_live_bytes(&m->after));
    ms_gb_counter(st, "alloc_live_mb", (double)as->live_bytes / MS_MB);
    ms_gb_counter(st, "alloc_reserved_mb", (double)as->reserved_bytes / MS_MB);
    if (as->arenas) ms_gb_counter(st, "alloc_arenas", (double)as->arenas);
    if (as->pools_in_use) ms_gb_counter(st, "alloc_pools_in_use", (double)as->pools_in_use);
    if (as->live_bytes) ms_gb_counter(st, "alloc_fragmentation", (double)as->reserved_bytes / (double)as->live_bytes);
    if (as->lib_allocated_bytes) ms_gb_counter(st, "alloc_lib_allocated_mb", (double)as->lib_allocated_bytes / MS_MB);
    if (as->lib_resident_bytes) ms_gb_counter(st, "alloc_lib_resident_mb", (double)as->lib_resident_bytes / MS_MB);
    /* release pauses: deterministic counts from the heap, times from the observer */
    ms_gb_counter(st, "pause_release_count", (double)before->release_pauses);
    ms_gb_counter(st, "pause_release_objects", (double)before->release_pause_objects);
    if (!m->no_pauses) {
        ms_gb_counter(st, "pause_release_total_ms", (double)ms_hist_total_ns(m->pauses.release) / 1e6);
        report_hist_us(st, "pause_release", m->pauses.release);
    }
    if (cr->cell.reclaim.has_collector) {
        ms_gb_counter(st, "gc_examined", (double)m->pauses.examined);
        if (before->collector_heap_bytes) ms_gb_counter(st, "gc_heap_mb", (double)before->collector_heap_bytes / MS_MB);
    }
    const char *policy = mm_knobset_get(&cr->cell.knobs, "policy");
    if (policy != NULL && strcmp(policy, "pressure") == 0) report_pressure_counters(st, m);
}

/* Step 2: the iteration time (manual timing: the timed span only) and the
 * counters, the same names for a model's cell and an interpreter's. */
static void report_counters(ms_gb_state *st, const ms_cell_run *cr, const ms_measurement *m) {
    const mm_stats *before = &m->before;
    double secs = (double)(m->t1 - m->t0) / 1e9;
    ms_gb_set_iteration_time(st, secs > 0 ? secs : 1e-9);

    ms_gb_counter(st, "ops_per_s", secs > 0 ? m->r.ops / secs : 0);
    if (!m->no_pauses) {
        ms_gb_counter(st, "pause_count", (double)ms_hist_count(m->pauses.all));
        ms_gb_counter(st, "pause_total_ms", (double)ms_hist_total_ns(m->pauses.all) / 1e6);
        report_hist_us(st, "pause", m->pauses.all);
    }
    ms_gb_counter(st, "rss_peak_mb", (double)m->rss_peak / MS_MB);
    ms_gb_counter(st, "rss_final_mb", (double)m->rss_final / MS_MB);
    ms_gb_counter(st, "rss_sampler_cpu_ms", (double)ms_rss_thread_cpu_ns(m->pauses.rss) / 1e6);
    if (m->h != NULL) report_heap_counters(st, cr, m);
    if (m->before.immortalized) ms_gb_counter(st, "immortal_objects", (double)m->before.immortalized);
    ms_gb_counter(st, "preheader_bytes", (double)before->preheader_bytes);
    ms_gb_counter(st, "malloc_impl", (double)m->malloc_code);
    if (m->python_version) ms_gb_counter(st, "python_version", (double)m->python_version);
    if (cr->cell.reclaim.has_collector) {
        char name[64];
        for (int g = 0; g < m->pauses.generations; g++) {
            snprintf(name, sizeof name, "gc_collections_gen%d", g);
            ms_gb_counter(st, name, (double)before->collections[g]);
            snprintf(name, sizeof name, "pause_gen%d", g);
            if (!m->no_pauses) report_hist_us(st, name, m->pauses.per_gen[g]);
        }
        ms_gb_counter(st, "gc_collected", (double)before->collected);
        ms_gb_counter(st, "gc_uncollectable", (double)before->uncollectable);
    }
    if (ms_hist_count(m->latency.simple) > 0) {
        report_hist_us(st, "req", m->latency.simple);
        report_hist_us(st, "req_metered", m->latency.metered);
    }
    report_cow_counters(st, m);
    for (int i = 0; i < m->r.ncounters; i++) ms_gb_counter(st, m->r.counters[i].name, m->r.counters[i].value);
    if (m->floating) ms_floating_report(st, m->floating);
}

/* Step 3: the files asked for; a file that cannot be written is one line on
 * stderr, not a failed cell (the counters are already reported). */
static void write_outputs(const ms_cell_run *cr, const ms_measurement *m) {
    bool several = cr->index >= 0; /* several cells in one process share the paths */
    char path[1100];
    if (cr->timeline_path && m->pauses.rss != NULL) { /* no sampler started: said when it failed */
        ms_run_output_path(path, sizeof path, cr->timeline_path, cr->index, several);
        if (ms_rss_write_csv(m->pauses.rss, path) != 0)
            fprintf(stderr, "memstrat: cannot write RSS timeline %s\n", path);
        if (m->live.len > 0) {
            char twin[1200];
            ms_run_live_path(twin, sizeof twin, path);
            live_emit le = {&m->live};
            if (ms_write_file_atomic(twin, emit_live, &le) != 0)
                fprintf(stderr, "memstrat: cannot write live-bytes timeline %s\n", twin);
        }
        size_t npressure = 0;
        if (m->h != NULL && mm_pressure_events(m->h, &npressure) != NULL && npressure > 0) {
            char twin[1200];
            ms_run_twin_path(twin, sizeof twin, path, "pressure");
            if (ms_write_file_atomic(twin, emit_pressure, m->h) != 0)
                fprintf(stderr, "memstrat: cannot write pressure events %s\n", twin);
        }
    }
    if (cr->timeline_path && ms_cow_workers(m->cow) > 0) {
        char twin[1200];
        ms_run_output_path(path, sizeof path, cr->timeline_path, cr->index, several);
        ms_run_twin_path(twin, sizeof twin, path, "cow");
        if (ms_cow_write_csv(m->cow, twin) != 0) fprintf(stderr, "memstrat: cannot write workers' memory timeline %s\n", twin);
    }
    if (cr->pauses_path) {
        ms_run_output_path(path, sizeof path, cr->pauses_path, cr->index, several);
        if (ms_pause_log_write_csv(m->pauses.log, path, m->t0) != 0)
            fprintf(stderr, "memstrat: cannot write pause log %s\n", path);
    }
    if (cr->floating_path && m->floating) {
        ms_run_output_path(path, sizeof path, cr->floating_path, cr->index, several);
        if (ms_floating_write_csv(m->floating, path) != 0)
            fprintf(stderr, "memstrat: cannot write floating-garbage timeline %s\n", path);
    }
    if (cr->latency_path && ms_hist_count(m->latency.simple) > 0) {
        ms_run_output_path(path, sizeof path, cr->latency_path, cr->index, several);
        if (ms_write_file_atomic(path, emit_latency, (void *)&m->latency) != 0)
            fprintf(stderr, "memstrat: cannot write latency CSV %s\n", path);
    }
}

/* One iteration: measure (a model's heap, or an interpreter's child), report,
 * write; false when the cell failed. */
static bool run_once(ms_gb_state *st, ms_cell_run *cr) {
    ms_measurement m;
    cr->status = MS_EXIT_FAILED;
    if (!(cr->cell.reclaim.interpreter ? ms_measure_cpython(cr, &m) : measure(cr, &m))) return false;
    report_counters(st, cr, &m);
    write_outputs(cr, &m);
    const bool ok = m.ok;
    ms_measurement_free(&m);
    return ok;
}

static void cell_bench(ms_gb_state *st, void *arg) {
    ms_cell_run *cr = arg;
    while (ms_gb_keep_running(st)) {
        if (!run_once(st, cr)) {
            cr->failed = true;
            ms_gb_skip_with_error(st, cr->error);
            break;
        }
    }
}

/* Our own flags are taken before Google Benchmark sees argv. */
static const char *take_flag(const char *arg, const char *name) {
    size_t n = strlen(name);
    return strncmp(arg, name, n) == 0 && arg[n] == '=' ? arg + n + 1 : NULL;
}

/* Largest --ms_rss_period_us: 10 s (a sampler that slow samples nothing). */
#define MS_RSS_PERIOD_MAX_US 10000000L
/* Highest CPU number --ms_pin takes (CPU_SETSIZE is 1024). */
#define MS_PIN_MAX_CPU 1023L

/* How the harness itself runs (the --ms_* flags that are not output files). */
typedef struct ms_run_opts {
    long rss_period_us, observe, cpu, sampler_cpu;
} ms_run_opts;

/* --ms_pin=A[,B]: A for the process (and an interpreter it starts), B for the
 * sampler thread (default: A too). */
static bool parse_pin(const char *v, ms_run_opts *o) {
    char a[32];
    const char *comma = strchr(v, ',');
    size_t n = comma ? (size_t)(comma - v) : strlen(v);
    if (n == 0 || n >= sizeof a) return false;
    memcpy(a, v, n);
    a[n] = '\0';
    if (ms_parse_long(a, 0, MS_PIN_MAX_CPU, &o->cpu) != 0) return false;
    o->sampler_cpu = o->cpu;
    return comma == NULL || ms_parse_long(comma + 1, 0, MS_PIN_MAX_CPU, &o->sampler_cpu) == 0;
}

/* Pins this process before anything runs; one line and exit 2 when the CPU is
 * not one it may use. */
static bool pin_process(long cpu, char *err, size_t errlen) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET((int)cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) == 0) return true;
    snprintf(err, errlen, "--ms_pin: cannot run on CPU %ld (%s; this machine has %ld online)", cpu, strerror(errno),
             sysconf(_SC_NPROCESSORS_ONLN));
    return false;
}

int ms_run_main(int argc, char **argv) {
    const char *timeline = NULL, *pauses = NULL, *latency = NULL, *floating = NULL, *floating_path = NULL;
    ms_run_opts opt = {MS_RSS_PERIOD_US, 1, -1, -1};
    char err[2048];
    ms_oom_init("memstrat run");
    int kept = 1;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if ((v = take_flag(argv[i], "--ms_rss_period_us")) != NULL) {
            if (ms_parse_long(v, 0, MS_RSS_PERIOD_MAX_US, &opt.rss_period_us) != 0)
                return ms_usage_error("run", "--ms_rss_period_us: '%s' is not a period in microseconds, 0..%ld "
                                             "(0: no sampler thread)", v, MS_RSS_PERIOD_MAX_US);
        } else if ((v = take_flag(argv[i], "--ms_observe")) != NULL) {
            if (ms_parse_long(v, 0, 1, &opt.observe) != 0)
                return ms_usage_error("run", "--ms_observe: '%s' is not 0 or 1", v);
        } else if ((v = take_flag(argv[i], "--ms_pin")) != NULL) {
            if (!parse_pin(v, &opt))
                return ms_usage_error("run", "--ms_pin: '%s' is not CPU or CPU,SAMPLER_CPU (0..%ld)", v,
                                      MS_PIN_MAX_CPU);
        } else if ((v = take_flag(argv[i], "--ms_timeline")) != NULL)
            timeline = v;
        else if ((v = take_flag(argv[i], "--ms_pauses")) != NULL)
            pauses = v;
        else if ((v = take_flag(argv[i], "--ms_latency")) != NULL)
            latency = v;
        else if ((v = take_flag(argv[i], "--ms_floating")) != NULL)
            floating = v;
        else if ((v = take_flag(argv[i], "--ms_floating_timeline")) != NULL)
            floating_path = v;
        else
            argv[kept++] = argv[i];
    }
    argc = kept;
    long floating_every = 0;
    if (floating != NULL && ms_parse_long(floating, 1, 1000000000L, &floating_every) != 0)
        return ms_usage_error("run", "--ms_floating='%s' is not a number of allocations from 1 to 1000000000", floating);
    if (floating_path != NULL && floating == NULL)
        return ms_usage_error("run", "--ms_floating_timeline needs --ms_floating=N");
    if (!ms_gb_check_flags(argc, argv, err, sizeof err)) {
        fprintf(stderr, "memstrat run: %s\n", err);
        return 2;
    }
    argc = ms_gb_init(argc, argv);
    int ncells = 0;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) == 0)
            return ms_usage_error("run", "unknown flag '%s' (ours: --ms_timeline=FILE --ms_pauses=FILE "
                                         "--ms_latency=FILE --ms_floating=N --ms_floating_timeline=FILE "
                                         "--ms_rss_period_us=N --ms_observe=0|1 --ms_pin=A[,B]; "
                                         "Google Benchmark's: see --help)", argv[i]);
        ncells++;
    }
    if (ncells == 0)
        return ms_usage_error("run", "no cell given (a cell is workload/reclaim/allocator/layout[/knob=value...])");
    ms_cell_run *runs = calloc((size_t)ncells, sizeof *runs);
    const char **names = calloc((size_t)ncells, sizeof *names);
    if (runs == NULL || names == NULL) {
        fprintf(stderr, "memstrat run: out of memory\n");
        return MS_EXIT_FAILED;
    }
    for (int i = 1, k = 0; i < argc; i++, k++) {
        if (!ms_cell_parse(argv[i], &runs[k].cell, err, sizeof err)) {
            free(runs);
            free(names);
            return ms_usage_error("run", "%s", err);
        }
        names[k] = runs[k].cell.spec;
        runs[k].index = ncells > 1 ? k : -1;
        runs[k].timeline_path = timeline;
        runs[k].pauses_path = pauses;
        runs[k].latency_path = latency;
        runs[k].floating_every = (uint64_t)floating_every;
        runs[k].floating_path = floating_path;
        if (floating_every && runs[k].cell.reclaim.interpreter)
            fprintf(stderr, "memstrat: %s: floating garbage is not measured in an interpreter (n/a)\n", runs[k].cell.spec);
        runs[k].rss_period_us = (unsigned)opt.rss_period_us;
        runs[k].observe = opt.observe != 0;
        runs[k].sampler_cpu = (int)opt.sampler_cpu;
    }
    /* Before anything runs: every output path it may write, and a filter that
     * leaves something to run (bad input, exit 2, not a run that did nothing). */
    bool outputs_ok = ms_run_check_outputs(timeline, pauses, latency, ncells, err, sizeof err);
    bool selected = outputs_ok && ms_gb_filter_matches(names, ncells);
    free(names);
    if (outputs_ok && selected && opt.cpu >= 0 && !pin_process(opt.cpu, err, sizeof err)) {
        free(runs);
        return ms_usage_error("run", "%s", err);
    }
    if (!outputs_ok || !selected) {
        if (outputs_ok) snprintf(err, sizeof err, "--benchmark_filter='%s' matches none of the %d cell%s given",
                                 ms_gb_filter(), ncells, ncells == 1 ? "" : "s");
        free(runs);
        return ms_usage_error("run", "%s", err);
    }
    /* Which malloc the whole process runs on (main.c chose it): one line for the
     * logs, and the code as the malloc_impl counter of every model's cell (an
     * interpreter's cell reports its child's). */
    mm_malloc_info mi;
    mm_malloc_which(&mi);
    bool models = false;
    for (int k = 0; k < ncells; k++) models |= !runs[k].cell.reclaim.interpreter;
    if (models) fprintf(stderr, "memstrat: process malloc: %s\n", mi.base);
    for (int k = 0; k < ncells; k++) runs[k].malloc_code = (int)mi.code;
    for (int k = 0; k < ncells; k++) ms_gb_register(runs[k].cell.spec, cell_bench, &runs[k]);
    size_t ran = ms_gb_run();
    ms_gb_shutdown();
    int status = MS_EXIT_OK;
    if (ran == 0) { /* the filter check above should have caught it */
        fprintf(stderr, "memstrat run: no benchmark ran (--benchmark_filter='%s')\n", ms_gb_filter());
        status = MS_EXIT_USAGE;
    }
    for (int k = 0; k < ncells; k++) { /* bad input found while running (exit 2) outranks a failure */
        if (runs[k].failed) {
            fprintf(stderr, "memstrat run: %s\n", runs[k].error);
            if (status != MS_EXIT_USAGE) status = runs[k].status;
        }
    }
    free(runs);
    return status;
}
