/* test_probe.c — the harness's strict reader of the probe's lines (harness/run_cpython.c,
 * tools/twins/PROTOCOL.md) and the registry facts of the `cpython` strategy.
 *
 * Contract checked: a well-formed run fills the measurement as a model's observer
 * would (pauses into the histograms and per generation, latencies, gc counts per
 * generation, ops, counters, times, python_version, malloc_impl) and is complete;
 * each kind of broken line is refused with a reason naming what is wrong; a run
 * that lacks a record, or whose interpreter is not the cell's (version, malloc),
 * is not complete. The `cpython` entry: interpreter flag, 3 generations,
 * pre-header 16; mm_heap_new refuses it; the `script` workload's run() refuses.
 */
#include <string.h>

#include "check.h"
#include "run_cpython.h"

/* Times of the fake run: the child starts at T_START, begins 1 ms later, and
 * every line is read at T_NOW. */
#define T_START 1000000000ull
#define T_BEGIN (T_START + 1000000ull)
#define T_NOW (T_START + 5000000000ull)

/* A cpython cell built by hand (no files looked at): reclaim cpython, the given
 * allocator, python=3.11. */
static void make_cell(ms_cell_run *cr, const char *allocator, const char *python) {
    memset(cr, 0, sizeof *cr);
    ms_cell *c = &cr->cell;
    snprintf(c->spec, sizeof c->spec, "ring/cpython/%s/slots", allocator);
    c->workload = wl_find("ring");
    mm_component_find(MM_AXIS_RECLAIM, "cpython", &c->reclaim);
    mm_component_find(MM_AXIS_ALLOCATOR, allocator, &c->allocator);
    mm_component_find(MM_AXIS_LAYOUT, "slots", &c->layout);
    mm_knobset_put(&c->knobs, "python", python);
    snprintf(c->interp, sizeof c->interp, "/usr/bin/python%s", python);
}

/* Feeds lines (NULL-terminated) to a fresh reader; returns the line number of the
 * first refused one (its reason in why), or 0 when all were taken. */
static int feed(ms_cell_run *cr, ms_measurement *m, ms_probe *p, const char *const *lines, char *why, size_t whylen) {
    memset(p, 0, sizeof *p);
    p->start_ns = T_START;
    if (!ms_recorders_new(cr, m)) return -1;
    for (int i = 0; lines[i]; i++)
        if (!ms_probe_line(p, m, lines[i], T_NOW, why, whylen)) return i + 1;
    return 0;
}

static const char *const good[] = {
    "memstrat-probe 1",
    "python 3.11.2",
    "malloc libc.so.6",
    "begin 1001000000",
    "pause 1002000000 1500 0 10 0",
    "pause 1003000000 25000 2 7 1",
    "pause 1004000000 3000 0 0 0",
    "latency 120000 150000",
    "end 1501000000",
    "ops 300000",
    "counter nodes 300000",
    "counter hit_rate 0.25",
    "gc 0 2 10 0",
    "gc 1 0 0 0",
    "gc 2 1 7 1",
    "rss_peak 25165824",
    "done",
    NULL,
};

