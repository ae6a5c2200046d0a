/* test_layouts.c — the `slots`, `dict` and `shared` layouts and the `instances` workload.
 *
 * Bytes per instance for 2/4/8 attributes under each layout, with and without the
 * collector's pre-header (printed, and asserted against the figures the layout
 * headers derive); gen0 counts per instance (dict: 2, lazily; others: 1); dict
 * growth through every index width; shared keys, CPython's extension rule and
 * usable countdown, the fallback to a dict, and each version's bytes per instance
 * against the interpreters' (3.11, 3.12, 3.13); undeclared attributes refused by `slots` only; cycles
 * through attributes leak under rc and are collected under rc+gen; weak
 * references to dict and shared instances; the workload's counters and its
 * refusal of attrs=3.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "test_util.h"
#include "layout_dict.h"
#include "mm.h"
#include "reclaim_gen.h"
#include "workload.h"

/* Instances per size measurement: enough to average, few enough for ASan. */
#define T_SIZE_INSTANCES 100
/* Collector pre-header of rc+gen (two links, gc_refs, flags: reclaim_gen.c). */
/* rc+gen's GC head: CPython's 16 bytes by default, 32 with header=32. */
#define T_GEN_PREHEADER 16
#define T_GEN_PREHEADER_ROOMY 32

static const char *const names[] = {"a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7"};

static mm_heap *heap(const char *reclaim, const char *layout, const char *knobs) {
    char err[256];
    mm_heap *h = mm_heap_new_named(reclaim, "system", layout, knobs, err, sizeof err);
    if (h == NULL) {
        fprintf(stderr, "heap: %s\n", err);
        exit(1);
    }
    return h;
}

static uint64_t live_bytes(mm_heap *h) {
    mm_stats s;
    mm_get_stats(h, &s);
    return mm_stats_live_bytes(&s);
}

/* CPython's plain-instance sizing, written out apart from the layout (the same
 * rule from CPython's source: dictobject.c's init_inline_values,
 * _PyObject_InitInlineValues, _PyInlineValuesSize): a class's keys start with 30
 * usable; each instance takes one while above 1, each new name one; the values
 * hold names + usable. Bytes of n instances of a class whose first instance sets
 * k names, each with pre-header `pre`: 3.11 (311) 40 + block, 3.12 (312) 32 +
 * block, the block round8(cap + 2) + 8·cap; 3.13 (313) 40 + round8(n) + 8·n with
 * n taken before the decrement. */
static uint64_t round8(uint64_t n) { return (n + 7) / 8 * 8; }
static uint64_t shared_total(int version, uint32_t k, uint32_t ninst, uint64_t pre) {
    uint64_t nkeys = 0, usable = 30, total = 0;
    for (uint32_t i = 0; i < ninst; i++) {
        uint64_t before = nkeys + usable;
        if (usable > 1) usable--;
        uint64_t cap = nkeys + usable;
        total += pre + (version == 313 ? 40 + round8(before) + 8 * before
                                       : (version == 311 ? 40 : 32) + round8(cap + 2) + 8 * cap);
        if (i == 0) nkeys = k, usable -= k;
    }
    return total;
}

/* Expected bytes per instance (mean over ninst), from the layout headers' own
 * arithmetic: slots 16 + 8k; dict 32 + dict(16+8+8 fixed, 8 index bytes + 5
 * entries of 16 up to 5 attributes, 16 + 10·16 from 6 to 10); shared as above
 * (3.11's, the default). Containers: slots and shared 1 per instance, dict 2. */
static double expected(const char *layout, uint32_t k, uint64_t pre, uint32_t ninst) {
    if (strcmp(layout, "slots") == 0) return (double)(16 + 8 * k + pre);
    if (strcmp(layout, "shared") == 0) return (double)shared_total(311, k, ninst, pre) / ninst;
    uint64_t dict = 32 + (k <= 5 ? 8 + 5 * 16 : 16 + 10 * 16);
    return (double)(32 + dict + 2 * pre);
}

