/* reclaim_gen.c — `rc+gen`: reference counting plus CPython 3.11's generational
 * cycle collector (Modules/gcmodule.c), rule for rule.
 *
 * Invariant: every live container is in exactly one list — generation 0, 1, 2 or
 * the permanent generation — while it is tracked; during a collection, the
 * generation being collected is split into survivors (reachable from outside the
 * generation) and `unreachable`, and only objects in `unreachable` are cleared.
 *
 * Counts (what decides when a collection happens, and which):
 *   - gen0.count += 1 on each container allocation, -= 1 on each container
 *     free while > 0; a collection triggers when gen0.count > threshold0
 *     (strict), the collector is enabled, threshold0 != 0 and none is running —
 *     and this is checked *before* the new object is tracked, as CPython checks
 *     in _PyObject_GC_Link before the type tracks the object;
 *   - the collected generation is the oldest g with count[g] > threshold[g],
 *     except that 2 is skipped while long_lived_pending < long_lived_total / 4;
 *   - collecting g: count[g+1] += 1, count[0..g] = 0.
 *
 * Where to start reading: collect_generation (the numbered steps).
 *
 * Not modelled: legacy tp_del finalizers (so `uncollectable` is always 0, as for
 * any 3.11 program without C-level tp_del), the untracking of tuples and dicts
 * (memstrat has neither as a tracked type yet), DEBUG_SAVEALL. Finalizers
 * (PEP 442) and weak references arrive with the object API's support for them.
 *
 * The pre-header is {next, prev, gc_refs, flags}: 32 bytes, where CPython packs
 * the same information into 16 by hiding gc_refs and flags in the low bits of
 * the two links. The suite reports the 32 (`preheader_bytes`): clarity over
 * that trick is a design rule here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reclaim_gen.h"
#include "strategy.h"

#define NUM_GENERATIONS 3
/* CPython 3.11's gc thresholds (gc.get_threshold() on a fresh interpreter). */
#define CPYTHON311_THRESHOLDS {700, 10, 10}
/* CPython 3.13 raised threshold0 to 2000 and kept the rest. */
#define CPYTHON313_THRESHOLDS {2000, 10, 10}
/* Growth of the mark work list; it doubles from here. */
#define GC_WORK_INITIAL 1024

enum {
    GC_TRACKED = 1u << 0,     /* in one of the generation lists */
    GC_COLLECTING = 1u << 1,  /* in the generation being collected */
    GC_UNREACHABLE = 1u << 2, /* in the tentatively unreachable list */
    GC_PERMANENT = 1u << 3,   /* frozen */
    GC_FLAGS_ALL = (1u << 4) - 1,
};

typedef struct gc_head {
    struct gc_head *next, *prev;
    intptr_t gc_refs; /* during a collection: references from outside the generation */
    uintptr_t flags;
} gc_head;

typedef struct gc_gen {
    gc_head head; /* sentinel of a circular doubly linked list */
    long threshold;
    long count;
} gc_gen;

typedef struct gc_state {
    gc_gen gen[NUM_GENERATIONS];
    gc_head permanent;
    bool enabled;
    bool collecting;
    size_t long_lived_total;   /* survivors of the last full collection */
    size_t long_lived_pending; /* survivors of gen1 collections since then */
    struct gc_stack {
        mm_object **items;
        size_t len, cap;
    } mark_stack;              /* kept between collections: no allocation per collection */
    mm_gen_verify_fn verify;   /* debug: called after every collection */
    void *verify_ctx;
} gc_state;

static inline gc_head *as_gc(mm_object *o) { return (gc_head *)o - 1; }
static inline mm_object *from_gc(gc_head *g) { return (mm_object *)(g + 1); }
static inline gc_state *state_of(mm_heap *h) { return h->strategy_data; }

/* ---- lists ------------------------------------------------------------------ */

static void list_init(gc_head *l) { l->next = l->prev = l; }
static bool list_empty(const gc_head *l) { return l->next == l; }

static void list_append(gc_head *node, gc_head *list) {
    node->prev = list->prev;
    node->next = list;
    list->prev->next = node;
    list->prev = node;
}

static void list_remove(gc_head *node) {
    node->prev->next = node->next;
    node->next->prev = node->prev;
    node->next = node->prev = NULL;
}

