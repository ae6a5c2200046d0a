/* prefork.c — `prefork`: a pre-forking server (gunicorn, uWSGI, Instagram's
 * Django) and the copy-on-write of its shared heap.
 *
 * Contract: the parent builds the `request` workload's long-lived application
 * state (`appstate` models with their name strings, request.c), then sends
 * WARMUP_END: policy=freeze runs gc.freeze() there, immortal=1 makes the state
 * immortal, so both happen before the fork as a pre-fork server does them.
 * Then it forks `workers` children. Each child serves `requests` requests of
 * the request workload's shape (reading the shared state: each record's
 * `related` model, request k's records models k*records.., so the workers read
 * across the whole state as a server's requests do; each queryset's model) with REQUEST_END after each, and
 * keeps the responses of its last `cache` requests (a per-worker cache: the
 * long-lived survivors a real server accumulates, which is what eventually
 * makes its collector run full collections over the inherited heap). The
 * harness samples each child's Private_Dirty, Shared and Pss from
 * /proc/PID/smaps_rollup (workload.h's worker sink) while it serves and once
 * more when it is done, before it exits.
 *
 * What writes an inherited page, and so makes it private to one worker: a
 * refcount change of a shared object (the `related` pointers: incref and
 * decref of models), and a collection that examines inherited objects
 * (gc_refs and links in their pre-headers: a full collection rewrites every
 * tracked object's). Frozen objects are never examined; immortal ones have
 * their counts left alone. `none` writes neither: its private memory is the
 * floor (what the workers allocate themselves, plus the malloc's own pages).
 *
 * Steps of run():
 *   1. declare the classes, build the application state (rooted at c.app);
 *   2. WARMUP_END (the policy's freeze, immortality);
 *   3. fork the workers; each reports its pid to the harness (START);
 *   4. in each worker: no observer (its pauses are not recorded: the harness's
 *      recorders are the parent's), serve, send one result record on its pipe,
 *      wait until the parent closes its "go" pipe, _exit;
 *   5. the parent reads every result, has the harness take each worker's final
 *      sample (END), releases the workers and reaps them.
 * ops = requests served by all workers. Counters: requests_total, app_objects,
 * worker_gc_gen2 (full collections in all workers, summed) and
 * worker_gc_collections (all their collections).
 *
 * Not modelled: the page sharing of the allocator's own metadata beyond what
 * the real malloc does (it is the real malloc), kernel same-page merging,
 * worker recycling (max_requests). Worker pauses and latencies are not
 * recorded (only the parent's, building the state).
 * Invariant: every worker is reaped before run() returns, on success and
 * failure; every hold is released and every root popped in the parent.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "request.h"

/* Bounds of the knobs: beyond them the machine runs out of processes or memory. */
#define WL_PF_MAX_WORKERS 64LL
#define WL_PF_MAX_REQUESTS 100000000LL
#define WL_PF_MAX_APPSTATE 100000000LL
#define WL_PF_MAX_RECORDS 100000LL
#define WL_PF_MAX_CACHE 1000000LL
/* One line of a worker's error, carried back in its result record. */
#define WL_PF_ERR 200

static const mm_knob_desc wl_prefork_knobs[] = {
    {"appstate", MM_KNOB_COUNT, "1m", 1, WL_PF_MAX_APPSTATE, "long-lived application objects built by the parent"},
    {"workers", MM_KNOB_COUNT, "2", 1, WL_PF_MAX_WORKERS, "worker processes forked after the warm-up"},
    {"requests", MM_KNOB_COUNT, "1000", 1, WL_PF_MAX_REQUESTS, "requests served by each worker"},
    {"records", MM_KNOB_COUNT, "100", 1, WL_PF_MAX_RECORDS, "query-result records per request"},
    {"cycles", MM_KNOB_COUNT, "4", 0, WL_PF_MAX_RECORDS, "records pointing back at their queryset (0: no cycles)"},
    {"cache", MM_KNOB_COUNT, "200", 0, WL_PF_MAX_CACHE, "responses each worker keeps (its last `cache` requests)"},
    {0},
};

/* What a worker sends back on its pipe, once. */
typedef struct wl_pf_result {
    int ok;
    int64_t served;
    uint64_t gen2, collections;
    char err[WL_PF_ERR];
} wl_pf_result;

