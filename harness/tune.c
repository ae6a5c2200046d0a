/* tune.c — `memstrat tune CELL --grid AXIS...`: a grid of collector knobs, run, ranked.
 *
 * Contract:
 *  1. Everything is checked before anything runs, and bad input is one line on stderr and
 *     exit 2: the cell (through the same registry check `memstrat run` applies,
 *     ms_cell_parse, done in-process), every axis (known to the cell's strategy, numeric where a
 *     range is asked for, LO <= HI, 2..MS_TUNE_MAX_AXIS_POINTS points, at most
 *     MS_TUNE_MAX_GRID_POINTS in all), the goal, and every generated cell.
 *  2. The grid is the cross product of the axes. gen0/gen1/gen2 become rc+gen's one knob
 *     gc=T0,T1,T2 (an axis not given keeps CPython's 700/10/10); any other axis is a knob of
 *     the cell's strategy, passed as written. Two more cells join the grid: the cell as given
 *     (the default thresholds: the baseline of relative goals) and its `none` cell (the LBO
 *     lower bound of bench's overhead column).
 *  3. Those cells run through `memstrat bench` itself (a child process: --matrix, --reps,
 *     --no-plots, --gcscan-n 0), which publishes DIR/<run-id>/ as any bench run.
 *  4. The analysis reads the published directory back (ms_bench_load_run) — the same path
 *     `--from RUN_DIR` takes — so a grid run here, or run as --emit-jobs on many machines and
 *     joined by `memstrat merge`, gives the same table, front and recommendation from the
 *     same repetition files. It writes tune.csv, tune.txt and plots/tune_*.{png,svg}.
 *  5. Pareto front over (max throughput, min p99 pause, min peak RSS), each the median over
 *     the repetitions: a point is on it when no other point is at least as good in all three
 *     and better in one. The goal picks one point: max-throughput (default), min-p99,
 *     min-rss, and/or constraints (`p99<=2ms,rss<=+10%`); with constraints the best point by
 *     the objective among those meeting all of them, or a line saying none does.
 * Start reading at ms_tune_main.
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cell.h"
#include "registry.h"

/* Axes of one grid: three fill rc+gen's thresholds, and a heatmap shows three (x, y, panel). */
#define MS_TUNE_MAX_AXES 3
/* Points of a LO..HI axis when --points is not given: the ends and two between. */
#define MS_TUNE_DEFAULT_POINTS 4
/* Most points per axis: 12 log-spaced points already step by ~1.6x over 100..20000. */
#define MS_TUNE_MAX_AXIS_POINTS 12
/* Most grid points in all: 500 points x 3 reps of a 1 s cell is already 25 minutes. */
#define MS_TUNE_MAX_GRID_POINTS 500
/* Repetitions per point by default: a median and a CV at 3/5 of bench's default cost. */
#define MS_TUNE_DEFAULT_REPS 3
/* Constraints one --goal may join with ',' (one per metric and direction is plenty). */
#define MS_TUNE_MAX_CONSTRAINTS 8
/* CPython's default thresholds, which an axis not given keeps (gc.get_threshold()). */
#define MS_TUNE_GEN_DEFAULTS {700, 10, 10}
/* A plot script that runs longer than this is stuck. */
#define MS_TUNE_GNUPLOT_TIMEOUT_S 120.0

/* ---- the grid ---------------------------------------------------------------------------- */

typedef struct ms_tune_axis {
    char name[64];
    int gen;          /* 0..2 for gen0..gen2, -1 for a knob passed as written */
    size_t n;
    char *val[MS_TUNE_MAX_AXIS_POINTS]; /* values as they go into the cell */
} ms_tune_axis;

typedef struct ms_tune_point {
    size_t idx[MS_TUNE_MAX_AXES]; /* index into each axis */
    char *knobs;    /* the knob part to add to the cell: "gc=2000,10,10" or "young=2000/scale=5" */
    char *cell;     /* full cell name */
    long cell_i;    /* index in the loaded run, -1 when missing */
    int on_front, recommended, meets;
} ms_tune_point;

typedef enum { MS_M_THROUGHPUT, MS_M_P99, MS_M_MAXPAUSE, MS_M_RSS, MS_M_N } ms_tune_metric;

static const char *const ms_metric_names[MS_M_N] = {"throughput", "p99", "maxpause", "rss"};

typedef struct ms_tune_constraint {
    ms_tune_metric m;
    int upper;      /* 1: value must be <= (or <) bound; 0: >= (or >) */
    int strict;
    int relative;   /* bound = baseline * (1 + value/100) */
    double value;   /* absolute: ops/s, us or MB */
    char text[64];
} ms_tune_constraint;

typedef struct ms_tune_goal {
    char *text;
    ms_tune_metric objective;
    ms_tune_constraint c[MS_TUNE_MAX_CONSTRAINTS];
    int n;
} ms_tune_goal;

typedef struct ms_tune {
    const char *cell_text;
    ms_bench_cell cell;      /* the cell as given (shape) */
    const mm_strategy *strategy;
    ms_tune_axis axis[MS_TUNE_MAX_AXES];
    int naxes, has_gen;
    int points_per_axis, reps;
    ms_tune_goal goal;
    const char *out, *run_id, *from;
    int emit_jobs, no_plots, help;
    ms_tune_point *pt;
    size_t npt;
    char *baseline_cell, *none_cell;
    char *command;           /* the command line, for tune.txt */
} ms_tune;

static const char ms_tune_usage[] =
    "usage: memstrat tune CELL --grid AXIS... [--points K] [--reps R] [--goal GOAL] [--out DIR]\n"
    "                     [--run-id ID] [--no-plots] [--emit-jobs | --from RUN_DIR]\n"
    "\n"
    "Runs CELL at every point of a grid of collector knobs (plus the cell as given and its\n"
    "`none` cell) through `memstrat bench`, then prints the Pareto front over (throughput,\n"
    "p99 pause, peak RSS) and one recommended knob string. Writes DIR/<run-id>/ as bench\n"
    "does, plus tune.csv, tune.txt and plots/tune_*.png|svg.\n"
    "\n"
    "  AXIS           name=LO..HI (K log-spaced integers) or name=a,b,c; gen0, gen1, gen2 set\n"
    "                 rc+gen's gc=T0,T1,T2 (missing ones stay 700,10,10); other names are\n"
    "                 knobs of the cell's strategy (young=, scale= of rc+incr); at most 3 axes\n"
    "  --points K     points of each LO..HI axis, 2..12 (default 4); at most 500 in all\n"
    "  --reps R       repetitions per point (default 3)\n"
    "  --goal GOAL    max-throughput (default) | min-p99 | min-rss, and/or constraints\n"
    "                 METRIC<=V or METRIC>=V joined by ',': metrics throughput, p99, maxpause,\n"
    "                 rss; V absolute (2ms, 500us, 120MB, 1.5M) or against the default cell\n"
    "                 (+10%, -5%); e.g. --goal 'p99<=2ms,rss<=+10%'\n"
    "  --out DIR      results directory (default results); --run-id ID (default tune-<UTC>)\n"
    "  --emit-jobs    print one shell command per cell instead of running (GNU parallel,\n"
    "                 Slurm arrays); then `memstrat merge` and --from\n"
    "  --from RUN     analyse an existing (e.g. merged) run instead of running; writes\n"
    "                 tune.csv, tune.txt and plots into RUN\n";

/* Strict non-negative integer with the knob suffixes (k, m, g) the cells accept. */
static int ms_tune_int(const char *s, long *out)
{
    int64_t v;
    if (!*s || !mm_knob_parse_int(s, MM_KNOB_COUNT, &v) || v < 0 || v > LONG_MAX)
        return -1;
    *out = (long)v;
    return 0;
}

/* Whether `name` is a gen axis; its generation, else -1. */
static int ms_tune_gen_of(const char *name)
{
    if (strlen(name) == 4 && !strncmp(name, "gen", 3) && name[3] >= '0' && name[3] <= '2')
        return name[3] - '0';
    return -1;
}

