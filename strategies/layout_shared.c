/* layout_shared.c — `shared`: key-sharing (PEP 412) with per-instance values,
 * the plain-class layout of CPython 3.11+.
 *
 * Contract: each class keeps one shared key table (attribute id → index, names in
 * the order they were first set on any instance of the class). An instance is a
 * variable-size object: header with capacity (24 bytes), a dict reference (None
 * while the instance uses the shared keys), a weak-reference list head, the count
 * of values set (8), then `capacity` values: 48 + 8·capacity bytes, so 64 with 2
 * attributes. Capacity is fixed at creation from what the class knows then (its
 * declared attributes, the names its shared keys hold, at least 1), as CPython
 * sizes an instance's values from the class's cached keys. Only the instance is
 * a container (gen0 += 1 per instance): like 3.11's values array, the values are
 * not an object of their own. Every instance is weakly referenceable (a plain
 * class has __weakref__).
 *
 * What is modelled of CPython's rule: an instance that uses the shared keys has
 * set exactly the first `used` names of the keys, in key order. Setting
 *   - one of those names overwrites its value;
 *   - the next name in key order appends a value;
 *   - a name the keys lack appends it to the shared keys, only when this
 *     instance has set every name they hold (its next index equals their count)
 *     and they hold fewer than MM_SHARED_KEYS_MAX names;
 * anything else (another order, a name the keys cannot take, no room left in the
 * values) moves the instance's attributes into its own dict (layout_dict.h), for
 * good. Not modelled: 3.11's per-instance insertion-order bytes, which let one
 * instance set shared names in another order without a dict (this is 3.10's
 * stricter split-table rule); deleting attributes.
 *
 * Invariant: dict == None ⇒ values[0..used-1] are the values of keys[0..used-1]
 * and values[used..] are None; dict != None ⇒ used == 0 and the dict holds every
 * attribute. traverse visits values[0..used-1] and the dict.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "layout.h"
#include "layout_dict.h"

/* Most names a class's shared keys take (CPython's SHARED_KEYS_MAX_SIZE): past
 * this, new names force a dict, so one odd instance cannot bloat every other. */
#define MM_SHARED_KEYS_MAX 30u
/* Fewest values an instance has room for, so a class that declares nothing still shares one name. */
#define MM_SHARED_MIN_VALUES 1u

typedef struct shared_keys {
    mm_attr *keys;     /* names in first-set order */
    uint32_t nkeys, keys_cap;
    int32_t *index_of; /* attribute id → index in keys, -1 if absent */
    uint32_t index_len;
} shared_keys;

typedef struct shared_instance {
    mm_varobject vo;      /* nitems = capacity of values */
    mm_value dict;        /* None while the shared keys are used */
    mm_object *weaklist;
    uint32_t used;        /* values set, in key order */
    uint32_t pad_;
} shared_instance;

/* The values follow the fixed part; the class's keys hang off its type. */
static mm_value *values(shared_instance *s) { return (mm_value *)(s + 1); }
static shared_keys *keys_of(const mm_object *o) { return o->type->cls->layout_data; }

/* Ids interned after the last append lie past index_of: absent. */
static int32_t index_of(const shared_keys *k, mm_attr a) { return a < k->index_len ? k->index_of[a] : -1; }

/* Appends a name to the class's keys; false when memory ran out. The tables are
 * per class, malloc'd: not per-instance memory, so not in the objects' bytes. */
static bool keys_append(shared_keys *k, mm_attr a) {
    if (a >= k->index_len) {
        uint32_t len = a + 1 > 2 * k->index_len ? a + 1 : 2 * k->index_len;
        int32_t *n = realloc(k->index_of, len * sizeof *n);
        if (n == NULL) return false;
        for (uint32_t i = k->index_len; i < len; i++) n[i] = -1;
        k->index_of = n;
        k->index_len = len;
    }
    if (k->nkeys == k->keys_cap) {
        uint32_t cap = k->keys_cap ? 2 * k->keys_cap : 4;
        mm_attr *n = realloc(k->keys, cap * sizeof *n);
        if (n == NULL) return false;
        k->keys = n;
        k->keys_cap = cap;
    }
    k->index_of[a] = (int32_t)k->nkeys;
    k->keys[k->nkeys++] = a;
    return true;
}

/* Only the values set so far hold references, plus the dict after a fallback. */
static void instance_traverse(mm_object *o, mm_visit_fn visit, void *arg) {
    shared_instance *s = (shared_instance *)o;
    mm_value *v = values(s);
    for (uint32_t i = 0; i < s->used; i++)
        if (mm_is_ref(v[i])) visit((mm_object *)v[i], arg);
    if (mm_is_ref(s->dict)) visit((mm_object *)s->dict, arg);
}

/* Breaks cycles through either representation. */
static void instance_clear(mm_heap *h, mm_object *o) {
    shared_instance *s = (shared_instance *)o;
    for (uint32_t i = 0; i < s->used; i++) mm_store(h, o, &values(s)[i], MM_NONE);
    mm_store(h, o, &s->dict, MM_NONE);
}

