/* request.c — `request`: a web server answering Django-like requests.
 *
 * Contract: modelled on the Django request of Instagram's GC story (the seed's
 * simulate_django_request). At start an application state is built and kept to
 * the end: `appstate` instances (each with a name string) in a list, plus the
 * interned parameter and header names, so full collections have something old
 * to scan and gc.freeze() has something to freeze. Then `requests` requests run
 * one after another; request k:
 *   1. parsing: a Request instance with a params dict (10 entries) and a
 *      headers dict (20 entries), keys from the interned names, values fresh strings;
 *   2. query: a QuerySet holding a list of `records` Records, each with a data
 *      string, a list of 5 Relations (each an id and a string) and a `related`
 *      pointer into the application state (a cached model object);
 *   3. transform: a walk over the records building one Row per record
 *      (transformed id, summary string, relation count);
 *   4. response: a Response with the rows and their serialized strings;
 *   5. cycles: with `cycles` > 0 the QuerySet points back at its Request and
 *      the first `cycles` Records point back at their QuerySet, so the whole
 *      request is cyclic garbage that only a cycle collector reclaims;
 *   6. the answer is checked (row count, sum of transformed ids) and every hold
 *      of the request is dropped; then mm_event_notify(REQUEST_END). After the
 *      first `warmup` requests, mm_event_notify(WARMUP_END).
 * Dicts are compact tables built from our own container type (keys and values
 * alternating, lookup by key identity, as interned names compare in CPython);
 * attributes of instances go through mm_setattr, so the cell's layout decides
 * how they are stored.
 *
 * Latency: requests after the warm-up are measured. Simple latency = steps 1–6
 * up to the drop (a collection that fires inside counts); busy time adds the
 * REQUEST_END event (policy=manual's collections run there, after the answer).
 * Both are kept per measured request (16 bytes each, outside the heap) and,
 * after the last request, replayed on a fixed-rate schedule (meter.h) into the
 * harness's sink: `rate` requests per second, or with rate=0 one arrival per
 * 1.25 × the measured requests' mean busy time, so every cell runs at 80% load
 * of its own capacity (DaCapo too spreads arrivals over the run's own
 * duration); the warm-up would calibrate badly, as collections of old
 * generations grow after it. ops = requests; counters `requests_per_s`
 * (measured requests over their wall time), `req_rate_per_s` (the schedule's
 * rate), `req_objects` (objects per request), `warmup_end_ms` (when WARMUP_END
 * was sent, from the start of run(): the pause log's pauses after it are the
 * measured requests') and `gc_gen2_measured` (full collections after it).
 *
 * Invariant: every object the program still needs is reachable from a rooted
 * hold (`app`, `req`) at every allocation: each new object is linked into the
 * rooted graph before the next allocation.
 * Every hold is released and every root popped on return, on success and failure.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meter.h"
#include "request.h"

/* Entries of the request's params and headers dicts, as in the seed. */
#define WL_REQ_PARAMS 10
#define WL_REQ_HEADERS 20
/* Relations per record: the seed's `range(5)`. */
#define WL_REQ_RELATIONS 5
/* The record's data is its name repeated, as the seed's f'database_record_{i}' * 10. */
#define WL_REQ_DATA_REPEAT 10
/* Summary length: the seed's result['data'][:50]. */
#define WL_REQ_SUMMARY_LEN 50
/* Longest string the workload builds (data is ~10 × 24 bytes). */
#define WL_REQ_STR_MAX 512
/* Calibrated schedule: one arrival per 1.25 mean service times (80% load), so
 * queues form only behind requests slower than usual. */
#define WL_REQ_LOAD_HEADROOM 1.25
/* Bounds of the knobs: beyond them a run takes hours or memory runs out. */
#define WL_REQ_MAX_REQUESTS 100000000LL
#define WL_REQ_MAX_RECORDS 100000LL
#define WL_REQ_MAX_APPSTATE 100000000LL
#define WL_REQ_MAX_RATE 1000000000LL