/* Does the cell as given already set this knob? Then the grid cannot also set it. */
static int ms_tune_cell_sets(const ms_bench_cell *c, const char *knob)
{
    size_t n = strlen(knob);
    for (const char *s = c->knobs; *s;) {
        if (!strncmp(s, knob, n) && s[n] == '=')
            return 1;
        const char *semi = strchr(s, ';');
        if (!semi)
            break;
        s = semi + 1;
    }
    return 0;
}

/* Log-spaced points from lo to hi, rounded and deduplicated: thresholds matter by ratio
 * (doubling gen0 roughly halves the collections), so equal steps in log space. */
static void ms_tune_logspace(ms_tune_axis *a, long lo, long hi, int k)
{
    long prev = -1;
    for (int i = 0; i < k; i++) {
        double f = k > 1 ? (double)i / (double)(k - 1) : 0.0;
        long v = lo == hi ? lo : (long)llround((double)lo * pow((double)hi / (double)lo, f));
        if (i == k - 1)
            v = hi;
        if (v == prev)
            continue;
        a->val[a->n++] = ms_bench_xprintf("%ld", v);
        prev = v;
    }
}

/* One `name=LO..HI` or `name=a,b,c` argument into an axis; 0 or exit 2 after saying why. */
static int ms_tune_parse_axis(ms_tune *t, const char *spec)
{
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec || !eq[1])
        return ms_usage_error("tune", "grid axis '%s' is not name=LO..HI or name=a,b,c", spec);
    if (t->naxes == MS_TUNE_MAX_AXES)
        return ms_usage_error("tune", "grid axis '%s': at most %d axes", spec, MS_TUNE_MAX_AXES);
    ms_tune_axis *a = &t->axis[t->naxes];
    memset(a, 0, sizeof *a);
    size_t nlen = (size_t)(eq - spec);
    if (nlen >= sizeof a->name)
        return ms_usage_error("tune", "grid axis '%.*s...': name too long", 20, spec);
    memcpy(a->name, spec, nlen);
    a->name[nlen] = '\0';
    for (int i = 0; i < t->naxes; i++)
        if (!strcmp(t->axis[i].name, a->name))
            return ms_usage_error("tune", "grid axis '%s' given twice", a->name);
    a->gen = ms_tune_gen_of(a->name);
    const mm_knob_desc *d = NULL;
    if (a->gen >= 0) {
        if (!t->strategy->knobs || !mm_knob_find(t->strategy->knobs, "gc"))
            return ms_usage_error("tune", "grid axis '%s': strategy '%s' has no generation thresholds "
                                 "(gen0/gen1/gen2 tune rc+gen's gc= knob)",
                                 a->name, t->strategy->name);
        if (ms_tune_cell_sets(&t->cell, "gc"))
            return ms_usage_error("tune", "grid axis '%s': the cell already sets gc=; leave it out, the "
                                 "grid sets it", a->name);
        t->has_gen = 1;
    } else {
        d = t->strategy->knobs ? mm_knob_find(t->strategy->knobs, a->name) : NULL;
        if (!d || !strcmp(a->name, "gc")) {
            ms_sbuf known = {0};
            if (t->strategy->knobs && mm_knob_find(t->strategy->knobs, "gc"))
                ms_sbuf_puts(&known, "gen0, gen1, gen2");
            for (const mm_knob_desc *k = t->strategy->knobs; k && k->name; k++)
                if (strcmp(k->name, "gc"))
                    ms_sbuf_printf(&known, "%s%s", known.len ? ", " : "", k->name);
            int rc = ms_usage_error("tune", "unknown grid axis '%s' for strategy '%s' (its axes: %s)",
                                   a->name, t->strategy->name, known.len ? known.p : "none");
            ms_sbuf_free(&known);
            return rc;
        }
        if (ms_tune_cell_sets(&t->cell, a->name))
            return ms_usage_error("tune", "grid axis '%s': the cell already sets %s=; leave it out, the "
                                 "grid sets it", a->name, a->name);
    }
    int numeric = a->gen >= 0 || d->kind != MM_KNOB_STRING;
    const char *v = eq + 1, *dots = strstr(v, "..");
    if (dots) {
        char lo_s[64], hi_s[64];
        size_t ll = (size_t)(dots - v);
        if (!numeric)
            return ms_usage_error("tune", "grid axis '%s': knob %s is not numeric; give a list a,b,c",
                                 spec, a->name);
        if (ll >= sizeof lo_s || strlen(dots + 2) >= sizeof hi_s)
            return ms_usage_error("tune", "grid axis '%s': bounds too long", spec);
        memcpy(lo_s, v, ll);
        lo_s[ll] = '\0';
        snprintf(hi_s, sizeof hi_s, "%s", dots + 2);
        long lo, hi;
        if (ms_tune_int(lo_s, &lo) != 0 || ms_tune_int(hi_s, &hi) != 0)
            return ms_usage_error("tune", "grid axis '%s': LO and HI must be non-negative integers", spec);
        if (lo > hi)
            return ms_usage_error("tune", "grid axis '%s': LO %ld > HI %ld", spec, lo, hi);
        if (lo == 0)
            return ms_usage_error("tune", "grid axis '%s': a log-spaced range needs LO >= 1 (list 0 "
                                 "explicitly: %s=0,...)", spec, a->name);
        ms_tune_logspace(a, lo, hi, t->points_per_axis);
    } else {
        char *copy = ms_bench_xstrdup(v);
        int rc = 0;
        for (char *tok = copy; tok && !rc;) {
            char *comma = strchr(tok, ',');
            if (comma)
                *comma++ = '\0';
            long x = 0;
            if (!*tok)
                rc = ms_usage_error("tune", "grid axis '%s': empty value in the list", spec);
            else if (numeric && ms_tune_int(tok, &x) != 0)
                rc = ms_usage_error("tune", "grid axis '%s': '%s' is not a non-negative integer", spec, tok);
            else if (a->n == MS_TUNE_MAX_AXIS_POINTS)
                rc = ms_usage_error("tune", "grid axis '%s': more than %d values", spec,
                                   MS_TUNE_MAX_AXIS_POINTS);
            for (size_t i = 0; !rc && i < a->n; i++)
                if (!strcmp(a->val[i], tok))
                    rc = ms_usage_error("tune", "grid axis '%s': value '%s' listed twice", spec, tok);
            if (!rc)
                a->val[a->n++] = numeric ? ms_bench_xprintf("%ld", x) : ms_bench_xstrdup(tok);
            tok = comma;
        }
        free(copy);
        if (rc)
            return rc;
    }
    t->naxes++;
    return 0;
}

/* ---- goals ------------------------------------------------------------------------------- */

/* A number followed by one of the metric's units: p99 and maxpause in microseconds, rss in MB
 * (MiB, as the rss_peak_mb counter), throughput in operations per second. */
static int ms_tune_abs_value(ms_tune_metric m, const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !isfinite(v) || v < 0)
        return -1;
    static const struct {
        ms_tune_metric m;
        const char *unit;
        double f;
    } units[] = {
        {MS_M_P99, "ns", 1e-3},      {MS_M_P99, "us", 1.0},       {MS_M_P99, "ms", 1e3},
        {MS_M_P99, "s", 1e6},        {MS_M_MAXPAUSE, "ns", 1e-3}, {MS_M_MAXPAUSE, "us", 1.0},
        {MS_M_MAXPAUSE, "ms", 1e3},  {MS_M_MAXPAUSE, "s", 1e6},   {MS_M_RSS, "KB", 1.0 / 1024},
        {MS_M_RSS, "MB", 1.0},       {MS_M_RSS, "GB", 1024.0},    {MS_M_RSS, "KiB", 1.0 / 1024},
        {MS_M_RSS, "MiB", 1.0},      {MS_M_RSS, "GiB", 1024.0},   {MS_M_THROUGHPUT, "", 1.0},
        {MS_M_THROUGHPUT, "k", 1e3}, {MS_M_THROUGHPUT, "M", 1e6}, {MS_M_THROUGHPUT, "G", 1e9},
    };
    for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
        if (units[i].m == m && !strcmp(end, units[i].unit)) {
            *out = v * units[i].f;
            return 0;
        }
    }
    return -1;
}