static void test_good_run(void) {
    ms_cell_run cr;
    ms_measurement m;
    ms_probe p;
    char why[600] = "";
    make_cell(&cr, "pymalloc", "3.11");
    int bad = feed(&cr, &m, &p, good, why, sizeof why);
    CHECK(bad == 0, "line %d refused: %s", bad, why);
    CHECK(p.done && !p.failed, "done %d failed %d", p.done, p.failed);
    CHECK(m.python_version == 311, "python_version %d", m.python_version);
    CHECK(m.malloc_code == MM_MALLOC_GLIBC, "malloc_code %d", m.malloc_code);
    CHECK(m.t0 == T_BEGIN && m.t1 == 1501000000ull, "t0 %llu t1 %llu", (unsigned long long)m.t0,
          (unsigned long long)m.t1);
    CHECK(ms_hist_count(m.pauses.all) == 3 && ms_hist_max(m.pauses.all) == 25000, "pauses %llu max %llu",
          (unsigned long long)ms_hist_count(m.pauses.all), (unsigned long long)ms_hist_max(m.pauses.all));
    CHECK(ms_hist_count(m.pauses.per_gen[0]) == 2 && ms_hist_count(m.pauses.per_gen[1]) == 0 &&
              ms_hist_count(m.pauses.per_gen[2]) == 1, "per generation");
    CHECK(ms_pause_log_len(m.pauses.log) == 3 && ms_pause_log_at(m.pauses.log, 1)->generation == 2 &&
              ms_pause_log_at(m.pauses.log, 1)->collected == 7, "pause log");
    CHECK(ms_hist_count(m.latency.simple) == 1 && ms_hist_max(m.latency.metered) == 150000, "latency");
    CHECK(m.r.ops == 300000 && m.r.ncounters == 2 && strcmp(m.r.counters[1].name, "hit_rate") == 0 &&
              m.r.counters[1].value == 0.25, "ops %g, %d counters", m.r.ops, m.r.ncounters);
    CHECK(m.before.collections[0] == 2 && m.before.collections[2] == 1 && m.before.collected == 17 &&
              m.before.uncollectable == 1, "gc counts");
    CHECK(m.rss_peak == 25165824, "rss_peak %llu", (unsigned long long)m.rss_peak);
    CHECK(ms_probe_complete(&p, &cr.cell, &m, why, sizeof why), "not complete: %s", why);
    ms_measurement_free(&m);
}

/* Each line replaces the good run's line `at` (1-based) or, with at 0, goes after
 * `begin`; it must be refused at that line, with `want` in the reason. */
static const struct {
    int at;
    const char *line, *want;
} broken[] = {
    {1, "memstrat-probe 2", "memstrat-probe 1"},
    {1, "python 3.11.2", "memstrat-probe 1"},
    {2, "python three", "python X.Y.Z"},
    {3, "malloc /usr/lib/libc.so.6", "base name"},
    {4, "begin 5", "not a time.monotonic_ns()"},
    {4, "begin 1001000000 ", "expected begin T"},
    {4, "begin -1001000000", "expected begin T"},
    {4, "pause 1002000000 1500 0 10 0", "before 'begin'"},
    {0, "pause 1002000000 1500 0 10", "pause T D G C U"},
    {0, "pause 1002000000  1500 0 10 0", "pause T D G C U"},
    {0, "pause 1002000000 1500 3 10 0", "generation 3"},
    {0, "pause 99999999999999999999 1 0 0 0", "pause T D G C U"},
    {0, "pause 900000000 1500 0 10 0", "not within this run"},
    {0, "pause 1002000000 99000000000 0 10 0", "not within this run"},
    {0, "latency 1", "latency S M"},
    {0, "begin 1001000000", "given twice"},
    {0, "end 1000500000", "'end' before 'begin'"},
    {0, "ops -3", "ops X"},
    {0, "ops nan", "ops X"},
    {0, "ops 1e999", "ops X"},
    {0, "counter Nodes 1", "counter NAME X"},
    {0, "counter nodes", "counter NAME X"},
    {0, "counter nodes 0x10", "counter NAME X"},
    {12, "counter nodes 7", "given twice"},
    {0, "gc 3 1 1 1", "generation 3"},
    {14, "gc 0 1 1 1", "given twice"},
    {0, "rss_peak 12 MB", "rss_peak B"},
    {0, "error", "error MESSAGE"},
    {0, "done now", "done alone"},
    {0, "", "not a record"},
    {0, "Pause 1 2 0 0 0", "not a record"},
    {17, "done", NULL}, /* the good run's own done: accepted; a record after it is refused below */
};

