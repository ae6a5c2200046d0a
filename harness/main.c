/* main.c — the `memstrat` command: list | run | gcscan-measure here, in C (what
 * is measured); bench | compare | tune | merge | gcscan handed to the analysis
 * package (analysis/, Python) by exec, with this binary's path in $MEMSTRAT.
 *
 * Contract: bad input (unknown subcommand, strategy, workload, knob, bad number)
 * gets one line on stderr naming the problem and exit status 2; a failed cell
 * exits 1; success 0. `list --json` is the analysis package's only source of
 * facts about components (analysis/core.py, Registry): its shape is an interface.
 * Components are read through mm.h's views (mm_component) and workload.h's table.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "gc_scan.h"
#include "malloc_select.h"
#include "mm.h"
#include "run.h"
#include "workload.h"

static void print_knobs(const mm_knob_desc *knobs) {
    char buf[96];
    for (const mm_knob_desc *d = knobs; d && d->name; d++) {
        snprintf(buf, sizeof buf, "%s=%s", d->name, d->default_value);
        printf("      %-22s %s\n", buf, d->help);
    }
}

/* Headings of the three axes of the object model, in `memstrat list`'s order. */
static const struct {
    mm_axis axis;
    const char *heading, *json_key;
} ms_axes[] = {
    {MM_AXIS_RECLAIM, "strategies (reclaim)", "strategies"},
    {MM_AXIS_ALLOCATOR, "allocators", "allocators"},
    {MM_AXIS_LAYOUT, "layouts", "layouts"},
};
#define MS_NAXES (sizeof ms_axes / sizeof ms_axes[0])

/* `memstrat list`: everything a cell can name, with knobs and defaults. */
static int cmd_list(void) {
    mm_component c;
    for (size_t a = 0; a < MS_NAXES; a++) {
        printf("%s:\n", ms_axes[a].heading);
        for (size_t i = 0; mm_component_at(ms_axes[a].axis, i, &c); i++) {
            if (c.axis == MM_AXIS_RECLAIM)
                printf("  %-10s %s (pre-header %zu B%s)\n", c.name, c.summary, c.preheader,
                       c.interpreter ? ", runs in an interpreter" : "");
            else printf("  %-10s %s\n", c.name, c.summary);
            print_knobs(c.knobs);
        }
    }
    printf("workloads:\n");
    for (int i = 0; wl_workloads[i]; i++) {
        printf("  %-10s %s%s\n", wl_workloads[i]->name, wl_workloads[i]->summary,
               wl_workloads[i]->interpreter ? " (interpreter only)" : "");
        print_knobs(wl_workloads[i]->knobs);
    }
    printf("\ncell: workload/reclaim/allocator/layout[/knob=value...]  e.g. ring/rc/system/slots/n=100000\n");
    return ferror(stdout) ? MS_EXIT_FAILED : MS_EXIT_OK;
}

/* One JSON string: the names and help texts are ours, but escape what JSON needs anyway. */
static void json_str(const char *s) {
    putchar('"');
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c < 0x20) printf("\\u%04x", c);
        else putchar(c);
    }
    putchar('"');
}

static void json_knobs(const mm_knob_desc *knobs) {
    static const char *const kinds[] = {"count", "bytes", "string"};
    printf("\"knobs\": [");
    for (const mm_knob_desc *d = knobs; d && d->name; d++) {
        printf("%s{\"name\": ", d == knobs ? "" : ", ");
        json_str(d->name);
        printf(", \"kind\": \"%s\", \"default\": ", kinds[d->kind]);
        json_str(d->default_value);
        if (d->kind != MM_KNOB_STRING) printf(", \"min\": %lld, \"max\": %lld", (long long)d->min, (long long)d->max);
        printf(", \"help\": ");
        json_str(d->help);
        putchar('}');
    }
    putchar(']');
}

