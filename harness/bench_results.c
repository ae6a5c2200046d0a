/* bench_results.c — from per-cell Google Benchmark JSON to results.csv, summary.csv and the
 * table on stdout.
 *
 * Contract: a repetition counts only if its JSON has an iteration entry for the cell (the
 * name, possibly followed by Google Benchmark's own suffixes such as /manual_time) with
 * real_time and cpu_time and no error. Every numeric field of the entry that is not one of
 * Google Benchmark's standard fields is a counter; counter columns are the union over all
 * repetitions, in first-seen order (cells in matrix order, repetitions in order). Statistics
 * use successful repetitions only: median (mean of the middle two for an even count), min,
 * max, and CV = sample stddev / mean. The overhead over `none` follows the LBO method (Cai et
 * al., ISPASS 2022): median time over the median time of the `none` cell with the same
 * workload, allocator, layout and baseline key (bench_knobs.c: the same non-strategy knobs,
 * defaults folded), in percent; empty when the matrix has no such cell.
 */
#include "bench.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Google Benchmark's own numeric fields; everything else numeric in an entry is a counter. */
static const char *const ms_gbench_std_fields[] = {
    "family_index", "per_family_instance_index", "repetitions", "repetition_index",
    "threads", "iterations", "real_time", "cpu_time", "complexity_n", NULL,
};

/* Suffixes Google Benchmark appends to a registered name (Iterations(1), UseManualTime()...). */
static int ms_gbench_suffix_ok(const char *rest)
{
    while (*rest == '/') {
        rest++;
        size_t n = strcspn(rest, "/");
        int ok = memchr(rest, ':', n) != NULL || (n == 11 && !strncmp(rest, "manual_time", n)) ||
                 (n == 9 && !strncmp(rest, "real_time", n)) ||
                 (n == 12 && !strncmp(rest, "process_time", n));
        if (!ok)
            return 0;
        rest += n;
    }
    return *rest == '\0';
}

/* The runner registers the cell's name; Google Benchmark may add its suffixes. */
static int ms_gbench_name_matches(const char *name, const char *cell)
{
    size_t n = strlen(cell);
    return strncmp(name, cell, n) == 0 && (name[n] == '\0' || ms_gbench_suffix_ok(name + n));
}

/* Standard fields are not counters (see ms_gbench_std_fields). */
static int ms_is_std_field(const char *key)
{
    for (int i = 0; ms_gbench_std_fields[i]; i++)
        if (strcmp(key, ms_gbench_std_fields[i]) == 0)
            return 1;
    return 0;
}

/* Factor from Google Benchmark's time_unit to milliseconds (absent means ns, its default). */
static double ms_unit_to_ms(const char *unit)
{
    if (!unit || !strcmp(unit, "ns"))
        return 1e-6;
    if (!strcmp(unit, "us"))
        return 1e-3;
    if (!strcmp(unit, "ms"))
        return 1.0;
    if (!strcmp(unit, "s"))
        return 1e3;
    return NAN;
}

/* Releases what a repetition owns; the slot can be read again (plots-only reuses it). */
void ms_bench_rep_clear(ms_bench_rep *rep)
{
    cJSON_Delete(rep->entry);
    free(rep->error);
    memset(rep, 0, sizeof *rep);
}

/* Read one repetition's JSON; on failure rep->error says why and -1 is returned. The first
 * context seen is kept for meta.json (host, CPUs, caches as Google Benchmark saw them). */
