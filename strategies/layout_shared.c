/* layout_shared.c — `shared`: key-sharing (PEP 412), the plain-class instance
 * of CPython 3.11 (default), 3.12 or 3.13 (knob `instance`).
 *
 * Contract: each class keeps one shared key table (attribute id → index, names
 * in the order they were first set on any instance) and CPython's `dk_usable`:
 * the room left in it. It starts at MM_SHARED_KEYS_MAX; making an instance takes
 * one from it while it is above 1, adding a name takes one. An instance's values
 * have room for the table's names plus what is usable when it is made (CPython's
 * shared_keys_usable_size), so the first instances of a class are large and the
 * later ones hold k + 1 values for k names. Where they live is the version's:
 *   3.11  a 40-byte object (header, the dict and values pointers apart, the
 *         weak-reference list) + a values block apart (PyMem_Malloc'd: no object,
 *         no GC head), round_up(cap + 2, 8) prefix bytes + 8·cap;
 *   3.12  the same with one dict-or-values word: a 32-byte object + the block;
 *   3.13  the values inline: a 40-byte object (header, the values' header word,
 *         dict, weak-reference list) + round_up(n, 8) order bytes + 8·n, n the
 *         size before this instance's decrement (its capacity is the size after).
 * With rc+gen's 16-byte GC head a 2-attribute instance is 88, 80 and 88 bytes:
 * what tracemalloc reports for python3.11.2, 3.12.1 and 3.13.0 (tests/test_layouts.c
 * has the figures for 1 to 29 names and the first instances). 3.11 is the default
 * under every strategy and `gc=` preset: a cell that changes only its collector
 * keeps its layout, so `none` stays its baseline.
 * Only the instance is a container (gen0 += 1 per
 * instance). Every instance is weakly referenceable (a plain class has
 * __weakref__).
 *
 * CPython's rule for setting an attribute: a name the keys hold is stored at its
 * index, in any order (the values' insertion-order bytes make that possible); a
 * new name is appended to the keys while they have room; otherwise the
 * instance's attributes move into a dict of its own (layout_dict.h), for good,
 * and a split block is freed. Room suffices by construction: a name's index is
 * below the table's size + usable, which never grows, so below every older
 * instance's capacity. Not modelled: deleting attributes; the order bytes' order
 * (a fallback dict takes the names in key order).
 *
 * Under a strategy that owns object memory (boehm: libgc frees objects without
 * their type's on_free) no block can be freed, so 3.11 and 3.12 keep their
 * values inline as 3.13 does.
 *
 * Invariant: an instance has either values (a split block, or inline) or a dict,
 * never both; values[i] for i < cap is the value of keys[i], None when unset;
 * traverse visits every value that is a reference and the dict.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "layout_dict.h"

/* CPython's SHARED_KEYS_MAX_SIZE: a class's keys start with this much room, so
 * past 30 names (fewer, when instances were made first) new names force a dict. */
#define MM_SHARED_KEYS_MAX 30u
/* Bytes per value and the rounding of CPython's prefix (sizeof(PyObject *)). */
#define MM_WORD 8u

typedef enum { SHARED_311, SHARED_312, SHARED_313 } shared_version;

/* The heap's choice (h->layout_data). */
typedef struct shared_cfg {
    shared_version version;
} shared_cfg;

typedef struct shared_keys {
    mm_attr *keys; /* names in first-set order */
    uint32_t nkeys, keys_cap;
    int32_t *index_of; /* attribute id → index in keys, -1 if absent */
    uint32_t index_len;
    uint32_t usable;          /* CPython's dk_usable */
    shared_version version;   /* how this class's instances are laid out */
} shared_keys;

/* 3.11 and 3.12: the values live in a block apart. */
typedef struct split_instance {
    mm_object ob;
    mm_value dorv; /* the values block | 1 (not a reference), or the dict once made */
    mm_object *weaklist;
    mm_value spare; /* 3.11 only: its dict pointer, kept beside the values pointer */
} split_instance;

/* 3.13: the values follow the fixed part. vo.nitems counts the 8-byte words
 * after it (order bytes and values), so mm_sizeof is the instance's size. */