static void test_broken_lines(void) {
    ms_cell_run cr;
    make_cell(&cr, "pymalloc", "3.11");
    for (size_t k = 0; k < sizeof broken / sizeof broken[0]; k++) {
        const char *lines[40];
        int n = 0, at = broken[k].at ? broken[k].at : 5;
        for (int i = 0; good[i] && n < 38; i++) {
            if (i + 1 == at) lines[n++] = broken[k].line;
            if (i + 1 != broken[k].at) lines[n++] = good[i];
        }
        lines[n] = NULL;
        ms_measurement m;
        ms_probe p;
        char why[600] = "";
        int bad = feed(&cr, &m, &p, lines, why, sizeof why);
        if (broken[k].want == NULL) CHECK(bad == 0, "'%s': refused at %d: %s", broken[k].line, bad, why);
        else CHECK(bad == at && strstr(why, broken[k].want) != NULL, "'%s': refused at line %d (want %d): '%s'",
                   broken[k].line, bad, at, why);
        if (bad == 0) {
            CHECK(!ms_probe_line(&p, &m, "ops 1", T_NOW, why, sizeof why) && strstr(why, "after 'done'"),
                  "a record after done: '%s'", why);
        }
        ms_measurement_free(&m);
    }
}

/* A run that lacks a record, or ran on another interpreter or malloc, is not complete. */
static void test_incomplete(void) {
    static const struct {
        const char *drop, *allocator, *python, *want;
    } cases[] = {
        {"rss_peak", "pymalloc", "3.11", "no 'rss_peak'"},
        {"gc 1", "pymalloc", "3.11", "no 'gc 1'"},
        {"ops", "pymalloc", "3.11", "no 'ops'"},
        {"malloc", "pymalloc", "3.11", "no 'malloc'"},
        {NULL, "jemalloc", "3.11", "malloc comes from libc.so.6"},
        {NULL, "pymalloc", "3.1", "reports Python 3.11.2"},
        {NULL, "pymalloc", "3.12", "reports Python 3.11.2"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        ms_cell_run cr;
        make_cell(&cr, cases[k].allocator, cases[k].python);
        const char *lines[40];
        int n = 0;
        for (int i = 0; good[i]; i++)
            if (cases[k].drop == NULL || strncmp(good[i], cases[k].drop, strlen(cases[k].drop)) != 0 ||
                (good[i][strlen(cases[k].drop)] != ' ' && good[i][strlen(cases[k].drop)] != '\0'))
                lines[n++] = good[i];
        lines[n] = NULL;
        ms_measurement m;
        ms_probe p;
        char why[600] = "";
        int bad = feed(&cr, &m, &p, lines, why, sizeof why);
        CHECK(bad == 0, "case %zu: line %d refused: %s", k, bad, why);
        CHECK(!ms_probe_complete(&p, &cr.cell, &m, why, sizeof why) && strstr(why, cases[k].want),
              "case %zu: complete, or '%s' lacks '%s'", k, why, cases[k].want);
        ms_measurement_free(&m);
    }
}

/* The registry's facts, and the two refusals outside an interpreter. */
static void test_registry(void) {
    mm_component c;
    CHECK(mm_component_find(MM_AXIS_RECLAIM, "cpython", &c) && c.interpreter && c.has_collector &&
              c.generations == 3 && c.preheader == 16 && strcmp(c.pause_kinds, "gen0 gen1 gen2") == 0,
          "cpython's component view");
    CHECK(mm_component_find(MM_AXIS_RECLAIM, "rc+gen", &c) && !c.interpreter, "rc+gen is no interpreter");
    char err[300] = "";
    CHECK(mm_heap_new_named("cpython", "system", "slots", NULL, err, sizeof err) == NULL &&
              strstr(err, "runs in an interpreter"), "mm_heap_new: '%s'", err);
    const mm_workload *w = wl_find("script");
    wl_result r = {0};
    CHECK(w && w->interpreter && !w->run(NULL, NULL, &r, err, sizeof err) && strstr(err, "only in an interpreter"),
          "script's run: '%s'", err);
    CHECK(wl_find("ring") && !wl_find("ring")->interpreter, "ring is no interpreter's");
}

int main(void) {
    test_good_run();
    test_broken_lines();
    test_incomplete();
    test_registry();
    return check_summary();
}
