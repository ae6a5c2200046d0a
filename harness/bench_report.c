/* bench_report.c — results/<run>/report.md: what a run measured, in one readable page.
 *
 * Contract: ms_bench_write_report(run, run_dir) writes run_dir/report.md (atomically) from
 * run_dir/meta.json (machine, build, git, libraries, reps, times, CV warnings), the run's
 * summary (run->sum) and the optional tables the run left beside it (churn_allocators.csv,
 * collectors.csv, gc_scan.txt/gc_scan.csv). One section per workload: its plots, linked by
 * relative path and only where plots/<workload>-<plot>.png exists, a table with a row per cell,
 * and conclusions.
 * Conclusions are generated, never written by hand, and say only what the numbers carry:
 * two cells are ranked by median time only when each has at least MS_REPORT_MIN_REPS
 * successful repetitions, each time CV is at most MS_BENCH_CV_WARN_PCT, and their min–max
 * ranges do not overlap; overlapping ranges are reported as "not distinguishable in this
 * run", noisy pairs as "no claim". Peak RSS is compared by the min–max rule alone (it is not
 * noisy in the same way). Pairs: every cell against its `none` baseline (LBO) and against the
 * rc+gen cell its throughput plot is normalised to.
 * Invariant: the report is rebuilt from files of the run, so --plots-only can re-report old runs.
 */
#include "bench.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Repetitions below which a CV means nothing, so no ranking is attempted. */
#define MS_REPORT_MIN_REPS 2
/* Ratios closer to 1 than this are printed as "about the same" even when ranges are disjoint:
 * a 0.5% difference that happens to be separated is not worth a sentence. */
#define MS_REPORT_MIN_RATIO 1.005

/* Markdown-safe text for a table cell: '|' would end the cell, line breaks the row. */
static void ms_md_text(ms_sbuf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            ms_sbuf_puts(b, "\\|");
        else if (*s == '\n' || *s == '\r')
            ms_sbuf_putc(b, ' ');
        else
            ms_sbuf_putc(b, *s);
    }
}

/* A number for the table, "–" when there is none. */
static void ms_md_num(ms_sbuf *b, const char *fmt, double v)
{
    if (isnan(v) || isinf(v))
        ms_sbuf_puts(b, " – |");
    else {
        ms_sbuf_putc(b, ' ');
        ms_sbuf_printf(b, fmt, v);
        ms_sbuf_puts(b, " |");
    }
}

/* A string member of a meta.json object, or "unknown". */
static const char *ms_meta_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsString(v))
        return v->valuestring;
    return "unknown";
}

