/* cache.c — `cache`: a keyed cache of expensive objects under a drifting stream.
 *
 * Contract: a stream of requests for integer keys, each drawn uniformly from a
 * window of `window` keys whose start slides linearly from 0 to keys − window
 * over the run (seeded splitmix64, so a cell is reproducible). A request is a
 * get; on a miss the caller builds the object — an Entry(key, size, payload)
 * whose payload is a chain of `payload` Chunk(value, next) nodes — and puts it.
 * ops = gets + puts; the stream stops once `ops` is reached. Every caller keeps
 * the objects it used last in a ring of `hold` slots (the program's live set
 * outside the cache), in every variant. The variants, by knob `cache`:
 *   lru        strong, at most `capacity` entries, evicts the least recently used
 *              (a hash map plus a doubly linked recency list; the list nodes are
 *              raw memory, one per entry, not objects, as functools.lru_cache's
 *              links are C structs — so they cost allocator bytes, not objects);
 *   unbounded  strong, never evicts: the global-cache leak pattern (a module-
 *              level dict filled forever); nothing leaks once the cache is
 *              dropped, but the live set grows with every distinct key;
 *   weak       a weak-value dictionary (weakdict.h): an entry vanishes when the
 *              last caller drops its object, so the live set is bounded by the
 *              ring; a hit needs the object to still be held somewhere.
 * Counters: gets, hits, puts, hit_rate (hits/gets), evictions (lru),
 * cache_entries_end, live_objects_end and live_mb_end (objects alive when the
 * stream ends, before the drop), cache_table_mb_end (the cache's raw memory
 * then), live_mb_peak (the most object bytes alive at any moment). RSS over
 * time is the harness's timeline.
 *
 * Invariant: the cache's strong holds (lru, unbounded) are one reference per
 * entry, in raw memory; the ring's holds are one reference per filled slot.
 * Every hit returns an Entry whose key attribute equals the requested key.
 * Roots: the ring slots and the object in hand are registered; the cache's raw
 * holds are not (no present strategy traces; a tracing one would need a way to
 * enumerate raw holds, which the API does not have).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intmap.h"
#include "weakdict.h"
#include "workload.h"

/* Points of the live-bytes timeline per run: enough for a smooth line, cheap to take. */
#define WL_CACHE_LIVE_SAMPLES 1000
/* Longest stream a cell may ask for: 10^10 requests is hours, past any bench. */
#define WL_CACHE_MAX_OPS 10000000000LL
/* Largest key space: 2^40 keys; only the window's keys are ever touched. */
#define WL_CACHE_MAX_KEYS (1LL << 40)
/* Largest ring, window or capacity: 10^8 entries is several GB of objects. */
#define WL_CACHE_MAX_SET 100000000LL
/* Longest payload chain: an "expensive" object, not a list workload. */
#define WL_CACHE_MAX_PAYLOAD 1000
/* Bytes per MB in the *_mb counters (MiB, as the harness's counters). */
#define WL_CACHE_MB (1024.0 * 1024.0)
/* splitmix64's increment (2^64/phi) and its two finalising multipliers (Steele et al. 2014). */
#define WL_CACHE_SM_GAMMA 0x9E3779B97F4A7C15ull
#define WL_CACHE_SM_MUL1 0xBF58476D1CE4E5B9ull
#define WL_CACHE_SM_MUL2 0x94D049BB133111EBull

static const mm_knob_desc wl_cache_knobs[] = {
    {"cache", MM_KNOB_STRING, "lru", 0, 0, "lru (strong, bounded) | unbounded (strong, the leak pattern) | weak (weak values)"},
    {"ops", MM_KNOB_COUNT, "2000000", 1, WL_CACHE_MAX_OPS, "gets + puts in the stream"},
    {"keys", MM_KNOB_COUNT, "100000", 1, WL_CACHE_MAX_KEYS, "key space the window slides over once"},
    {"window", MM_KNOB_COUNT, "1000", 1, WL_CACHE_MAX_SET, "keys a request is drawn from at any moment (<= keys)"},
    {"capacity", MM_KNOB_COUNT, "1000", 1, WL_CACHE_MAX_SET, "entries of cache=lru"},
    {"hold", MM_KNOB_COUNT, "1000", 1, WL_CACHE_MAX_SET, "objects the callers keep (a ring of the last used)"},
    {"payload", MM_KNOB_COUNT, "4", 0, WL_CACHE_MAX_PAYLOAD, "nodes in each cached object's payload chain"},
    {"seed", MM_KNOB_COUNT, "1", 0, INT64_MAX, "seed of the key stream"},
    {0},
};

