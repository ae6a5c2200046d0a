/* mannwhitney.h — the two-sided Mann–Whitney U test (Wilcoxon rank-sum) over two samples.
 *
 * Contract: ms_mwu_test() gives what scipy.stats.mannwhitneyu(a, b, alternative='two-sided')
 * gives with its defaults (method='auto', use_continuity=True), the call Google Benchmark's
 * tools/compare.py makes:
 *   U    = U1 = #pairs (a_i, b_j) with a_i > b_j, plus 1/2 for each tie (so U1 + U2 = n1*n2);
 *   exact  when the pooled sample has no ties and min(n1, n2) <= MS_MWU_EXACT_MAX_SMALL:
 *          p = min(1, 2 * P(U >= max(U1, U2))) under the exact null distribution of U, counted
 *          by dynamic programming over all C(n1+n2, n1) orderings (5 vs 5: 252 orderings);
 *   normal otherwise: z = (max(U1, U2) - n1*n2/2 - 1/2) / sigma, with the tie-corrected
 *          sigma^2 = n1*n2/12 * ((n+1) - sum(t^3 - t) / (n*(n-1))), p = min(1, erfc(z/sqrt 2)).
 * Samples must be finite (the caller drops NaNs). Neither ties nor sample sizes are ever a
 * reason to crash: a constant pooled sample gives p = 1.
 */
#ifndef MS_MANNWHITNEY_H
#define MS_MANNWHITNEY_H

#include <stddef.h>

/* scipy's 'auto' rule: the exact distribution as long as one sample has at most 8 values;
 * beyond that on both sides the normal approximation is already good. */
#define MS_MWU_EXACT_MAX_SMALL 8
/* Largest other sample the exact count accepts (keeps its table near 1 MB); beyond it the
 * normal approximation is used, which is then very close anyway. */
#define MS_MWU_EXACT_MAX_LARGE 1000

typedef enum ms_mwu_method {
    MS_MWU_NONE = 0, /* no test: an empty sample */
    MS_MWU_EXACT,
    MS_MWU_NORMAL,
} ms_mwu_method;

typedef struct ms_mwu_result {
    double u;             /* U1, the statistic of the first sample (as scipy reports it) */
    double p;             /* two-sided p-value, NaN when method is MS_MWU_NONE */
    ms_mwu_method method;
} ms_mwu_result;

/* Two-sided test of a[0..n1) against b[0..n2); 0, or -1 (method NONE) when a sample is empty. */
int ms_mwu_test(const double *a, size_t n1, const double *b, size_t n2, ms_mwu_result *out);

/* The smallest two-sided p-value the test can give for these sizes (fully separated, untied
 * samples): when it is not below alpha, no result can be significant at alpha. */
double ms_mwu_min_p(size_t n1, size_t n2);

/* "exact", "normal" or "none", for tables and CSV. */
const char *ms_mwu_method_name(ms_mwu_method m);

#endif /* MS_MANNWHITNEY_H */