/* The metadata section: everything needed to know whether two runs are comparable. */
static void ms_report_meta(ms_sbuf *b, const cJSON *meta, const ms_bench_run *run)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(meta, "machine");
    const cJSON *bu = cJSON_GetObjectItemCaseSensitive(meta, "build");
    const cJSON *git = cJSON_GetObjectItemCaseSensitive(meta, "git");
    const cJSON *cores = cJSON_GetObjectItemCaseSensitive(m, "cores");
    const cJSON *mem = cJSON_GetObjectItemCaseSensitive(m, "mem_total_mb");
    const cJSON *dirty = cJSON_GetObjectItemCaseSensitive(git, "dirty");
    ms_sbuf_puts(b, "## Machine and build\n\n| | |\n|---|---|\n");
    ms_sbuf_printf(b, "| CPU | %s |\n", ms_meta_str(m, "cpu_model"));
    if (cJSON_IsNumber(cores))
        ms_sbuf_printf(b, "| cores | %d |\n", cores->valueint);
    if (cJSON_IsNumber(mem))
        ms_sbuf_printf(b, "| memory | %.0f MB |\n", mem->valuedouble);
    ms_sbuf_printf(b, "| kernel | %s |\n", ms_meta_str(m, "kernel"));
    ms_sbuf_printf(b, "| compiler | %s |\n", ms_meta_str(bu, "compiler"));
    ms_sbuf_puts(b, "| flags | `");
    ms_md_text(b, ms_meta_str(bu, "flags"));
    ms_sbuf_printf(b, "` (%s) |\n", ms_meta_str(bu, "build_type"));
    ms_sbuf_printf(b, "| git commit | `%s`%s |\n", ms_meta_str(git, "commit"),
                   cJSON_IsTrue(dirty)    ? " **dirty** (uncommitted changes)"
                   : cJSON_IsFalse(dirty) ? " clean"
                                          : " (dirty: unknown)");
    const cJSON *lib;
    cJSON_ArrayForEach(lib, cJSON_GetObjectItemCaseSensitive(meta, "libraries"))
        ms_sbuf_printf(b, "| %s | %s |\n", lib->string, ms_meta_str(lib, "version"));
    ms_sbuf_printf(b, "| repetitions | %d per cell, each in its own process |\n", run->reps);
    ms_sbuf_printf(b, "| started | %s |\n| finished | %s |\n", ms_meta_str(meta, "started_utc"),
                   ms_meta_str(meta, "finished_utc"));
    const cJSON *fails = cJSON_GetObjectItemCaseSensitive(meta, "failures");
    ms_sbuf_printf(b, "| failed repetitions | %d |\n", cJSON_GetArraySize(fails));
    const cJSON *cv = cJSON_GetObjectItemCaseSensitive(meta, "cv_warnings");
    ms_sbuf_printf(b, "\n**CV warnings** (time CV > %.0f%%: %d cell(s)):", MS_BENCH_CV_WARN_PCT,
                   cJSON_GetArraySize(cv));
    const cJSON *w;
    int first = 1;
    cJSON_ArrayForEach(w, cv)
    {
        const cJSON *pct = cJSON_GetObjectItemCaseSensitive(w, "time_cv_pct");
        ms_sbuf_printf(b, "%s `%s` %.1f%%", first ? "" : ",", ms_meta_str(w, "cell"),
                       cJSON_IsNumber(pct) ? pct->valuedouble : NAN);
        first = 0;
    }
    ms_sbuf_puts(b, first ? " none.\n\n" : ".\n\n");
}

/* Can the time of cell i take part in a ranking? */
static int ms_report_steady(const ms_bench_summary *s)
{
    return s->reps >= MS_REPORT_MIN_REPS && s->time_cv_pct <= MS_BENCH_CV_WARN_PCT;
}

/* One mechanical sentence about the time of cells a and b (see the contract). */
static void ms_report_compare_time(ms_sbuf *b, const ms_bench_run *run, size_t a, size_t bb,
                                   const char *why)
{
    const ms_bench_summary *x = &run->sum[a], *y = &run->sum[bb];
    const char *na = run->matrix.cells[a].name, *nb = run->matrix.cells[bb].name;
    ms_sbuf_printf(b, "- time, `%s` vs `%s` (%s): ", na, nb, why);
    if (!ms_report_steady(x) || !ms_report_steady(y)) {
        ms_sbuf_printf(b, "no claim — noisy (CV %.1f%% and %.1f%%, limit %.0f%%, at least %d reps).\n",
                       x->time_cv_pct, y->time_cv_pct, MS_BENCH_CV_WARN_PCT, MS_REPORT_MIN_REPS);
        return;
    }
    if (x->time_min_ms <= y->time_max_ms && y->time_min_ms <= x->time_max_ms) {
        ms_sbuf_puts(b, "not distinguishable in this run (min–max ranges overlap).\n");
        return;
    }
    double r = x->time_median_ms / y->time_median_ms;
    if (r < MS_REPORT_MIN_RATIO && r > 1.0 / MS_REPORT_MIN_RATIO)
        ms_sbuf_printf(b, "the same within %.1f%% (medians; ranges disjoint).\n",
                       (MS_REPORT_MIN_RATIO - 1) * 100);
    else
        ms_sbuf_printf(b, "`%s` is **%.2f× %s** (medians %.2f vs %.2f ms; CV ≤ %.0f%%; min–max "
                          "ranges disjoint).\n",
                       na, r >= 1 ? r : 1 / r, r >= 1 ? "slower" : "faster", x->time_median_ms,
                       y->time_median_ms, MS_BENCH_CV_WARN_PCT);
}

