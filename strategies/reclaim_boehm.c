/* reclaim_boehm.c — `boehm`: libgc's conservative mark-sweep (Boehm–Demers–Weiser).
 *
 * Contract: objects live in libgc's heap whatever the cell's allocator axis is
 * (the allocator then serves nothing and its stats report ~0; the counter
 * gc_heap_mb reports libgc's heap instead). Refcounts are still kept by the
 * shared inline hot path but nothing acts on them: reaching zero frees nothing,
 * libgc reclaims what it cannot reach. mm_collect runs GC_gcollect.
 *
 * Invariant: every object the program can reach is reachable for libgc, through
 * one of (1) thread stacks and static data, scanned conservatively by libgc;
 * (2) the heap's roots (mm_root_push: addresses of holds, which may sit in plain
 * malloc memory), pushed by our push-other-roots procedure; (3) mm_raw_alloc
 * memory (side tables), which comes from GC_MALLOC_UNCOLLECTABLE: scanned, never
 * collected. Plain malloc memory that no root names is NOT scanned: a hold kept
 * there without mm_root_push is a bug under this strategy.
 *
 * Where to start reading: boehm_alloc_object, then boehm_collect.
 *
 * Memory kinds: containers (and weakly referenceable objects, whose weak list
 * head must keep the weak references alive) come from a scanned kind; objects
 * that hold no references from an atomic kind (never scanned); weak-reference
 * objects from a typed allocation whose descriptor skips the referent word
 * (mm_type.weak_offset), so a weak reference does not keep its referent alive.
 * Our own kinds let the live count below tell our objects from libgc's own.
 *
 * Weak references the program drops (refcount zero) are detached from their
 * referent at once (boehm_on_zero): they must not run a callback later.
 *
 * Finalizers and weak references: a type with a finalizer or a weak-reference
 * list gets a libgc finalizer (GC_register_finalizer_no_order, so cycles of such
 * objects are finalized too, as PEP 442 does). When libgc finds the object
 * unreachable it runs ours: weak references are cleared and their callbacks run
 * first, then the type's finalizer (once: libgc finalizers are one-shot). A
 * resurrected object simply stays reachable. Weak references stay alive as long
 * as their referent does (its weak list holds them): retention, not unsafety.
 *
 * Live objects (the harness's leak check): libgc frees silently, so after a full
 * mm_collect we count the marked objects of our kinds (GC_enumerate_reachable_
 * objects_inner) and set objects_freed/bytes_freed from that. Between full
 * collections the figures are those of the last count. The count is
 * process-wide (libgc has one heap), exact for one heap per process (the
 * harness's case) and conservative: a stray word that looks like a pointer
 * retains an object, as libgc itself does.
 *
 * Pauses: libgc's collection events (GC_EVENT_START/END) bracket each collection
 * for the harness, reported as generation 0 (libgc here is not generational).
 * Sweeping is lazy (done during later allocations), so it is outside the pauses.
 * The events go to the most recently created boehm heap: libgc is one
 * process-wide collector.
 *
 * Not usable under AddressSanitizer (its fake stacks hide locals from libgc's
 * stack scan): the strategy refuses in MS_SANITIZE_BUILD.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* dladdr */
#endif
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gc/gc.h>
#include <gc/gc_mark.h>
#include <gc/gc_typed.h>

#include "strategy.h"

/* Full collections mm_collect(FULL) runs at most: each one after the first
 * reclaims what the previous one's finalizers released (CPython frees finalized
 * garbage in the same collection). */
#define BOEHM_FULL_ROUNDS 4
/* Largest object (in words) a typed descriptor is built for: the weak reference. */
#define BOEHM_TYPED_MAX_WORDS 64
/* Stack bytes below mm_collect cleared before a full collection (see clear_stack_residue). */
#define BOEHM_STACK_CLEAR_BYTES (64 * 1024)
/* libgc kind descriptor "scan the whole object": length descriptor, size added. */
#define BOEHM_SCAN_DESCR GC_DS_LENGTH
#define BOEHM_SCAN_ADJUST 1
/* libgc kind descriptor "scan nothing": length 0, size not added. */
#define BOEHM_ATOMIC_DESCR 0
#define BOEHM_ATOMIC_ADJUST 0

/* What a finalizer reaches its heap through; GC memory, held by libgc's finalizer
 * table and by the state, so a finalizer that runs after the heap died sees NULL. */
typedef struct boehm_anchor {
    mm_heap *h;
} boehm_anchor;

typedef struct boehm_state {
    boehm_anchor *anchor;
    struct boehm_state *next; /* live boehm heaps, for the root pusher */
    mm_heap *h;
    uint64_t finalizers_run;
} boehm_state;

