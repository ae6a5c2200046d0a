/* weakdict.c — the weak-value dictionary; see weakdict.h for the contract.
 *
 * Start with wl_weakdict_entry_died: it is the whole point (the KeyedRef
 * callback). Everything else is an int map of entries {key, weakref}.
 */
#include "weakdict.h"

#include "intmap.h"

/* One entry: CPython's KeyedRef is a weakref that carries its key; here the
 * weakref's callback context is this entry, which carries key and owner. */
typedef struct wl_weakdict_entry {
    wl_intmap_node link; /* first: the map hands back this pointer */
    mm_object *wr;       /* held: one reference */
    wl_weakdict *owner;
} wl_weakdict_entry;

struct wl_weakdict {
    mm_heap *h;
    wl_intmap map;
};

/* Frees an entry already out of the map together with its weakref hold; a
 * weakref whose last hold goes dies detached, so no callback follows. */
static void wl_weakdict_entry_free(mm_heap *h, wl_weakdict_entry *e) {
    mm_object *wr = e->wr;
    mm_raw_free(h, e, sizeof *e);
    mm_decref(h, wr);
}

/* Releases an entry just unlinked by del, replacement or free. If its weakref
 * is already cleared, its callback is pending (a collector clears every weakref
 * to its garbage before it runs the callbacks, and holds them meanwhile): the
 * entry must outlive that call, so it is only orphaned here and the callback
 * frees it — CPython's KeyedRef callback checks `data[key] is wr` for the same
 * reason. */
static void wl_weakdict_entry_release(mm_heap *h, wl_weakdict_entry *e) {
    if (mm_weakref_get(e->wr) == NULL)
        e->owner = NULL;
    else
        wl_weakdict_entry_free(h, e);
}

/* The KeyedRef callback: the value died, so its entry leaves the table (unless
 * it was orphaned already). The caller (refcount release or collector) holds wr
 * across this call, so dropping the entry's reference never frees wr under it. */
static void wl_weakdict_entry_died(mm_heap *h, mm_object *wr, void *ctx) {
    wl_weakdict_entry *e = ctx;
    (void)wr;
    if (e->owner != NULL) wl_intmap_remove(&e->owner->map, &e->link);
    wl_weakdict_entry_free(h, e);
}

wl_weakdict *wl_weakdict_new(mm_heap *h) {
    wl_weakdict *d = mm_raw_alloc(h, sizeof *d);
    if (d == NULL) return NULL;
    d->h = h;
    if (!wl_intmap_init(&d->map, h)) {
        mm_raw_free(h, d, sizeof *d);
        return NULL;
    }
    return d;
}

void wl_weakdict_free(wl_weakdict *d) {
    mm_heap *h = d->h;
    /* Taken out of the map first: no callback can reach a half-freed table. */
    for (wl_intmap_node *n = wl_intmap_take_all(&d->map), *next; n != NULL; n = next) {
        next = n->next;
        wl_weakdict_entry_release(h, (wl_weakdict_entry *)n);
    }
    wl_intmap_fini(&d->map);
    mm_raw_free(h, d, sizeof *d);
}

/* The weakref is made before the table is touched: making it may run a
 * collection whose callbacks remove entries of this very dictionary. */
int wl_weakdict_set(wl_weakdict *d, int64_t key, mm_object *value) {
    mm_heap *h = d->h;
    if (value->type->weaklist_offset == 0) return MM_EATTR;
    wl_weakdict_entry *e = mm_raw_alloc(h, sizeof *e);
    if (e == NULL) return MM_ENOMEM;
    mm_object *wr = mm_weakref_new(h, value, wl_weakdict_entry_died, e);
    if (wr == NULL) {
        mm_raw_free(h, e, sizeof *e);
        return MM_ENOMEM;
    }
    e->link.key = key;
    e->wr = wr;
    e->owner = d;
    wl_intmap_node *old = wl_intmap_find(&d->map, key);
    if (old != NULL) {
        wl_intmap_remove(&d->map, old);
        wl_weakdict_entry_release(h, (wl_weakdict_entry *)old);
    }
    if (!wl_intmap_insert(&d->map, &e->link)) { /* only when growing: a replacement never grows */
        wl_weakdict_entry_free(h, e);
        return MM_ENOMEM;
    }
    return MM_OK;
}

mm_object *wl_weakdict_get(const wl_weakdict *d, int64_t key) {
    const wl_weakdict_entry *e = (const wl_weakdict_entry *)wl_intmap_find(&d->map, key);
    return e != NULL ? mm_weakref_get(e->wr) : NULL;
}

bool wl_weakdict_del(wl_weakdict *d, int64_t key) {
    wl_intmap_node *n = wl_intmap_find(&d->map, key);
    if (n == NULL) return false;
    wl_intmap_remove(&d->map, n);
    wl_weakdict_entry_release(d->h, (wl_weakdict_entry *)n);
    return true;
}

size_t wl_weakdict_len(const wl_weakdict *d) { return d->map.count; }

size_t wl_weakdict_raw_bytes(const wl_weakdict *d) {
    return sizeof *d + wl_intmap_table_bytes(&d->map) + d->map.count * sizeof(wl_weakdict_entry);
}
