/* tree.c — `tree`: GCBench (Boehm's GC benchmark, after Ellis and Kovac).
 *
 * Contract: one run does what GCBench's main does, in its order:
 *   1. a stretch tree of depth `stretch`, built bottom-up and dropped at once;
 *   2. a long-lived tree of depth `longlived`, built top-down, kept to the end;
 *   3. a long-lived array of `array` doubles (a non-container object with a raw
 *      payload: itemsize 8, holds no references, traverse NULL), half filled;
 *   4. for d = min, min+2, ... <= max: iters(d) trees of depth d built top-down
 *      (allocate a node, then populate its children) and iters(d) built
 *      bottom-up (children first, then the parent), each dropped right after it
 *      is built, where iters(d) = 2·size(stretch) / size(d) (integer division)
 *      and size(d) = 2^(d+1) − 1 nodes;
 *   5. the long-lived tree is counted (and its back pointers checked) and the
 *      array's sample value checked; then both are dropped.
 * With `parent=1` every child also points back at its parent, so every tree is
 * a web of two-object cycles: pure refcounting leaks all of them (the array,
 * in no cycle, is still freed). ops = tree nodes allocated (the array is not a
 * node); counters `tree_nodes` (the same) and `trees_built`.
 *
 * Invariant: at every allocation, each object the program still needs is
 * reachable from a registered root slot — the long-lived tree, the array, the
 * tree under construction (`temp`), and, while a bottom-up build holds finished
 * subtrees that no node points at yet, the per-level slots `pending[d]`. A
 * precise tracing strategy therefore never frees a tree mid-build; refcounting
 * strategies ignore the roots. Every hold is released and every root popped on
 * return, on success and on failure alike.
 *
 * Recursion: build, populate and count recurse once per tree level, and the
 * knob range caps the depth at WL_TREE_MAX_DEPTH (26), so the C stack holds at
 * most 27 small frames; the tree itself (2^27 nodes, 4 GiB) runs out of memory
 * long before the stack could, so an explicit stack would buy nothing here.
 * Releasing a tree never recurses (the heap's work list does it).
 */
#include <stdio.h>

#include "workload.h"

/* Deepest tree a cell may ask for: 2^27 − 1 nodes of 32 bytes is 4 GiB, the most
 * a machine here can hold; it also bounds the recursion (see the header). */
#define WL_TREE_MAX_DEPTH 26
/* Largest array: 1e8 doubles is 800 MB, already beyond GCBench's 4 MB by 200×. */
#define WL_TREE_MAX_ARRAY 100000000LL
/* Index of the array element GCBench checks at the end (array[1000] == 1/1000). */
#define WL_TREE_ARRAY_PROBE 1000

static const mm_knob_desc wl_tree_knobs[] = {
    {"stretch", MM_KNOB_COUNT, "18", 1, WL_TREE_MAX_DEPTH, "depth of the stretch tree; sets iters(d) = 2*size(stretch)/size(d)"},
    {"longlived", MM_KNOB_COUNT, "16", 1, WL_TREE_MAX_DEPTH, "depth of the tree kept for the whole run"},
    {"min", MM_KNOB_COUNT, "4", 1, WL_TREE_MAX_DEPTH, "smallest depth of the short-lived trees (min <= max <= stretch)"},
    {"max", MM_KNOB_COUNT, "16", 1, WL_TREE_MAX_DEPTH, "largest depth of the short-lived trees (step 2 from min)"},
    {"array", MM_KNOB_COUNT, "500000", 0, WL_TREE_MAX_ARRAY, "doubles in the long-lived array (raw payload, no references)"},
    {"parent", MM_KNOB_COUNT, "0", 0, 1, "1: every child points back at its parent (cycles everywhere)"},
    {0},
};

/* GCBench's `double[]`: a payload of raw doubles after the varobject header. It
 * is no container and holds no references, so a collector never tracks it and
 * the release frees it without visiting anything. */
static const mm_type wl_tree_array_type = {
    .name = "double[]",
    .size = sizeof(mm_varobject),
    .itemsize = sizeof(double),
    .nslots = 0,
    .is_container = false,
    .traverse = NULL,
    .clear = NULL,
    .cls = NULL,
};

/* What the recursive builders share, so that each call passes one pointer. */
typedef struct wl_tree_ctx {
    mm_heap *h;
    mm_class *node_cls;
    mm_attr a_left, a_right, a_parent;
    bool with_parent;
    uint64_t nodes; /* tree nodes allocated so far (ops) */
    /* Rooted holds of a bottom-up build: the finished left and right subtrees
     * of the level-d node, kept here while the rest of that level is made. */
    mm_object *pending[WL_TREE_MAX_DEPTH + 1][2];
    char *err;
    size_t errlen;
} wl_tree_ctx;

/* Nodes in a complete binary tree of depth d (a single node has depth 0). */
static int64_t wl_tree_size(int d) { return ((int64_t)1 << (d + 1)) - 1; }

