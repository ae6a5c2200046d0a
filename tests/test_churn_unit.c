/* test_churn_unit.c — the `churn` workload against allocators that watch it.
 *
 * What must hold: every block churn allocates is freed exactly once, with the
 * size it asked for, and nothing is left allocated; within a round the frees
 * come in the order the knob names — fifo: the previous generation oldest
 * first; lifo: newest first; shuffled: a permutation of it that is neither,
 * the same for the same seed and different for another — and every order
 * allocates the same sequence of sizes for one seed; the sizes stay inside
 * their mix (uniform16-512: every byte count 16..512 and nothing else, close
 * to uniform; fixed32: 32 only; cpython: its table's range and mean); an
 * allocator that hands out memory still in use is caught with one error line;
 * an allocator that runs dry fails the run with one line and every block it
 * did give is freed; bad string knobs are refused by `check`, naming the knob.
 *
 * The watching allocators keep a 16-byte header {id, size} before each block
 * they return (16-byte alignment kept), so a free names its allocation.
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "check.h"
#include "mm.h"
#include "registry.h"
#include "workload.h"

/* Header before each block of the recording allocator: keeps 16-byte alignment. */
#define REC_HEADER 16
/* Draws of the size-distribution checks: ~400 per value of uniform16-512. */
#define DIST_LIVE 200000

/* The recording allocator: ids in allocation order, frees and their sizes. */
typedef struct rec_alloc {
    mm_allocator base;
    uint64_t next_id, live, bad_sizes, fail_after; /* fail_after 0: never fail */
    uint64_t *freed;                               /* ids in free order */
    uint16_t *alloc_sizes;                         /* sizes in allocation order */
    size_t nfreed, cap_freed, nallocs, cap_allocs;
} rec_alloc;

typedef struct rec_header {
    uint64_t id, size;
} rec_header;

static rec_alloc *rec_current; /* the one the last create made; a test reads it */
static uint64_t rec_fail_after;

static mm_allocator *rec_create(const mm_knobset *ks, char *err, size_t errlen);

/* Grows a test array; an allocation failure here ends the test program. */
static void *grow(void *p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return p;
    *cap = *cap ? *cap * 2 : 1024;
    if (*cap < need) *cap = need;
    void *q = realloc(p, *cap * elem);
    if (q == NULL) abort();
    return q;
}

static void *rec_alloc_fn(mm_allocator *base, size_t size) {
    rec_alloc *a = (rec_alloc *)base;
    if (a->fail_after && a->next_id >= a->fail_after) return NULL;
    rec_header *hd = malloc(REC_HEADER + size);
    if (hd == NULL) return NULL;
    hd->id = a->next_id++;
    hd->size = size;
    a->alloc_sizes = grow(a->alloc_sizes, &a->cap_allocs, a->nallocs + 1, sizeof *a->alloc_sizes);
    a->alloc_sizes[a->nallocs++] = (uint16_t)size;
    a->live++;
    return (char *)hd + REC_HEADER;
}

static void rec_free_fn(mm_allocator *base, void *p, size_t size) {
    rec_alloc *a = (rec_alloc *)base;
    rec_header *hd = (rec_header *)((char *)p - REC_HEADER);
    if (hd->size != size) a->bad_sizes++;
    a->freed = grow(a->freed, &a->cap_freed, a->nfreed + 1, sizeof *a->freed);
    a->freed[a->nfreed++] = hd->id;
    a->live--;
    free(hd);
}

static void rec_destroy(mm_allocator *base) { (void)base; /* the test frees it after reading it */ }

static void rec_stats(mm_allocator *base, mm_alloc_stats *out) {
    (void)base;
    memset(out, 0, sizeof *out);
}

static const mm_allocator_ops rec_ops = {
    .name = "recording", .create = rec_create, .destroy = rec_destroy,
    .alloc = rec_alloc_fn, .free = rec_free_fn, .stats = rec_stats,
};