/* One sentence about peak RSS of cells a and b: only when min–max ranges are disjoint. */
static void ms_report_compare_rss(ms_sbuf *b, const ms_bench_run *run, size_t a, size_t bb)
{
    const ms_bench_summary *x = &run->sum[a], *y = &run->sum[bb];
    if (isnan(x->rss_peak_median) || isnan(y->rss_peak_median) || y->rss_peak_median <= 0)
        return;
    const char *na = run->matrix.cells[a].name, *nb = run->matrix.cells[bb].name;
    ms_sbuf_printf(b, "- peak RSS, `%s` vs `%s`: ", na, nb);
    if (x->rss_peak_min <= y->rss_peak_max && y->rss_peak_min <= x->rss_peak_max) {
        ms_sbuf_puts(b, "not distinguishable in this run (min–max ranges overlap).\n");
        return;
    }
    double r = x->rss_peak_median / y->rss_peak_median;
    if (r < MS_REPORT_MIN_RATIO && r > 1.0 / MS_REPORT_MIN_RATIO)
        ms_sbuf_printf(b, "the same within %.1f%% (medians; ranges disjoint).\n",
                       (MS_REPORT_MIN_RATIO - 1) * 100);
    else
        ms_sbuf_printf(b, "`%s` peaks at **%.2f×** the RSS of `%s` (%.1f vs %.1f MB, medians; "
                          "min–max ranges disjoint).\n",
                       na, r, nb, x->rss_peak_median, y->rss_peak_median);
}

/* The `none` cell the summary's overhead of cell i was computed against, or -1. */
static long ms_report_none_of(const ms_bench_run *run, size_t i)
{
    const ms_bench_cell *c = &run->matrix.cells[i];
    if (!strcmp(c->reclaim, "none") || isnan(run->sum[i].overhead_vs_none_pct))
        return -1;
    char *key = ms_bench_baseline_key(c);
    long found = -1;
    for (size_t j = 0; j < run->matrix.n && found < 0; j++) {
        const ms_bench_cell *n = &run->matrix.cells[j];
        if (run->sum[j].reps == 0 || strcmp(n->reclaim, "none") || strcmp(n->workload, c->workload) ||
            strcmp(n->allocator, c->allocator) || strcmp(n->layout, c->layout))
            continue;
        char *k = ms_bench_baseline_key(n);
        if (!strcmp(k, key))
            found = (long)j;
        free(k);
    }
    free(key);
    return found;
}

/* What each per-workload plot shows, for the caption under its link. */
static const char *ms_report_caption(const char *plot, const char *wl, const ms_bench_run *run)
{
    if (!strcmp(plot, "throughput")) {
        int pool = 0, sys = 0, none = 0;
        for (size_t i = 0; i < run->matrix.n; i++) {
            const char *alloc = "";
            if (run->sum[i].reps == 0 || strcmp(run->matrix.cells[i].workload, wl))
                continue;
            long r = ms_bench_norm_ref(run, i, &alloc);
            pool += r >= 0 && !strcmp(alloc, "pool");
            sys += r >= 0 && !strcmp(alloc, "system");
            none += r < 0;
        }
        if (!pool && !sys)
            return "absolute throughput: no rc+gen cell to normalise to (median; bar: min–max of repetitions)";
        if (!sys && !none)
            return "throughput relative to rc+gen/pool of the same layout and knobs (median; bar: min–max of repetitions, divided by the reference median)";
        if (!pool && !none)
            return "throughput relative to rc+gen/system of the same layout and knobs: no rc+gen/pool cell (median; bar: min–max of repetitions, divided by the reference median)";
        return "throughput relative to rc+gen/pool, or rc+gen/system where the label says [vs system]; [no ref] cells not drawn (median; bar: min–max of repetitions)";
    }
    if (!strcmp(plot, "pause_cdf"))
        return "pause-time CDF per cell, pauses of all repetitions pooled, log x (µs)";
    if (!strcmp(plot, "pause_timeline"))
        return "pauses over time (first repetition), point type = generation / increment";
    if (!strcmp(plot, "rss_timeline"))
        return "RSS over time (first repetition)";
    if (!strcmp(plot, "rss_peak"))
        return "peak RSS per cell (median; bar: min–max)";
    return "throughput against p99 pause, bubble area ∝ peak RSS";
}

