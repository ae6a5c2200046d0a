/* heap.c — the heap: objects in and out of the allocator, the shared refcount
 * release, roots, attribute interning, and dispatch to strategy and layout.
 *
 * Invariant: stats.objects_allocated - stats.objects_freed is the number of
 * objects alive (not yet returned to the allocator), whatever the strategy.
 *
 * Where to start reading: mm_new (allocation), then mm_release (how a chain of
 * objects is freed iteratively when the first one's refcount reaches zero).
 *
 * Release pauses: a cascade outside any collection that frees at least
 * release_pause_min objects is a pause of kind `release` (MM_PAUSE_RELEASE),
 * counted in stats.release_pauses / release_pause_objects and bracketed for the
 * observer. Only the slow path (release_cascade, entered once a cascade has
 * freed release_slow_after objects) calls the observer, so the single-object
 * free never reads a clock; the pause misses the first few frees (at most
 * MM_RELEASE_TIMED_AFTER - 1, about half a microsecond).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pressure.h"
#include "registry.h"

/* First capacity of the growable work lists; they double from there. The release
 * stack gets it at heap creation, so a shallow cascade (a list's, a ring's) never
 * needs memory — it often starts exactly when memory has run out. */
#define MM_INITIAL_STACK 256
/* Objects a cascade frees on the fast path before release_cascade takes over and
 * opens the observer's bracket: small enough that a 1000-object pause misses
 * under 2% of its frees, large enough that the many small cascades (an instance
 * and its dict, a small tree) never call the observer. */
#define MM_RELEASE_TIMED_AFTER 16

/* ---- running out of memory (mm.h) ---------------------------------------------- */

static mm_oom_handler oom_handler;

void mm_set_oom_handler(mm_oom_handler fn) { oom_handler = fn; }

/* A release or a collection half done cannot be undone, and going on without its
 * work list would free live objects or leak dead ones: when the handler cannot
 * free memory, the process stops here with one line and status 1 (no core). */
void mm_out_of_memory(const char *what) {
    if (oom_handler != NULL && oom_handler(what)) return;
    fflush(stdout);
    fprintf(stderr, "memstrat: out of memory: %s\n", what);
    _exit(1);
}

void *mm_realloc_or_stop(void *p, size_t bytes, const char *what) {
    for (;;) {
        void *n = realloc(p, bytes);
        if (n != NULL) return n;
        mm_out_of_memory(what);
    }
}

/* Grows a work list by doubling (see mm_realloc_or_stop). */
static void *grow_array(void *arr, size_t *cap, size_t elem, const char *what) {
    size_t ncap = *cap ? *cap * 2 : MM_INITIAL_STACK;
    void *n = mm_realloc_or_stop(arr, ncap * elem, what);
    *cap = ncap;
    return n;
}

static void class_free(mm_heap *h, mm_class *c);
static int policy_of(const mm_knobset *ks);
enum { MM_POLICY_AUTO, MM_POLICY_MANUAL, MM_POLICY_BATCH, MM_POLICY_FREEZE, MM_POLICY_PRESSURE, MM_POLICY_MANUAL_FREEZE };
static void finalized_remove(mm_heap *h, mm_object *o);
static void immortalize_roots(mm_heap *h);
static void release_push(mm_heap *h, mm_object *o);

/* The `release_pause_objects` knob of a strategy that declares it (others keep the
 * default, which only matters if they ever release a long chain). */
static void release_pause_setup(mm_heap *h, const mm_knobset *ks) {
    const char *v = ks ? mm_knobset_get(ks, "release_pause_objects") : NULL;
    int64_t n = MM_RELEASE_PAUSE_DEFAULT;
    if (v != NULL && !mm_knob_parse_int(v, MM_KNOB_COUNT, &n)) n = MM_RELEASE_PAUSE_DEFAULT;
    h->release_pause_min = (uint64_t)n;
    h->release_slow_after = n == 0 ? UINT64_MAX : n < MM_RELEASE_TIMED_AFTER ? (uint64_t)n : MM_RELEASE_TIMED_AFTER;
}

/* `none` and every on_zero need a function to call; this one keeps the object. */
static void keep_object(mm_heap *h, mm_object *o) {
    (void)h;
    (void)o;
}