/* GCBench's NumIters: trees of depth d that allocate about as much as two stretch trees. */
static int64_t wl_tree_iters(int d, int stretch) { return 2 * wl_tree_size(stretch) / wl_tree_size(d); }

/* One place that counts nodes and reports allocation failure. */
static mm_object *wl_tree_node_new(wl_tree_ctx *c) {
    mm_object *n = mm_instance_new(c->h, c->node_cls);
    if (MM_UNLIKELY(n == NULL)) {
        snprintf(c->err, c->errlen, "out of memory after %llu tree nodes", (unsigned long long)c->nodes);
        return NULL;
    }
    c->nodes++;
    return n;
}

/* holder.<side> = child, and child.parent = holder when asked: both writes go
 * through mm_setattr (so mm_store), which takes its own reference. */
static bool wl_tree_link(wl_tree_ctx *c, mm_object *holder, mm_attr side, mm_object *child) {
    if (MM_UNLIKELY(mm_setattr(c->h, holder, side, mm_ref(child)) != MM_OK ||
                    (c->with_parent && mm_setattr(c->h, child, c->a_parent, mm_ref(holder)) != MM_OK))) {
        snprintf(c->err, c->errlen, "the layout refused an attribute of Node");
        return false;
    }
    return true;
}

/* Top-down (GCBench's Populate): `node` already exists and is reachable from a
 * root; give it two fresh children, then populate each. Children are linked as
 * soon as they are made, so every allocation finds them reachable. */
static bool wl_tree_populate(wl_tree_ctx *c, mm_object *node, int depth) {
    if (depth <= 0) return true;
    mm_object *kids[2];
    const mm_attr sides[2] = {c->a_left, c->a_right};
    for (int i = 0; i < 2; i++) {
        kids[i] = wl_tree_node_new(c);
        if (kids[i] == NULL) return false;
        bool ok = wl_tree_link(c, node, sides[i], kids[i]);
        mm_decref(c->h, kids[i]); /* node holds it now; kids[i] is borrowed from here on */
        if (!ok) return false;
    }
    return wl_tree_populate(c, kids[0], depth - 1) && wl_tree_populate(c, kids[1], depth - 1);
}

/* Bottom-up (GCBench's MakeTree): both subtrees first, then their parent.
 * Returns a new reference, or NULL (err set) with nothing left held. */
static mm_object *wl_tree_make(wl_tree_ctx *c, int depth) {
    if (depth <= 0) return wl_tree_node_new(c);
    mm_object **hold = c->pending[depth]; /* one pair per level: recursion never shares it */
    mm_object *node = NULL;
    if ((hold[0] = wl_tree_make(c, depth - 1)) != NULL && (hold[1] = wl_tree_make(c, depth - 1)) != NULL &&
        (node = wl_tree_node_new(c)) != NULL) {
        if (!wl_tree_link(c, node, c->a_left, hold[0]) || !wl_tree_link(c, node, c->a_right, hold[1])) {
            mm_decref(c->h, node); /* frees whatever it managed to link */
            node = NULL;
        }
    }
    mm_object *left = hold[0], *right = hold[1];
    hold[0] = hold[1] = NULL;
    mm_xdecref(c->h, left); /* node (if any) holds them now */
    mm_xdecref(c->h, right);
    return node;
}

/* Counts a tree with borrowed references and checks each child's back pointer
 * (with parent=1): the "long-lived tree is intact" check at the end. */
static int64_t wl_tree_count(wl_tree_ctx *c, mm_object *node, mm_object *parent, bool *links_ok) {
    if (node == NULL) return 0;
    if (c->with_parent && mm_as_ref(mm_getattr(c->h, node, c->a_parent)) != parent) *links_ok = false;
    return 1 + wl_tree_count(c, mm_as_ref(mm_getattr(c->h, node, c->a_left)), node, links_ok) +
           wl_tree_count(c, mm_as_ref(mm_getattr(c->h, node, c->a_right)), node, links_ok);
}

/* The payload of a double[] object, right after its varobject header. */
static double *wl_tree_doubles(mm_object *o) { return (double *)((mm_varobject *)o + 1); }

/* The probe GCBench checks, kept inside the filled half of a smaller array; 0 = none. */
static int64_t wl_tree_probe(int64_t n) {
    int64_t last_filled = n / 2 - 1;
    if (last_filled > WL_TREE_ARRAY_PROBE) return WL_TREE_ARRAY_PROBE;
    return last_filled > 0 ? last_filled : 0;
}

/* Cross-knob rule, checked by the CLI before any heap exists (exit 2) and again by run(). */
static bool wl_tree_check(const mm_knobset *ks, char *err, size_t errlen) {
    const int64_t stretch = mm_knob_int(ks, "stretch"), min_depth = mm_knob_int(ks, "min"),
                  max_depth = mm_knob_int(ks, "max");
    if (min_depth <= max_depth && max_depth <= stretch) return true;
    snprintf(err, errlen, "knobs must satisfy min <= max <= stretch (got min=%lld max=%lld stretch=%lld)",
             (long long)min_depth, (long long)max_depth, (long long)stretch);
    return false;
}