typedef enum { WL_CACHE_LRU, WL_CACHE_UNBOUNDED, WL_CACHE_WEAK } wl_cache_kind;
static const char *const wl_cache_kinds[] = {"lru", "unbounded", "weak", NULL};

/* A strong entry: the map link, the held value and (lru) its recency links. */
typedef struct wl_cache_slot {
    wl_intmap_node link; /* first: the map hands back this pointer */
    mm_object *value;    /* held: one reference */
    struct wl_cache_slot *newer, *older;
} wl_cache_slot;

/* Strong caches (lru with capacity > 0; unbounded with capacity 0). */
typedef struct wl_strong_cache {
    wl_intmap map;
    wl_cache_slot *newest, *oldest; /* recency list, lru only */
    size_t capacity;
    uint64_t evictions;
} wl_strong_cache;

typedef struct wl_cache_ctx {
    mm_heap *h;
    wl_cache_kind kind;
    mm_class *entry_cls, *chunk_cls;
    mm_attr a_key, a_size, a_payload, a_value, a_next;
    int64_t payload;
    wl_strong_cache strong;
    wl_weakdict *weak;
    uint64_t objects_built;
} wl_cache_ctx;

/* The variant's index in wl_cache_kinds, or -1: check and run read it the same way. */
static int wl_cache_find_kind(const char *name) {
    for (int i = 0; wl_cache_kinds[i]; i++)
        if (strcmp(name, wl_cache_kinds[i]) == 0) return i;
    return -1;
}

/* Bad variant names and a window wider than the key space exit 2 before the run. */
static bool wl_cache_check(const mm_knobset *ks, char *err, size_t errlen) {
    const char *kind = mm_knob_str(ks, "cache");
    if (wl_cache_find_kind(kind) < 0) {
        snprintf(err, errlen, "knob 'cache': '%s' is not one of lru, unbounded, weak", kind);
        return false;
    }
    if (mm_knob_int(ks, "window") > mm_knob_int(ks, "keys")) {
        snprintf(err, errlen, "knobs must satisfy window <= keys (got window=%lld keys=%lld)",
                 (long long)mm_knob_int(ks, "window"), (long long)mm_knob_int(ks, "keys"));
        return false;
    }
    return true;
}

/* splitmix64 as the stream itself: one add and two multiplies per draw. */
static uint64_t wl_cache_rand(uint64_t *state) {
    uint64_t z = (*state += WL_CACHE_SM_GAMMA);
    z = (z ^ (z >> 30)) * WL_CACHE_SM_MUL1;
    z = (z ^ (z >> 27)) * WL_CACHE_SM_MUL2;
    return z ^ (z >> 31);
}

/* The "expensive" object: Entry(key, size, payload) with a payload chain built
 * back to front. New reference, or NULL when memory ran out (nothing held). */
static mm_object *wl_cache_build(wl_cache_ctx *c, int64_t key) {
    mm_heap *h = c->h;
    mm_object *entry = mm_instance_new(h, c->entry_cls);
    if (entry == NULL) return NULL;
    mm_root_push(h, &entry);
    bool ok = mm_setattr(h, entry, c->a_key, mm_int((intptr_t)key)) == MM_OK &&
              mm_setattr(h, entry, c->a_size, mm_int((intptr_t)c->payload)) == MM_OK;
    for (int64_t i = 0; ok && i < c->payload; i++) {
        mm_object *chunk = mm_instance_new(h, c->chunk_cls);
        if (chunk == NULL) {
            ok = false;
            break;
        }
        ok = mm_setattr(h, chunk, c->a_value, mm_int((intptr_t)(key + i))) == MM_OK &&
             mm_setattr(h, chunk, c->a_next, mm_getattr(h, entry, c->a_payload)) == MM_OK &&
             mm_setattr(h, entry, c->a_payload, mm_ref(chunk)) == MM_OK;
        mm_decref(h, chunk); /* entry holds it now (or it dies on failure) */
    }
    mm_root_pop(h, 1);
    if (!ok) {
        mm_decref(h, entry);
        return NULL;
    }
    c->objects_built++;
    return entry;
}

/* Unlinks a slot from the recency list (lru only). */
static void wl_cache_unlink(wl_strong_cache *s, wl_cache_slot *e) {
    if (e->newer) e->newer->older = e->older;
    else s->newest = e->older;
    if (e->older) e->older->newer = e->newer;
    else s->oldest = e->newer;
    e->newer = e->older = NULL;
}

/* Links a slot as the most recently used (lru only). */
static void wl_cache_push_newest(wl_strong_cache *s, wl_cache_slot *e) {
    e->older = s->newest;
    e->newer = NULL;
    if (s->newest) s->newest->newer = e;
    else s->oldest = e;
    s->newest = e;
}

