/* batch.c — `batch`: one large batch of records built, kept to the end, dropped.
 *
 * Contract: the program makes a list of `n` slots, sends MM_EVENT_BATCH_BEGIN,
 * then builds n records and stores each in the list; then it sends
 * MM_EVENT_BATCH_END, checks every record and drops the list. So policy=batch
 * turns automatic collection off for the build and runs one full collection
 * after it (the gc.disable() … gc.collect() pattern of batch jobs); policy=auto
 * lets the thresholds trigger collections all through the build.
 * Building record i (a Record(id, total, fields, scratch) instance):
 *   - `temps` temporaries Temp(value, next, parent) are made while parsing it:
 *     linked into a ring (next), each pointing back at the record (parent), and
 *     the record points at the first (scratch) — a cycle with the record being
 *     built. The record sums their values into `total`, then lets go of them
 *     (scratch = None): the ring is now garbage that only a collector frees;
 *   - `fields` Field(value, next, parent) objects are kept in the record's
 *     `fields` chain, each pointing back at the record: long-lived cycles that
 *     every full collection has to examine, and that pure refcounting leaks.
 * ops = records built; counters `records`, `temporaries`, `fields`. The
 * harness reports pauses and gc_collections_gen0..2.
 *
 * Invariant: the list, the record being built and the head of its temporaries
 * are registered roots; every object the program still needs is reachable from
 * them at every allocation. Every hold is released and every root popped on
 * return, on success and on failure alike.
 */
#include <stdio.h>

#include "workload.h"

/* Largest batch: 10^9 records is > 100 GB of objects, past any machine here. */
#define WL_BATCH_MAX_N 1000000000LL
/* Most temporaries or fields per record: a record, not a list workload. */
#define WL_BATCH_MAX_PARTS 1000

static const mm_knob_desc wl_batch_knobs[] = {
    {"n", MM_KNOB_COUNT, "500000", 1, WL_BATCH_MAX_N, "records in the batch, all kept to the end"},
    {"temps", MM_KNOB_COUNT, "4", 0, WL_BATCH_MAX_PARTS, "temporaries per record (a ring pointing back at it, then dropped)"},
    {"fields", MM_KNOB_COUNT, "3", 0, WL_BATCH_MAX_PARTS, "fields kept per record (each points back at it)"},
    {0},
};

/* Python's list: a variable-size container of mm_value items. */
static const mm_type wl_batch_list_type = {
    .name = "list",
    .size = sizeof(mm_varobject),
    .itemsize = sizeof(mm_value),
    .is_container = true,
    .traverse = mm_traverse_var_items,
    .clear = mm_clear_var_items,
    .builtin = MM_BUILTIN_LIST,
};

typedef struct wl_batch_ctx {
    mm_heap *h;
    mm_class *record_cls, *temp_cls, *field_cls;
    mm_attr a_id, a_total, a_fields, a_scratch, a_value, a_next, a_parent;
    int64_t temps, fields;
    uint64_t temporaries_made, fields_made;
} wl_batch_ctx;

/* Value of part j of record i: checkable at the end without storing anything. */
static int64_t wl_batch_part_value(int64_t i, int64_t j) { return i + j; }

/* Sum of the `count` part values of record i (what `total` must hold). */
static int64_t wl_batch_part_sum(int64_t i, int64_t count) { return count * i + count * (count - 1) / 2; }

/* A part (Temp or Field) with value and parent set, pushed on the chain whose
 * head is in `*head` (a rooted hold): *head becomes the new part. */
static bool wl_batch_push_part(wl_batch_ctx *c, mm_class *cls, mm_object *rec, mm_object **head, int64_t value) {
    mm_heap *h = c->h;
    mm_object *p = mm_instance_new(h, cls);
    if (p == NULL) return false;
    bool ok = mm_setattr(h, p, c->a_value, mm_int((intptr_t)value)) == MM_OK &&
              mm_setattr(h, p, c->a_parent, mm_ref(rec)) == MM_OK &&
              (*head == NULL || mm_setattr(h, p, c->a_next, mm_ref(*head)) == MM_OK);
    mm_xdecref(h, *head); /* p holds it now (or it is released on failure with p) */
    *head = p;
    return ok;
}

/* Record i: temporaries first (a garbage ring by the end), then kept fields.
 * `rec` and `tmp` are the caller's rooted slots; on return rec holds the new
 * record (or NULL) and tmp is NULL. */
static bool wl_batch_build(wl_batch_ctx *c, int64_t i, mm_object **rec, mm_object **tmp) {
    mm_heap *h = c->h;
    if ((*rec = mm_instance_new(h, c->record_cls)) == NULL) return false;
    bool ok = mm_setattr(h, *rec, c->a_id, mm_int((intptr_t)i)) == MM_OK;
    /* Parse: a ring of temporaries that the record points into while it is built. */
    mm_object *last = NULL;
    for (int64_t j = 0; ok && j < c->temps; j++) {
        mm_safepoint(h); /* loop step */
        ok = wl_batch_push_part(c, c->temp_cls, *rec, tmp, wl_batch_part_value(i, j));
        if (j == 0) last = *tmp; /* borrowed: the chain holds it */
        c->temporaries_made++;
    }
    if (ok && *tmp != NULL) {
        ok = mm_setattr(h, last, c->a_next, mm_ref(*tmp)) == MM_OK && /* close the ring */
             mm_setattr(h, *rec, c->a_scratch, mm_ref(*tmp)) == MM_OK;
    }
    int64_t total = 0, seen = 0;
    for (mm_object *t = *tmp; ok && t != NULL && seen < c->temps; t = mm_as_ref(mm_getattr(h, t, c->a_next)), seen++)
        total += mm_as_int(mm_getattr(h, t, c->a_value));
    ok = ok && mm_setattr(h, *rec, c->a_total, mm_int((intptr_t)total)) == MM_OK &&
         mm_setattr(h, *rec, c->a_scratch, MM_NONE) == MM_OK;
    mm_xdecref(h, *tmp); /* the ring is garbage now: it only points at itself and the record */
    *tmp = NULL;
    /* Kept fields, each pointing back at the record, chained in *tmp until linked. */
    for (int64_t j = 0; ok && j < c->fields; j++) {
        mm_safepoint(h); /* loop step */
        ok = wl_batch_push_part(c, c->field_cls, *rec, tmp, wl_batch_part_value(i, j));
        c->fields_made++;
    }
    if (ok && *tmp != NULL) ok = mm_setattr(h, *rec, c->a_fields, mm_ref(*tmp)) == MM_OK;
    mm_xdecref(h, *tmp); /* the record holds the chain now */
    *tmp = NULL;
    return ok;
}

