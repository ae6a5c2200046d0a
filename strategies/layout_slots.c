/* layout_slots.c — `slots`: attributes inline at fixed offsets, like `__slots__`.
 *
 * Contract: an instance is the object header followed by one mm_value per
 * declared attribute, in declaration order (16 + 8·k bytes; CPython's
 * `__slots__` object is the same plus its 16-byte GC head), then, when the
 * class declares `__weakref__`, the weak-reference list head (8 bytes, as in
 * CPython; outside the slots, so traverse never sees it). Setting an
 * attribute the class does not declare fails with MM_EATTR, as `__slots__`
 * raises AttributeError.
 * Invariant: slot i holds attribute c->attrs[i]; traverse visits every slot.
 */
#include <stdio.h>

#include "layout.h"

static bool slots_class_init(mm_heap *h, mm_class *c, char *err, size_t errlen) {
    (void)h;
    (void)err;
    (void)errlen;
    c->type.size = sizeof(mm_object) + c->nattrs * sizeof(mm_value);
    if (c->weakrefable) {
        c->type.weaklist_offset = (uint32_t)c->type.size;
        c->type.size += sizeof(mm_object *);
    }
    c->type.nslots = c->nattrs;
    c->type.is_container = true;
    c->type.traverse = mm_traverse_slots;
    c->type.clear = mm_clear_slots;
    return true;
}

static mm_object *slots_instantiate(mm_heap *h, mm_class *c) { return mm_new(h, &c->type, 0); }

/* Fast path: the attribute id indexes the class's slot table directly. */
static mm_value slots_get(mm_heap *h, mm_object *o, mm_attr a) {
    (void)h;
    const mm_class *c = o->type->cls;
    if (MM_UNLIKELY(a >= c->slot_of_len || c->slot_of[a] < 0)) return MM_NONE;
    return mm_slots(o)[c->slot_of[a]];
}

static int slots_set(mm_heap *h, mm_object *o, mm_attr a, mm_value v) {
    const mm_class *c = o->type->cls;
    if (MM_UNLIKELY(a >= c->slot_of_len || c->slot_of[a] < 0)) return MM_EATTR;
    mm_value *slot = &mm_slots(o)[c->slot_of[a]];
    mm_store(h, o, slot, v);
    return MM_OK;
}

const mm_layout mm_layout_slots = {
    .name = "slots",
    .summary = "attributes inline at fixed offsets, like __slots__ (undeclared attribute: error)",
    .knobs = NULL,
    .class_init = slots_class_init,
    .instantiate = slots_instantiate,
    .get = slots_get,
    .set = slots_set,
};
