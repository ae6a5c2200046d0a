/* reclaim_gen.c — `rc+gen`: reference counting plus CPython's generational
 * cycle collector (3.11's Modules/gcmodule.c, rule for rule), with presets for
 * the versions that kept it: 3.12, 3.13 and 3.14.5/3.15 (GC_LINEAGE.md §1, §2, §4).
 *
 * Invariant: every live container is in exactly one list — generation 0, 1, 2 or
 * the permanent generation — while it is tracked; during a collection, the
 * generation being collected is split into survivors (reachable from outside the
 * generation) and `unreachable`, and only objects in `unreachable` are cleared.
 *
 * Counts (what decides when a collection happens, and which):
 *   - gen0.count += 1 on each container allocation, -= 1 on each container
 *     free while > 0 — except for CPython's dict, list and tuple (mm_type.builtin),
 *     which have free lists: an allocation served from the free list does not
 *     count, and a free that lands on it does not uncount (see "free lists");
 *   - trigger=alloc (3.11): a collection runs when gen0.count > threshold0
 *     (strict), the collector is enabled, threshold0 != 0 and none is running —
 *     checked *before* the new object is tracked, as CPython checks in
 *     _PyObject_GC_Link before the type tracks the object;
 *   - trigger=safepoint (3.12+): the same test only schedules a collection; it
 *     runs at the next safe point (mm_safepoint), once, and chooses its
 *     generation from the counts then — possibly none, if frees pushed count0
 *     back. 3.13+ also re-check `enabled` there (3.12.1 does not: gh-116604);
 *   - the collected generation is the oldest g with count[g] > threshold[g],
 *     except that 2 is skipped while long_lived_pending < long_lived_total / 4;
 *   - collecting g: count[g+1] += 1, count[0..g] = 0.
 *
 * Free lists (Objects/dictobject.c, listobject.c, tupleobject.c; sizes from
 * Include/internal/pycore_freelist.h of each version, the same from 3.11 to
 * 3.15): 80 dicts, 80 lists, and 2000 tuples of each length 1..19 (3.11) or
 * 1..20 (3.12+). A full collection (gen2, automatic or gc.collect()) empties
 * them, each emptied object uncounting as a free does. Only the counts are
 * modelled: the object's memory goes back to the allocator at once, where
 * CPython keeps the object (not its items) for reuse. `freelists=off` gives the
 * pre-free-list model; `counting=track` is the open question of 3.14.5/3.15
 * (GC_LINEAGE §4: counting at track time, so free-list reuse counts too).
 *
 * Where to start reading: collect_generation (the numbered steps).
 *
 * Not modelled: legacy tp_del finalizers (so `uncollectable` is always 0, as for
 * any program without C-level tp_del), the untracking of tuples and dicts
 * (memstrat's objects do not record whether their items can be tracked), the
 * permanent generation's start-up content (3.12.1's 375 immortal tuples),
 * 3.15's immortal untracking and "candidates" statistics, DEBUG_SAVEALL.
 *
 * The GC head (`header=`), two representations with one set of rules:
 *   - header=16 (default): CPython's PyGC_Head (gc_head16.h): two links, the
 *     collector's flags in their low bits, gc_refs in the prev link during a
 *     collection; the collection is CPython's own passes (update_refs,
 *     subtract_refs, move_unreachable with its in-place rescue, the unreachable
 *     mask cleared, handle_weakrefs, finalize_garbage, handle_resurrected_objects
 *     re-running the three passes on the garbage, delete_garbage) — collect16;
 *   - header=32: {next, prev, gc_refs, flags}, 16 bytes more per container, and
 *     passes that use the room: generation and stamp in the flags, a two-walk
 *     partition that can walk either way (deduce_unreachable) — collect32. Same
 *     collections and objects collected per generation (test_gen checks it on
 *     random graphs); a different cost, which is what the knob is for
 *     (docs/fidelity.md has the measured difference).
 * `preheader_bytes` reports the one in use.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gc_list.h"
#include "reclaim_gen.h"
#include "strategy.h"

#define NUM_GENERATIONS 3
/* Free-list capacities (pycore_freelist.h, 3.11 to 3.15): dicts and lists kept
 * for reuse, and tuples kept per length. */
#define FREELIST_DICTS 80
#define FREELIST_LISTS 80
#define FREELIST_TUPLES 2000
/* Longest tuple kept: 3.11 indexes its lists by length (slot 0 is the empty
 * tuple), so 19; 3.12 on index by length - 1, so 20. */
#define FREELIST_TUPLE_LEN_311 19
#define FREELIST_TUPLE_LEN_312 20

/* What a `gc=` preset fixes: the version's thresholds and rules. */
typedef struct gc_preset {
    const char *name;
    long thresholds[NUM_GENERATIONS];
    bool safepoint;         /* 3.12+: an allocation schedules, a safe point runs */
    bool recheck_enabled;   /* 3.13+: a scheduled run returns if gc.disable() came since */
    bool freeze_all_counts; /* 3.12+: gc.freeze() zeroes all three counts (3.11: gen0 only) */
    int tuple_len;          /* longest tuple kept on a free list */
} gc_preset;

/* gc.get_threshold() of a fresh interpreter of each version; `off` is 3.11
 * with automatic collection disabled. 3.12.1 (the one installed here) lacks
 * the run-time `enabled` check that 3.12.3 added. */
static const gc_preset gc_presets[] = {
    {"cpython311", {700, 10, 10}, false, false, false, FREELIST_TUPLE_LEN_311},
    {"cpython312", {700, 10, 10}, true, false, true, FREELIST_TUPLE_LEN_312},
    {"cpython313", {2000, 10, 10}, true, true, true, FREELIST_TUPLE_LEN_312},
    {"cpython315", {2000, 10, 10}, true, true, true, FREELIST_TUPLE_LEN_312},
    {"off", {700, 10, 10}, false, false, false, FREELIST_TUPLE_LEN_311},
};
#define NUM_PRESETS (sizeof gc_presets / sizeof gc_presets[0])
/* header=16 is CPython's PyGC_Head; header=32 the roomy one (gc_list.h). */
#define GC_HEADER_PACKED 16
#define GC_HEADER_ROOMY 32

/* The flags word: the generation an object belongs to in its low bits, state
 * bits above them, and above those the number of the last collection that
 * found it reachable (its stamp), so "already scanned in this collection" needs
 * no clearing pass afterwards. */
