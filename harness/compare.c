/* compare.c — `memstrat compare RUN_A RUN_B`: what changed between two published runs.
 *
 * Contract: both arguments are run directories as `memstrat bench` publishes them (read with
 * ms_bench_load_run). Cells are matched by name; cells in only one run are listed once at the
 * end. For each common cell and each metric — median time (real_ms of each repetition), p99
 * pause (counter pause_p99_us) and peak RSS (counter rss_peak_mb) — the table shows B/A of the
 * medians and the two-sided Mann–Whitney U test over the repetitions (mannwhitney.h: exact or
 * normal approximation, as scipy's method='auto', the test Google Benchmark's compare.py runs).
 * A change is marked only when p < alpha AND |B/A - 1| exceeds the noise floor; "+" means B is
 * higher (slower, longer pauses, more memory), "-" lower. A metric is n/a when one run lacks
 * it or it is zero throughout both (no pauses under `none`); p is n/a with fewer than
 * MS_CMP_MIN_REPS repetitions on a side, and sizes whose smallest possible p is not below alpha
 * (2 vs 2: 1/3) get one warning and can never be marked.
 * Exit status: 0 when the comparison was made, whatever it found; 2 with one line on stderr
 * for bad input (options, missing or non-run directories, malformed meta.json, no common
 * cell, an unwritable --csv file). Warnings go to stderr; the table to stdout.
 */
#include "bench.h"
#include "mannwhitney.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The conventional significance level, and compare.py's. */
#define MS_CMP_DEFAULT_ALPHA 0.05
/* Smallest relative change (percent) that is marked even when p < alpha. The U test only sees
 * the spread inside each run; two runs taken at different times on a shared machine also
 * differ as a whole (clock speed, neighbours, page cache) by a percent or two, and 5 vs 5
 * fully separated repetitions reach p = 0.008 however small the shift. */
#define MS_CMP_DEFAULT_NOISE_PCT 2.0
/* Fewer repetitions than this on a side and no test is run (compare.py's
 * UTEST_MIN_REPETITIONS). */
#define MS_CMP_MIN_REPS 2
/* Largest noise floor accepted, in percent: beyond it nothing could ever be marked. */
#define MS_CMP_MAX_NOISE_PCT 1000.0

/* One compared quantity: where its per-repetition value lives and how to label it. */
typedef struct ms_cmp_metric {
    const char *counter; /* counter in the benchmark entry; NULL: the repetition's real_ms */
    const char *csv;     /* `metric` column of the CSV */
    const char *title;   /* table heading */
    const char *zero_na; /* why the metric is n/a when zero throughout both runs */
} ms_cmp_metric;

static const ms_cmp_metric ms_cmp_metrics[] = {
    {NULL, "time_ms", "time (median ms)", "zero time"},
    {"pause_p99_us", "pause_p99_us", "p99 pause", "no pauses"},
    {"rss_peak_mb", "rss_peak_mb", "peak RSS", "zero RSS"},
};
#define MS_CMP_NMETRICS (sizeof ms_cmp_metrics / sizeof *ms_cmp_metrics)

/* The comparison of one cell × metric. */
typedef struct ms_cmp_row {
    size_t n1, n2;       /* repetitions with a value in A and B */
    double a_med, b_med; /* NaN when absent */
    double ratio;        /* b_med / a_med; INFINITY when only B is nonzero; NaN when n/a */
    ms_mwu_result test;  /* method NONE when no test was run */
    const char *na;      /* why there is no comparison at all (NULL: there is one) */
    int mark;            /* +1 significantly higher in B, -1 lower, 0 neither */
    int under_floor;     /* p < alpha but the change is within the noise floor */
    int unreachable;     /* these sizes cannot give p < alpha */
} ms_cmp_row;

typedef struct ms_cmp_opts {
    const char *dir[2];
    const char *csv;
    double alpha, noise_pct;
    int help;
} ms_cmp_opts;

static const char ms_cmp_usage[] =
    "usage: memstrat compare RUN_A RUN_B [--alpha P] [--noise-floor PCT] [--csv FILE]\n"
    "Compares two run directories (e.g. results/<run-id> and results/latest) cell by cell:\n"
    "B/A of the median time, p99 pause and peak RSS, each with a two-sided Mann-Whitney U test\n"
    "over the repetitions. '+' / '-': B significantly higher / lower (p < alpha and the change\n"
    "exceeds the noise floor).\n"
    "  --alpha P          significance level, 0 < P < 1 (default 0.05)\n"
    "  --noise-floor PCT  smallest change in percent that is marked (default 2)\n"
    "  --csv FILE         also write one row per cell x metric to FILE\n";