typedef struct inline_instance {
    mm_varobject vo;
    mm_value dict;
    mm_object *weaklist;
} inline_instance;

static shared_keys *keys_of(const mm_object *o) { return o->type->cls->layout_data; }
static bool is_split(const shared_keys *k) { return k->version != SHARED_313; }
static uint32_t round_word(uint32_t n) { return (n + MM_WORD - 1) / MM_WORD * MM_WORD; }

/* 3.11/3.12 block: byte 0 of the prefix is the capacity, the values follow it. */
static uint32_t split_prefix(uint32_t cap) { return round_word(cap + 2); }
static size_t split_block_bytes(uint32_t cap) { return split_prefix(cap) + (size_t)MM_WORD * cap; }
static uint8_t *split_block(const split_instance *s) {
    return (s->dorv & 1u) ? (uint8_t *)(s->dorv & ~(mm_value)1) : NULL;
}

/* 3.13 inline region: byte 0 of the order bytes is the size allocated, byte 1 the capacity. */
static uint8_t *inline_region(inline_instance *s) { return (uint8_t *)(s + 1); }

/* The instance's values and their capacity, or NULL once it has a dict. */
static mm_value *values_of(mm_object *o, uint32_t *cap) {
    if (is_split(keys_of(o))) {
        uint8_t *b = split_block((split_instance *)o);
        if (b == NULL) return NULL;
        *cap = b[0];
        return (mm_value *)(b + split_prefix(b[0]));
    }
    inline_instance *s = (inline_instance *)o;
    if (s->dict != MM_NONE) return NULL;
    uint8_t *r = inline_region(s);
    *cap = r[1];
    return (mm_value *)(r + round_word(r[0]));
}

/* Where the dict reference lives (split: the dict-or-values word). */
static mm_value *dict_slot(mm_object *o) {
    return is_split(keys_of(o)) ? &((split_instance *)o)->dorv : &((inline_instance *)o)->dict;
}
static mm_value dict_of(mm_object *o) {
    mm_value d = *dict_slot(o);
    return mm_is_ref(d) ? d : MM_NONE;
}

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
    k->usable--;
    return true;
}

/* Every value that is a reference, then the dict. */
static void instance_traverse(mm_object *o, mm_visit_fn visit, void *arg) {
    uint32_t cap = 0;
    mm_value *v = values_of(o, &cap);
    for (uint32_t i = 0; v != NULL && i < cap; i++)
        if (mm_is_ref(v[i])) visit((mm_object *)v[i], arg);
    mm_value d = dict_of(o);
    if (d != MM_NONE) visit((mm_object *)d, arg);
}

/* Breaks cycles through either representation; a split block stays until on_free. */
static void instance_clear(mm_heap *h, mm_object *o) {
    uint32_t cap = 0;
    mm_value *v = values_of(o, &cap);
    for (uint32_t i = 0; v != NULL && i < cap; i++) mm_store(h, o, &v[i], MM_NONE);
    if (dict_of(o) != MM_NONE) mm_store(h, o, dict_slot(o), MM_NONE);
}

/* The block's bytes, for figures taken per object (floating garbage). */
static size_t split_owned_bytes(const mm_object *o) {
    const uint8_t *b = split_block((const split_instance *)o);
    return b != NULL ? split_block_bytes(b[0]) : 0;
}

/* The block goes with its instance (mm_free_object calls this first). */
static void split_on_free(mm_heap *h, mm_object *o) {
    split_instance *s = (split_instance *)o;
    uint8_t *b = split_block(s);
    if (b != NULL) mm_block_free(h, b, split_block_bytes(b[0]));
    s->dorv = MM_NONE;
}

/* ---- the knob ------------------------------------------------------------------ */

static const struct {
    const char *name;
    shared_version version;
} shared_versions[] = {{"3.11", SHARED_311}, {"3.12", SHARED_312}, {"3.13", SHARED_313}};

