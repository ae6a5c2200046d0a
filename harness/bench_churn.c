/* bench_churn.c — the allocator table of `memstrat bench`: churn's ns per pair,
 * side by side per allocator, as ratios measured in the same run.
 *
 * Contract: among the run's cells, those of workload `churn` are grouped by their
 * knobs (sizes, free order, live, ...); within a group, each allocator's figure
 * is the median ns_per_pair over its successful repetitions (min–max beside
 * it), and every allocator gets its ratio to `mimalloc` and to `pymalloc` when
 * those ran in the group. Issue 4's target is printed against the row of
 * `pool`: ≤ 1.1× mimalloc and ≤ 0.5× pymalloc. The table goes to stdout and,
 * as CSV, to churn_allocators.csv in the run directory.
 * Invariant: figures only from repetitions that ran (rep->ok); none → the cell
 * is left out, never shown as 0.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "bench.h"

/* Issue 4's targets for `pool`: time per pair relative to mimalloc and to the real pymalloc. */
#define CHURN_TARGET_VS_MIMALLOC 1.1
#define CHURN_TARGET_VS_PYMALLOC 0.5
/* Most allocators in one group (the registry has six). */
#define CHURN_MAX_ALLOCS 16

typedef struct churn_row {
    const char *alloc;
    double med, min, max;
} churn_row;

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median/min/max of ns_per_pair over the good repetitions of cell i; false if none. */
static bool cell_figure(const ms_bench_run *run, size_t i, churn_row *row) {
    double v[MS_BENCH_MAX_REPS];
    int k = 0;
    for (int r = 1; r <= run->reps && k < MS_BENCH_MAX_REPS; r++) {
        const ms_bench_rep *rep = ms_bench_rep_at(run, i, r);
        if (!rep->ok || rep->entry == NULL) continue;
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(rep->entry, "ns_per_pair");
        if (cJSON_IsNumber(c) && isfinite(c->valuedouble)) v[k++] = c->valuedouble;
    }
    if (k == 0) return false;
    qsort(v, (size_t)k, sizeof *v, cmp_double);
    row->med = k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
    row->min = v[0];
    row->max = v[k - 1];
    return true;
}

static double ratio_to(const churn_row *rows, int n, const char *name, double x) {
    for (int i = 0; i < n; i++)
        if (strcmp(rows[i].alloc, name) == 0 && rows[i].med > 0) return x / rows[i].med;
    return NAN;
}

static void put_ratio(FILE *f, double r) {
    if (isnan(r)) fprintf(f, " %9s", "-");
    else fprintf(f, " %8.2fx", r);
}

typedef struct churn_csv {
    ms_sbuf buf;
} churn_csv;

static int emit_csv(FILE *f, void *arg) {
    churn_csv *c = arg;
    fputs("knobs,allocator,ns_per_pair_median,ns_per_pair_min,ns_per_pair_max,vs_mimalloc,vs_pymalloc\n", f);
    fputs(ms_sbuf_str(&c->buf), f);
    return ferror(f) ? -1 : 0;
}

void ms_bench_churn_table(const ms_bench_run *run, const char *dir, FILE *out) {
    size_t n = run->matrix.n;
    bool *done = calloc(n ? n : 1, sizeof *done);
    churn_csv csv = {{0}};
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        const ms_bench_cell *ci = &run->matrix.cells[i];
        if (done[i] || strcmp(ci->workload, "churn") != 0) continue;
        churn_row rows[CHURN_MAX_ALLOCS];
        int nrows = 0;
        for (size_t j = i; j < n && nrows < CHURN_MAX_ALLOCS; j++) {
            const ms_bench_cell *cj = &run->matrix.cells[j];
            if (done[j] || strcmp(cj->workload, "churn") != 0 || strcmp(cj->knobs, ci->knobs) != 0) continue;
            done[j] = true;
            rows[nrows].alloc = cj->allocator;
            if (cell_figure(run, j, &rows[nrows])) nrows++;
        }
        if (nrows == 0) continue;
        if (!any) fprintf(out, "\nallocators (churn, ns per alloc+free pair, median [min-max] of the repetitions):\n");
        any = true;
        fprintf(out, "%s\n  %-10s %-26s %10s %10s\n", ci->knobs[0] ? ci->knobs : "(default knobs)", "allocator",
                "ns/pair", "vs mimalloc", "vs pymalloc");
        for (int r = 0; r < nrows; r++) {
            char fig[64];
            snprintf(fig, sizeof fig, "%.1f [%.1f-%.1f]", rows[r].med, rows[r].min, rows[r].max);
            double vm = ratio_to(rows, nrows, "mimalloc", rows[r].med);
            double vp = ratio_to(rows, nrows, "pymalloc", rows[r].med);
            fprintf(out, "  %-10s %-26s", rows[r].alloc, fig);
            put_ratio(out, vm);
            put_ratio(out, vp);
            if (strcmp(rows[r].alloc, "pool") == 0 && (!isnan(vm) || !isnan(vp)))
                fprintf(out, "   target <= %.1fx / <= %.1fx: %s", CHURN_TARGET_VS_MIMALLOC, CHURN_TARGET_VS_PYMALLOC,
                        (isnan(vm) || vm <= CHURN_TARGET_VS_MIMALLOC) && (isnan(vp) || vp <= CHURN_TARGET_VS_PYMALLOC)
                            ? "met"
                            : "NOT met");
            fputc('\n', out);
            /* knobs are joined with ';' and hold no ',' (cell syntax), so they need no quotes */
            ms_sbuf_printf(&csv.buf, "%s,%s,%.3f,%.3f,%.3f,%.4f,%.4f\n", ci->knobs[0] ? ci->knobs : "default",
                           rows[r].alloc, rows[r].med,
                           rows[r].min, rows[r].max, vm, vp);
        }
    }
    if (any && dir) {
        char *path = ms_bench_xprintf("%s/churn_allocators.csv", dir);
        if (ms_write_file_atomic(path, emit_csv, &csv) != 0)
            fprintf(stderr, "memstrat bench: cannot write %s\n", path);
        free(path);
    }
    free(csv.buf.p);
    free(done);
}