static const mm_knob_desc wl_request_knobs[] = {
    {"requests", MM_KNOB_COUNT, "20000", 1, WL_REQ_MAX_REQUESTS, "requests served, warm-up included"},
    {"warmup", MM_KNOB_COUNT, "1000", 0, WL_REQ_MAX_REQUESTS, "unmeasured requests before WARMUP_END (< requests)"},
    {"records", MM_KNOB_COUNT, "100", 1, WL_REQ_MAX_RECORDS, "query-result records per request"},
    {"cycles", MM_KNOB_COUNT, "4", 0, WL_REQ_MAX_RECORDS, "records pointing back at their queryset (0: no cycles at all)"},
    {"appstate", MM_KNOB_COUNT, "5000", 1, WL_REQ_MAX_APPSTATE, "long-lived application objects built at start"},
    {"rate", MM_KNOB_COUNT, "0", 0, WL_REQ_MAX_RATE, "arrivals per second for metered latency; 0: 80% of the measured capacity"},
    {0},
};

/* A string: raw bytes after the varobject header, no references, never tracked. */
static const mm_type wl_req_str_type = {
    .name = "str",
    .size = sizeof(mm_varobject),
    .itemsize = 1,
    .is_container = false,
};

/* A list of values (fixed length, filled in order): tracked, like CPython's list. */
static const mm_type wl_req_list_type = {
    .name = "list",
    .size = sizeof(mm_varobject),
    .itemsize = sizeof(mm_value),
    .is_container = true,
    .traverse = mm_traverse_var_items,
    .clear = mm_clear_var_items,
    .builtin = MM_BUILTIN_LIST,
};

/* A compact dict: items are key, value, key, value, ...; same reference shape as a list. */
static const mm_type wl_req_dict_type = {
    .name = "dict",
    .size = sizeof(mm_varobject),
    .itemsize = sizeof(mm_value),
    .is_container = true,
    .traverse = mm_traverse_var_items,
    .clear = mm_clear_var_items,
    .builtin = MM_BUILTIN_DICT,
};

/* The classes' attribute lists, in one place so slots can size each class. */
static const char *const wl_req_request_attrs[] = {"id", "params", "headers", "queryset", "response"};
static const char *const wl_req_queryset_attrs[] = {"request", "results", "model"};
static const char *const wl_req_record_attrs[] = {"id", "data", "relations", "related", "owner"};
static const char *const wl_req_relation_attrs[] = {"rel_id", "data"};
static const char *const wl_req_row_attrs[] = {"transformed_id", "summary", "relation_count"};
static const char *const wl_req_response_attrs[] = {"status", "data", "body", "count"};
static const char *const wl_req_model_attrs[] = {"name", "pk", "next"};

#define WL_REQ_NATTRS(a) ((uint32_t)(sizeof(a) / sizeof((a)[0])))


/* One place that counts objects and notes allocation failure. */
static mm_object *wl_req_new(wl_req_ctx *c, const mm_type *t, size_t n) {
    mm_object *o = mm_new(c->h, t, n);
    if (MM_UNLIKELY(o == NULL)) c->failed = true;
    else c->objects++;
    return o;
}

/* Instances come from the layout; the same bookkeeping as wl_req_new. */
static mm_object *wl_req_instance(wl_req_ctx *c, mm_class *cls) {
    mm_object *o = mm_instance_new(c->h, cls);
    if (MM_UNLIKELY(o == NULL)) c->failed = true;
    else c->objects++;
    return o;
}

/* A string object from a format: the per-request text the seed builds with f-strings. */
static mm_object *wl_req_str(wl_req_ctx *c, const char *fmt, ...) {
    char buf[WL_REQ_STR_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof buf) n = (int)sizeof buf - 1;
    mm_object *s = wl_req_new(c, &wl_req_str_type, (size_t)n);
    if (s != NULL) memcpy(mm_var_items(s), buf, (size_t)n);
    return s;
}

/* obj.attr = v, noting a refusal by the layout as a failure. */
static void wl_req_set(wl_req_ctx *c, mm_object *obj, mm_attr a, mm_value v) {
    if (MM_UNLIKELY(mm_setattr(c->h, obj, a, v) != MM_OK)) c->failed = true;
}

/* obj.attr = a new object, consuming the caller's reference (NULL: failure noted). */
static void wl_req_set_new(wl_req_ctx *c, mm_object *obj, mm_attr a, mm_object *child) {
    if (child == NULL) return;
    wl_req_set(c, obj, a, mm_ref(child));
    mm_decref(c->h, child);
}

/* items[i] = a new object, consuming the caller's reference: the list.append of the seed. */
static void wl_req_put_new(wl_req_ctx *c, mm_object *list, size_t i, mm_object *child) {
    if (child == NULL) return;
    mm_store(c->h, list, &mm_var_items(list)[i], mm_ref(child));
    mm_decref(c->h, child);
}

