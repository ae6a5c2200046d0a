/* reclaim_trial.c — `rc+trial`: reference counting plus Bacon and Rajan's
 * synchronous cycle collection by trial deletion ("Concurrent Cycle Collection
 * in Reference Counted Systems", ECOOP 2001, section 3, the synchronous
 * algorithm).
 *
 * Contract: an object is freed when its count reaches zero (mm_release, as
 * `rc`). A container whose count is decremented to a non-zero value may have
 * just become the last external link into a garbage cycle, so it is colored
 * purple and buffered as a candidate root, once (the `buffered` flag). When
 * the buffer holds `buffer=` candidates (and on mm_collect), the candidates are
 * examined: a subgraph reachable from them whose counts are explained entirely
 * by references from inside that subgraph is garbage and is freed.
 *
 * Invariant: outside a collection every live container is black (not in the
 * buffer) or purple (in the buffer, exactly once, at buffer[buffer_index]); no
 * object is gray or white; every refcount is the true count. An object freed
 * while buffered leaves the buffer first (before_free), so the buffer never
 * holds a dangling pointer.
 *
 * Where to start reading: trial_collect (the numbered steps).
 *
 * How the trial counts are kept, and why that is correct (the "count reaches
 * zero during MarkRoots" problem): MarkGray decrements the *real* refcount
 * field of each child of a gray object, but directly, never through
 * mm_decref. So a count that reaches zero during marking frees nothing and
 * calls no hook, and no program code runs between MarkRoots and the end of
 * ScanRoots. When ScanRoots ends, every decrement along an edge out of an
 * object that turned black has been undone by ScanBlack (which increments
 * each child of every object it blackens, including objects it rescues from
 * white), so a black object's count is its true count minus the edges from
 * white objects; white objects have count zero and every reference to them
 * comes from another white object. Hence the white set is exactly the part of
 * the examined subgraph unreachable from outside it, and freeing it leaves
 * every surviving count true (edges from white objects to black ones were
 * already subtracted). Only containers are colored and counted (as CPython's
 * collector does): a child that holds no references cannot be on a cycle, is
 * never decremented during marking, and loses its white parent's reference
 * through an ordinary mm_decref after the white set is freed.
 *
 * Finalizers and weak references (the slow path, taken only when a white
 * object has a finalizer or is weakly referenced): the counts the white edges
 * lost are restored first, so program code sees true counts; then, as
 * reclaim_gen.c does for CPython: weak references to white objects are cleared
 * (callbacks of weakrefs that are not garbage themselves run after all are
 * cleared), finalizers run once (PEP 442), the white set is partitioned again
 * on its own to find what a finalizer resurrected, and the rest is cleared
 * (tp_clear), which frees it through the refcount path. Every white object
 * that survives is buffered again as a candidate, so nothing is lost for the
 * next collection.
 *
 * Not modelled: freeze (a no-op: there are no generations to freeze), the
 * concurrent algorithm, Bacon-Rajan's acyclic ("green") types — every
 * container is a candidate. Increments are not hooked (mm_incref is the same
 * inline code for every strategy), so a purple object later incremented stays
 * purple rather than turning black: it is merely examined once more.
 *
 * The pre-header is {buffer_index, white_index, color, flags}: 16 bytes per
 * container (the paper fits color and flag into the count word; clarity over
 * packing is a design rule here).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gc_list.h"
#include "reclaim_trial.h"
#include "strategy.h"

/* Default candidate buffer size: large enough that collections are rare on
 * acyclic churn, small enough that a pause stays short. */
#define TRIAL_DEFAULT_BUFFER "10000"
/* The buffer and white indices are 32-bit (pre-header stays 16 bytes). */
#define TRIAL_MAX_INDEX UINT32_MAX

/* Colors of the paper. Black is 0 so that mm_new's zeroing makes objects black. */
enum { TRIAL_BLACK = 0, TRIAL_GRAY, TRIAL_WHITE, TRIAL_PURPLE };

enum {
    TRIAL_BUFFERED = 1u << 0, /* in the candidate buffer at buffer_index */
    TRIAL_IN_WHITE = 1u << 1, /* in this collection's white list at white_index */
};

typedef struct trial_head {
    uint32_t buffer_index;
    uint32_t white_index;
    uint32_t color;
    uint32_t flags;
} trial_head;