mm_heap *mm_heap_new(const mm_config *cfg, char *err, size_t errlen) {
    if (cfg->reclaim->interpreter) {
        snprintf(err, errlen, "strategy '%s' runs in an interpreter that memstrat run starts; it makes no heap",
                 cfg->reclaim->name);
        return NULL;
    }
    mm_heap *h = calloc(1, sizeof *h);
    if (h == NULL) {
        snprintf(err, errlen, "out of memory creating heap");
        return NULL;
    }
    h->release_stack = malloc(MM_INITIAL_STACK * sizeof *h->release_stack);
    if (h->release_stack == NULL) {
        free(h);
        snprintf(err, errlen, "out of memory creating heap");
        return NULL;
    }
    h->release_cap = MM_INITIAL_STACK;
    h->reclaim = cfg->reclaim;
    h->layout = cfg->layout;
    h->preheader = cfg->reclaim->preheader;
    h->stats.preheader_bytes = h->preheader;
    h->on_zero = cfg->reclaim->on_zero ? cfg->reclaim->on_zero : keep_object;
    h->on_decref_nonzero = cfg->reclaim->on_decref_nonzero;
    h->on_new = cfg->reclaim->on_new;
    h->before_free = cfg->reclaim->before_free;
    release_pause_setup(h, cfg->knobs);
    h->allocator = cfg->allocator->create(cfg->knobs, err, errlen);
    if (h->allocator == NULL) {
        free(h->release_stack);
        free(h);
        return NULL;
    }
    h->getattr_fn = cfg->layout->get;
    h->setattr_fn = cfg->layout->set;
    h->alloc_fn = cfg->allocator->alloc;
    h->free_fn = cfg->allocator->free;
    h->alloc_object = cfg->reclaim->alloc_object;
    h->free_object = cfg->reclaim->free_object;
    if (cfg->reclaim->init && !cfg->reclaim->init(h, cfg->knobs, err, errlen)) {
        cfg->allocator->destroy(h->allocator);
        free(h->release_stack);
        free(h);
        return NULL;
    }
    if (cfg->layout->init && !cfg->layout->init(h, cfg->knobs, err, errlen)) {
        mm_heap_free(h);
        return NULL;
    }
    h->immortal = cfg->knobs && mm_knobset_get(cfg->knobs, "immortal") && mm_knob_int(cfg->knobs, "immortal") == 1;
    if (cfg->reclaim->has_collector) {
        if (!mm_policy_check(cfg->knobs, err, errlen)) {
            mm_heap_free(h);
            return NULL;
        }
        h->policy = policy_of(cfg->knobs);
        if (h->policy == MM_POLICY_MANUAL || h->policy == MM_POLICY_MANUAL_FREEZE) mm_gc_disable(h);
        if (h->policy == MM_POLICY_PRESSURE && !mm_pressure_start(h, cfg->knobs, err, errlen)) {
            mm_heap_free(h);
            return NULL;
        }
    }
    return h;
}

/* ---- GC policies ------------------------------------------------------------- */

/* Request counts of policy=manual: gen1 every 10th request, gen2 every 100th. */
#define MM_MANUAL_GEN1_EVERY 10
#define MM_MANUAL_GEN2_EVERY 100

static const char *const policy_names[] = {"auto", "manual", "batch", "freeze", "pressure", "manual+freeze", NULL};

static int policy_of(const mm_knobset *ks) {
    const char *v = ks ? mm_knobset_get(ks, "policy") : NULL;
    for (int i = 0; v && policy_names[i]; i++)
        if (strcmp(v, policy_names[i]) == 0) return i;
    return MM_POLICY_AUTO;
}

bool mm_policy_check(const mm_knobset *ks, char *err, size_t errlen) {
    const char *v = ks ? mm_knobset_get(ks, "policy") : NULL;
    if (v == NULL) return mm_pressure_check_knobs(ks, false, err, errlen);
    for (int i = 0; policy_names[i]; i++)
        if (strcmp(v, policy_names[i]) == 0) return mm_pressure_check_knobs(ks, i == MM_POLICY_PRESSURE, err, errlen);
    snprintf(err, errlen, "knob 'policy': '%s' is not auto, manual, batch, freeze, pressure or manual+freeze", v);
    return false;
}

