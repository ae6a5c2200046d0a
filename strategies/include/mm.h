/* mm.h — the object model library's public face: the heap API every workload
 * talks to, and the component registry the measuring binary reads.
 *
 * Contract: this header and knobs.h are all that the floors above the object
 * model (workloads/, harness/) may include; the build gives them no other
 * directory of strategies/ (see CMakeLists.txt). Workloads use the heap API;
 * the harness also uses the sections "Components", "Allocator statistics" and
 * "Process malloc". What a strategy, allocator or layout plugs in (strategy.h,
 * alloc.h, layout.h, registry.h) is private to strategies/.
 *
 * Start reading here. An object is a header {refcount, type} followed by its
 * fields, like CPython's PyObject; a strategy may keep words *before* the header
 * (its pre-header, like PyGC_Head), and their size is part of what is measured.
 * A heap is one reclamation strategy + one allocator + one layout.
 *
 * Invariant (refcounting strategies): an object's refcount equals the number of
 * references to it in slots of live objects plus the holds the program owns
 * (C locals that got their reference from mm_new, mm_incref or a getter + incref).
 * Every reference written into an object goes through mm_store, so the refcount
 * adjustment and any barrier a strategy needs happen in one place.
 *
 * Ownership: mm_new returns a new reference (refcount 1) that the caller must
 * release with mm_decref. Getters return borrowed references. Setters do not
 * steal: they take their own reference to the value.
 *
 * Values in fields are mm_value: 0 (None), a reference, or a small int tagged
 * with the low bit (ints are immediates here; CPython would box ints > 256).
 */
#ifndef MM_H
#define MM_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "knobs.h"

#if defined(__GNUC__)
#define MM_LIKELY(x) __builtin_expect(!!(x), 1)
#define MM_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define MM_LIKELY(x) (x)
#define MM_UNLIKELY(x) (x)
#endif

/* Generations a collector may report (CPython has 3; room for the permanent one);
 * a strategy's `generations` (its component view) is at most this. */
#define MM_MAX_GENERATIONS 4
/* Passed to mm_collect for "the oldest generation / a full collection". */
#define MM_COLLECT_FULL (-1)

typedef struct mm_heap mm_heap;
typedef struct mm_type mm_type;
typedef struct mm_class mm_class;

typedef struct mm_object {
    intptr_t refcount;
    const mm_type *type;
} mm_object;

/* Header of variable-size objects: the item count is needed for the sized free. */
typedef struct mm_varobject {
    mm_object ob;
    size_t nitems;
} mm_varobject;

/* Which of CPython's built-in containers a type stands for. The collector
 * presets model those types' free lists (a reused object does not raise gen0's
 * count, a freed one kept for reuse does not lower it); NONE: any other type. */
typedef enum mm_builtin {
    MM_BUILTIN_NONE = 0,
    MM_BUILTIN_DICT,  /* an exact dict (a __dict__ of the `dict` layout, a workload's dict) */
    MM_BUILTIN_LIST,  /* an exact list (a workload's list-like container) */
    MM_BUILTIN_TUPLE, /* an exact tuple: variable-size, nitems = its length */
} mm_builtin;

typedef uintptr_t mm_value;
#define MM_NONE ((mm_value)0)

static inline mm_value mm_ref(const mm_object *o) { return (mm_value)o; }
static inline mm_value mm_int(intptr_t i) { return ((uintptr_t)i << 1) | 1u; }
static inline bool mm_is_ref(mm_value v) { return v != 0 && (v & 1u) == 0; }
static inline mm_object *mm_as_ref(mm_value v) { return mm_is_ref(v) ? (mm_object *)v : NULL; }
static inline intptr_t mm_as_int(mm_value v) { return (intptr_t)v >> 1; }

/* Visitor of one reference held by an object (CPython's visitproc). */
typedef void (*mm_visit_fn)(mm_object *child, void *arg);

