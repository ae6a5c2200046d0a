/* bench.h — `memstrat bench`, the driver behind `make bench`.
 *
 * Contract: ms_bench_main() reads a matrix of cells, runs every cell × repetition in a
 * process of its own (`<memstrat> run CELL --ms_timeline=… --ms_pauses=… --benchmark_out=…`,
 * so RSS never leaks from one cell into the next), and publishes results/<run-id>/
 * atomically: everything is written into results/.tmp-<run-id>/, which is renamed at the end,
 * after which results/latest is repointed with a symlink + rename. An interrupted run removes
 * only its own .tmp directory; earlier runs and latest are never touched.
 * Exit status: 0 every cell and plot ok; 1 some cell or plot failed (the run is still
 * published); 2 bad input (one line on stderr, nothing written); 128+signo when interrupted.
 *
 * Where to start reading: bench.c (ms_bench_main, then ms_bench_run_cells). The rest of this
 * header is shared by harness/bench*.c only:
 *   bench_matrix.c  matrix file and cell names        bench_results.c  JSON in, CSV out, stats
 *   bench_proc.c    child processes, signals, timeout  bench_meta.c     meta.json
 *   bench_util.c    strings, files, numbers            bench_plots.c    gnuplot
 *   bench_knobs.c   which knobs pick a cell's `none` baseline (through the registries)
 *   bench_plotdata.c per-workload plot data   bench_report.c  report.md
 */
#ifndef MS_BENCH_H
#define MS_BENCH_H

#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

/* Entry point for `memstrat bench ...`: argv[0] is "bench"; self_exe is the running memstrat
 * binary, which is re-executed as `self_exe run CELL ...` for every cell × repetition. */
int ms_bench_main(int argc, char **argv, const char *self_exe);

/* Entry point for `memstrat compare RUN_A RUN_B [--alpha P] [--noise-floor PCT] [--csv FILE]`
 * (compare.c): argv[0] is "compare". 0 when compared (changes or not), 2 on bad input. */
int ms_compare_main(int argc, char **argv);

/* Entry point for `memstrat tune CELL --grid AXIS...` (tune.c): argv[0] is "tune"; runs the
 * grid through `self_exe bench`, or prints it as jobs (--emit-jobs), or analyses a run (--from). */
int ms_tune_main(int argc, char **argv, const char *self_exe);

/* Entry point for `memstrat merge RUN_DIR...` (merge.c): argv[0] is "merge"; joins published
 * runs into a new run directory without touching them. */
int ms_merge_main(int argc, char **argv);

/* ---- internal to harness/bench*.c -------------------------------------------------------- */

/* Build facts CMake defines for the core library; fallbacks keep a standalone build working. */
#ifndef MS_C_COMPILER
#define MS_C_COMPILER "unknown"
#endif
#ifndef MS_C_FLAGS
#define MS_C_FLAGS "unknown"
#endif
#ifndef MS_BUILD_TYPE
#define MS_BUILD_TYPE "unknown"
#endif
#ifndef MS_SOURCE_DIR
#define MS_SOURCE_DIR "."
#endif

/* Exit statuses of the driver (and of the cell runner, whose 2 also means "bad input"). */
#define MS_BENCH_EXIT_OK 0
#define MS_BENCH_EXIT_FAILED 1
#define MS_BENCH_EXIT_USAGE 2

/* Relative CV (stddev/mean) above which a cell's time is flagged as noisy; pyperf warns at 10%,
 * the design asks for 5% because differences between strategies are often a few percent. */
#define MS_BENCH_CV_WARN_PCT 5.0
/* Most repetitions per cell: 100 already takes 20x the default's time. */
#define MS_BENCH_MAX_REPS 100

/* One cell of the matrix, e.g. "ring/rc/system/slots/n=100000/rounds=2". */
typedef struct ms_bench_cell {
    char *name;      /* the cell as written in the matrix (also the benchmark name) */
    char *workload;  /* first four '/'-separated parts */
    char *reclaim;
    char *allocator;
    char *layout;
    char *knobs;     /* the knob part joined with ';': "n=100000;rounds=2", "" when none */
    char *slug;      /* file-name form: '/' -> "__", unsafe characters -> '_' */
    int line;        /* line in the matrix file, for messages (0 when not from a file) */
} ms_bench_cell;

typedef struct ms_bench_matrix {
    char *path;
    ms_bench_cell *cells;
    size_t n;
} ms_bench_matrix;