/* The units a metric's absolute bound may carry, for the error message. */
static const char *ms_tune_units_of(ms_tune_metric m)
{
    return m == MS_M_RSS ? "KB, MB, GB" : m == MS_M_THROUGHPUT ? "ops/s, optionally k or M"
                                                                : "ns, us, ms, s";
}

/* --goal into t->goal; 0, or exit 2 naming the bad part. */
static int ms_tune_parse_goal(ms_tune_goal *g, const char *text)
{
    g->text = ms_bench_xstrdup(text);
    g->objective = MS_M_THROUGHPUT;
    int have_objective = 0;
    char *copy = ms_bench_xstrdup(text);
    int rc = 0;
    for (char *tok = copy; tok && !rc;) {
        char *comma = strchr(tok, ',');
        if (comma)
            *comma++ = '\0';
        const char *op = strpbrk(tok, "<>");
        if (!*tok) {
            rc = ms_usage_error("tune", "--goal '%s': empty part", text);
        } else if (!op) {
            static const char *const obj[] = {"max-throughput", "min-p99", "min-maxpause",
                                              "min-rss"};
            static const ms_tune_metric objm[] = {MS_M_THROUGHPUT, MS_M_P99, MS_M_MAXPAUSE,
                                                  MS_M_RSS};
            size_t k = 0;
            while (k < 4 && strcmp(tok, obj[k]))
                k++;
            if (k == 4)
                rc = ms_usage_error("tune", "--goal '%s': unknown goal '%s' (max-throughput, min-p99, "
                                   "min-maxpause, min-rss, or METRIC<=VALUE / METRIC>=VALUE)",
                                   text, tok);
            else if (have_objective++)
                rc = ms_usage_error("tune", "--goal '%s': more than one of max-throughput, min-p99, "
                                   "min-maxpause, min-rss", text);
            else
                g->objective = objm[k];
        } else if (g->n == MS_TUNE_MAX_CONSTRAINTS) {
            rc = ms_usage_error("tune", "--goal '%s': more than %d constraints", text,
                               MS_TUNE_MAX_CONSTRAINTS);
        } else {
            ms_tune_constraint *c = &g->c[g->n];
            memset(c, 0, sizeof *c);
            snprintf(c->text, sizeof c->text, "%s", tok);
            size_t mlen = (size_t)(op - tok);
            int m = 0;
            while (m < MS_M_N && !(strlen(ms_metric_names[m]) == mlen &&
                                   !strncmp(tok, ms_metric_names[m], mlen)))
                m++;
            c->upper = *op == '<';
            c->strict = op[1] != '=';
            const char *val = op + (c->strict ? 1 : 2);
            size_t vlen = strlen(val);
            if (m == MS_M_N) {
                rc = ms_usage_error("tune", "--goal '%s': unknown metric '%.*s' (throughput, p99, "
                                   "maxpause, rss)", text, (int)mlen, tok);
            } else if (!*val) {
                rc = ms_usage_error("tune", "--goal '%s': '%s' has no value", text, tok);
            } else if ((val[0] == '+' || val[0] == '-') && val[vlen - 1] == '%') {
                char *end;
                c->m = (ms_tune_metric)m;
                c->relative = 1;
                errno = 0;
                c->value = strtod(val, &end);
                if (end != val + vlen - 1 || errno || !isfinite(c->value) || c->value <= -100)
                    rc = ms_usage_error("tune", "--goal '%s': '%s' is not a percentage like +10%% or "
                                       "-5%%", text, val);
            } else if (val[vlen - 1] == '%') {
                rc = ms_usage_error("tune", "--goal '%s': a relative bound needs a sign: %s%s (against "
                                   "the default cell)", text, val[0] == '+' ? "" : "+", val);
            } else {
                c->m = (ms_tune_metric)m;
                if (ms_tune_abs_value(c->m, val, &c->value) != 0)
                    rc = ms_usage_error("tune", "--goal '%s': '%s' is not a number with a unit for %s "
                                       "(%s)", text, val, ms_metric_names[m],
                                       ms_tune_units_of(c->m));
            }
            if (!rc)
                g->n++;
        }
        tok = comma;
    }
    free(copy);
    return rc;
}

/* ---- options ----------------------------------------------------------------------------- */

/* argv into t, grid axes still as text (they need --points and the cell first). */
static int ms_tune_parse_opts(ms_tune *t, int argc, char **argv, const char ***axes, int *naxes,
                              const char **goal)
{
    *axes = ms_bench_xmalloc((size_t)argc * sizeof **axes);
    *naxes = 0;
    *goal = NULL;
    t->points_per_axis = MS_TUNE_DEFAULT_POINTS;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            t->help = 1;
            return 0;
        }
        if (strncmp(a, "--", 2) != 0) {
            if (t->cell_text)
                return ms_usage_error("tune", "unexpected argument '%s' (one CELL; grid axes follow "
                                     "--grid)", a);
            t->cell_text = a;
            continue;
        }
        if (!strcmp(a, "--grid")) {
            int k = 0;
            while (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0 &&
                   strchr(argv[i + 1], '=') && !strchr(argv[i + 1], '/')) {
                (*axes)[(*naxes)++] = argv[++i];
                k++;
            }
            if (!k)
                return ms_usage_error("tune", "--grid needs at least one axis name=LO..HI or name=a,b,c");
            continue;
        }
        if (!strcmp(a, "--emit-jobs")) {
            t->emit_jobs = 1;
            continue;
        }
        if (!strcmp(a, "--no-plots")) {
            t->no_plots = 1;
            continue;
        }
        static const char *const with_value[] = {"--points", "--reps", "--goal", "--out",
                                                 "--run-id", "--from", NULL};
        int k = 0;
        while (with_value[k] && strcmp(a, with_value[k]))
            k++;
        if (!with_value[k])
            return ms_usage_error("tune", "unknown option '%s' (see memstrat tune --help)", a);
        if (i + 1 >= argc || !argv[i + 1][0])
            return ms_usage_error("tune", "option '%s' needs a value", a);
        const char *v = argv[++i];
        long x;
        switch (k) {
        case 0:
            if (ms_parse_long(v, 2, MS_TUNE_MAX_AXIS_POINTS, &x) != 0)
                return ms_usage_error("tune", "--points must be an integer from 2 to %d, not '%s'",
                                     MS_TUNE_MAX_AXIS_POINTS, v);
            t->points_per_axis = (int)x;
            break;
        case 1:
            if (ms_parse_long(v, 1, MS_BENCH_MAX_REPS, &x) != 0)
                return ms_usage_error("tune", "--reps must be an integer from 1 to %d, not '%s'",
                                     MS_BENCH_MAX_REPS, v);
            t->reps = (int)x;
            break;
        case 2: *goal = v; break;
        case 3: t->out = v; break;
        case 4: t->run_id = v; break;
        default: t->from = v; break;
        }
    }
    return 0;
}

/* ---- building the cells ------------------------------------------------------------------ */

/* The knob part of one grid point, axes in the order given, gc= first. */
static char *ms_tune_point_knobs(const ms_tune *t, const size_t *idx)
{
    ms_sbuf b = {0};
    if (t->has_gen) {
        long g[3] = MS_TUNE_GEN_DEFAULTS;
        for (int a = 0; a < t->naxes; a++)
            if (t->axis[a].gen >= 0)
                g[t->axis[a].gen] = strtol(t->axis[a].val[idx[a]], NULL, 10);
        ms_sbuf_printf(&b, "gc=%ld,%ld,%ld", g[0], g[1], g[2]);
    }
    for (int a = 0; a < t->naxes; a++)
        if (t->axis[a].gen < 0)
            ms_sbuf_printf(&b, "%s%s=%s", b.len ? "/" : "", t->axis[a].name,
                           t->axis[a].val[idx[a]]);
    return b.p;
}