struct mm_type {
    const char *name;
    size_t size;         /* bytes from the header on, fixed part */
    size_t itemsize;     /* bytes per item of a variable-size object, else 0 */
    uint32_t nslots;     /* mm_value slots right after the header (fixed objects) */
    bool is_container;   /* may hold references: the cycle collector tracks it */
    /* Visits every reference the object holds (NULL: holds none). */
    void (*traverse)(mm_object *o, mm_visit_fn visit, void *arg);
    /* Drops every reference the object holds (tp_clear); used to break cycles. */
    void (*clear)(mm_heap *h, mm_object *o);
    const mm_class *cls; /* the class of an instance type, else NULL */
    /* PEP 442 finalizer (`__del__`): called at most once per object, when its
     * refcount reaches zero or when the cycle collector finds it in garbage
     * (after weak references to that garbage are cleared). It may resurrect o by
     * storing a reference to it; then o is not freed. NULL: none. */
    void (*finalize)(mm_heap *h, mm_object *o);
    /* Offset from the header of the object's weak-reference list head (an
     * mm_object * field), like tp_weaklistoffset; 0: cannot be weakly referenced. */
    uint32_t weaklist_offset;
    /* Releases what the object owns besides references, just before its memory
     * goes back (the weak-reference object unlinks itself here). NULL: nothing. */
    void (*on_free)(mm_heap *h, mm_object *o);
    /* Offset from the header of a word that refers to an object *weakly* (a weak
     * reference's referent): tracing strategies must not trace it; 0: none. */
    uint32_t weak_offset;
    /* CPython's built-in this type is (dict, list, tuple), for free-list
     * accounting; MM_BUILTIN_NONE for every other type. */
    mm_builtin builtin;
    /* Bytes the object owns apart from itself (a block from mm_block_alloc, which
     * live bytes count already), for figures taken per object (floating garbage).
     * NULL: none. */
    size_t (*owned_bytes)(const mm_object *o);
};

/* ---- Observer: the harness turns these into pause records ---------------- */

/* START and STOP bracket a pause. CANCEL closes a START without a pause: a release
 * cascade that ended below `release_pause_objects` (the observer drops it). */
typedef enum { MM_GC_START, MM_GC_STOP, MM_GC_CANCEL } mm_gc_phase;

/* mm_gc_info.generation of a release cascade's pause (kind `release`): refcounting
 * freeing a whole structure at once, outside any collection. `collected` is the
 * number of objects the cascade freed. */
#define MM_PAUSE_RELEASE (-2)

typedef struct mm_gc_info {
    int generation;        /* collected generation, 0-based; -1 when not generational */
    uint64_t examined;     /* objects looked at */
    uint64_t collected;    /* objects freed as garbage */
    uint64_t uncollectable;
} mm_gc_info;

typedef void (*mm_observer_fn)(mm_gc_phase phase, const mm_gc_info *info, void *ctx);

/* ---- Statistics ----------------------------------------------------------- */

typedef struct mm_stats {
    uint64_t objects_allocated, objects_freed;
    uint64_t bytes_allocated, bytes_freed; /* object sizes incl. pre-header */
    uint64_t live_objects_peak, live_bytes_peak;
    uint64_t collections[MM_MAX_GENERATIONS];
    uint64_t collected_by_gen[MM_MAX_GENERATIONS], uncollectable_by_gen[MM_MAX_GENERATIONS];
    uint64_t collected, uncollectable;
    /* release cascades outside collections that freed >= release_pause_objects, and
     * the objects they freed (deterministic: counted whether or not anyone observes) */
    uint64_t release_pauses, release_pause_objects;
    size_t preheader_bytes;                /* per container object, kept by the strategy */
    uint64_t collector_heap_bytes;         /* a collector's own heap (libgc), else 0 */
    uint64_t immortalized;                 /* objects made immortal (never freed: counted as leaked) */
    uint64_t pressure_checks, pressure_events; /* policy=pressure: RSS reads, reads over the limit */
} mm_stats;

