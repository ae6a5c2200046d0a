/* merge.c — `memstrat merge RUN_DIR... [--out DIR] [--run-id ID] [--no-plots]`.
 *
 * Contract: joins published runs (of `memstrat bench`, `memstrat tune` or its --emit-jobs)
 * into one new run directory DIR/<run-id>/ that every reader of a run accepts (plots-only,
 * tune --from, merge again):
 *  1. Every input is loaded with ms_bench_load_run and checked before anything is written: it
 *     is a run directory, no directory is given twice, all have the same repetition count
 *     (a cell's median over 3 reps beside one over 5 is not the same statistic: one line,
 *     exit 2), the run id is plain and DIR/<run-id> does not exist yet.
 *  2. Cells are the union, in input order. A cell present in several inputs is taken from
 *     the first that has it, with one warning line per such cell; its repetitions are not
 *     concatenated, so every cell keeps exactly `reps` repetitions from one machine.
 *  3. The cells' json/, timeline/, pauses/, latency/ and logs/ files are copied (never moved
 *     or linked: the inputs are never modified) into DIR/.tmp-<run-id>/; results.csv and
 *     summary.csv are regenerated from the copied JSON by bench's own writers, and meta.json
 *     lists every cell and, under merged_from, each source run with its directory, machine
 *     and commit. The machine of the merged run is the first input's; inputs from different
 *     CPU models get a warning. The .tmp directory is renamed to DIR/<run-id> at the end
 *     (never over an existing one); on failure or interrupt it is removed and nothing else
 *     changes. DIR/latest is not repointed: a merge is not a new measurement.
 * Start reading at ms_merge_main.
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Longest run id: it becomes a directory name (as bench's). */
/* Bytes copied per read; timelines are a few MB at most. */
#define MS_MERGE_COPY_CHUNK 65536

/* The per-repetition files of a cell, as bench names them: subdirectory and suffix after
 * "<slug>.rep<r>". */
static const struct {
    const char *dir, *suffix;
} ms_merge_files[] = {
    {"json", ".json"},      {"timeline", ".csv"},     {"timeline", ".live.csv"},
    {"pauses", ".csv"},     {"latency", ".csv"},      {"logs", ".stdout"},
    {"logs", ".stderr"},
};

static const char ms_merge_usage[] =
    "usage: memstrat merge RUN_DIR... [--out DIR] [--run-id ID] [--no-plots]\n"
    "\n"
    "Joins run directories (same --reps) into a new one, DIR/<run-id>/ (default results/\n"
    "merged-<UTC>): the union of their cells (a cell in several runs is taken from the first,\n"
    "with a warning), their per-repetition files copied, results.csv and summary.csv\n"
    "regenerated, meta.json listing the source runs and machines. Inputs are never modified.\n";

/* Copy one file byte for byte (0, or -1 with errno). */
static int ms_merge_copy(const char *from, const char *to)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return -1;
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (out < 0) {
        int e = errno;
        close(in);
        errno = e;
        return -1;
    }
    char *buf = ms_bench_xmalloc(MS_MERGE_COPY_CHUNK);
    int rc = 0;
    for (;;) {
        ssize_t n = read(in, buf, MS_MERGE_COPY_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? -1 : 0;
            break;
        }
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                rc = -1;
                break;
            }
            off += w;
        }
        if (rc)
            break;
    }
    int e = errno;
    free(buf);
    close(in);
    if (close(out) != 0 && rc == 0)
        rc = -1;
    errno = e;
    return rc;
}

/* A source run: loaded numbers plus its meta.json (for machine, commit, times). */
typedef struct ms_merge_src {
    const char *dir;
    char *real;
    ms_bench_run run;
    char *cpu;
    cJSON *meta;
} ms_merge_src;

