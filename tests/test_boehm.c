/* test_boehm.c — `boehm`: libgc reclaims dropped garbage (cycles included), never
 * what the program can still reach, and finalizers and weak references behave.
 *
 * Conservative collection may retain a few objects through stray words, so
 * "garbage reclaimed" is asserted as at least GARBAGE_FLOOR of it; "nothing
 * reachable freed" is asserted exactly: every held object keeps its contents
 * (a pattern derived from its id) through many collections while garbage is
 * made and reclaimed around it.
 *
 * Property test: random graph operations (new object, store a held object or an
 * int into a slot, drop a hold, take a hold on a slot's referent, collect) with
 * holds in a malloc'd array registered through mm_root_push (memory libgc does
 * not scan by itself); after each collection every object reachable from the
 * holds is checked intact; at the end, holds dropped, at least GARBAGE_FLOOR of
 * all objects made must have been finalized.
 */
#include <stdlib.h>
#include <string.h>

#include <gc/gc.h>

#include "check.h"
#include "test_util.h"
#include "mm.h"

/* Fraction of garbage that must be reclaimed (libgc is conservative). */
#define GARBAGE_FLOOR 0.95
#define RING_NODES 100000
#define HELD_NODES 10000
#define GARBAGE_ROUNDS 20
#define COLLECTIONS 5
/* Property test: slots per object, holds, operations, seeds, ops between collections. */
#define MAX_SLOTS 4
#define HANDLES 512
#define PROPERTY_OPS 200000
#define PROPERTY_SEEDS 3
#define COLLECT_EVERY 5000
/* Slot 0 of every test object: its id, scrambled so freed-and-reused memory shows,
 * and kept below 2^30 so no pattern looks like a heap address to libgc. */
#define PATTERN(id) ((intptr_t)(((id) * 2654435761u) & 0x3fffffff))

static uint64_t finalized;

/* Counts deaths: libgc tells us nothing else about the objects it frees. */
static void count_finalize(mm_heap *h, mm_object *o) {
    (void)h;
    (void)o;
    finalized++;
}

/* Slot 0 holds the pattern, the rest references or ints. */
static const mm_type node_type = {
    .name = "BNode",
    .size = sizeof(mm_varobject),
    .itemsize = sizeof(mm_value),
    .is_container = true,
    .traverse = mm_traverse_var_items,
    .clear = mm_clear_var_items,
    .finalize = count_finalize,
};

static mm_heap *boehm_heap(void) {
    char err[256];
    mm_heap *h = mm_heap_new_named("boehm", "system", "slots", NULL, err, sizeof err);
    if (h == NULL) {
        fprintf(stderr, "heap: %s\n", err);
        exit(strstr(err, "AddressSanitizer") ? 77 : 1); /* 77: skipped */
    }
    return h;
}

static mm_object *node(mm_heap *h, size_t k, uint64_t id) {
    mm_object *o = mm_new(h, &node_type, k);
    mm_var_items(o)[0] = mm_int(PATTERN(id));
    return o;
}

static bool intact(mm_object *o, uint64_t id) {
    return o->type == &node_type && mm_var_items(o)[0] == mm_int(PATTERN(id));
}

/* Ring nodes have no finalizer: libgc 8.2 was seen not to finalize a cycle of
 * no_order-finalizable objects (see reclaim_boehm.c), so the ring is counted
 * through the live count and libgc's free bytes instead. */
static const mm_type ring_type = {
    .name = "BRing",
    .size = sizeof(mm_varobject),
    .itemsize = sizeof(mm_value),
    .is_container = true,
    .traverse = mm_traverse_var_items,
};

/* Built in its own frame so no live local of the caller points into the ring. */
__attribute__((noinline)) static void make_ring(mm_heap *h, size_t n) {
    mm_object *first = mm_new(h, &ring_type, 2), *prev = first;
    for (size_t i = 1; i < n; i++) {
        mm_object *o = mm_new(h, &ring_type, 2);
        mm_store(h, prev, &mm_var_items(prev)[1], mm_ref(o));
        mm_decref(h, o);
        prev = o;
    }
    mm_store(h, prev, &mm_var_items(prev)[1], mm_ref(first));
    mm_decref(h, first);
}