static inline uint64_t mm_stats_live_objects(const mm_stats *s) { return s->objects_allocated - s->objects_freed; }
static inline uint64_t mm_stats_live_bytes(const mm_stats *s) { return s->bytes_allocated - s->bytes_freed; }

/* ---- Heap ----------------------------------------------------------------- */

struct mm_strategy;
struct mm_allocator;
struct mm_allocator_ops;
struct mm_layout;

/* What a heap is made of: one descriptor per axis (mm_component.desc, or the
 * private registry tables in tests) and the cell's knobs. */
typedef struct mm_config {
    const struct mm_strategy *reclaim;
    const struct mm_allocator_ops *allocator;
    const struct mm_layout *layout;
    const mm_knobset *knobs; /* validated, defaults filled */
} mm_config;

/* The heap's fields are visible only so that incref/decref/mm_store inline;
 * workloads use the functions below, never the fields. */
struct mm_heap {
    /* hot: touched on every decref to zero, allocation and free */
    void (*on_zero)(mm_heap *h, mm_object *o);
    void (*on_decref_nonzero)(mm_heap *h, mm_object *o); /* NULL unless asked for */
    void (*on_new)(mm_heap *h, mm_object *o);            /* the strategy's, copied: one load */
    void (*before_free)(mm_heap *h, mm_object *o);
    void *(*alloc_fn)(struct mm_allocator *a, size_t size);
    void (*free_fn)(struct mm_allocator *a, void *p, size_t size);
    struct mm_allocator *allocator;
    /* the strategy's object memory, copied from it; NULL: the allocator's */
    void *(*alloc_object)(mm_heap *h, const mm_type *t, size_t size);
    void (*free_object)(mm_heap *h, void *base, size_t size);
    mm_value (*getattr_fn)(mm_heap *h, mm_object *o, uint32_t attr); /* the layout's */
    int (*setattr_fn)(mm_heap *h, mm_object *o, uint32_t attr, mm_value v);
    size_t preheader; /* before containers only: objects that hold no references
                         are never tracked, as CPython gives them no PyGC_Head */
    mm_stats stats;
    /* cold */
    const struct mm_strategy *reclaim;
    const struct mm_layout *layout;
    void *strategy_data;
    void *layout_data;
    mm_observer_fn observer;
    void *observer_ctx;
    /* objects whose refcount reached zero and await release (work list, so a
     * 10-million-node chain frees without recursion) */
    mm_object **release_stack;
    size_t release_len, release_cap;
    bool releasing;
    /* the `release_pause_objects` knob (0: never a pause) and where a cascade leaves
     * the untimed fast path: min(knob, MM_RELEASE_TIMED_AFTER), or never */
    uint64_t release_pause_min, release_slow_after;
    int gc_depth; /* collections in progress (mm_gc_begin .. mm_gc_end) */
    /* roots for strategies that trace: addresses of the program's holds */
    mm_object ***roots;
    size_t roots_len, roots_cap;
    mm_class *classes; /* owned, freed with the heap */
    int policy;        /* the `policy` knob (MM_POLICY_*, heap.c) */
    bool immortal;     /* the `immortal` knob: WARMUP_END and mm_immortalize make objects immortal */
    struct mm_pressure *pressure; /* policy=pressure's state (pressure.c), else NULL */
    uint64_t requests; /* REQUEST_END events seen (policy=manual) */
    /* objects whose finalizer ran and that are still allocated (PEP 442's bit) */
    mm_object **finalized;
    size_t finalized_len, finalized_used, finalized_cap;
    /* interned attribute names */
    char **attr_names;
    uint32_t attr_count, attr_cap;
    /* an allocation scheduled a collection for the next safe point (mm_safepoint) */
    bool safepoint_pending;
    /* floating garbage's census (strategies/floating.c); NULL unless mm_floating_start */
    struct mm_census *census;
};