/* Step 1 for one input: load it (exit 2 when it is not a run) and keep its meta.json. */
static int ms_merge_load(ms_merge_src *s, const char *dir)
{
    memset(s, 0, sizeof *s);
    s->dir = dir;
    int rc = ms_bench_load_run(dir, &s->run, &s->cpu);
    if (rc != 0)
        return rc;
    char *path = ms_bench_xprintf("%s/meta.json", dir), *text;
    size_t len;
    if (ms_bench_read_file(path, &text, &len) == 0) {
        s->meta = cJSON_ParseWithLength(text, len);
        free(text);
    }
    free(path);
    s->real = realpath(dir, NULL);
    if (!s->real)
        s->real = ms_bench_xstrdup(dir);
    return 0;
}

/* The string at meta.<a>.<b> of a source ("" when absent). */
static const char *ms_merge_meta_str(const ms_merge_src *s, const char *a, const char *b)
{
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(s->meta, a);
    const char *v = cJSON_GetStringValue(b ? cJSON_GetObjectItemCaseSensitive(o, b) : o);
    return v ? v : "";
}

/* Step 3: meta.json of the merged run: bench's builder, then the sources' facts. */
static cJSON *ms_merge_meta(const ms_bench_run *run, const ms_merge_src *src, int nsrc,
                            const char *matrix_tmp, const char *matrix_final)
{
    cJSON *meta = ms_bench_meta_build(run, matrix_tmp);
    cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(meta, "matrix"), "path",
                                           cJSON_CreateString(matrix_final));
    const cJSON *m0 = cJSON_GetObjectItemCaseSensitive(src[0].meta, "machine");
    if (m0)
        cJSON_ReplaceItemInObjectCaseSensitive(meta, "machine", cJSON_Duplicate(m0, 1));
    const cJSON *g0 = cJSON_GetObjectItemCaseSensitive(src[0].meta, "git");
    if (g0)
        cJSON_ReplaceItemInObjectCaseSensitive(meta, "git", cJSON_Duplicate(g0, 1));
    const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(src[0].meta, "gbench_context");
    if (ctx)
        cJSON_AddItemToObject(meta, "gbench_context", cJSON_Duplicate(ctx, 1));
    cJSON_AddStringToObject(meta, "merged_utc", run->finished_utc);
    cJSON *from = cJSON_AddArrayToObject(meta, "merged_from");
    for (int k = 0; k < nsrc; k++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "run_id", src[k].run.run_id);
        cJSON_AddStringToObject(o, "dir", src[k].real);
        cJSON_AddNumberToObject(o, "cells", (double)src[k].run.matrix.n);
        cJSON_AddStringToObject(o, "started_utc", ms_merge_meta_str(&src[k], "started_utc", NULL));
        cJSON_AddStringToObject(o, "git_commit", ms_merge_meta_str(&src[k], "git", "commit"));
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(src[k].meta, "machine");
        cJSON_AddItemToObject(o, "machine", m ? cJSON_Duplicate(m, 1) : cJSON_CreateNull());
        cJSON_AddItemToArray(from, o);
    }
    return meta;
}

/* Move the finished .tmp directory to its name, never over an existing directory. */
static int ms_merge_publish(const char *tmp, const char *final)
{
    int rc = renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE);
    if (rc != 0 && (errno == EINVAL || errno == ENOSYS)) {
        if (ms_bench_exists(final))
            errno = EEXIST;
        else
            rc = rename(tmp, final);
    }
    if (rc != 0)
        fprintf(stderr, "memstrat merge: cannot rename %s to %s: %s\n", tmp, final,
                strerror(errno));
    return rc;
}