enum {
    GC_GEN_MASK = 3u,          /* 0, 1, 2: generation; 3: the permanent generation */
    GC_GEN_PERMANENT = 3u,
    GC_TRACKED = 1u << 2,      /* in one of the generation lists */
    GC_REACHABLE = 1u << 3,    /* found reachable, not yet scanned (this collection) */
    GC_UNREACHABLE = 1u << 4,  /* in the (tentatively) unreachable list */
    GC_IN_SET = 1u << 5,       /* member of the set being re-partitioned (resurrection check) */
    GC_FLAG_BITS = 8,          /* the stamp starts here */
    GC_FLAGS_ALL = (1u << GC_FLAG_BITS) - 1,
};


typedef struct gc_gen {
    union {
        gc_head head;     /* header=32: sentinel of a circular doubly linked list */
        gc_head16 head16; /* header=16: the same, in CPython's packed form */
    };
    long threshold;
    long count;
} gc_gen;

/* Occupancy of CPython's free lists: only how many objects each holds. */
typedef struct gc_freelists {
    bool on;                /* freelists=on */
    int tuple_len;          /* longest tuple kept */
    long dicts, lists;
    long tuples[FREELIST_TUPLE_LEN_312 + 1]; /* by length */
} gc_freelists;

typedef struct gc_state {
    gc_gen gen[NUM_GENERATIONS];
    gc_freelists fl;
    bool safepoint;          /* trigger=safepoint */
    bool recheck_enabled;
    bool freeze_all_counts;
    bool packed;             /* header=16 */
    union {
        gc_head permanent;
        gc_head16 permanent16;
    };
    bool enabled;
    bool collecting;
    uintptr_t stamp;           /* number of the latest collection (survivors carry it) */
    size_t long_lived_total;   /* survivors of the last full collection */
    size_t long_lived_pending; /* survivors of gen1 collections since then */
    gc_stack mark_stack;              /* kept between collections: no allocation per collection */
    gc_stack tentative; /* the tentatively unreachable of the current collection */
    mm_gen_verify_fn verify;   /* debug: called after every collection */
    void *verify_ctx;
} gc_state;

static inline gc_state *state_of(mm_heap *h) { return h->strategy_data; }

_Static_assert(sizeof(gc_head16) == GC_HEADER_PACKED, "header=16 is CPython's two words");
_Static_assert(sizeof(gc_head) == GC_HEADER_ROOMY, "header=32 is four words");

static void gen16_on_new(mm_heap *h, mm_object *o);
static void gen16_before_free(mm_heap *h, mm_object *o);

/* ---- knobs ------------------------------------------------------------------- */

static const mm_knob_desc gen_knobs[] = {
    {"gc", MM_KNOB_STRING, "cpython311", 0, 0,
     "version preset or thresholds: cpython311 (700,10,10) | cpython312 (700,10,10, safepoint) | cpython313 "
     "(2000,10,10, safepoint) | cpython315 (3.14.5/3.15: as 3.13) | off (3.11, automatic collection disabled) | "
     "T0,T1,T2 (3.11's rules)"},
    {"trigger", MM_KNOB_STRING, "preset", 0, 0,
     "when a collection runs: preset (the gc= version's) | alloc (inside the allocation, 3.11) | safepoint "
     "(scheduled, run at the next safe point, 3.12+)"},
    {"freelists", MM_KNOB_STRING, "on", 0, 0,
     "CPython's dict/list/tuple free lists in the counts: on (80/80/2000 per length) | off"},
    {"header", MM_KNOB_STRING, "16", 0, 0,
     "GC head per container: 16 (CPython's: flags in the links' low bits, CPython's passes) | 32 (separate "
     "gc_refs and flags words; a partition that uses them)"},
    {"counting", MM_KNOB_STRING, "alloc", 0, 0,
     "where count0 moves: alloc (allocation/free, 3.11-3.13) | track (track/untrack: free-list reuse counts; "
     "3.15's open question)"},
    MM_POLICY_KNOB,
    MM_RELEASE_PAUSE_KNOB,
    MM_IMMORTAL_KNOB,
    {0},
};

/* What the knobs settle: the preset's rules with the cell's overrides. */
typedef struct gen_config {
    gc_preset p;
    bool enabled;
    bool freelists;
    bool packed; /* header=16 */
} gen_config;

/* One of the words of a string knob, or false with one line naming them. */
static bool knob_word(const mm_knobset *ks, const char *name, const char *const *words, int *out, char *err,
                      size_t errlen) {
    const char *v = mm_knob_str(ks, name);
    for (int i = 0; words[i]; i++)
        if (strcmp(v, words[i]) == 0) {
            *out = i;
            return true;
        }
    char list[128] = "";
    for (int i = 0; words[i]; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? " | " : "", words[i]);
    snprintf(err, errlen, "knob '%s': '%s' is not %s", name, v, list);
    return false;
}

/* Reads `gc=` (a preset name or three non-negative thresholds, 3.11's rules)
 * and the knobs that override a preset's rules. */
static bool parse_config(const mm_knobset *ks, gen_config *c, char *err, size_t errlen) {
    const char *text = mm_knob_str(ks, "gc");
    c->p = gc_presets[0];
    c->enabled = true;
    size_t i = 0;
    while (i < NUM_PRESETS && strcmp(text, gc_presets[i].name) != 0) i++;
    if (i < NUM_PRESETS) {
        c->p = gc_presets[i];
        c->enabled = strcmp(text, "off") != 0;
    } else {
        const char *p = text;
        for (int g = 0; g < NUM_GENERATIONS; g++) {
            char *end;
            long v = strtol(p, &end, 10);
            if (end == p || v < 0 || v > 1000000000L || (g < NUM_GENERATIONS - 1 ? *end != ',' : *end != '\0')) {
                snprintf(err, errlen,
                         "knob 'gc': '%s' is not T0,T1,T2 (non-negative) or cpython311, cpython312, cpython313, "
                         "cpython315, off", text);
                return false;
            }
            c->p.thresholds[g] = v;
            p = end + 1;
        }
    }
    static const char *const triggers[] = {"preset", "alloc", "safepoint", NULL};
    static const char *const onoff[] = {"on", "off", NULL};
    static const char *const countings[] = {"alloc", "track", NULL};
    static const char *const headers[] = {"16", "32", NULL};
    int trigger, fl, counting, header;
    if (!knob_word(ks, "trigger", triggers, &trigger, err, errlen) ||
        !knob_word(ks, "freelists", onoff, &fl, err, errlen) ||
        !knob_word(ks, "counting", countings, &counting, err, errlen) ||
        !knob_word(ks, "header", headers, &header, err, errlen))
        return false;
    c->packed = header == 0;
    if (trigger > 0) c->p.safepoint = trigger == 2;
    /* counting at track time: a free-list object is tracked again on reuse and
     * untracked on free, so for the counts it is as if there were no free list */
    c->freelists = fl == 0 && counting == 0;
    return true;
}