/* The keys start empty: names enter them as instances first set them. */
static bool shared_class_init(mm_heap *h, mm_class *c, char *err, size_t errlen) {
    (void)h;
    shared_keys *k = calloc(1, sizeof *k);
    if (k == NULL) {
        snprintf(err, errlen, "out of memory for the shared keys of %s", c->name);
        return false;
    }
    c->layout_data = k;
    c->weakrefable = true;
    c->type.size = sizeof(shared_instance);
    c->type.itemsize = sizeof(mm_value);
    c->type.weaklist_offset = (uint32_t)offsetof(shared_instance, weaklist);
    c->type.is_container = true;
    c->type.traverse = instance_traverse;
    c->type.clear = instance_clear;
    return true;
}

/* The keys die with the class, after every instance (classes outlive leaks). */
static void shared_class_fini(mm_heap *h, mm_class *c) {
    (void)h;
    shared_keys *k = c->layout_data;
    if (k == NULL) return;
    free(k->keys);
    free(k->index_of);
    free(k);
}

/* Capacity is fixed now, from what the class knows; outgrowing it means a dict. */
static mm_object *shared_instantiate(mm_heap *h, mm_class *c) {
    const shared_keys *k = c->layout_data;
    uint32_t cap = k->nkeys > c->nattrs ? k->nkeys : c->nattrs;
    if (cap < MM_SHARED_MIN_VALUES) cap = MM_SHARED_MIN_VALUES;
    return mm_new(h, &c->type, cap);
}

/* Fast path: one index lookup in the class's keys, one load from the instance. */
static mm_value shared_get(mm_heap *h, mm_object *o, mm_attr a) {
    (void)h;
    shared_instance *s = (shared_instance *)o;
    if (MM_UNLIKELY(s->dict != MM_NONE)) return mm_dict_get((mm_object *)s->dict, a);
    int32_t i = index_of(keys_of(o), a);
    return i >= 0 && (uint32_t)i < s->used ? values(s)[i] : MM_NONE;
}

/* The slow path: the attributes move into a dict of the instance's own, sized to
 * take the one being set, and stay there (CPython never re-splits a dict). */
static int to_dict(mm_heap *h, shared_instance *s) {
    mm_object *d = mm_dict_new(h, (size_t)s->used + 1);
    if (d == NULL) return MM_ENOMEM;
    /* The allocation may have collected; read the values only now. */
    const shared_keys *k = keys_of(&s->vo.ob);
    mm_value slot = mm_ref(d); /* owns mm_new's reference */
    for (uint32_t i = 0; i < s->used; i++)
        if (mm_dict_set(h, d, &slot, k->keys[i], values(s)[i]) != MM_OK) {
            mm_decref(h, mm_as_ref(slot));
            return MM_ENOMEM;
        }
    mm_store(h, &s->vo.ob, &s->dict, slot);
    mm_decref(h, mm_as_ref(slot));
    uint32_t used = s->used;
    s->used = 0;
    for (uint32_t i = 0; i < used; i++) mm_store(h, &s->vo.ob, &values(s)[i], MM_NONE);
    return MM_OK;
}

/* Fast path overwrites or appends in key order; everything else is to_dict. */
static int shared_set(mm_heap *h, mm_object *o, mm_attr a, mm_value v) {
    shared_instance *s = (shared_instance *)o;
    if (MM_LIKELY(s->dict == MM_NONE)) {
        shared_keys *k = keys_of(o);
        int32_t i = index_of(k, a);
        if (i >= 0 && (uint32_t)i < s->used) {
            mm_store(h, o, &values(s)[i], v);
            return MM_OK;
        }
        bool next_in_order = (uint32_t)i == s->used;
        bool can_extend = i < 0 && s->used == k->nkeys && k->nkeys < MM_SHARED_KEYS_MAX;
        if ((next_in_order || can_extend) && s->used < s->vo.nitems) {
            if (can_extend && !keys_append(k, a)) return MM_ENOMEM;
            mm_store(h, o, &values(s)[s->used], v);
            s->used++;
            return MM_OK;
        }
        int rc = to_dict(h, s);
        if (rc != MM_OK) return rc;
    }
    return mm_dict_set(h, o, &s->dict, a, v);
}

/* Views for tests. */
bool mm_shared_has_dict(const mm_object *o) { return ((const shared_instance *)o)->dict != MM_NONE; }
size_t mm_shared_keys_count(const mm_class *c) { return ((const shared_keys *)c->layout_data)->nkeys; }

const mm_layout mm_layout_shared = {
    .name = "shared",
    .summary = "key-sharing: shared keys per class + values per instance, dict fallback (PEP 412, CPython 3.11)",
    .knobs = NULL,
    .class_init = shared_class_init,
    .class_fini = shared_class_fini,
    .instantiate = shared_instantiate,
    .get = shared_get,
    .set = shared_set,
};