static void test_sizes(void) {
    static const char *const layouts[] = {"slots", "dict", "shared"};
    static const char *const reclaims[] = {"rc", "rc+gen", "rc+gen"};
    static const char *const knobs[] = {NULL, NULL, "header=32"};
    static const uint64_t pre[] = {0, T_GEN_PREHEADER, T_GEN_PREHEADER_ROOMY};
    static const uint32_t ks[] = {2, 4, 8};
    printf("bytes per instance (pre-header 0 under rc, %d under rc+gen, %d with header=32)\n", T_GEN_PREHEADER,
           T_GEN_PREHEADER_ROOMY);
    for (int r = 0; r < 3; r++)
        for (int l = 0; l < 3; l++)
            for (int i = 0; i < 3; i++) {
                mm_heap *h = heap(reclaims[r], layouts[l], knobs[r]);
                mm_class *c = mm_class_new(h, "C", names, ks[i]);
                mm_attr a[8];
                for (uint32_t j = 0; j < ks[i]; j++) a[j] = mm_intern(h, names[j]);
                mm_object *objs[T_SIZE_INSTANCES];
                uint64_t before = live_bytes(h);
                for (int n = 0; n < T_SIZE_INSTANCES; n++) {
                    objs[n] = mm_instance_new(h, c);
                    for (uint32_t j = 0; j < ks[i]; j++) mm_setattr(h, objs[n], a[j], mm_int(n));
                }
                uint64_t per = (live_bytes(h) - before) / T_SIZE_INSTANCES;
                uint64_t want = (uint64_t)expected(layouts[l], ks[i], pre[r], T_SIZE_INSTANCES);
                printf("  %-6s %-9s %-6s attrs=%u: %3llu B\n", reclaims[r], knobs[r] ? knobs[r] : "", layouts[l], ks[i],
                       (unsigned long long)per);
                CHECK(per == want, "%s %s attrs=%u: %llu B per instance, expected %llu", reclaims[r], layouts[l], ks[i],
                      (unsigned long long)per, (unsigned long long)want);
                for (int n = 0; n < T_SIZE_INSTANCES; n++) mm_decref(h, objs[n]);
                CHECK(live(h) == 0, "%s %s: all freed", reclaims[r], layouts[l]);
                mm_heap_free(h);
            }
}

/* CPython 3.10 counts instance and __dict__ (created on first set); 3.11 only the instance. */
static void test_gen0_counts(void) {
    static const char *const layouts[] = {"slots", "dict", "shared"};
    static const long per_new[] = {1, 1, 1}, per_set[] = {0, 1, 0};
    for (int l = 0; l < 3; l++) {
        mm_heap *h = heap("rc+gen", layouts[l], NULL);
        mm_gc_disable(h);
        mm_class *c = mm_class_new(h, "C", names, 2);
        mm_attr a0 = mm_intern(h, "a0");
        mm_gen_info g0, g1, g2;
        mm_gen_get_info(h, &g0);
        mm_object *o = mm_instance_new(h, c);
        mm_gen_get_info(h, &g1);
        mm_setattr(h, o, a0, mm_int(1));
        mm_gen_get_info(h, &g2);
        CHECK(g1.count[0] - g0.count[0] == per_new[l], "%s: gen0 +%ld on creation", layouts[l], g1.count[0] - g0.count[0]);
        CHECK(g2.count[0] - g1.count[0] == per_set[l], "%s: gen0 +%ld on first set", layouts[l],
              g2.count[0] - g1.count[0]);
        mm_decref(h, o);
        CHECK(live(h) == 0, "%s: freed", layouts[l]);
        mm_heap_free(h);
    }
}

static void test_slots_refuse_undeclared(void) {
    mm_heap *h = heap("rc", "slots", NULL);
    mm_class *c = mm_class_new(h, "C", names, 2);
    mm_attr other = mm_intern(h, "other");
    mm_object *o = mm_instance_new(h, c);
    CHECK(mm_setattr(h, o, other, mm_int(1)) == MM_EATTR, "slots: undeclared attribute refused");
    CHECK(mm_getattr(h, o, other) == MM_NONE, "slots: undeclared reads None");
    CHECK(mm_weakref_new(h, o, NULL, NULL) == NULL, "slots without __weakref__: not weakly referenceable");
    mm_decref(h, o);
    mm_heap_free(h);
}

