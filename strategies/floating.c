/* floating.c — floating garbage, exactly: the heap's census of every object and
 * a whole-heap reachability pass over it (mm.h, "Floating garbage").
 *
 * Contract: mm_floating_start, on a heap that has allocated nothing yet, makes
 * the heap tell the census of every object it allocates (mm_new) and frees
 * (mm_free_object); every `every` allocations a pass runs and its figures go to
 * the caller's function. Floating garbage = objects allocated and not yet freed
 * that the program can no longer reach. It is meant for an untimed shadow run:
 * the census and the passes cost far more than the 1 % instrumentation budget.
 *
 * Invariant: census.objs[0..len) is exactly the set of objects allocated and not
 * yet freed, and index_of(objs[i]) == i.
 *
 * Reachability without knowing the program's C locals: by the object model's
 * invariant (mm.h) an object's refcount is the references to it from slots of
 * allocated objects plus the holds of the program. So, CPython's cycle-collector
 * reasoning applied to the whole heap, garbage included:
 *   1. refs = refcount − references from every allocated object (a dead object's
 *      slots still count: what only garbage refers to is not held);
 *   2. an object with refs > 0 is held by the program, so is a registered root's
 *      target (mm_root_push); everything they reach is reachable;
 *   3. the rest is floating garbage: its objects and bytes (pre-header included).
 * This holds for every strategy that keeps refcounts, including `none` (nothing
 * is ever freed: all garbage floats). A strategy that frees objects behind the
 * heap's back (libgc's sweep under `boehm`: alloc_object set) cannot be counted:
 * mm_floating_start refuses it with one line.
 *
 * Its memory comes from mmap, never from malloc: a strategy may read the process's
 * malloc figures (rc+ft memgate=on reads the allocator's reserved bytes), and the
 * shadow must take the decisions the timed run takes.
 *
 * When: a pass never runs inside a collection (between mm_gc_begin and
 * mm_gc_end refcounts may be in a collector's trial state): one that falls due
 * there runs at the first allocation after it. Inside a release cascade it may
 * run: the objects awaiting release are then garbage not yet freed, which is
 * what floating garbage is.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mremap */
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "strategy.h"

/* First capacity of the census (objects) and of its index; both double. */
#define CENSUS_INITIAL 4096

typedef struct census_slot {
    mm_object *key; /* NULL: empty */
    size_t idx;
} census_slot;

struct mm_census {
    mm_object **objs;
    size_t len, cap;
    census_slot *index; /* open addressing, linear probing, at most half full */
    size_t index_cap;
    uint64_t every, since, allocations;
    int gc_depth;
    bool due;
    mm_floating_fn fn;
    void *ctx;
    /* per pass, kept between passes */
    intptr_t *refs;
    unsigned char *reached;
    size_t scratch_cap;
    mm_object **stack;
    size_t stack_len, stack_cap;
};

/* The census's memory: pages of its own (see the header), zeroed when new.
 * Resizes to `bytes` (0 frees); without memory the process stops with one line. */
static void *census_mem(void *p, size_t old_bytes, size_t bytes, const char *what) {
    if (bytes == 0) {
        if (p != NULL) munmap(p, old_bytes);
        return NULL;
    }
    for (;;) {
        void *n = p == NULL ? mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
                            : mremap(p, old_bytes, bytes, MREMAP_MAYMOVE);
        if (n != MAP_FAILED) return n;
        mm_out_of_memory(what);
    }
}

static inline size_t slot_of(const struct mm_census *c, const mm_object *o) {
    uintptr_t x = (uintptr_t)o >> 4;
    x *= 0x9E3779B97F4A7C15ull;
    return (size_t)(x >> 20) & (c->index_cap - 1);
}

/* The census slot of o, or of the empty slot where it would go. */
static census_slot *find(struct mm_census *c, const mm_object *o) {
    for (size_t i = slot_of(c, o);; i = (i + 1) & (c->index_cap - 1))
        if (c->index[i].key == o || c->index[i].key == NULL) return &c->index[i];
}

static void index_grow(struct mm_census *c) {
    census_slot *old = c->index;
    size_t oldcap = c->index_cap;
    c->index_cap = oldcap ? oldcap * 2 : 2 * CENSUS_INITIAL;
    c->index = census_mem(NULL, 0, c->index_cap * sizeof *c->index, "growing the census index");
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].key != NULL) *find(c, old[i].key) = old[i];
    census_mem(old, oldcap * sizeof *old, 0, NULL);
}

/* Deletion with backward shift: no tombstones, so probes stay short under churn. */
static void index_remove(struct mm_census *c, census_slot *s) {
    size_t mask = c->index_cap - 1, i = (size_t)(s - c->index);
    for (size_t j = (i + 1) & mask; c->index[j].key != NULL; j = (j + 1) & mask) {
        size_t home = slot_of(c, c->index[j].key);
        /* move j back to i when its home is not in the cyclic range (i, j] */
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            c->index[i] = c->index[j];
            i = j;
        }
    }
    c->index[i].key = NULL;
}