typedef struct trial_state {
    gc_stack buffer;  /* candidate roots (purple, buffered) */
    gc_stack roots;   /* the buffer taken over by the running collection */
    gc_stack work;    /* MarkGray / Scan work list */
    gc_stack black;   /* ScanBlack work list (runs inside Scan's loop) */
    gc_stack white;   /* this collection's white set; entries NULLed when freed */
    gc_stack leaves;  /* non-container children of white objects, decref'd last */
    size_t threshold;  /* `buffer=` */
    bool enabled;
    bool collecting;
    uint64_t freed_white; /* white objects freed in the running collection */
} trial_state;

static inline trial_head *head_of(mm_object *o) { return (trial_head *)o - 1; }
static inline trial_state *state_of(mm_heap *h) { return h->strategy_data; }

/* ---- knobs --------------------------------------------------------------------- */

static const mm_knob_desc trial_knobs[] = {
    {"buffer", MM_KNOB_COUNT, TRIAL_DEFAULT_BUFFER, 1, 100000000,
     "candidate roots buffered before a collection runs (Bacon-Rajan's root buffer)"},
    MM_POLICY_KNOB,
    MM_RELEASE_PAUSE_KNOB,
    MM_IMMORTAL_KNOB,
    {0},
};

/* The CLI's early check: `buffer=` is range-checked by its table; the policy by name. */
static bool trial_check(const mm_knobset *ks, char *err, size_t errlen) { return mm_policy_check(ks, err, errlen); }

static bool trial_init(mm_heap *h, const mm_knobset *ks, char *err, size_t errlen) {
    if (!trial_check(ks, err, errlen)) return false;
    trial_state *st = calloc(1, sizeof *st);
    if (st == NULL) {
        snprintf(err, errlen, "out of memory creating the collector");
        return false;
    }
    st->threshold = (size_t)mm_knob_int(ks, "buffer");
    st->enabled = true;
    h->strategy_data = st;
    return true;
}

/* Objects still buffered are leaks the harness has counted; only our state goes. */
static void trial_fini(mm_heap *h) {
    trial_state *st = state_of(h);
    gc_stack *all[] = {&st->buffer, &st->roots, &st->work, &st->black, &st->white, &st->leaves};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) free(all[i]->items);
    free(st);
}

/* ---- the buffer ------------------------------------------------------------------ */

/* The paper's PossibleRoot: purple, and into the buffer unless already there. */
static void possible_root(trial_state *st, mm_object *o) {
    trial_head *th = head_of(o);
    th->color = TRIAL_PURPLE;
    if (th->flags & TRIAL_BUFFERED) return;
    if (st->buffer.len >= TRIAL_MAX_INDEX) {
        fprintf(stderr, "memstrat: rc+trial candidate buffer overflow\n");
        abort();
    }
    th->flags |= TRIAL_BUFFERED;
    th->buffer_index = (uint32_t)st->buffer.len;
    gc_stack_push(&st->buffer, o);
}

/* O(1) removal of a freed object, so the buffer never holds a dangling pointer:
 * the last entry takes its place. */
static void buffer_remove(trial_state *st, mm_object *o) {
    trial_head *th = head_of(o);
    mm_object *last = st->buffer.items[--st->buffer.len];
    st->buffer.items[th->buffer_index] = last;
    head_of(last)->buffer_index = th->buffer_index;
    th->flags &= ~(uint32_t)TRIAL_BUFFERED;
}

/* ---- the three phases (work lists, never recursion) -------------------------------- */

/* MarkGray's visitor: the edge is trial-deleted (the real count, directly: no
 * hook fires at zero), and the child joins the gray subgraph. */
static void visit_gray(mm_object *child, void *arg) {
    if (!child->type->is_container) return;
    trial_state *st = arg;
    child->refcount--;
    trial_head *th = head_of(child);
    if (th->color != TRIAL_GRAY) {
        th->color = TRIAL_GRAY;
        gc_stack_push(&st->work, child);
    }
}

/* MarkGray(s): s and everything it reaches turn gray, each internal edge subtracted once. */
static size_t mark_gray(trial_state *st, mm_object *s) {
    size_t examined = 0;
    if (head_of(s)->color == TRIAL_GRAY) return 0;
    head_of(s)->color = TRIAL_GRAY;
    gc_stack_push(&st->work, s);
    while (st->work.len > 0) {
        mm_object *o = st->work.items[--st->work.len];
        examined++;
        if (o->type->traverse) o->type->traverse(o, visit_gray, st);
    }
    return examined;
}

/* ScanBlack's visitor: the edge's trial deletion is undone; a child not yet black
 * is live too (it may have been made white earlier in this scan: it is rescued). */
