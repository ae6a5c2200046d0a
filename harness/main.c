/* main.c — the `memstrat` command: list | run | bench | compare | tune | merge | gcscan.
 *
 * Contract: bad input (unknown subcommand, strategy, workload, knob, bad number)
 * gets one line on stderr naming the problem and exit status 2; a failed cell
 * exits 1; success 0.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "gc_scan.h"
#include "malloc_select.h"
#include "registry.h"
#include "run.h"
#include "workload.h"

static void print_knobs(const mm_knob_desc *knobs) {
    char buf[96];
    for (const mm_knob_desc *d = knobs; d && d->name; d++) {
        snprintf(buf, sizeof buf, "%s=%s", d->name, d->default_value);
        printf("      %-22s %s\n", buf, d->help);
    }
}

/* `memstrat list`: everything a cell can name, with knobs and defaults. */
static int cmd_list(void) {
    printf("strategies (reclaim):\n");
    for (int i = 0; mm_strategies[i]; i++) {
        printf("  %-10s %s (pre-header %zu B)\n", mm_strategies[i]->name, mm_strategies[i]->summary,
               mm_strategies[i]->preheader);
        print_knobs(mm_strategies[i]->knobs);
    }
    printf("allocators:\n");
    for (int i = 0; mm_allocators[i]; i++) {
        printf("  %-10s %s\n", mm_allocators[i]->name, mm_allocators[i]->summary);
        print_knobs(mm_allocators[i]->knobs);
    }
    printf("layouts:\n");
    for (int i = 0; mm_layouts[i]; i++) {
        printf("  %-10s %s\n", mm_layouts[i]->name, mm_layouts[i]->summary);
        print_knobs(mm_layouts[i]->knobs);
    }
    printf("workloads:\n");
    for (int i = 0; wl_workloads[i]; i++) {
        printf("  %-10s %s\n", wl_workloads[i]->name, wl_workloads[i]->summary);
        print_knobs(wl_workloads[i]->knobs);
    }
    printf("\ncell: workload/reclaim/allocator/layout[/knob=value...]  e.g. ring/rc/system/slots/n=100000\n");
    return 0;
}

static void usage(FILE *out) {
    fprintf(out, "usage: memstrat list\n"
                 "       memstrat run CELL... [--ms_timeline=FILE] [--ms_pauses=FILE] [--benchmark_* flags]\n"
                 "       memstrat bench [--matrix FILE] [--reps N] [--quick] [--out DIR] [--run-id ID] [--no-plots]\n"
                 "       memstrat bench --plots-only RUN_DIR\n"
                 "       memstrat compare RUN_A RUN_B [--alpha P] [--noise-floor PCT] [--csv FILE]\n"
                 "       memstrat tune CELL --grid gen0=100..20000 gen1=2..50 [--points K] [--reps R] [--goal GOAL]\n"
                 "                     [--out DIR] [--run-id ID] [--emit-jobs | --from RUN_DIR]\n"
                 "       memstrat merge RUN_DIR... [--out DIR] [--run-id ID] [--no-plots]\n"
                 "       memstrat gcscan [--n N] [--reps R] [--shapes list,tree] [--alloc NAME] [--cpython PY|none] [--out F]\n"
                 "a CELL is workload/reclaim/allocator/layout[/knob=value...], e.g. list/rc/system/slots/n=100000\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "list") == 0) return cmd_list();
    if (strcmp(cmd, "run") == 0) {
        /* Before anything is measured: the process may start again on another malloc. */
        int st = ms_malloc_select(argc, argv);
        return st >= 0 ? st : ms_run_main(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "compare") == 0) return ms_compare_main(argc - 1, argv + 1);
    if (strcmp(cmd, "gcscan") == 0) return ms_gcscan_main(argc - 1, argv + 1);
    if (strcmp(cmd, "merge") == 0) return ms_merge_main(argc - 1, argv + 1);
    if (strcmp(cmd, "bench") == 0 || strcmp(cmd, "tune") == 0) {
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0) snprintf(self, sizeof self, "%s", argv[0]);
        else self[n] = '\0';
        return strcmp(cmd, "tune") == 0 ? ms_tune_main(argc - 1, argv + 1, self)
                                        : ms_bench_main(argc - 1, argv + 1, self);
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "memstrat: unknown command '%s' (commands: list, run, bench, compare, tune, merge, gcscan, help)\n", cmd);
    return 2;
}