/* The `none` cell of the same workload, allocator, layout and non-strategy knobs. */
static char *ms_tune_none_cell(const ms_tune *t)
{
    const ms_bench_cell *c = &t->cell;
    ms_sbuf b = {0};
    ms_sbuf_printf(&b, "%s/none/%s/%s", c->workload, c->allocator, c->layout);
    char *k = ms_bench_xstrdup(c->knobs);
    for (char *tok = *k ? k : NULL; tok;) {
        char *next = strchr(tok, ';');
        if (next)
            *next++ = '\0';
        char *eq = strchr(tok, '=');
        *eq = '\0';
        int own = t->strategy->knobs && mm_knob_find(t->strategy->knobs, tok);
        *eq = '=';
        if (!own)
            ms_sbuf_printf(&b, "/%s", tok);
        tok = next;
    }
    free(k);
    return b.p;
}

/* A generated cell must pass the runner's own check (registry knobs, the strategy's check). */
static int ms_tune_check_cell(const char *name, const char *what)
{
    static ms_cell cell; /* large: knob tables of four components */
    char err[1024];
    if (!ms_cell_parse(name, &cell, err, sizeof err))
        return ms_usage_error("tune", "%s: %s", what, err);
    return 0;
}

/* Cross product of the axes, first axis varying slowest; every cell checked. */
static int ms_tune_build_points(ms_tune *t)
{
    size_t total = 1;
    for (int a = 0; a < t->naxes; a++)
        total *= t->axis[a].n;
    if (total > MS_TUNE_MAX_GRID_POINTS)
        return ms_usage_error("tune", "grid has %zu points, more than MS_TUNE_MAX_GRID_POINTS (%d); "
                             "use fewer --points or shorter lists", total,
                             MS_TUNE_MAX_GRID_POINTS);
    t->pt = ms_bench_xmalloc(total * sizeof *t->pt);
    memset(t->pt, 0, total * sizeof *t->pt);
    t->npt = total;
    for (size_t p = 0; p < total; p++) {
        ms_tune_point *pt = &t->pt[p];
        size_t rest = p;
        for (int a = t->naxes - 1; a >= 0; a--) {
            pt->idx[a] = rest % t->axis[a].n;
            rest /= t->axis[a].n;
        }
        pt->knobs = ms_tune_point_knobs(t, pt->idx);
        pt->cell = ms_bench_xprintf("%s/%s", t->cell.name, pt->knobs);
        pt->cell_i = -1;
        char *what = ms_bench_xprintf("grid point %s", pt->knobs);
        int rc = ms_tune_check_cell(pt->cell, what);
        free(what);
        if (rc)
            return rc;
    }
    t->baseline_cell = ms_bench_xstrdup(t->cell.name);
    t->none_cell = ms_tune_none_cell(t);
    return ms_tune_check_cell(t->none_cell, "the none cell");
}

/* ---- analysis ---------------------------------------------------------------------------- */

/* A metric of a cell's summary (medians). */
static double ms_tune_metric_of(const ms_bench_summary *s, ms_tune_metric m)
{
    switch (m) {
    case MS_M_THROUGHPUT: return s->ops_median;
    case MS_M_P99: return s->pause_p99_median;
    case MS_M_MAXPAUSE: return s->pause_max_median;
    default: return s->rss_peak_median;
    }
}

/* A point counts when its cell ran at least once and reported all three front metrics. */
static const ms_bench_summary *ms_tune_sum(const ms_bench_run *run, const ms_tune_point *p)
{
    if (p->cell_i < 0)
        return NULL;
    const ms_bench_summary *s = &run->sum[p->cell_i];
    if (s->reps == 0 || isnan(s->ops_median) || isnan(s->pause_p99_median) ||
        isnan(s->rss_peak_median))
        return NULL;
    return s;
}

/* Index of a cell in the run by name, -1 when the run lacks it. */
static long ms_tune_find(const ms_bench_run *run, const char *name)
{
    for (size_t i = 0; i < run->matrix.n; i++)
        if (!strcmp(run->matrix.cells[i].name, name))
            return (long)i;
    return -1;
}

/* b dominates a: at least as good in all three, better in one. */
static int ms_tune_dominates(const ms_bench_summary *b, const ms_bench_summary *a)
{
    int ge = b->ops_median >= a->ops_median && b->pause_p99_median <= a->pause_p99_median &&
             b->rss_peak_median <= a->rss_peak_median;
    int gt = b->ops_median > a->ops_median || b->pause_p99_median < a->pause_p99_median ||
             b->rss_peak_median < a->rss_peak_median;
    return ge && gt;
}

/* Mark the non-dominated points (O(n^2): n <= MS_TUNE_MAX_GRID_POINTS). */
static size_t ms_tune_front(ms_tune *t, const ms_bench_run *run)
{
    size_t n = 0;
    for (size_t i = 0; i < t->npt; i++) {
        const ms_bench_summary *a = ms_tune_sum(run, &t->pt[i]);
        t->pt[i].on_front = a != NULL;
        for (size_t j = 0; a && j < t->npt && t->pt[i].on_front; j++) {
            const ms_bench_summary *b = ms_tune_sum(run, &t->pt[j]);
            if (j != i && b && ms_tune_dominates(b, a))
                t->pt[i].on_front = 0;
        }
        n += t->pt[i].on_front;
    }
    return n;
}

/* Better by the objective, ties broken by throughput, p99, RSS, then grid order (stable, so
 * the same data always gives the same recommendation). */
static int ms_tune_better(ms_tune_metric obj, const ms_bench_summary *a, const ms_bench_summary *b)
{
    double va = ms_tune_metric_of(a, obj), vb = ms_tune_metric_of(b, obj);
    if (va != vb)
        return obj == MS_M_THROUGHPUT ? va > vb : va < vb;
    if (a->ops_median != b->ops_median)
        return a->ops_median > b->ops_median;
    if (a->pause_p99_median != b->pause_p99_median)
        return a->pause_p99_median < b->pause_p99_median;
    return a->rss_peak_median < b->rss_peak_median;
}

/* The bound of a constraint in absolute units; NaN when relative and no baseline. */
static double ms_tune_bound(const ms_tune_constraint *c, const ms_bench_summary *base)
{
    if (!c->relative)
        return c->value;
    double b = base ? ms_tune_metric_of(base, c->m) : NAN;
    return b * (1.0 + c->value / 100.0);
}

/* Does a point meet one constraint? */
static int ms_tune_meets(const ms_tune_constraint *c, const ms_bench_summary *s, double bound)
{
    double v = ms_tune_metric_of(s, c->m);
    if (isnan(v) || isnan(bound))
        return 0;
    if (c->upper)
        return c->strict ? v < bound : v <= bound;
    return c->strict ? v > bound : v >= bound;
}

/* Unit and scale of a metric for the report. */
static void ms_tune_fmt_metric(char *buf, size_t n, ms_tune_metric m, double v)
{
    if (isnan(v))
        snprintf(buf, n, "n/a");
    else if (m == MS_M_THROUGHPUT)
        snprintf(buf, n, v >= 1e6 ? "%.3gM ops/s" : v >= 1e3 ? "%.3gk ops/s" : "%.3g ops/s",
                 v >= 1e6 ? v / 1e6 : v >= 1e3 ? v / 1e3 : v);
    else if (m == MS_M_RSS)
        snprintf(buf, n, "%.1f MB", v);
    else if (v >= 1e3)
        snprintf(buf, n, "%.3g ms", v / 1e3);
    else
        snprintf(buf, n, "%.3g us", v);
}

/* "+4.1%" against a reference, or "" without one. */
static void ms_tune_fmt_rel(char *buf, size_t n, double v, double ref)
{
    if (isnan(v) || isnan(ref) || ref == 0)
        snprintf(buf, n, "n/a");
    else
        snprintf(buf, n, "%+.1f%%", (v / ref - 1.0) * 100.0);
}