void mm_event_notify(mm_heap *h, mm_event e) {
    if (e == MM_EVENT_WARMUP_END) immortalize_roots(h); /* before any freeze, as a pre-fork server would */
    switch (h->policy) {
    case MM_POLICY_MANUAL_FREEZE: /* Instagram's gc.disable() + gc.freeze() before the fork */
        if (e == MM_EVENT_WARMUP_END) mm_freeze(h);
        /* fall through */
    case MM_POLICY_MANUAL:
        if (e == MM_EVENT_REQUEST_END) {
            uint64_t n = ++h->requests;
            mm_collect(h, n % MM_MANUAL_GEN2_EVERY == 0 ? 2 : n % MM_MANUAL_GEN1_EVERY == 0 ? 1 : 0);
        }
        break;
    case MM_POLICY_BATCH:
        if (e == MM_EVENT_BATCH_BEGIN) mm_gc_disable(h);
        if (e == MM_EVENT_BATCH_END) {
            mm_gc_enable(h);
            mm_collect(h, MM_COLLECT_FULL);
        }
        break;
    case MM_POLICY_FREEZE:
        if (e == MM_EVENT_WARMUP_END) mm_freeze(h);
        break;
    default:
        break;
    }
}

/* Tests and tools name a cell's parts as text; validate exactly as the CLI does. */
mm_heap *mm_heap_new_named(const char *reclaim, const char *allocator, const char *layout,
                           const char *knobs, char *err, size_t errlen) {
    mm_config cfg = {mm_find_strategy(reclaim), mm_find_allocator(allocator), mm_find_layout(layout), NULL};
    if (!cfg.reclaim || !cfg.allocator || !cfg.layout) {
        snprintf(err, errlen, "unknown %s '%s'", !cfg.reclaim ? "strategy" : !cfg.allocator ? "allocator" : "layout",
                 !cfg.reclaim ? reclaim : !cfg.allocator ? allocator : layout);
        return NULL;
    }
    static mm_knobset ks; /* the heap keeps no pointer to it after init */
    memset(&ks, 0, sizeof ks);
    const mm_knob_desc *const tables[] = {cfg.reclaim->knobs, cfg.allocator->knobs, cfg.layout->knobs};
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", knobs ? knobs : "");
    for (char *save = NULL, *kv = strtok_r(buf, "/", &save); kv; kv = strtok_r(NULL, "/", &save)) {
        char *eq = strchr(kv, '=');
        if (eq == NULL) {
            snprintf(err, errlen, "knob '%s' has no '='", kv);
            return NULL;
        }
        *eq = '\0';
        if (!mm_knobset_apply(&ks, kv, eq + 1, tables, 3, err, errlen)) return NULL;
    }
    for (int i = 0; i < 3; i++) mm_knobset_fill_defaults(&ks, tables[i]);
    cfg.knobs = &ks;
    return mm_heap_new(&cfg, err, errlen);
}

void mm_heap_free(mm_heap *h) {
    if (h == NULL) return;
    mm_pressure_stop(h);
    if (h->reclaim->fini) h->reclaim->fini(h);
    mm_census_free(h);
    for (mm_class *c = h->classes, *next; c; c = next) {
        next = c->next_in_heap;
        class_free(h, c);
    }
    if (h->layout->fini) h->layout->fini(h);
    const mm_allocator_ops *ops = h->allocator->ops;
    ops->destroy(h->allocator);
    for (uint32_t i = 0; i < h->attr_count; i++) free(h->attr_names[i]);
    free(h->attr_names);
    free(h->release_stack);
    free(h->roots);
    free(h->finalized);
    free(h);
}

/* Live bytes grow here only (objects and blocks), so their peak is kept here. */
static inline void count_bytes(mm_heap *h, size_t n) {
    h->stats.bytes_allocated += n;
    if (MM_UNLIKELY(h->stats.bytes_allocated - h->stats.bytes_freed > h->stats.live_bytes_peak))
        h->stats.live_bytes_peak = h->stats.bytes_allocated - h->stats.bytes_freed;
}

/* Allocation: the one place objects enter the heap. Zeroing the body makes every
 * slot None, so traverse is safe from the first moment. */
mm_object *mm_new(mm_heap *h, const mm_type *t, size_t nitems) {
    size_t body = t->itemsize ? t->size + t->itemsize * nitems : t->size;
    size_t pre = mm_preheader_of(h, t), total = pre + body;
    char *base = MM_UNLIKELY(h->alloc_object != NULL) ? h->alloc_object(h, t, total) : h->alloc_fn(h->allocator, total);
    if (MM_UNLIKELY(base == NULL)) return NULL;
    memset(base, 0, total);
    mm_object *o = (mm_object *)(base + pre);
    o->refcount = 1;
    o->type = t;
    if (t->itemsize) ((mm_varobject *)o)->nitems = nitems;
    /* The strategy first (it may collect before tracking o, as CPython does), then the
     * count: o is live once mm_new returns, so a collection inside on_new sees live ==
     * tracked. */
    if (h->on_new) h->on_new(h, o);
    h->stats.objects_allocated++;
    /* Peaks are updated on allocation only: live counts cannot rise anywhere else. */
    if (MM_UNLIKELY(h->stats.objects_allocated - h->stats.objects_freed > h->stats.live_objects_peak))
        h->stats.live_objects_peak = h->stats.objects_allocated - h->stats.objects_freed;
    count_bytes(h, total);
    if (MM_UNLIKELY(h->census != NULL)) mm_census_on_new(h, o); /* a shadow run only (floating.c) */
    return o;
}

