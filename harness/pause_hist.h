/* pause_hist.h — log-linear latency histogram (ours: Debian has no HdrHistogram).
 *
 * Contract: any percentile this histogram reports is within 1% of the exact
 * ceil-rank percentile of the recorded values (in fact within 1/256 = 0.39%),
 * percentile(100) is the exact maximum, and every percentile lies in
 * [min, max]. count, total, min and max are exact.
 *
 * Invariant: values below 2^(MS_HIST_SUB_BITS+1) = 256 ns each have their own
 * bucket; above that every power of two [2^e, 2^(e+1)) is cut into 2^SUB_BITS
 * equal sub-buckets, so a bucket's width is at most 1/128 of its lower bound.
 * The whole uint64_t range is covered, so ms_hist_record never clamps.
 *
 * Rank rule: rank = ceil(p/100 * count), at least 1; the answer is the value
 * whose cumulative count first reaches rank. p is read as a decimal
 * percentage: a product p*count/100 within 1e-9 (relative) of an integer is
 * taken as that integer, so p = 99.9 with count = 1000 gives rank 999, not the
 * 1000 that binary floating point would round up to.
 *
 * The histogram is fixed-size (about 58 KiB) and never allocates after
 * ms_hist_new; it is not thread-safe: give each thread its own and merge.
 */
#ifndef MS_PAUSE_HIST_H
#define MS_PAUSE_HIST_H

#include <stdint.h>
#include <stdio.h>

typedef struct ms_hist ms_hist;

/* NULL on allocation failure. */
ms_hist *ms_hist_new(void);
void ms_hist_free(ms_hist *h);
void ms_hist_reset(ms_hist *h);

/* O(1), no allocation, no system call. Any value 0 .. UINT64_MAX. */
void ms_hist_record(ms_hist *h, uint64_t ns);

/* dst += src. */
void ms_hist_merge(ms_hist *dst, const ms_hist *src);

uint64_t ms_hist_count(const ms_hist *h);
/* Sum of recorded values in ns; saturates at UINT64_MAX (584 years). */
uint64_t ms_hist_total_ns(const ms_hist *h);
/* Exact; 0 when empty. */
uint64_t ms_hist_max(const ms_hist *h);
uint64_t ms_hist_min(const ms_hist *h);

/* p in [0, 100] (clamped; NaN counts as 0). Result in ns; 0 when empty. */
double ms_hist_percentile(const ms_hist *h, double p);

/* CSV for CDF plots: header "value_us,fraction", then one line per non-empty
 * bucket in increasing order. value_us is the bucket's upper edge clamped into
 * [min, max], so fraction is exactly the share of values <= value_us; the
 * last line is (max, 1). Returns 0, or -1 on a write error. */
int ms_hist_write_cdf(const ms_hist *h, FILE *out);

#endif /* MS_PAUSE_HIST_H */
