/* test_mannwhitney.c — the two-sided Mann–Whitney U test against known p-values.
 *
 * References: scipy's documented example (males/females: U = 17, exact p = 0.1111111,
 * asymptotic p = 0.11134688653314041); exact values by hand (fully separated k vs k samples:
 * p = 2 / C(2k, k), so 5 vs 5 gives 2/252); the rest from an independent stdlib-python
 * implementation that enumerates every ordering (itertools.combinations) for the exact
 * distribution and uses math.erfc for the normal approximation, written to reproduce
 * scipy.stats.mannwhitneyu(a, b, alternative='two-sided') (scipy itself was not installed).
 */
#include <math.h>
#include <stdio.h>

#include "check.h"
#include "mannwhitney.h"

/* Relative tolerance: the references are double results of the same formulas. */
#define TOL 1e-9

#define N(x) (sizeof(x) / sizeof *(x))

/* Runs one case and checks U, p and which method was chosen. */
static void expect(const char *name, const double *a, size_t n1, const double *b, size_t n2,
                   double u, double p, ms_mwu_method method)
{
    ms_mwu_result r;
    int rc = ms_mwu_test(a, n1, b, n2, &r);
    CHECK(rc == 0, "%s: rc %d", name, rc);
    CHECK(r.u == u, "%s: U %g, expected %g", name, r.u, u);
    CHECK(fabs(r.p - p) <= TOL * p, "%s: p %.17g, expected %.17g", name, r.p, p);
    CHECK(r.method == method, "%s: method %s, expected %s", name, ms_mwu_method_name(r.method),
          ms_mwu_method_name(method));
    /* Swapping the samples mirrors U and keeps the two-sided p. */
    ms_mwu_result s;
    ms_mwu_test(b, n2, a, n1, &s);
    CHECK(s.u == (double)n1 * (double)n2 - u, "%s swapped: U %g", name, s.u);
    CHECK(fabs(s.p - p) <= TOL * p, "%s swapped: p %.17g", name, s.p);
}

int main(void)
{
    static const double males[] = {19, 22, 16, 29, 24}, females[] = {20, 11, 17, 12};
    expect("scipy docs", males, 5, females, 4, 17, 0.1111111111111111, MS_MWU_EXACT);

    static const double s5a[] = {1, 2, 3, 4, 5}, s5b[] = {6, 7, 8, 9, 10};
    expect("5v5 separated", s5a, 5, s5b, 5, 0, 2.0 / 252.0, MS_MWU_EXACT);
    static const double i5a[] = {1.1, 2.3, 3.0, 4.4, 5.9}, i5b[] = {1.5, 2.0, 3.3, 6.1, 7.0};
    expect("5v5 interleaved", i5a, 5, i5b, 5, 10, 0.6904761904761905, MS_MWU_EXACT);
    static const double s3a[] = {1, 2, 3}, s3b[] = {4, 5, 6};
    expect("3v3 separated", s3a, 3, s3b, 3, 0, 0.1, MS_MWU_EXACT);
    static const double s2a[] = {1, 2}, s2b[] = {3, 4};
    expect("2v2 separated", s2a, 2, s2b, 2, 0, 1.0 / 3.0, MS_MWU_EXACT);
    static const double s3x12[] = {4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    expect("3v12 separated (exact: one sample <= 8)", s3a, 3, s3x12, N(s3x12), 0,
           0.004395604395604396, MS_MWU_EXACT);

    /* Ties: the tie-corrected normal approximation, as scipy's 'auto' does. */
    static const double t5a[] = {5.5, 5.5, 5.5, 5.6, 5.5}, t5b[] = {5.9, 5.9, 6.0, 5.9, 5.9};
    expect("5v5 with ties", t5a, 5, t5b, 5, 0, 0.007494957516935249, MS_MWU_NORMAL);
    static const double e3[] = {3, 3, 3};
    expect("all equal", e3, 3, e3, 3, 4.5, 1.0, MS_MWU_NORMAL);

    /* Both samples over 8: the normal approximation even without ties. */
    static const double s9a[] = {0, 1, 2, 3, 4, 5, 6, 7, 8},
                        s9b[] = {9, 10, 11, 12, 13, 14, 15, 16, 17};
    expect("9v9 separated", s9a, 9, s9b, 9, 0, 0.0004122948020616911, MS_MWU_NORMAL);
    static const double m9[] = {2.1, 3.4, 1.9, 5.6, 4.4, 3.3, 2.8, 6.0, 5.1},
                        m10[] = {4.0, 5.5, 6.6, 3.9, 7.2, 6.1, 5.0, 4.8, 7.7, 6.9};
    expect("9v10 mixed", m9, 9, m10, 10, 16, 0.019964453305216057, MS_MWU_NORMAL);

    /* The floor of p for a sample size: what decides whether significance is reachable. */
    CHECK(fabs(ms_mwu_min_p(2, 2) - 1.0 / 3.0) < 1e-12, "min p 2v2 %g", ms_mwu_min_p(2, 2));
    CHECK(fabs(ms_mwu_min_p(3, 3) - 0.1) < 1e-12, "min p 3v3 %g", ms_mwu_min_p(3, 3));
    CHECK(fabs(ms_mwu_min_p(4, 4) - 2.0 / 70.0) < 1e-12, "min p 4v4 %g", ms_mwu_min_p(4, 4));
    CHECK(fabs(ms_mwu_min_p(5, 5) - 2.0 / 252.0) < 1e-12, "min p 5v5 %g", ms_mwu_min_p(5, 5));
    CHECK(ms_mwu_min_p(1, 1) == 1.0, "min p 1v1 %g", ms_mwu_min_p(1, 1));

    /* The biggest exact table allowed: 8 vs 100 (100 = most --reps); counts stay exact. */
    double a8[8], b100[100];
    for (int i = 0; i < 8; i++)
        a8[i] = i;
    for (int i = 0; i < 100; i++)
        b100[i] = 8 + i;
    ms_mwu_result r;
    ms_mwu_test(a8, 8, b100, 100, &r);
    /* 2 / C(108, 8) = 2 / 352025629371 */
    CHECK(r.method == MS_MWU_EXACT && fabs(r.p - 2.0 / 352025629371.0) < 1e-20,
          "8v100 p %.17g", r.p);

    /* Empty samples give no test and no crash. */
    CHECK(ms_mwu_test(s2a, 0, s2b, 2, &r) == -1 && r.method == MS_MWU_NONE && isnan(r.p),
          "empty sample");
    return check_summary();
}