/* Table sizes follow 3·used rounded up to a power of two; the index width
 * changes at 256 and 65536 slots. Keys need not be interned to test the table. */
static void test_dict_growth(void) {
    mm_heap *h = heap("rc", "dict", NULL);
    enum { N = 50000 };
    mm_object *d = mm_dict_new(h, 0);
    mm_value slot = mm_ref(d);
    CHECK(mm_dict_size(d) == 8, "new dict: 8 slots");
    size_t last = 8;
    int grew_ok = 1, set_ok = 1;
    for (uint32_t i = 0; i < N; i++) {
        size_t used = mm_dict_len(mm_as_ref(slot));
        set_ok &= mm_dict_set(h, NULL, &slot, i * 7u, mm_int((intptr_t)i)) == MM_OK;
        size_t size = mm_dict_size(mm_as_ref(slot));
        if (size != last) {
            size_t want = 8;
            while (want < 3 * used) want *= 2;
            if (size != want) grew_ok = 0;
            last = size;
        }
    }
    CHECK(set_ok, "every set succeeded");
    CHECK(grew_ok, "every growth to the smallest power of two >= 3·used");
    CHECK(mm_dict_size(mm_as_ref(slot)) == 131072, "50000 entries: %zu slots", mm_dict_size(mm_as_ref(slot)));
    int all = 1;
    for (uint32_t i = 0; i < N; i++) all &= mm_as_int(mm_dict_get(mm_as_ref(slot), i * 7u)) == (intptr_t)i;
    CHECK(all, "every value kept across growths");
    CHECK(mm_dict_get(mm_as_ref(slot), 3) == MM_NONE, "absent key reads None");
    CHECK(live(h) == 1, "outgrown tables freed: %llu live", (unsigned long long)live(h));
    mm_decref(h, mm_as_ref(slot));
    CHECK(live(h) == 0, "dict freed");
    mm_heap_free(h);
}

/* Many undeclared attributes on one instance, read back, overwritten, dropped. */
static void test_many_attributes(const char *layout) {
    mm_heap *h = heap("rc", layout, NULL);
    enum { N = 300 };
    mm_class *c = mm_class_new(h, "Bag", NULL, 0);
    mm_object *o = mm_instance_new(h, c), *child = mm_instance_new(h, c);
    mm_attr a[N];
    char name[16];
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "x%d", i);
        a[i] = mm_intern(h, name);
        CHECK(mm_setattr(h, o, a[i], mm_int(i)) == MM_OK, "%s: set x%d", layout, i);
    }
    int all = 1;
    for (int i = 0; i < N; i++) all &= mm_as_int(mm_getattr(h, o, a[i])) == i;
    CHECK(all, "%s: all %d values kept", layout, N);
    CHECK(mm_getattr(h, o, mm_intern(h, "unset")) == MM_NONE, "%s: unset attribute reads None", layout);
    CHECK(mm_getattr(h, child, a[0]) == MM_NONE, "%s: another instance has none of them", layout);
    mm_setattr(h, o, a[N - 1], mm_ref(child));
    mm_decref(h, child);
    CHECK(child->refcount == 1, "%s: held by the attribute", layout);
    mm_setattr(h, o, a[N - 1], mm_int(0));
    CHECK(live(h) == 2, "%s: overwritten child freed (instance + dict left)", layout);
    mm_decref(h, o);
    CHECK(live(h) == 0, "%s: all freed", layout);
    mm_heap_free(h);
}

/* CPython's rule: names the keys hold are set in any order; new names join the
 * keys while they have room (any instance may add one), and the room shrinks by
 * one per instance made. */