void mm_free_object(mm_heap *h, mm_object *o) {
    const mm_type *t = o->type;
    if (MM_UNLIKELY(t->on_free != NULL)) t->on_free(h, o);
    if (MM_UNLIKELY(t->finalize != NULL)) finalized_remove(h, o);
    if (h->before_free) h->before_free(h, o);
    if (MM_UNLIKELY(h->census != NULL)) mm_census_on_free(h, o);
    size_t total = mm_preheader_of(h, o->type) + mm_sizeof(o);
    void *base = mm_object_base(h, o);
    h->stats.objects_freed++;
    h->stats.bytes_freed += total;
#if MM_DEBUG
    /* Poison so a use after free shows as a wild type pointer, not silent reuse. */
    memset(base, MM_POISON_BYTE, total);
#endif
    if (MM_UNLIKELY(h->free_object != NULL)) h->free_object(h, base, total);
    else h->free_fn(h->allocator, base, total);
}

/* ---- finalizers (PEP 442) -------------------------------------------------------- */

/* Open-addressing set of finalized, still-live objects. Tiny in every workload
 * without finalizers (it is never touched), so a linear probe is enough. */
#define MM_FINALIZED_INITIAL 64
#define MM_TOMBSTONE ((mm_object *)1)

static size_t ptr_hash(const void *p, size_t mask) {
    uintptr_t x = (uintptr_t)p >> 4;
    x *= 0x9E3779B97F4A7C15ull;
    return (size_t)(x >> 17) & mask;
}

bool mm_finalized(mm_heap *h, mm_object *o) {
    if (h->finalized_len == 0) return false;
    size_t mask = h->finalized_cap - 1;
    for (size_t i = ptr_hash(o, mask);; i = (i + 1) & mask) {
        if (h->finalized[i] == o) return true;
        if (h->finalized[i] == NULL) return false;
    }
}

/* Rehashes into a table twice the live size (tombstones dropped). */
static void finalized_grow(mm_heap *h) {
    size_t cap = h->finalized_cap ? h->finalized_cap : MM_FINALIZED_INITIAL;
    while (cap < 4 * (h->finalized_len + 1)) cap *= 2;
    mm_object **old = h->finalized, **n;
    while ((n = calloc(cap, sizeof *n)) == NULL) mm_out_of_memory("growing the table of finalized objects");
    size_t oldcap = h->finalized_cap;
    h->finalized = n;
    h->finalized_cap = cap;
    h->finalized_used = 0;
    h->finalized_len = 0;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i] != NULL && old[i] != MM_TOMBSTONE) mm_set_finalized(h, old[i]);
    free(old);
}

void mm_set_finalized(mm_heap *h, mm_object *o) {
    if (2 * (h->finalized_used + 1) > h->finalized_cap) finalized_grow(h);
    size_t mask = h->finalized_cap - 1;
    for (size_t i = ptr_hash(o, mask);; i = (i + 1) & mask) {
        if (h->finalized[i] == o) return;
        if (h->finalized[i] == NULL) {
            h->finalized[i] = o;
            h->finalized_len++;
            h->finalized_used++;
            return;
        }
    }
}

static void finalized_remove(mm_heap *h, mm_object *o) {
    if (h->finalized_len == 0) return;
    size_t mask = h->finalized_cap - 1;
    for (size_t i = ptr_hash(o, mask);; i = (i + 1) & mask) {
        if (h->finalized[i] == NULL) return;
        if (h->finalized[i] == o) {
            h->finalized[i] = MM_TOMBSTONE;
            h->finalized_len--;
            return;
        }
    }
}

/* ---- weak references --------------------------------------------------------------- */

typedef struct mm_weakref {
    mm_object ob;
    mm_object *referent;                /* NULL once cleared */
    struct mm_weakref *next, *prev;     /* the referent's list */
    mm_weakref_callback callback;
    void *ctx;
} mm_weakref;

static mm_object **weaklist_of(mm_object *o) { return (mm_object **)((char *)o + o->type->weaklist_offset); }

