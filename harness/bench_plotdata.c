/* bench_plotdata.c — per-workload data files for the plots, and the references they share
 * with report.md.
 *
 * Contract: ms_bench_plotdata_write(run, run_dir, outdir_rel) writes, for every workload with
 * results, into run_dir/outdir_rel/data/ (relative names only, so gnuplot never sees a
 * user-chosen path):
 *   <wl>.tsv             one row per cell with results: medians and min/max of throughput,
 *                        throughput normalised to the cell's reference (ms_bench_norm_ref),
 *                        peak RSS, p99 and max pause, and the pause count of all repetitions;
 *   <wl>.pause_cdf.dat   one gnuplot index block per cell that paused: the empirical CDF of its
 *                        pause durations pooled over every successful repetition, thinned to
 *                        at most MS_PD_CDF_POINTS quantile points (exact values, never
 *                        interpolated);
 *   <wl>.pause_tl.dat    one block per cell that paused: t_ms, duration_us and pause kind of
 *                        its first repetition with a pause file; above MS_PD_TL_BUCKETS pauses,
 *                        the longest pause of each kind in each of MS_PD_TL_BUCKETS equal time
 *                        buckets (so spikes survive and no kind disappears);
 *   <wl>.rss_tl.dat      one block per cell with a timeline: t_ms, rss_mb of its first
 *                        repetition, above MS_PD_TL_BUCKETS samples the highest per bucket.
 * Block order is the order of the lists in ms_bench_wl_plots, which the driver passes to
 * gnuplot. Invariant: NaN is written as "NaN" (gnuplot reads it as undefined).
 */
#include "bench.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Quantile points per pause CDF: smooth at any plot size, small even for 20k pauses x reps. */
#define MS_PD_CDF_POINTS 500
/* Time buckets of a thinned timeline: more than a plot's width in pixels, so nothing visible
 * is lost, while an SVG of a dozen cells stays a few hundred kilobytes. */
#define MS_PD_TL_BUCKETS 1500
/* Pause kinds of pause_timeline.gp (point types in colors.gp): gen0..gen2, then other. */
#define MS_PD_KIND_OTHER 4

/* One point read from a CSV of the run: x, y and (pauses) the generation. */
typedef struct ms_pd_pt {
    double x, y;
    int kind;
} ms_pd_pt;

typedef struct ms_pd_vec {
    ms_pd_pt *p;
    size_t n, cap;
} ms_pd_vec;

/* Appending one point; allocation failure aborts like every driver allocation. */
static void ms_pd_push(ms_pd_vec *v, double x, double y, int kind)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? 2 * v->cap : 1024;
        v->p = ms_bench_xrealloc(v->p, v->cap * sizeof *v->p);
    }
    v->p[v->n++] = (ms_pd_pt){x, y, kind};
}

/* How a pause of `generation` under `reclaim` is drawn. rc+gen's generations are CPython's;
 * rc+incr reports young collections as 0, full ones as 2 and its increments as 1, which are
 * not gen1 collections; every other collector has one kind of pause. */
static int ms_pd_kind(const char *reclaim, int generation)
{
    if (!strcmp(reclaim, "rc+gen") && generation >= 0 && generation <= 2)
        return generation + 1;
    if (!strcmp(reclaim, "rc+incr") && (generation == 0 || generation == 2))
        return generation + 1;
    return MS_PD_KIND_OTHER;
}

/* Read the numeric rows of a CSV with a header (t,value[,generation]) into v; missing file:
 * nothing added. Only two or three leading columns are used. */
static void ms_pd_read_csv(const char *path, const char *reclaim, ms_pd_vec *v)
{
    char *text;
    if (ms_bench_read_file(path, &text, NULL) != 0)
        return;
    char *line = strchr(text, '\n');
    while (line && *++line) {
        char *end, *nl = strchr(line, '\n');
        double x = strtod(line, &end);
        if (end != line && *end == ',') {
            char *s = end + 1;
            double y = strtod(s, &end);
            if (end != s) {
                int gen = 0;
                if (*end == ',')
                    gen = (int)strtol(end + 1, NULL, 10);
                ms_pd_push(v, x, y, reclaim ? ms_pd_kind(reclaim, gen) : 0);
            }
        }
        line = nl;
    }
    free(text);
}