static void list_move(gc_head *node, gc_head *list) {
    list_remove(node);
    list_append(node, list);
}

/* Appends all of from to to, leaving from empty: O(1), as merging generations must be. */
static void list_merge(gc_head *from, gc_head *to) {
    if (list_empty(from)) return;
    gc_head *first = from->next, *last = from->prev;
    first->prev = to->prev;
    to->prev->next = first;
    last->next = to;
    to->prev = last;
    list_init(from);
}

static size_t list_size(const gc_head *l) {
    size_t n = 0;
    for (const gc_head *g = l->next; g != l; g = g->next) n++;
    return n;
}

/* ---- knobs ------------------------------------------------------------------- */

static const mm_knob_desc gen_knobs[] = {
    {"gc", MM_KNOB_STRING, "cpython311", 0, 0,
     "thresholds: T0,T1,T2 | cpython311 (700,10,10) | cpython313 (2000,10,10) | off (automatic collection disabled)"},
    {0},
};

/* Reads `gc=`: a preset name or three non-negative thresholds. */
static bool parse_thresholds(const char *text, long out[NUM_GENERATIONS], bool *enabled, char *err, size_t errlen) {
    static const long t311[] = CPYTHON311_THRESHOLDS, t313[] = CPYTHON313_THRESHOLDS;
    *enabled = true;
    if (strcmp(text, "cpython311") == 0 || strcmp(text, "off") == 0) {
        memcpy(out, t311, sizeof t311);
        *enabled = strcmp(text, "off") != 0;
        return true;
    }
    if (strcmp(text, "cpython313") == 0) {
        memcpy(out, t313, sizeof t313);
        return true;
    }
    const char *p = text;
    for (int i = 0; i < NUM_GENERATIONS; i++) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 0 || v > 1000000000L || (i < NUM_GENERATIONS - 1 ? *end != ',' : *end != '\0')) {
            snprintf(err, errlen, "knob 'gc': '%s' is not T0,T1,T2 (non-negative) or cpython311, cpython313, off", text);
            return false;
        }
        out[i] = v;
        p = end + 1;
    }
    return true;
}

static bool gen_init(mm_heap *h, const mm_knobset *ks, char *err, size_t errlen) {
    long thresholds[NUM_GENERATIONS];
    bool enabled;
    if (!parse_thresholds(mm_knob_str(ks, "gc"), thresholds, &enabled, err, errlen)) return false;
    gc_state *st = calloc(1, sizeof *st);
    if (st == NULL) {
        snprintf(err, errlen, "out of memory creating the collector");
        return false;
    }
    for (int i = 0; i < NUM_GENERATIONS; i++) {
        list_init(&st->gen[i].head);
        st->gen[i].threshold = thresholds[i];
    }
    list_init(&st->permanent);
    st->enabled = enabled;
    h->strategy_data = st;
    return true;
}

/* Objects still tracked here are leaks the harness has counted; they stay, like
 * every leak, and only the collector's own state goes. */
static void gen_fini(mm_heap *h) {
    gc_state *st = state_of(h);
    free(st->mark_stack.items);
    free(st);
}

/* ---- the collection ------------------------------------------------------------ */

/* Step 2's visitor: a reference from inside the generation is not a reason to live. */
static void visit_decref(mm_object *child, void *arg) {
    (void)arg;
    if (!child->type->is_container) return;
    gc_head *g = as_gc(child);
    if (g->flags & GC_COLLECTING) g->gc_refs--;
}

/* Step 3's work list: survivors found but not yet scanned. */
typedef struct gc_stack gc_stack;

/* Grows the mark stack; abort on OOM, as a half-marked generation cannot be undone. */
static void stack_push_slow(gc_stack *s, mm_object *o) {
    size_t cap = s->cap ? s->cap * 2 : GC_WORK_INITIAL;
    mm_object **n = realloc(s->items, cap * sizeof *n);
    if (n == NULL) {
        fprintf(stderr, "memstrat: out of memory in the cycle collector's mark stack\n");
        abort();
    }
    s->items = n;
    s->cap = cap;
    s->items[s->len++] = o;
}

