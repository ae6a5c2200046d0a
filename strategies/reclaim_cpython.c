/* reclaim_cpython.c — `cpython`: the real interpreter, beside the models.
 *
 * Contract: this entry makes no heap. A `cpython` cell runs its workload's Python
 * twin (tools/twins/<workload>.py), or the user's script, in an interpreter that
 * `memstrat run` starts and measures from outside (harness/run_cpython.c, under the
 * contract of tools/twins/PROTOCOL.md). The entry is here so that the strategy is
 * one registry line like every other: its name, knobs and facts reach `memstrat
 * list [--json]` and the cell parser through the same component view, and its
 * `interpreter` flag tells the harness to measure a child instead of a heap.
 * mm_heap_new refuses it with one line.
 *
 * policy=pressure is refused (cpython_check says why): its knobs are not declared.
 *
 * Facts: CPython's PyGC_Head is 16 bytes (two links with gc_refs and flags in their
 * low bits), 3 generations, pauses reported by gc.callbacks per generation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strategy.h"

/* The oldest interpreter the probe supports: time.monotonic_ns and gc.freeze came
 * in 3.7; 3.8 is the oldest with the syntax the twins are written in. */
#define CPY_MIN_MAJOR 3
#define CPY_MIN_MINOR 8
/* Longest a child may run: a day, as `memstrat bench --timeout` allows. */
#define CPY_MAX_TIMEOUT_S 86400
/* Highest threshold accepted, as rc+gen's gc= takes (gc.set_threshold takes C ints). */
#define CPY_MAX_THRESHOLD 1000000000L

static const mm_knob_desc cpython_knobs[] = {
    {"python", MM_KNOB_STRING, "3.11", 0, 0,
     "interpreter: 3.11 (/usr/bin/python3.11) | X.Y (pythonX.Y on PATH, then ~/.pyenv/versions/X.Y*) | a path"},
    {"gc", MM_KNOB_STRING, "default", 0, 0,
     "thresholds: T0,T1,T2 (gc.set_threshold) | off (gc.disable) | default (the interpreter's own)"},
    MM_POLICY_KNOB_ALONE,
    {"probe", MM_KNOB_COUNT, "1", 0, 1, "1: pauses from gc.callbacks; 0: no callbacks (measures the probe's cost)"},
    {"timeout", MM_KNOB_COUNT, "600", 1, CPY_MAX_TIMEOUT_S, "seconds before the interpreter is killed (the cell fails)"},
    {0},
};

/* `gc=`: off, default, or three thresholds T0,T1,T2 (non-negative). */
static bool gc_ok(const char *v) {
    if (strcmp(v, "off") == 0 || strcmp(v, "default") == 0) return true;
    for (int i = 0; i < 3; i++) {
        char *end;
        if (*v < '0' || *v > '9') return false;
        long t = strtol(v, &end, 10);
        if (t > CPY_MAX_THRESHOLD || *end != (i < 2 ? ',' : '\0')) return false;
        v = end + 1;
    }
    return true;
}

/* `python=`: a path (it has a '/'; the harness checks the file), or X.Y no older
 * than the probe's floor; the harness resolves X.Y to an installed interpreter. */
static bool python_ok(const char *v, char *err, size_t errlen) {
    if (strchr(v, '/') != NULL) return true;
    static const char digits[] = "0123456789";
    size_t a = strspn(v, digits), b = a && v[a] == '.' ? strspn(v + a + 1, digits) : 0;
    if (a == 0 || a > 3 || v[a] != '.' || b == 0 || b > 3 || v[a + 1 + b] != '\0') {
        snprintf(err, errlen, "knob 'python': '%s' is not a version X.Y (3.11, 3.13) or a path", v);
        return false;
    }
    int major = atoi(v), minor = atoi(v + a + 1);
    if (major < CPY_MIN_MAJOR || (major == CPY_MIN_MAJOR && minor < CPY_MIN_MINOR)) {
        snprintf(err, errlen, "knob 'python': %s is older than the probe supports (%d.%d or later)", v, CPY_MIN_MAJOR,
                 CPY_MIN_MINOR);
        return false;
    }
    return true;
}

/* The CLI's early check: the syntax of every knob (the files are the harness's). */
static bool cpython_check(const mm_knobset *ks, char *err, size_t errlen) {
    const char *gc = mm_knob_str(ks, "gc");
    if (!gc_ok(gc)) {
        snprintf(err, errlen, "knob 'gc': '%s' is not T0,T1,T2 (non-negative), off or default", gc);
        return false;
    }
    if (!python_ok(mm_knob_str(ks, "python"), err, errlen)) return false;
    /* policy=pressure counts the heap's allocations; CPython offers no hook on
     * every allocation short of tracemalloc or a profiler, which would cost more
     * than the twin's own work, so there is no faithful twin of it. */
    if (strcmp(mm_knob_str(ks, "policy"), "pressure") == 0) {
        snprintf(err, errlen, "knob 'policy': pressure is not available under cpython (no per-allocation hook to "
                              "check RSS every pressure_check allocations)");
        return false;
    }
    return mm_policy_check(ks, err, errlen);
}

const mm_strategy mm_strategy_cpython = {
    .name = "cpython",
    .summary = "the real interpreter (python=) running the workload's Python twin, or script=, in a child process",
    .knobs = cpython_knobs,
    .preheader = 16,
    .has_collector = true,
    .generations = 3,
    .pause_kinds = "gen0 gen1 gen2",
    .interpreter = true,
    .check = cpython_check,
};