static void visit_black(mm_object *child, void *arg) {
    if (!child->type->is_container) return;
    trial_state *st = arg;
    child->refcount++;
    trial_head *th = head_of(child);
    if (th->color != TRIAL_BLACK) {
        th->color = TRIAL_BLACK;
        gc_stack_push(&st->black, child);
    }
}

/* ScanBlack(s): s has references from outside the gray subgraph, so it and all it reaches live. */
static void scan_black(trial_state *st, mm_object *s) {
    head_of(s)->color = TRIAL_BLACK;
    gc_stack_push(&st->black, s);
    while (st->black.len > 0) {
        mm_object *o = st->black.items[--st->black.len];
        if (o->type->traverse) o->type->traverse(o, visit_black, st);
    }
}

/* Scan's visitor: every container child is scanned in turn (Scan acts only on gray ones). */
static void visit_scan(mm_object *child, void *arg) {
    if (child->type->is_container) gc_stack_push(&((trial_state *)arg)->work, child);
}

/* Scan(s): a gray object with a count left is referenced from outside: black, with
 * what it reaches; one with none is tentatively white, and its children are scanned. */
static void scan(trial_state *st, mm_object *s) {
    gc_stack_push(&st->work, s);
    while (st->work.len > 0) {
        mm_object *o = st->work.items[--st->work.len];
        trial_head *th = head_of(o);
        if (th->color != TRIAL_GRAY) continue;
        if (o->refcount > 0) {
            scan_black(st, o);
        } else {
            th->color = TRIAL_WHITE;
            gc_stack_push(&st->white, o);
            if (o->type->traverse) o->type->traverse(o, visit_scan, st);
        }
    }
}

/* Keeps only the objects still white (ScanBlack may have rescued some after they
 * were listed), records each one's place, and says whether any needs the slow path. */
static bool settle_white(trial_state *st) {
    bool slow = false;
    size_t n = 0;
    for (size_t i = 0; i < st->white.len; i++) {
        mm_object *o = st->white.items[i];
        trial_head *th = head_of(o);
        if (th->color != TRIAL_WHITE || (th->flags & TRIAL_IN_WHITE)) continue;
        if (n >= TRIAL_MAX_INDEX) {
            fprintf(stderr, "memstrat: rc+trial white set overflow\n");
            abort();
        }
        th->flags |= TRIAL_IN_WHITE;
        th->white_index = (uint32_t)n;
        st->white.items[n++] = o;
        const mm_type *t = o->type;
        if (t->finalize || (t->weaklist_offset && *(mm_object **)((char *)o + t->weaklist_offset))) slow = true;
    }
    st->white.len = n;
    return slow;
}

/* CollectWhite's visitor: children that hold no references were never trial-decremented. */
static void visit_leaf(mm_object *child, void *arg) {
    if (!child->type->is_container) gc_stack_push(&((trial_state *)arg)->leaves, child);
}

/* The paper's CollectWhite, for a white set without finalizers or weakly
 * referenced members: no program code can run before everything is freed, so the
 * white objects are freed directly; edges among them need no counting, edges to
 * black containers were subtracted by MarkGray, and leaf children get their
 * ordinary decrement afterwards. */
static void collect_white_fast(mm_heap *h, trial_state *st) {
    for (size_t i = 0; i < st->white.len; i++) {
        mm_object *o = st->white.items[i];
        if (o->type->traverse) o->type->traverse(o, visit_leaf, st);
    }
    for (size_t i = 0; i < st->white.len; i++) mm_free_object(h, st->white.items[i]);
    st->white.len = 0;
    while (st->leaves.len > 0) mm_decref(h, st->leaves.items[--st->leaves.len]);
}

/* ---- the slow path: finalizers and weak references ---------------------------------- */

/* Undoes the trial deletion of white objects' edges, so program code sees true counts. */
static void visit_restore(mm_object *child, void *arg) {
    (void)arg;
    if (child->type->is_container) child->refcount++;
}

/* Collects the weakrefs with callbacks, to run once every weakref to garbage reads empty. */
static void batch_weakref(mm_heap *h, mm_object *wr, void *arg) {
    (void)h;
    /* A weakref that is garbage itself gets no callback (CPython's rule). */
    if (head_of(wr)->flags & TRIAL_IN_WHITE) return;
    mm_incref(wr);
    gc_stack_push(arg, wr);
}

/* Resurrection check: counts of white set members minus references from inside it. */
static void visit_in_white_subtract(mm_object *child, void *arg) {
    if (!child->type->is_container) return;
    trial_head *th = head_of(child);
    if ((th->flags & TRIAL_IN_WHITE) && th->color == TRIAL_WHITE) ((intptr_t *)arg)[th->white_index]--;
}

