/* bench_meta.c — meta.json: what a run needs so that its numbers can be compared later.
 *
 * Contract: ms_bench_meta_build() returns a cJSON object with run_id, started/finished UTC,
 * git commit + dirty flag of MS_SOURCE_DIR ("unknown"/null when git fails), compiler, flags and
 * build type of this binary, library versions (Debian package versions via dpkg-query,
 * "absent" when not installed; cJSON also from its header), the machine (CPU model, cores,
 * memory, kernel, hostname), Google Benchmark's context, the matrix (path and cells),
 * repetitions, failures and CV warnings. Nothing here fails a run: a fact it cannot learn is
 * recorded as "unknown".
 */
#include "bench.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

/* Length of a full git commit id in hex. */
#define MS_GIT_SHA_LEN 40

/* Libraries whose version changes what a cell measures, with the Debian package that ships
 * each (the -dev package: it is what the build saw). */
static const struct {
    const char *name, *package;
} ms_meta_libs[] = {
    {"google_benchmark", "libbenchmark-dev"}, {"cjson", "libcjson-dev"},
    {"jemalloc", "libjemalloc-dev"},          {"mimalloc", "libmimalloc-dev"},
    {"libgc", "libgc-dev"},                   {"python3.11", "libpython3.11-dev"},
    {"gnuplot", "gnuplot-nox"},
};

/* Commit of the source tree, so a result can be traced to the code that produced it;
 * *dirty is 1/0, or -1 when unknown. Returns "unknown" when git cannot tell. */
char *ms_bench_git_commit(int *dirty)
{
    char *q = ms_bench_shell_quote(MS_SOURCE_DIR);
    char *cmd = ms_bench_xprintf("git -C %s rev-parse HEAD 2>/dev/null", q);
    int st;
    char *sha = ms_bench_popen_read(cmd, &st);
    free(cmd);
    int ok = sha && st == 0 && strlen(sha) == MS_GIT_SHA_LEN;
    for (size_t i = 0; ok && sha[i]; i++)
        ok = isxdigit((unsigned char)sha[i]);
    *dirty = -1;
    if (!ok) {
        free(sha);
        free(q);
        return ms_bench_xstrdup("unknown");
    }
    cmd = ms_bench_xprintf("git -C %s status --porcelain 2>/dev/null", q);
    char *porcelain = ms_bench_popen_read(cmd, &st);
    if (porcelain && st == 0)
        *dirty = porcelain[0] != '\0';
    free(porcelain);
    free(cmd);
    free(q);
    return sha;
}

