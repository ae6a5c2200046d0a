/* graph_property.h — the random-graph property harness the collectors' C tests
 * share: a world of GP_HANDLES program holds, a deterministic rng per seed, one
 * random operation per step (new object, store, 2-cycle, drop, hold a referent,
 * self-cycle garbage, or "collect", which the test does its own way), the walk
 * of what the holds reach, and the heap verifier.
 *
 * Contract: a test defines GP_HANDLES before including this header if it wants
 * other than 1024 holds; it fills a gp_world (gp_world_new) with its strategy's
 * introspection table (gp_gc: thin wrappers over mm_<strategy>_is_tracked,
 * _for_each, _incoming_prepare/_incoming/_incoming_finish) and its node
 * constructor, seeds the rng with gp_seed, then calls gp_step in its loop and
 * handles GP_COLLECT itself (gp_collect_random is the common handling; then
 * gp_finish ends the seed). The same seed and mix give the same program, call
 * for call; the strategy-specific checks (observers, presets, roots) stay in
 * the test.
 *
 * Invariant the verifier checks (gp_verify, after collections): every object
 * the strategy tracks answers is_tracked (before the incoming counts too, when
 * gc->tracked_first) and has refcount == references to it from tracked objects
 * + the program's holds (one object may have one more while the allocating
 * caller's reference is the only extra one, when gc->newborn_ok); every
 * referent of a tracked object is tracked (nothing reachable was freed);
 * gc->heap_ok holds; live == tracked. After a full collection the live set is
 * exactly what the holds reach.
 */
#ifndef MS_GRAPH_PROPERTY_H
#define MS_GRAPH_PROPERTY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mm.h"
#include "ptrmap.h"
#include "test_util.h"

#ifndef GP_HANDLES
/* Program holds: bounds the live set while garbage keeps coming. */
#define GP_HANDLES 1024
#endif

/* A strategy's introspection, as the verifier needs it. incoming_prepare NULL:
 * the strategy has no incoming counts of its own, the verifier counts them. */
typedef struct gp_gc {
    bool (*is_tracked)(mm_heap *h, mm_object *o);
    void (*for_each)(mm_heap *h, void (*fn)(mm_object *o, void *ctx), void *ctx);
    intptr_t (*incoming_prepare)(mm_heap *h);
    intptr_t (*incoming)(mm_heap *h, mm_object *o);
    void (*incoming_finish)(mm_heap *h);
    bool (*heap_ok)(mm_heap *h); /* optional: the strategy's own between-collections check */
    bool tracked_first;          /* also check is_tracked before incoming_prepare borrows the heads */
    bool newborn_ok;             /* a collection inside mm_new may see the new object tracked */
} gp_gc;

/* The program's state: what it holds, and the tallies of the checks. */
typedef struct gp_world {
    mm_object *held[GP_HANDLES];
    const gp_gc *gc;
    mm_object *(*make)(mm_heap *h, size_t k); /* the "new" operation's constructor */
    bool in_alloc;                            /* make() of the "new" operation is running */
    long verify_runs, verify_failures;
    long full_checks, full_failures;
} gp_world;

/* Op mix: kind = rnd() % range; each op runs while kind is below its bound (the
 * bounds ascend; an op a test does not use has its predecessor's bound); kinds
 * at or above garbage_below are GP_COLLECT. */
typedef struct gp_mix {
    unsigned range;
    unsigned new_below, store_below, cycle2_below, drop_below, hold_below, garbage_below;
    size_t max_slots; /* a new object has 0..max_slots slots */
} gp_mix;

typedef enum { GP_NEW, GP_STORE, GP_CYCLE2, GP_DROP, GP_HOLD, GP_GARBAGE, GP_COLLECT } gp_op;

/* The generational collectors' mix (rc+gen, rc+incr, rc+pep848): 35% new (0..4
 * slots, as small as Python objects are), 40% store, 15% drop, 9% hold a
 * referent, 1% collect. */