/* Unlinks wr from its referent's list and forgets the referent. */
static void weakref_detach(mm_weakref *wr) {
    if (wr->referent == NULL) return;
    mm_object **head = weaklist_of(wr->referent);
    if (wr->prev) wr->prev->next = wr->next;
    else *head = (mm_object *)wr->next;
    if (wr->next) wr->next->prev = wr->prev;
    wr->next = wr->prev = NULL;
    wr->referent = NULL;
}

void mm_weakref_detach(mm_object *wr) { weakref_detach((mm_weakref *)wr); }

/* A dying weakref leaves its referent's list, so the referent never reaches it. */
static void weakref_on_free(mm_heap *h, mm_object *o) {
    (void)h;
    weakref_detach((mm_weakref *)o);
}

/* A container (CPython tracks weakref objects, and their allocation counts
 * toward gen0) that holds no strong reference: the callback is C. */
static const mm_type mm_weakref_type = {
    .name = "weakref",
    .size = sizeof(mm_weakref),
    .is_container = true,
    .on_free = weakref_on_free,
    .weak_offset = offsetof(mm_weakref, referent),
};

mm_object *mm_weakref_new(mm_heap *h, mm_object *referent, mm_weakref_callback cb, void *ctx) {
    if (referent == NULL || referent->type->weaklist_offset == 0) return NULL;
    mm_weakref *wr = (mm_weakref *)mm_new(h, &mm_weakref_type, 0);
    if (wr == NULL) return NULL;
    mm_object **head = weaklist_of(referent);
    wr->referent = referent;
    wr->callback = cb;
    wr->ctx = ctx;
    wr->next = (mm_weakref *)*head;
    if (wr->next) wr->next->prev = wr;
    *head = &wr->ob;
    return &wr->ob;
}

mm_object *mm_weakref_get(mm_object *wr) { return ((mm_weakref *)wr)->referent; }
void *mm_weakref_ctx(mm_object *wr) { return ((mm_weakref *)wr)->ctx; }
bool mm_is_weakref(const mm_object *o) { return o->type == &mm_weakref_type; }

size_t mm_weakref_count(mm_object *o) {
    if (o->type->weaklist_offset == 0) return 0;
    size_t n = 0;
    for (mm_weakref *wr = (mm_weakref *)*weaklist_of(o); wr; wr = wr->next) n++;
    return n;
}

void mm_weakrefs_clear(mm_heap *h, mm_object *o, void (*on_cleared)(mm_heap *h, mm_object *wr, void *arg), void *arg) {
    mm_object **head = weaklist_of(o);
    mm_weakref *wr = (mm_weakref *)*head;
    *head = NULL;
    /* First every weakref reads empty... */
    for (mm_weakref *w = wr; w; w = w->next) w->referent = NULL;
    /* ...then the ones with callbacks are handed over (the list is cut first, so
     * a callback that drops its weakref cannot disturb this walk). */
    while (wr) {
        mm_weakref *next = wr->next;
        wr->next = wr->prev = NULL;
        if (wr->callback) on_cleared(h, &wr->ob, arg);
        wr = next;
    }
}

void mm_weakref_fire(mm_heap *h, mm_object *wr) {
    mm_weakref *w = (mm_weakref *)wr;
    if (w->callback) w->callback(h, wr, w->ctx);
}

/* The refcount path: each callback runs at once, wr held across it. */
static void fire_now(mm_heap *h, mm_object *wr, void *arg) {
    (void)arg;
    mm_incref(wr);
    mm_weakref_fire(h, wr);
    mm_decref(h, wr);
}

void mm_class_set_finalizer(mm_class *c, void (*finalize)(mm_heap *h, mm_object *o)) { c->type.finalize = finalize; }

/* The slow part of a release, for types with a finalizer or weak references, in
 * CPython's subtype_dealloc order: the finalizer once (PEP 442) with the object
 * briefly alive again, then, unless it was resurrected, its weak references are
 * cleared and their callbacks run. Returns false when the object must live on. */
static bool release_slow(mm_heap *h, mm_object *dead) {
    const mm_type *t = dead->type;
    if (t->finalize && !mm_finalized(h, dead)) {
        mm_set_finalized(h, dead);
        dead->refcount = 1;
        t->finalize(h, dead);
        if (--dead->refcount != 0) return false;
    }
    if (t->weaklist_offset && *weaklist_of(dead) != NULL) mm_weakrefs_clear(h, dead, fire_now, NULL);
    return true;
}