/* Record i is intact: id, total of its temporaries, its fields and their back pointers. */
static bool wl_batch_verify(wl_batch_ctx *c, mm_object *rec, int64_t i) {
    mm_heap *h = c->h;
    if (rec == NULL || mm_as_int(mm_getattr(h, rec, c->a_id)) != i ||
        mm_as_int(mm_getattr(h, rec, c->a_total)) != wl_batch_part_sum(i, c->temps))
        return false;
    int64_t count = 0, sum = 0;
    for (mm_object *f = mm_as_ref(mm_getattr(h, rec, c->a_fields)); f != NULL && count <= c->fields;
         f = mm_as_ref(mm_getattr(h, f, c->a_next)), count++) {
        if (mm_as_ref(mm_getattr(h, f, c->a_parent)) != rec) return false;
        sum += mm_as_int(mm_getattr(h, f, c->a_value));
    }
    return count == c->fields && sum == wl_batch_part_sum(i, c->fields);
}

/* Classes and names; false with err set. */
static bool wl_batch_setup(wl_batch_ctx *c, char *err, size_t errlen) {
    mm_heap *h = c->h;
    static const char *const record_attrs[] = {"id", "total", "fields", "scratch"};
    static const char *const part_attrs[] = {"value", "next", "parent"};
    c->record_cls = mm_class_new(h, "Record", record_attrs, 4);
    c->temp_cls = mm_class_new(h, "Temp", part_attrs, 3);
    c->field_cls = mm_class_new(h, "Field", part_attrs, 3);
    if (c->record_cls == NULL || c->temp_cls == NULL || c->field_cls == NULL) {
        snprintf(err, errlen, "cannot declare classes Record, Temp and Field");
        return false;
    }
    c->a_id = mm_intern(h, "id");
    c->a_total = mm_intern(h, "total");
    c->a_fields = mm_intern(h, "fields");
    c->a_scratch = mm_intern(h, "scratch");
    c->a_value = mm_intern(h, "value");
    c->a_next = mm_intern(h, "next");
    c->a_parent = mm_intern(h, "parent");
    return true;
}

/* The batch of the header, with list, record and temporaries as roots. */
static bool wl_batch_run(mm_heap *h, const mm_knobset *ks, wl_result *r, char *err, size_t errlen) {
    const int64_t n = mm_knob_int(ks, "n");
    wl_batch_ctx c = {.h = h, .temps = mm_knob_int(ks, "temps"), .fields = mm_knob_int(ks, "fields")};
    mm_object *list = NULL, *rec = NULL, *tmp = NULL;
    mm_root_push(h, &list);
    mm_root_push(h, &rec);
    mm_root_push(h, &tmp);
    int64_t built = 0;
    bool ok = wl_batch_setup(&c, err, errlen);
    if (ok && (list = mm_new(h, &wl_batch_list_type, (size_t)n)) == NULL) {
        snprintf(err, errlen, "out of memory for a list of %lld records", (long long)n);
        ok = false;
    }
    if (ok) {
        mm_event_notify(h, MM_EVENT_BATCH_BEGIN);
        mm_value *items = mm_var_items(list);
        for (; built < n; built++) {
            if (!wl_batch_build(&c, built, &rec, &tmp)) {
                snprintf(err, errlen, "out of memory (or a refused attribute) at record %lld", (long long)built);
                ok = false;
                break;
            }
            mm_store(h, list, &items[built], mm_ref(rec));
            mm_decref(h, rec); /* the list holds it now */
            rec = NULL;
            mm_safepoint(h); /* the unit's end */
        }
        mm_event_notify(h, MM_EVENT_BATCH_END); /* sent on failure too: the policy must see the pair */
    }
    for (int64_t i = 0; ok && i < n; i++) {
        if (!wl_batch_verify(&c, mm_as_ref(mm_var_items(list)[i]), i)) {
            snprintf(err, errlen, "record %lld is not intact after the batch", (long long)i);
            ok = false;
        }
    }
    mm_xdecref(h, rec);
    mm_xdecref(h, list);
    mm_root_pop(h, 3);
    r->ops = (double)built;
    wl_counter(r, "records", (double)built);
    wl_counter(r, "temporaries", (double)c.temporaries_made);
    wl_counter(r, "fields", (double)c.fields_made);
    return ok;
}

const mm_workload wl_batch = {
    .name = "batch",
    .summary = "one batch of n records (temporaries in cycles with each, fields pointing back), kept, then dropped",
    .knobs = wl_batch_knobs,
    .run = wl_batch_run,
};