int ms_bench_read_rep(const char *json_path, const char *cell, ms_bench_rep *rep,
                      cJSON **context)
{
    char *text;
    size_t len;
    rep->ok = 0;
    if (ms_bench_read_file(json_path, &text, &len) != 0) {
        rep->error = ms_bench_xprintf("no benchmark JSON (%s)", strerror(errno));
        return -1;
    }
    cJSON *doc = cJSON_ParseWithLength(text, len);
    free(text);
    if (!doc) {
        rep->error = ms_bench_xstrdup("benchmark JSON does not parse");
        return -1;
    }
    cJSON *benches = cJSON_GetObjectItemCaseSensitive(doc, "benchmarks");
    cJSON *entry = NULL, *b;
    cJSON_ArrayForEach(b, benches)
    {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "name"));
        const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "run_type"));
        if (name && ms_gbench_name_matches(name, cell) && (!type || !strcmp(type, "iteration"))) {
            entry = b;
            break;
        }
    }
    const char *why = NULL;
    const cJSON *err = entry ? cJSON_GetObjectItemCaseSensitive(entry, "error_occurred") : NULL;
    const cJSON *skip = entry ? cJSON_GetObjectItemCaseSensitive(entry, "skipped") : NULL;
    const cJSON *rt = entry ? cJSON_GetObjectItemCaseSensitive(entry, "real_time") : NULL;
    const cJSON *ct = entry ? cJSON_GetObjectItemCaseSensitive(entry, "cpu_time") : NULL;
    double f = entry ? ms_unit_to_ms(cJSON_GetStringValue(
                           cJSON_GetObjectItemCaseSensitive(entry, "time_unit")))
                     : NAN;
    if (!entry) {
        rep->error = ms_bench_xprintf("benchmark JSON has no entry named '%s'", cell);
    } else if (cJSON_IsTrue(err) || cJSON_IsTrue(skip) ||
               (cJSON_IsNumber(skip) && skip->valuedouble != 0)) {
        why = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(entry, "error_message"));
        if (!why)
            why = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(entry, "skip_message"));
        rep->error = ms_bench_xprintf("benchmark reported an error: %s", why ? why : "?");
    } else if (!cJSON_IsNumber(rt) || !cJSON_IsNumber(ct) || isnan(f)) {
        rep->error = ms_bench_xstrdup("benchmark JSON lacks real_time/cpu_time/time_unit");
    }
    if (rep->error) {
        cJSON_Delete(doc);
        return -1;
    }
    rep->real_ms = rt->valuedouble * f;
    rep->cpu_ms = ct->valuedouble * f;
    rep->entry = cJSON_DetachItemViaPointer(benches, entry);
    if (context && !*context) {
        cJSON *ctx = cJSON_GetObjectItemCaseSensitive(doc, "context");
        if (ctx)
            *context = cJSON_DetachItemViaPointer(doc, ctx);
    }
    cJSON_Delete(doc);
    rep->ok = 1;
    return 0;
}

/* A counter of one repetition, NaN when that repetition did not report it. */
static double ms_rep_value(const ms_bench_rep *rep, const char *key)
{
    const cJSON *v = rep->entry ? cJSON_GetObjectItemCaseSensitive(rep->entry, key) : NULL;
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* qsort order for doubles without the overflow of subtracting. */
static int ms_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Drop NaNs and sort, so median/min/max are positional. Returns the count kept. */
static size_t ms_sorted_finite(double *v, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i]))
            v[k++] = v[i];
    qsort(v, k, sizeof *v, ms_cmp_double);
    return k;
}

/* Median, min and max of the finite values (reorders v). */
static void ms_stats(double *v, size_t n, double *med, double *mn, double *mx)
{
    n = ms_sorted_finite(v, n);
    if (n == 0) {
        *med = *mn = *mx = NAN;
        return;
    }
    *med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
    *mn = v[0];
    *mx = v[n - 1];
}

/* Sample CV in percent; needs two values and a nonzero mean to mean anything. */
static double ms_cv_pct(const double *v, size_t n)
{
    double sum = 0, sq = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(v[i]))
            continue;
        sum += v[i];
        k++;
    }
    if (k < 2 || sum == 0)
        return NAN;
    double mean = sum / (double)k;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i]))
            sq += (v[i] - mean) * (v[i] - mean);
    return sqrt(sq / (double)(k - 1)) / fabs(mean) * 100.0;
}

/* The `none` cell a cell's overhead is measured against, or -1 when the matrix has none.
 * keys[] holds each cell's baseline key. */