/* A number as gnuplot reads it: NaN spelled out, otherwise enough digits for any plot. */
static void ms_pd_num(ms_sbuf *b, char sep, double v)
{
    if (isnan(v) || isinf(v))
        ms_sbuf_printf(b, "%cNaN", sep);
    else
        ms_sbuf_printf(b, "%c%.8g", sep, v);
}

static int ms_pd_cmp_y(const void *a, const void *b)
{
    double x = ((const ms_pd_pt *)a)->y, y = ((const ms_pd_pt *)b)->y;
    return (x > y) - (x < y);
}

/* One CDF block: the sorted durations at evenly spaced ranks (value, fraction at or below
 * that rank), the largest always last; drawn as steps, so nothing is interpolated. */
static void ms_pd_cdf_block(ms_sbuf *b, ms_pd_vec *v)
{
    qsort(v->p, v->n, sizeof *v->p, ms_pd_cmp_y);
    size_t step = v->n > MS_PD_CDF_POINTS ? v->n / MS_PD_CDF_POINTS : 1;
    for (size_t k = 0; k + 1 < v->n; k += step)
        ms_sbuf_printf(b, "%.6g %.8g\n", v->p[k].y, (double)(k + 1) / (double)v->n);
    ms_sbuf_printf(b, "%.6g 1\n", v->p[v->n - 1].y);
}

/* One timeline block, thinned to the largest y per (bucket, kind) when long. */
static void ms_pd_tl_block(ms_sbuf *b, const ms_pd_vec *v, int with_kind)
{
    if (v->n <= MS_PD_TL_BUCKETS) {
        for (size_t k = 0; k < v->n; k++) {
            ms_sbuf_printf(b, "%.6f %.6g", v->p[k].x, v->p[k].y);
            if (with_kind)
                ms_sbuf_printf(b, " %d", v->p[k].kind);
            ms_sbuf_putc(b, '\n');
        }
        return;
    }
    double t0 = v->p[0].x, t1 = v->p[v->n - 1].x;
    double width = (t1 - t0) / MS_PD_TL_BUCKETS;
    if (!(width > 0))
        width = 1;
    size_t k = 0;
    while (k < v->n) {
        long bucket = (long)((v->p[k].x - t0) / width);
        long best[MS_PD_KIND_OTHER + 1];
        for (int q = 0; q <= MS_PD_KIND_OTHER; q++)
            best[q] = -1;
        size_t j = k;
        for (; j < v->n && (long)((v->p[j].x - t0) / width) == bucket; j++) {
            int q = v->p[j].kind < 0 || v->p[j].kind > MS_PD_KIND_OTHER ? 0 : v->p[j].kind;
            if (best[q] < 0 || v->p[j].y > v->p[best[q]].y)
                best[q] = (long)j;
        }
        if (j == k) /* time going backwards: take the point alone */
            j = k + 1, best[0] = (long)k;
        for (int q = 0; q <= MS_PD_KIND_OTHER; q++) {
            if (best[q] < 0)
                continue;
            const ms_pd_pt *p = &v->p[best[q]];
            ms_sbuf_printf(b, "%.6f %.6g", p->x, p->y);
            if (with_kind)
                ms_sbuf_printf(b, " %d", p->kind);
            ms_sbuf_putc(b, '\n');
        }
        k = j;
    }
}

/* The cell a cell's throughput is normalised to: the rc+gen cell of the same workload, layout
 * and non-strategy knobs (bench_knobs.c's baseline key) on the pool allocator, else on system;
 * -1 when there is neither. *alloc gets "pool" or "system". */