/* A dropped ring is garbage to libgc: live objects fall and free bytes rise. */
static void test_ring_collected(void) {
    mm_heap *h = boehm_heap();
    mm_collect(h, MM_COLLECT_FULL);
    uint64_t live0 = live(h);
    make_ring(h, RING_NODES);
    size_t free0 = GC_get_free_bytes();
    uint64_t got = mm_collect(h, MM_COLLECT_FULL);
    CHECK(got >= GARBAGE_FLOOR * RING_NODES, "ring: mm_collect reported %llu freed", (unsigned long long)got);
    CHECK(live(h) - live0 <= (1 - GARBAGE_FLOOR) * RING_NODES, "ring: %llu still live",
          (unsigned long long)(live(h) - live0));
    size_t ring_bytes = RING_NODES * (sizeof(mm_varobject) + 2 * sizeof(mm_value));
    CHECK(GC_get_free_bytes() >= free0 + GARBAGE_FLOOR * ring_bytes, "ring: free bytes %zu -> %zu", free0,
          GC_get_free_bytes());
    mm_stats s;
    mm_get_stats(h, &s);
    CHECK(s.collector_heap_bytes > 0, "libgc heap size reported");
    CHECK(s.collections[0] >= 1, "collections seen by the observer path");
    mm_heap_free(h);
}

/* Garbage made and dropped in its own frame. */
__attribute__((noinline)) static void make_garbage(mm_heap *h, size_t n) {
    for (size_t i = 0; i < n; i++) mm_decref(h, node(h, 3, i));
}

/* A held list (holds in malloc memory, named by roots) survives collections intact. */
static void test_held_survive(void) {
    mm_heap *h = boehm_heap();
    mm_object **held = calloc(HELD_NODES, sizeof *held);
    for (size_t i = 0; i < HELD_NODES; i++) {
        held[i] = node(h, 2, i);
        mm_root_push(h, &held[i]);
        if (i > 0) mm_store(h, held[i], &mm_var_items(held[i])[1], mm_ref(held[i - 1]));
    }
    /* The head alone (also in malloc memory) keeps a chain alive through references. */
    mm_object **chain = malloc(sizeof *chain);
    *chain = node(h, 2, 0);
    mm_root_push(h, chain);
    for (size_t i = 1; i < HELD_NODES; i++) {
        mm_object *o = node(h, 2, i);
        mm_store(h, o, &mm_var_items(o)[1], mm_ref(*chain));
        *chain = o;
    }
    for (int c = 0; c < COLLECTIONS; c++) {
        for (int g = 0; g < GARBAGE_ROUNDS; g++) make_garbage(h, HELD_NODES);
        mm_collect(h, MM_COLLECT_FULL);
    }
    size_t bad = 0, walked = 0;
    for (size_t i = 0; i < HELD_NODES; i++)
        if (!intact(held[i], i)) bad++;
    for (mm_object *o = *chain; o; o = mm_as_ref(mm_var_items(o)[1]), walked++)
        if (!intact(o, HELD_NODES - 1 - walked)) bad++;
    CHECK(bad == 0, "%zu held objects damaged", bad);
    CHECK(walked == HELD_NODES, "chain has %zu of %d nodes", walked, HELD_NODES);
    CHECK(live(h) >= 2 * HELD_NODES, "live %llu below the held %d", (unsigned long long)live(h), 2 * HELD_NODES);
    mm_root_pop(h, HELD_NODES + 1);
    free(held);
    free(chain);
    mm_heap_free(h);
}

/* Property test state: ids live in the objects' pattern slot. */
typedef struct prop {
    mm_heap *h;
    mm_object **hold; /* malloc memory: visible to libgc only through the roots */
    uint64_t made;
    unsigned seed;
} prop;