/* Steps 2-3 once the inputs are known good: build, write and publish the merged run. */
static int ms_merge_write(ms_merge_src *src, int nsrc, const char *out, const char *id,
                          int no_plots)
{
    int reps = src[0].run.reps;
    size_t cap = 0;
    for (int k = 0; k < nsrc; k++)
        cap += src[k].run.matrix.n;
    ms_bench_run run;
    memset(&run, 0, sizeof run);
    run.run_id = ms_bench_xstrdup(id); /* owned: ms_bench_run_free frees it */
    run.reps = reps;
    run.memstrat = "memstrat merge";
    run.matrix.cells = ms_bench_xmalloc(cap * sizeof *run.matrix.cells);
    run.rep = ms_bench_xmalloc(cap * (size_t)reps * sizeof *run.rep);
    int *from = ms_bench_xmalloc(cap * sizeof *from);
    for (int k = 0; k < nsrc; k++) {
        ms_bench_run *r = &src[k].run;
        for (size_t i = 0; i < r->matrix.n; i++) {
            size_t j = 0;
            while (j < run.matrix.n && strcmp(run.matrix.cells[j].name, r->matrix.cells[i].name))
                j++;
            if (j < run.matrix.n) {
                fprintf(stderr, "memstrat merge: warning: %s is in %s and %s; kept the first\n",
                        r->matrix.cells[i].name, src[from[j]].dir, src[k].dir);
                continue;
            }
            /* move the cell and its repetitions: the source run no longer owns them */
            run.matrix.cells[j] = r->matrix.cells[i];
            memset(&r->matrix.cells[i], 0, sizeof r->matrix.cells[i]);
            for (int q = 1; q <= reps; q++) {
                *ms_bench_rep_at(&run, j, q) = *ms_bench_rep_at(r, i, q);
                memset(ms_bench_rep_at(r, i, q), 0, sizeof(ms_bench_rep));
            }
            from[j] = k;
            run.matrix.n++;
        }
    }
    /* earliest start and latest finish of the sources: the span the numbers were taken in */
    const char *first = "", *last = "";
    for (int k = 0; k < nsrc; k++) {
        const char *s = ms_merge_meta_str(&src[k], "started_utc", NULL);
        const char *f = ms_merge_meta_str(&src[k], "finished_utc", NULL);
        if (*s && (!*first || strcmp(s, first) < 0))
            first = s;
        if (*f && strcmp(f, last) > 0)
            last = f;
    }
    snprintf(run.started_utc, sizeof run.started_utc, "%s", first);
    snprintf(run.finished_utc, sizeof run.finished_utc, "%s", last);

    char *final = ms_bench_xprintf("%s/%s", out, id);
    char *tmp = ms_bench_xprintf("%s/.tmp-%s", out, id);
    run.dir = tmp;
    int rc = 0;
    static const char *const subdirs[] = {"json", "timeline", "pauses", "latency", "plots", "logs",
                                          NULL};
    if (ms_bench_mkdir_p(out) != 0 || mkdir(tmp, 0755) != 0) {
        fprintf(stderr, "memstrat merge: cannot create %s: %s\n", tmp, strerror(errno));
        free(final), free(tmp), free(from);
        ms_bench_run_free(&run);
        return MS_BENCH_EXIT_FAILED;
    }
    ms_bench_signals_begin();
    for (int i = 0; rc == 0 && subdirs[i]; i++) {
        char *p = ms_bench_xprintf("%s/%s", tmp, subdirs[i]);
        if (mkdir(p, 0755) != 0) {
            fprintf(stderr, "memstrat merge: cannot create %s: %s\n", p, strerror(errno));
            rc = MS_BENCH_EXIT_FAILED;
        }
        free(p);
    }
    size_t copied = 0;
    for (size_t j = 0; rc == 0 && j < run.matrix.n && !ms_bench_interrupted(); j++) {
        const char *slug = run.matrix.cells[j].slug;
        for (int q = 1; rc == 0 && q <= reps; q++) {
            for (size_t f = 0; rc == 0 && f < sizeof ms_merge_files / sizeof *ms_merge_files; f++) {
                char *a = ms_bench_xprintf("%s/%s/%s.rep%d%s", src[from[j]].dir,
                                           ms_merge_files[f].dir, slug, q, ms_merge_files[f].suffix);
                char *b = ms_bench_xprintf("%s/%s/%s.rep%d%s", tmp, ms_merge_files[f].dir, slug, q,
                                           ms_merge_files[f].suffix);
                if (ms_bench_exists(a)) {
                    if (ms_merge_copy(a, b) != 0) {
                        fprintf(stderr, "memstrat merge: cannot copy %s to %s: %s\n", a, b,
                                strerror(errno));
                        rc = MS_BENCH_EXIT_FAILED;
                    }
                    copied++;
                }
                free(a);
                free(b);
            }
        }
    }
    char *matrix_tmp = ms_bench_xprintf("%s/matrix.txt", tmp);
    char *abs_out = realpath(out, NULL);
    char *matrix_final = ms_bench_xprintf("%s/%s/matrix.txt", abs_out ? abs_out : out, id);
    free(abs_out);
    if (rc == 0 && !ms_bench_interrupted()) {
        ms_sbuf mx = {0};
        ms_sbuf_printf(&mx, "# memstrat merge of %d runs\n", nsrc);
        for (size_t j = 0; j < run.matrix.n; j++)
            ms_sbuf_printf(&mx, "%s\n", run.matrix.cells[j].name);
        ms_bench_summarize(&run);
        char *res = ms_bench_xprintf("%s/results.csv", tmp);
        char *sum = ms_bench_xprintf("%s/summary.csv", tmp);
        if (ms_bench_write_atomic(matrix_tmp, mx.p, mx.len) != 0 ||
            ms_bench_write_results_csv(&run, res) != 0 || ms_bench_write_summary_csv(&run, sum) != 0)
            rc = MS_BENCH_EXIT_FAILED;
        ms_sbuf_free(&mx);
        free(res);
        free(sum);
        FILE *devnull = fopen("/dev/null", "w"); /* here only their CSVs, as bench does */
        if (rc == 0 && devnull) {
            ms_bench_churn_table(&run, tmp, devnull);
            ms_bench_collectors_table(&run, tmp, devnull);
        }
        if (devnull)
            fclose(devnull);
        run.plots_status = -1;
        if (rc == 0 && !no_plots)
            run.plots_status = ms_bench_draw_plots(&run, src[0].cpu);
    }
    if (rc == 0 && !ms_bench_interrupted()) {
        cJSON *meta = ms_merge_meta(&run, src, nsrc, matrix_tmp, matrix_final);
        char *text = cJSON_Print(meta);
        char *p = ms_bench_xprintf("%s/meta.json", tmp);
        if (!text || ms_bench_write_atomic(p, text, strlen(text)) != 0) {
            fprintf(stderr, "memstrat merge: cannot write %s: %s\n", p, strerror(errno));
            rc = MS_BENCH_EXIT_FAILED;
        }
        free(p);
        cJSON_free(text);
        cJSON_Delete(meta);
    }
    int sig = ms_bench_interrupted();
    if (rc == 0 && !sig && ms_merge_publish(tmp, final) != 0)
        rc = MS_BENCH_EXIT_FAILED;
    if (rc != 0 || sig) {
        ms_bench_rm_rf(tmp);
        if (sig) {
            fprintf(stderr, "memstrat merge: interrupted by signal %d; removed %s\n", sig, tmp);
            rc = 128 + sig;
        }
    } else {
        for (int k = 1; k < nsrc; k++)
            if (strcmp(src[k].cpu, src[0].cpu))
                fprintf(stderr, "memstrat merge: warning: %s ran on '%s', %s on '%s': cells from "
                                "different machines are compared in one table\n",
                        src[0].dir, src[0].cpu, src[k].dir, src[k].cpu);
        ms_bench_print_table(&run, stdout);
        printf("merged: %d runs, %zu cells x %d reps, %zu files copied -> %s\n", nsrc, run.matrix.n,
               reps, copied, final);
        if (run.plots_status > 0)
            rc = MS_BENCH_EXIT_FAILED;
    }
    ms_bench_signals_end();
    ms_bench_run_free(&run);
    free(matrix_tmp), free(matrix_final), free(final), free(tmp), free(from);
    return rc;
}