/* Makes a heap; on failure returns NULL with one line in err (also for a strategy
 * that runs in an interpreter: mm_component.interpreter). */
mm_heap *mm_heap_new(const mm_config *cfg, char *err, size_t errlen);

/* Convenience for tests and tools: names plus "k=v/k=v" knobs (may be NULL). */
mm_heap *mm_heap_new_named(const char *reclaim, const char *allocator, const char *layout,
                           const char *knobs, char *err, size_t errlen);

/* Releases the strategy, layout and allocator. Objects the strategy cannot reach
 * (cycles under pure refcounting, everything under `none`) stay allocated: that
 * is the leak being measured. */
void mm_heap_free(mm_heap *h);

/* Allocates an object of type t (nitems items if t is variable-size, else 0),
 * zeroed, refcount 1. Returns NULL only when the allocator fails. */
mm_object *mm_new(mm_heap *h, const mm_type *t, size_t nitems);

/* Bytes the strategy keeps before this object's header. */
static inline size_t mm_preheader_of(const mm_heap *h, const mm_type *t) { return t->is_container ? h->preheader : 0; }

/* Bytes an object occupies from its header on (what mm_new asked for minus the pre-header). */
static inline size_t mm_sizeof(const mm_object *o) {
    const mm_type *t = o->type;
    return t->itemsize ? t->size + t->itemsize * ((const mm_varobject *)o)->nitems : t->size;
}

/* ---- Immortal objects (PEP 683, CPython 3.12) --------------------------------
 * An immortal object's refcount is a sentinel that incref and decref leave alone,
 * so it is never freed and never written by refcounting: a forked worker that
 * reads it keeps its page shared. As 3.12 on 64-bit: immortal <=> bit 31 of the
 * refcount is set ((int32_t)ob_refcnt < 0); the sentinel is UINT32_MAX
 * (_Py_IMMORTAL_REFCNT); incref is a saturating add on the low 32 bits. With
 * MM_IMMORTAL_CHECK 0 (cmake -DMS_IMMORTAL_CHECK=OFF) the check is compiled out
 * (the pre-3.12 hot path) and the `immortal` knob is refused: that build exists
 * to measure what the branch costs (tools/immortal_cost.sh). */
#ifndef MM_IMMORTAL_CHECK
#define MM_IMMORTAL_CHECK 1
#endif
/* 3.12's _Py_IMMORTAL_REFCNT on 64-bit: the low 32 bits all ones. */
#define MM_IMMORTAL_REFCNT ((intptr_t)UINT32_MAX)
/* The bit 3.12 tests: a mortal count never reaches 2^31. */
#define MM_IMMORTAL_BIT ((intptr_t)1 << 31)

static inline bool mm_is_immortal(const mm_object *o) { return (o->refcount & MM_IMMORTAL_BIT) != 0; }

/* Hot path: the same inline code for every strategy. */
static inline void mm_incref(mm_object *o) {
#if MM_IMMORTAL_CHECK
    if (MM_UNLIKELY((uint32_t)(o->refcount + 1) == 0)) return; /* saturated: immortal */
#endif
    o->refcount++;
}

static inline void mm_decref(mm_heap *h, mm_object *o) {
#if MM_IMMORTAL_CHECK
    if (MM_UNLIKELY(mm_is_immortal(o))) return;
#endif
    if (--o->refcount == 0)
        h->on_zero(h, o);
    else if (MM_UNLIKELY(h->on_decref_nonzero != NULL))
        h->on_decref_nonzero(h, o);
}

static inline void mm_xdecref(mm_heap *h, mm_object *o) {
    if (o != NULL) mm_decref(h, o);
}

static inline void mm_value_incref(mm_value v) {
    if (mm_is_ref(v)) mm_incref((mm_object *)v);
}