/* The Python spelling of a point, for rc+gen grids: what to put in an application. */
static char *ms_tune_python(const ms_tune *t, const ms_tune_point *p)
{
    if (!t->has_gen)
        return NULL;
    long g[3];
    if (sscanf(p->knobs, "gc=%ld,%ld,%ld", &g[0], &g[1], &g[2]) != 3)
        return NULL;
    return ms_bench_xprintf("gc.set_threshold(%ld, %ld, %ld)", g[0], g[1], g[2]);
}

/* One line describing a point's numbers. */
static void ms_tune_describe(ms_sbuf *b, const ms_bench_summary *s, const ms_bench_summary *base)
{
    char ops[32], p99[32], rss[32], rel[32];
    ms_tune_fmt_metric(ops, sizeof ops, MS_M_THROUGHPUT, s->ops_median);
    ms_tune_fmt_metric(p99, sizeof p99, MS_M_P99, s->pause_p99_median);
    ms_tune_fmt_metric(rss, sizeof rss, MS_M_RSS, s->rss_peak_median);
    ms_tune_fmt_rel(rel, sizeof rel, s->ops_median, base ? base->ops_median : NAN);
    ms_sbuf_printf(b, "throughput %s (%s vs default), p99 pause %s, peak RSS %s", ops, rel, p99,
                   rss);
}

/* The recommendation: best point by the objective among those meeting every constraint. */
static void ms_tune_recommend(ms_tune *t, const ms_bench_run *run, const ms_bench_summary *base,
                              ms_sbuf *out)
{
    const ms_tune_goal *g = &t->goal;
    double bound[MS_TUNE_MAX_CONSTRAINTS];
    int unbounded = -1;
    for (int k = 0; k < g->n; k++) {
        bound[k] = ms_tune_bound(&g->c[k], base);
        if (isnan(bound[k]) && unbounded < 0)
            unbounded = k;
    }
    ms_sbuf_printf(out, "goal: %s\n", g->text ? g->text : "max-throughput");
    for (int k = 0; k < g->n; k++) {
        char v[32];
        ms_tune_fmt_metric(v, sizeof v, g->c[k].m, bound[k]);
        ms_sbuf_printf(out, "  constraint %s: %s %s%s\n", g->c[k].text, ms_metric_names[g->c[k].m],
                       g->c[k].upper ? (g->c[k].strict ? "<" : "<=") : (g->c[k].strict ? ">" : ">="),
                       v);
    }
    ms_tune_point *best = NULL;
    const ms_bench_summary *bs = NULL;
    size_t nmeet = 0;
    for (size_t i = 0; i < t->npt; i++) {
        const ms_bench_summary *s = ms_tune_sum(run, &t->pt[i]);
        int ok = s != NULL;
        for (int k = 0; ok && k < g->n; k++)
            ok = ms_tune_meets(&g->c[k], s, bound[k]);
        t->pt[i].meets = ok;
        nmeet += ok;
        if (ok && (!best || ms_tune_better(g->objective, s, bs))) {
            best = &t->pt[i];
            bs = s;
        }
    }
    if (!best) {
        if (unbounded >= 0)
            ms_sbuf_printf(out, "recommend: none: constraint %s is relative to the default cell "
                                "%s, which has no results\n",
                           g->c[unbounded].text, t->baseline_cell);
        else
            ms_sbuf_printf(out, "recommend: none: no grid point meets %s (of %zu points)\n",
                           g->text ? g->text : "the goal", t->npt);
        return;
    }
    best->recommended = 1;
    char *py = ms_tune_python(t, best);
    ms_sbuf_printf(out, "recommend: %s%s%s  [%zu of %zu points meet the goal]\n", best->knobs,
                   py ? "  ->  " : "", py ? py : "", nmeet, t->npt);
    ms_sbuf_printf(out, "  cell %s: ", best->cell);
    ms_tune_describe(out, bs, base);
    ms_sbuf_putc(out, '\n');
    free(py);
}

/* tune.csv: one row per grid point, in grid order. */
static int ms_tune_write_csv(const ms_tune *t, const ms_bench_run *run, const ms_bench_summary *base,
                             const char *path)
{
    ms_sbuf b = {0};
    ms_sbuf_puts(&b, "point,knobs,cell");
    for (int a = 0; a < t->naxes; a++)
        ms_sbuf_printf(&b, ",%s", t->axis[a].name);
    ms_sbuf_puts(&b, ",status,reps,time_median_ms,ops_per_s_median,pause_p99_us_median,"
                     "pause_max_us_median,pause_max_us_max,rss_peak_mb_median,time_cv_pct,"
                     "overhead_vs_none_pct,throughput_vs_default_pct,on_front,meets_goal,"
                     "recommended\n");
    for (size_t i = 0; i < t->npt; i++) {
        const ms_tune_point *p = &t->pt[i];
        ms_sbuf_printf(&b, "%zu,", i + 1);
        ms_bench_csv_field(&b, p->knobs);
        ms_sbuf_putc(&b, ',');
        ms_bench_csv_field(&b, p->cell);
        for (int a = 0; a < t->naxes; a++) {
            ms_sbuf_putc(&b, ',');
            ms_bench_csv_field(&b, t->axis[a].val[p->idx[a]]);
        }
        const ms_bench_summary *s = p->cell_i >= 0 ? &run->sum[p->cell_i] : NULL;
        const char *status = !s ? "missing" : ms_tune_sum(run, p) ? "ok" : "failed";
        ms_sbuf_printf(&b, ",%s,%d", status, s ? s->reps : 0);
        double pmax = NAN;
        if (s)
            for (int r = 1; r <= run->reps; r++) {
                const ms_bench_rep *rep = ms_bench_rep_at(run, (size_t)p->cell_i, r);
                const cJSON *v = rep->ok ? cJSON_GetObjectItemCaseSensitive(rep->entry, "pause_max_us")
                                         : NULL;
                if (cJSON_IsNumber(v) && (isnan(pmax) || v->valuedouble > pmax))
                    pmax = v->valuedouble;
            }
        double v[] = {s ? s->time_median_ms : NAN,
                      s ? s->ops_median : NAN,
                      s ? s->pause_p99_median : NAN,
                      s ? s->pause_max_median : NAN,
                      pmax,
                      s ? s->rss_peak_median : NAN,
                      s ? s->time_cv_pct : NAN,
                      s ? s->overhead_vs_none_pct : NAN,
                      s && base ? (s->ops_median / base->ops_median - 1.0) * 100.0 : NAN};
        for (size_t k = 0; k < sizeof v / sizeof *v; k++) {
            char num[64];
            ms_bench_fmt_num(num, sizeof num, v[k]);
            ms_sbuf_printf(&b, ",%s", num);
        }
        ms_sbuf_printf(&b, ",%d,%d,%d\n", p->on_front, p->meets, p->recommended);
    }
    int rc = ms_bench_write_atomic(path, b.p, b.len);
    if (rc != 0)
        fprintf(stderr, "memstrat tune: cannot write %s: %s\n", path, strerror(errno));
    ms_sbuf_free(&b);
    return rc;
}