/* The CLI's early check: the gc knobs parse and the policy is known. */
static bool gen_check(const mm_knobset *ks, char *err, size_t errlen) {
    gen_config c;
    return parse_config(ks, &c, err, errlen) && mm_policy_check(ks, err, errlen);
}

static bool gen_init(mm_heap *h, const mm_knobset *ks, char *err, size_t errlen) {
    gen_config c;
    if (!parse_config(ks, &c, err, errlen)) return false;
    gc_state *st = calloc(1, sizeof *st);
    if (st == NULL) {
        snprintf(err, errlen, "out of memory creating the collector");
        return false;
    }
    st->packed = c.packed;
    for (int i = 0; i < NUM_GENERATIONS; i++) {
        if (st->packed) g16_list_init(&st->gen[i].head16);
        else list_init(&st->gen[i].head);
        st->gen[i].threshold = c.p.thresholds[i];
    }
    if (st->packed) g16_list_init(&st->permanent16);
    else list_init(&st->permanent);
    st->enabled = c.enabled;
    st->safepoint = c.p.safepoint;
    st->recheck_enabled = c.p.recheck_enabled;
    st->freeze_all_counts = c.p.freeze_all_counts;
    st->fl.on = c.freelists;
    st->fl.tuple_len = c.p.tuple_len;
    h->strategy_data = st;
    /* the head in use: its size, and the hooks that track and untrack with it */
    h->preheader = h->stats.preheader_bytes = st->packed ? GC_HEADER_PACKED : GC_HEADER_ROOMY;
    if (st->packed) {
        h->on_new = gen16_on_new;
        h->before_free = gen16_before_free;
    }
    return true;
}

/* Objects still tracked here are leaks the harness has counted; they stay, like
 * every leak, and only the collector's own state goes. */
static void gen_fini(mm_heap *h) {
    gc_state *st = state_of(h);
    free(st->mark_stack.items);
    free(st->tentative.items);
    free(st);
}

/* ---- free lists ------------------------------------------------------------------- */

/* The free list o's type would use, NULL if none (not a built-in, or a tuple
 * of a length the version does not keep); *cap gets its capacity. */
static long *freelist_of(gc_freelists *fl, const mm_object *o, long *cap) {
    switch (o->type->builtin) {
    case MM_BUILTIN_DICT: *cap = FREELIST_DICTS; return &fl->dicts;
    case MM_BUILTIN_LIST: *cap = FREELIST_LISTS; return &fl->lists;
    case MM_BUILTIN_TUPLE: {
        size_t n = ((const mm_varobject *)o)->nitems;
        if (n == 0 || n > (size_t)fl->tuple_len) return NULL;
        *cap = FREELIST_TUPLES;
        return &fl->tuples[n];
    }
    default: return NULL;
    }
}

/* Allocation of a built-in: served from its free list when that holds one
 * (CPython's _Py_NewReference path, which never reaches _PyObject_GC_Link). */
static bool freelist_pop(gc_freelists *fl, const mm_object *o) {
    long cap, *n = freelist_of(fl, o, &cap);
    if (n == NULL || *n == 0) return false;
    (*n)--;
    return true;
}

/* Free of a built-in: kept for reuse while its list has room (so no
 * PyObject_GC_Del, which is what uncounts). */
static bool freelist_push(gc_freelists *fl, const mm_object *o) {
    long cap, *n = freelist_of(fl, o, &cap);
    if (n == NULL || *n >= cap) return false;
    (*n)++;
    return true;
}

/* A full collection's clear_freelists: every kept object is deleted, and
 * each deletion uncounts as a free does (while count0 > 0). */
static void freelists_clear(gc_state *st) {
    gc_freelists *fl = &st->fl;
    long n = fl->dicts + fl->lists;
    for (int i = 0; i <= FREELIST_TUPLE_LEN_312; i++) n += fl->tuples[i];
    fl->dicts = fl->lists = 0;
    memset(fl->tuples, 0, sizeof fl->tuples);
    long *c0 = &st->gen[0].count;
    *c0 = *c0 > n ? *c0 - n : 0;
}

/* ---- the collection ------------------------------------------------------------ */

static inline unsigned gen_of(const gc_head *g) { return (unsigned)(g->flags & GC_GEN_MASK); }
static inline uintptr_t stamp_of(const gc_head *g) { return g->flags >> GC_FLAG_BITS; }

/* What the partition's visitors need: which objects are in the collection, the
 * stamp of this collection, where survivors go. */
typedef struct gc_pass {
    unsigned max_gen;     /* members: tracked, generation <= max_gen, not stamped */
    uintptr_t stamp;      /* this collection's number: survivors carry it */
    uintptr_t subtract_stamp; /* carried by objects step 1 has passed */
    size_t to_older, to_newer; /* internal references, by direction in the list */
    uintptr_t survivor_flags; /* flags of a survivor: stamp, tracked, its new generation */
    gc_stack *tentative;  /* objects set aside as unreachable, in walk order (NULL: rescued) */
    gc_stack *stack;
    size_t survivors;
} gc_pass;

/* Member of the generation being collected, not yet found reachable. */
static inline bool is_candidate(const gc_pass *p, const gc_head *g) {
    return (g->flags & GC_TRACKED) && gen_of(g) <= p->max_gen && stamp_of(g) != p->stamp;
}

/* Step 1's visitor: a reference from inside the generation is no reason to
 * live. It also notes whether the reference points to an object the walk has
 * already passed (an older one) or to a newer one; step 2 walks in the
 * direction that meets referrers before what they refer to. */
static inline void visit_subtract(mm_object *child, void *arg) {
    gc_pass *p = arg;
    if (!child->type->is_container) return;
    gc_head *g = as_gc(child);
    if ((g->flags & GC_TRACKED) && gen_of(g) <= p->max_gen) {
        g->gc_refs--;
        if (stamp_of(g) == p->subtract_stamp) p->to_older++;
        else p->to_newer++;
    }
}

/* Step 2's visitor: a child of a survivor survives. One not walked yet is only
 * marked (the walk will scan it); one already walked and set aside as
 * tentatively unreachable is rescued: its entry in the tentative array is
 * erased (gc_refs holds the index) and its references are scanned from the stack. */