/* One workload's section: plots, table, conclusions. */
static void ms_report_workload(ms_sbuf *b, const ms_bench_run *run, const char *run_dir,
                               const char *wl)
{
    ms_sbuf_printf(b, "## Workload `%s`\n\n", wl);
    int any_plot = 0;
    for (int k = 0; ms_bench_wl_plot_names[k]; k++) {
        char *rel = ms_bench_xprintf("plots/%s-%s.png", wl, ms_bench_wl_plot_names[k]);
        char *abs = ms_bench_xprintf("%s/%s", run_dir, rel);
        if (access(abs, R_OK) == 0) {
            ms_sbuf_printf(b, "![%s %s](%s)  \n*%s — %s ([SVG](plots/%s-%s.svg))*\n\n", wl,
                           ms_bench_wl_plot_names[k], rel, ms_bench_wl_plot_names[k],
                           ms_report_caption(ms_bench_wl_plot_names[k], wl, run), wl,
                           ms_bench_wl_plot_names[k]);
            any_plot = 1;
        }
        free(rel);
        free(abs);
    }
    if (!any_plot)
        ms_sbuf_puts(b, "*No plots for this workload (gnuplot missing, or --no-plots).*\n\n");
    ms_sbuf_puts(b, "| cell | reps | median time ms | CV % | ops/s | overhead vs none % | peak RSS MB "
                    "| p99 pause µs | max pause µs |\n"
                    "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < run->matrix.n; i++) {
        const ms_bench_cell *c = &run->matrix.cells[i];
        const ms_bench_summary *s = &run->sum[i];
        if (strcmp(c->workload, wl))
            continue;
        ms_sbuf_puts(b, "| `");
        ms_md_text(b, c->name);
        if (s->reps == 0) {
            ms_sbuf_puts(b, "` | 0 | FAILED | | | | | | |\n");
            continue;
        }
        ms_sbuf_printf(b, "` | %d |", s->reps);
        ms_md_num(b, "%.2f", s->time_median_ms);
        if (s->time_cv_pct > MS_BENCH_CV_WARN_PCT)
            ms_sbuf_printf(b, " **%.1f noisy** |", s->time_cv_pct);
        else
            ms_md_num(b, "%.1f", s->time_cv_pct);
        ms_md_num(b, "%.4g", s->ops_median);
        ms_md_num(b, "%+.1f", s->overhead_vs_none_pct);
        ms_md_num(b, "%.1f", s->rss_peak_median);
        ms_md_num(b, "%.1f", s->pause_p99_median);
        ms_md_num(b, "%.1f", s->pause_max_median);
        ms_sbuf_putc(b, '\n');
    }
    ms_sbuf_puts(b, "\n**Conclusions** (generated; see the rules above)\n\n");
    size_t said = 0;
    for (size_t i = 0; i < run->matrix.n; i++) {
        const ms_bench_cell *c = &run->matrix.cells[i];
        if (strcmp(c->workload, wl) || run->sum[i].reps == 0)
            continue;
        long n = ms_report_none_of(run, i);
        if (n >= 0) {
            ms_report_compare_time(b, run, i, (size_t)n, "LBO baseline");
            ms_report_compare_rss(b, run, i, (size_t)n);
            said++;
        }
        const char *alloc = NULL;
        long r = ms_bench_norm_ref(run, i, &alloc);
        if (r >= 0 && (size_t)r != i && r != n) {
            char *why = ms_bench_xprintf("rc+gen/%s reference", alloc);
            ms_report_compare_time(b, run, i, (size_t)r, why);
            free(why);
            said++;
        }
    }
    if (!said)
        ms_sbuf_puts(b, "- nothing to compare: no cell of this workload has a `none` baseline or "
                        "an rc+gen reference.\n");
    ms_sbuf_putc(b, '\n');
}

