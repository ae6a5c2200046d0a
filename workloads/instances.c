/* instances.c — `instances`: what an instance costs under a layout.
 *
 * Contract: builds n instances of one class declaring k attributes (attrs=2|4|8),
 * every attribute set to a small int, in declaration order; then times one pass
 * of gets and one pass of sets over every attribute of every instance; then drops
 * everything. ops = n. Counters:
 *   bytes_per_instance_alloc  heap live bytes (objects incl. pre-headers, as
 *                             mm_stats counts them) added by the build, / n
 *   bytes_per_instance_rss    resident set growth during the build (statm), / n
 *   getattr_ns, setattr_ns    ns per attribute access in the timed passes
 * The workload's own table of n holds and its n roots are allocated and touched
 * before the first RSS reading, so neither counts as instance memory.
 *
 * Invariant: between build and drop, hold[i] owns one reference to instance i,
 * whose attribute j is the int i + j (after the set pass, i + j + 1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "workload.h"

/* Most instances per cell: 1e9 would need >50 GB under any layout. */
#define WL_INSTANCES_MAX_N 1000000000LL
/* Largest attribute count accepted by the knob's range; check() narrows it to 2, 4, 8. */
#define WL_INSTANCES_MAX_ATTRS 8
#define WL_NS_PER_S 1000000000.0

static const mm_knob_desc wl_instances_knobs[] = {
    {"n", MM_KNOB_COUNT, "1000000", 1, WL_INSTANCES_MAX_N, "instances built"},
    {"attrs", MM_KNOB_COUNT, "2", 1, WL_INSTANCES_MAX_ATTRS, "attributes per instance: 2, 4 or 8"},
    {0},
};

/* Only the sizes CPython's reference figures exist for: other counts are a typo. */
static bool wl_instances_check(const mm_knobset *ks, char *err, size_t errlen) {
    int64_t k = mm_knob_int(ks, "attrs");
    if (k == 2 || k == 4 || k == 8) return true;
    snprintf(err, errlen, "knob 'attrs': %lld is not 2, 4 or 8", (long long)k);
    return false;
}

/* The monotonic clock, as the harness uses: immune to wall-clock steps. */
static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * WL_NS_PER_S + (double)ts.tv_nsec;
}

/* Resident bytes from /proc/self/statm (second field, in pages); 0 if unreadable. */
static double rss_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, resident = 0;
    if (f == NULL) return 0;
    int got = fscanf(f, "%lu %lu", &size, &resident);
    fclose(f);
    return got == 2 ? (double)resident * (double)sysconf(_SC_PAGESIZE) : 0;
}

/* Heap bytes of live objects, pre-headers included (what mm_stats counts). */
static double live_bytes(mm_heap *h) {
    mm_stats s;
    mm_get_stats(h, &s);
    return (double)mm_stats_live_bytes(&s);
}

/* Build, time gets and sets, measure, drop: see the header for each counter. */
static bool instances_run(mm_heap *h, const mm_knobset *ks, wl_result *r, char *err, size_t errlen) {
    if (!wl_instances_check(ks, err, errlen)) return false;
    int64_t n = mm_knob_int(ks, "n");
    uint32_t k = (uint32_t)mm_knob_int(ks, "attrs");
    static const char *const names[WL_INSTANCES_MAX_ATTRS] = {"a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7"};
    mm_class *cls = mm_class_new(h, "Inst", names, k);
    if (cls == NULL) {
        snprintf(err, errlen, "cannot declare class Inst");
        return false;
    }
    mm_attr attr[WL_INSTANCES_MAX_ATTRS];
    for (uint32_t j = 0; j < k; j++) attr[j] = mm_intern(h, names[j]);
    mm_object **hold = calloc((size_t)n, sizeof *hold);
    if (hold == NULL) {
        snprintf(err, errlen, "out of memory for %lld holds", (long long)n);
        return false;
    }
    memset(hold, 0, (size_t)n * sizeof *hold); /* touch: resident before the first reading */
    for (int64_t i = 0; i < n; i++) mm_root_push(h, &hold[i]);

    bool ok = true;
    double rss0 = rss_bytes(), live0 = live_bytes(h);
    for (int64_t i = 0; i < n && ok; i++) {
        mm_object *o = mm_instance_new(h, cls);
        if (o == NULL) {
            snprintf(err, errlen, "out of memory after %lld instances", (long long)i);
            ok = false;
            break;
        }
        hold[i] = o;
        for (uint32_t j = 0; j < k && ok; j++)
            if (mm_setattr(h, o, attr[j], mm_int((intptr_t)(i + j))) != MM_OK) {
                snprintf(err, errlen, "setting a%u on instance %lld failed", j, (long long)i);
                ok = false;
            }
    }
    double live1 = live_bytes(h), rss1 = rss_bytes();

    if (ok) {
        /* Gets: the sum checks that every value survived the build. */
        int64_t sum = 0, want = 0;
        double t0 = now_ns();
        for (int64_t i = 0; i < n; i++)
            for (uint32_t j = 0; j < k; j++) sum += mm_as_int(mm_getattr(h, hold[i], attr[j]));
        double t1 = now_ns();
        for (int64_t i = 0; i < n; i++)
            for (uint32_t j = 0; j < k; j++) want += i + j;
        /* Sets: every attribute overwritten in place (no new names, no growth). */
        double t2 = now_ns();
        for (int64_t i = 0; i < n && ok; i++)
            for (uint32_t j = 0; j < k; j++)
                if (mm_setattr(h, hold[i], attr[j], mm_int((intptr_t)(i + j + 1))) != MM_OK) ok = false;
        double t3 = now_ns();
        if (sum != want) {
            snprintf(err, errlen, "attribute sum %lld, expected %lld", (long long)sum, (long long)want);
            ok = false;
        } else if (!ok) {
            snprintf(err, errlen, "overwriting an attribute failed");
        }
        double accesses = (double)n * (double)k;
        wl_counter(r, "getattr_ns", (t1 - t0) / accesses);
        wl_counter(r, "setattr_ns", (t3 - t2) / accesses);
    }
    wl_counter(r, "bytes_per_instance_alloc", (live1 - live0) / (double)n);
    wl_counter(r, "bytes_per_instance_rss", (rss1 - rss0) / (double)n);

    for (int64_t i = 0; i < n; i++)
        if (hold[i] != NULL) {
            mm_decref(h, hold[i]);
            hold[i] = NULL;
        }
    mm_root_pop(h, (size_t)n);
    free(hold);
    r->ops = (double)n;
    return ok;
}

const mm_workload wl_instances = {
    .name = "instances",
    .summary = "n instances with attrs=2|4|8 int attributes: bytes per instance, getattr/setattr ns",
    .knobs = wl_instances_knobs,
    .check = wl_instances_check,
    .run = instances_run,
};