static long ms_baseline_of(const ms_bench_run *run, char *const *keys, size_t i)
{
    const ms_bench_cell *c = &run->matrix.cells[i];
    for (size_t j = 0; j < run->matrix.n; j++) {
        const ms_bench_cell *b = &run->matrix.cells[j];
        if (!strcmp(b->reclaim, "none") && !strcmp(b->workload, c->workload) &&
            !strcmp(b->allocator, c->allocator) && !strcmp(b->layout, c->layout) &&
            !strcmp(keys[j], keys[i]))
            return (long)j;
    }
    return -1;
}

/* Fill run->sum and the list of noisy cells from the repetitions. */
void ms_bench_summarize(ms_bench_run *run)
{
    size_t R = (size_t)run->reps;
    double *t = ms_bench_xmalloc(R * sizeof *t), *v = ms_bench_xmalloc(R * sizeof *v);
    free(run->sum);
    run->sum = ms_bench_xmalloc(run->matrix.n * sizeof *run->sum);
    free(run->cv_warned);
    run->cv_warned = ms_bench_xmalloc(run->matrix.n * sizeof *run->cv_warned);
    run->n_cv_warned = 0;
    for (size_t i = 0; i < run->matrix.n; i++) {
        ms_bench_summary *s = &run->sum[i];
        memset(s, 0, sizeof *s);
        size_t k = 0;
        for (int r = 1; r <= run->reps; r++) {
            const ms_bench_rep *rep = ms_bench_rep_at(run, i, r);
            t[r - 1] = rep->ok ? rep->real_ms : NAN;
            k += rep->ok != 0;
        }
        s->reps = (int)k;
        s->time_cv_pct = ms_cv_pct(t, R);
        ms_stats(t, R, &s->time_median_ms, &s->time_min_ms, &s->time_max_ms);
        static const char *const keys[] = {"ops_per_s",    "rss_peak_mb",    "pause_max_us",
                                           "pause_p99_us", "leaked_objects", NULL};
        for (int q = 0; keys[q]; q++) {
            for (int r = 1; r <= run->reps; r++) {
                const ms_bench_rep *rep = ms_bench_rep_at(run, i, r);
                v[r - 1] = rep->ok ? ms_rep_value(rep, keys[q]) : NAN;
            }
            double med, mn, mx;
            ms_stats(v, R, &med, &mn, &mx);
            switch (q) {
            case 0: s->ops_median = med, s->ops_min = mn, s->ops_max = mx; break;
            case 1: s->rss_peak_median = med, s->rss_peak_min = mn, s->rss_peak_max = mx; break;
            case 2: s->pause_max_median = med; break;
            case 3: s->pause_p99_median = med; break;
            default: s->leaked_median = med; break;
            }
        }
        if (s->time_cv_pct > MS_BENCH_CV_WARN_PCT)
            run->cv_warned[run->n_cv_warned++] = run->matrix.cells[i].name;
    }
    char **keys = ms_bench_xmalloc(run->matrix.n * sizeof *keys);
    for (size_t i = 0; i < run->matrix.n; i++)
        keys[i] = ms_bench_baseline_key(&run->matrix.cells[i]);
    for (size_t i = 0; i < run->matrix.n; i++) {
        long b = ms_baseline_of(run, keys, i);
        run->sum[i].overhead_vs_none_pct =
            b < 0 ? NAN : (run->sum[i].time_median_ms / run->sum[b].time_median_ms - 1.0) * 100.0;
    }
    for (size_t i = 0; i < run->matrix.n; i++)
        free(keys[i]);
    free(keys);
    free(t);
    free(v);
}

