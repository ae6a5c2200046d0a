/* bench.c — `memstrat bench`: runs a matrix of cells and publishes results/<run-id>/.
 *
 * Contract (see bench.h for the exit statuses):
 *  1. Check everything before writing anything: options, the matrix file, the runner binary,
 *     the run id (results/<run-id> must not exist), and each cell's name with the runner
 *     itself (`memstrat run CELL --benchmark_list_tests=true`: its exit 2 means bad input).
 *  2. Run each cell × repetition in its own process, repetition-major (rep 1 of every cell,
 *     then rep 2, ...) so that slow drift of the machine spreads over all cells instead of
 *     biasing the ones that happen to run last. Child outputs go to "<file>.part" and are
 *     renamed once the child succeeded; its stdout/stderr are kept in logs/.
 *  3. Write results.csv, summary.csv, plots/, meta.json and report.md into results/.tmp-<run-id>/, rename
 *     it to results/<run-id>/ (never over an existing one), then repoint results/latest
 *     (symlink .latest.tmp-<run-id> → <run-id>, renamed over latest).
 *  4. SIGINT/SIGTERM/SIGHUP before step 3's rename: the running child is stopped, the .tmp
 *     directory removed, exit 128+signo. Earlier runs and latest are never touched.
 * Start reading at ms_bench_main.
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Repetitions by default: enough for a median and a CV, short enough for `make bench`. */
#define MS_BENCH_DEFAULT_REPS 5
/* Live objects of the gc-scan table: the heap size issue 3's target is stated for. */
#define MS_BENCH_GCSCAN_N 1000000L
/* Repetitions of --quick: a smoke run that still shows the spread. */
#define MS_BENCH_QUICK_REPS 3
/* Bounds of --reps: one is allowed (no CV then); more than 100 is surely a typo. */
/* A cell that runs longer than this is stuck: killed and marked failed. */
#define MS_BENCH_DEFAULT_TIMEOUT_S 600.0
/* Largest --timeout accepted: a day. */
#define MS_BENCH_MAX_TIMEOUT_S 86400.0
/* The runner only lists its benchmark when asked to check a cell; this is plenty. */
#define MS_BENCH_PREFLIGHT_TIMEOUT_S 60.0
/* Longest run id: it becomes a directory name. */
/* Characters of the commit id appended to a default run id. */
#define MS_BENCH_SHORT_SHA 7

#define MS_BENCH_MATRIX_FILE "harness/matrix.txt"
#define MS_BENCH_QUICK_MATRIX_FILE "harness/matrix-quick.txt"

typedef struct ms_bench_opts {
    const char *matrix;
    int reps;        /* 0: not given */
    const char *out;
    const char *run_id;
    int quick;
    int no_plots;
    int no_latest;   /* publish without repointing DIR/latest (tune's runs) */
    const char *memstrat;
    double timeout_s;
    const char *plots_only;
    long gcscan_n;   /* objects of the gc-scan table; 0: skip it; -1: not given */
    int help;
} ms_bench_opts;

static const char ms_bench_usage[] =
    "usage: memstrat bench [--matrix FILE] [--reps N] [--out DIR] [--run-id ID] [--quick]\n"
    "                      [--no-plots] [--no-latest] [--memstrat PATH] [--timeout SEC] [--gcscan-n N]\n"
    "       memstrat bench --plots-only RUN_DIR\n"
    "\n"
    "Runs every cell of the matrix N times, each in its own process, and writes\n"
    "DIR/<run-id>/ (results.csv, summary.csv, meta.json, json/, timeline/, pauses/, latency/, plots/),\n"
    "then points DIR/latest at it.\n"
    "\n"
    "  --matrix FILE    cells, one per line (default harness/matrix.txt)\n"
    "  --reps N         repetitions per cell, 1..100 (default 5)\n"
    "  --out DIR        results directory (default results)\n"
    "  --run-id ID      name of the run (default UTC timestamp + short commit)\n"
    "  --quick          harness/matrix-quick.txt and 3 repetitions (explicit options win)\n"
    "  --no-plots       do not run gnuplot\n"
    "  --no-latest      leave DIR/latest where it is (memstrat tune's runs use it)\n"
    "  --gcscan-n N     objects in the gc-scan table (rc+gen vs CPython); 0 skips it\n"
    "  --memstrat PATH  binary that runs the cells (default: this one)\n"
    "  --timeout SEC    kill a cell after SEC seconds and mark it failed (default 600)\n"
    "  --plots-only DIR redraw the plots of an existing run directory\n";

