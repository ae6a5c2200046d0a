/* request.h — the request workload's application and one request, shared with
 * `prefork` (the same requests, served by forked workers).
 *
 * Contract: wl_req_declare makes the classes and names; wl_req_build_app the
 * long-lived application state rooted at c->app (the caller roots &c->app);
 * wl_req_serve one request of request.c's steps 1-6. Failures set c->failed
 * (allocation) or return false with one line in err. Private to workloads/.
 */
#ifndef WL_REQUEST_H
#define WL_REQUEST_H

#include "workload.h"

/* Everything a request needs, passed as one pointer. */
typedef struct wl_req_ctx {
    mm_heap *h;
    mm_class *request, *queryset, *record, *relation, *row, *response, *model;
    mm_attr a_id, a_params, a_headers, a_queryset, a_response, a_request, a_results, a_model, a_data,
        a_relations, a_related, a_owner, a_rel_id, a_transformed_id, a_summary, a_relation_count, a_status,
        a_body, a_count, a_name, a_pk, a_next;
    int64_t records, cycles;
    mm_object *app;      /* rooted: list [models list, param names, header names] */
    mm_object *models;   /* borrowed from app */
    int64_t nmodels;
    uint64_t objects;    /* objects allocated by the workload */
    bool failed;         /* an allocation or attribute write failed */
    bool spread;         /* records of request k refer to models k*records.. (prefork: the
                            requests read across the whole state); false: models 0..records-1 */
} wl_req_ctx;

bool wl_req_declare(wl_req_ctx *c);
void wl_req_build_app(wl_req_ctx *c, int64_t nmodels);
bool wl_req_serve(wl_req_ctx *c, mm_object **req, int64_t k, mm_object **keep, char *err, size_t errlen);

#endif