static inline void mm_value_decref(mm_heap *h, mm_value v) {
    if (mm_is_ref(v)) mm_decref(h, (mm_object *)v);
}

/* Every reference write: the new value gains a reference, the old one loses one
 * (after the write, so a finalizer sees a consistent object). */
static inline void mm_store(mm_heap *h, mm_object *holder, mm_value *slot, mm_value v) {
    (void)holder; /* the barrier hook for incremental/tracing strategies goes here */
    mm_value old = *slot;
    mm_value_incref(v);
    *slot = v;
    mm_value_decref(h, old);
}

/* The slots of a fixed-size object, right after its header. */
static inline mm_value *mm_slots(mm_object *o) { return (mm_value *)(o + 1); }
/* The items of a variable-size object of mm_value items. */
static inline mm_value *mm_var_items(mm_object *o) { return (mm_value *)((mm_varobject *)o + 1); }

/* Ready-made traverse/clear for the two common shapes. */
void mm_traverse_slots(mm_object *o, mm_visit_fn visit, void *arg);
void mm_clear_slots(mm_heap *h, mm_object *o);
void mm_traverse_var_items(mm_object *o, mm_visit_fn visit, void *arg);
void mm_clear_var_items(mm_heap *h, mm_object *o);

/* Roots: the program's holds, for strategies that trace. Push the address of a
 * local that holds a reference; pop the last n. */
void mm_root_push(mm_heap *h, mm_object **slot);
void mm_root_pop(mm_heap *h, size_t n);

/* Makes o and everything it reaches immortal (Cinder's immortalize_heap, from
 * one object): refcounts become MM_IMMORTAL_REFCNT, so nothing of it is ever
 * freed or has its count written again. Does nothing unless the heap's
 * `immortal` knob is 1. Returns the objects newly made immortal. With
 * immortal=1 the heap also does this at WARMUP_END from every root
 * (mm_event_notify): what the program holds after its warm-up lives forever. */
uint64_t mm_immortalize(mm_heap *h, mm_object *o);

/* Runs a collection of generation g (MM_COLLECT_FULL = all); returns objects
 * collected; 0 for strategies without a collector. */
uint64_t mm_collect(mm_heap *h, int generation);
bool mm_has_collector(const mm_heap *h);
void mm_gc_enable(mm_heap *h);
void mm_gc_disable(mm_heap *h);
/* gc.freeze(): every tracked object moves to a permanent generation that is never
 * collected; gc.unfreeze() moves them back into the oldest generation. */
void mm_freeze(mm_heap *h);
void mm_unfreeze(mm_heap *h);

/* A safe point: where CPython 3.12+ checks its eval breaker, so where a
 * collection that an allocation only scheduled (rc+gen's trigger=safepoint)
 * runs — once, choosing its generation from the counts then. The suite's safe
 * points (workload.h lists them): after each trace statement, at each loop step
 * of a workload's main loop and at the end of each unit of work (a request, a
 * batch record). A strategy that triggers inside allocations never sets the
 * flag, so this costs one load and a not-taken branch. */
void mm_safepoint_slow(mm_heap *h);
static inline void mm_safepoint(mm_heap *h) {
    if (MM_UNLIKELY(h->safepoint_pending)) mm_safepoint_slow(h);
}

/* Program events a GC policy acts on (the `policy` knob of every collector cell):
 *   auto    nothing: the collector's own thresholds decide;
 *   manual  automatic collection off from the start; at each REQUEST_END a gen0
 *           collection, every 10th a gen1, every 100th a gen2 (what Instagram
 *           described doing with gc.disable() and explicit gc.collect());
 *   batch   BATCH_BEGIN turns automatic collection off, BATCH_END turns it on
 *           again and runs one full collection;
 *   freeze  WARMUP_END runs gc.freeze(): what exists then is never examined again;
 *   manual+freeze  both: manual's collections, and gc.freeze() at WARMUP_END (Instagram's
 *           gc.disable() + gc.freeze() before forking; a gen2 then skips the frozen state).
 * With immortal=1, WARMUP_END first makes what the roots reach immortal (any policy).
 * Workloads send the events that make sense for them; the rest are ignored. */
