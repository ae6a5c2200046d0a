/* test_weakdict.c — the weak-value dictionary under `rc` and `rc+gen`.
 *
 * What must hold (CPython's WeakValueDictionary does the same):
 *   - get returns the value while a caller holds it, borrowed (refcount unchanged);
 *   - dropping the last hold removes the entry at once under refcounting;
 *   - values in garbage cycles vanish after a collection (rc+gen), and stay
 *     under rc (the cycle leaks, the entry stays and still reads the value);
 *   - replace and del keep the count right; non-weakrefable values are refused;
 *   - a set that triggers a collection removing other entries stays consistent;
 *   - after everything is dropped and the dictionary freed, nothing is left:
 *     no objects (after a collection) and no raw bytes in the allocator.
 */
#include <stdio.h>
#include <stdlib.h>

#include "mm.h"
#include "check.h"
#include "test_util.h"
#include "weakdict.h"

/* Keys for the bulk checks: enough to make the table grow several times. */
#define T_MANY 5000

static uint64_t raw_live(mm_heap *h) {
    mm_alloc_stats as;
    mm_get_alloc_stats(h, &as);
    return as.live_bytes;
}

static const char *const attrs[] = {"value", "other", MM_WEAKREF_ATTR};

/* Entries vanish with their values; get is borrowed; replace/del/refusal. */
static void test_basic(const char *reclaim, const char *knobs) {
    mm_heap *h = test_heap(reclaim, knobs);
    mm_class *c = mm_class_new(h, "V", attrs, 3);
    static const char *const closed_attrs[] = {"value"};
    mm_class *closed = mm_class_new(h, "Closed", closed_attrs, 1);
    mm_attr a_other = mm_intern(h, "other");
    const uint64_t raw0 = raw_live(h);
    wl_weakdict *d = wl_weakdict_new(h);
    CHECK(d != NULL && wl_weakdict_len(d) == 0, "%s: new dict is empty", reclaim);

    mm_object *x = mm_instance_new(h, closed);
    CHECK(wl_weakdict_set(d, 1, x) == MM_EATTR && wl_weakdict_len(d) == 0, "%s: no __weakref__: refused", reclaim);
    mm_decref(h, x);

    mm_object *a = mm_instance_new(h, c), *b = mm_instance_new(h, c);
    CHECK(wl_weakdict_set(d, 7, a) == MM_OK && wl_weakdict_set(d, -3, b) == MM_OK, "%s: set", reclaim);
    CHECK(wl_weakdict_get(d, 7) == a && wl_weakdict_get(d, -3) == b && wl_weakdict_get(d, 8) == NULL,
          "%s: get finds both, misses the absent key", reclaim);
    CHECK(a->refcount == 1 && b->refcount == 1, "%s: values are held weakly (%ld, %ld)", reclaim, (long)a->refcount,
          (long)b->refcount);
    CHECK(wl_weakdict_set(d, 7, b) == MM_OK && wl_weakdict_len(d) == 2 && wl_weakdict_get(d, 7) == b &&
              mm_weakref_count(a) == 0 && mm_weakref_count(b) == 2,
          "%s: replacing drops the old weakref", reclaim);
    CHECK(wl_weakdict_set(d, 7, a) == MM_OK && wl_weakdict_get(d, 7) == a, "%s: set back", reclaim);
    mm_decref(h, a);
    CHECK(wl_weakdict_get(d, 7) == NULL && wl_weakdict_len(d) == 1, "%s: dropping the value removes its entry (len %zu)",
          reclaim, wl_weakdict_len(d));
    CHECK(wl_weakdict_del(d, -3) && !wl_weakdict_del(d, -3) && wl_weakdict_len(d) == 0 && mm_weakref_count(b) == 0,
          "%s: del removes once", reclaim);
    mm_decref(h, b);

    /* Many keys: the table grows; every entry vanishes with its value. */
    mm_object **held = calloc(T_MANY, sizeof *held);
    bool all_set = held != NULL;
    for (int64_t k = 0; k < T_MANY; k++) {
        held[k] = mm_instance_new(h, c);
        mm_setattr(h, held[k], mm_intern(h, "value"), mm_int(k));
        all_set &= wl_weakdict_set(d, k * 1000003, held[k]) == MM_OK;
    }
    CHECK(all_set, "%s: %d sets", reclaim, T_MANY);
    bool all_found = wl_weakdict_len(d) == T_MANY;
    for (int64_t k = 0; k < T_MANY; k++) all_found &= wl_weakdict_get(d, k * 1000003) == held[k];
    CHECK(all_found, "%s: %d entries all found", reclaim, T_MANY);
    for (int64_t k = 0; k < T_MANY; k += 2) mm_decref(h, held[k]);
    CHECK(wl_weakdict_len(d) == T_MANY / 2 && wl_weakdict_get(d, 0) == NULL && wl_weakdict_get(d, 1000003) == held[1],
          "%s: half dropped, half left (%zu)", reclaim, wl_weakdict_len(d));

    /* A garbage cycle b <-> the odd values' neighbour: under rc it leaks, so its
     * entries stay; a collection (rc+gen) clears them. */
    mm_object *p = mm_instance_new(h, c), *q = mm_instance_new(h, c);
    mm_setattr(h, p, a_other, mm_ref(q));
    mm_setattr(h, q, a_other, mm_ref(p));
    CHECK(wl_weakdict_set(d, -1, p) == MM_OK && wl_weakdict_set(d, -2, q) == MM_OK, "%s: cycle set", reclaim);
    mm_decref(h, p);
    mm_decref(h, q);
    const size_t before = wl_weakdict_len(d);
    mm_collect(h, MM_COLLECT_FULL);
    if (mm_has_collector(h))
        CHECK(wl_weakdict_get(d, -1) == NULL && wl_weakdict_get(d, -2) == NULL && wl_weakdict_len(d) == before - 2,
              "%s: cycle values vanish after a collection (len %zu)", reclaim, wl_weakdict_len(d));
    else
        CHECK(wl_weakdict_get(d, -1) == p && wl_weakdict_len(d) == before, "%s: cycle leaks: entry stays", reclaim);
    for (int64_t k = 1; k < T_MANY; k += 2) mm_decref(h, held[k]);
    free(held);
    size_t left = wl_weakdict_len(d);
    CHECK(left == (mm_has_collector(h) ? 0u : 2u), "%s: all dropped: %zu entries left", reclaim, left);

    wl_weakdict_free(d);
    if (!mm_has_collector(h)) { /* break the leaked cycle by hand for the leak check */
        mm_incref(p);
        mm_setattr(h, p, a_other, MM_NONE);
        mm_decref(h, p);
    }
    CHECK(live(h) == 0, "%s: no objects left (%llu)", reclaim, (unsigned long long)live(h));
    CHECK(raw_live(h) == raw0, "%s: the dictionary's raw memory all returned (%llu vs %llu)", reclaim,
          (unsigned long long)raw_live(h), (unsigned long long)raw0);
    mm_heap_free(h);
}

