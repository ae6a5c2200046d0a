/* layout_dict.c — `dict`: every instance owns a separate attribute dictionary,
 * the plain-class layout of CPython up to 3.10 without key sharing.
 *
 * Contract: an instance is the header, a reference to its dict object (None until
 * the first attribute is set: CPython 3.10 also creates an instance's __dict__
 * lazily) and a weak-reference list head: 16 + 8 + 8 = 32 bytes. Plain Python
 * classes always have __dict__ and __weakref__, so every `dict` (and `shared`)
 * instance is weakly referenceable whatever the class declares. Any attribute
 * may be set, declared or not. The dict is a tracked container of its own, so
 * each instance with attributes costs two container allocations (gen0 += 2, as
 * instance + __dict__ in CPython 3.10) and two pre-headers.
 *
 * The dict object: header with item count (24 bytes), the index size and entry
 * count (8), then an index table of `size` slots (1 byte each up to 256 slots, 2
 * up to 65536, else 4) and room for usable(size) = 2·size/3 entries of 16 bytes
 * (attribute id, value), filled in insertion order. The interned id is its own
 * hash, so entries keep no hash word (CPython's keep 8 more bytes each). Sizes
 * are powers of two from 8; a full table grows to the smallest power of two >=
 * 3·used (CPython 3.10's growth rate). Lookup probes linearly from a
 * multiplicative hash of the id. With 2 attributes: 32 + 8 + 5·16 = 120 bytes.
 *
 * Invariant: see layout_dict.h; the instance's traverse visits its dict, the
 * dict's traverse visits every live value.
 */
#include <stddef.h>
#include <string.h>

#include "layout.h"
#include "layout_dict.h"

/* Smallest table: CPython's PyDict_MINSIZE, 8 slots holding 5 entries. */
#define MM_DICT_MINSIZE 8
/* Growth: a full table is rebuilt with room for 3× its entries (CPython 3.10). */
#define MM_DICT_GROWTH 3
/* Index slots per width step: below 256 slots a byte indexes every entry
 * (usable < 255, which is kept free as "empty"); below 65536, two bytes. */
#define MM_DICT_BYTE_LIMIT 256u
#define MM_DICT_SHORT_LIMIT 65536u
/* Odd multiplier (golden ratio) that spreads consecutive attribute ids over the table. */
#define MM_DICT_HASH_MUL 0x9E3779B97F4A7C15ull

typedef struct dict_entry {
    mm_attr key;
    uint32_t pad_;
    mm_value value;
} dict_entry;

typedef struct dict_obj {
    mm_varobject vo; /* nitems = bytes of index table + entry room */
    uint32_t size;   /* index slots, a power of two */
    uint32_t used;   /* live entries, in insertion order */
} dict_obj;

static void dict_traverse(mm_object *o, mm_visit_fn visit, void *arg);
static void dict_clear(mm_heap *h, mm_object *o);

static const mm_type mm_dict_type = {
    .name = "dict",
    .size = sizeof(dict_obj),
    .itemsize = 1,
    .is_container = true,
    .traverse = dict_traverse,
    .clear = dict_clear,
    .builtin = MM_BUILTIN_DICT,
};

/* Bytes per index slot: the narrowest integer that can name every entry. */
static size_t idx_width(size_t size) {
    return size <= MM_DICT_BYTE_LIMIT ? 1 : size <= MM_DICT_SHORT_LIMIT ? 2 : 4;
}

/* Entries a table of `size` slots takes before it must grow (CPython's 2/3 load). */
static size_t usable_of(size_t size) { return 2 * size / 3; }

/* Bytes after the fixed part; the index table is a multiple of 8, so entries stay aligned. */
static size_t table_bytes(size_t size) { return size * idx_width(size) + usable_of(size) * sizeof(dict_entry); }

/* The index table follows the fixed part; the entries follow the index table. */
static unsigned char *indices(const dict_obj *d) { return (unsigned char *)(d + 1); }
static dict_entry *entries(const dict_obj *d) { return (dict_entry *)(indices(d) + d->size * idx_width(d->size)); }