typedef enum { MM_EVENT_REQUEST_END, MM_EVENT_WARMUP_END, MM_EVENT_BATCH_BEGIN, MM_EVENT_BATCH_END } mm_event;
void mm_event_notify(mm_heap *h, mm_event e);

/* policy=pressure (Dropbox's memory-pressure pattern) needs no event: every
 * `pressure_check` object allocations the heap reads its process's RSS; above
 * `rss_limit` it runs a full collection and has the allocator give memory back.
 * One record per time it did (a pressure event), oldest first. */
typedef struct mm_pressure_event {
    uint64_t allocations; /* objects allocated by the heap when RSS was read */
    uint64_t rss_before;  /* bytes of RSS read over the limit */
    uint64_t rss_after;   /* bytes after the collection and the allocator's trim */
    uint64_t collected;   /* objects the collection freed */
} mm_pressure_event;
/* The events recorded so far (at most MM_PRESSURE_LOG_MAX; stats.pressure_events
 * counts them all); *n = 0 and NULL without policy=pressure. */
const mm_pressure_event *mm_pressure_events(const mm_heap *h, size_t *n);
#define MM_PRESSURE_LOG_MAX 100000

void mm_set_observer(mm_heap *h, mm_observer_fn fn, void *ctx);
void mm_get_stats(mm_heap *h, mm_stats *out);

/* ---- Floating garbage (an untimed shadow run; strategies/floating.c) --------- */

/* What one whole-heap reachability pass found. */
typedef struct mm_floating {
    uint64_t allocations;              /* objects allocated since the census started */
    uint64_t objects, bytes;           /* unreachable and not yet freed (pre-header included) */
    uint64_t live_objects, live_bytes; /* allocated and not yet freed (reachable + floating) */
} mm_floating;

/* Hears of each pass: f == NULL just before it starts, then its figures. */
typedef void (*mm_floating_fn)(const mm_floating *f, void *ctx);

/* Counts every object from the heap's first allocation on, and every `every`
 * allocations (0: never) runs a pass and hands its figures to fn. Exact, and
 * costly (a census of every object and a whole-heap pass): for an untimed run.
 * False with one line in err for a strategy whose frees the heap cannot see
 * (boehm) or a heap that already allocated. */
bool mm_floating_start(mm_heap *h, uint64_t every, mm_floating_fn fn, void *ctx, char *err, size_t errlen);
/* One pass now (outside a collection); false when no census runs. */
bool mm_floating_measure(mm_heap *h, mm_floating *out);

/* ---- Allocator statistics ---------------------------------------------------- */

typedef struct mm_alloc_stats {
    uint64_t live_bytes;     /* requested and not yet freed */
    uint64_t reserved_bytes; /* taken from the OS (or the underlying malloc) */
    uint64_t arenas;         /* where the allocator has them, else 0 */
    uint64_t pools_in_use;
    /* The allocator library's own view, where it keeps one (jemalloc's
     * stats.allocated / stats.resident, mimalloc's committed / current RSS);
     * 0 when it has none. Reported beside RSS, never instead of it. */
    uint64_t lib_allocated_bytes;
    uint64_t lib_resident_bytes;
} mm_alloc_stats;

/* What the heap's allocator reports now (its memory, not the objects'). */
void mm_get_alloc_stats(mm_heap *h, mm_alloc_stats *out);

/* ---- Weak references ------------------------------------------------------ */

/* Called once the referent of wr has died (wr reads empty by then), unless wr
 * itself died first or is garbage in the same collection (CPython's rule). */
typedef void (*mm_weakref_callback)(mm_heap *h, mm_object *wr, void *ctx);