static inline void stack_push(gc_stack *s, mm_object *o) {
    if (MM_LIKELY(s->len < s->cap))
        s->items[s->len++] = o;
    else
        stack_push_slow(s, o);
}

/* Step 3's visitor: whatever a reachable object refers to is reachable. The
 * COLLECTING flag is cleared when an object is first found reachable, so each
 * is pushed and scanned once. */
static void visit_reachable(mm_object *child, void *arg) {
    if (!child->type->is_container) return;
    gc_head *g = as_gc(child);
    if (g->flags & GC_COLLECTING) {
        g->flags &= ~(uintptr_t)GC_COLLECTING;
        stack_push(arg, child);
    }
}

/* Calls visit on each reference of o. Fast path: the `slots` shape (fixed slots
 * after the header), inlined, since a full collection is mostly this loop; any
 * other shape goes through its type's traverse. */
#define GC_TRAVERSE(o, VISIT, arg)                                                        \
    do {                                                                                  \
        const mm_type *t_ = (o)->type;                                                    \
        if (MM_LIKELY(t_->traverse == mm_traverse_slots)) {                               \
            mm_value *s_ = mm_slots(o);                                                   \
            for (uint32_t i_ = 0; i_ < t_->nslots; i_++)                                  \
                if (mm_is_ref(s_[i_])) VISIT((mm_object *)s_[i_], arg);                   \
        } else if (t_->traverse) {                                                        \
            t_->traverse((o), VISIT, (arg));                                              \
        }                                                                                 \
    } while (0)

/* Splits young into reachable (stays, flags cleared) and unreachable (moved);
 * returns the number of survivors and sets *examined. The same partition as
 * CPython's update_refs / subtract_refs / move_unreachable, but step 3 marks
 * from the roots with an explicit stack instead of moving tentatively
 * unreachable objects back and forth: a list whose nodes precede their
 * referrer (every list built by prepending) would otherwise be moved twice,
 * node by node. Linear in the generation, no recursion. */
static size_t deduce_unreachable(gc_state *st, gc_head *young, gc_head *unreachable, size_t *examined) {
    size_t n = 0, survivors = 0;
    /* 1. gc_refs = refcount */
    for (gc_head *g = young->next; g != young; g = g->next) {
        g->gc_refs = from_gc(g)->refcount;
        g->flags |= GC_COLLECTING;
        n++;
    }
    /* 2. subtract the references held by objects of the generation itself */
    for (gc_head *g = young->next; g != young; g = g->next) {
        mm_object *o = from_gc(g);
        GC_TRAVERSE(o, visit_decref, NULL);
    }
    /* 3. gc_refs > 0 now means referred to from outside: a root. Mark everything
     *    reachable from the roots (clearing COLLECTING)... */
    gc_stack *stack = &st->mark_stack;
    for (gc_head *g = young->next; g != young; g = g->next) {
        if (g->gc_refs > 0 && (g->flags & GC_COLLECTING)) {
            g->flags &= ~(uintptr_t)GC_COLLECTING;
            stack_push(stack, from_gc(g));
            while (stack->len > 0) {
                mm_object *o = stack->items[--stack->len];
                GC_TRAVERSE(o, visit_reachable, stack);
            }
        }
    }
    /* 4. ...and what is still COLLECTING is unreachable. */
    for (gc_head *g = young->next, *next; g != young; g = next) {
        next = g->next;
        if (g->flags & GC_COLLECTING) {
            list_move(g, unreachable);
            g->flags |= GC_UNREACHABLE;
        } else {
            survivors++;
        }
    }
    *examined = n;
    return survivors;
}

/* Breaks the cycles: tp_clear on each unreachable object, holding a reference
 * across the call so the object cannot vanish mid-clear. An object that survives
 * its clear (someone still holds it) goes to the older generation. */
static void delete_garbage(mm_heap *h, gc_head *unreachable, gc_head *old) {
    while (!list_empty(unreachable)) {
        gc_head *g = unreachable->next;
        mm_object *o = from_gc(g);
        if (o->type->clear) {
            mm_incref(o);
            o->type->clear(h, o);
            mm_decref(h, o);
        }
        if (unreachable->next == g) {
            g->flags &= ~(uintptr_t)(GC_COLLECTING | GC_UNREACHABLE);
            list_move(g, old);
        }
    }
}