/* Reads index slot i; the all-ones value of the width means empty. */
static uint32_t idx_get(const dict_obj *d, size_t i) {
    const unsigned char *p = indices(d);
    switch (idx_width(d->size)) {
    case 1: return p[i] == UINT8_MAX ? UINT32_MAX : p[i];
    case 2: {
        uint16_t v;
        memcpy(&v, p + 2 * i, sizeof v);
        return v == UINT16_MAX ? UINT32_MAX : v;
    }
    default: {
        uint32_t v;
        memcpy(&v, p + 4 * i, sizeof v);
        return v;
    }
    }
}

/* Writes index slot i through memcpy: 2- and 4-byte slots need no alignment. */
static void idx_set(dict_obj *d, size_t i, uint32_t e) {
    unsigned char *p = indices(d);
    switch (idx_width(d->size)) {
    case 1: p[i] = (unsigned char)e; break;
    case 2: {
        uint16_t v = (uint16_t)e;
        memcpy(p + 2 * i, &v, sizeof v);
        break;
    }
    default: memcpy(p + 4 * i, &e, sizeof e); break;
    }
}

/* The index slot holding a, or the empty slot where it would go. */
static size_t probe(const dict_obj *d, mm_attr a, uint32_t *entry) {
    size_t mask = d->size - 1;
    for (size_t i = (size_t)(((uint64_t)a * MM_DICT_HASH_MUL) >> 32) & mask;; i = (i + 1) & mask) {
        uint32_t e = idx_get(d, i);
        if (e == UINT32_MAX || entries(d)[e].key == a) {
            *entry = e;
            return i;
        }
    }
}

/* Smallest table size whose usable room holds n entries. */
static size_t size_for(size_t n) {
    size_t size = MM_DICT_MINSIZE;
    while (usable_of(size) < n) size *= 2;
    return size;
}

/* A dict object with `size` index slots, every slot empty. */
static dict_obj *dict_alloc(mm_heap *h, size_t size) {
    dict_obj *d = (dict_obj *)mm_new(h, &mm_dict_type, table_bytes(size));
    if (d == NULL) return NULL;
    d->size = (uint32_t)size;
    memset(indices(d), 0xFF, size * idx_width(size));
    return d;
}

mm_object *mm_dict_new(mm_heap *h, size_t n) {
    dict_obj *d = dict_alloc(h, size_for(n));
    return d ? &d->vo.ob : NULL;
}

mm_value mm_dict_get(const mm_object *o, mm_attr a) {
    const dict_obj *d = (const dict_obj *)o;
    uint32_t e;
    probe(d, a, &e);
    return e == UINT32_MAX ? MM_NONE : entries(d)[e].value;
}

/* Appends an entry for an absent key; the caller has checked there is room.
 * The value slot starts None, so a store gives it its reference. */
static dict_entry *append(dict_obj *d, size_t slot, mm_attr a) {
    dict_entry *e = &entries(d)[d->used];
    e->key = a;
    e->value = MM_NONE;
    idx_set(d, slot, d->used++);
    return e;
}

/* The slow path of a set: a full table moves into a bigger dict object. Values
 * change owner without refcount traffic (no allocation happens during the move,
 * so no collector sees the halfway state); the old dict is released empty. */
static int dict_grow(mm_heap *h, mm_object *holder, mm_value *slot) {
    size_t want = MM_DICT_GROWTH * (size_t)((dict_obj *)mm_as_ref(*slot))->used, size = MM_DICT_MINSIZE;
    while (size < want) size *= 2;
    dict_obj *nd = dict_alloc(h, size);
    if (nd == NULL) return MM_ENOMEM;
    /* The allocation may have run a collection: read the old dict only now. */
    dict_obj *od = (dict_obj *)mm_as_ref(*slot);
    if (od->used >= usable_of(nd->size)) { /* a finalizer filled it meanwhile: rare, retry */
        mm_decref(h, &nd->vo.ob);
        return dict_grow(h, holder, slot);
    }
    for (uint32_t i = 0; i < od->used; i++) {
        dict_entry *src = &entries(od)[i];
        uint32_t e;
        size_t s = probe(nd, src->key, &e);
        append(nd, s, src->key)->value = src->value;
        src->value = MM_NONE;
    }
    od->used = 0;
    mm_store(h, holder, slot, mm_ref(&nd->vo.ob));
    mm_decref(h, &nd->vo.ob);
    return MM_OK;
}

