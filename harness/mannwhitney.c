/* mannwhitney.c — the two-sided Mann–Whitney U test; the contract is in mannwhitney.h.
 *
 * Where to start reading: ms_mwu_test. It (1) counts U1 pairwise, (2) finds the ties of the
 * pooled sample, (3) picks the exact null distribution (no ties, one small sample) or the
 * tie-corrected normal approximation, as scipy's method='auto' does, so that p-values agree
 * with Google Benchmark's compare.py.
 */
#include "mannwhitney.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* qsort order for doubles without the overflow of subtracting. */
static int ms_mwu_cmp(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* P(U >= u) under the null hypothesis for sizes n1, n2 without ties. Every ordering of the
 * pooled sample is equally likely; N(i, j, v), the number of orderings of i values of A and j
 * of B with U = v, follows N(i, j, v) = N(i-1, j, v-j) + N(i, j-1, v): the largest value is
 * either from A (it beats all j values of B) or from B (it beats nothing). Two layers over j
 * suffice. Counts are integers below 2^53 for the sizes allowed here, so doubles are exact. */
static double ms_mwu_exact_sf(size_t n1, size_t n2, double u)
{
    if (n1 > n2) { /* the distribution of U is the same with the samples swapped */
        size_t t = n1;
        n1 = n2;
        n2 = t;
    }
    size_t m = n1 * n2, w = m + 1;
    double *prev = ms_bench_xmalloc((n1 + 1) * w * sizeof *prev);
    double *cur = ms_bench_xmalloc((n1 + 1) * w * sizeof *cur);
    memset(prev, 0, (n1 + 1) * w * sizeof *prev);
    for (size_t i = 0; i <= n1; i++) /* j = 0: one ordering, U = 0 */
        prev[i * w] = 1.0;
    for (size_t j = 1; j <= n2; j++) {
        memset(cur, 0, (n1 + 1) * w * sizeof *cur);
        cur[0] = 1.0; /* i = 0: only B values, U = 0 */
        for (size_t i = 1; i <= n1; i++)
            for (size_t v = 0; v <= i * j; v++)
                cur[i * w + v] = (v >= j ? cur[(i - 1) * w + v - j] : 0.0) + prev[i * w + v];
        double *t = prev;
        prev = cur;
        cur = t;
    }
    const double *last = prev + n1 * w;
    double total = 0, tail = 0;
    for (size_t v = 0; v <= m; v++) {
        total += last[v];
        if ((double)v >= u - 1e-9) /* u is an integer when there are no ties */
            tail += last[v];
    }
    free(prev);
    free(cur);
    return tail / total;
}

/* Normal approximation with tie correction and continuity correction (scipy's asymptotic
 * method). tie_term is sum(t^3 - t) over groups of t equal pooled values. */
static double ms_mwu_normal_p(size_t n1, size_t n2, double u_max, double tie_term)
{
    double n = (double)(n1 + n2), nn = (double)n1 * (double)n2;
    double var = nn / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)));
    if (!(var > 0)) /* every pooled value equal: no evidence either way */
        return 1.0;
    double z = (u_max - nn / 2.0 - 0.5) / sqrt(var);
    double p = erfc(z / sqrt(2.0));
    return p > 1.0 ? 1.0 : p;
}

/* The exact count is used exactly where scipy's method='auto' uses it (within our size cap). */
static int ms_mwu_exact_ok(size_t n1, size_t n2)
{
    size_t lo = n1 < n2 ? n1 : n2, hi = n1 < n2 ? n2 : n1;
    return lo <= MS_MWU_EXACT_MAX_SMALL && hi <= MS_MWU_EXACT_MAX_LARGE;
}

/* Entry point: see the contract in mannwhitney.h. */
int ms_mwu_test(const double *a, size_t n1, const double *b, size_t n2, ms_mwu_result *out)
{
    out->u = NAN;
    out->p = NAN;
    out->method = MS_MWU_NONE;
    if (n1 == 0 || n2 == 0)
        return -1;
    /* 1. U1 by counting pairs; exact for the small samples of a benchmark. */
    double u1 = 0;
    for (size_t i = 0; i < n1; i++)
        for (size_t j = 0; j < n2; j++)
            u1 += a[i] > b[j] ? 1.0 : a[i] == b[j] ? 0.5 : 0.0;
    double u_max = fmax(u1, (double)n1 * (double)n2 - u1);
    /* 2. Ties of the pooled sample. */
    size_t n = n1 + n2;
    double *pool = ms_bench_xmalloc(n * sizeof *pool), tie_term = 0;
    memcpy(pool, a, n1 * sizeof *pool);
    memcpy(pool + n1, b, n2 * sizeof *pool);
    qsort(pool, n, sizeof *pool, ms_mwu_cmp);
    for (size_t i = 0; i < n;) {
        size_t k = i + 1;
        while (k < n && pool[k] == pool[i])
            k++;
        double t = (double)(k - i);
        tie_term += t * t * t - t;
        i = k;
    }
    free(pool);
    /* 3. Exact or normal. */
    out->u = u1;
    if (tie_term == 0 && ms_mwu_exact_ok(n1, n2)) {
        double p = 2.0 * ms_mwu_exact_sf(n1, n2, u_max);
        out->p = p > 1.0 ? 1.0 : p;
        out->method = MS_MWU_EXACT;
    } else {
        out->p = ms_mwu_normal_p(n1, n2, u_max, tie_term);
        out->method = MS_MWU_NORMAL;
    }
    return 0;
}

/* Fully separated samples give U = n1*n2, the most extreme value: the p of that is the floor. */
double ms_mwu_min_p(size_t n1, size_t n2)
{
    if (n1 == 0 || n2 == 0)
        return NAN;
    double um = (double)n1 * (double)n2;
    if (ms_mwu_exact_ok(n1, n2)) {
        double p = 2.0 * ms_mwu_exact_sf(n1, n2, um);
        return p > 1.0 ? 1.0 : p;
    }
    return ms_mwu_normal_p(n1, n2, um, 0.0);
}

/* Names used in the compare table's legend and in compare CSV's `test` column. */
const char *ms_mwu_method_name(ms_mwu_method m)
{
    return m == MS_MWU_EXACT ? "exact" : m == MS_MWU_NORMAL ? "normal" : "none";
}