/* Releases a slot already out of the map: its hold and its raw memory. */
static void wl_cache_slot_free(mm_heap *h, wl_cache_slot *e) {
    mm_object *v = e->value;
    mm_raw_free(h, e, sizeof *e);
    mm_decref(h, v);
}

/* A get: borrowed reference or NULL; an lru hit becomes the most recent. */
static mm_object *wl_cache_get(wl_cache_ctx *c, int64_t key) {
    if (c->kind == WL_CACHE_WEAK) return wl_weakdict_get(c->weak, key);
    wl_cache_slot *e = (wl_cache_slot *)wl_intmap_find(&c->strong.map, key);
    if (e == NULL) return NULL;
    if (c->strong.capacity > 0) {
        wl_cache_unlink(&c->strong, e);
        wl_cache_push_newest(&c->strong, e);
    }
    return e->value;
}

/* A put of a key that missed (a weak entry may still hold a dead value: it is
 * replaced). lru evicts the oldest entry past capacity. False: out of memory. */
static bool wl_cache_put(wl_cache_ctx *c, int64_t key, mm_object *value) {
    if (c->kind == WL_CACHE_WEAK) return wl_weakdict_set(c->weak, key, value) == MM_OK;
    wl_strong_cache *s = &c->strong;
    wl_cache_slot *e = mm_raw_alloc(c->h, sizeof *e);
    if (e == NULL) return false;
    e->link.key = key;
    e->value = value;
    mm_incref(value);
    if (!wl_intmap_insert(&s->map, &e->link)) {
        wl_cache_slot_free(c->h, e);
        return false;
    }
    if (s->capacity == 0) return true;
    wl_cache_push_newest(s, e);
    if (s->map.count > s->capacity) {
        wl_cache_slot *old = s->oldest;
        wl_cache_unlink(s, old);
        wl_intmap_remove(&s->map, &old->link);
        wl_cache_slot_free(c->h, old);
        s->evictions++;
    }
    return true;
}

/* Drops the whole cache (the program's `cache.clear()` and `del cache`). */
static void wl_cache_drop(wl_cache_ctx *c) {
    if (c->kind == WL_CACHE_WEAK) {
        if (c->weak) wl_weakdict_free(c->weak);
        c->weak = NULL;
        return;
    }
    if (c->strong.map.buckets == NULL) return;
    for (wl_intmap_node *n = wl_intmap_take_all(&c->strong.map), *next; n != NULL; n = next) {
        next = n->next;
        wl_cache_slot_free(c->h, (wl_cache_slot *)n);
    }
    c->strong.newest = c->strong.oldest = NULL;
    wl_intmap_fini(&c->strong.map);
}

/* Raw bytes the cache holds (table and entries). */
static size_t wl_cache_table_bytes(const wl_cache_ctx *c) {
    if (c->kind == WL_CACHE_WEAK) return c->weak ? wl_weakdict_raw_bytes(c->weak) : 0; /* NULL: setup failed */
    return wl_intmap_table_bytes(&c->strong.map) + c->strong.map.count * sizeof(wl_cache_slot);
}

/* Entries now (a weak dictionary's pending-callback entries included). */
static size_t wl_cache_entries(const wl_cache_ctx *c) {
    if (c->kind == WL_CACHE_WEAK) return c->weak ? wl_weakdict_len(c->weak) : 0;
    return c->strong.map.count;
}

/* Classes, interned names and the empty cache; false with err set. */
static bool wl_cache_setup(wl_cache_ctx *c, const mm_knobset *ks, char *err, size_t errlen) {
    mm_heap *h = c->h;
    /* Every variant declares __weakref__, so the objects are the same size in all three. */
    static const char *const entry_attrs[] = {"key", "size", "payload", MM_WEAKREF_ATTR};
    static const char *const chunk_attrs[] = {"value", "next"};
    c->entry_cls = mm_class_new(h, "Entry", entry_attrs, 4);
    c->chunk_cls = mm_class_new(h, "Chunk", chunk_attrs, 2);
    if (c->entry_cls == NULL || c->chunk_cls == NULL) {
        snprintf(err, errlen, "cannot declare classes Entry and Chunk");
        return false;
    }
    c->a_key = mm_intern(h, "key");
    c->a_size = mm_intern(h, "size");
    c->a_payload = mm_intern(h, "payload");
    c->a_value = mm_intern(h, "value");
    c->a_next = mm_intern(h, "next");
    c->payload = mm_knob_int(ks, "payload");
    c->kind = (wl_cache_kind)wl_cache_find_kind(mm_knob_str(ks, "cache"));
    bool ok;
    if (c->kind == WL_CACHE_WEAK) {
        ok = (c->weak = wl_weakdict_new(h)) != NULL;
    } else {
        c->strong.capacity = c->kind == WL_CACHE_LRU ? (size_t)mm_knob_int(ks, "capacity") : 0;
        ok = wl_intmap_init(&c->strong.map, h);
    }
    if (!ok) snprintf(err, errlen, "out of memory making the cache");
    return ok;
}