/* Strict number: the whole string, finite; "0.05x" or "" is an error, not 0.05 or 0. */
static int ms_cmp_parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

/* Parse argv (argv[0] is "compare") into opts; 0 or MS_BENCH_EXIT_USAGE after saying why. */
static int ms_cmp_parse_opts(int argc, char **argv, ms_cmp_opts *o)
{
    static const char *const with_value[] = {"alpha", "noise-floor", "csv", NULL};
    int npos = 0;
    memset(o, 0, sizeof *o);
    o->alpha = MS_CMP_DEFAULT_ALPHA;
    o->noise_pct = MS_CMP_DEFAULT_NOISE_PCT;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            o->help = 1;
            return 0;
        }
        if (arg[0] != '-' || !arg[1]) {
            if (npos == 2)
                return ms_usage_error("compare", "expected two run directories, got a third: '%s'",
                                          arg);
            o->dir[npos++] = arg;
            continue;
        }
        if (strncmp(arg, "--", 2) != 0 || !arg[2])
            return ms_usage_error("compare", "unknown option '%s' (see memstrat compare --help)", arg);
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        int needs = 0;
        for (int k = 0; with_value[k]; k++)
            if (strlen(with_value[k]) == nlen && !strncmp(with_value[k], name, nlen))
                needs = 1;
        if (!needs)
            return ms_usage_error("compare", "unknown option '%s' (see memstrat compare --help)", arg);
        const char *val = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
        if (!val || !*val)
            return ms_usage_error("compare", "option '--%.*s' needs a value", (int)nlen, name);
        double v;
        if (nlen == 5 && !strncmp(name, "alpha", 5)) {
            if (ms_cmp_parse_double(val, &v) != 0 || !(v > 0 && v < 1))
                return ms_usage_error("compare", "--alpha must be a number between 0 and 1, not '%s'",
                                          val);
            o->alpha = v;
        } else if (nlen == 11 && !strncmp(name, "noise-floor", 11)) {
            if (ms_cmp_parse_double(val, &v) != 0 || v < 0 || v > MS_CMP_MAX_NOISE_PCT)
                return ms_usage_error("compare", 
                    "--noise-floor must be a percentage from 0 to %.0f, not '%s'",
                    MS_CMP_MAX_NOISE_PCT, val);
            o->noise_pct = v;
        } else {
            o->csv = val;
        }
    }
    if (npos != 2 && !o->help)
        return ms_usage_error("compare", "expected two run directories (RUN_A RUN_B), got %d", npos);
    return 0;
}

/* A missing directory is named as such before the loader calls it "not a run directory". */
static int ms_cmp_check_dir(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0)
        return ms_usage_error("compare", "cannot open run directory %s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return ms_usage_error("compare", "%s is not a directory (expected a run directory)", dir);
    return 0;
}

/* The values of one metric over a cell's successful repetitions (NaN-free); returns the count. */
static size_t ms_cmp_values(const ms_bench_run *run, size_t cell, const ms_cmp_metric *m,
                            double *out)
{
    size_t k = 0;
    for (int r = 1; r <= run->reps; r++) {
        const ms_bench_rep *rep = ms_bench_rep_at(run, cell, r);
        if (!rep->ok)
            continue;
        double v = rep->real_ms;
        if (m->counter) {
            const cJSON *c = cJSON_GetObjectItemCaseSensitive(rep->entry, m->counter);
            v = cJSON_IsNumber(c) ? c->valuedouble : NAN;
        }
        if (isfinite(v))
            out[k++] = v;
    }
    return k;
}

/* qsort order for doubles without the overflow of subtracting. */
static int ms_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median as bench_results.c takes it (mean of the middle two for an even count); sorts a
 * copy so the caller's order is kept. */
static double ms_cmp_median(const double *v, size_t n)
{
    if (n == 0)
        return NAN;
    double *s = ms_bench_xmalloc(n * sizeof *s);
    memcpy(s, v, n * sizeof *s);
    qsort(s, n, sizeof *s, ms_cmp_double);
    double med = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2.0;
    free(s);
    return med;
}

/* Whether every value is zero (a metric that never happened, e.g. pauses under `none`). */
static int ms_cmp_all_zero(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] != 0)
            return 0;
    return 1;
}