/* Value of the first "key : value" line of a /proc file, or NULL. */
static char *ms_proc_field(const char *path, const char *key)
{
    char *text;
    if (ms_bench_read_file(path, &text, NULL) != 0)
        return NULL;
    size_t klen = strlen(key);
    char *found = NULL;
    for (char *line = text; line && *line && !found;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (strncmp(line, key, klen) == 0 && (line[klen] == ':' || isspace((unsigned char)line[klen]))) {
            char *v = strchr(line + klen, ':');
            if (v) {
                v++;
                while (isspace((unsigned char)*v))
                    v++;
                size_t n = strlen(v);
                while (n > 0 && isspace((unsigned char)v[n - 1]))
                    v[--n] = '\0';
                found = ms_bench_xstrdup(v);
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    free(text);
    return found;
}

/* The CPU model names the machine in plot titles and in meta.json. */
char *ms_bench_cpu_model(void)
{
    static const char *const keys[] = {"model name", "Model", "Hardware", "cpu model", NULL};
    for (int i = 0; keys[i]; i++) {
        char *v = ms_proc_field("/proc/cpuinfo", keys[i]);
        if (v && *v)
            return v;
        free(v);
    }
    return ms_bench_xstrdup("unknown CPU");
}

/* Installed version of a Debian package: "absent" when it is not installed, "unknown" when
 * dpkg-query cannot be asked. */
static char *ms_pkg_version(const char *pkg)
{
    char *cmd = ms_bench_xprintf("dpkg-query -W -f='${db:Status-Abbrev}|${Version}' %s 2>/dev/null",
                                 pkg);
    int st;
    char *out = ms_bench_popen_read(cmd, &st);
    free(cmd);
    char *res;
    if (st == 0 && out && strlen(out) >= 2 && out[1] == 'i' && strchr(out, '|') &&
        strchr(out, '|')[1])
        res = ms_bench_xstrdup(strchr(out, '|') + 1);
    else if (st == 0 || st == 1)
        res = ms_bench_xstrdup("absent");
    else
        res = ms_bench_xstrdup("unknown");
    free(out);
    return res;
}

/* Versions of the libraries a result depends on (see ms_meta_libs). */
static cJSON *ms_meta_libraries(void)
{
    cJSON *libs = cJSON_CreateObject();
    for (size_t i = 0; i < sizeof ms_meta_libs / sizeof *ms_meta_libs; i++) {
        cJSON *o = cJSON_AddObjectToObject(libs, ms_meta_libs[i].name);
        cJSON_AddStringToObject(o, "package", ms_meta_libs[i].package);
        char *v = ms_pkg_version(ms_meta_libs[i].package);
        cJSON_AddStringToObject(o, "version", v);
        free(v);
        if (!strcmp(ms_meta_libs[i].name, "cjson")) {
            char hdr[32];
            snprintf(hdr, sizeof hdr, "%d.%d.%d", CJSON_VERSION_MAJOR, CJSON_VERSION_MINOR,
                     CJSON_VERSION_PATCH);
            cJSON_AddStringToObject(o, "header_version", hdr);
        }
    }
    return libs;
}

/* The machine: results from different machines must not be compared unawares. */
static cJSON *ms_meta_machine(void)
{
    cJSON *m = cJSON_CreateObject();
    char *cpu = ms_bench_cpu_model();
    cJSON_AddStringToObject(m, "cpu_model", cpu);
    free(cpu);
    cJSON_AddNumberToObject(m, "cores", (double)sysconf(_SC_NPROCESSORS_ONLN));
    char *mem = ms_proc_field("/proc/meminfo", "MemTotal");
    if (mem)
        cJSON_AddNumberToObject(m, "mem_total_mb", floor(strtod(mem, NULL) / 1024.0));
    else
        cJSON_AddStringToObject(m, "mem_total_mb", "unknown");
    free(mem);
    struct utsname u;
    if (uname(&u) == 0) {
        char *k = ms_bench_xprintf("%s %s %s %s", u.sysname, u.release, u.version, u.machine);
        cJSON_AddStringToObject(m, "kernel", k);
        free(k);
    } else {
        cJSON_AddStringToObject(m, "kernel", "unknown");
    }
    char host[HOST_NAME_MAX + 1] = "unknown";
    if (gethostname(host, sizeof host) != 0)
        strcpy(host, "unknown");
    host[HOST_NAME_MAX] = '\0';
    cJSON_AddStringToObject(m, "hostname", host);
    return m;
}

/* Everything that identifies the run; see the contract at the top. */
cJSON *ms_bench_meta_build(const ms_bench_run *run, const char *matrix_path)
{
    cJSON *meta = cJSON_CreateObject();
    cJSON_AddStringToObject(meta, "run_id", run->run_id);
    cJSON_AddStringToObject(meta, "started_utc", run->started_utc);
    cJSON_AddStringToObject(meta, "finished_utc", run->finished_utc);

    cJSON *git = cJSON_AddObjectToObject(meta, "git");
    int dirty;
    char *sha = ms_bench_git_commit(&dirty);
    cJSON_AddStringToObject(git, "commit", sha);
    free(sha);
    if (dirty < 0)
        cJSON_AddNullToObject(git, "dirty");
    else
        cJSON_AddBoolToObject(git, "dirty", dirty);

    cJSON *build = cJSON_AddObjectToObject(meta, "build");
    cJSON_AddStringToObject(build, "compiler", MS_C_COMPILER);
    cJSON_AddStringToObject(build, "flags", MS_C_FLAGS);
    cJSON_AddStringToObject(build, "build_type", MS_BUILD_TYPE);
    cJSON_AddStringToObject(build, "source_dir", MS_SOURCE_DIR);
    cJSON_AddStringToObject(build, "memstrat", run->memstrat);

    cJSON_AddItemToObject(meta, "libraries", ms_meta_libraries());
    cJSON_AddItemToObject(meta, "machine", ms_meta_machine());
    if (run->context)
        cJSON_AddItemToObject(meta, "gbench_context", cJSON_Duplicate(run->context, 1));

    cJSON *matrix = cJSON_AddObjectToObject(meta, "matrix");
    char *abs = realpath(matrix_path, NULL);
    cJSON_AddStringToObject(matrix, "path", abs ? abs : matrix_path);
    free(abs);
    cJSON *cells = cJSON_AddArrayToObject(matrix, "cells");
    for (size_t i = 0; i < run->matrix.n; i++)
        cJSON_AddItemToArray(cells, cJSON_CreateString(run->matrix.cells[i].name));
    cJSON_AddNumberToObject(meta, "reps", run->reps);
    cJSON_AddNumberToObject(meta, "timeout_s", run->timeout_s);

    cJSON *fails = cJSON_AddArrayToObject(meta, "failures");
    for (size_t i = 0; i < run->matrix.n; i++) {
        for (int r = 1; r <= run->reps; r++) {
            const ms_bench_rep *rep = ms_bench_rep_at(run, i, r);
            if (rep->ok)
                continue;
            cJSON *f = cJSON_CreateObject();
            cJSON_AddStringToObject(f, "cell", run->matrix.cells[i].name);
            cJSON_AddNumberToObject(f, "rep", r);
            cJSON_AddStringToObject(f, "error", rep->error ? rep->error : "?");
            cJSON_AddItemToArray(fails, f);
        }
    }
    cJSON *cv = cJSON_AddArrayToObject(meta, "cv_warnings");
    for (size_t i = 0; i < run->matrix.n; i++) {
        if (!(run->sum[i].time_cv_pct > MS_BENCH_CV_WARN_PCT))
            continue;
        cJSON *w = cJSON_CreateObject();
        cJSON_AddStringToObject(w, "cell", run->matrix.cells[i].name);
        cJSON_AddNumberToObject(w, "time_cv_pct", run->sum[i].time_cv_pct);
        cJSON_AddItemToArray(cv, w);
    }
    cJSON_AddNumberToObject(meta, "cv_warn_pct", MS_BENCH_CV_WARN_PCT);
    cJSON_AddStringToObject(meta, "plots", run->plots_status == 0   ? "drawn"
                                           : run->plots_status > 0 ? "failed"
                                                                   : "skipped");
    return meta;
}
