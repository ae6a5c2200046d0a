/* floating.c — the harness's side of floating garbage: `memstrat run
 * --ms_floating=N` makes the run a shadow run (bench runs one per cell, same
 * seed, besides the timed repetitions) in which the heap counts every object and
 * every N allocations an exact whole-heap reachability pass says how much is
 * unreachable but not yet freed (strategies/floating.c).
 *
 * Contract: the shadow's own times are not results (the passes dominate them);
 * its counters floating_peak_objects, floating_peak_mb (largest over the passes)
 * and floating_mean_mb (mean over the passes) are, and its timeline with
 * --ms_floating_timeline=FILE. The timeline's t_ms is the workload's clock with
 * the passes taken out, so it lines up with the timed run's RSS timeline (to the
 * precision of the shadow's own noise); `allocations` is exact.
 * Invariant: one point per pass, the last at the end of the workload's span.
 */
#include "floating.h"

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mremap */
#endif
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "atomic_file.h"
#include "ms_clock.h"

/* Points kept before the first growth (bench asks for at most 50 passes). */
#define FLOATING_POINTS_RESERVED 1024
/* Bytes per MB of every *_mb counter (run.c's MS_MB). */
#define FLOATING_MB (1024.0 * 1024.0)

typedef struct floating_point {
    double t_ms;
    uint64_t allocations, objects, bytes, live_bytes;
} floating_point;

struct ms_floating_rec {
    uint64_t t0, pass_start, paused_ns;
    floating_point *pts;
    size_t len, cap;
    bool oom; /* a point could not be kept: the counters still hold, the timeline is cut */
    uint64_t peak_objects, peak_bytes;
    double sum_bytes;
    uint64_t passes;
};

/* Before a pass: note when it starts. After: one point, its time without the passes. */
static void on_pass(const mm_floating *f, void *arg) {
    ms_floating_rec *r = arg;
    uint64_t now = ms_now_ns();
    if (f == NULL) {
        r->pass_start = now;
        return;
    }
    floating_point p = {(double)(r->pass_start - r->t0 - r->paused_ns) / 1e6, f->allocations, f->objects, f->bytes,
                        f->live_bytes};
    r->paused_ns += now - r->pass_start;
    if (f->objects > r->peak_objects) r->peak_objects = f->objects;
    if (f->bytes > r->peak_bytes) r->peak_bytes = f->bytes;
    r->sum_bytes += (double)f->bytes;
    r->passes++;
    if (r->len == r->cap) {
        floating_point *n = mremap(r->pts, r->cap * sizeof *n, 2 * r->cap * sizeof *n, MREMAP_MAYMOVE);
        if (n == MAP_FAILED) {
            r->oom = true;
            return;
        }
        r->pts = n;
        r->cap *= 2;
    }
    r->pts[r->len++] = p;
}

ms_floating_rec *ms_floating_begin(mm_heap *h, uint64_t every, uint64_t t0, char *err, size_t errlen) {
    ms_floating_rec *r = mmap(NULL, sizeof *r, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (r == MAP_FAILED) {
        snprintf(err, errlen, "out of memory for the floating-garbage record");
        return NULL;
    }
    /* the points live in pages of their own, never in malloc's: rc+ft memgate=on reads
     * malloc's figures, and the shadow must decide as the timed run does */
    r->cap = FLOATING_POINTS_RESERVED;
    r->pts = mmap(NULL, r->cap * sizeof *r->pts, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (r->pts == MAP_FAILED) {
        munmap(r, sizeof *r);
        snprintf(err, errlen, "out of memory for the floating-garbage record");
        return NULL;
    }
    r->t0 = t0;
    if (!mm_floating_start(h, every, on_pass, r, err, errlen)) {
        munmap(r->pts, r->cap * sizeof *r->pts);
        munmap(r, sizeof *r);
        return NULL;
    }
    return r;
}

void ms_floating_end(ms_floating_rec *r, mm_heap *h) {
    mm_floating f;
    on_pass(NULL, r);
    if (mm_floating_measure(h, &f)) on_pass(&f, r);
}

void ms_floating_report(ms_gb_state *st, const ms_floating_rec *r) {
    ms_gb_counter(st, "floating_peak_objects", (double)r->peak_objects);
    ms_gb_counter(st, "floating_peak_mb", (double)r->peak_bytes / FLOATING_MB);
    ms_gb_counter(st, "floating_mean_mb", r->passes ? r->sum_bytes / (double)r->passes / FLOATING_MB : 0);
    ms_gb_counter(st, "floating_passes", (double)r->passes);
}

static int emit_csv(FILE *f, void *arg) {
    const ms_floating_rec *r = arg;
    fputs("t_ms,allocations,floating_objects,floating_mb,live_mb\n", f);
    for (size_t i = 0; i < r->len; i++) {
        const floating_point *p = &r->pts[i];
        fprintf(f, "%.3f,%llu,%llu,%.4f,%.4f\n", p->t_ms, (unsigned long long)p->allocations,
                (unsigned long long)p->objects, (double)p->bytes / FLOATING_MB, (double)p->live_bytes / FLOATING_MB);
    }
    return ferror(f) ? -1 : 0;
}

int ms_floating_write_csv(const ms_floating_rec *r, const char *path) {
    return ms_write_file_atomic(path, emit_csv, (void *)r);
}

void ms_floating_free(ms_floating_rec *r) {
    if (r == NULL) return;
    munmap(r->pts, r->cap * sizeof *r->pts);
    munmap(r, sizeof *r);
}