/* The table, the front and the recommendation, as printed and as tune.txt. */
static void ms_tune_report(ms_tune *t, const ms_bench_run *run, const char *run_dir, ms_sbuf *o)
{
    long bi = ms_tune_find(run, t->baseline_cell), ni = ms_tune_find(run, t->none_cell);
    const ms_bench_summary *base = bi >= 0 && run->sum[bi].reps ? &run->sum[bi] : NULL;
    const ms_bench_summary *none = ni >= 0 && run->sum[ni].reps ? &run->sum[ni] : NULL;
    size_t nfront = ms_tune_front(t, run);
    ms_sbuf_printf(o, "memstrat tune: %s, %zu grid points x %d reps, run %s\n", t->cell.name,
                   t->npt, run->reps, run_dir);
    ms_sbuf_printf(o, "%-4s %-28s %10s %12s %10s %10s %9s %6s %7s %s\n", "#", "knobs", "time_ms",
                   "ops/s", "p99_us", "max_us", "rss_mb", "cv%", "vs_none", "front");
    for (size_t i = 0; i < t->npt; i++) {
        const ms_tune_point *p = &t->pt[i];
        const ms_bench_summary *s = p->cell_i >= 0 ? &run->sum[p->cell_i] : NULL;
        ms_sbuf_printf(o, "%-4zu %-28s ", i + 1, p->knobs);
        if (!s || !s->reps) {
            ms_sbuf_printf(o, "%s\n", s ? "failed (no successful repetition)" : "missing from the run");
            continue;
        }
        char ovh[32];
        snprintf(ovh, sizeof ovh, isnan(s->overhead_vs_none_pct) ? "n/a" : "%+.0f%%",
                 s->overhead_vs_none_pct);
        ms_sbuf_printf(o, "%10.2f %12.0f %10.1f %10.1f %9.1f %6.1f %7s %s\n", s->time_median_ms,
                       s->ops_median, s->pause_p99_median, s->pause_max_median, s->rss_peak_median,
                       isnan(s->time_cv_pct) ? 0.0 : s->time_cv_pct, ovh, p->on_front ? "*" : "");
    }
    ms_sbuf_printf(o, "default (%s): ", t->baseline_cell);
    if (base)
        ms_tune_describe(o, base, base);
    else
        ms_sbuf_puts(o, "no results");
    ms_sbuf_printf(o, "\nnone (%s, lower bound): ", t->none_cell);
    if (none && base)
        ms_sbuf_printf(o, "time %.2f ms; the default cell costs %+.1f%% over it (LBO)\n",
                       none->time_median_ms, base->overhead_vs_none_pct);
    else
        ms_sbuf_puts(o, none ? "ran, but the default cell did not\n" : "no results\n");
    ms_sbuf_printf(o, "Pareto front (max throughput, min p99 pause, min peak RSS): %zu of %zu "
                      "points\n", nfront, t->npt);
    /* the front by throughput, highest first (selection: n is small) */
    char *shown = ms_bench_xmalloc(t->npt ? t->npt : 1);
    memset(shown, 0, t->npt ? t->npt : 1);
    for (size_t k = 0; k < nfront; k++) {
        size_t bestj = t->npt;
        for (size_t j = 0; j < t->npt; j++)
            if (t->pt[j].on_front && !shown[j] &&
                (bestj == t->npt || ms_tune_better(MS_M_THROUGHPUT, ms_tune_sum(run, &t->pt[j]),
                                                   ms_tune_sum(run, &t->pt[bestj]))))
                bestj = j;
        shown[bestj] = 1;
        ms_sbuf_printf(o, "  front: %-28s ", t->pt[bestj].knobs);
        ms_tune_describe(o, ms_tune_sum(run, &t->pt[bestj]), base);
        ms_sbuf_putc(o, '\n');
    }
    free(shown);
    ms_tune_recommend(t, run, base, o);
}

/* ---- plots ------------------------------------------------------------------------------- */

/* What an axis means, with its unit, for the heatmap's labels. */
static char *ms_tune_axis_label(const ms_tune_axis *a)
{
    static const char *const gen_units[] = {"container allocations", "gen0 collections",
                                            "gen1 collections"};
    if (a->gen >= 0)
        return ms_bench_xprintf("%s threshold (%s)", a->name, gen_units[a->gen]);
    return ms_bench_xprintf("%s (knob value)", a->name);
}

/* Space-separated values of an axis for gnuplot's tics ("-" for an absent axis). */
static char *ms_tune_axis_words(const ms_tune *t, int a)
{
    if (a >= t->naxes)
        return ms_bench_xstrdup("-");
    ms_sbuf b = {0};
    for (size_t i = 0; i < t->axis[a].n; i++)
        ms_sbuf_printf(&b, "%s%s", i ? " " : "", t->axis[a].val[i]);
    return b.p;
}

/* plots/tune_grid.tsv: one row per point with axis indices, values and metrics. */
static int ms_tune_write_grid_tsv(const ms_tune *t, const ms_bench_run *run, const char *path)
{
    ms_sbuf b = {0};
    ms_sbuf_puts(&b, "xi\tyi\tzi\tknobs\tops_per_s\tp99_us\trss_mb\ton_front\trecommended\n");
    for (size_t i = 0; i < t->npt; i++) {
        const ms_tune_point *p = &t->pt[i];
        const ms_bench_summary *s = ms_tune_sum(run, p);
        char v[3][64];
        ms_bench_fmt_num(v[0], sizeof v[0], s ? s->ops_median : NAN);
        ms_bench_fmt_num(v[1], sizeof v[1], s ? s->pause_p99_median : NAN);
        ms_bench_fmt_num(v[2], sizeof v[2], s ? s->rss_peak_median : NAN);
        ms_sbuf_printf(&b, "%zu\t%zu\t%zu\t%s\t%s\t%s\t%s\t%d\t%d\n", p->idx[0],
                       t->naxes > 1 ? p->idx[1] : 0, t->naxes > 2 ? p->idx[2] : 0, p->knobs,
                       *v[0] ? v[0] : "NaN", *v[1] ? v[1] : "NaN", *v[2] ? v[2] : "NaN",
                       p->on_front, p->recommended);
    }
    int rc = ms_bench_write_atomic(path, b.p, b.len);
    ms_sbuf_free(&b);
    return rc;
}

/* Text for a single-quoted gnuplot string: quotes and line breaks out. */
static char *ms_tune_gp_text(const char *s)
{
    char *x = ms_bench_xstrdup(s);
    for (char *p = x; *p; p++)
        if (*p == '\'' || *p == '\n' || *p == '\r' || *p == '"')
            *p = ' ';
    return x;
}

/* Run one plot script in run_dir; 0 drawn, 1 failed (said why). */
static int ms_tune_gnuplot(const char *gnuplot, const char *script, const char *expr,
                           const char *run_dir)
{
    char *argv[] = {(char *)gnuplot, "-e", (char *)expr, (char *)script, NULL};
    int cap = ms_bench_capture_open();
    ms_bench_child res;
    int rc = ms_bench_spawn_wait(argv, 0, run_dir, -1, cap, MS_TUNE_GNUPLOT_TIMEOUT_S, &res);
    if (rc == 0 && res.exited && res.exit_status == 0) {
        if (cap >= 0)
            close(cap);
        return 0;
    }
    char *why = ms_bench_child_describe(&res, MS_TUNE_GNUPLOT_TIMEOUT_S);
    char *last = cap >= 0 ? ms_bench_capture_last_line(cap) : NULL;
    fprintf(stderr, "memstrat tune: plot %s failed (%s)%s%s\n", script, why, last ? ": " : "",
            last ? last : "");
    free(last);
    free(why);
    if (cap >= 0)
        close(cap);
    return 1;
}

/* Heatmaps (one image per metric: x = first axis, y = second, one panel per value of the
 * third) and the Pareto plot, into run_dir/plots/. gnuplot missing: one line, skipped. */