/* The version a cell names; 3.11 when it names none (the knob's default). */
static bool shared_parse(const mm_knobset *ks, shared_version *out, char *err, size_t errlen) {
    const char *v = ks ? mm_knobset_get(ks, "instance") : NULL;
    if (v == NULL) {
        *out = SHARED_311;
        return true;
    }
    for (size_t i = 0; i < sizeof shared_versions / sizeof shared_versions[0]; i++)
        if (strcmp(v, shared_versions[i].name) == 0) {
            *out = shared_versions[i].version;
            return true;
        }
    char q[MM_KNOB_QUOTE * 4 + 8];
    snprintf(err, errlen, "knob 'instance': '%s' is not 3.11 | 3.12 | 3.13",
             mm_escape(q, sizeof q, v, MM_KNOB_QUOTE));
    return false;
}

static bool shared_check(const mm_knobset *ks, char *err, size_t errlen) {
    shared_version v;
    return shared_parse(ks, &v, err, errlen);
}

static bool shared_init(mm_heap *h, const mm_knobset *ks, char *err, size_t errlen) {
    shared_cfg *cfg = calloc(1, sizeof *cfg);
    if (cfg == NULL) {
        snprintf(err, errlen, "out of memory for the shared layout");
        return false;
    }
    if (!shared_parse(ks, &cfg->version, err, errlen)) {
        free(cfg);
        return false;
    }
    h->layout_data = cfg;
    return true;
}

static void shared_fini(mm_heap *h) {
    free(h->layout_data);
    h->layout_data = NULL;
}

/* ---- classes and instances ------------------------------------------------------ */