/* A weak reference to `referent` (new reference; a tracked container, as
 * CPython's weakref objects are). NULL if referent's type has no
 * weaklist_offset or memory ran out. cb may be NULL. Not modelled: CPython
 * hands out one shared callback-less ref per referent; here each call makes one. */
mm_object *mm_weakref_new(mm_heap *h, mm_object *referent, mm_weakref_callback cb, void *ctx);
/* The referent (borrowed), or NULL once it died or was found garbage. */
mm_object *mm_weakref_get(mm_object *wr);
/* The callback context given to mm_weakref_new. */
void *mm_weakref_ctx(mm_object *wr);
bool mm_is_weakref(const mm_object *o);
/* Number of weak references currently pointing at o (weakref.getweakrefcount). */
size_t mm_weakref_count(mm_object *o);

/* Attribute name that makes a class weakly referenceable, as in `__slots__`:
 * the layout reserves the weak-reference list field instead of an attribute. */
#define MM_WEAKREF_ATTR "__weakref__"

/* Sets the finalizer of a class's instances (a class with `__del__`). */
void mm_class_set_finalizer(mm_class *c, void (*finalize)(mm_heap *h, mm_object *o));

/* ---- Classes and attributes (the layout axis) ------------------------------ */

typedef uint32_t mm_attr;
#define MM_NO_ATTR UINT32_MAX

/* Interns an attribute name for this heap; the same name gives the same id. */
mm_attr mm_intern(mm_heap *h, const char *name);

struct mm_class {
    const char *name;
    uint32_t nattrs;
    mm_attr *attrs;       /* declared attributes, in order */
    int32_t *slot_of;     /* attribute id → index in attrs, -1 if not declared */
    uint32_t slot_of_len; /* ids >= this were interned later: not declared */
    bool weakrefable;     /* `__weakref__` was declared: the layout adds a weak-reference list */
    mm_type type;         /* the instance type, built by the layout */
    void *layout_data;
    mm_class *next_in_heap;
};

/* Declares a class with the given attribute names (a Python class body). The heap
 * owns it and frees it last, so objects that outlive the workload (leaks) keep a
 * valid type for the final collection. */
mm_class *mm_class_new(mm_heap *h, const char *name, const char *const *attrs, uint32_t nattrs);

/* A new instance with every attribute None; new reference. Creating one is a
 * call of the class (its __init__ runs Python code), so it ends at a safe point. */
mm_object *mm_instance_new(mm_heap *h, mm_class *c);
/* The same made by C code with no __init__ to run (one C call making many, as
 * list(zip(a, b)) does): no safe point. */
mm_object *mm_instance_alloc(mm_heap *h, mm_class *c);

/* Error codes of attribute access. */
#define MM_OK 0
#define MM_EATTR (-1) /* the layout has no room for this attribute (slots: undeclared) */
#define MM_ENOMEM (-2)

/* Borrowed value of attribute a; MM_NONE when unset. One indirect call into the
 * layout, the same for every layout. */
static inline mm_value mm_getattr(mm_heap *h, mm_object *o, mm_attr a) { return h->getattr_fn(h, o, a); }
/* Sets attribute a (takes its own reference to v); MM_OK or an error code. */
static inline int mm_setattr(mm_heap *h, mm_object *o, mm_attr a, mm_value v) { return h->setattr_fn(h, o, a, v); }

/* ---- Components: what a cell's reclaim/allocator/layout axes can name ------- */

/* The three axes of the object model (the fourth, the workload, is workload.h's). */
typedef enum mm_axis { MM_AXIS_RECLAIM, MM_AXIS_ALLOCATOR, MM_AXIS_LAYOUT } mm_axis;

/* A read-only view of one registered component, copied out of its descriptor:
 * what `memstrat list` prints and what a cell is built from. Fields that belong
 * to another axis are 0/NULL. */
