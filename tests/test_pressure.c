/* test_pressure.c — policy=pressure and the allocators' trim hook.
 *
 * 1. The check runs exactly every pressure_check allocations, before the new
 *    object is tracked; over the limit (1 KiB: always) each check is an event
 *    that runs one full collection (gen2 under rc+gen) whose collected count is
 *    the exact garbage made since the last one, and records RSS before/after.
 * 2. Below the limit (1 TiB: never) checks happen and nothing else does.
 * 3. The pool model's trim unmaps every wholly free arena, the one pymalloc
 *    keeps too, and discards the pages of empty pools; blocks allocated after a
 *    trim are usable (ASan watches the discarded pages) and the books balance.
 * 4. The knobs are refused without policy=pressure, and policy=pressure without
 *    an rss_limit, each with one line.
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "check.h"
#include "test_util.h"
#include "mm.h"
#include "registry.h"

/* 1: every 3rd allocation checks; each check is an event collecting what came before. */
static void test_events_over_limit(const char *reclaim) {
    mm_heap *h = test_heap(reclaim, "policy=pressure/rss_limit=1k/pressure_check=3");
    mm_object *keep = mm_new(h, &pnode_type, 0); /* allocation 1 */
    garbage_pair(h, pnode);                      /* allocations 2, 3: the check at 3 runs before 3 is tracked */
    mm_stats s;
    mm_get_stats(h, &s);
    CHECK(s.pressure_checks == 1 && s.pressure_events == 1, "%s: one check, one event (%llu, %llu)", reclaim,
          (unsigned long long)s.pressure_checks, (unsigned long long)s.pressure_events);
    size_t n;
    const mm_pressure_event *ev = mm_pressure_events(h, &n);
    /* at the check, object 3 is neither counted nor tracked yet, and object 2 is
     * still held by the program: nothing is garbage */
    CHECK(n == 1 && ev[0].allocations == 2 && ev[0].collected == 0, "%s: event at 2 allocations, 0 collected (%llu, %llu)",
          reclaim, n ? (unsigned long long)ev[0].allocations : 0ull, n ? (unsigned long long)ev[0].collected : 0ull);
    CHECK(n == 1 && ev[0].rss_before > 1024 && ev[0].rss_after > 0, "%s: RSS read before and after", reclaim);
    garbage_pair(h, pnode); /* allocations 4, 5 */
    garbage_pair(h, pnode); /* allocation 6 checks: the first pair and a half-built one */
    ev = mm_pressure_events(h, &n);
    CHECK(n == 2 && ev[1].allocations == 5 && ev[1].collected == 4,
          "%s: second event at 5 allocations collects both complete pairs (%llu, %llu)", reclaim,
          n > 1 ? (unsigned long long)ev[1].allocations : 0ull, n > 1 ? (unsigned long long)ev[1].collected : 0ull);
    mm_get_stats(h, &s);
    CHECK(s.pressure_checks == 2 && mm_stats_live_objects(&s) == 3, "%s: 2 checks, 3 live (%llu, %llu)", reclaim,
          (unsigned long long)s.pressure_checks, (unsigned long long)mm_stats_live_objects(&s));
    mm_decref(h, keep);
    mm_collect(h, MM_COLLECT_FULL);
    mm_get_stats(h, &s);
    CHECK(mm_stats_live_objects(&s) == 0, "%s: nothing left", reclaim);
    mm_heap_free(h);
}

/* 2: a limit never reached: checks counted, no event, no collection. */
static void test_below_limit(void) {
    mm_heap *h = test_heap("rc+gen", "policy=pressure/rss_limit=1024g/pressure_check=10");
    for (int i = 0; i < 50; i++) garbage_pair(h, pnode);
    mm_stats s;
    mm_get_stats(h, &s);
    size_t n;
    mm_pressure_events(h, &n);
    CHECK(s.pressure_checks == 10 && s.pressure_events == 0 && n == 0, "100 allocations: 10 checks, no event (%llu, %llu)",
          (unsigned long long)s.pressure_checks, (unsigned long long)s.pressure_events);
    CHECK(s.collections[2] == 0 && mm_stats_live_objects(&s) == 100, "no full collection: the garbage waits (%llu)",
          (unsigned long long)mm_stats_live_objects(&s));
    mm_collect(h, MM_COLLECT_FULL);
    mm_heap_free(h);
}

/* 3: pool trim, on arenas of 256 KiB with 16 KiB pools: 16 pools per arena,
 * (16384 - 48) / 64 = 255 blocks of 64 bytes per pool. */
