/* bench_plots.c — draws a run's plots with the gnuplot scripts in plots/.
 *
 * Contract: gnuplot runs with the run directory as its working directory and gets only
 * relative paths (plots/summary.tsv, timeline/<slug>.rep<r>.csv), so no user-chosen path is
 * ever quoted into a gnuplot command. Each script writes PNG and SVG into the output directory.
 * No gnuplot on PATH: one line on stderr, plots skipped (-1), not a failure. A script that
 * fails is reported with gnuplot's last stderr line (1). `--plots-only RUN_DIR` rebuilds the
 * summary from RUN_DIR/json/ and meta.json, draws into RUN_DIR/plots/.tmp-<pid>/ and moves the
 * finished files into RUN_DIR/plots/, so an interrupted redraw leaves the old images; then it
 * rewrites RUN_DIR/report.md, so old runs get the current report too.
 * Two families of plots: the whole-run ones (ms_plot_scripts: every cell on one axis) and,
 * for every workload, ms_bench_wl_plot_names drawn from the data files bench_plotdata.c
 * writes into plots/data/ (plots/<workload>-<name>.png/.svg). Colours come from
 * plots/colors.gp only: one colour per reclamation strategy in every plot.
 */
#include "bench.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A plot script that runs longer than this is stuck (timelines of long cells take seconds). */
#define MS_GNUPLOT_TIMEOUT_S 300.0

static const char *const ms_plot_scripts[] = {"throughput", "rss_peak", "rss_timeline", "churn",
                                               "request_latency", "instances", "cache_timeline",
                                               NULL};

/* The per-workload plots and the script that draws each (same order). */
const char *const ms_bench_wl_plot_names[] = {"throughput", "pause_cdf", "pause_timeline",
                                             "rss_timeline", "rss_peak", "pareto", NULL};
static const char *const ms_wl_plot_scripts[] = {"norm_throughput", "pause_cdf",
                                                 "pause_timeline", "rss_timeline", "rss_peak",
                                                 "pareto", NULL};

/* The committed scripts: MS_SOURCE_DIR/plots, else plots/ under the current directory. */
static char *ms_plots_script_dir(void)
{
    char *d = ms_bench_xprintf("%s/plots", MS_SOURCE_DIR);
    char *probe = ms_bench_xprintf("%s/throughput.gp", d);
    int ok = access(probe, R_OK) == 0;
    free(probe);
    if (ok)
        return d;
    free(d);
    if (access("plots/throughput.gp", R_OK) == 0)
        return realpath("plots", NULL);
    return NULL;
}

/* Text that goes between single quotes in a gnuplot -e string: quotes and line breaks out. */
static char *ms_gp_text(const char *s)
{
    char *t = ms_bench_xstrdup(s);
    for (char *p = t; *p; p++)
        if (*p == '\'' || *p == '\n' || *p == '\r')
            *p = ' ';
    return t;
}

/* Append `word` to a separated list unless it is already there (workloads, reclaims). */
static void ms_add_distinct(ms_sbuf *b, const char *word, const char *sep)
{
    const char *s = ms_sbuf_str(b);
    size_t n = strlen(word), seplen = strlen(sep);
    while (*s) {
        const char *e = strstr(s, sep);
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len == n && !strncmp(s, word, n))
            return;
        if (!e)
            break;
        s = e + seplen;
    }
    if (b->len)
        ms_sbuf_puts(b, sep);
    ms_sbuf_puts(b, word);
}

/* Run one script; 0 ok, 1 failed (and said why). */
static int ms_plots_run_script(const char *gnuplot, const char *script, const char *expr,
                               const char *run_dir, const char *name)
{
    char *argv[] = {(char *)gnuplot, "-e", (char *)expr, (char *)script, NULL};
    int cap = ms_bench_capture_open();
    ms_bench_child res;
    int rc = ms_bench_spawn_wait(argv, 0, run_dir, -1, cap, MS_GNUPLOT_TIMEOUT_S, &res);
    if (rc == 0 && res.exited && res.exit_status == 0) {
        if (cap >= 0)
            close(cap);
        return 0;
    }
    if (!res.interrupted) {
        char *why = ms_bench_child_describe(&res, MS_GNUPLOT_TIMEOUT_S);
        char *last = cap >= 0 ? ms_bench_capture_last_line(cap) : NULL;
        fprintf(stderr, "memstrat bench: plot %s.gp failed (%s)%s%s\n", name, why,
                last ? ": " : "", last ? last : "");
        free(last);
        free(why);
    }
    if (cap >= 0)
        close(cap);
    return 1;
}

/* The first repetition of cell i with a non-empty <subdir>/<slug>.rep<r>.csv, as a path
 * relative to run_dir (caller frees), or NULL: one file per cell for the per-cell plots. */