/* A dict of n entries keyed by the interned names in `keys`, values "<prefix><i>".
 * Linked into holder.attr before the values are made, so it is reachable throughout. */
static void wl_req_dict(wl_req_ctx *c, mm_object *holder, mm_attr attr, mm_object *keys, int n, const char *prefix) {
    mm_object *d = wl_req_new(c, &wl_req_dict_type, 2 * (size_t)n);
    if (d == NULL) return;
    wl_req_set(c, holder, attr, mm_ref(d));
    mm_decref(c->h, d); /* holder owns it; d is borrowed from here on */
    for (int i = 0; i < n && !c->failed; i++) {
        mm_store(c->h, d, &mm_var_items(d)[2 * i], mm_var_items(keys)[i]);
        wl_req_put_new(c, d, 2 * (size_t)i + 1, wl_req_str(c, "%s%d", prefix, i));
        mm_safepoint(c->h); /* loop step */
    }
}

/* app[slot] = a list of n names "<prefix><i>": the interned keys of the
 * application state. Linked before it is filled, so it is reachable throughout. */
static void wl_req_names(wl_req_ctx *c, size_t slot, int n, const char *prefix) {
    mm_object *l = wl_req_new(c, &wl_req_list_type, (size_t)n);
    if (l == NULL) return;
    wl_req_put_new(c, c->app, slot, l); /* borrowed from here on */
    for (int i = 0; i < n && !c->failed; i++) wl_req_put_new(c, l, (size_t)i, wl_req_str(c, "%s%d", prefix, i));
}

/* The long-lived application state: models chained to each other and listed,
 * plus the interned param and header names. Rooted through c->app. */
void wl_req_build_app(wl_req_ctx *c, int64_t nmodels) {
    if ((c->app = wl_req_new(c, &wl_req_list_type, 3)) == NULL) return;
    if ((c->models = wl_req_new(c, &wl_req_list_type, (size_t)nmodels)) == NULL) return;
    wl_req_put_new(c, c->app, 0, c->models); /* borrowed from app from here on */
    c->nmodels = nmodels;
    mm_object *prev = NULL;
    for (int64_t i = 0; i < nmodels && !c->failed; i++) {
        mm_safepoint(c->h); /* loop step */
        mm_object *m = wl_req_instance(c, c->model);
        if (m == NULL) return;
        wl_req_put_new(c, c->models, (size_t)i, m); /* the list owns m; borrowed below */
        wl_req_set(c, m, c->a_pk, mm_int((intptr_t)i));
        wl_req_set_new(c, m, c->a_name, wl_req_str(c, "model_%lld", (long long)i));
        if (prev != NULL) wl_req_set(c, m, c->a_next, mm_ref(prev));
        prev = m;
    }
    if (!c->failed) wl_req_names(c, 1, WL_REQ_PARAMS, "param_");
    if (!c->failed) wl_req_names(c, 2, WL_REQ_HEADERS, "header_");
}

/* Step 2 of the header: one record with its relations, linked at results[i]. */
static void wl_req_record(wl_req_ctx *c, mm_object *qs, mm_object *results, int64_t k, int64_t i) {
    mm_object *rec = wl_req_instance(c, c->record);
    if (rec == NULL) return;
    wl_req_put_new(c, results, (size_t)i, rec); /* borrowed from here on */
    wl_req_set(c, rec, c->a_id, mm_int((intptr_t)i));
    char name[48];
    snprintf(name, sizeof name, "database_record_%lld", (long long)i);
    wl_req_set_new(c, rec, c->a_data, wl_req_str(c, "%s%s%s%s%s%s%s%s%s%s", name, name, name, name, name, name, name,
                                                 name, name, name));
    mm_object *rels = wl_req_new(c, &wl_req_list_type, WL_REQ_RELATIONS);
    if (rels == NULL) return;
    wl_req_set_new(c, rec, c->a_relations, rels);
    for (int j = 0; j < WL_REQ_RELATIONS && !c->failed; j++) {
        mm_safepoint(c->h); /* loop step */
        mm_object *rel = wl_req_instance(c, c->relation);
        if (rel == NULL) return;
        wl_req_put_new(c, rels, (size_t)j, rel);
        wl_req_set(c, rel, c->a_rel_id, mm_int(j));
        wl_req_set_new(c, rel, c->a_data, wl_req_str(c, "rel_%d", j));
    }
    const int64_t related = c->spread ? (k * c->records + i) % c->nmodels : i % c->nmodels;
    wl_req_set(c, rec, c->a_related, mm_var_items(c->models)[(size_t)related]);
    if (i < c->cycles) wl_req_set(c, rec, c->a_owner, mm_ref(qs));
}