static void test_pool_trim(void) {
    const mm_allocator_ops *ops = mm_find_allocator("pool");
    mm_knobset ks;
    memset(&ks, 0, sizeof ks);
    char err[256];
    const mm_knob_desc *const tables[] = {ops->knobs};
    CHECK(mm_knobset_apply(&ks, "arena", "256k", tables, 1, err, sizeof err), "arena knob: %s", err);
    CHECK(mm_knobset_apply(&ks, "pool", "16k", tables, 1, err, sizeof err), "pool knob: %s", err);
    mm_knobset_fill_defaults(&ks, ops->knobs);
    mm_allocator *a = ops->create(&ks, err, sizeof err);
    CHECK(a != NULL && ops->trim != NULL, "pool allocator with a trim (%s)", err);
    if (a == NULL) return;
    enum { N = 3 * 16 * 252 }; /* 16 pools per arena, (16384-48)/64 = 255 blocks per pool: > 2 arenas */
    void **p = malloc(N * sizeof *p);
    for (int i = 0; i < N; i++) {
        p[i] = ops->alloc(a, 64);
        memset(p[i], 0xab, 64);
    }
    mm_alloc_stats st;
    ops->stats(a, &st);
    uint64_t full = st.arenas;
    CHECK(full == 3, "3 arenas in use (%llu)", (unsigned long long)full);
    /* free everything: pymalloc's rule unmaps all but the last usable wholly free arena */
    for (int i = 0; i < N; i++) ops->free(a, p[i], 64);
    ops->stats(a, &st);
    CHECK(st.arenas == 1 && st.live_bytes == 0, "one free arena kept against thrashing (%llu)",
          (unsigned long long)st.arenas);
    ops->trim(a);
    ops->stats(a, &st);
    CHECK(st.arenas == 0 && st.reserved_bytes == 0, "trim unmaps the kept arena too (%llu arenas)",
          (unsigned long long)st.arenas);
    /* empty pools inside a used arena: allocate two pools' worth, free the first
     * pool's blocks, trim (its pages are discarded), then allocate again */
    for (int i = 0; i < 2 * 255; i++) {
        p[i] = ops->alloc(a, 64);
        memset(p[i], 0x11, 64);
    }
    for (int i = 0; i < 255; i++) ops->free(a, p[i], 64);
    ops->trim(a);
    ops->stats(a, &st);
    CHECK(st.arenas == 1 && st.pools_in_use == 1, "one arena, one pool in use after trim (%llu, %llu)",
          (unsigned long long)st.arenas, (unsigned long long)st.pools_in_use);
    for (int i = 0; i < 255; i++) {
        p[i] = ops->alloc(a, 64);
        memset(p[i], 0xcd, 64);
    }
    bool intact = true;
    for (int i = 255; i < 2 * 255; i++)
        for (int k = 0; k < 64; k++) intact = intact && ((unsigned char *)p[i])[k] == 0x11;
    ops->stats(a, &st);
    CHECK(intact && st.pools_in_use == 2 && st.live_bytes == 2 * 255 * 64,
          "the discarded pool serves again, live blocks untouched (%llu pools, %llu bytes)",
          (unsigned long long)st.pools_in_use, (unsigned long long)st.live_bytes);
    for (int i = 0; i < 2 * 255; i++) ops->free(a, p[i], 64);
    free(p);
    ops->destroy(a);
}

/* 4: the knobs' rules, one line each. */
static void test_knob_rules(void) {
    static const struct {
        const char *knobs, *want;
    } cases[] = {
        {"policy=pressure", "knob 'rss_limit': policy=pressure needs a limit above 0"},
        {"rss_limit=1m", "knob 'rss_limit' applies only with policy=pressure"},
        {"policy=freeze/pressure_check=10", "knob 'pressure_check' applies only with policy=pressure"},
        {"policy=pressure/rss_limit=1x", "knob 'rss_limit' must be digits"},
        {"policy=pressure/rss_limit=1m/pressure_check=-1", "knob 'pressure_check' must be in"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[256] = "";
        mm_heap *h = mm_heap_new_named("rc+gen", "system", "slots", cases[i].knobs, err, sizeof err);
        CHECK(h == NULL && strstr(err, cases[i].want) != NULL && strchr(err, '\n') == NULL, "%s: '%s'", cases[i].knobs,
              err);
        mm_heap_free(h);
    }
}

int main(void) {
    test_events_over_limit("rc+gen");
    test_events_over_limit("rc+incr");
    test_events_over_limit("rc+trial");
    test_below_limit();
    test_pool_trim();
    test_knob_rules();
    return check_summary();
}