static void test_shared_keys(void) {
    mm_heap *h = heap("rc", "shared", NULL);
    static const char *const decl[] = {"a", "b", "c", "d"};
    mm_class *c = mm_class_new(h, "S", decl, 4);
    mm_attr a = mm_intern(h, "a"), b = mm_intern(h, "b"), cc = mm_intern(h, "c"), x = mm_intern(h, "x");
    CHECK(mm_shared_usable(c) == 30, "keys start with 30 usable (%zu)", mm_shared_usable(c));
    /* Names enter the keys in first-set order, not declaration order. */
    mm_object *o1 = mm_instance_new(h, c);
    CHECK(mm_shared_usable(c) == 29, "one taken by the first instance (%zu)", mm_shared_usable(c));
    mm_setattr(h, o1, b, mm_int(1));
    mm_setattr(h, o1, a, mm_int(2));
    CHECK(!mm_shared_has_dict(o1) && mm_shared_keys_count(c) == 2 && mm_shared_usable(c) == 27,
          "first instance builds the keys (b, a), usable %zu", mm_shared_usable(c));
    mm_setattr(h, o1, b, mm_int(3));
    CHECK(mm_as_int(mm_getattr(h, o1, b)) == 3 && mm_as_int(mm_getattr(h, o1, a)) == 2, "overwrite in place");
    CHECK(mm_getattr(h, o1, cc) == MM_NONE && !mm_shared_has_dict(o1), "unset reads None, no dict");
    mm_object *o2 = mm_instance_new(h, c);
    mm_setattr(h, o2, b, mm_int(10));
    mm_setattr(h, o2, a, mm_int(11));
    mm_setattr(h, o2, cc, mm_int(12));
    CHECK(!mm_shared_has_dict(o2) && mm_shared_keys_count(c) == 3, "second instance extends the keys");
    /* Another order: still shared (3.11's insertion-order bytes). */
    mm_object *o3 = mm_instance_new(h, c);
    mm_setattr(h, o3, a, mm_int(20));
    mm_setattr(h, o3, b, mm_int(21));
    CHECK(!mm_shared_has_dict(o3), "setting a before b: no dict");
    CHECK(mm_as_int(mm_getattr(h, o3, a)) == 20 && mm_as_int(mm_getattr(h, o3, b)) == 21, "values by key");
    /* A new name from an instance that has not set every shared name: joins the keys. */
    mm_object *o4 = mm_instance_new(h, c);
    mm_setattr(h, o4, b, mm_int(30));
    mm_setattr(h, o4, x, mm_int(31));
    CHECK(!mm_shared_has_dict(o4) && mm_shared_keys_count(c) == 4, "x joins the keys from index 1 of 3");
    CHECK(mm_as_int(mm_getattr(h, o4, b)) == 30 && mm_as_int(mm_getattr(h, o4, x)) == 31, "values kept");
    /* An older instance has room for the newer name (room never grows). */
    mm_setattr(h, o1, x, mm_int(41));
    CHECK(!mm_shared_has_dict(o1) && mm_as_int(mm_getattr(h, o1, x)) == 41, "the first instance takes x too");
    CHECK(mm_getattr(h, o2, x) == MM_NONE && mm_as_int(mm_getattr(h, o2, cc)) == 12, "others unaffected");
    mm_object *all[] = {o1, o2, o3, o4};
    for (int i = 0; i < 4; i++) mm_decref(h, all[i]);
    CHECK(live(h) == 0, "all freed");
    mm_heap_free(h);
}

/* The keys take names while usable lasts: 29 for one instance setting 40 names
 * (the instance took one), fewer when instances were made first; then a dict. */