long ms_bench_norm_ref(const ms_bench_run *run, size_t i, const char **alloc)
{
    static const char *const pref[] = {"pool", "system"};
    const ms_bench_cell *c = &run->matrix.cells[i];
    char *key = ms_bench_baseline_key(c);
    long found = -1;
    for (size_t a = 0; a < sizeof pref / sizeof *pref && found < 0; a++) {
        for (size_t j = 0; j < run->matrix.n && found < 0; j++) {
            const ms_bench_cell *r = &run->matrix.cells[j];
            if (run->sum[j].reps == 0 || strcmp(r->reclaim, "rc+gen") ||
                strcmp(r->allocator, pref[a]) || strcmp(r->workload, c->workload) ||
                strcmp(r->layout, c->layout))
                continue;
            char *rk = ms_bench_baseline_key(r);
            if (!strcmp(rk, key)) {
                found = (long)j;
                if (alloc)
                    *alloc = pref[a];
            }
            free(rk);
        }
    }
    free(key);
    return found;
}

/* Workloads with at least one cell with results, in matrix order (borrowed names). */
size_t ms_bench_workloads(const ms_bench_run *run, const char ***out)
{
    const char **w = ms_bench_xmalloc((run->matrix.n + 1) * sizeof *w);
    size_t n = 0;
    for (size_t i = 0; i < run->matrix.n; i++) {
        if (run->sum[i].reps == 0)
            continue;
        size_t k = 0;
        while (k < n && strcmp(w[k], run->matrix.cells[i].workload))
            k++;
        if (k == n)
            w[n++] = run->matrix.cells[i].workload;
    }
    *out = w;
    return n;
}

/* Label of a cell inside its workload's plots: the name without "<workload>/". */
const char *ms_bench_cell_label(const ms_bench_cell *c)
{
    size_t n = strlen(c->workload);
    return !strncmp(c->name, c->workload, n) && c->name[n] == '/' ? c->name + n + 1 : c->name;
}

/* Whether the ';'-separated knob list has the token kv (len bytes) as one of its items. */
static int ms_pd_has_knob(const char *knobs, const char *kv, size_t len)
{
    for (const char *p = knobs; *p;) {
        size_t n = strcspn(p, ";");
        if (n == len && !strncmp(p, kv, len))
            return 1;
        p += n + (p[n] == ';');
    }
    return 0;
}

/* A cell's label in its workload's plots: reclaim/allocator/layout and only the knobs that tell
 * it apart from the workload's other cells. Knobs every cell shares (the matrix's sizes) said
 * again on every tick squeezed the plots to a sliver; report.md's tables keep full names.
 * Owned by the caller. */
static char *ms_pd_label(const ms_bench_run *run, const char *wl, const ms_bench_cell *c)
{
    ms_sbuf b = {0};
    ms_sbuf_printf(&b, "%s/%s/%s", c->reclaim, c->allocator, c->layout);
    for (const char *p = c->knobs; *p;) {
        size_t n = strcspn(p, ";");
        int everywhere = 1;
        for (size_t j = 0; j < run->matrix.n && everywhere; j++)
            if (run->sum[j].reps && !strcmp(run->matrix.cells[j].workload, wl))
                everywhere = ms_pd_has_knob(run->matrix.cells[j].knobs, p, n);
        if (!everywhere)
            ms_sbuf_printf(&b, "/%.*s", (int)n, p);
        p += n + (p[n] == ';');
    }
    char *label = ms_bench_xstrdup(ms_sbuf_str(&b));
    ms_sbuf_free(&b);
    return label;
}

/* Appends "word" to a space-separated list. */
static void ms_pd_word(ms_sbuf *b, const char *w)
{
    ms_sbuf_printf(b, "%s%s", b->len ? " " : "", w);
}