/* Every object reachable from the holds is intact: walk with an explicit stack,
 * bounded by a visit budget (the graph may be cyclic; a repeat visit is harmless). */
static size_t check_reachable(prop *p) {
    size_t bad = 0, budget = 16 * HANDLES * MAX_SLOTS, len = 0;
    mm_object **stack = malloc(budget * sizeof *stack);
    for (size_t i = 0; i < HANDLES; i++)
        if (p->hold[i] && len < budget) stack[len++] = p->hold[i];
    for (size_t visits = 0; len > 0 && visits < budget; visits++) {
        mm_object *o = stack[--len];
        mm_value *it = mm_var_items(o);
        size_t n = ((mm_varobject *)o)->nitems;
        if (o->type != &node_type || n == 0 || n > MAX_SLOTS || !(it[0] & 1)) {
            bad++;
            continue;
        }
        for (size_t k = 1; k < n; k++)
            if (mm_is_ref(it[k]) && len < budget) stack[len++] = (mm_object *)it[k];
    }
    free(stack);
    return bad;
}

/* One random operation; holds are plain pointers (refcounts are moot here). */
static void prop_step(prop *p) {
    size_t i = (size_t)rand_r(&p->seed) % HANDLES, j = (size_t)rand_r(&p->seed) % HANDLES;
    mm_object *o = p->hold[i];
    switch (rand_r(&p->seed) % 5) {
    case 0:
    case 1:
        p->hold[i] = node(p->h, 1 + (size_t)rand_r(&p->seed) % MAX_SLOTS, p->made++);
        break;
    case 2:
        if (o && ((mm_varobject *)o)->nitems > 1) {
            size_t k = 1 + (size_t)rand_r(&p->seed) % (((mm_varobject *)o)->nitems - 1);
            mm_store(p->h, o, &mm_var_items(o)[k], p->hold[j] ? mm_ref(p->hold[j]) : mm_int((intptr_t)j));
        }
        break;
    case 3:
        p->hold[i] = NULL;
        break;
    default:
        if (o && ((mm_varobject *)o)->nitems > 1 && mm_is_ref(mm_var_items(o)[1]))
            p->hold[j] = mm_as_ref(mm_var_items(o)[1]);
        break;
    }
}

__attribute__((noinline)) static void prop_run(prop *p) {
    for (size_t op = 1; op <= PROPERTY_OPS; op++) {
        prop_step(p);
        if (op % COLLECT_EVERY == 0) {
            mm_collect(p->h, MM_COLLECT_FULL);
            size_t bad = check_reachable(p);
            CHECK(bad == 0, "seed %u op %zu: %zu reachable objects damaged", p->seed, op, bad);
        }
    }
}

static void test_property(void) {
    for (unsigned seed = 1; seed <= PROPERTY_SEEDS; seed++) {
        prop p = {.h = boehm_heap(), .hold = calloc(HANDLES, sizeof(mm_object *)), .seed = seed};
        for (size_t i = 0; i < HANDLES; i++) mm_root_push(p.h, &p.hold[i]);
        uint64_t before = finalized;
        prop_run(&p);
        memset(p.hold, 0, HANDLES * sizeof *p.hold);
        mm_collect(p.h, MM_COLLECT_FULL);
        uint64_t fin = finalized - before;
        CHECK(fin >= GARBAGE_FLOOR * p.made, "seed %u: %llu of %llu finalized", seed, (unsigned long long)fin,
              (unsigned long long)p.made);
        mm_root_pop(p.h, HANDLES);
        free(p.hold);
        mm_heap_free(p.h);
    }
}

/* Weakly referenceable holder of one value. */
static const mm_type weak_target = {
    .name = "WTarget",
    .size = sizeof(mm_object) + 2 * sizeof(mm_value),
    .nslots = 1,
    .is_container = true,
    .traverse = mm_traverse_slots,
    .weaklist_offset = sizeof(mm_object) + sizeof(mm_value),
};