/* Parse argv into opts; returns 0 or MS_BENCH_EXIT_USAGE after saying why. */
static int ms_bench_parse_opts(int argc, char **argv, ms_bench_opts *o)
{
    static const char *const with_value[] = {"matrix", "reps",    "out",        "run-id",
                                             "memstrat", "timeout", "plots-only", "gcscan-n", NULL};
    memset(o, 0, sizeof *o);
    o->gcscan_n = -1;
    o->timeout_s = MS_BENCH_DEFAULT_TIMEOUT_S;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            o->help = 1;
            return 0;
        }
        if (strncmp(arg, "--", 2) != 0 || !arg[2])
            return ms_usage_error("bench", "unexpected argument '%s' (see memstrat bench --help)", arg);
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        int needs = 0;
        for (int k = 0; with_value[k]; k++)
            if (strlen(with_value[k]) == nlen && !strncmp(with_value[k], name, nlen))
                needs = 1;
        const char *val = NULL;
        if (needs) {
            if (eq)
                val = eq + 1;
            else if (i + 1 < argc)
                val = argv[++i];
            else
                return ms_usage_error("bench", "option '%s' needs a value", arg);
            if (!*val)
                return ms_usage_error("bench", "option '%s' needs a value", arg);
        } else if (eq) {
            return ms_usage_error("bench", "option '%s' takes no value", arg);
        }
#define MS_IS(s) (nlen == strlen(s) && !strncmp(name, s, nlen))
        long v;
        if (MS_IS("matrix")) {
            o->matrix = val;
        } else if (MS_IS("reps")) {
            if (ms_parse_long(val, 1, MS_BENCH_MAX_REPS, &v) != 0)
                return ms_usage_error("bench", "--reps must be an integer from 1 to %d, not '%s'",
                                            MS_BENCH_MAX_REPS, val);
            o->reps = (int)v;
        } else if (MS_IS("out")) {
            o->out = val;
        } else if (MS_IS("run-id")) {
            o->run_id = val;
        } else if (MS_IS("memstrat")) {
            o->memstrat = val;
        } else if (MS_IS("timeout")) {
            if (ms_parse_long(val, 1, (long)MS_BENCH_MAX_TIMEOUT_S, &v) != 0)
                return ms_usage_error("bench", 
                    "--timeout must be a whole number of seconds from 1 to %.0f, not '%s'",
                    MS_BENCH_MAX_TIMEOUT_S, val);
            o->timeout_s = (double)v;
        } else if (MS_IS("plots-only")) {
            o->plots_only = val;
        } else if (MS_IS("gcscan-n")) {
            if (ms_parse_long(val, 0, 100000000L, &v) != 0)
                return ms_usage_error("bench", "--gcscan-n must be an integer from 0 to 100000000, not '%s'", val);
            o->gcscan_n = v;
        } else if (MS_IS("quick")) {
            o->quick = 1;
        } else if (MS_IS("no-plots")) {
            o->no_plots = 1;
        } else if (MS_IS("no-latest")) {
            o->no_latest = 1;
        } else {
            return ms_usage_error("bench", "unknown option '%s' (see memstrat bench --help)", arg);
        }
#undef MS_IS
    }
    return 0;
}

/* A matrix file named relatively: the copy under the current directory if there is one
 * (the user is editing it), else the one in the source tree this binary was built from. */
static char *ms_bench_default_matrix(const char *rel)
{
    if (access(rel, F_OK) == 0)
        return ms_bench_xstrdup(rel);
    return ms_bench_xprintf("%s/%s", MS_SOURCE_DIR, rel);
}