/* Steps 3–4: walk the records, build a Row per record and its serialized string
 * into the response. Returns the sum of transformed ids (the answer's checksum). */
static int64_t wl_req_respond(wl_req_ctx *c, mm_object *req, mm_object *results) {
    mm_object *resp = wl_req_instance(c, c->response);
    if (resp == NULL) return 0;
    wl_req_set_new(c, req, c->a_response, resp); /* borrowed from here on */
    wl_req_set_new(c, resp, c->a_status, wl_req_str(c, "success"));
    mm_object *rows = wl_req_new(c, &wl_req_list_type, (size_t)c->records);
    if (rows == NULL) return 0;
    wl_req_set_new(c, resp, c->a_data, rows);
    mm_object *body = wl_req_new(c, &wl_req_list_type, (size_t)c->records);
    if (body == NULL) return 0;
    wl_req_set_new(c, resp, c->a_body, body);
    int64_t sum = 0;
    for (int64_t i = 0; i < c->records && !c->failed; i++) {
        mm_safepoint(c->h); /* loop step */
        mm_object *rec = mm_as_ref(mm_var_items(results)[i]);
        mm_object *data = mm_as_ref(mm_getattr(c->h, rec, c->a_data));
        mm_object *rels = mm_as_ref(mm_getattr(c->h, rec, c->a_relations));
        const intptr_t tid = 2 * mm_as_int(mm_getattr(c->h, rec, c->a_id));
        const size_t dlen = ((mm_varobject *)data)->nitems;
        const int slen = (int)(dlen < WL_REQ_SUMMARY_LEN ? dlen : WL_REQ_SUMMARY_LEN);
        const size_t nrel = ((mm_varobject *)rels)->nitems;
        mm_object *row = wl_req_instance(c, c->row);
        if (row == NULL) return 0;
        wl_req_put_new(c, rows, (size_t)i, row);
        wl_req_set(c, row, c->a_transformed_id, mm_int(tid));
        wl_req_set_new(c, row, c->a_summary, wl_req_str(c, "%.*s", slen, (const char *)mm_var_items(data)));
        wl_req_set(c, row, c->a_relation_count, mm_int((intptr_t)nrel));
        wl_req_put_new(c, body, (size_t)i,
                       wl_req_str(c, "{\"transformed_id\": %lld, \"relation_count\": %zu}", (long long)tid, nrel));
        sum += tid;
    }
    wl_req_set(c, resp, c->a_count, mm_int((intptr_t)c->records));
    return sum;
}

/* Steps 1–6 of the header for request k; false (err set) when it went wrong.
 * *req is the rooted hold of the request; it is NULL again on return. With
 * keep != NULL, *keep is a new reference to the response (a cache's entry). */
bool wl_req_serve(wl_req_ctx *c, mm_object **req, int64_t k, mm_object **keep, char *err, size_t errlen) {
    bool ok = false;
    if ((*req = wl_req_instance(c, c->request)) == NULL) goto out;
    wl_req_set(c, *req, c->a_id, mm_int((intptr_t)k));
    mm_object *param_names = mm_as_ref(mm_var_items(c->app)[1]), *header_names = mm_as_ref(mm_var_items(c->app)[2]);
    wl_req_dict(c, *req, c->a_params, param_names, WL_REQ_PARAMS, "value_");
    wl_req_dict(c, *req, c->a_headers, header_names, WL_REQ_HEADERS, "val_");
    mm_object *qs = c->failed ? NULL : wl_req_instance(c, c->queryset);
    if (qs == NULL) goto out;
    wl_req_set_new(c, *req, c->a_queryset, qs); /* borrowed from here on */
    wl_req_set(c, qs, c->a_model, mm_var_items(c->models)[(size_t)(k % c->nmodels)]);
    if (c->cycles > 0) wl_req_set(c, qs, c->a_request, mm_ref(*req));
    mm_object *results = wl_req_new(c, &wl_req_list_type, (size_t)c->records);
    if (results == NULL) goto out;
    wl_req_set_new(c, qs, c->a_results, results);
    for (int64_t i = 0; i < c->records && !c->failed; i++) {
        mm_safepoint(c->h); /* loop step */
        wl_req_record(c, qs, results, k, i);
    }
    const int64_t sum = c->failed ? 0 : wl_req_respond(c, *req, results);
    if (c->failed) goto out;
    const int64_t want = c->records * (c->records - 1); /* sum of 2i over i < records */
    mm_object *resp = mm_as_ref(mm_getattr(c->h, *req, c->a_response));
    const intptr_t count = mm_as_int(mm_getattr(c->h, resp, c->a_count));
    if (sum != want || count != c->records) {
        snprintf(err, errlen, "request %lld answered %lld rows summing to %lld, expected %lld and %lld", (long long)k,
                 (long long)count, (long long)sum, (long long)c->records, (long long)want);
        goto out;
    }
    ok = true;
    if (keep != NULL) {
        mm_incref(resp);
        *keep = resp;
    }
out:
    if (c->failed) snprintf(err, errlen, "out of memory (or an attribute refused) in request %lld", (long long)k);
    mm_xdecref(c->h, *req);
    *req = NULL;
    return ok && !c->failed;
}

