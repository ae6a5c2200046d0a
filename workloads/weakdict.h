/* weakdict.h — a weak-value dictionary (CPython's weakref.WeakValueDictionary)
 * with int64 keys, usable by any workload.
 *
 * Contract: wl_weakdict_set(d, k, v) maps k to v without keeping v alive: the
 * entry holds a weak reference to v whose callback removes the entry when v
 * dies — freed by refcounting, or found garbage by a collector (weak references
 * to garbage are cleared first, then the callback runs), as CPython's KeyedRef
 * callbacks remove WeakValueDictionary entries. wl_weakdict_get returns a
 * borrowed reference, or NULL when k is absent or its value already died
 * (cleared but its callback not yet run). v's class must declare
 * MM_WEAKREF_ATTR. The table and its entries live in mm_raw_alloc memory (the
 * cell's allocator counts them); each entry's weak reference is a managed
 * object (a tracked container, as in CPython), held by the dictionary.
 *
 * Invariant: each entry holds exactly one reference to its weakref, whose
 * callback context is the entry; a linked entry's owner is the dictionary. An
 * entry leaves the table by its callback, replacement, delete or free; it is
 * freed then unless its weakref was already cleared (callback pending), in
 * which case it is orphaned (owner NULL) and the pending callback frees it.
 */
#ifndef WL_WEAKDICT_H
#define WL_WEAKDICT_H

#include "mm.h"

typedef struct wl_weakdict wl_weakdict;

/* An empty dictionary on heap h, or NULL when the allocator fails. */
wl_weakdict *wl_weakdict_new(mm_heap *h);
/* Drops every entry (their weakrefs die without callbacks) and the table. */
void wl_weakdict_free(wl_weakdict *d);
/* d[key] = value (replacing an earlier entry): MM_OK; MM_EATTR when value's
 * class is not weakly referenceable; MM_ENOMEM when memory ran out (d unchanged).
 * May run a collection (the weakref is an allocation), whose callbacks may
 * remove other entries of d. */
int wl_weakdict_set(wl_weakdict *d, int64_t key, mm_object *value);
/* d.get(key): borrowed reference or NULL. */
mm_object *wl_weakdict_get(const wl_weakdict *d, int64_t key);
/* del d[key]; false when absent. */
bool wl_weakdict_del(wl_weakdict *d, int64_t key);
/* Entries in the table (dead values whose callbacks are still pending included). */
size_t wl_weakdict_len(const wl_weakdict *d);
/* Raw bytes held by the dictionary: header, table and entries (not the weakrefs). */
size_t wl_weakdict_raw_bytes(const wl_weakdict *d);

#endif