typedef struct mm_component {
    mm_axis axis;
    const char *name;            /* stable ID used in cells, results and plots */
    const char *summary;         /* one line */
    const mm_knob_desc *knobs;   /* {0}-terminated, may be NULL */
    /* MM_AXIS_RECLAIM */
    size_t preheader;            /* bytes kept before the header of each container */
    bool has_collector;          /* mm_collect does something (the `policy` knob applies) */
    int generations;             /* generations its collections report (mm_gc_info.generation
                                    is 0..generations-1); 0 without a collector */
    const char *pause_kinds;     /* space-separated meaning of each generation number ("gen0
                                    gen1 gen2", "gen0 increment gen2", "trial"); NULL: none */
    bool interpreter;            /* runs in an interpreter the harness starts (`cpython`):
                                    no heap; mm_heap_new refuses it */
    /* MM_AXIS_ALLOCATOR */
    const char *preload_library; /* must be the process-wide malloc (LD_PRELOAD); NULL: none */
    /* The descriptor itself (the member of this axis), for mm_config. */
    union {
        const struct mm_strategy *reclaim;
        const struct mm_allocator_ops *allocator;
        const struct mm_layout *layout;
    } desc;
} mm_component;

/* The i-th component of an axis in registry order; false past the last. */
bool mm_component_at(mm_axis axis, size_t i, mm_component *out);
/* The component of an axis with this name; false if there is none. */
bool mm_component_find(mm_axis axis, const char *name, mm_component *out);
/* The component's own rules across knobs (a threshold list, a pool size that
 * must be a power of two), for the CLI to run before anything runs: false with
 * one line in err. True for a component without such rules. */
bool mm_component_check(const mm_component *c, const mm_knobset *ks, char *err, size_t errlen);

/* ---- Process malloc: which shared object supplies malloc -------------------- */

/* Codes of the `malloc_impl` counter; stable, results files keep them. */
typedef enum mm_malloc_code {
    MM_MALLOC_GLIBC = 0,
    MM_MALLOC_JEMALLOC = 1,
    MM_MALLOC_MIMALLOC = 2,
    MM_MALLOC_OTHER = 3, /* e.g. a sanitizer's interceptor, tcmalloc */
} mm_malloc_code;

typedef struct mm_malloc_info {
    char path[PATH_MAX]; /* as the dynamic linker loaded it */
    const char *base;    /* points into path: the file name */
    mm_malloc_code code;
} mm_malloc_info;

/* Names the object that the symbol `malloc` resolves to in the global scope —
 * the one every malloc call of the process reaches — by path, base name
 * (libc.so.6, libjemalloc.so.2, libmimalloc.so.2, libasan.so.8 under
 * AddressSanitizer) and code. Fixed for the life of a process image (it changes
 * only across exec, with LD_PRELOAD). False only if malloc cannot be traced to
 * a loaded object (then path is "?"). */
bool mm_malloc_which(mm_malloc_info *out);

/* The code for a library base name (libc.so.6 → MM_MALLOC_GLIBC, ...). */
mm_malloc_code mm_malloc_code_of(const char *base);

/* ---- Raw memory for strategies and layouts (counted by the allocator) ------ */

void *mm_raw_alloc(mm_heap *h, size_t size);
void mm_raw_free(mm_heap *h, void *p, size_t size);

/* ---- Running out of memory -------------------------------------------------------
 * A workload sees an allocation fail as NULL from mm_new and ends its run with one
 * line. Inside the model, a release cascade or a collection cannot be undone once
 * started, and its work lists may need to grow: when that memory is refused the
 * model calls the process's handler with what ran out. The handler returns true
 * after freeing memory (the allocation is retried) or stops the process itself;
 * without a handler (or when it returns false) the model prints
 * "memstrat: out of memory: WHAT" and exits with status 1 — never abort(). */
typedef bool (*mm_oom_handler)(const char *what);
void mm_set_oom_handler(mm_oom_handler fn);

#endif
