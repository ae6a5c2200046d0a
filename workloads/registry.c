/* registry.c — one line per workload. */
#include <stdio.h>
#include <string.h>

#include "workload.h"

extern const mm_workload wl_list;
extern const mm_workload wl_ring;
extern const mm_workload wl_tree;
extern const mm_workload wl_trace;
extern const mm_workload wl_churn;
extern const mm_workload wl_instances;
extern const mm_workload wl_cache;
extern const mm_workload wl_batch;
extern const mm_workload wl_request;
extern const mm_workload wl_prefork;
extern const mm_workload wl_largefile;
extern const mm_workload wl_script;
extern const mm_workload wl_cycles;

const mm_workload *const wl_workloads[] = {
    &wl_list,
    &wl_ring,
    &wl_tree,
    &wl_trace,
    &wl_churn,
    &wl_instances,
    &wl_cache,
    &wl_batch,
    &wl_request,
    &wl_prefork,
    &wl_largefile,
    &wl_cycles,
    &wl_script,
    NULL,
};

const mm_workload *wl_find(const char *name) {
    for (int i = 0; wl_workloads[i]; i++)
        if (strcmp(wl_workloads[i]->name, name) == 0) return wl_workloads[i];
    return NULL;
}

void wl_counter(wl_result *r, const char *name, double value) {
    if (r->ncounters >= WL_MAX_COUNTERS) return;
    snprintf(r->counters[r->ncounters].name, sizeof r->counters[0].name, "%s", name);
    r->counters[r->ncounters].value = value;
    r->ncounters++;
}