/* One collection of generation `generation`, CPython 3.11's gc_collect_main:
 *   1. counts: the next generation's count += 1; this and younger counts = 0;
 *   2. younger generations merge into this one;
 *   3. split it into reachable and unreachable (deduce_unreachable);
 *   4. survivors move to the next generation (long-lived bookkeeping);
 *   5. clear the unreachable objects; what survives clearing moves on too. */
static uint64_t collect_generation(mm_heap *h, int generation) {
    gc_state *st = state_of(h);
    mm_gc_begin(h, generation);
    if (generation + 1 < NUM_GENERATIONS) st->gen[generation + 1].count += 1;
    for (int i = 0; i <= generation; i++) st->gen[i].count = 0;
    for (int i = 0; i < generation; i++) list_merge(&st->gen[i].head, &st->gen[generation].head);

    gc_head *young = &st->gen[generation].head;
    gc_head *old = generation < NUM_GENERATIONS - 1 ? &st->gen[generation + 1].head : young;
    gc_head unreachable;
    list_init(&unreachable);
    size_t examined;
    size_t survivors = deduce_unreachable(st, young, &unreachable, &examined);

    if (young != old) {
        if (generation == NUM_GENERATIONS - 2) st->long_lived_pending += survivors;
        list_merge(young, old);
    } else {
        st->long_lived_pending = 0;
        st->long_lived_total = survivors;
    }

    size_t collected = examined - survivors;
    delete_garbage(h, &unreachable, old);

    mm_gc_info info = {.generation = generation, .examined = examined, .collected = collected, .uncollectable = 0};
    mm_gc_end(h, &info);
#if MM_DEBUG
    if (st->verify) st->verify(h, st->verify_ctx);
#endif
    return collected;
}

/* CPython's gc_collect_generations: the oldest generation over its threshold. */
static void collect_generations(mm_heap *h) {
    gc_state *st = state_of(h);
    for (int i = NUM_GENERATIONS - 1; i >= 0; i--) {
        if (st->gen[i].count > st->gen[i].threshold) {
            /* a full collection only when enough new long-lived objects piled up,
             * so that full collections stay linear overall (CPython's rule) */
            if (i == NUM_GENERATIONS - 1 && st->long_lived_pending < st->long_lived_total / 4) continue;
            collect_generation(h, i);
            break;
        }
    }
}

/* ---- hooks ------------------------------------------------------------------------ */

/* Allocation: count, maybe collect (the new object not yet tracked), then track. */
static void gen_on_new(mm_heap *h, mm_object *o) {
    if (!o->type->is_container) return;
    gc_state *st = state_of(h);
    gc_gen *g0 = &st->gen[0];
    g0->count++;
    if (MM_UNLIKELY(g0->count > g0->threshold) && st->enabled && g0->threshold && !st->collecting) {
        st->collecting = true;
        collect_generations(h);
        st->collecting = false;
    }
    gc_head *g = as_gc(o);
    g->flags = GC_TRACKED;
    list_append(g, &g0->head);
}

/* Free: untrack, and undo the allocation's count while it is positive. */
static void gen_before_free(mm_heap *h, mm_object *o) {
    if (!o->type->is_container) return;
    gc_state *st = state_of(h);
    gc_head *g = as_gc(o);
    if (g->flags & GC_TRACKED) list_remove(g);
    g->flags = 0;
    if (st->gen[0].count > 0) st->gen[0].count--;
}

/* gc.collect(g): runs even when automatic collection is disabled; not re-entrant. */
static uint64_t gen_collect(mm_heap *h, int generation) {
    gc_state *st = state_of(h);
    if (generation == MM_COLLECT_FULL || generation >= NUM_GENERATIONS) generation = NUM_GENERATIONS - 1;
    if (generation < 0 || st->collecting) return 0;
    st->collecting = true;
    uint64_t n = collect_generation(h, generation);
    st->collecting = false;
    return n;
}

static void gen_set_enabled(mm_heap *h, bool enabled) { state_of(h)->enabled = enabled; }