/* Process-wide libgc facts: one collector, one set of kinds. */
static struct {
    bool ready;
    unsigned scan_kind, atomic_kind;
    int typed_kind; /* learnt from the first typed object; -1 until then */
    const mm_type *typed_type;
    GC_descr typed_descr;
    GC_push_other_roots_proc prev_push;
    boehm_state *heaps; /* static data: scanned, and the states are uncollectable */
} boehm = {.typed_kind = -1};

/* The heap whose observer sees libgc's collections: the newest live one. */
static mm_heap *event_heap(void) { return boehm.heaps ? boehm.heaps->h : NULL; }

/* libgc's collection events become the harness's pause brackets. */
static void on_collection_event(GC_EventType e) {
    mm_heap *h = event_heap();
    if (h == NULL) return;
    if (e == GC_EVENT_START) mm_gc_begin(h, 0);
    if (e == GC_EVENT_END) {
        mm_gc_info info = {.generation = 0};
        mm_gc_end(h, &info);
    }
}

/* The heaps' roots are addresses of holds that may live in plain malloc memory,
 * which libgc does not scan: push each hold word itself. */
static void push_heap_roots(void) {
    for (boehm_state *s = boehm.heaps; s; s = s->next)
        for (size_t i = 0; i < s->h->roots_len; i++) GC_push_all_eager(s->h->roots[i], s->h->roots[i] + 1);
    if (boehm.prev_push) boehm.prev_push();
}

/* libgc's own image, as the dynamic linker names it (set before GC_INIT). */
static char libgc_image[4096];

/* libgc scans the data of every loaded library, its own included, keeping its
 * bookkeeping (GC_arrays) out and pushing its live internals explicitly
 * (GC_push_gc_structures), as it must when it is not allowed to see them. One
 * static it leaves in view is the mmap placement hint (os_dep.c's last_addr):
 * it points where the next heap section will be mapped, i.e. at the first
 * object of that section once the heap grows. That object is then always
 * falsely retained, and with it a whole dropped ring (seen: a 100k-node ring
 * never reclaimed). libgc's image holds nothing the program needs: not a root. */
static int GC_CALLBACK register_unless_libgc(const char *name, void *start, size_t size) {
    (void)start;
    (void)size;
    return libgc_image[0] == '\0' || name == NULL || strcmp(name, libgc_image) != 0;
}

/* Learns libgc's image name and installs the filter above. */
static void exclude_libgc_data(void) {
    Dl_info info;
    if (dladdr((void *)GC_gcollect, &info) == 0 || info.dli_fname == NULL) return;
    snprintf(libgc_image, sizeof libgc_image, "%s", info.dli_fname);
    GC_register_has_static_roots_callback(register_unless_libgc);
}

/* GC_INIT once per process, with our kinds and hooks; libgc cannot be torn down. */
static void boehm_process_init(void) {
    if (boehm.ready) return;
    exclude_libgc_data();
    GC_INIT();
    boehm.scan_kind = GC_new_kind(GC_new_free_list(), BOEHM_SCAN_DESCR, BOEHM_SCAN_ADJUST, 1);
    boehm.atomic_kind = GC_new_kind(GC_new_free_list(), BOEHM_ATOMIC_DESCR, BOEHM_ATOMIC_ADJUST, 0);
    GC_set_on_collection_event(on_collection_event);
    boehm.prev_push = GC_get_push_other_roots();
    GC_set_push_other_roots(push_heap_roots);
    boehm.ready = true;
}

/* Sanitizer builds refuse: ASan's fake stacks hide locals from the stack scan. */
static bool boehm_init(mm_heap *h, const mm_knobset *ks, char *err, size_t errlen) {
    (void)ks;
#ifdef MS_SANITIZE_BUILD
    snprintf(err, errlen, "boehm (libgc) conflicts with AddressSanitizer: its stack scan cannot see ASan's fake stacks");
    return false;
#endif
    boehm_process_init();
    boehm_state *s = GC_MALLOC_UNCOLLECTABLE(sizeof *s);
    boehm_anchor *a = GC_MALLOC(sizeof *a);
    if (s == NULL || a == NULL) {
        snprintf(err, errlen, "libgc: out of memory creating the heap state");
        return false;
    }
    a->h = h;
    s->anchor = a;
    s->h = h;
    s->next = boehm.heaps;
    boehm.heaps = s;
    h->strategy_data = s;
    return true;
}

/* Unlinks the heap; finalizers still pending for its objects find a NULL anchor. */
static void boehm_fini(mm_heap *h) {
    boehm_state *s = h->strategy_data;
    if (s == NULL) return;
    for (boehm_state **p = &boehm.heaps; *p; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            break;
        }
    s->anchor->h = NULL;
    GC_FREE(s);
    h->strategy_data = NULL;
}