static void visit_in_white_rescue(mm_object *child, void *arg) {
    if (!child->type->is_container) return;
    trial_head *th = head_of(child);
    if ((th->flags & TRIAL_IN_WHITE) && th->color == TRIAL_WHITE) {
        th->color = TRIAL_BLACK;
        gc_stack_push(arg, child);
    }
}

/* After finalizers ran, the white set is partitioned again on its own (as CPython's
 * handle_resurrected_objects): a member referenced from outside it now lives, with
 * what it reaches in the set (they turn black). */
static void split_resurrected(trial_state *st) {
    size_t n = st->white.len;
    intptr_t *refs;
    while ((refs = calloc(n ? n : 1, sizeof *refs)) == NULL) mm_out_of_memory("the trial-deletion collector's resurrection check");
    for (size_t i = 0; i < n; i++)
        if (st->white.items[i]) refs[i] = st->white.items[i]->refcount;
    for (size_t i = 0; i < n; i++) {
        mm_object *o = st->white.items[i];
        if (o && o->type->traverse) o->type->traverse(o, visit_in_white_subtract, refs);
    }
    for (size_t i = 0; i < n; i++) {
        mm_object *o = st->white.items[i];
        if (o == NULL || refs[i] <= 0 || head_of(o)->color != TRIAL_WHITE) continue;
        head_of(o)->color = TRIAL_BLACK;
        gc_stack_push(&st->work, o);
        while (st->work.len > 0) {
            mm_object *x = st->work.items[--st->work.len];
            if (x->type->traverse) x->type->traverse(x, visit_in_white_rescue, &st->work);
        }
    }
    free(refs);
}

/* The white set when program code may run: the order reclaim_gen.c follows.
 *   a. restore the counts white edges lost;
 *   b. clear every weakref to a white object, then run the callbacks of those
 *      that are not garbage themselves;
 *   c. run each white object's finalizer once (PEP 442);
 *   d. if any ran, find what they resurrected (it turns black);
 *   e. clear (tp_clear) what is still white, holding a reference across the
 *      call: the refcount path frees it (before_free NULLs its white entry). */
static void collect_white_slow(mm_heap *h, trial_state *st) {
    for (size_t i = 0; i < st->white.len; i++) {
        mm_object *o = st->white.items[i];
        if (o->type->traverse) o->type->traverse(o, visit_restore, NULL);
    }
    gc_stack callbacks = {0};
    for (size_t i = 0; i < st->white.len; i++) {
        mm_object *o = st->white.items[i];
        const mm_type *t = o->type;
        if (t->weaklist_offset && *(mm_object **)((char *)o + t->weaklist_offset))
            mm_weakrefs_clear(h, o, batch_weakref, &callbacks);
    }
    for (size_t i = 0; i < callbacks.len; i++) {
        mm_weakref_fire(h, callbacks.items[i]);
        mm_decref(h, callbacks.items[i]);
    }
    free(callbacks.items);
    size_t ran = 0;
    for (size_t i = 0; i < st->white.len; i++) {
        mm_object *o = st->white.items[i];
        if (o == NULL || !o->type->finalize || mm_finalized(h, o)) continue;
        mm_set_finalized(h, o);
        mm_incref(o);
        o->type->finalize(h, o);
        mm_decref(h, o);
        ran++;
    }
    if (ran > 0) split_resurrected(st);
    for (size_t i = 0; i < st->white.len; i++) {
        mm_object *o = st->white.items[i];
        if (o == NULL || head_of(o)->color != TRIAL_WHITE) continue;
        gc_clear_one(h, o);
        if (st->white.items[i] != NULL) head_of(o)->color = TRIAL_BLACK; /* survived its clear */
    }
}

/* ---- the collection ------------------------------------------------------------------- */

/* One synchronous collection (the paper's CollectCycles):
 *   1. take the buffer over as the roots (the buffer starts empty again, so
 *      program code in step 5 can buffer new candidates);
 *   2. MarkRoots: MarkGray from each root still purple (a root already made
 *      gray by an earlier root's MarkGray needs nothing more);
 *   3. ScanRoots: Scan each root;
 *   4. list the white set (each member once, with its place);
 *   5. CollectRoots: free the white set — directly (CollectWhite), or by the
 *      slow path when a member has a finalizer or weak references;
 *   6. members that survived (resurrected, or kept by a clear) are buffered
 *      again; collected = white objects freed. */