/* Pushes o on the release work list. */
static void release_push(mm_heap *h, mm_object *o) {
    if (MM_UNLIKELY(h->release_len == h->release_cap))
        h->release_stack =
            grow_array(h->release_stack, &h->release_cap, sizeof *h->release_stack, "growing the release cascade's work list");
    h->release_stack[h->release_len++] = o;
}

/* Visitor used while releasing: each child loses the reference its parent held. */
static void release_child(mm_object *child, void *arg) {
    mm_heap *h = arg;
#if MM_IMMORTAL_CHECK
    if (MM_UNLIKELY(mm_is_immortal(child))) return; /* Py_DECREF's early return */
#endif
    if (--child->refcount == 0)
        release_push(h, child);
    else if (MM_UNLIKELY(h->on_decref_nonzero != NULL))
        h->on_decref_nonzero(h, child);
}

/* One object off the work list: its finalizer and weak references (slow part),
 * its children released, its memory freed. 1 if it was freed, 0 if resurrected. */
static inline uint64_t release_one(mm_heap *h) {
    mm_object *dead = h->release_stack[--h->release_len];
    if (MM_UNLIKELY(dead->type->finalize != NULL || dead->type->weaklist_offset != 0) && !release_slow(h, dead))
        return 0; /* resurrected by its finalizer */
    if (dead->type->traverse) dead->type->traverse(dead, release_child, h);
    mm_free_object(h, dead);
    return 1;
}

/* The slow path of a cascade that has freed `freed` objects and may go on: the
 * observer's bracket opens (unless a collection is running: its frees are its
 * pause), the rest drains, and the cascade is a release pause if it reached
 * release_pause_min, else the bracket is cancelled. */
static void release_cascade(mm_heap *h, uint64_t freed) {
    const bool counted = h->gc_depth == 0;
    if (h->release_len == 0 && freed < h->release_pause_min) return; /* ended exactly here: no pause */
    mm_gc_info info = {.generation = MM_PAUSE_RELEASE};
    if (counted && h->observer) h->observer(MM_GC_START, &info, h->observer_ctx);
    while (h->release_len > 0) freed += release_one(h);
    if (!counted) return;
    if (freed >= h->release_pause_min) {
        h->stats.release_pauses++;
        h->stats.release_pause_objects += freed;
        info.collected = freed;
        if (h->observer) h->observer(MM_GC_STOP, &info, h->observer_ctx);
    } else if (h->observer) {
        h->observer(MM_GC_CANCEL, &info, h->observer_ctx);
    }
}

/* Why a work list: dropping the head of a long list frees the whole chain, and a
 * recursive release would use one C stack frame per node (CPython guards this
 * with its "trashcan"). Only the outermost call drains; nested zeroes (from
 * release_child) are queued, so depth stays constant. The fast path counts what
 * it frees and hands a long cascade to release_cascade. */
void mm_release(mm_heap *h, mm_object *o) {
    release_push(h, o);
    if (h->releasing) return;
    h->releasing = true;
    uint64_t freed = 0;
    while (h->release_len > 0) {
        freed += release_one(h);
        if (MM_UNLIKELY(freed >= h->release_slow_after)) {
            release_cascade(h, freed);
            break;
        }
    }
    h->releasing = false;
}

/* ---- roots ------------------------------------------------------------------ */

void mm_root_push(mm_heap *h, mm_object **slot) {
    if (h->roots_len == h->roots_cap) h->roots = grow_array(h->roots, &h->roots_cap, sizeof *h->roots, "growing the root table");
    h->roots[h->roots_len++] = slot;
}

void mm_root_pop(mm_heap *h, size_t n) {
    h->roots_len = n > h->roots_len ? 0 : h->roots_len - n;
}

/* ---- immortal objects (PEP 683; mm.h) -------------------------------------------- */

/* The walk of mm_immortalize: a child not yet immortal joins the work list. An
 * object already immortal is not entered again, so the sentinel is the walk's
 * own visited mark and shared structure is walked once. */
static void immortal_visit(mm_object *child, void *arg) {
    mm_heap *h = arg;
    if (mm_is_immortal(child)) return;
    child->refcount = MM_IMMORTAL_REFCNT;
    h->stats.immortalized++;
    release_push(h, child);
}

/* Uses the release work list (empty outside a release: events and workloads
 * call this between operations) so it needs no memory of its own up front.
 * Weak references are not followed: a weakref's referent is not traversed. */
