/* gc_scan.c — `memstrat gcscan-measure`: the measured half of `memstrat gcscan`, what
 * one full collection of a live heap costs per object under `rc+gen`, with each of its
 * GC heads (CPython's 16-byte head and passes, the default; header=32). The CPython half,
 * the medians, the table and gc_scan.csv are analysis/gcscan.py's.
 *
 * Contract: for each shape of --shapes (list, tree: tools/cpython_gc_scan.py builds
 * the same shapes in the same allocation order), build --n live objects with automatic
 * collection off, run one untimed full collection (everything reaches the oldest
 * generation, as in CPython's warm-up), then time --reps full collections. Each must
 * examine exactly n objects and free none; anything else is a failed measurement (one
 * line, exit 1), never a figure. Output on stdout, tidy CSV, one row per shape × head ×
 * repetition: shape,side,n,rep,ns_per_object with side memstrat-rc+gen-<alloc> (header=16)
 * or memstrat-rc+gen32-<alloc> (header=32), a shape's 16-byte rows first.
 * Bad input (options by getopt_long, numbers by ms_parse_long): one line, exit 2.
 * Out of memory: one line naming the shape, exit 1 (oom.h).
 *
 * Not timed: building the shape, the warm-up collection, writing the rows.
 */
#include "gc_scan.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mm.h"
#include "ms_clock.h"
#include "oom.h"

/* The heap: a million live objects. */
#define GCSCAN_DEFAULT_N 1000000L
/* Past this the tree or list would not fit the machines this runs on. */
#define GCSCAN_MAX_N 100000000L
#define GCSCAN_DEFAULT_REPS 5
#define GCSCAN_MAX_REPS 1000
#define GCSCAN_CMD "gcscan-measure"

/* Builds the list: n nodes of one slot, each new node pointing at the old head. */
static mm_object *build_list(mm_heap *h, long n) {
    static const char *const attrs[] = {"next"};
    mm_class *c = mm_class_new(h, "ListNode", attrs, 1);
    if (c == NULL) return NULL;
    mm_attr a_next = mm_intern(h, "next");
    mm_object *head = NULL;
    for (long i = 0; i < n; i++) {
        mm_object *node = mm_instance_new(h, c);
        if (node == NULL) break;
        if (head != NULL) {
            mm_setattr(h, node, a_next, mm_ref(head));
            mm_decref(h, head);
        }
        head = node;
    }
    return head;
}

/* Builds the complete binary tree of n nodes, allocated breadth-first; returns
 * the root, the only hold kept. */
static mm_object *build_tree(mm_heap *h, long n) {
    static const char *const attrs[] = {"left", "right"};
    mm_class *c = mm_class_new(h, "TreeNode", attrs, 2);
    mm_object **nodes = n > 0 ? malloc((size_t)n * sizeof *nodes) : NULL;
    if (c == NULL || nodes == NULL) {
        free(nodes);
        return NULL;
    }
    mm_attr a_left = mm_intern(h, "left"), a_right = mm_intern(h, "right");
    for (long i = 0; i < n; i++) {
        if ((nodes[i] = mm_instance_new(h, c)) != NULL) continue;
        while (i > 0) mm_decref(h, nodes[--i]); /* out of memory: nothing kept */
        free(nodes);
        return NULL;
    }
    for (long i = 0; i < n; i++) {
        if (2 * i + 1 < n) mm_setattr(h, nodes[i], a_left, mm_ref(nodes[2 * i + 1]));
        if (2 * i + 2 < n) mm_setattr(h, nodes[i], a_right, mm_ref(nodes[2 * i + 2]));
    }
    mm_object *root = nodes[0];
    for (long i = 1; i < n; i++) mm_decref(h, nodes[i]); /* the tree holds them now */
    free(nodes);
    return root;
}

/* Observer: remembers what the last collection examined and freed. */
static void note_gc(mm_gc_phase phase, const mm_gc_info *info, void *ctx) {
    if (phase == MM_GC_STOP) *(mm_gc_info *)ctx = *info;
}

/* The heads measured, each with the knobs of its heap and the name of its side. */
static const struct {
    const char *knobs, *side;
} gcscan_heads[] = {{"gc=off/header=16", "rc+gen"}, {"gc=off/header=32", "rc+gen32"}};

