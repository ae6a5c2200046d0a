/* gc_scan.c — `memstrat gcscan`: what one full collection of a live heap costs
 * per object, under `rc+gen` and under real CPython, side by side in one run.
 *
 * Contract: for each shape (list, tree: see tools/cpython_gc_scan.py, which
 * builds the same shapes in the same allocation order), build n live objects
 * with automatic collection off, run one untimed full collection (everything
 * reaches the oldest generation, as in CPython's warm-up), then time --reps
 * full collections. Each must examine exactly n objects and free none; anything
 * else is a failed measurement (exit 1), never a figure. Then the same through
 * python3.11 (unless --cpython none), and one table: median ns/object with
 * min–max for each, and the ratio CPython / memstrat with the target (≥ 4×,
 * i.e. ≤ 15 ns/object). --out FILE writes the rows as CSV (atomically):
 * shape,side,n,rep,ns_per_object — the analysis reads it and the table.
 * Bad input (options by getopt_long, numbers by ms_parse_long): one line, exit 2.
 *
 * Not timed: building the shape, the warm-up collection, the Python start-up.
 */
#include "gc_scan.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atomic_file.h"
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
/* The target of issue 3: at most 15 ns per object for a full collection. */
#define GCSCAN_TARGET_NS 15.0
/* Bytes of the CPython script's JSON we read; its output is ~200 bytes + 20 per rep. */
#define GCSCAN_JSON_MAX 65536

typedef struct gcscan_opts {
    long n, reps;
    const char *alloc;
    const char *cpython; /* interpreter, or "none" */
    const char *tools;   /* directory with cpython_gc_scan.py */
    const char *out;
    const char *shapes;
} gcscan_opts;

typedef struct gcscan_row {
    const char *shape;
    double ns[GCSCAN_MAX_REPS];
    double py_ns[GCSCAN_MAX_REPS];
    int py_reps; /* 0: CPython not run */
    char python[32];
} gcscan_row;

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of the first k values (sorted in place): the figure least moved by a
 * noisy neighbour on a shared machine. */
static double median_of(double *v, int k) {
    qsort(v, (size_t)k, sizeof *v, cmp_double);
    return k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
}

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
    mm_object **nodes = malloc((size_t)n * sizeof *nodes);
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

/* The memstrat half of one row; false with a message on stderr. */
static bool scan_memstrat(const gcscan_opts *o, gcscan_row *row) {
    char err[512];
    ms_oom_arm(row->shape);
    mm_heap *h = mm_heap_new_named("rc+gen", o->alloc, "slots", "gc=off", err, sizeof err);
    if (h == NULL) {
        fprintf(stderr, "memstrat gcscan: %s\n", err);
        return false;
    }
    bool ok = true;
    mm_object *keep = strcmp(row->shape, "list") == 0 ? build_list(h, o->n) : build_tree(h, o->n);
    mm_stats st;
    mm_get_stats(h, &st);
    if (keep == NULL || mm_stats_live_objects(&st) != (uint64_t)o->n) {
        fprintf(stderr, "memstrat gcscan: out of memory building %ld %s nodes (%llu built)\n", o->n, row->shape,
                (unsigned long long)st.objects_allocated);
        ok = false;
    }
    mm_gc_info last = {0};
    mm_set_observer(h, note_gc, &last);
    if (ok) mm_collect(h, MM_COLLECT_FULL);
    for (long r = 0; ok && r < o->reps; r++) {
        uint64_t t0 = ms_now_ns();
        uint64_t freed = mm_collect(h, MM_COLLECT_FULL);
        uint64_t t1 = ms_now_ns();
        if (freed != 0 || last.examined != (uint64_t)o->n) {
            fprintf(stderr, "memstrat gcscan: a full collection examined %llu and freed %llu of %ld live %s nodes\n",
                    (unsigned long long)last.examined, (unsigned long long)freed, o->n, row->shape);
            ok = false;
        }
        row->ns[r] = (double)(t1 - t0) / (double)o->n;
    }
    mm_set_observer(h, NULL, NULL);
    if (keep) mm_decref(h, keep);
    mm_heap_free(h);
    return ok;
}

/* Reads the doubles of `"key": [a, b, ...]` from the script's one-line JSON. */
static int json_doubles(const char *json, const char *key, double *out, int max) {
    const char *p = strstr(json, key);
    if (p == NULL || (p = strchr(p, '[')) == NULL) return -1;
    int k = 0;
    for (p++; k < max;) {
        char *end;
        double v = strtod(p, &end);
        if (end == p) break;
        out[k++] = v;
        p = end;
        while (*p == ' ' || *p == ',') p++;
    }
    return k;
}

