/* strategy.h — what a reclamation strategy plugs into the heap.
 *
 * Contract: a strategy is one file that defines one `const mm_strategy` and is
 * listed once in registry.c. The heap calls it on allocation (on_new), when a
 * refcount reaches zero (on_zero), on decref-to-nonzero only if it sets
 * on_decref_nonzero, and on mm_collect. Strategies never time themselves: they
 * report each collection through mm_gc_begin/mm_gc_end and the harness times it.
 *
 * Private to strategies/: the floors above see a strategy only as an
 * mm_component view (mm.h), copied from this descriptor by registry.c.
 *
 * Invariant: an object is freed exactly once, through mm_free_object, and only
 * when no live object or program hold refers to it.
 */
#ifndef MM_STRATEGY_H
#define MM_STRATEGY_H

#include "mm.h"

typedef struct mm_strategy {
    const char *name;
    const char *summary;
    const mm_knob_desc *knobs;   /* {0}-terminated, may be NULL */
    size_t preheader;            /* bytes kept before the header of each container */
    bool has_collector;          /* mm_collect does something (and the `policy` knob applies) */
    /* Generations its collections report to the observer (mm_gc_info.generation is
     * 0..generations-1, at most MM_MAX_GENERATIONS): the harness reports pauses and
     * collection counts per generation below this, and the analysis reads it from
     * `memstrat list --json`. 0 without a collector. */
    int generations;
    /* What the generation number of each of its pauses means, space-separated, indexed by
     * that number: "genN" is a collection of generation N in CPython's sense; any other word
     * names a pause that is not one (an increment, a trial-deletion scan, a mark-sweep).
     * NULL: it never pauses. The plots draw pause kinds from this (memstrat list --json). */
    const char *pause_kinds;
    /* Runs in an interpreter, not on a heap: the harness starts and measures a child
     * process (harness/run_cpython.c) and mm_heap_new refuses the strategy. Its hooks
     * are all NULL; its knobs, check and facts serve `memstrat list` and the cells. */
    bool interpreter;
    /* Optional: values of its knobs that a type alone cannot check (a threshold
     * list, say), checked by the CLI before anything runs so that bad input exits
     * 2; false with one line in err. init() may repeat the check. */
    bool (*check)(const mm_knobset *ks, char *err, size_t errlen);
    /* Sets h->strategy_data; returns false with one line in err. May be NULL. */
    bool (*init)(mm_heap *h, const mm_knobset *ks, char *err, size_t errlen);
    void (*fini)(mm_heap *h);
    void (*on_new)(mm_heap *h, mm_object *o);            /* after the header is set; may be NULL */
    void (*on_zero)(mm_heap *h, mm_object *o);           /* refcount reached zero */
    void (*on_decref_nonzero)(mm_heap *h, mm_object *o); /* NULL unless needed (trial deletion) */
    void (*before_free)(mm_heap *h, mm_object *o);       /* untrack before release; may be NULL */
    uint64_t (*collect)(mm_heap *h, int generation);     /* may be NULL */
    void (*set_enabled)(mm_heap *h, bool enabled);       /* may be NULL */
    void (*freeze)(mm_heap *h);                          /* may be NULL */
    void (*unfreeze)(mm_heap *h);                        /* may be NULL */
    void (*stats)(mm_heap *h, mm_stats *out);            /* add strategy figures; may be NULL */
    /* Optional: a strategy that owns object memory (a tracing collector's heap)
     * sets both of each pair. alloc_object/free_object replace the allocator in
     * mm_new/mm_free_object (size includes the pre-header; memory 16-byte
     * aligned); alloc_raw/free_raw replace it in mm_raw_alloc/mm_raw_free, so
     * side tables that hold references live where the collector scans them. The
     * heap copies them at creation; every other strategy pays one
     * never-taken branch in mm_new. */
    void *(*alloc_object)(mm_heap *h, const mm_type *t, size_t size);
    void (*free_object)(mm_heap *h, void *base, size_t size);
    void *(*alloc_raw)(mm_heap *h, size_t size);
    void (*free_raw)(mm_heap *h, void *p, size_t size);
    /* Optional: runs what an allocation scheduled (it set h->safepoint_pending);
     * called from mm_safepoint with the flag already cleared. */
    void (*safepoint)(mm_heap *h);
} mm_strategy;

/* Freed memory is filled with this in debug builds (MM_DEBUG): a freed object's
 * type pointer reads 0xdbdb..., which the verifiers recognise. */
#define MM_POISON_BYTE 0xdb

/* The shared refcount release: o's count is zero; release what it holds, in turn,
 * with a work list rather than recursion, and free it. Strategies that free at
 * zero use this as their on_zero. */
void mm_release(mm_heap *h, mm_object *o);

/* Returns an object's memory to the allocator (calls before_free first). */
void mm_free_object(mm_heap *h, mm_object *o);

/* PEP 442 bookkeeping shared by every strategy: whether o's finalizer has run
 * (CPython keeps this bit in the GC head; here a heap-side set, so strategies
 * without a pre-header finalize exactly once too). Only objects whose type has
 * a finalizer are ever in the set; mm_free_object removes them. */
bool mm_finalized(mm_heap *h, mm_object *o);
void mm_set_finalized(mm_heap *h, mm_object *o);