static char *ms_plots_first_rep_file(const ms_bench_run *run, const char *run_dir, size_t i,
                                     const char *subdir)
{
    const ms_bench_cell *c = &run->matrix.cells[i];
    for (int r = 1; r <= run->reps; r++) {
        if (!ms_bench_rep_at(run, i, r)->ok)
            continue;
        char *rel = ms_bench_xprintf("%s/%s.rep%d.csv", subdir, c->slug, r);
        char *abs = ms_bench_xprintf("%s/%s", run_dir, rel);
        struct stat st;
        int usable = stat(abs, &st) == 0 && st.st_size > 0;
        free(abs);
        if (usable)
            return rel;
        free(rel);
    }
    return NULL;
}

/* Removes a plot's half-written images: a half-written image is worse than none. */
static void ms_plots_unlink(const char *run_dir, const char *outdir_rel, const char *name)
{
    for (int f = 0; f < 2; f++) {
        char *img = ms_bench_xprintf("%s/%s/%s.%s", run_dir, outdir_rel, name, f ? "svg" : "png");
        unlink(img);
        free(img);
    }
}

/* The per-workload plots: data files first (bench_plotdata.c), then one gnuplot per plot.
 * Workload names come from the registry, so they are safe in file names and gnuplot strings. */
static int ms_plots_draw_workloads(const ms_bench_run *run, const char *run_dir,
                                   const char *outdir_rel, const char *gnuplot, const char *sdir,
                                   const char *machine, const char *id)
{
    static const char *const ref_names[] = {"pool", "system", "mixed", "none"};
    char *datadir_rel = ms_bench_xprintf("%s/data", outdir_rel);
    char *datadir = ms_bench_xprintf("%s/%s", run_dir, datadir_rel);
    int rc = 0;
    if (ms_bench_mkdir_p(datadir) != 0) {
        fprintf(stderr, "memstrat bench: cannot create %s: %s\n", datadir, strerror(errno));
        rc = 1;
    }
    const char **wls = NULL;
    size_t nwl = rc ? 0 : ms_bench_workloads(run, &wls);
    for (size_t w = 0; w < nwl && !ms_bench_interrupted(); w++) {
        ms_bench_wl_plots p;
        if (ms_bench_plotdata_write(run, run_dir, datadir, wls[w], &p) != 0) {
            rc = 1;
            ms_bench_wl_plots_free(&p);
            continue;
        }
        for (int k = 0; ms_bench_wl_plot_names[k] && !ms_bench_interrupted(); k++) {
            const char *name = ms_bench_wl_plot_names[k];
            if ((!strncmp(name, "pause_", 6) && p.p_labels.len == 0) ||
                (!strcmp(name, "rss_timeline") && p.t_labels.len == 0))
                continue;
            char *out = ms_bench_xprintf("%s-%s", wls[w], name);
            char *script = ms_bench_xprintf("%s/%s.gp", sdir, ms_wl_plot_scripts[k]);
            char *expr = ms_bench_xprintf(
                "datafile='%s/%s.tsv'; blockprefix='%s/%s'; outdir='%s'; outname='%s'; "
                "labelcol='label'; title_machine='%s'; title_workloads='%s'; title_run='%s'; "
                "reclaims='%s'; ref_kind='%s'; plabels='%s'; preclaims='%s'; pdash='%s'; "
                "titles='%s'; file_reclaims='%s'; file_dash='%s'",
                datadir_rel, wls[w], datadir_rel, wls[w], outdir_rel, out, machine, wls[w], id,
                ms_sbuf_str(&p.reclaims), ref_names[p.ref], ms_sbuf_str(&p.p_labels),
                ms_sbuf_str(&p.p_reclaims), ms_sbuf_str(&p.p_dash), ms_sbuf_str(&p.t_labels),
                ms_sbuf_str(&p.t_reclaims), ms_sbuf_str(&p.t_dash));
            if (ms_plots_run_script(gnuplot, script, expr, run_dir, out) != 0) {
                rc = 1;
                ms_plots_unlink(run_dir, outdir_rel, out);
            }
            free(expr);
            free(script);
            free(out);
        }
        ms_bench_wl_plots_free(&p);
    }
    free(wls);
    free(datadir);
    free(datadir_rel);
    return rc;
}

