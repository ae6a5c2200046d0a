/* pause_hist.c — log-linear latency histogram; contract in pause_hist.h.
 *
 * Invariant first: bucket i counts the values v with bucket_of(v) == i, and
 * count == sum of all buckets; min/max/total describe exactly the values
 * counted. Everything else (percentiles, CDF) is derived from that.
 *
 * Bucket layout (start reading at ms_hist_bucket_of):
 *   shift = max(0, floor(log2 v) - SUB_BITS)
 *   index = (shift << SUB_BITS) + (v >> shift)
 * For v < 2^(SUB_BITS+1), shift is 0 and index == v: one bucket per value.
 * Above, v >> shift lies in [2^SUB_BITS, 2^(SUB_BITS+1)), so each power of two
 * gets 2^SUB_BITS sub-buckets of width 2^shift, and
 *   width / lower_bound <= 2^shift / (2^SUB_BITS * 2^shift) = 1/128.
 * A percentile is reported as the bucket's midpoint; every integer in the
 * bucket is within (width-1)/2 of it, so the relative error is below 1/256.
 */
#include "pause_hist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* 7 bits: 128 sub-buckets per power of two, error <= 1/256 at the midpoint,
 * comfortably inside the 1% the design promises. */
#define MS_HIST_SUB_BITS 7
#define MS_HIST_SUB_COUNT (1u << MS_HIST_SUB_BITS)
/* Largest shift is 63 - SUB_BITS (for v near 2^64); indexes then run up to
 * ((63 - SUB_BITS) << SUB_BITS) + 2^(SUB_BITS+1) - 1. */
#define MS_HIST_MAX_SHIFT (63 - MS_HIST_SUB_BITS)
#define MS_HIST_BUCKETS (((unsigned)MS_HIST_MAX_SHIFT << MS_HIST_SUB_BITS) + 2u * MS_HIST_SUB_COUNT)
/* Relative slack when deciding that p*count/100 is an integer: absorbs the
 * binary representation error of decimal p (99.9 etc.), far below 1/count. */
#define MS_HIST_RANK_EPS 1e-9L

struct ms_hist {
    uint64_t count;
    uint64_t total;
    uint64_t min; /* UINT64_MAX while empty, so the first record sets it */
    uint64_t max;
    uint64_t buckets[MS_HIST_BUCKETS];
};

/* The one mapping from value to bucket; every other function inverts it. */
static inline unsigned ms_hist_bucket_of(uint64_t v) {
    unsigned shift = 0;
    if (v >> (MS_HIST_SUB_BITS + 1)) {
        unsigned log2v = 63u - (unsigned)__builtin_clzll(v);
        shift = log2v - MS_HIST_SUB_BITS;
    }
    return (shift << MS_HIST_SUB_BITS) + (unsigned)(v >> shift);
}

/* Lowest value that maps to bucket i (inverse of ms_hist_bucket_of). */
static uint64_t ms_hist_bucket_low(unsigned i) {
    if (i < 2u * MS_HIST_SUB_COUNT) return i;
    unsigned shift = (i >> MS_HIST_SUB_BITS) - 1u;
    uint64_t sub = i - (shift << MS_HIST_SUB_BITS);
    return sub << shift;
}

/* Bucket width; with bucket_low it gives the range without overflowing at
 * the top bucket (low + width - 1 == UINT64_MAX there). */
static uint64_t ms_hist_bucket_width(unsigned i) {
    if (i < 2u * MS_HIST_SUB_COUNT) return 1;
    return (uint64_t)1 << ((i >> MS_HIST_SUB_BITS) - 1u);
}

static uint64_t ms_hist_add_sat(uint64_t a, uint64_t b) {
    return (UINT64_MAX - a < b) ? UINT64_MAX : a + b;
}

/* Allocates once; recording never allocates, so it is safe inside a pause. */
ms_hist *ms_hist_new(void) {
    ms_hist *h = malloc(sizeof *h);
    if (h) ms_hist_reset(h);
    return h;
}

void ms_hist_free(ms_hist *h) {
    free(h);
}

/* Lets one histogram serve many repetitions without reallocating. */
void ms_hist_reset(ms_hist *h) {
    memset(h->buckets, 0, sizeof h->buckets);
    h->count = 0;
    h->total = 0;
    h->min = UINT64_MAX;
    h->max = 0;
}