/* Compare one metric of one cell: medians, ratio, the U test and the mark. */
static void ms_cmp_one(const double *a, size_t n1, const double *b, size_t n2,
                       const ms_cmp_metric *m, const int good[2], const ms_cmp_opts *o,
                       ms_cmp_row *row)
{
    memset(row, 0, sizeof *row);
    row->n1 = n1;
    row->n2 = n2;
    row->a_med = ms_cmp_median(a, n1);
    row->b_med = ms_cmp_median(b, n2);
    row->ratio = NAN;
    row->test.p = NAN;
    if (n1 == 0 || n2 == 0) {
        /* a cell whose repetitions all failed is not a metric that is missing */
        row->na = good[0] == 0 ? "failed in A"
                  : good[1] == 0 ? "failed in B"
                  : n1 == 0 && n2 == 0 ? "absent"
                  : n1 == 0 ? "absent in A" : "absent in B";
        return;
    }
    if (ms_cmp_all_zero(a, n1) && ms_cmp_all_zero(b, n2)) {
        row->na = m->zero_na;
        return;
    }
    row->ratio = row->a_med == row->b_med ? 1.0
                 : row->a_med == 0        ? INFINITY
                                          : row->b_med / row->a_med;
    if (n1 < MS_CMP_MIN_REPS || n2 < MS_CMP_MIN_REPS)
        return;
    ms_mwu_test(a, n1, b, n2, &row->test);
    row->unreachable = !(ms_mwu_min_p(n1, n2) < o->alpha);
    if (!(row->test.p < o->alpha))
        return;
    if (fabs(row->ratio - 1.0) * 100.0 > o->noise_pct)
        row->mark = row->ratio > 1.0 ? 1 : -1;
    else
        row->under_floor = 1;
}

/* Index of the cell named `name` in run, or -1. */
static long ms_cmp_find(const ms_bench_run *run, const char *name)
{
    for (size_t i = 0; i < run->matrix.n; i++)
        if (!strcmp(run->matrix.cells[i].name, name))
            return (long)i;
    return -1;
}

/* p as a table field: fixed decimals, tiny values as a bound, n/a when no test ran. */
static void ms_cmp_fmt_p(char *buf, size_t n, const ms_cmp_row *r)
{
    if (r->test.method == MS_MWU_NONE)
        snprintf(buf, n, "n/a");
    else if (r->test.p < 1e-4)
        snprintf(buf, n, "<1e-4");
    else
        snprintf(buf, n, "%.4f", r->test.p);
}

/* B/A as a table field. */
static void ms_cmp_fmt_ratio(char *buf, size_t n, double ratio)
{
    if (isinf(ratio))
        snprintf(buf, n, "inf");
    else
        snprintf(buf, n, "%.3f", ratio);
}

/* Width of one metric group in the table: "  ratio       p m". */
#define MS_CMP_GROUP_W 19
/* Width of the two median times that open the time group: " A B" at 10 characters each. */
#define MS_CMP_MEDIANS_W 22

/* The aligned table on stdout: a heading per metric group, one line per common cell. */
static void ms_cmp_print_table(const ms_bench_run *run_a, const long *b_of, const ms_cmp_row *rows,
                               size_t name_w)
{
    printf("%-*s  %-*s", (int)name_w, "", MS_CMP_MEDIANS_W + MS_CMP_GROUP_W - 2,
           ms_cmp_metrics[0].title);
    for (size_t m = 1; m < MS_CMP_NMETRICS; m++)
        printf("  %-*s", MS_CMP_GROUP_W - 2, ms_cmp_metrics[m].title);
    printf("\n%-*s %10s %10s", (int)name_w, "cell", "A", "B");
    for (size_t m = 0; m < MS_CMP_NMETRICS; m++)
        printf("  %7s %7s  ", "B/A", "p");
    putchar('\n');
    size_t k = 0;
    for (size_t i = 0; i < run_a->matrix.n; i++) {
        if (b_of[i] < 0)
            continue;
        const ms_cmp_row *r = &rows[k++ * MS_CMP_NMETRICS];
        printf("%-*s", (int)name_w, run_a->matrix.cells[i].name);
        if (isnan(r[0].a_med))
            printf(" %10s", "n/a");
        else
            printf(" %10.4g", r[0].a_med);
        if (isnan(r[0].b_med))
            printf(" %10s", "n/a");
        else
            printf(" %10.4g", r[0].b_med);
        for (size_t m = 0; m < MS_CMP_NMETRICS; m++) {
            char ratio[32], p[32], group[64];
            if (r[m].na) {
                snprintf(group, sizeof group, "n/a (%s)", r[m].na);
                printf("  %-*s", MS_CMP_GROUP_W - 2, group);
                continue;
            }
            ms_cmp_fmt_ratio(ratio, sizeof ratio, r[m].ratio);
            ms_cmp_fmt_p(p, sizeof p, &r[m]);
            printf("  %7s %7s %c", ratio, p, r[m].mark > 0 ? '+' : r[m].mark < 0 ? '-' : ' ');
        }
        putchar('\n');
    }
}