static int ms_tune_plots(const ms_tune *t, const ms_bench_run *run, const char *run_dir,
                         const char *cpu)
{
    char *gnuplot = ms_bench_find_in_path("gnuplot");
    if (!gnuplot) {
        fprintf(stderr, "memstrat tune: gnuplot not found on PATH; skipping the heatmaps\n");
        return -1;
    }
    char *plots = ms_bench_xprintf("%s/plots", run_dir);
    char *tsv = ms_bench_xprintf("%s/tune_grid.tsv", plots);
    int rc = 0;
    if (ms_bench_mkdir_p(plots) != 0 || ms_tune_write_grid_tsv(t, run, tsv) != 0) {
        fprintf(stderr, "memstrat tune: cannot write %s: %s\n", tsv, strerror(errno));
        rc = 1;
    }
    char *xl = ms_tune_axis_label(&t->axis[0]);
    char *yl = t->naxes > 1 ? ms_tune_axis_label(&t->axis[1]) : ms_bench_xstrdup("");
    char *zl = t->naxes > 2 ? ms_bench_xstrdup(t->axis[2].name) : ms_bench_xstrdup("");
    char *xw = ms_tune_axis_words(t, 0), *yw = ms_tune_axis_words(t, 1),
         *zw = ms_tune_axis_words(t, 2);
    char *machine = ms_tune_gp_text(cpu), *cell = ms_tune_gp_text(t->cell.name);
    char *script_dir = ms_bench_xprintf("%s/plots", MS_SOURCE_DIR);
    static const char *const scripts[] = {"tune_heatmap", "tune_pareto", NULL};
    for (int s = 0; rc == 0 && scripts[s]; s++) {
        char *script = ms_bench_xprintf("%s/%s.gp", script_dir, scripts[s]);
        if (access(script, R_OK) != 0) {
            fprintf(stderr, "memstrat tune: plot script %s not found; skipping it\n", script);
            free(script);
            rc = 1;
            break;
        }
        char *expr = ms_bench_xprintf(
            "datafile='plots/tune_grid.tsv'; outdir='plots'; title_machine='%s'; "
            "title_cell='%s'; xlabel_text='%s'; ylabel_text='%s'; zname='%s'; xvals='%s'; "
            "yvals='%s'; zvals='%s'",
            machine, cell, xl, yl, zl, xw, yw, zw);
        rc |= ms_tune_gnuplot(gnuplot, script, expr, run_dir);
        free(expr);
        free(script);
    }
    free(xl), free(yl), free(zl), free(xw), free(yw), free(zw), free(machine), free(cell);
    free(script_dir), free(plots), free(tsv), free(gnuplot);
    return rc;
}

/* Steps 4-5: read a published run, report, write tune.csv, tune.txt and the plots. */
static int ms_tune_analyse(ms_tune *t, const char *run_dir)
{
    ms_bench_run run;
    memset(&run, 0, sizeof run);
    char *cpu = NULL;
    int rc = ms_bench_load_run(run_dir, &run, &cpu);
    if (rc != 0) {
        free(cpu);
        ms_bench_run_free(&run);
        return rc;
    }
    size_t missing = 0;
    for (size_t i = 0; i < t->npt; i++) {
        t->pt[i].cell_i = ms_tune_find(&run, t->pt[i].cell);
        missing += t->pt[i].cell_i < 0;
    }
    if (missing == t->npt) {
        free(cpu);
        ms_bench_run_free(&run);
        return ms_usage_error("tune", "%s has none of the %zu grid points of %s (another cell or grid?)",
                             run_dir, t->npt, t->cell.name);
    }
    if (missing)
        fprintf(stderr, "memstrat tune: warning: %zu of %zu grid points are missing from %s\n",
                missing, t->npt, run_dir);
    ms_sbuf o = {0};
    ms_tune_report(t, &run, run_dir, &o);
    fputs(ms_sbuf_str(&o), stdout);
    fflush(stdout);
    long bi = ms_tune_find(&run, t->baseline_cell);
    const ms_bench_summary *base = bi >= 0 && run.sum[bi].reps ? &run.sum[bi] : NULL;
    char *csv = ms_bench_xprintf("%s/tune.csv", run_dir);
    char *txt = ms_bench_xprintf("%s/tune.txt", run_dir);
    ms_sbuf full = {0};
    ms_sbuf_printf(&full, "command: %s\n%s", t->command, ms_sbuf_str(&o));
    rc = ms_tune_write_csv(t, &run, base, csv);
    if (ms_bench_write_atomic(txt, full.p, full.len) != 0) {
        fprintf(stderr, "memstrat tune: cannot write %s: %s\n", txt, strerror(errno));
        rc = -1;
    }
    int plots = -1;
    if (!t->no_plots) {
        ms_bench_signals_begin(); /* spawn_wait reaps gnuplot through SIGCHLD */
        plots = ms_tune_plots(t, &run, run_dir, cpu);
        ms_bench_signals_end();
    }
    printf("tune:   %s and %s%s\n", csv, txt, plots == 0 ? ", heatmaps in plots/" : "");
    ms_sbuf_free(&o);
    ms_sbuf_free(&full);
    free(csv);
    free(txt);
    free(cpu);
    ms_bench_run_free(&run);
    return rc != 0 || plots > 0 ? MS_BENCH_EXIT_FAILED : MS_BENCH_EXIT_OK;
}

/* ---- running ----------------------------------------------------------------------------- */

/* A path made absolute against the current directory (jobs run elsewhere). */
static char *ms_tune_abs(const char *p)
{
    if (p[0] == '/')
        return ms_bench_xstrdup(p);
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return ms_bench_xstrdup(p);
    return ms_bench_xprintf("%s/%s", cwd, p);
}

/* All cells of the matrix in order: the grid, then the default cell, then `none`. */
static char *ms_tune_matrix_text(const ms_tune *t)
{
    ms_sbuf b = {0};
    ms_sbuf_printf(&b, "# memstrat tune %s: %zu grid points, the default cell, its none cell\n",
                   t->cell.name, t->npt);
    for (size_t i = 0; i < t->npt; i++)
        ms_sbuf_printf(&b, "%s\n", t->pt[i].cell);
    ms_sbuf_printf(&b, "%s\n%s\n", t->baseline_cell, t->none_cell);
    return b.p;
}

/* --emit-jobs: one self-contained command per cell on stdout, the way to finish on stderr. */
static int ms_tune_emit_jobs(const ms_tune *t, const char *self, const char *out, const char *id)
{
    char *abs_out = ms_tune_abs(out);
    char *jobs_dir = ms_bench_xprintf("%s/%s-jobs", abs_out, id);
    char *q_self = ms_bench_shell_quote(self), *q_dir = ms_bench_shell_quote(jobs_dir);
    size_t n = t->npt + 2;
    for (size_t i = 0; i < n; i++) {
        const char *cell = i < t->npt ? t->pt[i].cell : i == t->npt ? t->baseline_cell
                                                                      : t->none_cell;
        char *tag = i < t->npt ? ms_bench_xprintf("j-p%03zu", i + 1)
                               : ms_bench_xstrdup(i == t->npt ? "j-default" : "j-none");
        char *q_cell = ms_bench_shell_quote(cell);
        printf("printf '%%s\\n' %s | %s bench --matrix /dev/stdin --reps %d --out %s --run-id %s "
               "--no-plots --no-latest --gcscan-n 0\n",
               q_cell, q_self, t->reps, q_dir, tag);
        free(q_cell);
        free(tag);
    }
    fflush(stdout);
    fprintf(stderr, "memstrat tune: %zu jobs (%zu grid points + default + none) into %s/j-*; "
                    "then: %s merge %s/j-* --out %s --run-id %s && %s --from %s/%s\n",
            n, t->npt, jobs_dir, self, jobs_dir, abs_out, id, t->command, abs_out, id);
    free(q_self), free(q_dir), free(jobs_dir), free(abs_out);
    return 0;
}

/* Point meta.json's matrix.path at the matrix kept in the run directory. */
static void ms_tune_fix_meta(const char *final, const char *matrix)
{
    char *path = ms_bench_xprintf("%s/meta.json", final), *text;
    size_t len;
    if (ms_bench_read_file(path, &text, &len) == 0) {
        cJSON *meta = cJSON_ParseWithLength(text, len);
        cJSON *m = cJSON_GetObjectItemCaseSensitive(meta, "matrix");
        char *abs = realpath(matrix, NULL);
        if (m && abs) {
            cJSON_ReplaceItemInObjectCaseSensitive(m, "path", cJSON_CreateString(abs));
            char *out = cJSON_Print(meta);
            if (out)
                ms_bench_write_atomic(path, out, strlen(out));
            cJSON_free(out);
        }
        free(abs);
        cJSON_Delete(meta);
        free(text);
    }
    free(path);
}

/* Step 3: the matrix through `memstrat bench` (a child: its own signal handling, its own
 * atomic publication), bench's table kept in the run directory as bench.txt. */