/* One repetition of one cell, as read back from its Google Benchmark JSON. */
typedef struct ms_bench_rep {
    int ok;          /* ran, exited 0 and produced a readable entry for the cell */
    double real_ms;  /* manual (workload) time */
    double cpu_ms;
    double wall_s;   /* wall time of the whole child process, spawn to reap */
    cJSON *entry;    /* the benchmark entry (owned); counters are its extra numeric fields */
    char *error;     /* why it failed (owned), NULL when ok */
} ms_bench_rep;

/* Per-cell statistics over its successful repetitions; NaN where there is no value. */
typedef struct ms_bench_summary {
    int reps;
    double time_median_ms, time_min_ms, time_max_ms, time_cv_pct;
    double ops_median, ops_min, ops_max;
    double rss_peak_median, rss_peak_min, rss_peak_max;
    double pause_max_median, pause_p99_median, leaked_median;
    double overhead_vs_none_pct;
} ms_bench_summary;

/* Everything one run knows; filled by bench.c, read by results, meta and plots. */
typedef struct ms_bench_run {
    const char *run_id;
    const char *dir;           /* where files go now (the .tmp dir until published) */
    const char *memstrat;      /* binary that runs the cells */
    ms_bench_matrix matrix;
    int reps;
    double timeout_s;
    char started_utc[32], finished_utc[32];
    ms_bench_rep *rep;         /* [cell * reps + (r - 1)] */
    ms_bench_summary *sum;     /* [cell] */
    cJSON *context;            /* Google Benchmark "context" of the first good repetition */
    char **cv_warned;          /* names of cells whose time CV exceeded the limit (borrowed) */
    size_t n_cv_warned;
    size_t n_failed;           /* failed repetitions */
    int plots_status;          /* 0 drawn, 1 failed, -1 skipped */
} ms_bench_run;

static inline ms_bench_rep *ms_bench_rep_at(const ms_bench_run *run, size_t cell, int r)
{
    return &run->rep[cell * (size_t)run->reps + (size_t)(r - 1)];
}