/* One CSV row per cell × metric, for scripts; written before anything is printed so that an
 * unwritable file is bad input with nothing else said. */
static int ms_cmp_write_csv(const char *path, const ms_bench_run *run_a, const long *b_of,
                            const ms_cmp_row *rows)
{
    ms_sbuf b = {0};
    ms_sbuf_puts(&b, "cell,metric,a_median,b_median,ratio,p_value,test,significant\n");
    size_t k = 0;
    for (size_t i = 0; i < run_a->matrix.n; i++) {
        if (b_of[i] < 0)
            continue;
        for (size_t m = 0; m < MS_CMP_NMETRICS; m++) {
            const ms_cmp_row *r = &rows[k * MS_CMP_NMETRICS + m];
            char num[64];
            ms_bench_csv_field(&b, run_a->matrix.cells[i].name);
            ms_sbuf_printf(&b, ",%s", ms_cmp_metrics[m].csv);
            const double v[] = {r->a_med, r->b_med, r->ratio, r->test.p};
            for (size_t f = 0; f < sizeof v / sizeof *v; f++) {
                if (isinf(v[f]))
                    snprintf(num, sizeof num, "inf");
                else
                    ms_bench_fmt_num(num, sizeof num, v[f]);
                ms_sbuf_printf(&b, ",%s", num);
            }
            ms_sbuf_printf(&b, ",%s,%d\n", ms_mwu_method_name(r->test.method), r->mark != 0);
        }
        k++;
    }
    int rc = ms_bench_write_atomic(path, ms_sbuf_str(&b), b.len);
    int err = errno;
    ms_sbuf_free(&b);
    if (rc != 0)
        return ms_usage_error("compare", "cannot write %s: %s", path, strerror(err));
    return 0;
}

/* Warnings that must be said once, not per line: sizes that cannot reach alpha (as
 * compare.py warns about too few repetitions), missing tests, different machines. */
static void ms_cmp_warn(const ms_cmp_row *rows, size_t nrows, const ms_cmp_opts *o,
                        const char *cpu_a, const char *cpu_b)
{
    size_t seen[8][2], nseen = 0, few = 0;
    for (size_t i = 0; i < nrows; i++) {
        const ms_cmp_row *r = &rows[i];
        if (r->na)
            continue;
        if (r->test.method == MS_MWU_NONE) {
            few++;
            continue;
        }
        if (!r->unreachable)
            continue;
        size_t s = 0;
        while (s < nseen && (seen[s][0] != r->n1 || seen[s][1] != r->n2))
            s++;
        if (s < nseen || nseen == sizeof seen / sizeof *seen)
            continue;
        seen[nseen][0] = r->n1;
        seen[nseen][1] = r->n2;
        nseen++;
        fprintf(stderr,
                "memstrat compare: warning: with %zu vs %zu repetitions no difference can reach "
                "p < %g (smallest possible p = %.4f): nothing is marked there; run more --reps "
                "(5 vs 5 reaches 0.0079)\n",
                r->n1, r->n2, o->alpha, ms_mwu_min_p(r->n1, r->n2));
    }
    if (few)
        fprintf(stderr,
                "memstrat compare: warning: %zu comparison(s) with fewer than %d good repetitions "
                "on a side: no test (p n/a)\n",
                few, MS_CMP_MIN_REPS);
    if (strcmp(cpu_a, cpu_b))
        fprintf(stderr, "memstrat compare: warning: the runs are from different CPUs (%s; %s)\n",
                cpu_a, cpu_b);
}