/* Default run id: UTC start time (sorts by date), plus the short commit when known. */
static char *ms_bench_default_run_id(time_t start)
{
    struct tm tm;
    char stamp[32];
    gmtime_r(&start, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    int dirty;
    char *sha = ms_bench_git_commit(&dirty);
    char *id = strcmp(sha, "unknown") ? ms_bench_xprintf("%s-%.*s", stamp, MS_BENCH_SHORT_SHA, sha)
                                      : ms_bench_xstrdup(stamp);
    free(sha);
    return id;
}

/* The binary that runs cells: the given one, else this process's own executable. */
static char *ms_bench_resolve_runner(const char *opt, const char *self_exe)
{
    if (opt)
        return ms_bench_xstrdup(opt);
    if (self_exe && strchr(self_exe, '/'))
        return ms_bench_xstrdup(self_exe);
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0)
        return ms_bench_xstrdup(self_exe ? self_exe : "memstrat");
    buf[n] = '\0';
    return ms_bench_xstrdup(buf);
}

/* Ask the runner whether it accepts every cell, before any output exists: a misspelt
 * strategy should stop the run at once, not as a failed cell an hour later. Only its exit
 * status 2 (bad input) counts; anything else is left for the real run to report. */
static int ms_bench_preflight(const ms_bench_run *run)
{
    for (size_t i = 0; i < run->matrix.n; i++) {
        const ms_bench_cell *c = &run->matrix.cells[i];
        char *argv[] = {(char *)run->memstrat, "run", c->name, "--benchmark_list_tests=true", NULL};
        int cap = ms_bench_capture_open();
        ms_bench_child res;
        int rc = ms_bench_spawn_wait(argv, 0, NULL, -1, cap, MS_BENCH_PREFLIGHT_TIMEOUT_S, &res);
        char *last = cap >= 0 ? ms_bench_capture_last_line(cap) : NULL;
        if (cap >= 0)
            close(cap);
        int bad = 0;
        if (rc != 0) {
            fprintf(stderr, "memstrat bench: cannot run %s: %s\n", run->memstrat,
                    strerror(res.spawn_errno));
            bad = MS_BENCH_EXIT_USAGE;
        } else if (res.interrupted) {
            bad = 128 + ms_bench_interrupted();
        } else if (res.exited && res.exit_status == MS_BENCH_EXIT_USAGE) {
            fprintf(stderr, "memstrat bench: %s:%d: %s\n", run->matrix.path, c->line,
                    last ? last : "cell rejected by the runner");
            bad = MS_BENCH_EXIT_USAGE;
        }
        free(last);
        if (bad)
            return bad;
    }
    return 0;
}

/* Remove a file the child left empty (most runs print nothing on stderr). */
static void ms_bench_drop_if_empty(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && st.st_size == 0)
        unlink(path);
}