/* Weak-reference callbacks run at once; the weakref is reachable from here. */
static void fire_cleared(mm_heap *h, mm_object *wr, void *arg) {
    (void)arg;
    mm_weakref_fire(h, wr);
}

/* libgc found o unreachable: CPython's order — weak references read NULL and
 * their callbacks run, then the finalizer (which may resurrect o). */
static void boehm_finalize(void *base, void *cd) {
    mm_heap *h = ((boehm_anchor *)cd)->h;
    if (h == NULL) return; /* its heap is gone: nothing left to tell */
    mm_object *o = base;   /* no pre-header under this strategy */
    const mm_type *t = o->type;
    ((boehm_state *)h->strategy_data)->finalizers_run++;
    if (t->weaklist_offset && *(mm_object **)((char *)o + t->weaklist_offset) != NULL)
        mm_weakrefs_clear(h, o, fire_cleared, NULL);
    if (t->finalize) t->finalize(h, o);
}

/* The descriptor of a type with a weak word: every word scanned but that one. */
static GC_descr typed_descr(const mm_type *t, size_t size) {
    if (boehm.typed_type == t) return boehm.typed_descr;
    size_t nwords = size / sizeof(GC_word);
    if (nwords > BOEHM_TYPED_MAX_WORDS) {
        fprintf(stderr, "memstrat: boehm: type %s with a weak word is too large\n", t->name);
        abort();
    }
    GC_word bm[GC_BITMAP_SIZE(GC_word[BOEHM_TYPED_MAX_WORDS])] = {0};
    for (size_t i = 0; i < nwords; i++)
        if (i != t->weak_offset / sizeof(GC_word)) GC_set_bit(bm, i);
    boehm.typed_type = t;
    boehm.typed_descr = GC_make_descriptor(bm, nwords);
    return boehm.typed_descr;
}

/* Objects come from libgc, in the kind that scans exactly what may hold a
 * strong reference; types that need to hear of their death get a finalizer. */
static void *boehm_alloc_object(mm_heap *h, const mm_type *t, size_t size) {
    void *p;
    if (MM_UNLIKELY(t->weak_offset != 0)) {
        p = GC_malloc_explicitly_typed(size, typed_descr(t, size));
        if (MM_UNLIKELY(boehm.typed_kind < 0) && p != NULL) boehm.typed_kind = GC_get_kind_and_size(p, NULL);
    } else {
        bool scanned = t->is_container || t->weaklist_offset != 0;
        p = GC_generic_malloc(size, (int)(scanned ? boehm.scan_kind : boehm.atomic_kind));
    }
    if (MM_UNLIKELY(p != NULL && (t->finalize != NULL || t->weaklist_offset != 0))) {
        boehm_state *s = h->strategy_data;
        GC_register_finalizer_no_order(p, boehm_finalize, s->anchor, NULL, NULL);
    }
    return p;
}

/* Only reached if something frees explicitly (nothing does under this strategy). */
static void boehm_free_object(mm_heap *h, void *base, size_t size) {
    (void)h;
    (void)size;
    GC_FREE(base);
}

/* Side tables may hold references: scanned, and freed only explicitly. */
static void *boehm_alloc_raw(mm_heap *h, size_t size) {
    (void)h;
    return GC_MALLOC_UNCOLLECTABLE(size);
}

static void boehm_free_raw(mm_heap *h, void *p, size_t size) {
    (void)h;
    (void)size;
    GC_FREE(p);
}

typedef struct live_count {
    uint64_t objects, bytes;
} live_count;

/* One marked object: ours if it is of one of our kinds. */
static void count_one(void *obj, size_t bytes, void *cd) {
    (void)bytes;
    int kind = GC_get_kind_and_size(obj, NULL);
    if (kind != (int)boehm.scan_kind && kind != (int)boehm.atomic_kind && kind != boehm.typed_kind) return;
    /* A cell of our kinds with no type is free memory (libgc clears cells it frees), not
     * an object: mm_new sets the type before anyone sees the object. libgc was seen to
     * leave such a cell marked now and then (a crash in CI before this check). */
    if (((mm_object *)obj)->type == NULL) return;
    live_count *c = cd;
    c->objects++;
    c->bytes += mm_sizeof(obj);
}

/* Runs with libgc's lock held, right after a collection, while mark bits are fresh. */
static void *count_live_locked(void *cd) {
    GC_enumerate_reachable_objects_inner(count_one, cd);
    return NULL;
}