/* `memstrat list --json`: what the analysis knows of the components (never their
 * names' spelling): {"build": {compiler, flags, build_type, source_dir, sanitize},
 * "strategies": [{name, summary, preheader, has_collector, generations, pause_kinds,
 * interpreter, knobs}],
 * "allocators": [{name, summary, preload_library, knobs}], "layouts": [{name,
 * summary, knobs}], "workloads": [{name, summary, interpreter, knobs}]}, each knob {name, kind,
 * default, min, max (count/bytes only), help}. Written by hand: the binary links
 * no JSON library. */
static int cmd_list_json(void) {
    printf("{\"build\": {\"compiler\": ");
    json_str(MS_C_COMPILER);
    printf(", \"flags\": ");
    json_str(MS_C_FLAGS);
    printf(", \"build_type\": ");
    json_str(MS_BUILD_TYPE);
    printf(", \"source_dir\": ");
    json_str(MS_SOURCE_DIR);
#ifdef MS_SANITIZE_BUILD
    printf(", \"sanitize\": true},\n");
#else
    printf(", \"sanitize\": false},\n");
#endif
    mm_component c;
    for (size_t a = 0; a < MS_NAXES; a++) {
        printf("%s\"%s\": [", a ? "],\n " : " ", ms_axes[a].json_key);
        for (size_t i = 0; mm_component_at(ms_axes[a].axis, i, &c); i++) {
            printf("%s\n  {\"name\": ", i ? "," : "");
            json_str(c.name);
            printf(", \"summary\": ");
            json_str(c.summary);
            if (c.axis == MM_AXIS_RECLAIM) {
                printf(", \"preheader\": %zu, \"has_collector\": %s, \"generations\": %d, \"pause_kinds\": [",
                       c.preheader, c.has_collector ? "true" : "false", c.generations);
                for (const char *k = c.pause_kinds; k && *k;) { /* its words, one string each */
                    size_t n = strcspn(k, " ");
                    printf("%s\"%.*s\"", k == c.pause_kinds ? "" : ", ", (int)n, k);
                    k += n + (k[n] == ' ');
                }
                printf("], \"interpreter\": %s", c.interpreter ? "true" : "false");
            }
            if (c.axis == MM_AXIS_ALLOCATOR) {
                printf(", \"preload_library\": ");
                if (c.preload_library) json_str(c.preload_library);
                else printf("null");
            }
            printf(", ");
            json_knobs(c.knobs);
            putchar('}');
        }
    }
    printf("],\n \"workloads\": [");
    for (int i = 0; wl_workloads[i]; i++) {
        printf("%s\n  {\"name\": ", i ? "," : "");
        json_str(wl_workloads[i]->name);
        printf(", \"summary\": ");
        json_str(wl_workloads[i]->summary);
        printf(", \"interpreter\": %s, ", wl_workloads[i]->interpreter ? "true" : "false");
        json_knobs(wl_workloads[i]->knobs);
        putchar('}');
    }
    printf("]}\n");
    return ferror(stdout) ? MS_EXIT_FAILED : MS_EXIT_OK;
}

/* The analysis package's interpreter: Debian's, which sees python3-numpy and
 * python3-scipy (a pyenv `python3` on PATH may not); $MEMSTRAT_PYTHON overrides. */
#ifndef MS_PYTHON
#define MS_PYTHON "/usr/bin/python3"
#endif

/* bench | compare | tune | merge | gcscan | system: exec `python3 -m analysis CMD ARGS...` with the
 * source tree on PYTHONPATH and this binary in $MEMSTRAT (what runs the cells). */