/* Counter names, union over all repetitions in first-seen order (borrowed from the entries). */
static const char **ms_counter_names(const ms_bench_run *run, size_t *n_out)
{
    size_t n = 0, cap = 16;
    const char **names = ms_bench_xmalloc(cap * sizeof *names);
    for (size_t i = 0; i < run->matrix.n; i++) {
        for (int r = 1; r <= run->reps; r++) {
            const ms_bench_rep *rep = ms_bench_rep_at(run, i, r);
            const cJSON *f;
            if (!rep->ok)
                continue;
            cJSON_ArrayForEach(f, rep->entry)
            {
                if (!cJSON_IsNumber(f) || !f->string || ms_is_std_field(f->string))
                    continue;
                size_t k = 0;
                while (k < n && strcmp(names[k], f->string))
                    k++;
                if (k < n)
                    continue;
                if (n == cap)
                    names = ms_bench_xrealloc(names, (cap *= 2) * sizeof *names);
                names[n++] = f->string;
            }
        }
    }
    *n_out = n;
    return names;
}

/* One numeric field: separator, then a plain decimal (empty for NaN). */
static void ms_put_num(ms_sbuf *b, char sep, double v)
{
    char num[64];
    ms_bench_fmt_num(num, sizeof num, v);
    ms_sbuf_putc(b, sep);
    ms_sbuf_puts(b, num);
}

/* Writes a file and reports the failure once, naming the file. */
static int ms_write_or_say(const char *path, ms_sbuf *b)
{
    int rc = ms_bench_write_atomic(path, ms_sbuf_str(b), b->len);
    if (rc != 0)
        fprintf(stderr, "memstrat bench: cannot write %s: %s\n", path, strerror(errno));
    ms_sbuf_free(b);
    return rc;
}

/* One tidy row per cell × successful repetition: the table analysis tools start from. */
int ms_bench_write_results_csv(const ms_bench_run *run, const char *path)
{
    size_t nc;
    const char **cn = ms_counter_names(run, &nc);
    ms_sbuf b = {0};
    ms_sbuf_puts(&b, "run_id,cell,workload,reclaim,allocator,layout,knobs,rep,real_time_ms,"
                     "cpu_time_ms");
    for (size_t k = 0; k < nc; k++) {
        ms_sbuf_putc(&b, ',');
        ms_bench_csv_field(&b, cn[k]);
    }
    ms_sbuf_putc(&b, '\n');
    for (size_t i = 0; i < run->matrix.n; i++) {
        const ms_bench_cell *c = &run->matrix.cells[i];
        for (int r = 1; r <= run->reps; r++) {
            const ms_bench_rep *rep = ms_bench_rep_at(run, i, r);
            if (!rep->ok)
                continue;
            const char *text[] = {run->run_id, c->name,   c->workload, c->reclaim,
                                  c->allocator, c->layout, c->knobs};
            for (size_t f = 0; f < sizeof text / sizeof *text; f++) {
                if (f)
                    ms_sbuf_putc(&b, ',');
                ms_bench_csv_field(&b, text[f]);
            }
            ms_sbuf_printf(&b, ",%d", r);
            ms_put_num(&b, ',', rep->real_ms);
            ms_put_num(&b, ',', rep->cpu_ms);
            for (size_t k = 0; k < nc; k++)
                ms_put_num(&b, ',', ms_rep_value(rep, cn[k]));
            ms_sbuf_putc(&b, '\n');
        }
    }
    free(cn);
    return ms_write_or_say(path, &b);
}

/* summary.csv (sep ',', every cell, quoted where needed) and the plots' summary.tsv (sep
 * '\t', only cells with results: cells never contain tabs, so no quoting, which gnuplot
 * would not undo in its string columns). */