/* Entry point (harness/main.c): options, step 1 for every input, then the merge. */
int ms_merge_main(int argc, char **argv)
{
    const char *out = "results", *id_opt = NULL;
    int no_plots = 0;
    const char **dirs = ms_bench_xmalloc((size_t)argc * sizeof *dirs);
    int ndirs = 0, rc = 0;
    for (int i = 1; i < argc && rc == 0; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(ms_merge_usage, stdout);
            free(dirs);
            return MS_BENCH_EXIT_OK;
        } else if (!strcmp(a, "--out") || !strcmp(a, "--run-id")) {
            if (i + 1 >= argc || !argv[i + 1][0])
                rc = ms_usage_error("merge", "option '%s' needs a value", a);
            else if (!strcmp(a, "--out"))
                out = argv[++i];
            else
                id_opt = argv[++i];
        } else if (!strcmp(a, "--no-plots")) {
            no_plots = 1;
        } else if (!strncmp(a, "--", 2)) {
            rc = ms_usage_error("merge", "unknown option '%s' (see memstrat merge --help)", a);
        } else {
            dirs[ndirs++] = a;
        }
    }
    if (rc == 0 && ndirs == 0)
        rc = ms_usage_error("merge", "no run directory given");
    char *id = NULL;
    if (rc == 0) {
        if (id_opt) {
            id = ms_bench_xstrdup(id_opt);
        } else {
            time_t now = time(NULL);
            struct tm tm;
            char stamp[40];
            gmtime_r(&now, &tm);
            strftime(stamp, sizeof stamp, "merged-%Y%m%d-%H%M%S", &tm);
            id = ms_bench_xstrdup(stamp);
        }
        if (!ms_run_id_ok(id))
            rc = ms_usage_error("merge", "bad run id '%s': use letters, digits, '-', '_', '.' (not leading "
                                "'.' or '-', not 'latest')", id);
    }
    char *final = id ? ms_bench_xprintf("%s/%s", out, id) : NULL;
    char *tmp = id ? ms_bench_xprintf("%s/.tmp-%s", out, id) : NULL;
    if (rc == 0 && ms_bench_exists(final))
        rc = ms_usage_error("merge", "%s already exists; refusing to overwrite it (choose another --run-id)",
                            final);
    if (rc == 0 && ms_bench_exists(tmp))
        rc = ms_usage_error("merge", "%s exists: another merge with this id, or a crashed one (remove it)",
                            tmp);
    ms_merge_src *src = ms_bench_xmalloc((size_t)(ndirs ? ndirs : 1) * sizeof *src);
    memset(src, 0, (size_t)(ndirs ? ndirs : 1) * sizeof *src);
    int loaded = 0;
    for (int k = 0; rc == 0 && k < ndirs; k++) {
        rc = ms_merge_load(&src[k], dirs[k]);
        loaded = k + 1;
        for (int j = 0; rc == 0 && j < k; j++)
            if (!strcmp(src[j].real, src[k].real))
                rc = ms_usage_error("merge", "%s is given twice (as %s and %s)", src[k].real, dirs[j],
                                    dirs[k]);
        if (rc == 0 && src[k].run.reps != src[0].run.reps)
            rc = ms_usage_error("merge", "%s has %d repetitions per cell, %s has %d: merge runs made "
                                "with the same --reps",
                                dirs[0], src[0].run.reps, dirs[k], src[k].run.reps);
    }
    if (rc == 0)
        rc = ms_merge_write(src, ndirs, out, id, no_plots);
    for (int k = 0; k < loaded; k++) {
        ms_bench_run_free(&src[k].run);
        free(src[k].cpu);
        free(src[k].real);
        cJSON_Delete(src[k].meta);
    }
    free(src);
    free(final);
    free(tmp);
    free(id);
    free(dirs);
    return rc;
}