/* Clears every weak reference to o: all of them read NULL before any callback
 * runs (CPython's order, so no callback can reach o through another weakref).
 * Each cleared weakref that has a callback is handed to on_cleared, which runs it
 * now or later through mm_weakref_fire; the refcount path fires at once, the
 * cycle collector first skips weakrefs that are garbage themselves. */
void mm_weakrefs_clear(mm_heap *h, mm_object *o, void (*on_cleared)(mm_heap *h, mm_object *wr, void *arg), void *arg);
/* Unlinks weakref wr from its referent's list: it reads NULL and no callback
 * will run for it. For a strategy that frees nothing at refcount zero (boehm),
 * so that a weakref the program dropped dies detached, as in CPython. */
void mm_weakref_detach(mm_object *wr);
/* Runs wr's callback (the caller holds a reference to wr across the call). */
void mm_weakref_fire(mm_heap *h, mm_object *wr);

/* Every strategy that frees at zero through mm_release declares this knob: how many
 * objects one cascade must free to be a pause of kind `release` (MM_PAUSE_RELEASE). */
#define MM_RELEASE_PAUSE_DEFAULT 1000
#define MM_RELEASE_PAUSE_KNOB                                                                      \
    {"release_pause_objects", MM_KNOB_COUNT, "1000", 0, (int64_t)1 << 40,                          \
     "objects one release cascade (refcounts reaching zero in turn) must free to count as a pause " \
     "of kind release; 0: never"}

/* The `policy` knob every collector declares (its lines in the knob table: the
 * policy and the two knobs of policy=pressure), and its check: auto | manual |
 * batch | freeze | pressure | manual+freeze (see mm_event_notify in mm.h, pressure.c). A strategy
 * that cannot run policy=pressure (the interpreter's) declares the policy alone. */
#define MM_POLICY_HELP                                                                                 \
    "GC policy: auto (thresholds) | manual (off; gen0 per request, gen1 every 10th, gen2 every 100th) "   \
    "| batch (off during the batch, one full collection after) | freeze (gc.freeze() after warm-up) "    \
    "| manual+freeze (manual, and gc.freeze() after warm-up: Instagram's)"
#define MM_POLICY_KNOB_ALONE {"policy", MM_KNOB_STRING, "auto", 0, 0, MM_POLICY_HELP}
/* Largest rss_limit: 1 TiB, past any machine here. */
#define MM_PRESSURE_MAX_LIMIT (1LL << 40)
/* Most allocations between two RSS checks. */
#define MM_PRESSURE_MAX_CHECK 1000000000LL
#define MM_POLICY_KNOB                                                                                 \
    {"policy", MM_KNOB_STRING, "auto", 0, 0,                                                           \
     MM_POLICY_HELP " | pressure (RSS over rss_limit: a full collection, then the allocator gives memory back)"}, \
    {"rss_limit", MM_KNOB_BYTES, "0", 0, MM_PRESSURE_MAX_LIMIT,                                        \
     "policy=pressure: the RSS limit in bytes (k/m/g: KiB/MiB/GiB); needed by it, refused without it"}, \
    {"pressure_check", MM_KNOB_COUNT, "0", 0, MM_PRESSURE_MAX_CHECK,                                   \
     "policy=pressure: object allocations between two RSS checks (0: 1000); refused without it"}
bool mm_policy_check(const mm_knobset *ks, char *err, size_t errlen);

/* The `immortal` knob every refcounting strategy declares (PEP 683; mm.h):
 * 1 makes what the roots reach at WARMUP_END, and what the workload passes to
 * mm_immortalize, immortal. mm_heap_new reads it. Its range is 0..0 in a build
 * without the check (MS_IMMORTAL_CHECK=OFF), so the knob check refuses 1 there. */
#define MM_IMMORTAL_KNOB                                                                                 \
    {"immortal", MM_KNOB_COUNT, "0", 0, MM_IMMORTAL_CHECK,                                               \
     "1: objects reachable at warm-up end (or passed to mm_immortalize) become immortal, PEP 683's "     \
     "refcount sentinel: incref/decref skip them, they are never freed; 0: off"}

/* Collection bracketing: the observer sees START/STOP with these figures. */
void mm_gc_begin(mm_heap *h, int generation);
void mm_gc_end(mm_heap *h, const mm_gc_info *info);

/* Start of the allocation, pre-header included. */
static inline void *mm_object_base(const mm_heap *h, mm_object *o) { return (char *)o - mm_preheader_of(h, o->type); }

/* Memory that work already under way cannot do without (a release or a
 * collection's work list): asks the handler of mm_set_oom_handler for memory
 * and retries while it frees some; otherwise stops the process with one line
 * naming `what` and exit status 1. Never returns NULL. */
void *mm_realloc_or_stop(void *p, size_t bytes, const char *what);
/* One refusal of such memory: returns when the handler freed some (retry),
 * else stops the process as above. */
void mm_out_of_memory(const char *what);

/* The floating-garbage census (floating.c), called by the heap only while one
 * runs (h->census != NULL): each allocation, each free, each collection bracket. */
void mm_census_on_new(mm_heap *h, mm_object *o);
void mm_census_on_free(mm_heap *h, mm_object *o);
void mm_census_gc(mm_heap *h, bool begin);
void mm_census_free(mm_heap *h);

#endif