static inline void visit_reach(mm_object *child, void *arg) {
    gc_pass *p = arg;
    if (!child->type->is_container) return;
    gc_head *g = as_gc(child);
    if (!is_candidate(p, g) || (g->flags & GC_REACHABLE)) return;
    g->flags |= GC_REACHABLE;
    if (g->flags & GC_UNREACHABLE) {
        p->tentative->items[g->gc_refs] = NULL;
        gc_stack_push(p->stack, child);
    }
}

/* A survivor: reset for the next collection (gc_refs 0, flags cleared, the new
 * generation and this collection's stamp), then its references survive too. */
static inline void survive(gc_pass *p, gc_head *g) {
    g->gc_refs = 0;
    g->flags = p->survivor_flags;
    p->survivors++;
    GC_TRAVERSE(from_gc(g), visit_reach, p);
}

/* An immortal object met in a collection joins the permanent generation, as
 * 3.12's update_refs moves it there, never to be examined again. Members
 * walked before it may have subtracted from its gc_refs: reset it, so the
 * permanent generation holds gc_refs 0 like every list between collections. */
static void to_permanent(gc_state *st, gc_head *g) {
    g->gc_refs = 0;
    g->flags = GC_TRACKED | GC_GEN_PERMANENT;
    list_remove(g);
    list_append(g, &st->permanent);
}

/* Splits young into survivors (they stay in young, ready for the next
 * collection) and unreachable (moved); returns the number of survivors. The
 * result is CPython's (update_refs, subtract_refs, move_unreachable): gc_refs =
 * refcount minus references from inside the generation; objects with gc_refs > 0
 * and all they reach survive. The work is arranged to read each object as few
 * times as possible, since a full collection is bound by memory traffic:
 *   1. one walk: gc_refs += refcount, and each internal reference subtracts one
 *      from its target (gc_refs is 0 between collections, so the order of the
 *      additions does not matter: CPython's first two passes in one);
 *   2. one walk that decides: an object marked reachable or with gc_refs > 0
 *      survives and marks its children; any other is set aside as tentatively
 *      unreachable (flag, plus its index in a side array kept in gc_refs) — and
 *      rescued, with what it reaches, if a later survivor refers to it. The
 *      walk goes in the direction most internal references point against
 *      (counted in step 1): newest first when objects mostly refer to older
 *      ones (a list built by prepending), oldest first otherwise (a tree built
 *      top-down), so children are mostly marked before the walk meets them and
 *      little needs rescuing. Nothing is relinked during the walk, and
 *      survivors carry the collection's stamp, so no pass clears marks;
 *   3. the side array's entries never rescued move to `unreachable` oldest
 *      first: the order CPython's unreachable list has, so finalizers and
 *      clears run in CPython's order. */
static size_t deduce_unreachable(gc_state *st, gc_head *young, unsigned max_gen, unsigned new_gen,
                                 gc_head *unreachable, size_t *examined) {
    gc_pass p = {.max_gen = max_gen, .tentative = &st->tentative, .stack = &st->mark_stack};
    p.subtract_stamp = ++st->stamp;
    p.stamp = ++st->stamp;
    p.survivor_flags = (p.stamp << GC_FLAG_BITS) | GC_TRACKED | new_gen;
    uintptr_t passed = p.subtract_stamp << GC_FLAG_BITS;
    size_t n = 0;
    for (gc_head *g = young->next, *next; g != young; g = next) {
        mm_object *o = from_gc(g);
        next = g->next;
        if (MM_UNLIKELY(mm_is_immortal(o))) { /* 3.12's update_refs (PEP 683): not examined */
            to_permanent(st, g);
            continue;
        }
        n++;
        g->gc_refs += o->refcount;
        g->flags = (g->flags & GC_FLAGS_ALL) | passed;
        GC_TRAVERSE(o, visit_subtract, &p);
    }
    p.tentative->len = 0;
    bool newest_first = p.to_older > p.to_newer;
    for (gc_head *g = newest_first ? young->prev : young->next; g != young; g = newest_first ? g->prev : g->next) {
        if ((g->flags & GC_REACHABLE) || g->gc_refs > 0) {
            survive(&p, g);
            while (p.stack->len > 0) survive(&p, as_gc(p.stack->items[--p.stack->len]));
        } else {
            g->flags |= GC_UNREACHABLE;
            g->gc_refs = (intptr_t)p.tentative->len;
            gc_stack_push(p.tentative, from_gc(g));
        }
    }
    if (p.survivors < n) {
        size_t len = p.tentative->len;
        for (size_t k = 0; k < len; k++) {
            mm_object *o = p.tentative->items[newest_first ? len - 1 - k : k];
            if (o == NULL) continue;
            gc_head *g = as_gc(o);
            g->gc_refs = 0;
            list_remove(g);
            list_append(g, unreachable);
        }
    }
    *examined = n;
    return p.survivors;
}

/* The resurrection check's visitors: membership is the IN_SET flag. */
static inline void visit_in_set_subtract(mm_object *child, void *arg) {
    (void)arg;
    if (!child->type->is_container) return;
    gc_head *g = as_gc(child);
    if (g->flags & GC_IN_SET) g->gc_refs--;
}

static inline void visit_in_set_reach(mm_object *child, void *arg) {
    if (!child->type->is_container) return;
    gc_head *g = as_gc(child);
    if (g->flags & GC_IN_SET) {
        g->flags &= ~(uintptr_t)GC_IN_SET;
        gc_stack_push(arg, child);
    }
}


/* CPython's handle_resurrected_objects: after finalizers ran, the unreachable
 * set is partitioned again on its own (references from outside it now keep
 * objects alive); the resurrected go to `old`. Rare and small, so this is the
 * plain four-pass form with a membership flag. Returns how many were resurrected. */