static mm_allocator *rec_create(const mm_knobset *ks, char *err, size_t errlen) {
    (void)ks;
    rec_alloc *a = calloc(1, sizeof *a);
    if (a == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    a->base.ops = &rec_ops;
    a->fail_after = rec_fail_after;
    rec_current = a;
    return &a->base;
}

static void rec_release(rec_alloc *a) {
    free(a->freed);
    free(a->alloc_sizes);
    free(a);
}

/* The broken allocator: every block is the same buffer, so a later block
 * overwrites an earlier one that is still in use. */
static _Alignas(16) unsigned char shared_block[1024];
static mm_allocator shared_base;
static mm_allocator *shared_create(const mm_knobset *ks, char *err, size_t errlen);
static void shared_destroy(mm_allocator *a) { (void)a; }
static void *shared_alloc(mm_allocator *a, size_t size) {
    (void)a;
    return size <= sizeof shared_block ? shared_block : NULL;
}
static void shared_free(mm_allocator *a, void *p, size_t size) { (void)a, (void)p, (void)size; }
static const mm_allocator_ops shared_ops = {
    .name = "shared", .create = shared_create, .destroy = shared_destroy,
    .alloc = shared_alloc, .free = shared_free, .stats = rec_stats,
};
static mm_allocator *shared_create(const mm_knobset *ks, char *err, size_t errlen) {
    (void)ks, (void)err, (void)errlen;
    shared_base.ops = &shared_ops;
    return &shared_base;
}

typedef struct churn_run {
    bool ok;
    char err[600];
    wl_result r;
} churn_run;

/* Runs churn with knobs "k=v/k=v" on a none/<ops>/slots heap, as the harness does. */
static churn_run run_churn(const mm_allocator_ops *ops, const char *knobs) {
    churn_run t = {0};
    const mm_workload *w = wl_find("churn");
    if (w == NULL) {
        snprintf(t.err, sizeof t.err, "workload 'churn' is not registered");
        return t;
    }
    mm_knobset ks = {0};
    const mm_knob_desc *const tables[] = {w->knobs};
    char buf[256];
    snprintf(buf, sizeof buf, "%s", knobs);
    for (char *save = NULL, *kv = strtok_r(buf, "/", &save); kv; kv = strtok_r(NULL, "/", &save)) {
        char *eq = strchr(kv, '=');
        *eq = '\0';
        if (!mm_knobset_apply(&ks, kv, eq + 1, tables, 1, t.err, sizeof t.err)) return t;
    }
    mm_knobset_fill_defaults(&ks, w->knobs);
    if (w->check && !w->check(&ks, t.err, sizeof t.err)) return t;
    mm_config cfg = {mm_find_strategy("none"), ops, mm_find_layout("slots"), &ks};
    mm_heap *h = mm_heap_new(&cfg, t.err, sizeof t.err);
    if (h == NULL) return t;
    t.ok = w->run(h, &ks, &t.r, t.err, sizeof t.err);
    mm_heap_free(h);
    return t;
}

static double counter(const wl_result *r, const char *name) {
    for (int i = 0; i < r->ncounters; i++)
        if (strcmp(r->counters[i].name, name) == 0) return r->counters[i].value;
    return -1;
}

/* Frees of one round, as ids: gen g's blocks have ids [g·live, (g+1)·live). */
static void check_round_order(const rec_alloc *a, const char *order, size_t live, size_t round) {
    const uint64_t *f = a->freed + round * live;
    const uint64_t lo = round * live, hi = lo + live;
    bool seen_ok = true, inc = true, dec = true;
    char *seen = calloc(live, 1);
    for (size_t k = 0; k < live; k++) {
        if (f[k] < lo || f[k] >= hi || seen[f[k] - lo]) seen_ok = false;
        else seen[f[k] - lo] = 1;
        if (k && f[k] < f[k - 1]) inc = false;
        if (k && f[k] > f[k - 1]) dec = false;
    }
    free(seen);
    CHECK(seen_ok, "%s round %zu: frees are not a permutation of the previous generation", order, round);
    if (strcmp(order, "fifo") == 0) CHECK(inc, "fifo round %zu: not oldest first", round);
    if (strcmp(order, "lifo") == 0) CHECK(dec, "lifo round %zu: not newest first", round);
    if (strcmp(order, "shuffled") == 0) CHECK(!inc && !dec, "shuffled round %zu: monotonic", round);
}

/* Frees per order, exact sizes, nothing left, same sizes for every order. */
static void test_orders(void) {
    static const char *const orders[] = {"fifo", "lifo", "shuffled"};
    const size_t live = 1000, rounds = 3;
    uint16_t *first_sizes = NULL;
    size_t nfirst = 0;
    uint64_t *shuffled_freed = NULL;
    for (int o = 0; o < 3; o++) {
        char knobs[128];
        snprintf(knobs, sizeof knobs, "live=%zu/rounds=%zu/free=%s/sizes=cpython/seed=7", live, rounds, orders[o]);
        churn_run t = run_churn(&rec_ops, knobs);
        rec_alloc *a = rec_current;
        CHECK(t.ok, "%s: %s", orders[o], t.err);
        CHECK(t.r.ops == (double)(live * rounds), "%s: ops %.0f", orders[o], t.r.ops);
        CHECK(counter(&t.r, "pairs") == (double)(live * rounds), "%s: pairs", orders[o]);
        CHECK(counter(&t.r, "ns_per_pair") > 0, "%s: ns_per_pair %g", orders[o], counter(&t.r, "ns_per_pair"));
        CHECK(a->nallocs == live * (rounds + 1), "%s: %zu allocations", orders[o], a->nallocs);
        CHECK(a->nfreed == a->nallocs && a->live == 0, "%s: %zu freed, %llu live", orders[o], a->nfreed,
              (unsigned long long)a->live);
        CHECK(a->bad_sizes == 0, "%s: %llu frees with the wrong size", orders[o], (unsigned long long)a->bad_sizes);
        for (size_t round = 0; round < rounds && a->nfreed == a->nallocs; round++)
            check_round_order(a, orders[o], live, round);
        if (o == 0) {
            first_sizes = a->alloc_sizes;
            nfirst = a->nallocs;
            a->alloc_sizes = NULL;
        } else {
            CHECK(a->nallocs == nfirst && memcmp(a->alloc_sizes, first_sizes, nfirst * sizeof *first_sizes) == 0,
                  "%s: sizes differ from fifo's for one seed", orders[o]);
        }
        if (o == 2) {
            shuffled_freed = a->freed;
            a->freed = NULL;
        }
        rec_release(a);
    }
    /* The shuffle follows the seed: the same again, another seed differs. */
    for (int seed = 7; seed <= 8; seed++) {
        char knobs[128];
        snprintf(knobs, sizeof knobs, "live=%zu/rounds=%zu/free=shuffled/sizes=cpython/seed=%d", live, rounds, seed);
        churn_run t = run_churn(&rec_ops, knobs);
        rec_alloc *a = rec_current;
        bool same = t.ok && shuffled_freed && a->nfreed == live * (rounds + 1) &&
                    memcmp(a->freed, shuffled_freed, a->nfreed * sizeof *a->freed) == 0;
        if (seed == 7) CHECK(same, "shuffled with seed 7 twice: different frees");
        else CHECK(!same, "shuffled with seeds 7 and 8: the same frees");
        rec_release(a);
    }
    free(first_sizes);
    free(shuffled_freed);
}

/* Each mix asks for what it says, and (uniform) close to uniformly. */
static void test_sizes(void) {
    static const struct {
        const char *mix;
        unsigned lo, hi;
        double mean_lo, mean_hi;
    } mixes[] = {
        {"uniform16-512", 16, 512, 262, 266}, /* mean 264 */
        {"fixed32", 32, 32, 32, 32},
        {"cpython", 8, 384, 54, 56}, /* the table's mean is 54.8 */
    };
    for (size_t m = 0; m < sizeof mixes / sizeof mixes[0]; m++) {
        char knobs[128];
        snprintf(knobs, sizeof knobs, "live=%d/rounds=1/free=fifo/sizes=%s", DIST_LIVE, mixes[m].mix);
        churn_run t = run_churn(&rec_ops, knobs);
        rec_alloc *a = rec_current;
        CHECK(t.ok, "%s: %s", mixes[m].mix, t.err);
        unsigned lo = 65535, hi = 0;
        double sum = 0;
        static size_t count[513];
        memset(count, 0, sizeof count);
        for (size_t i = 0; i < a->nallocs; i++) {
            const unsigned s = a->alloc_sizes[i];
            if (s < lo) lo = s;
            if (s > hi) hi = s;
            if (s <= 512) count[s]++;
            sum += s;
        }
        const double mean = a->nallocs ? sum / (double)a->nallocs : 0;
        CHECK(lo == mixes[m].lo && hi == mixes[m].hi, "%s: sizes %u..%u", mixes[m].mix, lo, hi);
        CHECK(mean >= mixes[m].mean_lo && mean <= mixes[m].mean_hi, "%s: mean %.2f", mixes[m].mix, mean);
        CHECK(counter(&t.r, "mean_block_bytes") == mean, "%s: mean_block_bytes %g, seen %g", mixes[m].mix,
              counter(&t.r, "mean_block_bytes"), mean);
        if (strcmp(mixes[m].mix, "uniform16-512") == 0) {
            /* 400k draws over 497 values: ~805 each, sd ~28; ±25% is ~7 sd. */
            const double expect = (double)a->nallocs / 497.0;
            size_t off = 0;
            for (unsigned s = 16; s <= 512; s++)
                if (count[s] < 0.75 * expect || count[s] > 1.25 * expect) off++;
            CHECK(off == 0, "uniform16-512: %zu sizes far from %.0f draws", off, expect);
        }
        rec_release(a);
    }
}

/* An allocator that gives one block twice is caught, with one line. */
static void test_detects_reuse(void) {
    churn_run t = run_churn(&shared_ops, "live=4/rounds=2/free=fifo/sizes=fixed32");
    CHECK(!t.ok, "a shared block went unnoticed");
    CHECK(strstr(t.err, "lost its pattern") != NULL && strchr(t.err, '\n') == NULL, "error: %s", t.err);
    t = run_churn(&shared_ops, "live=4/rounds=2/free=lifo/sizes=cpython");
    CHECK(!t.ok && strstr(t.err, "slot"), "lifo, cpython: %s", t.err);
}

/* Running dry fails the run with one line, and every block given is freed. */
static void test_out_of_memory(void) {
    static const uint64_t fail_at[] = {5, 10 + 7}; /* in the fill; in the first round */
    for (size_t i = 0; i < 2; i++) {
        rec_fail_after = fail_at[i];
        churn_run t = run_churn(&rec_ops, "live=10/rounds=3/free=shuffled");
        rec_alloc *a = rec_current;
        CHECK(!t.ok && strstr(t.err, "out of memory") != NULL, "fail after %llu: ok=%d err=%s",
              (unsigned long long)fail_at[i], t.ok, t.err);
        CHECK(a->live == 0 && a->bad_sizes == 0, "fail after %llu: %llu blocks left, %llu bad sizes",
              (unsigned long long)fail_at[i], (unsigned long long)a->live, (unsigned long long)a->bad_sizes);
        rec_release(a);
    }
    rec_fail_after = 0;
}

/* The string knobs are checked before a heap exists, each error naming its knob. */
static void test_check(void) {
    churn_run t = run_churn(&rec_ops, "sizes=bogus");
    CHECK(!t.ok && strstr(t.err, "knob 'sizes'"), "sizes=bogus: %s", t.err);
    t = run_churn(&rec_ops, "free=random");
    CHECK(!t.ok && strstr(t.err, "knob 'free'"), "free=random: %s", t.err);
    t = run_churn(&rec_ops, "live=0");
    CHECK(!t.ok && strstr(t.err, "knob 'live'"), "live=0: %s", t.err);
}

int main(void) {
    test_orders();
    test_sizes();
    test_detects_reuse();
    test_out_of_memory();
    test_check();
    return check_summary();
}