/* The leak check's figures: what is still marked is live, the rest was freed. */
static void count_live(mm_heap *h) {
    live_count c = {0, 0};
    GC_call_with_alloc_lock(count_live_locked, &c);
    uint64_t freed = h->stats.objects_allocated > c.objects ? h->stats.objects_allocated - c.objects : 0;
    uint64_t bytes_freed = h->stats.bytes_allocated > c.bytes ? h->stats.bytes_allocated - c.bytes : 0;
    h->stats.collected += freed - h->stats.objects_freed;
    h->stats.objects_freed = freed;
    h->stats.bytes_freed = bytes_freed;
}

/* Dead frames of the workload left pointers on the stack below the caller;
 * libgc's own frames land there and would scan the unwritten words
 * conservatively, retaining garbage (a whole ring from one stale word). Wiping
 * the region first, as libgc's GC_clear_stack does during allocation, keeps the
 * leak check about reachability, not stack residue. */
__attribute__((noinline)) static void clear_stack_residue(void) {
    volatile unsigned char buf[BOEHM_STACK_CLEAR_BYTES];
    memset((void *)buf, 0, sizeof buf);
    __asm__ volatile("" : : "r"(buf) : "memory");
}

/* A full collection, repeated while finalizers released more garbage, then the
 * live count. Returns the objects found freed since the last count. Its frame
 * lands in the region clear_stack_residue wiped. */
__attribute__((noinline)) static uint64_t collect_full(mm_heap *h) {
    boehm_state *s = h->strategy_data;
    for (int round = 0; round < BOEHM_FULL_ROUNDS; round++) {
        uint64_t before = s->finalizers_run;
        GC_gcollect(); /* runs pending finalizers on its way out */
        if (GC_should_invoke_finalizers()) GC_invoke_finalizers();
        if (s->finalizers_run == before) break;
    }
    uint64_t freed_before = h->stats.objects_freed;
    count_live(h);
    return h->stats.objects_freed - freed_before;
}

/* Kept to two calls so its own frame (which overlaps the workload's dead
 * frames) holds no unwritten slots for libgc to misread. */
static uint64_t boehm_collect(mm_heap *h, int generation) {
    (void)generation; /* libgc here has one generation: every collection is full */
    clear_stack_residue();
    return collect_full(h);
}

/* Refcounts are exact even here, and zero means the program holds no
 * reference: only a weakref acts on it. Left in its referent's list it would
 * stay reachable and its callback would run after the program let go of it
 * (the weak-value dict frees the entry that is the callback's context when it
 * drops the weakref: a use after free). CPython's rule: a weakref that dies
 * first gets no callback. libgc reclaims the detached weakref later. */
static void boehm_on_zero(mm_heap *h, mm_object *o) {
    (void)h;
    if (MM_UNLIKELY(mm_is_weakref(o))) mm_weakref_detach(o);
}

/* gc.disable()/gc.enable(): libgc's counter of disables. */
static void boehm_set_enabled(mm_heap *h, bool enabled) {
    (void)h;
    if (enabled) {
        if (GC_is_disabled()) GC_enable();
    } else if (!GC_is_disabled()) {
        GC_disable();
    }
}

static void boehm_stats(mm_heap *h, mm_stats *out) {
    (void)h;
    out->collector_heap_bytes = GC_get_heap_size();
}

/* Before anything runs: a sanitizer build cannot host libgc (exit 2, one line),
 * and `policy` must be one of the known values. */
static bool boehm_check(const mm_knobset *ks, char *err, size_t errlen) {
#ifdef MS_SANITIZE_BUILD
    (void)ks;
    snprintf(err, errlen, "boehm (libgc) conflicts with AddressSanitizer: its stack scan cannot see ASan's fake stacks");
    return false;
#else
    return mm_policy_check(ks, err, errlen);
#endif
}

/* Only the `policy` knob: libgc tunes its own heap growth. */
static const mm_knob_desc boehm_knobs[] = {
    MM_POLICY_KNOB,
    {0},
};

const mm_strategy mm_strategy_boehm = {
    .name = "boehm",
    .summary = "libgc conservative mark-sweep; objects from libgc whatever the allocator axis (report gc_heap_mb)",
    .knobs = boehm_knobs,
    .preheader = 0,
    .has_collector = true,
    .generations = 1,
    .pause_kinds = "mark-sweep",
    .check = boehm_check,
    .init = boehm_init,
    .fini = boehm_fini,
    .on_zero = boehm_on_zero, /* keeps the object: libgc reclaims it when unreachable */
    .collect = boehm_collect,
    .set_enabled = boehm_set_enabled,
    .stats = boehm_stats,
    .alloc_object = boehm_alloc_object,
    .free_object = boehm_free_object,
    .alloc_raw = boehm_alloc_raw,
    .free_raw = boehm_free_raw,
};