__attribute__((unused)) static const gp_mix gp_mix_generational = {100, 35, 75, 75, 90, 99, 99, 4};

/* A zeroed world on the heap (its holds may be registered as roots: it must not move). */
static inline gp_world *gp_world_new(const gp_gc *gc, mm_object *(*make)(mm_heap *, size_t)) {
    gp_world *w = calloc(1, sizeof *w);
    if (w == NULL) {
        fprintf(stderr, "gp_world_new: out of memory\n");
        exit(1);
    }
    w->gc = gc;
    w->make = make;
    return w;
}

/* ---- rng: xorshift64*, deterministic per seed, no libc rand state ------------------ */

static uint64_t gp_rng_state;

static inline void gp_seed(uint64_t seed) { gp_rng_state = seed * 0x9E3779B97F4A7C15ull + 1; }

static inline uint64_t gp_rnd(void) {
    gp_rng_state ^= gp_rng_state >> 12;
    gp_rng_state ^= gp_rng_state << 25;
    gp_rng_state ^= gp_rng_state >> 27;
    return gp_rng_state * 2685821657736338717ull;
}

/* MS_PROPERTY_SEEDS / MS_PROPERTY_OPS override a test's defaults (longer soak runs). */
static inline int gp_env_seeds(int dflt) {
    const char *e = getenv("MS_PROPERTY_SEEDS");
    return e ? atoi(e) : dflt;
}
static inline long gp_env_ops(long dflt) {
    const char *e = getenv("MS_PROPERTY_OPS");
    return e ? atol(e) : dflt;
}

/* ---- the operations ----------------------------------------------------------------- */

static inline size_t gp_nitems(mm_object *o) { return ((mm_varobject *)o)->nitems; }

/* A self-cycle made and dropped at once: garbage only a collection frees. */
static inline void gp_garbage_cycle(gp_world *w, mm_heap *h) {
    mm_object *o = w->make(h, 1);
    link_slot(h, o, 0, o);
    mm_decref(h, o);
}

/* One random operation on holds i and j. A hold is cleared before its object is
 * released, and a "new" drops the old hold before allocating: a collection may
 * run inside mm_new and must not see a hold to a freed object. */
static inline gp_op gp_step(gp_world *w, mm_heap *h, const gp_mix *m) {
    int i = (int)(gp_rnd() % GP_HANDLES), j = (int)(gp_rnd() % GP_HANDLES);
    unsigned kind = (unsigned)(gp_rnd() % m->range);
    if (kind < m->new_below) {
        mm_object *old = w->held[i];
        w->held[i] = NULL;
        if (old) mm_decref(h, old);
        w->in_alloc = true;
        mm_object *o = w->make(h, gp_rnd() % (m->max_slots + 1));
        w->in_alloc = false;
        w->held[i] = o;
        return GP_NEW;
    }
    if (kind < m->store_below) {
        mm_object *o = w->held[i];
        if (o && gp_nitems(o)) link_slot(h, o, gp_rnd() % gp_nitems(o), w->held[j]);
        return GP_STORE;
    }
    if (kind < m->cycle2_below) { /* store both ways: a 2-cycle (or a self-loop) */
        mm_object *o = w->held[i], *p = w->held[j];
        if (o && p && gp_nitems(o) && gp_nitems(p)) {
            link_slot(h, o, gp_rnd() % gp_nitems(o), p);
            link_slot(h, p, gp_rnd() % gp_nitems(p), o);
        }
        return GP_CYCLE2;
    }
    if (kind < m->drop_below) {
        mm_object *o = w->held[i];
        w->held[i] = NULL;
        if (o) mm_decref(h, o);
        return GP_DROP;
    }
    if (kind < m->hold_below) { /* hold a referent of another held object */
        mm_object *o = w->held[j];
        if (o && gp_nitems(o)) {
            mm_object *t = mm_as_ref(mm_var_items(o)[gp_rnd() % gp_nitems(o)]);
            if (t) mm_incref(t);
            mm_object *old = w->held[i];
            w->held[i] = t;
            if (old) mm_decref(h, old);
        }
        return GP_HOLD;
    }
    if (kind < m->garbage_below) {
        gp_garbage_cycle(w, h);
        return GP_GARBAGE;
    }
    return GP_COLLECT;
}