/* Draw every plot of `run` (whose files live in run_dir) into run_dir/outdir_rel. */
static int ms_plots_draw_in(const ms_bench_run *run, const char *run_dir, const char *outdir_rel,
                            const char *cpu_model)
{
    char *gnuplot = ms_bench_find_in_path("gnuplot");
    if (!gnuplot) {
        fprintf(stderr, "memstrat bench: gnuplot not found on PATH; skipping plots\n");
        return -1;
    }
    char *sdir = ms_plots_script_dir();
    if (!sdir) {
        fprintf(stderr, "memstrat bench: plot scripts not found in %s/plots or ./plots\n",
                MS_SOURCE_DIR);
        free(gnuplot);
        return 1;
    }
    ms_sbuf workloads = {0}, reclaims = {0}, files = {0}, titles = {0}, lat_files = {0},
            lat_titles = {0}, cache_files = {0}, cache_titles = {0}, f_recl = {0},
            lat_recl = {0}, cache_recl = {0};
    for (size_t i = 0; i < run->matrix.n; i++) {
        const ms_bench_cell *c = &run->matrix.cells[i];
        if (run->sum[i].reps == 0)
            continue;
        ms_add_distinct(&workloads, c->workload, ", ");
        ms_add_distinct(&reclaims, c->reclaim, " ");
        char *rel = ms_plots_first_rep_file(run, run_dir, i, "timeline");
        if (rel) {
            ms_sbuf_printf(&files, "%s%s", files.len ? " " : "", rel);
            ms_sbuf_printf(&titles, "%s%s", titles.len ? " " : "", c->name);
            ms_sbuf_printf(&f_recl, "%s%s", f_recl.len ? " " : "", c->reclaim);
            /* the cache variants get their own plot of live bytes over time (issue 5):
             * the .live.csv the cell wrote beside its RSS timeline */
            size_t rl = strlen(rel);
            char *live = ms_bench_xprintf("%.*s.live.csv", (int)(rl > 4 ? rl - 4 : rl), rel);
            char *live_abs = ms_bench_xprintf("%s/%s", run_dir, live);
            if (!strcmp(c->workload, "cache") && access(live_abs, R_OK) == 0) {
                ms_sbuf_printf(&cache_files, "%s%s", cache_files.len ? " " : "", live);
                ms_sbuf_printf(&cache_titles, "%s%s", cache_titles.len ? " " : "", c->name);
                ms_sbuf_printf(&cache_recl, "%s%s", cache_recl.len ? " " : "", c->reclaim);
            }
            free(live);
            free(live_abs);
            free(rel);
        }
        /* only request-style cells write latency files (--ms_latency) */
        if ((rel = ms_plots_first_rep_file(run, run_dir, i, "latency")) != NULL) {
            ms_sbuf_printf(&lat_files, "%s%s", lat_files.len ? " " : "", rel);
            ms_sbuf_printf(&lat_titles, "%s%s", lat_titles.len ? " " : "", c->name);
            ms_sbuf_printf(&lat_recl, "%s%s", lat_recl.len ? " " : "", c->reclaim);
            free(rel);
        }
    }
    int rc = 0;
    if (workloads.len == 0) {
        fprintf(stderr, "memstrat bench: no cell has results; skipping plots\n");
        rc = -1;
    }
    char *tsv = ms_bench_xprintf("%s/%s/summary.tsv", run_dir, outdir_rel);
    if (rc == 0 && ms_bench_write_summary_tsv(run, tsv) != 0)
        rc = 1;
    free(tsv);
    char *machine = ms_gp_text(cpu_model), *wl = ms_gp_text(ms_sbuf_str(&workloads));
    char *id = ms_gp_text(run->run_id);
    for (int s = 0; rc == 0 && ms_plot_scripts[s]; s++) {
        const char *name = ms_plot_scripts[s];
        int timeline = !strcmp(name, "rss_timeline");
        int latency = !strcmp(name, "request_latency");
        int cache = !strcmp(name, "cache_timeline");
        if ((timeline && files.len == 0) || (latency && lat_files.len == 0) || (cache && cache_files.len == 0))
            continue;
        if (!strcmp(name, "instances")) { /* only runs with instances cells */
            int have = 0;
            for (size_t i = 0; i < run->matrix.n; i++)
                have |= run->sum[i].reps > 0 && !strcmp(run->matrix.cells[i].workload, "instances");
            if (!have)
                continue;
        }
        if (!strcmp(name, "churn")) { /* only runs with churn cells have its table */
            char *csv = ms_bench_xprintf("%s/churn_allocators.csv", run_dir);
            int have = access(csv, R_OK) == 0;
            free(csv);
            if (!have)
                continue;
        }
        /* cache_timeline is rss_timeline.gp over the cache cells only */
        char *script = ms_bench_xprintf("%s/%s.gp", sdir, cache ? "rss_timeline" : name);
        const ms_sbuf *fl = latency ? &lat_files : cache ? &cache_files : &files;
        const ms_sbuf *tl = latency ? &lat_titles : cache ? &cache_titles : &titles;
        const ms_sbuf *rl = latency ? &lat_recl : cache ? &cache_recl : &f_recl;
        char *expr = ms_bench_xprintf("datafile='%s/summary.tsv'; outdir='%s'; outname='%s'; ycolumn='%s'; "
                                      "title_machine='%s'; title_workloads='%s'; "
                                      "title_run='%s'; reclaims='%s'; files='%s'; titles='%s'; "
                                      "file_reclaims='%s'",
                                      outdir_rel, outdir_rel, name, cache ? "live_mb" : "rss_mb", machine,
                                      cache ? "cache variants" : wl,
                                      id, ms_sbuf_str(&reclaims), ms_sbuf_str((ms_sbuf *)fl),
                                      ms_sbuf_str((ms_sbuf *)tl), ms_sbuf_str((ms_sbuf *)rl));
        if (ms_plots_run_script(gnuplot, script, expr, run_dir, name) != 0) {
            rc = 1;
            ms_plots_unlink(run_dir, outdir_rel, name);
        }
        free(expr);
        free(script);
        if (ms_bench_interrupted())
            break;
    }
    if (rc == 0 && !ms_bench_interrupted())
        rc = ms_plots_draw_workloads(run, run_dir, outdir_rel, gnuplot, sdir, machine, id);
    free(machine);
    free(wl);
    free(id);
    ms_sbuf_free(&f_recl);
    ms_sbuf_free(&lat_recl);
    ms_sbuf_free(&cache_recl);
    ms_sbuf_free(&workloads);
    ms_sbuf_free(&reclaims);
    ms_sbuf_free(&files);
    ms_sbuf_free(&titles);
    ms_sbuf_free(&lat_files);
    ms_sbuf_free(&lat_titles);
    ms_sbuf_free(&cache_files);
    ms_sbuf_free(&cache_titles);
    free(sdir);
    free(gnuplot);
    return rc;
}

