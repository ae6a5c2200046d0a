/* test_layouts.c — the `slots`, `dict` and `shared` layouts and the `instances` workload.
 *
 * Bytes per instance for 2/4/8 attributes under each layout, with and without the
 * collector's pre-header (printed, and asserted against the figures the layout
 * headers derive); gen0 counts per instance (dict: 2, lazily; others: 1); dict
 * growth through every index width; shared keys, their extension rule and the
 * fallback to a dict; undeclared attributes refused by `slots` only; cycles
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

/* Expected bytes per instance, from the layout headers' own arithmetic:
 * slots 16 + 8k; dict 32 + dict(16+8+8 fixed, 8 index bytes + 5 entries of 16
 * up to 5 attributes, 16 + 10·16 from 6 to 10); shared 48 + 8k. Containers:
 * slots and shared 1 per instance, dict 2. */
static uint64_t expected(const char *layout, uint32_t k, uint64_t pre) {
    if (strcmp(layout, "slots") == 0) return 16 + 8 * k + pre;
    if (strcmp(layout, "shared") == 0) return 48 + 8 * k + pre;
    uint64_t dict = 32 + (k <= 5 ? 8 + 5 * 16 : 16 + 10 * 16);
    return 32 + dict + 2 * pre;
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
                uint64_t want = expected(layouts[l], ks[i], pre[r]);
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

static void test_shared_keys(void) {
    mm_heap *h = heap("rc", "shared", NULL);
    static const char *const decl[] = {"a", "b", "c", "d"};
    mm_class *c = mm_class_new(h, "S", decl, 4);
    mm_attr a = mm_intern(h, "a"), b = mm_intern(h, "b"), cc = mm_intern(h, "c"), x = mm_intern(h, "x");
    /* Names enter the keys in first-set order, not declaration order. */
    mm_object *o1 = mm_instance_new(h, c);
    mm_setattr(h, o1, b, mm_int(1));
    mm_setattr(h, o1, a, mm_int(2));
    CHECK(!mm_shared_has_dict(o1) && mm_shared_keys_count(c) == 2, "first instance builds the keys (b, a)");
    mm_setattr(h, o1, b, mm_int(3));
    CHECK(mm_as_int(mm_getattr(h, o1, b)) == 3 && mm_as_int(mm_getattr(h, o1, a)) == 2, "overwrite in place");
    CHECK(mm_getattr(h, o1, cc) == MM_NONE && !mm_shared_has_dict(o1), "unset reads None, no dict");
    /* Same order: shares; a new name when next index == keys count: extends. */
    mm_object *o2 = mm_instance_new(h, c);
    mm_setattr(h, o2, b, mm_int(10));
    mm_setattr(h, o2, a, mm_int(11));
    mm_setattr(h, o2, cc, mm_int(12));
    CHECK(!mm_shared_has_dict(o2) && mm_shared_keys_count(c) == 3, "second instance extends the keys");
    /* Another order: falls back, values kept. */
    mm_object *o3 = mm_instance_new(h, c);
    mm_setattr(h, o3, a, mm_int(20));
    CHECK(mm_shared_has_dict(o3), "setting a before b: own dict");
    mm_setattr(h, o3, b, mm_int(21));
    CHECK(mm_as_int(mm_getattr(h, o3, a)) == 20 && mm_as_int(mm_getattr(h, o3, b)) == 21, "dict instance values");
    /* A new name while this instance has not set every shared name: falls back. */
    mm_object *o4 = mm_instance_new(h, c);
    mm_setattr(h, o4, b, mm_int(30));
    mm_setattr(h, o4, x, mm_int(31));
    CHECK(mm_shared_has_dict(o4) && mm_shared_keys_count(c) == 3, "keys not extended from index 1 of 3");
    CHECK(mm_as_int(mm_getattr(h, o4, b)) == 30 && mm_as_int(mm_getattr(h, o4, x)) == 31, "moved values kept");
    CHECK(!mm_shared_has_dict(o1) && mm_as_int(mm_getattr(h, o2, cc)) == 12, "others unaffected");
    mm_object *all[] = {o1, o2, o3, o4};
    for (int i = 0; i < 4; i++) mm_decref(h, all[i]);
    CHECK(live(h) == 0, "all freed");
    mm_heap_free(h);
}

/* The keys take at most 30 names; the 31st set in order needs a dict. */
static void test_shared_keys_max(void) {
    mm_heap *h = heap("rc", "shared", NULL);
    enum { N = 40 };
    const char *decl[N];
    char buf[N][8];
    for (int i = 0; i < N; i++) {
        snprintf(buf[i], sizeof buf[i], "k%d", i);
        decl[i] = buf[i];
    }
    mm_class *c = mm_class_new(h, "Wide", decl, N);
    mm_object *o = mm_instance_new(h, c);
    for (int i = 0; i < N; i++) mm_setattr(h, o, mm_intern(h, decl[i]), mm_int(i));
    CHECK(mm_shared_keys_count(c) == 30 && mm_shared_has_dict(o), "keys stop at 30 (%zu), then a dict",
          mm_shared_keys_count(c));
    int ok = 1;
    for (int i = 0; i < N; i++) ok &= mm_as_int(mm_getattr(h, o, mm_intern(h, decl[i]))) == i;
    CHECK(ok, "all 40 values kept");
    mm_decref(h, o);
    CHECK(live(h) == 0, "freed");
    mm_heap_free(h);
}

/* a.x = b, b.x = a through attribute storage; `fallback` makes shared use dicts. */
static void cycle_case(const char *reclaim, const char *layout, bool fallback, uint64_t *left) {
    mm_heap *h = heap(reclaim, layout, NULL);
    static const char *const decl[] = {"x", "y"};
    mm_class *c = mm_class_new(h, "N", decl, 2);
    mm_attr x = mm_intern(h, "x"), y = mm_intern(h, "y");
    mm_object *a = mm_instance_new(h, c), *b = mm_instance_new(h, c);
    if (fallback) { /* the keys start with x; a sets y first, so a gets its own dict */
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
        CHECK(per == (double)expected(layouts[l], 4, 0), "%s: workload says %.1f B", layouts[l], per);
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
    test_cycles();
    test_weakrefs();
    test_workload();
    return check_summary();
}
