/* bench_collectors.c — the collector table of `memstrat bench`: every other cycle
 * collector set beside `rc+gen` on the same workload, as ratios from the same run.
 *
 * Contract: for each `rc+gen` cell, the cells with the same workload, allocator,
 * layout and knobs (`policy=auto`, the default, counts as absent) under another
 * collector (rc+incr, rc+trial, boehm, ...) are listed with their median
 * throughput, median of the maximum pause and median total collector time, each
 * also as a ratio to rc+gen's. Issue 6's target is stated against rc+incr's rows:
 * maximum pause ≤ 10% of rc+gen's at ≤ 10% throughput loss. Printed to stdout and
 * written as collectors.csv into the run directory.
 * Invariant: medians over successful repetitions only; a cell without any is left out.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "bench.h"

/* Issue 6's target for rc+incr against rc+gen: pause share and throughput loss. */
#define COLL_TARGET_MAX_PAUSE_RATIO 0.10
#define COLL_TARGET_THROUGHPUT_LOSS 0.10

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of a counter over the good repetitions of cell i; NaN if none has it. */
static double counter_median(const ms_bench_run *run, size_t i, const char *name) {
    double v[MS_BENCH_MAX_REPS];
    int k = 0;
    for (int r = 1; r <= run->reps && k < MS_BENCH_MAX_REPS; r++) {
        const ms_bench_rep *rep = ms_bench_rep_at(run, i, r);
        if (!rep->ok || rep->entry == NULL) continue;
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(rep->entry, name);
        if (cJSON_IsNumber(c) && isfinite(c->valuedouble)) v[k++] = c->valuedouble;
    }
    if (k == 0) return NAN;
    qsort(v, (size_t)k, sizeof *v, cmp_double);
    return k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
}

/* The knobs with `policy=auto` (the default) taken out, so the two spellings match. */
static void normal_knobs(const char *knobs, char *out, size_t n) {
    out[0] = '\0';
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", knobs);
    for (char *save = NULL, *k = strtok_r(buf, ";", &save); k; k = strtok_r(NULL, ";", &save)) {
        if (strcmp(k, "policy=auto") == 0) continue;
        size_t len = strlen(out);
        snprintf(out + len, n - len, "%s%s", len ? ";" : "", k);
    }
}

static bool same_setting(const ms_bench_cell *a, const ms_bench_cell *b) {
    char ka[1024], kb[1024];
    normal_knobs(a->knobs, ka, sizeof ka);
    normal_knobs(b->knobs, kb, sizeof kb);
    return !strcmp(a->workload, b->workload) && !strcmp(a->allocator, b->allocator) &&
           !strcmp(a->layout, b->layout) && !strcmp(ka, kb);
}

static bool is_collector(const char *reclaim) { return strcmp(reclaim, "none") != 0 && strcmp(reclaim, "rc") != 0; }

static int emit_csv(FILE *f, void *arg) {
    fputs("cell,baseline,ops_per_s,ops_ratio,pause_max_us,pause_max_ratio,pause_total_ms,pause_total_ratio\n", f);
    fputs(ms_sbuf_str(arg), f);
    return ferror(f) ? -1 : 0;
}

void ms_bench_collectors_table(const ms_bench_run *run, const char *dir, FILE *out) {
    ms_sbuf csv = {0};
    bool any = false;
    for (size_t i = 0; i < run->matrix.n; i++) {
        const ms_bench_cell *base = &run->matrix.cells[i];
        if (strcmp(base->reclaim, "rc+gen") != 0 || run->sum[i].reps == 0) continue;
        const double b_ops = run->sum[i].ops_median, b_max = run->sum[i].pause_max_median;
        const double b_tot = counter_median(run, i, "pause_total_ms");
        for (size_t j = 0; j < run->matrix.n; j++) {
            const ms_bench_cell *c = &run->matrix.cells[j];
            if (j == i || run->sum[j].reps == 0 || !is_collector(c->reclaim) || !strcmp(c->reclaim, "rc+gen") ||
                !same_setting(base, c))
                continue;
            if (!any)
                fprintf(out, "\ncollectors beside rc+gen (medians; ratio = strategy / rc+gen):\n  %-58s %17s %17s %17s\n",
                        "cell", "ops/s (ratio)", "max pause us", "collector ms");
            any = true;
            const double ops = run->sum[j].ops_median, mx = run->sum[j].pause_max_median;
            const double tot = counter_median(run, j, "pause_total_ms");
            fprintf(out, "  %-58s %9.3g (%.2fx) %9.0f (%.2fx) %9.0f (%.2fx)", c->name, ops, ops / b_ops, mx,
                    mx / b_max, tot, tot / b_tot);
            if (!strcmp(c->reclaim, "rc+incr"))
                fprintf(out, "  target max pause <= %.0f%%, loss <= %.0f%%: %s", COLL_TARGET_MAX_PAUSE_RATIO * 100,
                        COLL_TARGET_THROUGHPUT_LOSS * 100,
                        mx / b_max <= COLL_TARGET_MAX_PAUSE_RATIO && ops / b_ops >= 1 - COLL_TARGET_THROUGHPUT_LOSS
                            ? "met"
                            : "NOT met");
            fputc('\n', out);
            ms_sbuf_printf(&csv, "%s,%s,%.6g,%.4f,%.6g,%.4f,%.6g,%.4f\n", c->name, base->name, ops, ops / b_ops, mx,
                           mx / b_max, tot, tot / b_tot);
        }
    }
    if (any && dir) {
        char *path = ms_bench_xprintf("%s/collectors.csv", dir);
        if (ms_write_file_atomic(path, emit_csv, &csv) != 0) fprintf(stderr, "memstrat bench: cannot write %s\n", path);
        free(path);
    }
    free(csv.p);
}