/* Registers every hold as a root (the strategies that mark from roots then do). */
static inline void gp_root_holds(gp_world *w, mm_heap *h) {
    for (int i = 0; i < GP_HANDLES; i++) mm_root_push(h, &w->held[i]);
}

/* Drops every hold: afterwards only garbage is left for the final collection. */
static inline void gp_release_holds(gp_world *w, mm_heap *h) {
    for (int i = 0; i < GP_HANDLES; i++) {
        mm_object *o = w->held[i];
        w->held[i] = NULL;
        if (o) mm_decref(h, o);
    }
}

/* ---- what the holds reach ------------------------------------------------------------ */

/* The walk: seen maps each reached object to its references from reached objects
 * plus holds; stack[0..len) lists the reached objects in the order reached. */
typedef struct gp_reach {
    ptrmap seen;
    mm_object **stack;
    size_t len, cap;
    bool (*sane)(mm_object *o); /* optional: checked once per reached object */
    long bad;                   /* reached objects that failed sane */
} gp_reach;

/* Counts one reference to o and schedules o's own references the first time. */
static inline void gp_reach_visit(mm_object *o, void *arg) {
    gp_reach *r = arg;
    long *n = pm_get(&r->seen, o, false);
    if (n) {
        ++*n;
        return;
    }
    if (r->sane && !r->sane(o)) r->bad++;
    *pm_get(&r->seen, o, true) = 1;
    if (r->len == r->cap) r->stack = realloc(r->stack, (r->cap = r->cap ? 2 * r->cap : 1024) * sizeof *r->stack);
    r->stack[r->len++] = o;
}

/* Walks from the n holds; the caller frees r->seen and r->stack (gp_reach_free). */
static inline void gp_reach_walk(gp_reach *r, mm_object *const *held, size_t n) {
    pm_init(&r->seen, 4096);
    for (size_t i = 0; i < n; i++)
        if (held[i]) gp_reach_visit(held[i], r);
    for (size_t k = 0; k < r->len; k++) r->stack[k]->type->traverse(r->stack[k], gp_reach_visit, r);
}

static inline void gp_reach_free(gp_reach *r) {
    pm_free(&r->seen);
    free(r->stack);
}

/* Objects reachable from the holds: after a full collection, exactly the live set. */
static inline size_t gp_reachable(mm_object *const *held, size_t n) {
    gp_reach r = {0};
    gp_reach_walk(&r, held, n);
    size_t count = r.seen.len;
    gp_reach_free(&r);
    return count;
}

static inline size_t gp_reachable_count(const gp_world *w) { return gp_reachable(w->held, GP_HANDLES); }

/* ---- the heap verifier ---------------------------------------------------------------- */

typedef struct gp_verify_ctx {
    gp_world *w;
    mm_heap *h;
    ptrmap holds, incoming; /* incoming: only when the strategy has no counts of its own */
    long tracked, bad, newborn;
} gp_verify_ctx;

static inline void gp_count_in(mm_object *child, void *arg) {
    gp_verify_ctx *v = arg;
    ++*pm_get(&v->incoming, child, true);
}

static inline void gp_count_out(mm_object *o, void *arg) {
    if (o->type->traverse) o->type->traverse(o, gp_count_in, arg);
}

static inline void gp_check_tracked(mm_object *o, void *arg) {
    gp_verify_ctx *v = arg;
    if (!v->w->gc->is_tracked(v->h, o)) v->bad++;
}