/* One shape under one head: its rows on stdout, or false with one line on stderr. */
static bool scan_shape(const char *shape, long n, long reps, const char *alloc, int head) {
    char err[512];
    ms_oom_arm(shape);
    mm_heap *h = mm_heap_new_named("rc+gen", alloc, "slots", gcscan_heads[head].knobs, err, sizeof err);
    if (h == NULL) {
        fprintf(stderr, "memstrat " GCSCAN_CMD ": %s\n", err);
        return false;
    }
    bool ok = true;
    mm_object *keep = strcmp(shape, "list") == 0 ? build_list(h, n) : build_tree(h, n);
    mm_stats st;
    mm_get_stats(h, &st);
    if (keep == NULL || mm_stats_live_objects(&st) != (uint64_t)n) {
        fprintf(stderr, "memstrat " GCSCAN_CMD ": out of memory building %ld %s nodes (%llu built)\n", n, shape,
                (unsigned long long)st.objects_allocated);
        ok = false;
    }
    mm_gc_info last = {0};
    mm_set_observer(h, note_gc, &last);
    if (ok) mm_collect(h, MM_COLLECT_FULL);
    double ns[GCSCAN_MAX_REPS];
    for (long r = 0; ok && r < reps; r++) {
        uint64_t t0 = ms_now_ns();
        uint64_t freed = mm_collect(h, MM_COLLECT_FULL);
        uint64_t t1 = ms_now_ns();
        if (freed != 0 || last.examined != (uint64_t)n) {
            fprintf(stderr, "memstrat " GCSCAN_CMD ": a full collection examined %llu and freed %llu of %ld live %s nodes\n",
                    (unsigned long long)last.examined, (unsigned long long)freed, n, shape);
            ok = false;
        }
        ns[r] = (double)(t1 - t0) / (double)n;
    }
    mm_set_observer(h, NULL, NULL);
    if (keep) mm_decref(h, keep);
    mm_heap_free(h);
    for (long r = 0; ok && r < reps; r++)
        printf("%s,memstrat-%s-%s,%ld,%ld,%.3f\n", shape, gcscan_heads[head].side, alloc, n, r, ns[r]);
    return ok;
}

/* Options of gcscan-measure; every one takes a value. */
static const struct option gcscan_options[] = {
    {"n", required_argument, NULL, 'n'},      {"reps", required_argument, NULL, 'r'},
    {"alloc", required_argument, NULL, 'a'},  {"shapes", required_argument, NULL, 's'},
    {NULL, 0, NULL, 0},
};

int ms_gcscan_measure_main(int argc, char **argv) {
    ms_oom_init("memstrat " GCSCAN_CMD);
    long n = GCSCAN_DEFAULT_N, reps = GCSCAN_DEFAULT_REPS;
    const char *alloc = "system", *shapes = "list,tree";
    mm_component found;
    opterr = 0; /* our own one-line messages */
    optind = 1;
    /* "+": stop at the first non-option (reported below); ":": a missing value returns ':'. */
    for (int c; (c = getopt_long(argc, argv, "+:", gcscan_options, NULL)) != -1;) {
        const char *v = optarg;
        switch (c) {
        case 'n':
            if (ms_parse_long(v, 1, GCSCAN_MAX_N, &n) != 0)
                return ms_usage_error(GCSCAN_CMD, "--n must be 1..%ld, not: %s", GCSCAN_MAX_N, v);
            break;
        case 'r':
            if (ms_parse_long(v, 1, GCSCAN_MAX_REPS, &reps) != 0)
                return ms_usage_error(GCSCAN_CMD, "--reps must be 1..%d, not: %s", GCSCAN_MAX_REPS, v);
            break;
        case 'a':
            if (!mm_component_find(MM_AXIS_ALLOCATOR, v, &found))
                return ms_usage_error(GCSCAN_CMD, "unknown allocator: %s", v);
            alloc = v;
            break;
        case 's': shapes = v; break;
        case ':': return ms_usage_error(GCSCAN_CMD, "missing value after: %s", argv[optind - 1]);
        default: /* '?': optopt is the unknown short option, 0 for a long one */
            if (optopt) return ms_usage_error(GCSCAN_CMD, "unknown option: -%c", optopt);
            return ms_usage_error(GCSCAN_CMD, "unknown option: %s", argv[optind - 1]);
        }
    }
    if (optind < argc) return ms_usage_error(GCSCAN_CMD, "unexpected argument: %s", argv[optind]);
    const char *shapes_asked[2];
    int k = 0;
    char buf[64];
    snprintf(buf, sizeof buf, "%s", shapes);
    for (char *save = NULL, *s = strtok_r(buf, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
        if (strcmp(s, "list") != 0 && strcmp(s, "tree") != 0)
            return ms_usage_error(GCSCAN_CMD, "unknown shape (list, tree): %s", s);
        if (k == 1 && strcmp(shapes_asked[0], s) == 0) return ms_usage_error(GCSCAN_CMD, "shape given twice: %s", s);
        shapes_asked[k++] = strcmp(s, "list") == 0 ? "list" : "tree";
    }
    if (k == 0) return ms_usage_error(GCSCAN_CMD, "no shape given: %s", shapes);

    printf("shape,side,n,rep,ns_per_object\n");
    for (int i = 0; i < k; i++)
        for (int head = 0; head < (int)(sizeof gcscan_heads / sizeof gcscan_heads[0]); head++)
            if (!scan_shape(shapes_asked[i], n, reps, alloc, head)) return MS_EXIT_FAILED;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "memstrat " GCSCAN_CMD ": cannot write the rows to stdout\n");
        return MS_EXIT_FAILED;
    }
    return MS_EXIT_OK;
}