static size_t split_resurrected(gc_state *st, gc_head *unreachable, gc_head *old, unsigned old_gen) {
    gc_head *g;
    for (g = unreachable->next; g != unreachable; g = g->next) {
        g->gc_refs = from_gc(g)->refcount;
        g->flags = (g->flags & ~(uintptr_t)GC_UNREACHABLE) | GC_IN_SET;
    }
    for (g = unreachable->next; g != unreachable; g = g->next) {
        mm_object *o = from_gc(g);
        GC_TRAVERSE(o, visit_in_set_subtract, NULL);
    }
    gc_stack *stack = &st->mark_stack;
    for (g = unreachable->next; g != unreachable; g = g->next) {
        if (g->gc_refs > 0 && (g->flags & GC_IN_SET)) {
            g->flags &= ~(uintptr_t)GC_IN_SET;
            gc_stack_push(stack, from_gc(g));
            while (stack->len > 0) {
                mm_object *o = stack->items[--stack->len];
                GC_TRAVERSE(o, visit_in_set_reach, stack);
            }
        }
    }
    size_t resurrected = 0;
    for (g = unreachable->next; g != unreachable;) {
        gc_head *next = g->next;
        g->gc_refs = 0;
        if (g->flags & GC_IN_SET) {
            g->flags = (g->flags & ~(uintptr_t)GC_IN_SET) | GC_UNREACHABLE;
        } else {
            g->flags = (g->flags & ~(uintptr_t)GC_GEN_MASK & ~(uintptr_t)GC_REACHABLE) | old_gen;
            list_remove(g);
            list_append(g, old);
            resurrected++;
        }
        g = next;
    }
    return resurrected;
}

/* Where a weakref alive after its callback goes (header=32): the older generation. */
typedef struct gc_dest {
    gc_head *old;
    unsigned old_gen;
} gc_dest;

static void weakref_to_old(mm_object *wr, void *ctx) {
    const gc_dest *d = ctx;
    gc_head *g = as_gc(wr);
    g->flags = (g->flags & ~(uintptr_t)GC_GEN_MASK) | d->old_gen;
    list_remove(g);
    list_append(g, d->old);
}

/* CPython's handle_weakrefs: every weak reference to an unreachable object is
 * cleared before any finalizer runs (so no finalizer can reach garbage through
 * one); then the callbacks of weakrefs that are not garbage themselves run. A
 * weakref freed right after its callback counts as collected, as in 3.11; one
 * still alive moves to `old`. Returns that count. */
static size_t handle_weakrefs(mm_heap *h, gc_head *unreachable, gc_head *old, unsigned old_gen) {
    gc_weakref_batch b = {.garbage_flag = GC_UNREACHABLE};
    gc_clear_weakrefs(h, unreachable, &b);
    gc_dest d = {.old = old, .old_gen = old_gen};
    return gc_weakref_batch_run(h, &b, weakref_to_old, &d);
}

/* Breaks the cycles: tp_clear on each unreachable object, holding a reference
 * across the call so the object cannot vanish mid-clear. An object that survives
 * its clear (someone still holds it) goes to the older generation. */
static void delete_garbage(mm_heap *h, gc_head *unreachable, gc_head *old, unsigned old_gen) {
    while (!list_empty(unreachable)) {
        gc_head *g = unreachable->next;
        mm_object *o = from_gc(g);
        gc_clear_one(h, o);
        if (unreachable->next == g) {
            g->flags = (g->flags & ~(uintptr_t)(GC_UNREACHABLE | GC_GEN_MASK | GC_REACHABLE)) | old_gen;
            g->gc_refs = 0;
            list_remove(g);
            list_append(g, old);
        }
    }
}

/* Step 4's bookkeeping, the same for both heads: survivors of a gen1
 * collection are pending long-lived ones; a full collection's are the total. */
static void note_survivors(gc_state *st, int generation, size_t survivors) {
    if (generation == NUM_GENERATIONS - 2) st->long_lived_pending += survivors;
    if (generation == NUM_GENERATIONS - 1) {
        st->long_lived_pending = 0;
        st->long_lived_total = survivors;
    }
}

/* Steps 2-7 with the 32-byte head. */
static size_t collect32(mm_heap *h, gc_state *st, int generation, unsigned old_gen, size_t *examined) {
    for (int i = 0; i < generation; i++) list_merge(&st->gen[i].head, &st->gen[generation].head);
    gc_head *young = &st->gen[generation].head;
    gc_head *old = &st->gen[old_gen].head;
    gc_head unreachable;
    list_init(&unreachable);
    size_t survivors = deduce_unreachable(st, young, (unsigned)generation, old_gen, &unreachable, examined);
    note_survivors(st, generation, survivors);
    if (young != old) list_merge(young, old);

    size_t collected = 0;
    if (!list_empty(&unreachable)) {
        collected += handle_weakrefs(h, &unreachable, old, old_gen);
        /* Without finalizers nothing can leave the set before clearing (weakref
         * callbacks cannot reach it), so its size is known without a walk. */
        if (gc_finalize_garbage(h, &unreachable) > 0) {
            split_resurrected(st, &unreachable, old, old_gen);
            collected += list_size(&unreachable);
        } else {
            collected += *examined - survivors;
        }
        delete_garbage(h, &unreachable, old, old_gen);
    }
    return collected;
}

/* ---- header=16: CPython's packed head and CPython's passes ------------------------- */

/* update_refs: gc_refs = refcount and COLLECTING for every member; from here to
 * move_unreachable's end the prev links hold gc_refs, so the list is walked
 * forward only. 3.12's rule: an immortal object goes to the permanent generation
 * (its prev link is still intact when it is met). Returns the members counted. */
static size_t update_refs16(gc_state *st, gc_head16 *containers) {
    size_t n = 0;
    for (gc_head16 *g = g16_next(containers), *next; g != containers; g = next) {
        next = g16_next(g);
        mm_object *o = from_gc16(g);
        if (MM_UNLIKELY(mm_is_immortal(o))) {
            g16_list_move(g, &st->permanent16);
            continue;
        }
        g16_reset_refs(g, o->refcount);
        n++;
    }
    return n;
}

/* subtract_refs' visitor: a reference from a member to a member. */
static inline void visit_decref16(mm_object *child, void *arg) {
    (void)arg;
    if (!child->type->is_container) return;
    gc_head16 *g = as_gc16(child);
    if (g16_collecting(g)) g16_decref(g);
}

static void subtract_refs16(gc_head16 *containers) {
    for (gc_head16 *g = g16_next(containers); g != containers; g = g16_next(g))
        GC_TRAVERSE(from_gc16(g), visit_decref16, NULL);
}

/* move_unreachable's visitor: a member reached from a survivor survives. One
 * already moved to the unreachable list (next tagged) is unlinked from it by
 * hand and appended to young, where the walk will meet it again; one not yet
 * walked gets gc_refs 1. Members already walked have lost COLLECTING. */