/* One measured request: its simple latency and the time it kept the server. */
typedef struct wl_req_time {
    uint64_t response_ns, busy_ns;
} wl_req_time;

/* The schedule's interval: 1/rate, or with rate=0 the mean busy time × the
 * headroom (80% load); at least 1 ns, so a clock too coarse to see a request
 * still gives a schedule. */
static double wl_req_interval(const wl_req_time *t, size_t n, int64_t rate) {
    double interval = 0;
    if (rate > 0) {
        interval = 1e9 / (double)rate;
    } else if (n > 0) {
        double busy = 0;
        for (size_t i = 0; i < n; i++) busy += (double)t[i].busy_ns;
        interval = WL_REQ_LOAD_HEADROOM * busy / (double)n;
    }
    return interval >= 1 ? interval : 1;
}

/* Cross-knob rules, checked by the CLI before any heap exists (exit 2) and again by run(). */
static bool wl_request_check(const mm_knobset *ks, char *err, size_t errlen) {
    const int64_t requests = mm_knob_int(ks, "requests"), warmup = mm_knob_int(ks, "warmup");
    if (warmup >= requests) {
        snprintf(err, errlen, "knob 'warmup' must be < requests (got warmup=%lld requests=%lld)", (long long)warmup,
                 (long long)requests);
        return false;
    }
    if (mm_knob_int(ks, "cycles") > mm_knob_int(ks, "records")) {
        snprintf(err, errlen, "knob 'cycles' must be <= records (got cycles=%lld records=%lld)",
                 (long long)mm_knob_int(ks, "cycles"), (long long)mm_knob_int(ks, "records"));
        return false;
    }
    return true;
}