/* Which strategies of known_order are present, then any others, into b (space-separated). */
static void ms_pd_reclaims(const ms_bench_run *run, const char *wl, ms_sbuf *b)
{
    static const char *const known[] = {"none", "rc", "rc+gen", "rc+incr", "rc+trial", "boehm",
                                        NULL};
    for (int k = 0; known[k]; k++)
        for (size_t i = 0; i < run->matrix.n; i++)
            if (run->sum[i].reps && !strcmp(run->matrix.cells[i].workload, wl) &&
                !strcmp(run->matrix.cells[i].reclaim, known[k])) {
                ms_pd_word(b, known[k]);
                break;
            }
    for (size_t i = 0; i < run->matrix.n; i++) {
        const ms_bench_cell *c = &run->matrix.cells[i];
        int listed = 0;
        for (int k = 0; known[k]; k++)
            listed |= !strcmp(c->reclaim, known[k]);
        if (!run->sum[i].reps || strcmp(c->workload, wl) || listed)
            continue;
        const char *s = ms_sbuf_str(b);
        size_t len = strlen(c->reclaim);
        int dup = 0;
        for (const char *p = s; (p = strstr(p, c->reclaim)) != NULL; p += len)
            dup |= (p == s || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\0');
        if (!dup)
            ms_pd_word(b, c->reclaim);
    }
}

/* Dash type of cell i: 1 for the first cell of its strategy in the workload, 2 for the next... */
static int ms_pd_dash(const ms_bench_run *run, size_t i)
{
    int d = 1;
    for (size_t j = 0; j < i; j++)
        d += run->sum[j].reps && !strcmp(run->matrix.cells[j].workload, run->matrix.cells[i].workload) &&
             !strcmp(run->matrix.cells[j].reclaim, run->matrix.cells[i].reclaim);
    return d;
}

/* Write a buffer to dir/name, saying so on failure. */
static int ms_pd_save(const char *dir, const char *wl, const char *suffix, ms_sbuf *b)
{
    char *path = ms_bench_xprintf("%s/%s.%s", dir, wl, suffix);
    int rc = ms_bench_write_atomic(path, ms_sbuf_str(b), b->len);
    if (rc != 0)
        fprintf(stderr, "memstrat bench: cannot write %s: %s\n", path, strerror(errno));
    free(path);
    ms_sbuf_free(b);
    return rc;
}

/* Lists the driver passes to gnuplot for one workload. */
void ms_bench_wl_plots_free(ms_bench_wl_plots *p)
{
    ms_sbuf *all[] = {&p->reclaims, &p->p_labels, &p->p_reclaims, &p->p_dash,
                      &p->t_labels,  &p->t_reclaims, &p->t_dash};
    for (size_t k = 0; k < sizeof all / sizeof *all; k++)
        ms_sbuf_free(all[k]);
    memset(p, 0, sizeof *p);
}

/* The data files of workload wl (see the contract) and the lists that index them. */
int ms_bench_plotdata_write(const ms_bench_run *run, const char *run_dir, const char *datadir,
                            const char *wl, ms_bench_wl_plots *out)
{
    memset(out, 0, sizeof *out);
    ms_pd_reclaims(run, wl, &out->reclaims);
    ms_sbuf tsv = {0}, cdf = {0}, ptl = {0}, rtl = {0};
    /* the columns summary.tsv shares keep its names, so throughput.gp and rss_peak.gp read both */
    ms_sbuf_puts(&tsv, "cell\tlabel\treclaim\tallocator\tlayout\tknobs\treps\tops_per_s_median"
                       "\tops_per_s_min\tops_per_s_max\tnorm_median\tnorm_min\tnorm_max\tref"
                       "\trss_peak_mb_median\trss_peak_mb_min\trss_peak_mb_max"
                       "\tpause_p99_us_median\tpause_max_us_median\tpauses\tdash\n");
    int nref_pool = 0, nref_sys = 0, nref_none = 0;
    for (size_t i = 0; i < run->matrix.n; i++) {
        const ms_bench_cell *c = &run->matrix.cells[i];
        const ms_bench_summary *s = &run->sum[i];
        if (s->reps == 0 || strcmp(c->workload, wl))
            continue;
        const char *alloc = "-";
        long ref = ms_bench_norm_ref(run, i, &alloc);
        double base = ref >= 0 ? run->sum[ref].ops_median : NAN;
        nref_pool += ref >= 0 && !strcmp(alloc, "pool");
        nref_sys += ref >= 0 && !strcmp(alloc, "system");
        nref_none += ref < 0;
        /* every pause of every good repetition: the CDF's sample */
        ms_pd_vec all = {0}, first = {0}, rss = {0};
        for (int r = 1; r <= run->reps; r++) {
            if (!ms_bench_rep_at(run, i, r)->ok)
                continue;
            char *path = ms_bench_xprintf("%s/pauses/%s.rep%d.csv", run_dir, c->slug, r);
            size_t before = all.n;
            ms_pd_read_csv(path, c->reclaim, &all);
            if (first.n == 0 && all.n > before)
                ms_pd_read_csv(path, c->reclaim, &first);
            free(path);
            if (rss.n == 0) {
                path = ms_bench_xprintf("%s/timeline/%s.rep%d.csv", run_dir, c->slug, r);
                ms_pd_read_csv(path, NULL, &rss);
                free(path);
            }
        }
        int dash = ms_pd_dash(run, i);
        char dash_s[16];
        snprintf(dash_s, sizeof dash_s, "%d", dash);
        char *label = ms_pd_label(run, wl, c);
        ms_sbuf_printf(&tsv, "%s\t%s\t%s\t%s\t%s\t%s\t%d", c->name, label,
                       c->reclaim, c->allocator, c->layout, c->knobs[0] ? c->knobs : "-",
                       s->reps);
        const double nums[] = {s->ops_median, s->ops_min, s->ops_max, s->ops_median / base,
                               s->ops_min / base, s->ops_max / base};
        for (size_t k = 0; k < sizeof nums / sizeof *nums; k++)
            ms_pd_num(&tsv, '\t', nums[k]);
        ms_sbuf_printf(&tsv, "\t%s", ref < 0 ? "-" : alloc);
        const double more[] = {s->rss_peak_median, s->rss_peak_min, s->rss_peak_max,
                               s->pause_p99_median, s->pause_max_median};
        for (size_t k = 0; k < sizeof more / sizeof *more; k++)
            ms_pd_num(&tsv, '\t', more[k]);
        ms_sbuf_printf(&tsv, "\t%zu\t%d\n", all.n, dash);
        if (all.n > 0) {
            ms_sbuf_printf(&cdf, "%s# %s\n", cdf.len ? "\n\n" : "", c->name);
            ms_pd_cdf_block(&cdf, &all);
            ms_sbuf_printf(&ptl, "%s# %s\n", ptl.len ? "\n\n" : "", c->name);
            ms_pd_tl_block(&ptl, &first, 1);
            ms_pd_word(&out->p_labels, label);
            ms_pd_word(&out->p_reclaims, c->reclaim);
            ms_pd_word(&out->p_dash, dash_s);
        }
        if (rss.n > 0) {
            ms_sbuf_printf(&rtl, "%s# %s\n", rtl.len ? "\n\n" : "", c->name);
            ms_pd_tl_block(&rtl, &rss, 0);
            ms_pd_word(&out->t_labels, label);
            ms_pd_word(&out->t_reclaims, c->reclaim);
            ms_pd_word(&out->t_dash, dash_s);
        }
        out->ncells++;
        free(label);
        free(all.p);
        free(first.p);
        free(rss.p);
    }
    out->ref = nref_pool && !nref_sys && !nref_none   ? MS_REF_POOL
               : nref_sys && !nref_pool && !nref_none ? MS_REF_SYSTEM
               : nref_pool || nref_sys                ? MS_REF_MIXED
                                                      : MS_REF_NONE;
    int rc = ms_pd_save(datadir, wl, "tsv", &tsv);
    if (cdf.len)
        rc |= ms_pd_save(datadir, wl, "pause_cdf.dat", &cdf);
    if (ptl.len)
        rc |= ms_pd_save(datadir, wl, "pause_tl.dat", &ptl);
    if (rtl.len)
        rc |= ms_pd_save(datadir, wl, "rss_tl.dat", &rtl);
    ms_sbuf_free(&cdf);
    ms_sbuf_free(&ptl);
    ms_sbuf_free(&rtl);
    return rc;
}