/* The stream of the header, then the end-of-stream figures, then the drop. */
static bool wl_cache_run(mm_heap *h, const mm_knobset *ks, wl_result *r, char *err, size_t errlen) {
    if (!wl_cache_check(ks, err, errlen)) return false;
    wl_cache_ctx c = {.h = h};
    const uint64_t ops = (uint64_t)mm_knob_int(ks, "ops"), window = (uint64_t)mm_knob_int(ks, "window");
    const uint64_t slide = (uint64_t)mm_knob_int(ks, "keys") - window;
    const size_t hold = (size_t)mm_knob_int(ks, "hold");
    uint64_t rng = (uint64_t)mm_knob_int(ks, "seed");
    mm_object **ring = calloc(hold, sizeof *ring);
    if (ring == NULL) {
        snprintf(err, errlen, "out of memory for a ring of %zu holds", hold);
        return false;
    }
    bool ok = wl_cache_setup(&c, ks, err, errlen);
    for (size_t i = 0; i < hold; i++) mm_root_push(h, &ring[i]);
    mm_object *fresh = NULL;
    mm_root_push(h, &fresh);

    uint64_t done = 0, gets = 0, hits = 0, puts = 0, next_sample = 0;
    const uint64_t sample_every = ops / WL_CACHE_LIVE_SAMPLES + 1;
    size_t next_slot = 0;
    while (ok && done < ops) {
        mm_safepoint(h); /* loop step */
        if (done >= next_sample) { /* the live-bytes timeline (plots/cache_timeline) */
            wl_live_sample(r);
            next_sample = done + sample_every;
        }
        const uint64_t start = (uint64_t)((double)done / (double)ops * (double)slide);
        const int64_t key = (int64_t)(start + wl_cache_rand(&rng) % window);
        mm_object *obj = wl_cache_get(&c, key);
        gets++;
        done++;
        if (obj != NULL) {
            if (mm_as_int(mm_getattr(h, obj, c.a_key)) != key) {
                snprintf(err, errlen, "cache returned an Entry for key %lld on a get of %lld",
                         (long long)mm_as_int(mm_getattr(h, obj, c.a_key)), (long long)key);
                ok = false;
                break;
            }
            hits++;
            mm_incref(obj);
        } else {
            if ((fresh = wl_cache_build(&c, key)) == NULL || !wl_cache_put(&c, key, fresh)) {
                snprintf(err, errlen, "out of memory after %llu objects", (unsigned long long)c.objects_built);
                ok = false;
                break;
            }
            puts++;
            done++;
            obj = fresh;
            fresh = NULL;
        }
        /* The caller keeps what it used; the oldest hold in the ring lets go. */
        mm_object *old = ring[next_slot];
        ring[next_slot] = obj;
        next_slot = (next_slot + 1) % hold;
        mm_xdecref(h, old);
    }

    wl_live_sample(r);
    mm_stats s;
    mm_get_stats(h, &s);
    const double entries_end = (double)wl_cache_entries(&c), table_end = (double)wl_cache_table_bytes(&c);
    mm_xdecref(h, fresh);
    wl_cache_drop(&c);
    for (size_t i = 0; i < hold; i++) mm_xdecref(h, ring[i]);
    mm_root_pop(h, hold + 1);
    free(ring);

    r->ops = (double)done;
    wl_counter(r, "gets", (double)gets);
    wl_counter(r, "hits", (double)hits);
    wl_counter(r, "puts", (double)puts);
    wl_counter(r, "hit_rate", gets ? (double)hits / (double)gets : 0);
    if (c.kind == WL_CACHE_LRU) wl_counter(r, "evictions", (double)c.strong.evictions);
    wl_counter(r, "cache_entries_end", entries_end);
    wl_counter(r, "cache_table_mb_end", table_end / WL_CACHE_MB);
    wl_counter(r, "live_objects_end", (double)mm_stats_live_objects(&s));
    wl_counter(r, "live_mb_end", (double)mm_stats_live_bytes(&s) / WL_CACHE_MB);
    wl_counter(r, "live_mb_peak", (double)s.live_bytes_peak / WL_CACHE_MB);
    return ok;
}

const mm_workload wl_cache = {
    .name = "cache",
    .summary = "keyed cache of small object graphs under a drifting get/put stream: cache=lru | unbounded | weak",
    .knobs = wl_cache_knobs,
    .check = wl_cache_check,
    .run = wl_cache_run,
};