/* The keys start empty with all their room: names enter as instances first set them. */
static bool shared_class_init(mm_heap *h, mm_class *c, char *err, size_t errlen) {
    shared_keys *k = calloc(1, sizeof *k);
    if (k == NULL) {
        snprintf(err, errlen, "out of memory for the shared keys of %s", c->name);
        return false;
    }
    const shared_cfg *cfg = h->layout_data;
    k->usable = MM_SHARED_KEYS_MAX;
    k->version = cfg ? cfg->version : SHARED_311;
    if (is_split(k) && !mm_blocks_supported(h)) k->version = SHARED_313;
    c->layout_data = k;
    c->weakrefable = true;
    c->type.is_container = true;
    c->type.traverse = instance_traverse;
    c->type.clear = instance_clear;
    if (is_split(k)) {
        c->type.size = k->version == SHARED_311 ? sizeof(split_instance) : offsetof(split_instance, spare);
        c->type.itemsize = 0;
        c->type.weaklist_offset = (uint32_t)offsetof(split_instance, weaklist);
        c->type.on_free = split_on_free;
        c->type.owned_bytes = split_owned_bytes;
    } else {
        c->type.size = sizeof(inline_instance);
        c->type.itemsize = MM_WORD;
        c->type.weaklist_offset = (uint32_t)offsetof(inline_instance, weaklist);
    }
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

/* CPython's init_inline_values / _PyObject_InitInlineValues: one less usable,
 * then the values sized from the keys (3.13 allocates before the decrement). */
static mm_object *shared_instantiate(mm_heap *h, mm_class *c) {
    shared_keys *k = c->layout_data;
    const uint32_t before = k->nkeys + k->usable;
    if (k->usable > 1) k->usable--;
    const uint32_t cap = k->nkeys + k->usable;
    if (!is_split(k)) {
        mm_object *o = mm_new(h, &c->type, round_word(before) / MM_WORD + before);
        if (o == NULL) return NULL;
        uint8_t *r = inline_region((inline_instance *)o);
        r[0] = (uint8_t)before;
        r[1] = (uint8_t)cap;
        return o;
    }
    mm_object *o = mm_new(h, &c->type, 0);
    if (o == NULL) return NULL;
    uint8_t *b = mm_block_alloc(h, split_block_bytes(cap));
    if (b == NULL) {
        mm_decref(h, o);
        return NULL;
    }
    memset(b, 0, split_block_bytes(cap));
    b[0] = (uint8_t)cap;
    ((split_instance *)o)->dorv = (mm_value)b | 1u;
    return o;
}

/* Fast path: one index lookup in the class's keys, one load from the values. */
static mm_value shared_get(mm_heap *h, mm_object *o, mm_attr a) {
    (void)h;
    uint32_t cap = 0;
    mm_value *v = values_of(o, &cap);
    if (MM_UNLIKELY(v == NULL)) {
        mm_value d = dict_of(o);
        return d != MM_NONE ? mm_dict_get((mm_object *)d, a) : MM_NONE;
    }
    int32_t i = index_of(keys_of(o), a);
    return i >= 0 && (uint32_t)i < cap ? v[i] : MM_NONE;
}

/* The slow path: the attributes move into a dict of the instance's own, sized to
 * take the one being set, and stay there (CPython never re-splits a dict). Only
 * for an instance that has values. */
static int to_dict(mm_heap *h, mm_object *o) {
    uint32_t cap = 0, set = 0;
    mm_value *v = values_of(o, &cap);
    for (uint32_t i = 0; i < cap; i++) set += v[i] != MM_NONE;
    mm_object *d = mm_dict_new(h, (size_t)set + 1);
    if (d == NULL) return MM_ENOMEM;
    /* The allocation may have collected; read the values only now. */
    v = values_of(o, &cap);
    const shared_keys *k = keys_of(o);
    mm_value slot = mm_ref(d); /* owns mm_new's reference */
    for (uint32_t i = 0; i < cap; i++)
        if (v[i] != MM_NONE && mm_dict_set(h, d, &slot, k->keys[i], v[i]) != MM_OK) {
            mm_decref(h, mm_as_ref(slot));
            return MM_ENOMEM;
        }
    for (uint32_t i = 0; i < cap; i++) mm_store(h, o, &v[i], MM_NONE);
    if (is_split(k)) { /* 3.11/3.12 free the values once the dict has them */
        split_instance *s = (split_instance *)o;
        mm_block_free(h, split_block(s), split_block_bytes(cap));
        s->dorv = MM_NONE;
    }
    mm_store(h, o, dict_slot(o), slot);
    mm_decref(h, mm_as_ref(slot));
    return MM_OK;
}

/* Fast path: a name the keys hold, or one they take; everything else is to_dict.
 * No values means the attributes live in the dict (or, cleared by the collector,
 * in none yet: mm_dict_set makes one). */
static int shared_set(mm_heap *h, mm_object *o, mm_attr a, mm_value v) {
    uint32_t cap = 0;
    mm_value *vals = values_of(o, &cap);
    if (MM_LIKELY(vals != NULL)) {
        shared_keys *k = keys_of(o);
        int32_t i = index_of(k, a);
        if (i < 0 && k->usable > 0) {
            if (!keys_append(k, a)) return MM_ENOMEM;
            i = (int32_t)k->nkeys - 1;
        }
        if (MM_LIKELY(i >= 0 && (uint32_t)i < cap)) {
            mm_store(h, o, &vals[i], v);
            return MM_OK;
        }
        int rc = to_dict(h, o);
        if (rc != MM_OK) return rc;
    }
    return mm_dict_set(h, o, dict_slot(o), a, v);
}

/* Views for tests. */
bool mm_shared_has_dict(const mm_object *o) { return dict_of((mm_object *)o) != MM_NONE; }
size_t mm_shared_keys_count(const mm_class *c) { return ((const shared_keys *)c->layout_data)->nkeys; }
size_t mm_shared_usable(const mm_class *c) { return ((const shared_keys *)c->layout_data)->usable; }

static const mm_knob_desc shared_knobs[] = {
    {"instance", MM_KNOB_STRING, "3.11", 0, 0,
     "CPython's plain instance: 3.11 (40-byte object + values apart) | 3.12 (32 + values apart) | 3.13 (values "
     "inline); the same under every strategy and preset, so cells that differ in reclaim compare one layout"},
    {0},
};

const mm_layout mm_layout_shared = {
    .name = "shared",
    .summary = "key-sharing: shared keys per class + values per instance, dict fallback (PEP 412; CPython 3.11, 3.12 "
               "or 3.13's instance)",
    .knobs = shared_knobs,
    .check = shared_check,
    .init = shared_init,
    .fini = shared_fini,
    .class_init = shared_class_init,
    .class_fini = shared_class_fini,
    .instantiate = shared_instantiate,
    .get = shared_get,
    .set = shared_set,
};