/* Hot-ish: called once per pause or request, so it is a handful of
 * instructions: no loop, no allocation, no system call. */
void ms_hist_record(ms_hist *h, uint64_t ns) {
    h->buckets[ms_hist_bucket_of(ns)]++;
    h->count++;
    h->total = ms_hist_add_sat(h->total, ns);
    if (ns < h->min) h->min = ns;
    if (ns > h->max) h->max = ns;
}

/* Per-thread or per-repetition histograms combine exactly: same layout. */
void ms_hist_merge(ms_hist *dst, const ms_hist *src) {
    if (src->count == 0) return;
    for (unsigned i = 0; i < MS_HIST_BUCKETS; i++) dst->buckets[i] += src->buckets[i];
    dst->count += src->count;
    dst->total = ms_hist_add_sat(dst->total, src->total);
    if (src->min < dst->min) dst->min = src->min;
    if (src->max > dst->max) dst->max = src->max;
}

uint64_t ms_hist_count(const ms_hist *h) {
    return h->count;
}

uint64_t ms_hist_total_ns(const ms_hist *h) {
    return h->total;
}

uint64_t ms_hist_max(const ms_hist *h) {
    return h->max;
}

/* The empty sentinel (UINT64_MAX) must not leak out as a minimum. */
uint64_t ms_hist_min(const ms_hist *h) {
    return h->count ? h->min : 0;
}

/* Ceil rank with the decimal tolerance described in pause_hist.h; the result
 * is in [1, count]. */
static uint64_t ms_hist_rank(double p, uint64_t count) {
    if (!(p > 0.0)) /* also catches NaN */
        return 1;
    if (p >= 100.0) return count;
    long double x = (long double)p * (long double)count / 100.0L;
    long double r = roundl(x);
    long double rank = (fabsl(x - r) <= MS_HIST_RANK_EPS * (x > 1.0L ? x : 1.0L)) ? r : ceill(x);
    if (rank < 1.0L) return 1;
    if (rank >= (long double)count) return count;
    return (uint64_t)rank;
}

/* Reporting path, not hot: a linear walk up to the max's bucket is cheap
 * enough (at most ~7.4k buckets) and keeps the layout trivially correct. */
double ms_hist_percentile(const ms_hist *h, double p) {
    if (h->count == 0) return 0.0;
    uint64_t rank = ms_hist_rank(p, h->count);
    /* The extreme ranks are known exactly; no need to approximate them. */
    if (rank == h->count) return (double)h->max;
    if (rank == 1) return (double)h->min;

    unsigned last = ms_hist_bucket_of(h->max);
    uint64_t seen = 0;
    unsigned i = ms_hist_bucket_of(h->min);
    for (; i < last; i++) {
        seen += h->buckets[i];
        if (seen >= rank) break;
    }
    /* Midpoint of the integers in the bucket, then clamp: the true value lies
     * in [min, max], so clamping can only move the estimate closer to it. */
    long double mid = (long double)ms_hist_bucket_low(i) + (long double)(ms_hist_bucket_width(i) - 1) / 2.0L;
    if (mid < (long double)h->min) mid = (long double)h->min;
    if (mid > (long double)h->max) mid = (long double)h->max;
    return (double)mid;
}

/* Upper edges rather than midpoints: a CDF point then states an exact fact
 * (this share of pauses took at most this long), which is what plots need. */
int ms_hist_write_cdf(const ms_hist *h, FILE *out) {
    if (fprintf(out, "value_us,fraction\n") < 0) return -1;
    if (h->count == 0) return ferror(out) ? -1 : 0;
    unsigned first = ms_hist_bucket_of(h->min);
    unsigned last = ms_hist_bucket_of(h->max);
    uint64_t seen = 0;
    for (unsigned i = first; i <= last; i++) {
        if (h->buckets[i] == 0) continue;
        seen += h->buckets[i];
        uint64_t hi = ms_hist_bucket_low(i) + (ms_hist_bucket_width(i) - 1);
        if (hi > h->max) hi = h->max;
        if (hi < h->min) hi = h->min;
        double frac = (seen == h->count) ? 1.0 : (double)seen / (double)h->count;
        if (fprintf(out, "%.3f,%.9f\n", (double)hi / 1000.0, frac) < 0) return -1;
    }
    return ferror(out) ? -1 : 0;
}