/* Load both runs, compare every common cell, print, write the CSV. */
static int ms_cmp_execute(const ms_cmp_opts *o)
{
    ms_bench_run run[2];
    char *cpu[2] = {NULL, NULL};
    memset(run, 0, sizeof run);
    int rc = 0;
    for (int s = 0; s < 2 && rc == 0; s++) {
        rc = ms_cmp_check_dir(o->dir[s]);
        if (rc == 0)
            rc = ms_bench_load_run(o->dir[s], &run[s], &cpu[s]);
    }
    long *b_of = NULL;
    ms_cmp_row *rows = NULL;
    double *va = NULL, *vb = NULL;
    size_t common = 0, name_w = 4;
    if (rc != 0)
        goto out;
    b_of = ms_bench_xmalloc(run[0].matrix.n * sizeof *b_of);
    for (size_t i = 0; i < run[0].matrix.n; i++) {
        b_of[i] = ms_cmp_find(&run[1], run[0].matrix.cells[i].name);
        if (b_of[i] >= 0) {
            common++;
            size_t w = strlen(run[0].matrix.cells[i].name);
            name_w = w > name_w ? w : name_w;
        }
    }
    if (common == 0) {
        rc = ms_usage_error("compare", "no cells in common between %s and %s", o->dir[0], o->dir[1]);
        goto out;
    }
    rows = ms_bench_xmalloc(common * MS_CMP_NMETRICS * sizeof *rows);
    va = ms_bench_xmalloc((size_t)run[0].reps * sizeof *va);
    vb = ms_bench_xmalloc((size_t)run[1].reps * sizeof *vb);
    size_t k = 0, marked = 0, higher = 0, under = 0;
    for (size_t i = 0; i < run[0].matrix.n; i++) {
        if (b_of[i] < 0)
            continue;
        const int good[2] = {run[0].sum[i].reps, run[1].sum[b_of[i]].reps};
        for (size_t m = 0; m < MS_CMP_NMETRICS; m++) {
            ms_cmp_row *r = &rows[k * MS_CMP_NMETRICS + m];
            size_t n1 = ms_cmp_values(&run[0], i, &ms_cmp_metrics[m], va);
            size_t n2 = ms_cmp_values(&run[1], (size_t)b_of[i], &ms_cmp_metrics[m], vb);
            ms_cmp_one(va, n1, vb, n2, &ms_cmp_metrics[m], good, o, r);
            marked += r->mark != 0;
            higher += r->mark > 0;
            under += r->under_floor;
        }
        k++;
    }
    if (o->csv && (rc = ms_cmp_write_csv(o->csv, &run[0], b_of, rows)) != 0)
        goto out;

    printf("A: %s (run %s, %d reps)\nB: %s (run %s, %d reps)\n\n", o->dir[0], run[0].run_id,
           run[0].reps, o->dir[1], run[1].run_id, run[1].reps);
    ms_cmp_print_table(&run[0], b_of, rows, name_w);
    printf("\nB/A: ratio of the medians over the repetitions. p: two-sided Mann-Whitney U test "
           "over the repetitions\n(exact when untied and one side has <= %d, else normal "
           "approximation with tie and continuity correction).\n",
           MS_MWU_EXACT_MAX_SMALL);
    printf("+ / -: B significantly higher / lower (p < %g and change > %g%%); for all three "
           "metrics higher is worse.\n",
           o->alpha, o->noise_pct);
    printf("significant changes: %zu (%zu higher, %zu lower) in %zu comparisons",
           marked, higher, marked - higher, common * MS_CMP_NMETRICS);
    if (under)
        printf("; %zu more with p < %g within the %g%% noise floor", under, o->alpha,
               o->noise_pct);
    printf("\n");
    for (int s = 0; s < 2; s++) {
        const ms_bench_run *x = &run[s], *y = &run[1 - s];
        for (size_t i = 0; i < x->matrix.n; i++)
            if (ms_cmp_find(y, x->matrix.cells[i].name) < 0)
                printf("only in %c: %s\n", s == 0 ? 'A' : 'B', x->matrix.cells[i].name);
    }
    fflush(stdout);
    ms_cmp_warn(rows, common * MS_CMP_NMETRICS, o, cpu[0], cpu[1]);
out:
    free(va);
    free(vb);
    free(rows);
    free(b_of);
    for (int s = 0; s < 2; s++) {
        ms_bench_run_free(&run[s]);
        free(cpu[s]);
    }
    return rc;
}

/* Entry point (harness/main.c): argv[0] is "compare". */
int ms_compare_main(int argc, char **argv)
{
    ms_cmp_opts o;
    int rc = ms_cmp_parse_opts(argc, argv, &o);
    if (rc != 0)
        return rc;
    if (o.help) {
        fputs(ms_cmp_usage, stdout);
        return MS_BENCH_EXIT_OK;
    }
    return ms_cmp_execute(&o);
}