/* bench_util.c: growable string, files, paths, numbers. Allocation failure aborts. */
typedef struct ms_sbuf {
    char *p;
    size_t len, cap;
} ms_sbuf;
void ms_sbuf_puts(ms_sbuf *b, const char *s);
void ms_sbuf_putc(ms_sbuf *b, char c);
void ms_sbuf_printf(ms_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *ms_sbuf_str(ms_sbuf *b);
void ms_sbuf_free(ms_sbuf *b);

void *ms_bench_xmalloc(size_t n);
void *ms_bench_xrealloc(void *p, size_t n);
char *ms_bench_xstrdup(const char *s);
char *ms_bench_xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int ms_bench_write_atomic(const char *path, const char *data, size_t len);
int ms_bench_read_file(const char *path, char **data, size_t *len);
int ms_bench_mkdir_p(const char *path);
int ms_bench_rm_rf(const char *path);
int ms_bench_exists(const char *path);
char *ms_bench_last_line(const char *text, size_t len);
char *ms_bench_shell_quote(const char *s);
char *ms_bench_popen_read(const char *cmd, int *status);
char *ms_bench_find_in_path(const char *prog);
void ms_bench_fmt_num(char *buf, size_t n, double v);
void ms_bench_csv_field(ms_sbuf *b, const char *s);
void ms_bench_utc_iso(char *buf, size_t n, long long epoch_s);
/* Longest run id: it is a directory name. */
#define MS_MAX_RUN_ID 100
int ms_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ms_parse_long(const char *s, long lo, long hi, long *out);
/* Is `id` usable as a run id (a plain directory name, not hidden, not `latest`)? */
int ms_run_id_ok(const char *id);

/* bench_matrix.c */
int ms_bench_cell_parse(const char *text, ms_bench_cell *c, char *err, size_t errlen);
void ms_bench_cell_free(ms_bench_cell *c);
int ms_bench_matrix_load(const char *path, ms_bench_matrix *m, char *err, size_t errlen);
void ms_bench_matrix_free(ms_bench_matrix *m);

/* bench_proc.c: one child at a time, with a timeout, interruptible by SIGINT/SIGTERM/SIGHUP. */
typedef struct ms_bench_child {
    int spawn_errno;  /* nonzero: could not start */
    int exited;       /* exit_status is valid */
    int exit_status;
    int term_signal;  /* nonzero: died of this signal */
    int timed_out;
    int interrupted;  /* the driver got SIGINT/SIGTERM/SIGHUP meanwhile and killed the child */
    double wall_s;
} ms_bench_child;
void ms_bench_signals_begin(void);
void ms_bench_signals_end(void);
int ms_bench_interrupted(void);
double ms_bench_now(void);
int ms_bench_spawn_wait(char *const argv[], int search_path, const char *cwd, int out_fd,
                        int err_fd, double timeout_s, ms_bench_child *res);
int ms_bench_capture_open(void);
char *ms_bench_capture_last_line(int fd);
char *ms_bench_child_describe(const ms_bench_child *res, double timeout_s);

/* bench_knobs.c */
char *ms_bench_baseline_key(const ms_bench_cell *c);

/* bench_results.c */
int ms_bench_read_rep(const char *json_path, const char *cell, ms_bench_rep *rep,
                      cJSON **context);
void ms_bench_rep_clear(ms_bench_rep *rep);
void ms_bench_summarize(ms_bench_run *run);
int ms_bench_write_results_csv(const ms_bench_run *run, const char *path);
int ms_bench_write_summary_csv(const ms_bench_run *run, const char *path);
int ms_bench_write_summary_tsv(const ms_bench_run *run, const char *path);
void ms_bench_print_table(const ms_bench_run *run, FILE *out);
/* bench_churn.c: the allocator table (churn cells, ratios to mimalloc and pymalloc);
 * writes DIR/churn_allocators.csv when dir is not NULL. */
void ms_bench_churn_table(const ms_bench_run *run, const char *dir, FILE *out);
/* bench_collectors.c: other collectors beside rc+gen on the same workload (ratios; issue
 * 6's target on rc+incr); writes DIR/collectors.csv when dir is not NULL. */
void ms_bench_collectors_table(const ms_bench_run *run, const char *dir, FILE *out);

/* bench_meta.c */
char *ms_bench_git_commit(int *dirty);
char *ms_bench_cpu_model(void);
cJSON *ms_bench_meta_build(const ms_bench_run *run, const char *matrix_path);

/* bench_load.c: a published run directory back into memory (cells, reps, summary); 0, or 2
 * with one line on stderr. *cpu_model gets the machine's CPU (owned). */
int ms_bench_load_run(const char *run_dir, ms_bench_run *run, char **cpu_model);
void ms_bench_run_free(ms_bench_run *run);

/* bench_plotdata.c: per-workload data files under plots/data/ and the references the plots
 * and report.md share. */
typedef enum ms_bench_ref_kind {
    MS_REF_POOL,   /* every cell normalised to rc+gen/pool */
    MS_REF_SYSTEM, /* every cell to rc+gen/system: the workload has no rc+gen/pool cell */
    MS_REF_MIXED,  /* some to pool, some to system, some perhaps to nothing */
    MS_REF_NONE    /* no rc+gen cell at all: absolute throughput */
} ms_bench_ref_kind;
typedef struct ms_bench_wl_plots {
    ms_sbuf reclaims;                          /* strategies present, legend order */
    ms_sbuf p_labels, p_reclaims, p_dash;      /* cells that paused (pause_* blocks) */
    ms_sbuf t_labels, t_reclaims, t_dash;      /* cells with an RSS timeline (rss_tl blocks) */
    ms_bench_ref_kind ref;
    size_t ncells;
} ms_bench_wl_plots;
long ms_bench_norm_ref(const ms_bench_run *run, size_t i, const char **alloc);
size_t ms_bench_workloads(const ms_bench_run *run, const char ***out);
const char *ms_bench_cell_label(const ms_bench_cell *c);
int ms_bench_plotdata_write(const ms_bench_run *run, const char *run_dir, const char *datadir,
                            const char *wl, ms_bench_wl_plots *out);
void ms_bench_wl_plots_free(ms_bench_wl_plots *p);

/* bench_plots.c */
int ms_bench_draw_plots(const ms_bench_run *run, const char *cpu_model);
int ms_bench_plots_only(const char *run_dir);
/* Names of the per-workload plots (plots/<workload>-<name>.png/.svg), NULL-terminated. */
extern const char *const ms_bench_wl_plot_names[];

/* bench_report.c: run_dir/report.md from meta.json, the summary and the files of the run
 * (plots linked only where their PNG exists). 0, or -1 when it cannot be written. */
int ms_bench_write_report(const ms_bench_run *run, const char *run_dir);

#endif /* MS_BENCH_H */