uint64_t mm_immortalize(mm_heap *h, mm_object *o) {
    if (!h->immortal || o == NULL || mm_is_immortal(o) || h->releasing) return 0;
    const uint64_t before = h->stats.immortalized;
    const size_t base = h->release_len;
    o->refcount = MM_IMMORTAL_REFCNT;
    h->stats.immortalized++;
    release_push(h, o);
    while (h->release_len > base) {
        mm_object *x = h->release_stack[--h->release_len];
        if (x->type->traverse) x->type->traverse(x, immortal_visit, h);
    }
    return h->stats.immortalized - before;
}

/* WARMUP_END under immortal=1: everything the program's roots reach. */
static void immortalize_roots(mm_heap *h) {
    for (size_t i = 0; h->immortal && i < h->roots_len; i++) mm_immortalize(h, *h->roots[i]);
}

/* ---- collection and observation ------------------------------------------- */

uint64_t mm_collect(mm_heap *h, int generation) {
    return h->reclaim->collect ? h->reclaim->collect(h, generation) : 0;
}

/* The slow half of mm_safepoint: clear the flag first, as CPython clears
 * gc_scheduled before running, so an allocation inside the run reschedules. */
void mm_safepoint_slow(mm_heap *h) {
    h->safepoint_pending = false;
    if (h->reclaim->safepoint) h->reclaim->safepoint(h);
}

bool mm_has_collector(const mm_heap *h) { return h->reclaim->has_collector; }

void mm_gc_enable(mm_heap *h) {
    if (h->reclaim->set_enabled) h->reclaim->set_enabled(h, true);
}

void mm_gc_disable(mm_heap *h) {
    if (h->reclaim->set_enabled) h->reclaim->set_enabled(h, false);
}

void mm_freeze(mm_heap *h) {
    if (h->reclaim->freeze) h->reclaim->freeze(h);
}

void mm_unfreeze(mm_heap *h) {
    if (h->reclaim->unfreeze) h->reclaim->unfreeze(h);
}

void mm_set_observer(mm_heap *h, mm_observer_fn fn, void *ctx) {
    h->observer = fn;
    h->observer_ctx = ctx;
}

void mm_gc_begin(mm_heap *h, int generation) {
    h->gc_depth++;
    if (MM_UNLIKELY(h->census != NULL)) mm_census_gc(h, true);
    if (h->observer) {
        mm_gc_info info = {.generation = generation};
        h->observer(MM_GC_START, &info, h->observer_ctx);
    }
}

void mm_gc_end(mm_heap *h, const mm_gc_info *info) {
    if (h->gc_depth > 0) h->gc_depth--;
    if (info->generation >= 0 && info->generation < MM_MAX_GENERATIONS) {
        h->stats.collections[info->generation]++;
        h->stats.collected_by_gen[info->generation] += info->collected;
        h->stats.uncollectable_by_gen[info->generation] += info->uncollectable;
    }
    h->stats.collected += info->collected;
    h->stats.uncollectable += info->uncollectable;
    if (MM_UNLIKELY(h->census != NULL)) mm_census_gc(h, false);
    if (h->observer) h->observer(MM_GC_STOP, info, h->observer_ctx);
}

void mm_get_stats(mm_heap *h, mm_stats *out) {
    *out = h->stats;
    if (h->reclaim->stats) h->reclaim->stats(h, out);
}

/* The allocator is private to the object model: this is the floors' one window on it. */
void mm_get_alloc_stats(mm_heap *h, mm_alloc_stats *out) { h->allocator->ops->stats(h->allocator, out); }

/* ---- shapes -------------------------------------------------------------------- */

void mm_traverse_slots(mm_object *o, mm_visit_fn visit, void *arg) {
    mm_value *s = mm_slots(o);
    for (uint32_t i = 0, n = o->type->nslots; i < n; i++)
        if (mm_is_ref(s[i])) visit((mm_object *)s[i], arg);
}

void mm_clear_slots(mm_heap *h, mm_object *o) {
    mm_value *s = mm_slots(o);
    for (uint32_t i = 0, n = o->type->nslots; i < n; i++) mm_store(h, o, &s[i], MM_NONE);
}

void mm_traverse_var_items(mm_object *o, mm_visit_fn visit, void *arg) {
    mm_value *s = mm_var_items(o);
    for (size_t i = 0, n = ((mm_varobject *)o)->nitems; i < n; i++)
        if (mm_is_ref(s[i])) visit((mm_object *)s[i], arg);
}

void mm_clear_var_items(mm_heap *h, mm_object *o) {
    mm_value *s = mm_var_items(o);
    for (size_t i = 0, n = ((mm_varobject *)o)->nitems; i < n; i++) mm_store(h, o, &s[i], MM_NONE);
}

