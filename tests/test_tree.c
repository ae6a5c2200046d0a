/* test_tree.c — the `tree` workload (GCBench) against its own formulas.
 *
 * What must hold, on small depths: the nodes allocated (ops, `tree_nodes`) and
 * `trees_built` equal GCBench's formulas, computed here independently; under
 * `rc` a run without back pointers leaves nothing alive, and with `parent=1`
 * leaks exactly every tree node built (each tree is a web of cycles) while the
 * array, in no cycle, is freed; under `none` every node and the array stay,
 * with the byte count of a 2- or 3-slot Node and an 8-byte-per-item array;
 * every run returns with its roots popped; min > max is refused with one line,
 * both by run() and through `memstrat run` end to end.
 */
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "mm.h"
#include "workload.h"

/* The small cell the brief names: fast (27 046 nodes) yet every phase runs. */
#define SMALL "stretch=10/longlived=8/min=4/max=8/array=1000"
/* Nodes of SMALL worked by hand: 2047 + 511 + 2·132·31 + 2·32·127 + 2·8·511. */
#define SMALL_NODES 27046
/* Trees of SMALL: stretch + long-lived + 2·(132 + 32 + 8). */
#define SMALL_TREES 346

typedef struct tree_run {
    bool ok;
    char err[256];
    wl_result r;
    uint64_t live, bytes_allocated;
    size_t roots_left;
} tree_run;

static int64_t tree_size(int d) { return (2LL << d) - 1; }

/* GCBench's totals for the given depths, written apart from the workload's code. */
static void expected(int stretch, int longlived, int min, int max, int64_t *nodes, int64_t *trees) {
    *nodes = tree_size(stretch) + tree_size(longlived);
    *trees = 2;
    for (int d = min; d <= max; d += 2) {
        int64_t iters = 2 * tree_size(stretch) / tree_size(d);
        *nodes += 2 * iters * tree_size(d);
        *trees += 2 * iters;
    }
}

static double counter(const wl_result *r, const char *name) {
    for (int i = 0; i < r->ncounters; i++)
        if (strcmp(r->counters[i].name, name) == 0) return r->counters[i].value;
    return -1;
}

/* Runs `tree` with knobs "k=v/k=v" on a fresh system/slots heap, as the harness does. */
static tree_run run_tree(const char *reclaim, const char *knobs) {
    tree_run t = {0};
    const mm_workload *w = wl_find("tree");
    if (w == NULL) {
        snprintf(t.err, sizeof t.err, "workload 'tree' is not registered");
        return t;
    }
    mm_heap *h = mm_heap_new_named(reclaim, "system", "slots", NULL, t.err, sizeof t.err);
    if (h == NULL) return t;
    mm_knobset ks = {0};
    const mm_knob_desc *const tables[] = {w->knobs};
    char buf[256];
    snprintf(buf, sizeof buf, "%s", knobs);
    for (char *save = NULL, *kv = strtok_r(buf, "/", &save); kv; kv = strtok_r(NULL, "/", &save)) {
        char *eq = strchr(kv, '=');
        *eq = '\0';
        if (!mm_knobset_apply(&ks, kv, eq + 1, tables, 1, t.err, sizeof t.err)) {
            mm_heap_free(h);
            return t;
        }
    }
    mm_knobset_fill_defaults(&ks, w->knobs);
    t.ok = w->run(h, &ks, &t.r, t.err, sizeof t.err);
    mm_stats s;
    mm_get_stats(h, &s);
    t.live = mm_stats_live_objects(&s);
    t.bytes_allocated = s.bytes_allocated;
    t.roots_left = h->roots_len;
    mm_heap_free(h);
    return t;
}

static void test_counts(void) {
    int64_t nodes, trees;
    expected(10, 8, 4, 8, &nodes, &trees);
    CHECK(nodes == SMALL_NODES && trees == SMALL_TREES, "formula %lld nodes %lld trees", (long long)nodes,
          (long long)trees);
    tree_run t = run_tree("rc", SMALL);
    CHECK(t.ok, "rc: %s", t.err);
    CHECK(t.r.ops == SMALL_NODES, "ops %.0f", t.r.ops);
    CHECK(counter(&t.r, "tree_nodes") == SMALL_NODES, "tree_nodes %.0f", counter(&t.r, "tree_nodes"));
    CHECK(counter(&t.r, "trees_built") == SMALL_TREES, "trees_built %.0f", counter(&t.r, "trees_built"));
    CHECK(t.roots_left == 0, "roots left pushed: %zu", t.roots_left);
    /* an odd span: depths 3, 5, 7 (GCBench steps by 2 and stops at or below max) */
    expected(9, 5, 3, 8, &nodes, &trees);
    t = run_tree("rc", "stretch=9/longlived=5/min=3/max=8/array=10");
    CHECK(t.ok && t.r.ops == (double)nodes && counter(&t.r, "trees_built") == (double)trees,
          "odd span: ops %.0f trees %.0f, expected %lld %lld (%s)", t.r.ops, counter(&t.r, "trees_built"),
          (long long)nodes, (long long)trees, t.err);
}