/* Steps 1–5 of the header, with the holds of run() as the registered roots. */
static bool wl_tree_run(mm_heap *h, const mm_knobset *ks, wl_result *r, char *err, size_t errlen) {
    const int stretch = (int)mm_knob_int(ks, "stretch"), longlived_depth = (int)mm_knob_int(ks, "longlived");
    const int min_depth = (int)mm_knob_int(ks, "min"), max_depth = (int)mm_knob_int(ks, "max");
    const int64_t array_len = mm_knob_int(ks, "array");
    const bool with_parent = mm_knob_int(ks, "parent") != 0;
    if (!wl_tree_check(ks, err, errlen)) return false;
    /* The attribute set is declared up front, so `slots` has a place for each. */
    static const char *const attrs[] = {"left", "right", "parent"};
    wl_tree_ctx c = {.h = h, .with_parent = with_parent, .err = err, .errlen = errlen};
    c.node_cls = mm_class_new(h, "Node", attrs, with_parent ? 3 : 2);
    if (c.node_cls == NULL) {
        snprintf(err, errlen, "cannot declare class Node");
        return false;
    }
    c.a_left = mm_intern(h, "left");
    c.a_right = mm_intern(h, "right");
    c.a_parent = mm_intern(h, "parent");

    mm_object *temp = NULL, *longlived = NULL, *array = NULL;
    mm_root_push(h, &temp);
    mm_root_push(h, &longlived);
    mm_root_push(h, &array);
    for (int d = 1; d <= WL_TREE_MAX_DEPTH; d++) { /* a depth-0 tree is a leaf: holds nothing */
        mm_root_push(h, &c.pending[d][0]);
        mm_root_push(h, &c.pending[d][1]);
    }
    const size_t nroots = 3 + 2 * WL_TREE_MAX_DEPTH;
    int64_t trees = 0;
    bool ok = false;

    /* 1. stretch the heap */
    if ((temp = wl_tree_make(&c, stretch)) == NULL) goto out;
    trees++;
    mm_decref(h, temp);
    temp = NULL;

    /* 2. the long-lived tree, top-down */
    if ((longlived = wl_tree_node_new(&c)) == NULL || !wl_tree_populate(&c, longlived, longlived_depth)) goto out;
    trees++;

    /* 3. the long-lived array, half filled as GCBench does (from 1: no 1/0) */
    if ((array = mm_new(h, &wl_tree_array_type, (size_t)array_len)) == NULL) {
        snprintf(err, errlen, "out of memory allocating an array of %lld doubles", (long long)array_len);
        goto out;
    }
    double *a = wl_tree_doubles(array);
    for (int64_t i = 1; i < array_len / 2; i++) a[i] = 1.0 / (double)i;

    /* 4. short-lived trees, iters(d) top-down then iters(d) bottom-up per depth */
    for (int d = min_depth; d <= max_depth; d += 2) {
        const int64_t iters = wl_tree_iters(d, stretch);
        for (int64_t i = 0; i < iters; i++) {
            if ((temp = wl_tree_node_new(&c)) == NULL || !wl_tree_populate(&c, temp, d)) goto out;
            mm_decref(h, temp);
            temp = NULL;
        }
        for (int64_t i = 0; i < iters; i++) {
            if ((temp = wl_tree_make(&c, d)) == NULL) goto out;
            mm_decref(h, temp);
            temp = NULL;
        }
        trees += 2 * iters;
    }

    /* 5. the long-lived objects survived every collection intact */
    bool links_ok = true;
    const int64_t counted = wl_tree_count(&c, longlived, NULL, &links_ok);
    const int64_t probe = wl_tree_probe(array_len);
    if (counted != wl_tree_size(longlived_depth) || !links_ok) {
        snprintf(err, errlen, "long-lived tree has %lld nodes%s, expected %lld", (long long)counted,
                 links_ok ? "" : " and broken parent links", (long long)wl_tree_size(longlived_depth));
        goto out;
    }
    if (probe > 0 && a[probe] != 1.0 / (double)probe) {
        snprintf(err, errlen, "long-lived array[%lld] = %g, expected 1/%lld", (long long)probe, a[probe],
                 (long long)probe);
        goto out;
    }
    ok = true;

out:
    mm_xdecref(h, temp); /* a tree left half-built by a failure */
    mm_xdecref(h, longlived);
    mm_xdecref(h, array);
    mm_root_pop(h, nroots);
    r->ops = (double)c.nodes;
    wl_counter(r, "tree_nodes", (double)c.nodes);
    wl_counter(r, "trees_built", (double)trees);
    return ok;
}

const mm_workload wl_tree = {
    .name = "tree",
    .summary = "GCBench: stretch tree, long-lived tree + double array, short-lived trees built top-down and bottom-up",
    .knobs = wl_tree_knobs,
    .check = wl_tree_check,
    .run = wl_tree_run,
};