/* Run one cell × repetition and record it in `rep`; prints the rest of its progress line. */
static void ms_bench_run_one(ms_bench_run *run, const ms_bench_cell *c, int r, ms_bench_rep *rep)
{
    const char *d = run->dir;
    char *json = ms_bench_xprintf("%s/json/%s.rep%d.json", d, c->slug, r);
    char *tl = ms_bench_xprintf("%s/timeline/%s.rep%d.csv", d, c->slug, r);
    char *pa = ms_bench_xprintf("%s/pauses/%s.rep%d.csv", d, c->slug, r);
    char *la = ms_bench_xprintf("%s/latency/%s.rep%d.csv", d, c->slug, r);
    char *la_part = ms_bench_xprintf("%s.part", la);
    char *a_la = ms_bench_xprintf("--ms_latency=%s", la_part);
    char *json_part = ms_bench_xprintf("%s.part", json), *tl_part = ms_bench_xprintf("%s.part", tl);
    char *pa_part = ms_bench_xprintf("%s.part", pa);
    /* cells that sample live bytes (cache) write this beside their RSS timeline */
    char *lv = ms_bench_xprintf("%s/timeline/%s.rep%d.live.csv", d, c->slug, r);
    char *lv_part = ms_bench_xprintf("%s.part", lv);
    char *out_log = ms_bench_xprintf("%s/logs/%s.rep%d.stdout", d, c->slug, r);
    char *err_log = ms_bench_xprintf("%s/logs/%s.rep%d.stderr", d, c->slug, r);
    char *a_tl = ms_bench_xprintf("--ms_timeline=%s", tl_part);
    char *a_pa = ms_bench_xprintf("--ms_pauses=%s", pa_part);
    char *a_out = ms_bench_xprintf("--benchmark_out=%s", json_part);
    char *argv[] = {(char *)run->memstrat, "run", c->name, a_tl, a_pa, a_la, a_out,
                    "--benchmark_out_format=json", "--benchmark_format=console", NULL};

    int out_fd = open(out_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int err_fd = open(err_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ms_bench_child res;
    int rc = ms_bench_spawn_wait(argv, 0, NULL, out_fd, err_fd, run->timeout_s, &res);
    if (out_fd >= 0)
        close(out_fd);
    if (err_fd >= 0)
        close(err_fd);
    rep->wall_s = res.wall_s;

    if (rc == 0 && res.exited && res.exit_status == 0) {
        if (ms_bench_read_rep(json_part, c->name, rep, &run->context) == 0) {
            rename(json_part, json);
            if (ms_bench_exists(tl_part))
                rename(tl_part, tl);
            if (ms_bench_exists(pa_part))
                rename(pa_part, pa);
            if (ms_bench_exists(la_part)) /* request-style cells only */
                rename(la_part, la);
            if (ms_bench_exists(lv_part))
                rename(lv_part, lv);
        }
    } else {
        char *why = ms_bench_child_describe(&res, run->timeout_s);
        char *text, *last = NULL;
        size_t len;
        if (ms_bench_read_file(err_log, &text, &len) == 0) {
            last = ms_bench_last_line(text, len);
            free(text);
        }
        rep->error = last ? ms_bench_xprintf("%s: %s", why, last) : ms_bench_xstrdup(why);
        free(last);
        free(why);
    }
    if (!rep->ok) {
        unlink(json_part);
        unlink(tl_part);
        unlink(pa_part);
        unlink(la_part);
        unlink(lv_part);
    }
    if (res.interrupted)
        fprintf(stderr, "interrupted\n");
    else if (rep->ok)
        fprintf(stderr, "%.2f s\n", res.wall_s);
    else
        fprintf(stderr, "FAILED after %.2f s: %s\n", res.wall_s, rep->error);
    ms_bench_drop_if_empty(out_log);
    ms_bench_drop_if_empty(err_log);

    free(json), free(tl), free(pa), free(json_part), free(tl_part), free(pa_part);
    free(out_log), free(err_log), free(a_tl), free(a_pa), free(a_out);
    free(la), free(la_part), free(a_la);
    free(lv), free(lv_part);
}

/* Step 2: every cell × repetition, repetition-major. Returns the interrupt signal or 0. */
static int ms_bench_run_cells(ms_bench_run *run)
{
    size_t n = run->matrix.n, total = n * (size_t)run->reps, k = 0;
    for (int r = 1; r <= run->reps; r++) {
        for (size_t i = 0; i < n; i++) {
            int sig = ms_bench_interrupted();
            if (sig)
                return sig;
            const ms_bench_cell *c = &run->matrix.cells[i];
            fprintf(stderr, "[%zu/%zu] %s rep %d/%d \xe2\x80\xa6 ", ++k, total, c->name, r,
                    run->reps);
            fflush(stderr);
            ms_bench_rep *rep = ms_bench_rep_at(run, i, r);
            ms_bench_run_one(run, c, r, rep);
            if (!rep->ok)
                run->n_failed++;
        }
    }
    return ms_bench_interrupted();
}

/* Step 3, first half: the files of a finished run, all inside the .tmp directory. */
static int ms_bench_write_outputs(ms_bench_run *run, int no_plots)
{
    ms_bench_summarize(run);
    for (size_t i = 0; i < run->n_cv_warned; i++) {
        for (size_t j = 0; j < run->matrix.n; j++)
            if (run->matrix.cells[j].name == run->cv_warned[i])
                fprintf(stderr,
                        "memstrat bench: warning: %s: time CV %.1f%% > %.0f%% (noisy: more "
                        "--reps or a quieter machine)\n",
                        run->cv_warned[i], run->sum[j].time_cv_pct, MS_BENCH_CV_WARN_PCT);
    }
    int rc = 0;
    char *p = ms_bench_xprintf("%s/results.csv", run->dir);
    rc |= ms_bench_write_results_csv(run, p);
    free(p);
    p = ms_bench_xprintf("%s/summary.csv", run->dir);
    rc |= ms_bench_write_summary_csv(run, p);
    free(p);
    if (rc != 0)
        return -1;
    FILE *table = fopen("/dev/null", "w"); /* here only its CSV; the table is printed in the report */
    if (table) {
        ms_bench_churn_table(run, run->dir, table);
        ms_bench_collectors_table(run, run->dir, table);
        fclose(table);
    }
    run->plots_status = -1;
    if (!no_plots && !ms_bench_interrupted()) {
        char *cpu = ms_bench_cpu_model();
        run->plots_status = ms_bench_draw_plots(run, cpu);
        free(cpu);
    }
    cJSON *meta = ms_bench_meta_build(run, run->matrix.path);
    char *text = cJSON_Print(meta);
    cJSON_Delete(meta);
    p = ms_bench_xprintf("%s/meta.json", run->dir);
    if (!text || ms_bench_write_atomic(p, text, strlen(text)) != 0) {
        fprintf(stderr, "memstrat bench: cannot write %s: %s\n", p, strerror(errno));
        rc = -1;
    }
    free(p);
    cJSON_free(text);
    /* report.md last: it reads meta.json and links the plots drawn above; a run whose
     * report cannot be written is still a run */
    if (rc == 0 && ms_bench_write_report(run, run->dir) != 0)
        fprintf(stderr, "memstrat bench: warning: report.md not written\n");
    return rc;
}

/* Step 3, second half: publish the .tmp directory under its final name, then latest. */
static int ms_bench_publish(const char *tmp, const char *final, const char *out, const char *id,
                            int move_latest)
{
    int rc = renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE);
    if (rc != 0 && (errno == EINVAL || errno == ENOSYS)) { /* file system without NOREPLACE */
        if (ms_bench_exists(final))
            errno = EEXIST;
        else
            rc = rename(tmp, final);
    }
    if (rc != 0) {
        fprintf(stderr, "memstrat bench: cannot rename %s to %s: %s (results left in %s)\n", tmp,
                final, strerror(errno), tmp);
        return -1;
    }
    if (!move_latest)
        return 0;
    char *link = ms_bench_xprintf("%s/.latest.tmp-%s", out, id);
    char *latest = ms_bench_xprintf("%s/latest", out);
    unlink(link);
    if (symlink(id, link) != 0 || rename(link, latest) != 0) {
        fprintf(stderr, "memstrat bench: warning: cannot point %s at %s: %s\n", latest, id,
                strerror(errno));
        unlink(link);
    }
    free(link);
    free(latest);
    return 0;
}

/* The end of a run for a person: the table, failures, where things are. */
static void ms_bench_report(const ms_bench_run *run, const char *final, const char *out,
                            int moved_latest)
{
    ms_bench_print_table(run, stdout);
    ms_bench_churn_table(run, NULL, stdout);
    ms_bench_collectors_table(run, NULL, stdout);
    if (run->n_failed) {
        fprintf(stderr, "memstrat bench: %zu of %zu repetitions failed:\n", run->n_failed,
                run->matrix.n * (size_t)run->reps);
        for (size_t i = 0; i < run->matrix.n; i++)
            for (int r = 1; r <= run->reps; r++) {
                const ms_bench_rep *rep = ms_bench_rep_at(run, i, r);
                if (!rep->ok)
                    fprintf(stderr, "  %s rep %d: %s\n", run->matrix.cells[i].name, r,
                            rep->error ? rep->error : "?");
            }
    }
    if (run->n_cv_warned)
        fprintf(stderr, "memstrat bench: %zu cell(s) with time CV > %.0f%%, see meta.json\n",
                run->n_cv_warned, MS_BENCH_CV_WARN_PCT);
    printf("run:    %s\n", final);
    if (moved_latest)
        printf("latest: %s/latest -> %s\n", out, run->run_id);
    fflush(stdout);
}

/* Make the .tmp directory and its subdirectories; the .tmp must be new (another run with
 * the same id may be running, or a crashed one left it: either way, not ours to reuse). */
static int ms_bench_make_tmp(const char *out, const char *tmp)
{
    static const char *const subdirs[] = {"json", "timeline", "pauses", "latency", "plots", "logs", NULL};
    if (ms_bench_mkdir_p(out) != 0) {
        fprintf(stderr, "memstrat bench: cannot create %s: %s\n", out, strerror(errno));
        return MS_BENCH_EXIT_FAILED;
    }
    if (mkdir(tmp, 0755) != 0) {
        fprintf(stderr, "memstrat bench: cannot create %s: %s%s\n", tmp, strerror(errno),
                errno == EEXIST ? " (another run with this id, or a crashed one: remove it)"
                                : "");
        return errno == EEXIST ? MS_BENCH_EXIT_USAGE : MS_BENCH_EXIT_FAILED;
    }
    for (int i = 0; subdirs[i]; i++) {
        char *p = ms_bench_xprintf("%s/%s", tmp, subdirs[i]);
        int rc = mkdir(p, 0755);
        free(p);
        if (rc != 0) {
            fprintf(stderr, "memstrat bench: cannot create %s/%s: %s\n", tmp, subdirs[i],
                    strerror(errno));
            ms_bench_rm_rf(tmp);
            return MS_BENCH_EXIT_FAILED;
        }
    }
    return 0;
}

/* ASan-clean exit: everything the live run owns (its run_id is borrowed, unlike a loaded run's). */
static void ms_bench_live_run_free(ms_bench_run *run)
{
    if (run->rep)
        for (size_t i = 0; i < run->matrix.n * (size_t)run->reps; i++)
            ms_bench_rep_clear(&run->rep[i]);
    free(run->rep);
    free(run->sum);
    free(run->cv_warned);
    cJSON_Delete(run->context);
    ms_bench_matrix_free(&run->matrix);
}

/* The gc-scan table (memstrat gcscan, issue 3's collector-speed figure): one
 * child process, rc+gen beside real CPython, rows to gc_scan.csv and the
 * printed table to gc_scan.txt in the run directory. A failure (no python3.11,
 * say) is reported and leaves the rest of the run intact. */
static void ms_bench_gcscan(const ms_bench_run *run, long n, int reps)
{
    char *cmd = ms_bench_xprintf("'%s' gcscan --n %ld --reps %d --out '%s/gc_scan.csv' > '%s/gc_scan.txt' 2>> "
                                 "'%s/logs/gc_scan.log'",
                                 run->memstrat, n, reps, run->dir, run->dir, run->dir);
    fprintf(stderr, "memstrat bench: gc-scan: full collections over %ld live objects, rc+gen and CPython\n", n);
    int st = system(cmd);
    if (st != 0)
        fprintf(stderr, "memstrat bench: warning: gc-scan failed (status %d); see %s/logs/gc_scan.log\n", st,
                run->dir);
    free(cmd);
}

/* Everything after the options are known: steps 1-4 of the contract. */
static int ms_bench_execute(const ms_bench_opts *o, const char *self_exe)
{
    ms_bench_run run;
    memset(&run, 0, sizeof run);
    char err[1024];
    char *matrix = o->matrix ? ms_bench_xstrdup(o->matrix)
                             : ms_bench_default_matrix(o->quick ? MS_BENCH_QUICK_MATRIX_FILE
                                                                : MS_BENCH_MATRIX_FILE);
    int rc = ms_bench_matrix_load(matrix, &run.matrix, err, sizeof err);
    free(matrix);
    if (rc != 0)
        return ms_usage_error("bench", "%s", err);

    char *runner = ms_bench_resolve_runner(o->memstrat, self_exe);
    char *out = ms_bench_xstrdup(o->out ? o->out : "results");
    for (size_t n = strlen(out); n > 1 && out[n - 1] == '/'; n--)
        out[n - 1] = '\0';
    time_t start = time(NULL);
    char *id = o->run_id ? ms_bench_xstrdup(o->run_id) : ms_bench_default_run_id(start);
    char *final = ms_bench_xprintf("%s/%s", out, id);
    char *tmp = ms_bench_xprintf("%s/.tmp-%s", out, id);
    run.run_id = id;
    run.memstrat = runner;
    run.reps = o->reps ? o->reps : o->quick ? MS_BENCH_QUICK_REPS : MS_BENCH_DEFAULT_REPS;
    run.timeout_s = o->timeout_s;
    run.dir = tmp;

    rc = 0;
    if (access(runner, X_OK) != 0)
        rc = ms_usage_error("bench", "cannot execute '%s': %s", runner, strerror(errno));
    else if (!ms_run_id_ok(id))
        rc = ms_usage_error("bench", "bad run id '%s': use letters, digits, '-', '_', '.' "
                                  "(not leading '.' or '-', not 'latest')", id);
    else if (ms_bench_exists(final))
        rc = ms_usage_error("bench", "%s already exists; refusing to overwrite it (choose another "
                                  "--run-id)", final);
    else if (ms_bench_exists(tmp))
        rc = ms_usage_error("bench", "%s exists: another run with this id, or a crashed one "
                                  "(remove it)", tmp);

    int signals = 0, sig = 0;
    if (rc == 0) {
        ms_bench_signals_begin();
        signals = 1;
        rc = ms_bench_preflight(&run);
    }
    if (rc == 0)
        rc = ms_bench_make_tmp(out, tmp);
    if (rc == 0) {
        size_t nrep = run.matrix.n * (size_t)run.reps;
        run.rep = ms_bench_xmalloc(nrep * sizeof *run.rep);
        memset(run.rep, 0, nrep * sizeof *run.rep);
        ms_bench_utc_iso(run.started_utc, sizeof run.started_utc, (long long)start);
        fprintf(stderr, "memstrat bench: %zu cells x %d reps from %s -> %s\n", run.matrix.n,
                run.reps, run.matrix.path, final);
        sig = ms_bench_run_cells(&run);
        if (!sig && o->gcscan_n != 0)
            ms_bench_gcscan(&run, o->gcscan_n > 0 ? o->gcscan_n : MS_BENCH_GCSCAN_N, run.reps);
        if (!sig)
            sig = ms_bench_interrupted();
        ms_bench_utc_iso(run.finished_utc, sizeof run.finished_utc, (long long)time(NULL));
        if (!sig && ms_bench_write_outputs(&run, o->no_plots) != 0) {
            fprintf(stderr, "memstrat bench: run not published; its files are in %s\n", tmp);
            rc = MS_BENCH_EXIT_FAILED;
        }
        if (!sig && rc == 0)
            sig = ms_bench_interrupted();
        if (sig) {
            ms_bench_rm_rf(tmp);
            fprintf(stderr, "memstrat bench: interrupted by signal %d; removed %s\n", sig, tmp);
            rc = 128 + sig;
        } else if (rc == 0 && ms_bench_publish(tmp, final, out, id, !o->no_latest) != 0) {
            rc = MS_BENCH_EXIT_FAILED;
        } else if (rc == 0) {
            ms_bench_report(&run, final, out, !o->no_latest);
            char *table = ms_bench_xprintf("%s/gc_scan.txt", final);
            FILE *f = o->gcscan_n != 0 ? fopen(table, "r") : NULL;
            if (f) {
                char line[512];
                while (fgets(line, sizeof line, f))
                    fputs(line, stdout);
                fclose(f);
            }
            free(table);
            rc = run.n_failed || run.plots_status > 0 ? MS_BENCH_EXIT_FAILED : MS_BENCH_EXIT_OK;
        }
    }
    if (signals)
        ms_bench_signals_end();
    ms_bench_live_run_free(&run);
    free(runner);
    free(out);
    free(id);
    free(final);
    free(tmp);
    return rc;
}

/* Entry point (harness/main.c): options first, then one of the two modes. */
int ms_bench_main(int argc, char **argv, const char *self_exe)
{
    ms_bench_opts o;
    int rc = ms_bench_parse_opts(argc, argv, &o);
    if (rc != 0)
        return rc;
    if (o.help) {
        fputs(ms_bench_usage, stdout);
        return MS_BENCH_EXIT_OK;
    }
    if (o.plots_only) {
        if (o.matrix || o.reps || o.out || o.run_id || o.quick || o.no_plots || o.no_latest || o.memstrat)
            return ms_usage_error("bench", "--plots-only takes no other options");
        return ms_bench_plots_only(o.plots_only);
    }
    return ms_bench_execute(&o, self_exe);
}