static void test_leaks(void) {
    tree_run t = run_tree("rc", SMALL "/parent=0");
    CHECK(t.ok && t.live == 0, "rc parent=0: %llu live (%s)", (unsigned long long)t.live, t.err);
    t = run_tree("rc", SMALL "/parent=1");
    CHECK(t.ok && t.live == SMALL_NODES, "rc parent=1: %llu live, expected every node %d (%s)",
          (unsigned long long)t.live, SMALL_NODES, t.err);
    CHECK(t.roots_left == 0, "roots left pushed: %zu", t.roots_left);
    /* none: every node, plus the array; Node is 16 + 8·k bytes under slots, the
     * array 24 (varobject header) + 8 per double */
    for (int parent = 0; parent <= 1; parent++) {
        char knobs[128];
        snprintf(knobs, sizeof knobs, SMALL "/parent=%d", parent);
        t = run_tree("none", knobs);
        uint64_t bytes = SMALL_NODES * (16u + 8u * (2u + (unsigned)parent)) + sizeof(mm_varobject) + 8u * 1000u;
        CHECK(t.ok && t.live == SMALL_NODES + 1, "none parent=%d: %llu live (%s)", parent,
              (unsigned long long)t.live, t.err);
        CHECK(t.bytes_allocated == bytes, "none parent=%d: %llu bytes, expected %llu", parent,
              (unsigned long long)t.bytes_allocated, (unsigned long long)bytes);
    }
    /* an empty array (array=0) is still an object, and rc frees it */
    t = run_tree("rc", "stretch=3/longlived=1/min=1/max=3/array=0");
    CHECK(t.ok && t.live == 0, "array=0: %llu live (%s)", (unsigned long long)t.live, t.err);
}

static void test_knobs(void) {
    const mm_workload *w = wl_find("tree");
    CHECK(w != NULL, "tree registered");
    if (w == NULL) return;
    static const struct {
        const char *name, *value;
    } defaults[] = {{"stretch", "18"}, {"longlived", "16"}, {"min", "4"},
                    {"max", "16"},     {"array", "500000"}, {"parent", "0"}};
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
        const mm_knob_desc *d = mm_knob_find(w->knobs, defaults[i].name);
        CHECK(d && strcmp(d->default_value, defaults[i].value) == 0, "default %s", defaults[i].name);
    }
    tree_run t = run_tree("rc", "stretch=10/min=8/max=4");
    CHECK(!t.ok && strstr(t.err, "min <= max") && !strchr(t.err, '\n'), "min > max refused: %s", t.err);
    CHECK(t.live == 0 && t.roots_left == 0, "refusal leaves nothing: %llu live, %zu roots",
          (unsigned long long)t.live, t.roots_left);
    t = run_tree("rc", "stretch=6/min=4/max=8");
    CHECK(!t.ok && strstr(t.err, "max=8 stretch=6"), "max > stretch refused: %s", t.err);
    t = run_tree("rc", "stretch=27");
    CHECK(!t.ok && strstr(t.err, "stretch"), "depth past the range refused: %s", t.err);
}

/* The memstrat binary of this build tree: tests/ sits next to it. */
static bool find_memstrat(char *out, size_t outlen) {
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return false;
    exe[n] = '\0';
    char *tests_dir = dirname(exe);
    snprintf(out, outlen, "%s/../memstrat", tests_dir);
    return access(out, X_OK) == 0;
}

/* Runs a shell command; returns its exit status and its output in out. */
static int shell(const char *cmd, char *out, size_t outlen) {
    FILE *p = popen(cmd, "r");
    if (p == NULL) return -1;
    size_t len = fread(out, 1, outlen - 1, p);
    out[len] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static double json_counter(const char *json, const char *name) {
    char key[64];
    snprintf(key, sizeof key, "\"%s\":", name);
    const char *p = strstr(json, key);
    return p ? strtod(p + strlen(key), NULL) : -1;
}

static void test_cli(void) {
    char ms[PATH_MAX + 16], cmd[PATH_MAX + 256];
    if (!find_memstrat(ms, sizeof ms)) {
        printf("test_cli skipped: no memstrat next to this test\n");
        return;
    }
    static char out[1 << 16];
    snprintf(cmd, sizeof cmd, "'%s' run tree/rc/system/slots/" SMALL " --benchmark_format=json 2>/dev/null", ms);
    int rc = shell(cmd, out, sizeof out);
    CHECK(rc == 0, "memstrat run tree/rc exit %d", rc);
    CHECK(json_counter(out, "tree_nodes") == SMALL_NODES, "json tree_nodes %g", json_counter(out, "tree_nodes"));
    CHECK(json_counter(out, "trees_built") == SMALL_TREES, "json trees_built %g", json_counter(out, "trees_built"));
    CHECK(json_counter(out, "leaked_objects") == 0, "json leaked_objects %g", json_counter(out, "leaked_objects"));
    snprintf(cmd, sizeof cmd, "'%s' run tree/rc/system/slots/" SMALL "/parent=1 --benchmark_format=json 2>/dev/null",
             ms);
    rc = shell(cmd, out, sizeof out);
    CHECK(rc == 0 && json_counter(out, "leaked_objects") == SMALL_NODES, "parent=1 leaked %g (exit %d)",
          json_counter(out, "leaked_objects"), rc);
    snprintf(cmd, sizeof cmd, "'%s' run tree/rc/system/slots/stretch=10/min=8/max=4 2>&1 >/dev/null", ms);
    rc = shell(cmd, out, sizeof out);
    CHECK(rc != 0 && strstr(out, "min <= max") != NULL, "min > max: exit %d, stderr: %s", rc, out);
}

int main(void) {
    test_counts();
    test_leaks();
    test_knobs();
    test_cli();
    return check_summary();
}