/* Under rc+gen with tiny thresholds, sets trigger collections whose callbacks
 * remove other entries mid-set; the dictionary must stay exact. */
static void test_set_during_collection(void) {
    mm_heap *h = test_heap("rc+gen", "gc=5,2,2");
    mm_class *c = mm_class_new(h, "V", attrs, 3);
    mm_attr a_other = mm_intern(h, "other");
    const uint64_t raw0 = raw_live(h);
    wl_weakdict *d = wl_weakdict_new(h);
    mm_object *keep[T_MANY / 10];
    size_t nkeep = 0;
    bool all_set = true;
    for (int64_t k = 0; k < T_MANY; k++) {
        mm_object *o = mm_instance_new(h, c);
        mm_setattr(h, o, a_other, mm_ref(o)); /* self-cycle: only a collection frees it */
        all_set &= wl_weakdict_set(d, k, o) == MM_OK;
        if (k % 10 == 0) keep[nkeep++] = o;
        else mm_decref(h, o);
    }
    CHECK(all_set, "%d sets, collections running among them", T_MANY);
    mm_collect(h, MM_COLLECT_FULL);
    CHECK(wl_weakdict_len(d) == nkeep, "only the kept values remain (%zu, expected %zu)", wl_weakdict_len(d), nkeep);
    bool ok = true;
    for (size_t i = 0; i < nkeep; i++) ok &= wl_weakdict_get(d, (int64_t)i * 10) == keep[i];
    CHECK(ok, "kept values found under their keys");
    /* Freeing the dictionary while its values live: their weakrefs go quietly. */
    wl_weakdict_free(d);
    for (size_t i = 0; i < nkeep; i++) {
        CHECK(mm_weakref_count(keep[i]) == 0, "no weakref left on a kept value");
        mm_decref(h, keep[i]);
    }
    mm_collect(h, MM_COLLECT_FULL);
    CHECK(live(h) == 0 && raw_live(h) == raw0, "nothing left (%llu objects)", (unsigned long long)live(h));
    mm_heap_free(h);
}

int main(void) {
    test_basic("rc", NULL);
    test_basic("rc+gen", NULL);
    test_set_during_collection();
    return check_summary();
}