bool mm_floating_start(mm_heap *h, uint64_t every, mm_floating_fn fn, void *ctx, char *err, size_t errlen) {
    if (h->alloc_object != NULL) {
        snprintf(err, errlen, "strategy '%s' frees objects the heap never sees (its collector's own sweep): "
                 "floating garbage is not measured", h->reclaim->name);
        return false;
    }
    if (h->stats.objects_allocated != 0 || h->census != NULL) {
        snprintf(err, errlen, "floating garbage must be counted from the heap's first allocation");
        return false;
    }
    struct mm_census *c = mmap(NULL, sizeof *c, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (c == MAP_FAILED) {
        snprintf(err, errlen, "out of memory for the census");
        return false;
    }
    c->every = every;
    c->fn = fn;
    c->ctx = ctx;
    h->census = c;
    return true;
}

void mm_census_free(mm_heap *h) {
    struct mm_census *c = h->census;
    if (c == NULL) return;
    census_mem(c->objs, c->cap * sizeof *c->objs, 0, NULL);
    census_mem(c->index, c->index_cap * sizeof *c->index, 0, NULL);
    census_mem(c->refs, c->scratch_cap * sizeof *c->refs, 0, NULL);
    census_mem(c->reached, c->scratch_cap, 0, NULL);
    census_mem(c->stack, c->stack_cap * sizeof *c->stack, 0, NULL);
    munmap(c, sizeof *c);
    h->census = NULL;
}

/* ---- the pass ---------------------------------------------------------------------- */

static inline size_t index_of(struct mm_census *c, const mm_object *o) {
    census_slot *s = find(c, o);
    return s->key != NULL ? s->idx : SIZE_MAX;
}

static void visit_subtract(mm_object *child, void *arg) {
    struct mm_census *c = arg;
    size_t j = index_of(c, child);
    if (j != SIZE_MAX) c->refs[j]--;
}

static void reach(struct mm_census *c, size_t j) {
    if (j == SIZE_MAX || c->reached[j]) return;
    c->reached[j] = 1;
    if (c->stack_len == c->stack_cap) {
        size_t cap = c->stack_cap ? c->stack_cap * 2 : CENSUS_INITIAL;
        c->stack = census_mem(c->stack, c->stack_cap * sizeof *c->stack, cap * sizeof *c->stack,
                              "growing the census's work list");
        c->stack_cap = cap;
    }
    c->stack[c->stack_len++] = c->objs[j];
}

static void visit_reach(mm_object *child, void *arg) {
    struct mm_census *c = arg;
    reach(c, index_of(c, child));
}

/* The three steps of the header, over the whole census. */
bool mm_floating_measure(mm_heap *h, mm_floating *out) {
    struct mm_census *c = h->census;
    memset(out, 0, sizeof *out);
    if (c == NULL) return false;
    if (c->scratch_cap < c->len) {
        c->refs = census_mem(c->refs, c->scratch_cap * sizeof *c->refs, c->cap * sizeof *c->refs, "the census's counts");
        c->reached = census_mem(c->reached, c->scratch_cap, c->cap, "the census's marks");
        c->scratch_cap = c->cap;
    }
    const size_t n = c->len;
    for (size_t i = 0; i < n; i++) c->refs[i] = c->objs[i]->refcount;
    memset(c->reached, 0, n);
    for (size_t i = 0; i < n; i++) {
        mm_object *o = c->objs[i];
        if (o->type->traverse) o->type->traverse(o, visit_subtract, c);
    }
    c->stack_len = 0;
    for (size_t i = 0; i < n; i++)
        if (c->refs[i] > 0) reach(c, i);
    for (size_t r = 0; r < h->roots_len; r++)
        if (*h->roots[r] != NULL) reach(c, index_of(c, *h->roots[r]));
    while (c->stack_len > 0) {
        mm_object *o = c->stack[--c->stack_len];
        if (o->type->traverse) o->type->traverse(o, visit_reach, c);
    }
    out->allocations = c->allocations;
    out->live_objects = n;
    for (size_t i = 0; i < n; i++) {
        mm_object *o = c->objs[i];
        uint64_t bytes = mm_preheader_of(h, o->type) + mm_sizeof(o);
        if (o->type->owned_bytes) bytes += o->type->owned_bytes(o); /* a block apart (layout.h) */
        out->live_bytes += bytes;
        if (!c->reached[i]) {
            out->objects++;
            out->bytes += bytes;
        }
    }
    return true;
}

/* A pass that is due, now; the caller's function hears of it before and after. */
static void run_pass(mm_heap *h, struct mm_census *c) {
    mm_floating f;
    c->due = false;
    if (c->fn) c->fn(NULL, c->ctx);
    mm_floating_measure(h, &f);
    if (c->fn) c->fn(&f, c->ctx);
}

/* ---- the heap's calls (mm_new, mm_free_object, the collection bracket) --------------- */

void mm_census_on_new(mm_heap *h, mm_object *o) {
    struct mm_census *c = h->census;
    if (c->len == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : CENSUS_INITIAL;
        c->objs = census_mem(c->objs, c->cap * sizeof *c->objs, cap * sizeof *c->objs, "growing the census");
        c->cap = cap;
    }
    if (2 * (c->len + 1) > c->index_cap) index_grow(c);
    census_slot *s = find(c, o);
    s->key = o;
    s->idx = c->len;
    c->objs[c->len++] = o;
    c->allocations++;
    if (c->every && ++c->since >= c->every) {
        c->since = 0;
        c->due = true;
    }
    if (c->due && c->gc_depth == 0) run_pass(h, c);
}

void mm_census_on_free(mm_heap *h, mm_object *o) {
    struct mm_census *c = h->census;
    census_slot *s = find(c, o);
    if (s->key == NULL) return;
    size_t i = s->idx, last = c->len - 1;
    index_remove(c, s);
    if (i != last) {
        mm_object *moved = c->objs[last];
        c->objs[i] = moved;
        find(c, moved)->idx = i;
    }
    c->len--;
}

void mm_census_gc(mm_heap *h, bool begin) { h->census->gc_depth += begin ? 1 : -1; }