static void test_shared_keys_max(void) {
    for (int made_first = 0; made_first <= 10; made_first += 10) {
        mm_heap *h = heap("rc", "shared", NULL);
        enum { N = 40 };
        const char *decl[N];
        char buf[N][8];
        for (int i = 0; i < N; i++) {
            snprintf(buf[i], sizeof buf[i], "k%d", i);
            decl[i] = buf[i];
        }
        mm_class *c = mm_class_new(h, "Wide", decl, N);
        for (int i = 0; i < made_first; i++) mm_decref(h, mm_instance_new(h, c));
        mm_object *o = mm_instance_new(h, c);
        for (int i = 0; i < N; i++) mm_setattr(h, o, mm_intern(h, decl[i]), mm_int(i));
        size_t want = 29 - (size_t)made_first;
        CHECK(mm_shared_keys_count(c) == want && mm_shared_has_dict(o), "%d made first: keys stop at %zu (%zu), then a dict",
              made_first, want, mm_shared_keys_count(c));
        int ok = 1;
        for (int i = 0; i < N; i++) ok &= mm_as_int(mm_getattr(h, o, mm_intern(h, decl[i]))) == i;
        CHECK(ok, "all 40 values kept");
        mm_decref(h, o);
        CHECK(live(h) == 0, "freed");
        mm_heap_free(h);
    }
}

/* Bytes of each of a class's first 8 instances and of later ones, against what
 * tracemalloc reports for the interpreters (tools: a class whose __init__ sets k
 * names, each C() measured alone, then 20,000 after 200 more; python3.11.2,
 * 3.12.1, 3.13.0 on this machine, 2 December 2026), under rc+gen's 16-byte head. */
static void test_shared_cpython_sizes(void) {
    static const struct {
        const char *version;
        uint64_t first[8], first29[8];
        uint64_t steady[12];
    } cpy[] = {
        {"3.11", {320, 312, 304, 296, 288, 280, 272, 256}, {320, 320, 320, 320, 320, 320, 320, 320},
         {80, 88, 96, 104, 112, 128, 136, 144, 152, 160, 216, 320}},
        {"3.12", {312, 304, 296, 288, 280, 272, 264, 248}, {312, 312, 312, 312, 312, 312, 312, 312},
         {72, 80, 88, 96, 104, 120, 128, 136, 144, 152, 208, 312}},
        {"3.13", {328, 320, 312, 304, 296, 288, 272, 264}, {328, 320, 320, 320, 320, 320, 320, 320},
         {80, 88, 96, 104, 112, 120, 128, 144, 152, 160, 216, 320}},
    };
    static const uint32_t ks[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 16, 29};
    enum { STEADY_AFTER = 50, STEADY_N = 200 };
    for (size_t v = 0; v < sizeof cpy / sizeof cpy[0]; v++)
        for (int i = 0; i < 12; i++) {
            char knobs[32];
            snprintf(knobs, sizeof knobs, "instance=%s", cpy[v].version);
            mm_heap *h = heap("rc+gen", "shared", knobs);
            mm_gc_disable(h);
            mm_class *c = mm_class_new(h, "C", NULL, 0);
            mm_attr a[29];
            for (uint32_t j = 0; j < ks[i]; j++) {
                char name[16];
                snprintf(name, sizeof name, "a%u", j);
                a[j] = mm_intern(h, name);
            }
            static mm_object *objs[STEADY_AFTER + STEADY_N];
            int n = 0, first_ok = 1;
            uint64_t before = 0;
            for (; n < STEADY_AFTER + STEADY_N; n++) {
                if (n == STEADY_AFTER) before = live_bytes(h);
                uint64_t b0 = live_bytes(h);
                objs[n] = mm_instance_new(h, c);
                for (uint32_t j = 0; j < ks[i]; j++) mm_setattr(h, objs[n], a[j], MM_NONE + 1);
                if (n < 8) first_ok &= live_bytes(h) - b0 == (ks[i] == 29 ? cpy[v].first29[n] : cpy[v].first[n]);
            }
            uint64_t per = (live_bytes(h) - before) / STEADY_N;
            CHECK(first_ok, "%s k=%u: the first 8 instances' bytes are CPython's", cpy[v].version, ks[i]);
            CHECK(per == cpy[v].steady[i], "%s k=%u: %llu B per later instance, CPython %llu", cpy[v].version, ks[i],
                  (unsigned long long)per, (unsigned long long)cpy[v].steady[i]);
            CHECK(!mm_shared_has_dict(objs[n - 1]), "%s k=%u: no dict", cpy[v].version, ks[i]);
            for (int j = 0; j < n; j++) mm_decref(h, objs[j]);
            CHECK(live(h) == 0 && live_bytes(h) == 0, "%s k=%u: every instance and block freed", cpy[v].version, ks[i]);
            mm_heap_free(h);
        }
    /* 3.11 under every strategy and preset unless the cell names another (6 names
     * tell them apart: 3.11 112 B + pre-header, 3.12 and 3.13 104). */
    static const struct {
        const char *reclaim, *knobs;
        uint64_t steady6;
    } defaults[] = {{"rc+gen", "gc=cpython311", 128},           {"rc+gen", "gc=cpython312", 128},
                 {"rc+gen", "gc=cpython313", 128},           {"rc+gen", "gc=cpython313/instance=3.13", 120},
                 {"rc+gen", "gc=cpython312/instance=3.12", 120}, {"rc", NULL, 112},
                 {"rc+incr", NULL, 144},                     {"rc+incr", "instance=3.13", 136},
                 {"rc+pep848", NULL, 144},                   {"rc+ft", NULL, 144}};
    for (size_t p = 0; p < sizeof defaults / sizeof defaults[0]; p++) {
        mm_heap *h = heap(defaults[p].reclaim, "shared", defaults[p].knobs);
        mm_class *c = mm_class_new(h, "C", NULL, 0);
        mm_attr a[6];
        for (int j = 0; j < 6; j++) a[j] = mm_intern(h, names[j]);
        uint64_t b0 = 0;
        mm_object *o = NULL;
        for (int i = 0; i < 40; i++) { /* the last one is past the countdown */
            if (o != NULL) mm_decref(h, o);
            b0 = live_bytes(h);
            o = mm_instance_new(h, c);
            for (int j = 0; j < 6; j++) mm_setattr(h, o, a[j], MM_NONE + 1);
        }
        CHECK(live_bytes(h) - b0 == defaults[p].steady6, "%s %s: %llu B for 6 names, expected %llu", defaults[p].reclaim,
              defaults[p].knobs ? defaults[p].knobs : "", (unsigned long long)(live_bytes(h) - b0),
              (unsigned long long)defaults[p].steady6);
        mm_decref(h, o);
        mm_heap_free(h);
    }
    char err[256] = "";
    CHECK(mm_heap_new_named("rc", "system", "shared", "instance=3.10", err, sizeof err) == NULL &&
              strstr(err, "knob 'instance': '3.10' is not 3.11 | 3.12 | 3.13") != NULL,
          "instance=3.10 refused: %s", err);
}

