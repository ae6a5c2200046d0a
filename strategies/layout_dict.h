/* layout_dict.h — the attribute dictionary object shared by the `dict` and
 * `shared` layouts (`shared` falls back to it, as a split dict becomes combined).
 *
 * Contract: a dict is a tracked, variable-size container object (its own
 * mm_type, so the cycle collector counts and traverses it like CPython's
 * instance __dict__). It maps interned attribute ids to values; it only grows
 * (no delattr in the API). Growing replaces the dict object: the holder's slot
 * then points at the new one and the old one is released empty.
 *
 * Invariant: entries 0..used-1 are live, in insertion order; each live key sits
 * in exactly one index slot; used <= usable(size) = 2·size/3.
 */
#ifndef MM_LAYOUT_DICT_H
#define MM_LAYOUT_DICT_H

#include "mm.h"

/* A new, empty dict with room for at least `entries` attributes (new reference). */
mm_object *mm_dict_new(mm_heap *h, size_t entries);

/* Borrowed value of attribute a, MM_NONE when absent. */
mm_value mm_dict_get(const mm_object *d, mm_attr a);

/* Sets a in the dict that *slot holds (a reference slot of holder); grows it by
 * replacing *slot when full. MM_OK or MM_ENOMEM. */
int mm_dict_set(mm_heap *h, mm_object *holder, mm_value *slot, mm_attr a, mm_value v);

/* Number of entries, and the table's index size (a power of two, 8 upwards). */
size_t mm_dict_len(const mm_object *d);
size_t mm_dict_size(const mm_object *d);

/* True when o is an attribute dict. */
bool mm_is_dict(const mm_object *o);

/* `shared` layout, for tests: whether an instance fell back to its own dict,
 * and how many names the class's shared keys hold. */
bool mm_shared_has_dict(const mm_object *o);
/* Room left in a class's shared keys (CPython's dk_usable). */
size_t mm_shared_usable(const mm_class *c);
size_t mm_shared_keys_count(const mm_class *c);

#endif