static inline void visit_reachable16(mm_object *child, void *arg) {
    if (!child->type->is_container) return;
    gc_head16 *g = as_gc16(child);
    if (!g16_collecting(g)) return;
    if (g->next & G16_NEXT_UNREACHABLE) {
        gc_head16 *prev = g16_prev(g), *next = (gc_head16 *)(g->next & ~(uintptr_t)G16_NEXT_UNREACHABLE);
        prev->next = g->next; /* keeps the tag: prev is in the unreachable list or is its sentinel */
        g16_set_prev(next, prev);
        g16_list_append(g, (gc_head16 *)arg);
        g16_set_refs(g, 1);
    } else if (g16_refs(g) == 0) {
        g16_set_refs(g, 1);
    }
}

/* move_unreachable: one forward walk. gc_refs > 0: survives, its members are
 * reached, its prev link is restored and COLLECTING cleared. gc_refs == 0: moved
 * to `unreachable` with the tag on next (a later survivor may pull it back).
 * young's own prev is fixed last; so is the tag the sentinel's next may carry. */
static void move_unreachable16(gc_head16 *young, gc_head16 *unreachable) {
    gc_head16 *prev = young;
    for (gc_head16 *g = g16_next(young); g != young; g = (gc_head16 *)prev->next) {
        if (g16_refs(g)) {
            GC_TRAVERSE(from_gc16(g), visit_reachable16, young);
            g16_set_prev(g, prev);
            g16_clear_collecting(g);
            prev = g;
        } else {
            prev->next = g->next;
            gc_head16 *last = g16_prev(unreachable);
            last->next = G16_NEXT_UNREACHABLE | (uintptr_t)g;
            g16_set_prev(g, last);
            g->next = G16_NEXT_UNREACHABLE | (uintptr_t)unreachable;
            unreachable->prev = (uintptr_t)g;
        }
    }
    young->prev = (uintptr_t)prev;
    unreachable->next &= ~(uintptr_t)G16_NEXT_UNREACHABLE;
}

/* The three passes; survivors stay in young, the rest go to unreachable (tagged).
 * Returns the members examined. */
static size_t deduce_unreachable16(gc_state *st, gc_head16 *young, gc_head16 *unreachable) {
    size_t n = update_refs16(st, young);
    subtract_refs16(young);
    g16_list_init(unreachable);
    move_unreachable16(young, unreachable);
    return n;
}

/* move_legacy_finalizers without legacy finalizers (none here): the tags go, the
 * unreachable list becomes an ordinary one; members keep COLLECTING. */
static void clear_unreachable_mask16(gc_head16 *unreachable) {
    for (gc_head16 *g = g16_next(unreachable); g != unreachable; g = g16_next(g))
        g->next &= ~(uintptr_t)G16_NEXT_UNREACHABLE;
}

/* Where a weakref alive after its callback goes (header=16): `old`. */
static void weakref_to_old16(mm_object *wr, void *old) { g16_list_move(as_gc16(wr), old); }

/* handle_weakrefs with the packed head: a weakref that is garbage carries
 * COLLECTING; one alive after its callback moves to `old`. Returns the weakrefs
 * freed right after their callback (they count as collected, as in 3.11). */
static size_t handle_weakrefs16(mm_heap *h, gc_head16 *unreachable, gc_head16 *old) {
    gc_weakref_batch b = {.packed = true};
    gc16_clear_weakrefs(h, unreachable, &b);
    return gc_weakref_batch_run(h, &b, weakref_to_old16, old);
}

/* handle_resurrected_objects: the garbage is partitioned again on its own, by
 * the same three passes (references from outside it now keep objects alive);
 * what survives moves to `old`, the rest to still_unreachable (COLLECTING kept). */
static void handle_resurrected16(gc_state *st, gc_head16 *unreachable, gc_head16 *still_unreachable, gc_head16 *old) {
    for (gc_head16 *g = g16_next(unreachable); g != unreachable; g = g16_next(g)) g16_clear_collecting(g);
    deduce_unreachable16(st, unreachable, still_unreachable);
    clear_unreachable_mask16(still_unreachable);
    g16_list_merge(unreachable, old);
}

/* delete_garbage: tp_clear on each, the object held across the call; one still
 * first in the list afterwards survived its clear and moves to `old`. */
static void delete_garbage16(mm_heap *h, gc_head16 *collectable, gc_head16 *old) {
    while (!g16_list_empty(collectable)) {
        gc_head16 *g = g16_next(collectable);
        mm_object *o = from_gc16(g);
        gc_clear_one(h, o);
        if (g16_next(collectable) == g) {
            g16_clear_collecting(g);
            g16_list_move(g, old);
        }
    }
}

/* Steps 2-7 as gc_collect_main runs them with its 16-byte head; collected is
 * what delete_garbage is given plus weakrefs freed after their callback. */
static size_t collect16(mm_heap *h, gc_state *st, int generation, unsigned old_gen, size_t *examined) {
    gc_head16 *young = &st->gen[generation].head16, *old = &st->gen[old_gen].head16;
    for (int i = 0; i < generation; i++) g16_list_merge(&st->gen[i].head16, young);
    gc_head16 unreachable, final_unreachable;
    *examined = deduce_unreachable16(st, young, &unreachable);
    /* gc_collect_main counts the survivors (a walk) only where the long-lived
     * bookkeeping needs them: collections of generations 1 and 2 */
    if (generation >= NUM_GENERATIONS - 2) note_survivors(st, generation, g16_list_size(young));
    if (young != old) g16_list_merge(young, old);
    clear_unreachable_mask16(&unreachable);
    size_t collected = handle_weakrefs16(h, &unreachable, old);
    gc16_finalize_garbage(h, &unreachable);
    handle_resurrected16(st, &unreachable, &final_unreachable, old);
    collected += g16_list_size(&final_unreachable);
    delete_garbage16(h, &final_unreachable, old);
    return collected;
}

/* One collection of generation `generation`, CPython 3.11's gc_collect_main:
 *   1. counts: the next generation's count += 1; this and younger counts = 0;
 *   2. younger generations merge into this one;
 *   3. split it into reachable and unreachable;
 *   4. survivors move to the next generation (long-lived bookkeeping);
 *   5. weak references to the unreachable are cleared, their callbacks run;
 *   6. finalizers run (once per object), and the unreachable set is checked
 *      again: what a finalizer resurrected moves on, alive;
 *   7. clear the rest; what survives clearing moves on too;
 *   8. a full collection empties CPython's free lists.
 * Steps 2-7 depend on the head (collect16, collect32).
 * collected = what step 7 frees plus weakrefs freed after their callback (3.11's m). */