/* The CPython half: runs the script and reads its JSON. false: one line on stderr. */
static bool scan_cpython(const gcscan_opts *o, gcscan_row *row) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' '%s/cpython_gc_scan.py' --shape %s --n %ld --reps %ld", o->cpython, o->tools,
             row->shape, o->n, o->reps);
    FILE *p = popen(cmd, "r");
    if (p == NULL) {
        fprintf(stderr, "memstrat gcscan: cannot run %s: %s\n", o->cpython, strerror(errno));
        return false;
    }
    static char buf[GCSCAN_JSON_MAX];
    size_t len = fread(buf, 1, sizeof buf - 1, p);
    buf[len] = '\0';
    int status = pclose(p);
    if (status != 0) {
        fprintf(stderr, "memstrat gcscan: '%s' failed (status %d); pass --cpython none to skip CPython\n", cmd,
                WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return false;
    }
    int k = json_doubles(buf, "\"ns_per_object\"", row->py_ns, GCSCAN_MAX_REPS);
    const char *ver = strstr(buf, "\"python\": \"");
    if (k != o->reps || ver == NULL) {
        fprintf(stderr, "memstrat gcscan: unexpected output from %s: %.200s\n", cmd, buf);
        return false;
    }
    sscanf(ver + 11, "%31[^\"]", row->python);
    row->py_reps = k;
    return true;
}

typedef struct csv_ctx {
    const gcscan_opts *o;
    gcscan_row *rows;
    int nrows;
} csv_ctx;

/* One CSV row per shape × side × repetition: tidy, so plots and compare need no parsing. */
static int emit_csv(FILE *f, void *arg) {
    csv_ctx *c = arg;
    fprintf(f, "shape,side,n,rep,ns_per_object\n");
    for (int i = 0; i < c->nrows; i++) {
        for (long r = 0; r < c->o->reps; r++)
            fprintf(f, "%s,memstrat-rc+gen-%s,%ld,%ld,%.3f\n", c->rows[i].shape, c->o->alloc, c->o->n, r,
                    c->rows[i].ns[r]);
        for (int r = 0; r < c->rows[i].py_reps; r++)
            fprintf(f, "%s,cpython-%s,%ld,%d,%.3f\n", c->rows[i].shape, c->rows[i].python, c->o->n, r,
                    c->rows[i].py_ns[r]);
    }
    return ferror(f) ? -1 : 0;
}

/* The table a reader compares: medians with their range, and the ratio. */
static void print_table(const gcscan_opts *o, gcscan_row *rows, int nrows) {
    printf("gc-scan: one full collection over %ld live objects, ns/object, median [min-max] of %ld\n", o->n, o->reps);
    printf("%-6s %-28s %-28s %-8s %s\n", "shape", "rc+gen", "CPython", "ratio", "target <= 15 ns/object");
    for (int i = 0; i < nrows; i++) {
        gcscan_row *r = &rows[i];
        double v[GCSCAN_MAX_REPS];
        memcpy(v, r->ns, sizeof(double) * (size_t)o->reps);
        double med = median_of(v, (int)o->reps);
        char ours[64], theirs[64] = "-", ratio[16] = "-";
        snprintf(ours, sizeof ours, "%.1f [%.1f-%.1f]", med, v[0], v[o->reps - 1]);
        if (r->py_reps) {
            double w[GCSCAN_MAX_REPS];
            memcpy(w, r->py_ns, sizeof(double) * (size_t)r->py_reps);
            double pmed = median_of(w, r->py_reps);
            snprintf(theirs, sizeof theirs, "%.1f [%.1f-%.1f] %s", pmed, w[0], w[r->py_reps - 1], r->python);
            snprintf(ratio, sizeof ratio, "%.2fx", pmed / med);
        }
        printf("%-6s %-28s %-28s %-8s %s\n", r->shape, ours, theirs, ratio, med <= GCSCAN_TARGET_NS ? "met" : "NOT met");
    }
}

/* An interpreter named without a '/' is looked up on PATH, as popen's shell would. */
static bool executable_on_path(const char *prog) {
    if (strchr(prog, '/') != NULL) return access(prog, X_OK) == 0;
    const char *path = getenv("PATH");
    for (const char *s = path && *path ? path : "/usr/bin:/bin";; s++) {
        size_t n = strcspn(s, ":");
        char cand[PATH_MAX];
        struct stat st;
        if (snprintf(cand, sizeof cand, "%.*s/%s", n ? (int)n : 1, n ? s : ".", prog) < (int)sizeof cand &&
            stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0)
            return true;
        s += n;
        if (*s == '\0') return false;
    }
}