/* gc.freeze(): 3.11 resets only gen0's count (inside its loop over generations). */
static void gen_freeze(mm_heap *h) {
    gc_state *st = state_of(h);
    for (int i = 0; i < NUM_GENERATIONS; i++) {
        for (gc_head *g = st->gen[i].head.next; g != &st->gen[i].head; g = g->next) g->flags |= GC_PERMANENT;
        list_merge(&st->gen[i].head, &st->permanent);
    }
    st->gen[0].count = 0;
}

/* gc.unfreeze(): the permanent generation joins the oldest. */
static void gen_unfreeze(mm_heap *h) {
    gc_state *st = state_of(h);
    for (gc_head *g = st->permanent.next; g != &st->permanent; g = g->next) g->flags &= ~(uintptr_t)GC_PERMANENT;
    list_merge(&st->permanent, &st->gen[NUM_GENERATIONS - 1].head);
}

/* ---- introspection for tests and tools ------------------------------------------- */

void mm_gen_get_info(mm_heap *h, mm_gen_info *out) {
    gc_state *st = state_of(h);
    memset(out, 0, sizeof *out);
    for (int i = 0; i < NUM_GENERATIONS; i++) {
        out->count[i] = st->gen[i].count;
        out->threshold[i] = st->gen[i].threshold;
        out->size[i] = list_size(&st->gen[i].head);
    }
    out->permanent_size = list_size(&st->permanent);
    out->long_lived_total = st->long_lived_total;
    out->long_lived_pending = st->long_lived_pending;
    out->enabled = st->enabled;
}

void mm_gen_set_verifier(mm_heap *h, mm_gen_verify_fn fn, void *ctx) {
    gc_state *st = state_of(h);
    st->verify = fn;
    st->verify_ctx = ctx;
}

bool mm_gen_is_tracked(mm_object *o) {
    if (!o->type->is_container) return false;
    uintptr_t f = as_gc(o)->flags;
    return (f & ~(uintptr_t)GC_FLAGS_ALL) == 0 && (f & GC_TRACKED);
}

/* Visits every tracked object (all generations and the permanent one). */
void mm_gen_for_each(mm_heap *h, void (*fn)(mm_object *o, void *ctx), void *ctx) {
    gc_state *st = state_of(h);
    gc_head *lists[NUM_GENERATIONS + 1] = {&st->gen[0].head, &st->gen[1].head, &st->gen[2].head, &st->permanent};
    for (int i = 0; i <= NUM_GENERATIONS; i++)
        for (gc_head *g = lists[i]->next; g != lists[i]; g = g->next) fn(from_gc(g), ctx);
}

/* Scratch use of gc_refs outside collections: the incoming-reference count. */
static void count_incoming(mm_object *child, void *arg) {
    (void)arg;
    if (child->type->is_container) as_gc(child)->gc_refs++;
}

intptr_t mm_gen_incoming_prepare(mm_heap *h) {
    gc_state *st = state_of(h);
    gc_head *lists[NUM_GENERATIONS + 1] = {&st->gen[0].head, &st->gen[1].head, &st->gen[2].head, &st->permanent};
    intptr_t n = 0;
    for (int i = 0; i <= NUM_GENERATIONS; i++)
        for (gc_head *g = lists[i]->next; g != lists[i]; g = g->next, n++) g->gc_refs = 0;
    for (int i = 0; i <= NUM_GENERATIONS; i++) {
        for (gc_head *g = lists[i]->next; g != lists[i]; g = g->next) {
            mm_object *o = from_gc(g);
            if (o->type->traverse) o->type->traverse(o, count_incoming, NULL);
        }
    }
    return n;
}

intptr_t mm_gen_incoming(mm_object *o) { return as_gc(o)->gc_refs; }

const mm_strategy mm_strategy_gen = {
    .name = "rc+gen",
    .summary = "refcounting + CPython 3.11's 3-generation cycle collector (700/10/10, exact rules)",
    .knobs = gen_knobs,
    .preheader = sizeof(gc_head),
    .has_collector = true,
    .init = gen_init,
    .fini = gen_fini,
    .on_new = gen_on_new,
    .on_zero = mm_release,
    .before_free = gen_before_free,
    .collect = gen_collect,
    .set_enabled = gen_set_enabled,
    .freeze = gen_freeze,
    .unfreeze = gen_unfreeze,
};