/* a.x = b, b.x = a through attribute storage; `fallback` makes shared use dicts. */
static void cycle_case(const char *reclaim, const char *layout, bool fallback, uint64_t *left) {
    mm_heap *h = heap(reclaim, layout, NULL);
    static const char *const decl[] = {"x", "y"};
    mm_class *c = mm_class_new(h, "N", decl, 2);
    mm_attr x = mm_intern(h, "x"), y = mm_intern(h, "y");
    /* fallback: 28 instances made first leave 1 usable; x takes it, so y makes a's dict */
    for (int i = 0; fallback && i < 28; i++) mm_decref(h, mm_instance_new(h, c));
    mm_object *a = mm_instance_new(h, c), *b = mm_instance_new(h, c);
    if (fallback) {
        mm_setattr(h, b, x, mm_int(0));
        mm_setattr(h, a, y, mm_int(0));
    }
    mm_setattr(h, a, x, mm_ref(b));
    mm_setattr(h, b, x, mm_ref(a));
    mm_object *wr = mm_weakref_new(h, a, NULL, NULL);
    CHECK(wr != NULL && mm_weakref_get(wr) == a, "%s/%s: weakly referenceable", reclaim, layout);
    mm_decref(h, a);
    mm_decref(h, b);
    mm_collect(h, MM_COLLECT_FULL);
    CHECK((mm_weakref_get(wr) == NULL) == (*left == 0), "%s/%s: weakref cleared iff collected", reclaim, layout);
    mm_decref(h, wr);
    *left = live(h);
    mm_heap_free(h);
}