static int ms_write_summary(const ms_bench_run *run, const char *path, char sep)
{
    static const char *const head[] = {
        "cell", "workload", "reclaim", "allocator", "layout", "knobs", "reps",
        "time_median_ms", "time_min_ms", "time_max_ms", "time_cv_pct", "ops_per_s_median",
        "ops_per_s_min", "ops_per_s_max", "rss_peak_mb_median", "rss_peak_mb_min",
        "rss_peak_mb_max", "pause_max_us_median", "pause_p99_us_median",
        "leaked_objects_median", "overhead_vs_none_pct", NULL};
    ms_sbuf b = {0};
    for (int h = 0; head[h]; h++) {
        if (h)
            ms_sbuf_putc(&b, sep);
        ms_sbuf_puts(&b, head[h]);
    }
    ms_sbuf_putc(&b, '\n');
    for (size_t i = 0; i < run->matrix.n; i++) {
        const ms_bench_cell *c = &run->matrix.cells[i];
        const ms_bench_summary *s = &run->sum[i];
        if (sep == '\t' && s->reps == 0)
            continue;
        const char *text[] = {c->name, c->workload, c->reclaim, c->allocator, c->layout,
                              c->knobs};
        for (size_t f = 0; f < sizeof text / sizeof *text; f++) {
            if (f)
                ms_sbuf_putc(&b, sep);
            if (sep == ',')
                ms_bench_csv_field(&b, text[f]);
            else
                ms_sbuf_puts(&b, text[f]);
        }
        ms_sbuf_printf(&b, "%c%d", sep, s->reps);
        const double nums[] = {s->time_median_ms,   s->time_min_ms,       s->time_max_ms,
                               s->time_cv_pct,      s->ops_median,        s->ops_min,
                               s->ops_max,          s->rss_peak_median,   s->rss_peak_min,
                               s->rss_peak_max,     s->pause_max_median,  s->pause_p99_median,
                               s->leaked_median,    s->overhead_vs_none_pct};
        for (size_t f = 0; f < sizeof nums / sizeof *nums; f++)
            ms_put_num(&b, sep, nums[f]);
        ms_sbuf_putc(&b, '\n');
    }
    return ms_write_or_say(path, &b);
}

/* summary.csv: one row per cell, failed cells included with reps 0. */
int ms_bench_write_summary_csv(const ms_bench_run *run, const char *path)
{
    return ms_write_summary(run, path, ',');
}

/* plots/summary.tsv: what the plot scripts read. */
int ms_bench_write_summary_tsv(const ms_bench_run *run, const char *path)
{
    return ms_write_summary(run, path, '\t');
}

/* Table cell text: fixed precision per column, "-" where there is nothing to show. */
static void ms_tab_num(char *buf, size_t n, const char *fmt, double v)
{
    if (isnan(v))
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, fmt, v);
}

/* The table a person reads at the end of `make bench`. */
void ms_bench_print_table(const ms_bench_run *run, FILE *out)
{
    int w = (int)strlen("cell");
    for (size_t i = 0; i < run->matrix.n; i++) {
        int l = (int)strlen(run->matrix.cells[i].name);
        if (l > w)
            w = l;
    }
    /* "µ" is two bytes but one column: widths of those headers get one more byte. */
    fprintf(out, "%-*s %12s %6s %14s %9s %14s %14s %9s %9s\n", w, "cell", "median ms", "CV %",
            "ops/s", "peak MB", "p99 pause µs", "max pause µs", "leaked", "vs none");
    for (size_t i = 0; i < run->matrix.n; i++) {
        const ms_bench_summary *s = &run->sum[i];
        char t[32], cv[32], ops[32], rss[32], p99[32], pmax[32], leak[32], ovh[32];
        if (s->reps == 0) {
            fprintf(out, "%-*s %12s\n", w, run->matrix.cells[i].name, "FAILED");
            continue;
        }
        ms_tab_num(t, sizeof t, "%.2f", s->time_median_ms);
        ms_tab_num(cv, sizeof cv, "%.1f", s->time_cv_pct);
        ms_tab_num(ops, sizeof ops, "%.0f", s->ops_median);
        ms_tab_num(rss, sizeof rss, "%.1f", s->rss_peak_median);
        ms_tab_num(p99, sizeof p99, "%.1f", s->pause_p99_median);
        ms_tab_num(pmax, sizeof pmax, "%.1f", s->pause_max_median);
        ms_tab_num(leak, sizeof leak, "%.0f", s->leaked_median);
        ms_tab_num(ovh, sizeof ovh, "%+.1f%%", s->overhead_vs_none_pct);
        fprintf(out, "%-*s %12s %6s %14s %9s %13s %13s %9s %9s\n", w, run->matrix.cells[i].name,
                t, cv, ops, rss, p99, pmax, leak, ovh);
    }
}