/* One worker as the parent sees it. */
typedef struct wl_pf_worker {
    pid_t pid;
    int result_fd; /* read end of the worker's result pipe */
    int go_fd;     /* write end of the pipe the worker waits on; closing it lets it exit */
} wl_pf_worker;

/* Cross-knob rules, checked before anything runs (exit 2) and again by run(). */
static bool wl_prefork_check(const mm_knobset *ks, char *err, size_t errlen) {
    if (mm_knob_int(ks, "cycles") > mm_knob_int(ks, "records")) {
        snprintf(err, errlen, "knob 'cycles' must be <= records (got cycles=%lld records=%lld)",
                 (long long)mm_knob_int(ks, "cycles"), (long long)mm_knob_int(ks, "records"));
        return false;
    }
    return true;
}

/* write() all of a small record, across interruptions. */
static bool wl_pf_write_all(int fd, const void *p, size_t n) {
    const char *b = p;
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        b += w;
        n -= (size_t)w;
    }
    return true;
}

/* read() all of a small record; false at EOF or error (the worker died). */
static bool wl_pf_read_all(int fd, void *p, size_t n) {
    char *b = p;
    while (n > 0) {
        ssize_t r = read(fd, b, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        b += r;
        n -= (size_t)r;
    }
    return true;
}

/* Full and all collections of this heap so far (a worker subtracts the parent's). */
static void wl_pf_gc_totals(mm_heap *h, uint64_t *gen2, uint64_t *all) {
    mm_stats s;
    mm_get_stats(h, &s);
    *gen2 = s.collections[2];
    *all = 0;
    for (int g = 0; g < MM_MAX_GENERATIONS; g++) *all += s.collections[g];
}

/* Step 4: one worker's life, in the child. Never returns. */
static void wl_pf_worker_main(wl_req_ctx *c, int64_t requests, int64_t cache, int result_fd, int go_fd) {
    mm_heap *h = c->h;
    mm_set_observer(h, NULL, NULL); /* the recorders are the parent's */
    wl_pf_result res = {0};
    uint64_t gen2_0, coll_0;
    wl_pf_gc_totals(h, &gen2_0, &coll_0);
    mm_object *req = NULL, *kept = NULL, *ring = NULL;
    mm_root_push(h, &req);
    mm_root_push(h, &ring);
    res.ok = 1;
    if (cache > 0) {
        static const mm_type ring_type = {.name = "list", .size = sizeof(mm_varobject), .itemsize = sizeof(mm_value),
                                          .is_container = true, .traverse = mm_traverse_var_items,
                                          .clear = mm_clear_var_items};
        ring = mm_new(h, &ring_type, (size_t)cache);
        if (ring == NULL) {
            res.ok = 0;
            snprintf(res.err, sizeof res.err, "worker %ld: out of memory for its cache", (long)getpid());
        }
    }
    for (int64_t k = 0; res.ok && k < requests; k++) {
        if (!wl_req_serve(c, &req, k, ring ? &kept : NULL, res.err, sizeof res.err)) {
            res.ok = 0;
            break;
        }
        if (ring != NULL) {
            mm_store(h, ring, &mm_var_items(ring)[k % cache], mm_ref(kept));
            mm_decref(h, kept);
            kept = NULL;
        }
        mm_event_notify(h, MM_EVENT_REQUEST_END);
        res.served = k + 1;
    }
    uint64_t gen2_1, coll_1;
    wl_pf_gc_totals(h, &gen2_1, &coll_1);
    res.gen2 = gen2_1 - gen2_0;
    res.collections = coll_1 - coll_0;
    wl_pf_write_all(result_fd, &res, sizeof res);
    char b;
    while (read(go_fd, &b, 1) < 0 && errno == EINTR) {
    } /* EOF: the parent took the final sample */
    _exit(res.ok ? 0 : 1);
}

/* Step 5 for one worker, and its reaping; false with err when it failed. */
static bool wl_pf_finish(wl_result *r, wl_pf_worker *w, wl_pf_result *res, char *err, size_t errlen) {
    bool got = wl_pf_read_all(w->result_fd, res, sizeof *res);
    if (got) wl_worker(r, (int)w->pid, WL_WORKER_END);
    close(w->result_fd);
    close(w->go_fd);
    int status = 0;
    while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!got) {
        snprintf(err, errlen, "worker %ld died before reporting (status %d)", (long)w->pid, status);
        return false;
    }
    if (!res->ok) {
        snprintf(err, errlen, "%s", res->err);
        return false;
    }
    return true;
}