static uint64_t trial_collect(mm_heap *h) {
    trial_state *st = state_of(h);
    st->collecting = true;
    st->freed_white = 0;
    mm_gc_begin(h, 0);

    gc_stack roots = st->buffer;
    st->buffer = st->roots;
    st->buffer.len = 0;
    size_t examined = 0;
    for (size_t i = 0; i < roots.len; i++) {
        mm_object *r = roots.items[i];
        head_of(r)->flags &= ~(uint32_t)TRIAL_BUFFERED;
        if (head_of(r)->color == TRIAL_PURPLE) examined += mark_gray(st, r);
    }
    for (size_t i = 0; i < roots.len; i++) scan(st, roots.items[i]);
    roots.len = 0;
    st->roots = roots;

    if (settle_white(st))
        collect_white_slow(h, st);
    else
        collect_white_fast(h, st);

    for (size_t i = 0; i < st->white.len; i++) {
        mm_object *o = st->white.items[i];
        if (o == NULL) continue;
        head_of(o)->flags &= ~(uint32_t)TRIAL_IN_WHITE;
        possible_root(st, o);
    }
    st->white.len = 0;

    mm_gc_info info = {.generation = 0, .examined = examined, .collected = st->freed_white, .uncollectable = 0};
    st->collecting = false;
    mm_gc_end(h, &info);
    return info.collected;
}

/* ---- hooks ------------------------------------------------------------------------------ */

/* The automatic trigger; never inside a release cascade (the first trigger point
 * after it collects instead), never nested, never while disabled. */
static inline bool should_collect(mm_heap *h, trial_state *st) {
    return MM_UNLIKELY(st->buffer.len >= st->threshold) && st->enabled && !st->collecting && !h->releasing;
}

/* Decrement to non-zero: the object may now be the last link into a garbage cycle. */
static void trial_on_decref_nonzero(mm_heap *h, mm_object *o) {
    if (!o->type->is_container) return;
    trial_state *st = state_of(h);
    /* A member of the running collection's white set is buffered after it, if it survives. */
    if (MM_UNLIKELY(head_of(o)->flags & TRIAL_IN_WHITE)) return;
    possible_root(st, o);
    if (should_collect(h, st)) trial_collect(h);
}

/* Allocation: a full buffer left by a release cascade is collected here. */
static void trial_on_new(mm_heap *h, mm_object *o) {
    trial_state *st = state_of(h);
    if (o->type->is_container && should_collect(h, st)) trial_collect(h);
}

/* Free: out of the buffer and out of the white set, so neither holds a dangling pointer. */
static void trial_before_free(mm_heap *h, mm_object *o) {
    if (!o->type->is_container) return;
    trial_state *st = state_of(h);
    trial_head *th = head_of(o);
    if (th->flags & TRIAL_BUFFERED) buffer_remove(st, o);
    if (th->flags & TRIAL_IN_WHITE) {
        st->white.items[th->white_index] = NULL;
        st->freed_white++;
    }
    th->flags = 0;
}

/* mm_collect(g): every generation number means the one kind of collection there is;
 * runs when automatic collection is off too; not re-entrant. */
static uint64_t trial_collect_hook(mm_heap *h, int generation) {
    (void)generation;
    trial_state *st = state_of(h);
    if (st->collecting) return 0;
    return trial_collect(h);
}

static void trial_set_enabled(mm_heap *h, bool enabled) { state_of(h)->enabled = enabled; }

/* ---- introspection for tests --------------------------------------------------------------- */

size_t mm_trial_buffered(mm_heap *h) { return state_of(h)->buffer.len; }

bool mm_trial_is_clean(mm_heap *h, mm_object *o) {
    (void)h;
    if (!o->type->is_container) return true;
    const trial_head *th = head_of(o);
    return th->color == TRIAL_BLACK && th->flags == 0;
}

const mm_strategy mm_strategy_trial = {
    .name = "rc+trial",
    .summary = "refcounting + Bacon-Rajan synchronous trial deletion (candidate buffer, MarkGray/Scan/CollectWhite)",
    .knobs = trial_knobs,
    .preheader = sizeof(trial_head),
    .has_collector = true,
    .generations = 1,
    .pause_kinds = "trial",
    .check = trial_check,
    .init = trial_init,
    .fini = trial_fini,
    .on_new = trial_on_new,
    .on_zero = mm_release,
    .on_decref_nonzero = trial_on_decref_nonzero,
    .before_free = trial_before_free,
    .collect = trial_collect_hook,
    .set_enabled = trial_set_enabled,
};