static inline void gp_check_one(mm_object *o, void *arg) {
    gp_verify_ctx *v = arg;
    const gp_gc *gc = v->w->gc;
    v->tracked++;
    long *ext = pm_get(&v->holds, o, false);
    intptr_t in;
    if (gc->incoming_prepare) {
        in = gc->incoming(v->h, o);
    } else {
        long *n = pm_get(&v->incoming, o, false);
        in = n ? *n : 0;
    }
    intptr_t expect = in + (ext ? *ext : 0);
    /* the allocating caller's reference, which no hold records yet; not yet counted live either */
    if (gc->newborn_ok && v->w->in_alloc && o->refcount == expect + 1 && v->newborn == 0)
        v->newborn++;
    else if (!gc->is_tracked(v->h, o) || o->refcount != expect)
        v->bad++;
    if (o->type->traverse) o->type->traverse(o, gp_check_tracked, v);
}

/* The verifier (an mm_*_set_verifier callback, arg = the world, and called
 * explicitly so release builds verify too): see the invariant above. Counts a
 * run, and a failure with one line on the first. */
static inline void gp_verify(mm_heap *h, void *arg) {
    gp_world *w = arg;
    const gp_gc *gc = w->gc;
    gp_verify_ctx v = {.w = w, .h = h};
    if (gc->tracked_first) gc->for_each(h, gp_check_tracked, &v);
    if (gc->heap_ok && !gc->heap_ok(h)) v.bad++;
    pm_init(&v.holds, 4 * GP_HANDLES);
    for (int i = 0; i < GP_HANDLES; i++)
        if (w->held[i]) ++*pm_get(&v.holds, w->held[i], true);
    if (gc->incoming_prepare) {
        gc->incoming_prepare(h);
        gc->for_each(h, gp_check_one, &v);
        gc->incoming_finish(h);
    } else {
        pm_init(&v.incoming, 4 * GP_HANDLES);
        gc->for_each(h, gp_count_out, &v);
        gc->for_each(h, gp_check_one, &v);
        pm_free(&v.incoming);
    }
    if ((uint64_t)(v.tracked - v.newborn) != live(h)) v.bad++;
    w->verify_runs++;
    if (v.bad) {
        if (w->verify_failures == 0) fprintf(stderr, "verifier: %ld inconsistencies\n", v.bad);
        w->verify_failures++;
    }
    pm_free(&v.holds);
}

/* The usual GP_COLLECT: a random generation (0, 1, 2); after a full one the
 * live set must be exactly what the holds reach; then the verifier. */
static inline void gp_collect_random(gp_world *w, mm_heap *h) {
    int g = (int)(gp_rnd() % 3);
    mm_collect(h, g);
    if (g == 2) {
        w->full_checks++;
        if (gp_reachable_count(w) != live(h)) w->full_failures++;
    }
    gp_verify(h, w);
}

/* The end-of-seed check every verified property test makes. */
static inline void gp_check_verified(const gp_world *w, uint64_t seed) {
    CHECK(w->verify_failures == 0, "seed %llu: %ld of %ld verifications failed", (unsigned long long)seed,
          w->verify_failures, w->verify_runs);
}

/* The end of a seed run with gp_collect_random: verify once more, drop every
 * hold (and its root), a full collection; then the verifier and the full-
 * collection checks held throughout, and nothing at all is alive. */
static inline void gp_finish(gp_world *w, mm_heap *h, uint64_t seed, bool rooted) {
    gp_verify(h, w);
    gp_release_holds(w, h);
    if (rooted) mm_root_pop(h, GP_HANDLES);
    mm_collect(h, MM_COLLECT_FULL);
    gp_check_verified(w, seed);
    CHECK(w->full_failures == 0, "seed %llu: %ld of %ld full collections left garbage", (unsigned long long)seed,
          w->full_failures, w->full_checks);
    CHECK(live(h) == 0, "seed %llu: %llu objects survive the final full collection", (unsigned long long)seed,
          (unsigned long long)live(h));
}

#endif