/* Plots of a run being written: straight into its .tmp directory, renamed with it. */
int ms_bench_draw_plots(const ms_bench_run *run, const char *cpu_model)
{
    return ms_plots_draw_in(run, run->dir, "plots", cpu_model);
}

/* Move every file of `from` into `to` (same file system: rename); a directory (data/)
 * replaces the old one of that name whole. */
static int ms_plots_move_all(const char *from, const char *to)
{
    DIR *d = opendir(from);
    if (!d)
        return -1;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *a = ms_bench_xprintf("%s/%s", from, e->d_name);
        char *b = ms_bench_xprintf("%s/%s", to, e->d_name);
        struct stat st;
        if (stat(a, &st) == 0 && S_ISDIR(st.st_mode))
            ms_bench_rm_rf(b);
        if (rename(a, b) != 0) {
            fprintf(stderr, "memstrat bench: cannot move %s to %s: %s\n", a, b,
                    strerror(errno));
            rc = -1;
        }
        free(a);
        free(b);
    }
    closedir(d);
    return rc;
}

/* `memstrat bench --plots-only RUN_DIR` (what `make plots` runs). */
int ms_bench_plots_only(const char *run_dir)
{
    ms_bench_run run;
    memset(&run, 0, sizeof run);
    run.dir = run_dir;
    char *cpu = NULL;
    int rc = ms_bench_load_run(run_dir, &run, &cpu);
    char *plots = ms_bench_xprintf("%s/plots", run_dir);
    char *tmp_rel = ms_bench_xprintf("plots/.tmp-%ld", (long)getpid());
    char *tmp = ms_bench_xprintf("%s/%s", run_dir, tmp_rel);
    if (rc == 0 && ms_bench_mkdir_p(tmp) != 0) {
        fprintf(stderr, "memstrat bench: cannot create %s: %s\n", tmp, strerror(errno));
        rc = MS_BENCH_EXIT_FAILED;
    } else if (rc == 0) {
        ms_bench_signals_begin();
        int drawn = ms_plots_draw_in(&run, run_dir, tmp_rel, cpu);
        int sig = ms_bench_interrupted();
        if (sig) {
            rc = 128 + sig;
        } else {
            if (ms_plots_move_all(tmp, plots) != 0)
                drawn = 1;
            run.plots_status = drawn;
            if (ms_bench_write_report(&run, run_dir) != 0)
                drawn = 1;
            rc = drawn == 0 ? MS_BENCH_EXIT_OK : MS_BENCH_EXIT_FAILED;
            if (drawn == 0)
                printf("plots: %s\n", plots);
            printf("report: %s/report.md\n", run_dir);
        }
        ms_bench_rm_rf(tmp);
        ms_bench_signals_end();
    }
    free(tmp);
    free(tmp_rel);
    free(plots);
    free(cpu);
    ms_bench_run_free(&run);
    return rc;
}