int mm_dict_set(mm_heap *h, mm_object *holder, mm_value *slot, mm_attr a, mm_value v) {
    dict_obj *d = (dict_obj *)mm_as_ref(*slot);
    uint32_t e;
    size_t s = probe(d, a, &e);
    if (e != UINT32_MAX) {
        mm_store(h, &d->vo.ob, &entries(d)[e].value, v);
        return MM_OK;
    }
    if (MM_UNLIKELY(d->used >= usable_of(d->size))) {
        int rc = dict_grow(h, holder, slot);
        if (rc != MM_OK) return rc;
        d = (dict_obj *)mm_as_ref(*slot);
        s = probe(d, a, &e);
    }
    mm_store(h, &d->vo.ob, &append(d, s, a)->value, v);
    return MM_OK;
}

/* Read-only views for tests and the `shared` layout. */
size_t mm_dict_len(const mm_object *d) { return ((const dict_obj *)d)->used; }
size_t mm_dict_size(const mm_object *d) { return ((const dict_obj *)d)->size; }
bool mm_is_dict(const mm_object *o) { return o->type == &mm_dict_type; }

/* The collector and the release path see exactly the live values. */
static void dict_traverse(mm_object *o, mm_visit_fn visit, void *arg) {
    dict_obj *d = (dict_obj *)o;
    dict_entry *es = entries(d);
    for (uint32_t i = 0; i < d->used; i++)
        if (mm_is_ref(es[i].value)) visit((mm_object *)es[i].value, arg);
}

/* Breaking a cycle only needs the references gone: values become None, keys stay. */
static void dict_clear(mm_heap *h, mm_object *o) {
    dict_obj *d = (dict_obj *)o;
    for (uint32_t i = 0; i < d->used; i++) mm_store(h, o, &entries(d)[i].value, MM_NONE);
}

/* ---- the `dict` layout ------------------------------------------------------ */

typedef struct dict_instance {
    mm_object ob;
    mm_value dict;        /* None until the first attribute is set */
    mm_object *weaklist;
} dict_instance;

/* The instance holds one reference: its dict (the values are the dict's). */
static void instance_traverse(mm_object *o, mm_visit_fn visit, void *arg) {
    mm_value d = ((dict_instance *)o)->dict;
    if (mm_is_ref(d)) visit((mm_object *)d, arg);
}

/* Dropping the dict breaks any cycle that runs through the instance's attributes. */
static void instance_clear(mm_heap *h, mm_object *o) { mm_store(h, o, &((dict_instance *)o)->dict, MM_NONE); }

/* Every class gets the same instance shape: the attributes live in the dict. */
static bool dict_class_init(mm_heap *h, mm_class *c, char *err, size_t errlen) {
    (void)h;
    (void)err;
    (void)errlen;
    c->weakrefable = true;
    c->type.size = sizeof(dict_instance);
    c->type.weaklist_offset = (uint32_t)offsetof(dict_instance, weaklist);
    c->type.is_container = true;
    c->type.traverse = instance_traverse;
    c->type.clear = instance_clear;
    return true;
}

/* No dict yet: the first set makes it, so attribute-less instances stay small. */
static mm_object *dict_instantiate(mm_heap *h, mm_class *c) { return mm_new(h, &c->type, 0); }

/* No dict means no attribute was ever set: None. */
static mm_value dict_get(mm_heap *h, mm_object *o, mm_attr a) {
    (void)h;
    mm_value d = ((dict_instance *)o)->dict;
    return mm_is_ref(d) ? mm_dict_get((mm_object *)d, a) : MM_NONE;
}

/* The first set creates the dict (lazily, as CPython 3.10 does). */
static int dict_set(mm_heap *h, mm_object *o, mm_attr a, mm_value v) {
    dict_instance *inst = (dict_instance *)o;
    if (MM_UNLIKELY(inst->dict == MM_NONE)) {
        mm_object *d = mm_dict_new(h, 1);
        if (d == NULL) return MM_ENOMEM;
        if (inst->dict == MM_NONE) mm_store(h, o, &inst->dict, mm_ref(d)); /* unless a finalizer beat us */
        mm_decref(h, d);
    }
    return mm_dict_set(h, o, &inst->dict, a, v);
}

const mm_layout mm_layout_dict = {
    .name = "dict",
    .summary = "separate per-instance hash table, a tracked object of its own (CPython <=3.10 __dict__)",
    .knobs = NULL,
    .class_init = dict_class_init,
    .instantiate = dict_instantiate,
    .get = dict_get,
    .set = dict_set,
};