/* Step 3 for one worker: pipes, fork, the child's life. False with err. */
static bool wl_pf_spawn(wl_req_ctx *c, wl_result *r, int64_t requests, int64_t cache, wl_pf_worker *all,
                        int64_t index, char *err, size_t errlen) {
    wl_pf_worker *w = &all[index];
    int res_p[2], go_p[2];
    if (pipe(res_p) != 0) goto fail;
    if (pipe(go_p) != 0) {
        close(res_p[0]);
        close(res_p[1]);
        goto fail;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(res_p[0]), close(res_p[1]), close(go_p[0]), close(go_p[1]);
        goto fail;
    }
    if (pid == 0) {
        close(res_p[0]);
        close(go_p[1]);
        for (int64_t i = 0; i < index; i++) { /* an older worker's go pipe must reach EOF when the parent closes it */
            close(all[i].result_fd);
            close(all[i].go_fd);
        }
        wl_pf_worker_main(c, requests, cache, res_p[1], go_p[0]);
    }
    close(res_p[1]);
    close(go_p[0]);
    *w = (wl_pf_worker){.pid = pid, .result_fd = res_p[0], .go_fd = go_p[1]};
    wl_worker(r, (int)pid, WL_WORKER_START);
    return true;
fail:
    snprintf(err, errlen, "cannot start a worker: %s", strerror(errno));
    return false;
}

static bool wl_prefork_run(mm_heap *h, const mm_knobset *ks, wl_result *r, char *err, size_t errlen) {
    if (!wl_prefork_check(ks, err, errlen)) return false;
    const int64_t nworkers = mm_knob_int(ks, "workers"), requests = mm_knob_int(ks, "requests"),
                  cache = mm_knob_int(ks, "cache");
    wl_req_ctx c = {.h = h, .records = mm_knob_int(ks, "records"), .cycles = mm_knob_int(ks, "cycles"), .spread = true};
    r->ops = 0;
    if (!wl_req_declare(&c)) {
        snprintf(err, errlen, "cannot declare the request classes");
        return false;
    }
    wl_pf_worker *w = calloc((size_t)nworkers, sizeof *w);
    if (w == NULL) {
        snprintf(err, errlen, "out of memory for %lld workers", (long long)nworkers);
        return false;
    }
    bool ok = false;
    int64_t started = 0;
    mm_root_push(h, &c.app);
    /* 1. the state, 2. the warm-up event */
    wl_req_build_app(&c, mm_knob_int(ks, "appstate"));
    if (c.failed) {
        snprintf(err, errlen, "out of memory building the application state");
        goto out;
    }
    const uint64_t app_objects = c.objects;
    mm_event_notify(h, MM_EVENT_WARMUP_END);
    /* 3. the workers */
    for (; started < nworkers; started++)
        if (!wl_pf_spawn(&c, r, requests, cache, w, started, err, errlen)) goto out;
    ok = true;
out:;
    /* 5. every started worker is finished and reaped, whatever happened */
    uint64_t gen2 = 0, collections = 0;
    int64_t served = 0;
    for (int64_t i = 0; i < started; i++) {
        wl_pf_result res = {0};
        char werr[WL_PF_ERR + 64];
        if (!wl_pf_finish(r, &w[i], &res, werr, sizeof werr) && ok) {
            snprintf(err, errlen, "%s", werr);
            ok = false;
        }
        gen2 += res.gen2;
        collections += res.collections;
        served += res.served;
    }
    free(w);
    mm_xdecref(h, c.app);
    c.app = NULL;
    mm_root_pop(h, 1);
    r->ops = (double)served;
    if (ok) {
        wl_counter(r, "requests_total", (double)served);
        wl_counter(r, "app_objects", (double)app_objects);
        wl_counter(r, "worker_gc_gen2", (double)gen2);
        wl_counter(r, "worker_gc_collections", (double)collections);
    }
    return ok;
}

const mm_workload wl_prefork = {
    .name = "prefork",
    .summary = "pre-forking server: the parent builds appstate (freeze/immortal at warm-up end), forks workers "
               "serving requests; per-worker Private_Dirty/Shared/Pss (copy-on-write)",
    .knobs = wl_prefork_knobs,
    .check = wl_prefork_check,
    .run = wl_prefork_run,
};