static void test_cycles(void) {
    static const char *const layouts[] = {"dict", "shared"};
    for (int l = 0; l < 2; l++)
        for (int f = 0; f < 2; f++) {
            uint64_t left = 1;
            cycle_case("rc", layouts[l], f, &left);
            uint64_t objs = l == 0 ? 4 : f ? 3 : 2; /* instances + their dicts */
            CHECK(left == objs, "rc %s%s: cycle leaks %llu objects, expected %llu", layouts[l], f ? " (dict)" : "",
                  (unsigned long long)left, (unsigned long long)objs);
            left = 0;
            cycle_case("rc+gen", layouts[l], f, &left);
            CHECK(left == 0, "rc+gen %s%s: cycle collected, %llu left", layouts[l], f ? " (dict)" : "",
                  (unsigned long long)left);
        }
}

/* A weak reference dies with its referent under plain refcounting. */
static void test_weakrefs(void) {
    static const char *const layouts[] = {"dict", "shared"};
    for (int l = 0; l < 2; l++) {
        mm_heap *h = heap("rc", layouts[l], NULL);
        mm_class *c = mm_class_new(h, "W", names, 1); /* no __weakref__ declared: still allowed */
        mm_object *o = mm_instance_new(h, c);
        mm_setattr(h, o, mm_intern(h, "a0"), mm_int(5));
        mm_object *wr = mm_weakref_new(h, o, NULL, NULL);
        CHECK(wr != NULL && mm_weakref_get(wr) == o && mm_weakref_count(o) == 1, "%s: weakref made", layouts[l]);
        mm_decref(h, o);
        CHECK(mm_weakref_get(wr) == NULL, "%s: cleared when the instance dies", layouts[l]);
        mm_decref(h, wr);
        CHECK(live(h) == 0, "%s: all freed", layouts[l]);
        mm_heap_free(h);
    }
}

/* The workload's counter equals the per-instance figure above; attrs=3 is refused. */
static void test_workload(void) {
    const mm_workload *w = wl_find("instances");
    CHECK(w != NULL, "instances registered");
    if (w == NULL) return;
    static const char *const layouts[] = {"slots", "dict", "shared"};
    for (int l = 0; l < 3; l++) {
        mm_heap *h = heap("rc", layouts[l], NULL);
        mm_knobset ks;
        memset(&ks, 0, sizeof ks);
        mm_knobset_put(&ks, "n", "1000");
        mm_knobset_put(&ks, "attrs", "4");
        mm_knobset_fill_defaults(&ks, w->knobs);
        wl_result r;
        memset(&r, 0, sizeof r);
        char err[256] = "";
        CHECK(w->run(h, &ks, &r, err, sizeof err), "%s: run: %s", layouts[l], err);
        double per = -1;
        for (int i = 0; i < r.ncounters; i++)
            if (strcmp(r.counters[i].name, "bytes_per_instance_alloc") == 0) per = r.counters[i].value;
        double want = expected(layouts[l], 4, 0, 1000);
        CHECK(per > want - 1e-9 && per < want + 1e-9, "%s: workload says %.3f B, expected %.3f", layouts[l], per, want);
        CHECK(r.ops == 1000 && live(h) == 0, "%s: ops %.0f, everything dropped", layouts[l], r.ops);
        mm_heap_free(h);
        mm_knobset_put(&ks, "attrs", "3");
        CHECK(!w->check(&ks, err, sizeof err) && strstr(err, "attrs") != NULL, "attrs=3 refused: %s", err);
    }
}

int main(void) {
    test_sizes();
    test_gen0_counts();
    test_slots_refuse_undeclared();
    test_dict_growth();
    test_many_attributes("dict");
    test_many_attributes("shared");
    test_shared_keys();
    test_shared_keys_max();
    test_shared_cpython_sizes();
    test_cycles();
    test_weakrefs();
    test_workload();
    return check_summary();
}