/* Options of gcscan; every one takes a value. */
static const struct option gcscan_options[] = {
    {"n", required_argument, NULL, 'n'},          {"reps", required_argument, NULL, 'r'},
    {"alloc", required_argument, NULL, 'a'},      {"shapes", required_argument, NULL, 's'},
    {"cpython", required_argument, NULL, 'p'},    {"tools", required_argument, NULL, 't'},
    {"out", required_argument, NULL, 'o'},        {NULL, 0, NULL, 0},
};

int ms_gcscan_main(int argc, char **argv) {
    ms_oom_init("memstrat gcscan");
    gcscan_opts o = {.n = GCSCAN_DEFAULT_N, .reps = GCSCAN_DEFAULT_REPS, .alloc = "system",
                     .cpython = "python3.11", .tools = MS_SOURCE_DIR "/tools", .shapes = "list,tree"};
    mm_component alloc;
    opterr = 0; /* our own one-line messages */
    optind = 1;
    /* "+": stop at the first non-option (reported below); ":": a missing value returns ':'. */
    for (int c; (c = getopt_long(argc, argv, "+:", gcscan_options, NULL)) != -1;) {
        const char *v = optarg;
        switch (c) {
        case 'n':
            if (ms_parse_long(v, 1, GCSCAN_MAX_N, &o.n) != 0)
                return ms_usage_error("gcscan", "--n must be 1..%ld, not: %s", GCSCAN_MAX_N, v);
            break;
        case 'r':
            if (ms_parse_long(v, 1, GCSCAN_MAX_REPS, &o.reps) != 0)
                return ms_usage_error("gcscan", "--reps must be 1..%d, not: %s", GCSCAN_MAX_REPS, v);
            break;
        case 'a':
            if (!mm_component_find(MM_AXIS_ALLOCATOR, v, &alloc))
                return ms_usage_error("gcscan", "unknown allocator: %s", v);
            o.alloc = v;
            break;
        case 's': o.shapes = v; break;
        case 'p': o.cpython = v; break;
        case 't': o.tools = v; break;
        case 'o': {
            char err[1000];
            if (!ms_output_target_ok(v, "--out", err, sizeof err)) return ms_usage_error("gcscan", "%s", err);
            o.out = v;
            break;
        }
        case ':': return ms_usage_error("gcscan", "missing value after: %s", argv[optind - 1]);
        default: /* '?': optopt is the unknown short option, 0 for a long one */
            if (optopt) return ms_usage_error("gcscan", "unknown option: -%c", optopt);
            return ms_usage_error("gcscan", "unknown option: %s", argv[optind - 1]);
        }
    }
    if (optind < argc) return ms_usage_error("gcscan", "unexpected argument: %s", argv[optind]);
    /* checked first: a missing python is bad input, not a crash later */
    if (strcmp(o.cpython, "none") != 0 && !executable_on_path(o.cpython))
        return ms_usage_error("gcscan", "no executable interpreter (or --cpython none): %s", o.cpython);
    gcscan_row rows[2];
    int nrows = 0;
    char shapes[64];
    snprintf(shapes, sizeof shapes, "%s", o.shapes);
    for (char *save = NULL, *s = strtok_r(shapes, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
        if (strcmp(s, "list") != 0 && strcmp(s, "tree") != 0)
            return ms_usage_error("gcscan", "unknown shape (list, tree): %s", s);
        if (nrows == 2) return ms_usage_error("gcscan", "at most two shapes: %s", o.shapes);
        memset(&rows[nrows], 0, sizeof rows[nrows]);
        rows[nrows++].shape = strcmp(s, "list") == 0 ? "list" : "tree";
    }
    if (nrows == 0) return ms_usage_error("gcscan", "no shape given: %s", o.shapes);

    bool ok = true;
    for (int i = 0; i < nrows && ok; i++) {
        ok = scan_memstrat(&o, &rows[i]);
        if (ok && strcmp(o.cpython, "none") != 0) ok = scan_cpython(&o, &rows[i]);
    }
    if (!ok) return MS_EXIT_FAILED;
    if (o.out) {
        csv_ctx c = {&o, rows, nrows};
        if (ms_write_file_atomic(o.out, emit_csv, &c) != 0) {
            fprintf(stderr, "memstrat gcscan: cannot write %s\n", o.out);
            return MS_EXIT_FAILED;
        }
    }
    print_table(&o, rows, nrows);
    return MS_EXIT_OK;
}
