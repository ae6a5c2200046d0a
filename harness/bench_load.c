/* bench_load.c — reads a finished run directory back into an ms_bench_run.
 *
 * Contract: a run directory is what `memstrat bench` publishes: meta.json (run_id, reps,
 * matrix.cells, machine) and json/<slug>.rep<r>.json per repetition. Loading rebuilds the cells,
 * every repetition and the per-cell summary exactly as the run computed them, so plots, report,
 * compare and merge all read one thing. A missing repetition file counts as a failed
 * repetition, not an error; a missing or malformed meta.json is bad input (exit 2).
 */
#include "bench.h"

#include <stdlib.h>
#include <string.h>

/* Largest repetition count meta.json may claim; matches --reps. */
#define MS_LOAD_MAX_REPS 100

/* Rebuild what the plots need from a finished run directory: cells, repetitions and machine
 * from meta.json, the numbers from json/. Returns 0, or 2 with a message on stderr. */
int ms_bench_load_run(const char *run_dir, ms_bench_run *run, char **cpu_model)
{
    char *path = ms_bench_xprintf("%s/meta.json", run_dir), *text;
    size_t len;
    int rd = ms_bench_read_file(path, &text, &len);
    free(path);
    if (rd != 0) {
        fprintf(stderr, "memstrat: %s is not a run directory (no readable meta.json)\n",
                run_dir);
        return MS_BENCH_EXIT_USAGE;
    }
    cJSON *meta = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(meta, "run_id");
    const cJSON *reps = cJSON_GetObjectItemCaseSensitive(meta, "reps");
    const cJSON *cells = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(meta, "matrix"), "cells");
    const char *cpu = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(meta, "machine"), "cpu_model"));
    if (!cJSON_IsString(id) || !cJSON_IsNumber(reps) || reps->valuedouble < 1 ||
        reps->valuedouble > MS_LOAD_MAX_REPS || !cJSON_IsArray(cells) ||
        cJSON_GetArraySize(cells) == 0) {
        fprintf(stderr, "memstrat: %s/meta.json lacks run_id, reps or matrix.cells\n",
                run_dir);
        cJSON_Delete(meta);
        return MS_BENCH_EXIT_USAGE;
    }
    run->run_id = ms_bench_xstrdup(id->valuestring);
    run->reps = (int)reps->valuedouble;
    run->matrix.n = (size_t)cJSON_GetArraySize(cells);
    run->matrix.cells = ms_bench_xmalloc(run->matrix.n * sizeof *run->matrix.cells);
    memset(run->matrix.cells, 0, run->matrix.n * sizeof *run->matrix.cells);
    *cpu_model = ms_bench_xstrdup(cpu ? cpu : "unknown CPU");
    size_t i = 0;
    const cJSON *c;
    int rc = 0;
    cJSON_ArrayForEach(c, cells)
    {
        char err[512];
        if (!cJSON_IsString(c) ||
            ms_bench_cell_parse(c->valuestring, &run->matrix.cells[i], err, sizeof err) != 0) {
            fprintf(stderr, "memstrat: %s/meta.json: bad cell in matrix.cells\n", run_dir);
            rc = MS_BENCH_EXIT_USAGE;
            break;
        }
        i++;
    }
    cJSON_Delete(meta);
    if (rc)
        return rc;
    size_t nrep = run->matrix.n * (size_t)run->reps;
    run->rep = ms_bench_xmalloc(nrep * sizeof *run->rep);
    memset(run->rep, 0, nrep * sizeof *run->rep);
    for (i = 0; i < run->matrix.n; i++) {
        for (int r = 1; r <= run->reps; r++) {
            char *json = ms_bench_xprintf("%s/json/%s.rep%d.json", run_dir,
                                          run->matrix.cells[i].slug, r);
            ms_bench_read_rep(json, run->matrix.cells[i].name, ms_bench_rep_at(run, i, r), NULL);
            free(json);
        }
    }
    ms_bench_summarize(run);
    return 0;
}

/* Frees everything ms_bench_load_run allocated (and nothing that `dir` points to). */
void ms_bench_run_free(ms_bench_run *run)
{
    if (run->rep)
        for (size_t i = 0; i < run->matrix.n * (size_t)run->reps; i++)
            ms_bench_rep_clear(&run->rep[i]);
    free(run->rep);
    free(run->sum);
    free(run->cv_warned);
    free((char *)run->run_id);
    cJSON_Delete(run->context);
    ms_bench_matrix_free(&run->matrix);
    memset(run, 0, sizeof *run);
}