static int callbacks;
static void on_dead(mm_heap *h, mm_object *wr, void *ctx) {
    (void)h;
    (void)ctx;
    callbacks += mm_weakref_get(wr) == NULL;
}

/* Made in its own frame: the referent is left reachable only through holds[0]. */
__attribute__((noinline)) static mm_object *make_weak(mm_heap *h, mm_object **holds) {
    holds[0] = mm_new(h, &weak_target, 0);
    return mm_weakref_new(h, holds[0], on_dead, NULL);
}

/* A weak reference neither keeps its referent alive nor dangles: cleared, callback run. */
static void test_weakref(void) {
    mm_heap *h = boehm_heap();
    mm_object **holds = calloc(2, sizeof *holds);
    mm_root_push(h, &holds[0]);
    mm_root_push(h, &holds[1]);
    holds[1] = make_weak(h, holds);
    mm_collect(h, MM_COLLECT_FULL);
    CHECK(mm_weakref_get(holds[1]) == holds[0], "held referent still there");
    holds[0] = NULL;
    mm_collect(h, MM_COLLECT_FULL);
    CHECK(mm_weakref_get(holds[1]) == NULL, "weak reference cleared once the referent is garbage");
    CHECK(callbacks == 1, "callback ran once with the weakref empty (%d)", callbacks);
    mm_root_pop(h, 2);
    free(holds);
    mm_heap_free(h);
}

/* Pairs made and the weakrefs dropped in their own frame: the referents stay held. */
#define DROPPED_PAIRS 1000
__attribute__((noinline)) static void make_dropped_weakrefs(mm_heap *h, mm_object **holds) {
    for (size_t i = 0; i < DROPPED_PAIRS; i++) {
        holds[i] = mm_new(h, &weak_target, 0);
        mm_decref(h, mm_weakref_new(h, holds[i], on_dead, NULL)); /* the program's only hold */
    }
}

/* A weakref the program drops before its referent dies gets no callback (CPython's
 * rule; the weak-value dict frees the callback's context when it drops the weakref).
 * Many pairs, so that the referents surely die (libgc is conservative: a stray word
 * may keep one or two), and then no callback may have run at all. */
static void test_weakref_dropped_first(void) {
    mm_heap *h = boehm_heap();
    mm_object **holds = calloc(DROPPED_PAIRS, sizeof *holds);
    for (size_t i = 0; i < DROPPED_PAIRS; i++) mm_root_push(h, &holds[i]);
    mm_collect(h, MM_COLLECT_FULL);
    uint64_t live0 = live(h);
    int before = callbacks;
    make_dropped_weakrefs(h, holds);
    for (size_t i = 0; i < DROPPED_PAIRS; i++) holds[i] = NULL;
    mm_collect(h, MM_COLLECT_FULL);
    CHECK(callbacks == before, "no callback for a weakref dropped before its referent (%d)", callbacks - before);
    CHECK(live(h) <= live0 + (1 - GARBAGE_FLOOR) * 2 * DROPPED_PAIRS, "referents and weakrefs reclaimed (%llu of %d live)",
          (unsigned long long)(live(h) - live0), 2 * DROPPED_PAIRS);
    mm_root_pop(h, DROPPED_PAIRS);
    free(holds);
    mm_heap_free(h);
}

/* Raw memory (side tables) is scanned: a reference kept only there survives. */
static void test_raw_scanned(void) {
    mm_heap *h = boehm_heap();
    mm_object **table = mm_raw_alloc(h, sizeof *table);
    *table = node(h, 1, 7);
    for (int g = 0; g < GARBAGE_ROUNDS; g++) make_garbage(h, HELD_NODES);
    mm_collect(h, MM_COLLECT_FULL);
    CHECK(intact(*table, 7), "object referenced from mm_raw_alloc memory survives");
    mm_raw_free(h, table, sizeof *table);
    mm_heap_free(h);
}

int main(void) {
    test_ring_collected();
    test_held_survive();
    test_property();
    test_weakref();
    test_weakref_dropped_first();
    test_raw_scanned();
    return check_summary();
}