static int ms_tune_run(ms_tune *t, const char *self, const char *out, const char *id)
{
    if (ms_bench_mkdir_p(out) != 0) {
        fprintf(stderr, "memstrat tune: cannot create %s: %s\n", out, strerror(errno));
        return MS_BENCH_EXIT_FAILED;
    }
    char *final = ms_bench_xprintf("%s/%s", out, id);
    if (ms_bench_exists(final)) {
        int rc = ms_usage_error("tune", "%s already exists; refusing to overwrite it (choose another "
                               "--run-id)", final);
        free(final);
        return rc;
    }
    char *matrix = ms_bench_xprintf("%s/.tune-%s.matrix.txt", out, id);
    char *table = ms_bench_xprintf("%s/.tune-%s.bench.txt", out, id);
    char *text = ms_tune_matrix_text(t);
    int rc = ms_bench_write_atomic(matrix, text, strlen(text));
    free(text);
    if (rc != 0) {
        fprintf(stderr, "memstrat tune: cannot write %s: %s\n", matrix, strerror(errno));
        free(final), free(matrix), free(table);
        return MS_BENCH_EXIT_FAILED;
    }
    char reps[16];
    snprintf(reps, sizeof reps, "%d", t->reps);
    char *argv[] = {(char *)self, "bench", "--matrix", matrix, "--reps", reps, "--out",
                    (char *)out, "--run-id", (char *)id, "--no-plots", "--no-latest", "--gcscan-n", "0", NULL};
    fprintf(stderr, "memstrat tune: %zu grid points + default + none, %d reps each -> %s\n",
            t->npt, t->reps, final);
    int out_fd = open(table, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ms_bench_signals_begin();
    ms_bench_child res;
    int sp = ms_bench_spawn_wait(argv, 0, NULL, out_fd, 2, 0, &res);
    int sig = ms_bench_interrupted();
    ms_bench_signals_end();
    if (out_fd >= 0)
        close(out_fd);
    if (sp != 0) {
        fprintf(stderr, "memstrat tune: cannot run %s: %s\n", self, strerror(res.spawn_errno));
        rc = MS_BENCH_EXIT_FAILED;
    } else if (sig || res.interrupted) {
        rc = 128 + (sig ? sig : SIGTERM);
    } else if (!res.exited) {
        fprintf(stderr, "memstrat tune: memstrat bench died (signal %d)\n", res.term_signal);
        rc = MS_BENCH_EXIT_FAILED;
    } else if (res.exit_status == MS_BENCH_EXIT_USAGE || res.exit_status > 128 ||
               !ms_bench_exists(final)) {
        rc = res.exit_status ? res.exit_status : MS_BENCH_EXIT_FAILED; /* bench said why */
    } else {
        char *kept = ms_bench_xprintf("%s/tune_matrix.txt", final);
        char *kept_table = ms_bench_xprintf("%s/bench.txt", final);
        if (rename(matrix, kept) == 0)
            ms_tune_fix_meta(final, kept);
        rename(table, kept_table);
        free(kept);
        free(kept_table);
        rc = ms_tune_analyse(t, final);
        if (rc == 0 && res.exit_status != 0)
            rc = res.exit_status; /* some repetition failed: bench listed which */
    }
    unlink(matrix);
    unlink(table);
    free(final), free(matrix), free(table);
    return rc;
}

/* Default run id: UTC start time, so tune runs sort by date beside bench runs. */
static char *ms_tune_default_id(void)
{
    time_t now = time(NULL);
    struct tm tm;
    char stamp[32];
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "tune-%Y%m%d-%H%M%S", &tm);
    return ms_bench_xstrdup(stamp);
}

/* Everything the tune owns. */
static void ms_tune_free(ms_tune *t)
{
    for (int a = 0; a < MS_TUNE_MAX_AXES; a++)
        for (size_t i = 0; i < t->axis[a].n; i++)
            free(t->axis[a].val[i]);
    for (size_t i = 0; i < t->npt; i++) {
        free(t->pt[i].knobs);
        free(t->pt[i].cell);
    }
    free(t->pt);
    free(t->baseline_cell);
    free(t->none_cell);
    free(t->goal.text);
    free(t->command);
    ms_bench_cell_free(&t->cell);
}

/* The command line as typed (quoted where needed), for tune.txt and the jobs' follow-up. */
static char *ms_tune_command(int argc, char **argv, const char *self, int drop_mode)
{
    ms_sbuf b = {0};
    ms_sbuf_puts(&b, self);
    for (int i = 0; i < argc; i++) {
        if (drop_mode && (!strcmp(argv[i], "--emit-jobs") || !strcmp(argv[i], "--no-plots")))
            continue;
        if (drop_mode && (!strcmp(argv[i], "--out") || !strcmp(argv[i], "--run-id") ||
                          !strcmp(argv[i], "--reps") || !strcmp(argv[i], "--from"))) {
            i++;
            continue;
        }
        char *q = ms_bench_shell_quote(argv[i]);
        ms_sbuf_printf(&b, " %s", q);
        free(q);
    }
    return b.p;
}

/* Entry point (harness/main.c): argv[0] is "tune". Steps 1-5 of the contract. */
int ms_tune_main(int argc, char **argv, const char *self_exe)
{
    ms_tune t;
    memset(&t, 0, sizeof t);
    const char **axes = NULL, *goal = NULL;
    int naxes = 0;
    int rc = ms_tune_parse_opts(&t, argc, argv, &axes, &naxes, &goal);
    if (rc == 0 && t.help) {
        fputs(ms_tune_usage, stdout);
        free(axes);
        return MS_BENCH_EXIT_OK;
    }
    char err[1024];
    if (rc == 0 && !t.cell_text)
        rc = ms_usage_error("tune", "no CELL given (e.g. request/rc+gen/pool/slots)");
    else if (rc == 0 && !naxes)
        rc = ms_usage_error("tune", "no grid given (e.g. --grid gen0=100..20000 gen1=2..50)");
    else if (rc == 0 && t.emit_jobs && t.from)
        rc = ms_usage_error("tune", "--emit-jobs and --from exclude each other");
    else if (rc == 0 && t.from && (t.reps || t.out || t.run_id))
        rc = ms_usage_error("tune", "--from analyses an existing run: --reps, --out and --run-id do not apply");
    else if (rc == 0 && ms_bench_cell_parse(t.cell_text, &t.cell, err, sizeof err) != 0)
        rc = ms_usage_error("tune", "%s", err);
    else if (rc == 0 && ms_tune_check_cell(t.cell_text, "the cell") != 0)
        rc = MS_BENCH_EXIT_USAGE;
    if (rc == 0) {
        t.strategy = mm_find_strategy(t.cell.reclaim);
        for (int i = 0; rc == 0 && i < naxes; i++)
            rc = ms_tune_parse_axis(&t, axes[i]);
    }
    if (rc == 0 && goal)
        rc = ms_tune_parse_goal(&t.goal, goal);
    if (rc == 0)
        rc = ms_tune_build_points(&t);
    free(axes);
    if (rc == 0) {
        t.command = ms_tune_command(argc, argv, "memstrat", 0);
        if (!t.reps)
            t.reps = MS_TUNE_DEFAULT_REPS;
        char self[PATH_MAX];
        snprintf(self, sizeof self, "%s", self_exe);
        char *id = t.run_id ? ms_bench_xstrdup(t.run_id) : ms_tune_default_id();
        const char *out = t.out ? t.out : "results";
        if (!t.from && !ms_run_id_ok(id)) {
            rc = ms_usage_error("tune", "bad run id '%s': use letters, digits, '-', '_', '.' (not "
                               "leading '.' or '-', not 'latest')", id);
        } else if (t.from) {
            rc = ms_tune_analyse(&t, t.from);
        } else if (t.emit_jobs) {
            free(t.command);
            t.command = ms_tune_command(argc, argv, self, 1);
            rc = ms_tune_emit_jobs(&t, self, out, id);
        } else {
            rc = ms_tune_run(&t, self, out, id);
        }
        free(id);
    }
    ms_tune_free(&t);
    return rc;
}