/* ---- attributes and classes ------------------------------------------------ */

/* Interning gives attribute access an integer key, as CPython's interned strings do. */
mm_attr mm_intern(mm_heap *h, const char *name) {
    for (uint32_t i = 0; i < h->attr_count; i++)
        if (strcmp(h->attr_names[i], name) == 0) return i;
    if (h->attr_count == h->attr_cap) { /* a workload's setup: it can fail on MM_NO_ATTR */
        uint32_t cap = h->attr_cap ? h->attr_cap * 2 : MM_INITIAL_STACK;
        char **n = realloc(h->attr_names, cap * sizeof *n);
        if (n == NULL) return MM_NO_ATTR;
        h->attr_names = n;
        h->attr_cap = cap;
    }
    h->attr_names[h->attr_count] = strdup(name);
    if (h->attr_names[h->attr_count] == NULL) return MM_NO_ATTR;
    return h->attr_count++;
}

mm_class *mm_class_new(mm_heap *h, const char *name, const char *const *attrs, uint32_t nattrs) {
    mm_class *c = calloc(1, sizeof *c);
    if (c == NULL) return NULL;
    c->name = name;
    c->attrs = calloc(nattrs ? nattrs : 1, sizeof *c->attrs);
    if (c->attrs == NULL) goto fail;
    /* `__weakref__` is no attribute: it asks the layout for a weak-reference list. */
    for (uint32_t i = 0; i < nattrs; i++) {
        if (strcmp(attrs[i], MM_WEAKREF_ATTR) == 0) c->weakrefable = true;
        else c->attrs[c->nattrs++] = mm_intern(h, attrs[i]);
    }
    c->slot_of_len = h->attr_count;
    c->slot_of = malloc((c->slot_of_len ? c->slot_of_len : 1) * sizeof *c->slot_of);
    if (c->slot_of == NULL) goto fail;
    for (uint32_t i = 0; i < c->slot_of_len; i++) c->slot_of[i] = -1;
    for (uint32_t i = 0; i < c->nattrs; i++) c->slot_of[c->attrs[i]] = (int32_t)i;
    c->type.name = name;
    c->type.cls = c;
    char err[160];
    if (!h->layout->class_init(h, c, err, sizeof err)) goto fail;
    c->next_in_heap = h->classes;
    h->classes = c;
    return c;
fail:
    free(c->attrs);
    free(c->slot_of);
    free(c);
    return NULL;
}

/* Classes die with the heap, after the strategy, because leaked objects point at them. */
static void class_free(mm_heap *h, mm_class *c) {
    if (h->layout->class_fini) h->layout->class_fini(h, c);
    free(c->attrs);
    free(c->slot_of);
    free(c);
}

/* Creating an instance is a call in Python (the class's __init__ runs, and its
 * entry is a safe point), so a collection scheduled by the allocation runs
 * here, with the new instance held by its creator. */
mm_object *mm_instance_alloc(mm_heap *h, mm_class *c) { return h->layout->instantiate(h, c); }

mm_object *mm_instance_new(mm_heap *h, mm_class *c) {
    mm_object *o = h->layout->instantiate(h, c);
    mm_safepoint(h);
    return o;
}

/* ---- raw memory ---------------------------------------------------------------- */

/* Counted as an object's bytes are (live bytes and their peak), so a layout that
 * splits an instance in two still reports its whole size per instance. */
void *mm_block_alloc(mm_heap *h, size_t size) {
    void *p = h->alloc_fn(h->allocator, size);
    if (MM_UNLIKELY(p == NULL)) return NULL;
    count_bytes(h, size);
    return p;
}

void mm_block_free(mm_heap *h, void *p, size_t size) {
    h->stats.bytes_freed += size;
#if MM_DEBUG
    memset(p, MM_POISON_BYTE, size);
#endif
    h->free_fn(h->allocator, p, size);
}

/* A strategy that owns object memory frees objects without their type's on_free
 * (libgc finds them dead), so nothing would free their blocks. */
bool mm_blocks_supported(const mm_heap *h) { return h->alloc_object == NULL; }

/* A strategy that owns object memory may own raw memory too (see strategy.h). */
void *mm_raw_alloc(mm_heap *h, size_t size) {
    return h->reclaim->alloc_raw ? h->reclaim->alloc_raw(h, size) : h->alloc_fn(h->allocator, size);
}

void mm_raw_free(mm_heap *h, void *p, size_t size) {
    if (h->reclaim->free_raw) h->reclaim->free_raw(h, p, size);
    else h->free_fn(h->allocator, p, size);
}