static int exec_analysis(int argc, char **argv) {
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) snprintf(self, sizeof self, "%s", argv[0]);
    else self[n] = '\0';
    const char *py = getenv("MEMSTRAT_PYTHON");
    if (py == NULL || *py == '\0') py = MS_PYTHON;
    setenv("MEMSTRAT", self, 1);
    const char *old = getenv("PYTHONPATH");
    char path[PATH_MAX * 2];
    snprintf(path, sizeof path, "%s%s%s", MS_SOURCE_DIR, old && *old ? ":" : "", old && *old ? old : "");
    setenv("PYTHONPATH", path, 1);
    char **args = calloc((size_t)argc + 3, sizeof *args);
    if (args == NULL) {
        fprintf(stderr, "memstrat: out of memory\n");
        return MS_EXIT_FAILED;
    }
    args[0] = (char *)py;
    args[1] = "-m";
    args[2] = "analysis";
    for (int i = 1; i < argc; i++) args[i + 2] = argv[i];
    fflush(NULL);
    execv(py, args);
    fprintf(stderr, "memstrat: cannot start the analysis interpreter %s: %s (make deps installs python3, "
                    "python3-numpy, python3-scipy; or set MEMSTRAT_PYTHON)\n", py, strerror(errno));
    free(args);
    return MS_EXIT_USAGE;
}

static void usage(FILE *out) {
    fprintf(out, "usage: memstrat list [--json]\n"
                 "       memstrat run CELL... [--ms_timeline=FILE] [--ms_pauses=FILE] [--benchmark_* flags]\n"
                 "                    [--ms_rss_period_us=N] [--ms_observe=0|1] [--ms_pin=CPU[,CPU2]]\n"
                 "       memstrat bench [--matrix FILE] [--reps N] [--quick] [--out DIR] [--run-id ID] [--no-plots]\n"
                 "                      [--warmups N] [--order interleaved|blocked] [--pin CPU[,CPU2]] [--aslr on|off]\n"
                 "                      [--rss-period-us N]\n"
                 "       memstrat bench --plots-only RUN_DIR\n"
                 "       memstrat compare RUN_A RUN_B [--alpha P] [--noise-floor PCT] [--csv FILE]\n"
                 "       memstrat tune CELL --grid gen0=100..20000 gen1=2..50 [--points K] [--reps R] [--goal GOAL]\n"
                 "                     [--out DIR] [--run-id ID] [--emit-jobs | --from RUN_DIR]\n"
                 "       memstrat merge RUN_DIR... [--out DIR] [--run-id ID] [--no-plots]\n"
                 "       memstrat gcscan [--n N] [--reps R] [--shapes list,tree] [--alloc NAME] [--cpython PY|none]\n"
                 "                       [--tools DIR] [--out F]\n"
                 "       memstrat gcscan-measure [--n N] [--reps R] [--shapes list,tree] [--alloc NAME]\n"
                 "                       (gcscan's rc+gen half: rows shape,side,n,rep,ns_per_object on stdout)\n"
                 "       memstrat system [--json]   (what on this machine can move the numbers)\n"
                 "a CELL is workload/reclaim/allocator/layout[/knob=value...], e.g. list/rc/system/slots/n=100000\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return MS_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "list") == 0) {
        if (argc == 3 && strcmp(argv[2], "--json") == 0) return cmd_list_json();
        if (argc > 2) return ms_usage_error("list", "unexpected argument '%s' (only --json)", argv[2]);
        return cmd_list();
    }
    if (strcmp(cmd, "run") == 0) {
        /* Before anything is measured: the process may start again on another malloc. */
        int st = ms_malloc_select(argc, argv);
        return st >= 0 ? st : ms_run_main(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "gcscan-measure") == 0) return ms_gcscan_measure_main(argc - 1, argv + 1);
    if (strcmp(cmd, "bench") == 0 || strcmp(cmd, "tune") == 0 || strcmp(cmd, "compare") == 0 ||
        strcmp(cmd, "merge") == 0 || strcmp(cmd, "gcscan") == 0 || strcmp(cmd, "system") == 0)
        return exec_analysis(argc, argv);
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return MS_EXIT_OK;
    }
    fprintf(stderr, "memstrat: unknown command '%s' (commands: list, run, bench, compare, tune, merge, gcscan, gcscan-measure, system, help)\n", cmd);
    return MS_EXIT_USAGE;
}