/* Declares the classes and interns the attribute names; false if a class cannot be made. */
bool wl_req_declare(wl_req_ctx *c) {
    mm_heap *h = c->h;
    c->request = mm_class_new(h, "Request", wl_req_request_attrs, WL_REQ_NATTRS(wl_req_request_attrs));
    c->queryset = mm_class_new(h, "QuerySet", wl_req_queryset_attrs, WL_REQ_NATTRS(wl_req_queryset_attrs));
    c->record = mm_class_new(h, "Record", wl_req_record_attrs, WL_REQ_NATTRS(wl_req_record_attrs));
    c->relation = mm_class_new(h, "Relation", wl_req_relation_attrs, WL_REQ_NATTRS(wl_req_relation_attrs));
    c->row = mm_class_new(h, "Row", wl_req_row_attrs, WL_REQ_NATTRS(wl_req_row_attrs));
    c->response = mm_class_new(h, "Response", wl_req_response_attrs, WL_REQ_NATTRS(wl_req_response_attrs));
    c->model = mm_class_new(h, "Model", wl_req_model_attrs, WL_REQ_NATTRS(wl_req_model_attrs));
    const struct {
        mm_attr *id;
        const char *name;
    } names[] = {
        {&c->a_id, "id"}, {&c->a_params, "params"}, {&c->a_headers, "headers"}, {&c->a_queryset, "queryset"},
        {&c->a_response, "response"}, {&c->a_request, "request"}, {&c->a_results, "results"},
        {&c->a_model, "model"}, {&c->a_data, "data"}, {&c->a_relations, "relations"}, {&c->a_related, "related"},
        {&c->a_owner, "owner"}, {&c->a_rel_id, "rel_id"}, {&c->a_transformed_id, "transformed_id"},
        {&c->a_summary, "summary"}, {&c->a_relation_count, "relation_count"}, {&c->a_status, "status"},
        {&c->a_body, "body"}, {&c->a_count, "count"}, {&c->a_name, "name"}, {&c->a_pk, "pk"}, {&c->a_next, "next"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) *names[i].id = mm_intern(h, names[i].name);
    return c->request && c->queryset && c->record && c->relation && c->row && c->response && c->model;
}

/* Full collections so far: the LLM-server question is how many run after the warm-up. */
static uint64_t wl_req_gen2(mm_heap *h) {
    mm_stats s;
    mm_get_stats(h, &s);
    return s.collections[2];
}

/* The header's whole run: application state, warm-up, measured requests. */
static bool wl_request_run(mm_heap *h, const mm_knobset *ks, wl_result *r, char *err, size_t errlen) {
    if (!wl_request_check(ks, err, errlen)) return false;
    const uint64_t t_start = wl_now_ns();
    const int64_t requests = mm_knob_int(ks, "requests"), warmup = mm_knob_int(ks, "warmup"),
                  rate = mm_knob_int(ks, "rate");
    wl_req_ctx c = {.h = h, .records = mm_knob_int(ks, "records"), .cycles = mm_knob_int(ks, "cycles")};
    if (!wl_req_declare(&c)) {
        snprintf(err, errlen, "cannot declare the request classes");
        return false;
    }
    mm_object *req = NULL;
    mm_root_push(h, &c.app);
    mm_root_push(h, &req);
    bool ok = false;
    wl_req_time *times = NULL;
    wl_req_build_app(&c, mm_knob_int(ks, "appstate"));
    if (c.failed) {
        snprintf(err, errlen, "out of memory building the application state");
        goto out;
    }
    const uint64_t app_objects = c.objects;
    const size_t measured = (size_t)(requests - warmup);
    times = malloc(measured * sizeof *times);
    if (times == NULL) {
        snprintf(err, errlen, "out of memory for %zu request times", measured);
        goto out;
    }
    uint64_t t_first = 0, t_last = 0, gen2_at_warmup = 0;
    for (int64_t k = 0; k < requests; k++) {
        if (k == warmup) {
            mm_event_notify(h, MM_EVENT_WARMUP_END);
            t_first = wl_now_ns();
            gen2_at_warmup = wl_req_gen2(h);
        }
        const uint64_t t0 = wl_now_ns();
        if (!wl_req_serve(&c, &req, k, NULL, err, errlen)) goto out;
        mm_safepoint(h); /* the unit's end */
        const uint64_t t1 = wl_now_ns();
        mm_event_notify(h, MM_EVENT_REQUEST_END);
        const uint64_t t2 = wl_now_ns();
        if (k >= warmup) times[k - warmup] = (wl_req_time){t1 - t0, t2 - t0};
        t_last = t2;
    }
    ok = true;
    const double interval_ns = wl_req_interval(times, measured, rate);
    wl_meter meter;
    wl_meter_init(&meter, interval_ns);
    for (size_t i = 0; i < measured; i++)
        wl_latency_record(r, times[i].response_ns, wl_meter_next(&meter, times[i].response_ns, times[i].busy_ns));
    const double measured_s = (double)(t_last - t_first) / 1e9;
    wl_counter(r, "requests_per_s", measured_s > 0 ? (double)measured / measured_s : 0);
    wl_counter(r, "req_rate_per_s", 1e9 / interval_ns);
    wl_counter(r, "req_objects", (double)(c.objects - app_objects) / (double)requests);
    wl_counter(r, "app_objects", (double)app_objects);
    wl_counter(r, "warmup_end_ms", (double)(t_first - t_start) / 1e6);
    wl_counter(r, "gc_gen2_measured", (double)(wl_req_gen2(h) - gen2_at_warmup));

out:
    free(times);
    mm_xdecref(h, req);
    mm_xdecref(h, c.app);
    c.app = req = NULL;
    mm_root_pop(h, 2);
    r->ops = (double)requests;
    return ok;
}

const mm_workload wl_request = {
    .name = "request",
    .summary = "Django-like requests: params/headers dicts, 100 records with relations, transform, response, "
               "cycles; per-request simple and metered latency",
    .knobs = wl_request_knobs,
    .check = wl_request_check,
    .run = wl_request_run,
};