/* Split one CSV line into fields (RFC 4180 quotes), in place; returns the field count. */
static size_t ms_csv_split(char *line, char **f, size_t max)
{
    size_t n = 0;
    char *p = line;
    while (n < max) {
        char *out = p, *start = p;
        if (*p == '"') {
            p++;
            for (;;) {
                if (*p == '"' && p[1] == '"') {
                    *out++ = '"';
                    p += 2;
                } else if (*p == '"' || *p == '\0') {
                    if (*p)
                        p++;
                    break;
                } else {
                    *out++ = *p++;
                }
            }
        } else {
            while (*p && *p != ',')
                *out++ = *p++;
        }
        f[n++] = start;
        int more = *p == ',';
        *out = '\0';
        if (!more)
            break;
        p++;
    }
    return n;
}

/* A CSV file of the run as a markdown table; nothing when the file is absent. */
static void ms_report_csv_table(ms_sbuf *b, const char *run_dir, const char *file,
                                const char *heading, const char *what)
{
    char *path = ms_bench_xprintf("%s/%s", run_dir, file), *text;
    int rd = ms_bench_read_file(path, &text, NULL);
    free(path);
    if (rd != 0)
        return;
    ms_sbuf_printf(b, "## %s\n\n%s (from [%s](%s)).\n\n", heading, what, file, file);
    enum { MAX_FIELDS = 64 };
    char *f[MAX_FIELDS];
    size_t ncol = 0, row = 0;
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (*line) {
            size_t n = ms_csv_split(line, f, MAX_FIELDS);
            if (row == 0)
                ncol = n;
            ms_sbuf_putc(b, '|');
            for (size_t k = 0; k < ncol; k++) {
                ms_sbuf_putc(b, ' ');
                ms_md_text(b, k < n ? f[k] : "");
                ms_sbuf_puts(b, " |");
            }
            ms_sbuf_putc(b, '\n');
            if (row++ == 0) {
                ms_sbuf_putc(b, '|');
                for (size_t k = 0; k < ncol; k++)
                    ms_sbuf_puts(b, "---|");
                ms_sbuf_putc(b, '\n');
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    ms_sbuf_putc(b, '\n');
    free(text);
}

/* gc_scan.txt is already a table for a terminal: kept verbatim in a code block. */
static void ms_report_gcscan(ms_sbuf *b, const char *run_dir)
{
    char *path = ms_bench_xprintf("%s/gc_scan.txt", run_dir), *text;
    int rd = ms_bench_read_file(path, &text, NULL);
    free(path);
    char *csv = ms_bench_xprintf("%s/gc_scan.csv", run_dir);
    int have_csv = access(csv, R_OK) == 0;
    free(csv);
    if (rd != 0 && !have_csv)
        return;
    ms_sbuf_puts(b, "## gc-scan: full collection, ns per object, rc+gen beside CPython\n\n");
    if (rd == 0) {
        ms_sbuf_printf(b, "```\n%s%s```\n\n", text, text[0] && text[strlen(text) - 1] != '\n' ? "\n" : "");
        free(text);
    }
    if (have_csv)
        ms_sbuf_puts(b, "Every repetition: [gc_scan.csv](gc_scan.csv).\n\n");
}

/* report.md; see the contract at the top. */
int ms_bench_write_report(const ms_bench_run *run, const char *run_dir)
{
    char *path = ms_bench_xprintf("%s/meta.json", run_dir), *text = NULL;
    cJSON *meta = NULL;
    if (ms_bench_read_file(path, &text, NULL) == 0)
        meta = cJSON_Parse(text);
    free(text);
    free(path);
    ms_sbuf b = {0};
    ms_sbuf_printf(&b, "# memstrat run `%s`\n\n", run->run_id);
    ms_sbuf_printf(&b, "Generated by `memstrat bench` from this directory's files "
                       "(`memstrat bench --plots-only DIR` regenerates it). Numbers per cell: "
                       "medians over successful repetitions; full data in "
                       "[summary.csv](summary.csv) and [results.csv](results.csv).\n\n");
    if (meta)
        ms_report_meta(&b, meta, run);
    else
        ms_sbuf_puts(&b, "## Machine and build\n\n*meta.json missing or unreadable.*\n\n");
    ms_sbuf_printf(&b,
                   "## How to read this report\n\n"
                   "- Colours: one per strategy in every plot (plots/colors.gp): none grey, rc "
                   "blue, rc+gen vermillion, rc+incr green, rc+trial pink, boehm orange; "
                   "several cells of one strategy differ by dash type.\n"
                   "- Throughput plots are normalised to the rc+gen/pool cell of the same "
                   "workload, layout and knobs (rc+gen/system where there is no pool cell; the "
                   "plot's title says which).\n"
                   "- A cell is **noisy** when its time CV (sample stddev / mean over "
                   "repetitions) exceeds %.0f%%.\n"
                   "- Conclusions are generated: two cells are ranked by median time only when "
                   "both have ≥ %d repetitions, both CVs are ≤ %.0f%% and their min–max time "
                   "ranges are disjoint; overlapping ranges read \"not distinguishable in this "
                   "run\". Peak RSS is compared when min–max ranges are disjoint. Each cell is "
                   "compared with its `none` baseline (same workload, allocator, layout, knobs: "
                   "the LBO method) and with its rc+gen reference.\n\n",
                   MS_BENCH_CV_WARN_PCT, MS_REPORT_MIN_REPS, MS_BENCH_CV_WARN_PCT);
    const char **wls = NULL;
    size_t nwl = ms_bench_workloads(run, &wls);
    for (size_t w = 0; w < nwl; w++)
        ms_report_workload(&b, run, run_dir, wls[w]);
    free(wls);
    /* cells that never produced a result belong to no section above */
    int failed_header = 0;
    for (size_t i = 0; i < run->matrix.n; i++) {
        if (run->sum[i].reps)
            continue;
        if (!failed_header)
            ms_sbuf_puts(&b, "## Cells without results\n\n");
        failed_header = 1;
        ms_sbuf_printf(&b, "- `%s`: every repetition failed (see meta.json `failures`).\n",
                       run->matrix.cells[i].name);
    }
    if (failed_header)
        ms_sbuf_putc(&b, '\n');
    ms_report_csv_table(&b, run_dir, "churn_allocators.csv", "Allocator table (churn)",
                        "Time per allocation + free pair, per allocator, with ratios to mimalloc "
                        "and pymalloc");
    ms_report_csv_table(&b, run_dir, "collectors.csv", "Collectors beside rc+gen",
                        "Every other collector on the same workload, allocator, layout and knobs "
                        "as an rc+gen cell; ratios are strategy / rc+gen");
    ms_report_gcscan(&b, run_dir);
    cJSON_Delete(meta);
    char *out = ms_bench_xprintf("%s/report.md", run_dir);
    int rc = ms_bench_write_atomic(out, ms_sbuf_str(&b), b.len);
    if (rc != 0)
        fprintf(stderr, "memstrat bench: cannot write %s: %s\n", out, strerror(errno));
    free(out);
    ms_sbuf_free(&b);
    return rc;
}