static uint64_t collect_generation(mm_heap *h, int generation) {
    gc_state *st = state_of(h);
    mm_gc_begin(h, generation);
    if (generation + 1 < NUM_GENERATIONS) st->gen[generation + 1].count += 1;
    for (int i = 0; i <= generation; i++) st->gen[i].count = 0;
    unsigned old_gen = generation < NUM_GENERATIONS - 1 ? (unsigned)generation + 1 : (unsigned)generation;
    size_t examined;
    size_t collected = st->packed ? collect16(h, st, generation, old_gen, &examined)
                                  : collect32(h, st, generation, old_gen, &examined);

    /* 8. a full collection empties the free lists (3.11-3.13's clear_freelists) */
    if (generation == NUM_GENERATIONS - 1) freelists_clear(st);

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

/* The count crossed threshold0 (enabled, not collecting): 3.11 collects now,
 * inside the allocation; 3.12+ only schedule (_Py_ScheduleGC) for the next
 * safe point. */
static void gen_trigger(mm_heap *h, gc_state *st) {
    if (st->safepoint) {
        h->safepoint_pending = true;
        return;
    }
    st->collecting = true;
    collect_generations(h);
    st->collecting = false;
}

/* An allocation's count (unless a free list served it), and the collection
 * it may run or schedule — before the new object is tracked. */
static inline void count_new(mm_heap *h, gc_state *st, mm_object *o) {
    gc_gen *g0 = &st->gen[0];
    if (MM_UNLIKELY(o->type->builtin != MM_BUILTIN_NONE) && st->fl.on && freelist_pop(&st->fl, o)) {
        /* reused: count0 unchanged, no threshold test */
    } else {
        g0->count++;
        if (MM_UNLIKELY(g0->count > g0->threshold) && st->enabled && g0->threshold && !st->collecting)
            gen_trigger(h, st);
    }
}

/* A free undoes the allocation's count while it is positive, unless the
 * object lands on a free list. */
static inline void count_free(gc_state *st, mm_object *o) {
    if (MM_UNLIKELY(o->type->builtin != MM_BUILTIN_NONE) && st->fl.on && freelist_push(&st->fl, o)) return;
    if (st->gen[0].count > 0) st->gen[0].count--;
}

/* Allocation (header=32): count, then track in generation 0. */
static void gen_on_new(mm_heap *h, mm_object *o) {
    if (!o->type->is_container) return;
    gc_state *st = state_of(h);
    count_new(h, st, o);
    gc_head *g = as_gc(o);
    g->flags = GC_TRACKED;
    list_append(g, &st->gen[0].head);
}

/* Free (header=32): untrack, uncount. */
static void gen_before_free(mm_heap *h, mm_object *o) {
    if (!o->type->is_container) return;
    gc_head *g = as_gc(o);
    if (g->flags & GC_TRACKED) list_remove(g);
    g->flags = 0;
    count_free(state_of(h), o);
}

/* Allocation (header=16; init installs it as the heap's on_new). */
static void gen16_on_new(mm_heap *h, mm_object *o) {
    if (!o->type->is_container) return;
    gc_state *st = state_of(h);
    count_new(h, st, o);
    g16_list_append(as_gc16(o), &st->gen[0].head16);
}

/* Free (header=16): tracked is next != 0, as in CPython's PyObject_GC_Del. */
static void gen16_before_free(mm_heap *h, mm_object *o) {
    if (!o->type->is_container) return;
    gc_head16 *g = as_gc16(o);
    if (g->next) g16_list_remove(g);
    count_free(state_of(h), o);
}

/* A safe point after an allocation scheduled a collection (_Py_RunGC): 3.13+
 * return if gc.disable() came since; the generation is chosen now, from the
 * counts now, so frees since the schedule may leave nothing to collect. */
static void gen_safepoint(mm_heap *h) {
    gc_state *st = state_of(h);
    if (st->collecting || (st->recheck_enabled && !st->enabled)) return;
    st->collecting = true;
    collect_generations(h);
    st->collecting = false;
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

/* gc.freeze(): 3.11 resets only gen0's count (inside its loop over
 * generations); 3.12+ reset all three. */
static void gen_freeze(mm_heap *h) {
    gc_state *st = state_of(h);
    for (int i = 0; i < NUM_GENERATIONS; i++) {
        if (st->packed) {
            g16_list_merge(&st->gen[i].head16, &st->permanent16);
        } else {
            for (gc_head *g = st->gen[i].head.next; g != &st->gen[i].head; g = g->next)
                g->flags = (g->flags & ~(uintptr_t)GC_GEN_MASK) | GC_GEN_PERMANENT;
            list_merge(&st->gen[i].head, &st->permanent);
        }
        if (st->freeze_all_counts || i == 0) st->gen[i].count = 0;
    }
}

/* gc.unfreeze(): the permanent generation joins the oldest. */
static void gen_unfreeze(mm_heap *h) {
    gc_state *st = state_of(h);
    if (st->packed) {
        g16_list_merge(&st->permanent16, &st->gen[NUM_GENERATIONS - 1].head16);
        return;
    }
    for (gc_head *g = st->permanent.next; g != &st->permanent; g = g->next)
        g->flags = (g->flags & ~(uintptr_t)GC_GEN_MASK) | (NUM_GENERATIONS - 1);
    list_merge(&st->permanent, &st->gen[NUM_GENERATIONS - 1].head);
}

/* ---- introspection for tests and tools ------------------------------------------- */

/* The sentinels of the four lists (generations 0-2, permanent) as the head in
 * use sees them: introspection walks them without caring which. */
typedef struct gc_lists {
    bool packed;
    void *heads[NUM_GENERATIONS + 1];
} gc_lists;

static gc_lists lists_of(gc_state *st) {
    gc_lists l = {.packed = st->packed};
    for (int i = 0; i < NUM_GENERATIONS; i++)
        l.heads[i] = st->packed ? (void *)&st->gen[i].head16 : (void *)&st->gen[i].head;
    l.heads[NUM_GENERATIONS] = st->packed ? (void *)&st->permanent16 : (void *)&st->permanent;
    return l;
}

/* Calls fn on each object of list i (cold: tests and tools). */
static void list_each(const gc_lists *l, int i, void (*fn)(mm_object *o, void *ctx), void *ctx) {
    if (l->packed) {
        gc_head16 *s = l->heads[i];
        for (gc_head16 *g = g16_next(s); g != s; g = g16_next(g)) fn(from_gc16(g), ctx);
    } else {
        gc_head *s = l->heads[i];
        for (gc_head *g = s->next; g != s; g = g->next) fn(from_gc(g), ctx);
    }
}

static void count_one(mm_object *o, void *ctx) {
    (void)o;
    ++*(size_t *)ctx;
}

void mm_gen_get_info(mm_heap *h, mm_gen_info *out) {
    gc_state *st = state_of(h);
    gc_lists l = lists_of(st);
    memset(out, 0, sizeof *out);
    for (int i = 0; i < NUM_GENERATIONS; i++) {
        out->count[i] = st->gen[i].count;
        out->threshold[i] = st->gen[i].threshold;
        list_each(&l, i, count_one, &out->size[i]);
    }
    list_each(&l, NUM_GENERATIONS, count_one, &out->permanent_size);
    out->long_lived_total = st->long_lived_total;
    out->long_lived_pending = st->long_lived_pending;
    out->enabled = st->enabled;
    out->freelist_dicts = st->fl.dicts;
    out->freelist_lists = st->fl.lists;
    for (int i = 0; i <= FREELIST_TUPLE_LEN_312; i++) out->freelist_tuples += st->fl.tuples[i];
}

void mm_gen_set_verifier(mm_heap *h, mm_gen_verify_fn fn, void *ctx) {
    gc_state *st = state_of(h);
    st->verify = fn;
    st->verify_ctx = ctx;
}

/* Tracked, and its head is sane for a moment outside a collection: no
 * collection-time bit; with header=32, a stamp no later than the latest
 * collection. Freed memory is poisoned 0xdb.. in debug builds, which fails
 * both (0xdb has bits 0 and 1 set). */
bool mm_gen_is_tracked(mm_heap *h, mm_object *o) {
    if (!o->type->is_container) return false;
    gc_state *st = state_of(h);
    if (st->packed) {
        const gc_head16 *g = as_gc16(o);
        return g->next != 0 && !(g->next & G16_NEXT_UNREACHABLE) && !(g->prev & (G16_COLLECTING | G16_FINALIZED));
    }
    const gc_head *g = as_gc(o);
    uintptr_t f = g->flags;
    return (f & GC_TRACKED) && !(f & (GC_REACHABLE | GC_UNREACHABLE | GC_IN_SET)) && stamp_of(g) <= st->stamp;
}

/* The lists as they must be between collections: every link's partner links
 * back, no tag bit (header=16), gc_refs 0 (header=32). */
bool mm_gen_links_ok(mm_heap *h) {
    gc_lists l = lists_of(state_of(h));
    for (int i = 0; i <= NUM_GENERATIONS; i++) {
        if (l.packed) {
            gc_head16 *s = l.heads[i];
            if (s->prev & ~G16_PTR_MASK) return false;
            for (gc_head16 *g = g16_next(s); g != s; g = g16_next(g))
                if ((g->next & G16_NEXT_UNREACHABLE) || (g->prev & ~G16_PTR_MASK) || g16_prev(g16_next(g)) != g ||
                    g16_next(g16_prev(g)) != g)
                    return false;
        } else {
            gc_head *s = l.heads[i];
            for (gc_head *g = s->next; g != s; g = g->next)
                if (g->gc_refs != 0 || g->next->prev != g || g->prev->next != g) return false;
        }
    }
    return true;
}

/* Visits every tracked object (all generations and the permanent one). */
void mm_gen_for_each(mm_heap *h, void (*fn)(mm_object *o, void *ctx), void *ctx) {
    gc_lists l = lists_of(state_of(h));
    for (int i = 0; i <= NUM_GENERATIONS; i++) list_each(&l, i, fn, ctx);
}

/* Scratch use of gc_refs outside collections: the incoming-reference count
 * (with header=16 in the prev links, as a collection keeps it; finish relinks). */
static void count_incoming(mm_object *child, void *arg) {
    if (!child->type->is_container) return;
    if (*(bool *)arg) g16_set_refs(as_gc16(child), g16_refs(as_gc16(child)) + 1);
    else as_gc(child)->gc_refs++;
}

static void zero_incoming(mm_object *o, void *arg) {
    if (*(bool *)arg) g16_set_refs(as_gc16(o), 0);
    else as_gc(o)->gc_refs = 0;
}

static void traverse_incoming(mm_object *o, void *arg) {
    if (o->type->traverse) o->type->traverse(o, count_incoming, arg);
}

intptr_t mm_gen_incoming_prepare(mm_heap *h) {
    gc_lists l = lists_of(state_of(h));
    size_t n = 0;
    for (int i = 0; i <= NUM_GENERATIONS; i++) {
        list_each(&l, i, zero_incoming, &l.packed);
        list_each(&l, i, count_one, &n);
    }
    for (int i = 0; i <= NUM_GENERATIONS; i++) list_each(&l, i, traverse_incoming, &l.packed);
    return (intptr_t)n;
}

intptr_t mm_gen_incoming(mm_heap *h, mm_object *o) {
    return state_of(h)->packed ? g16_refs(as_gc16(o)) : as_gc(o)->gc_refs;
}

void mm_gen_incoming_finish(mm_heap *h) {
    gc_lists l = lists_of(state_of(h));
    for (int i = 0; i <= NUM_GENERATIONS; i++) {
        if (!l.packed) {
            list_each(&l, i, zero_incoming, &l.packed);
            continue;
        }
        gc_head16 *s = l.heads[i], *prev = s; /* the prev links held counts: rebuild them */
        for (gc_head16 *g = g16_next(s); g != s; prev = g, g = g16_next(g)) g->prev = (uintptr_t)prev;
        s->prev = (uintptr_t)prev;
    }
}

const mm_strategy mm_strategy_gen = {
    .name = "rc+gen",
    .summary = "refcounting + CPython's 3-generation cycle collector (3.11 rules exact; presets 3.12, 3.13, 3.15)",
    .knobs = gen_knobs,
    .preheader = GC_HEADER_PACKED, /* the default; header=32 sets the heap's to 32 */
    .has_collector = true,
    .generations = 3,
    .pause_kinds = "gen0 gen1 gen2",
    .check = gen_check,
    .init = gen_init,
    .fini = gen_fini,
    .on_new = gen_on_new,
    .on_zero = mm_release,
    .before_free = gen_before_free,
    .collect = gen_collect,
    .set_enabled = gen_set_enabled,
    .freeze = gen_freeze,
    .unfreeze = gen_unfreeze,
    .safepoint = gen_safepoint,
};
