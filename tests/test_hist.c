/* test_hist.c — property tests for the pause recorders: ms_hist against exact
 * sorted percentiles, the bounded pause log, and the RSS sampler.
 *
 * Contract checked: every reported percentile is within 1% of the exact
 * ceil-rank percentile (rank = ceil(p/100 * n), at least 1) for several
 * distributions and seeds; p100 is the exact max; count/total/min/max are
 * exact; merge of two halves equals the whole; reset and empty behave. The
 * writers replace only regular files (a FIFO or symlink at the path stays).
 * The reference rank is computed in integers (p given as num/den), so it is
 * independent of the histogram's floating-point rank rule.
 * Exit status is non-zero if any check failed; the last line is a summary.
 */
#include "atomic_file.h"
#include "pause_hist.h"
#include "pause_log.h"
#include "rss_sampler.h"
#include "ms_clock.h"
#include "check.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The contract: 1% relative error for any reported percentile. */
#define MAX_REL_ERR 0.01
/* Values per large data set: enough for a meaningful p99.9 tail. */
#define BIG_N 100000
/* RSS test: allocate this much and expect at least MIN_RSS_RISE above start. */
#define RSS_ALLOC_BYTES ((size_t)200 * 1024 * 1024)
#define RSS_MIN_RISE ((uint64_t)150 * 1024 * 1024)
/* Kernel RSS counters are per-CPU batched: statm and VmHWM may differ by this. */
#define RSS_COUNTER_SLACK ((uint64_t)4 * 1024 * 1024)

static double g_worst_rel; /* largest relative error seen, for the log */

/* splitmix64: a seeded, portable generator, so failures reproduce. */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in (0, 1]: never 0, so log and division are safe. */
static double rng_unit(uint64_t *s)
{
    return ((double)(rng_next(s) >> 11) + 1.0) / 9007199254740992.0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Exact ceil-rank percentile for p = 100 * num / den, in integers. */
static uint64_t exact_pct(const uint64_t *sorted, size_t n, uint64_t num, uint64_t den)
{
    uint64_t rank = (num * (uint64_t)n + den - 1) / den;
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return sorted[rank - 1];
}

/* Compares one percentile with the exact one; on failure writes why, so a
 * sweep can report its first bad point instead of a thousand lines. */
static int pct_ok(const ms_hist *h, const uint64_t *sorted, size_t n,
                  uint64_t num, uint64_t den, char *why, size_t whylen)
{
    double p = 100.0 * (double)num / (double)den;
    double got = ms_hist_percentile(h, p);
    uint64_t want = exact_pct(sorted, n, num, den);
    double err = fabs(got - (double)want);
    double rel = want ? err / (double)want : (err == 0.0 ? 0.0 : HUGE_VAL);
    if (rel > g_worst_rel)
        g_worst_rel = rel;
    if (rel > MAX_REL_ERR) {
        snprintf(why, whylen, "p%.4g got %.1f want %" PRIu64 " (rel %.4g, n=%zu)",
                 p, got, want, rel, n);
        return 0;
    }
    if (got < (double)sorted[0] || got > (double)sorted[n - 1]) {
        snprintf(why, whylen, "p%.4g = %.1f outside [min %" PRIu64 ", max %" PRIu64 "]",
                 p, got, sorted[0], sorted[n - 1]);
        return 0;
    }
    return 1;
}

/* The whole contract for one data set: the values are copied and sorted here,
 * the histogram gets them in their original order. */
static void check_dataset(const uint64_t *vals, size_t n, const char *what)
{
    uint64_t *sorted = malloc(n * sizeof *sorted);
    memcpy(sorted, vals, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_u64);

    ms_hist *h = ms_hist_new();
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        ms_hist_record(h, vals[i]);
        total += vals[i];
    }
    CHECK(ms_hist_count(h) == n, "%s: count %" PRIu64 " want %zu", what, ms_hist_count(h), n);
    CHECK(ms_hist_total_ns(h) == total, "%s: total %" PRIu64 " want %" PRIu64,
          what, ms_hist_total_ns(h), total);
    CHECK(ms_hist_min(h) == sorted[0], "%s: min %" PRIu64 " want %" PRIu64,
          what, ms_hist_min(h), sorted[0]);
    CHECK(ms_hist_max(h) == sorted[n - 1], "%s: max %" PRIu64 " want %" PRIu64,
          what, ms_hist_max(h), sorted[n - 1]);

    /* Named percentiles: p50, p90, p99, p99.9, p99.99. */
    static const uint64_t named[][2] = {
        {500, 1000}, {900, 1000}, {990, 1000}, {999, 1000}, {9999, 10000}};
    char why[160] = "";
    for (size_t k = 0; k < sizeof named / sizeof named[0]; k++)
        CHECK(pct_ok(h, sorted, n, named[k][0], named[k][1], why, sizeof why),
              "%s: %s", what, why);
    /* Sweep 0.1 .. 100 in steps of 0.1; one check, first failure reported. */
    unsigned bad = 0;
    char first[160] = "";
    for (uint64_t q = 1; q <= 1000; q++)
        if (!pct_ok(h, sorted, n, q, 1000, why, sizeof why) && bad++ == 0)
            memcpy(first, why, sizeof first);
    CHECK(bad == 0, "%s: %u of 1000 sweep points wrong, first: %s", what, bad, first);

    double p100 = ms_hist_percentile(h, 100.0);
    CHECK(p100 == (double)sorted[n - 1], "%s: p100 %.1f not exact max %" PRIu64,
          what, p100, sorted[n - 1]);
    CHECK(ms_hist_percentile(h, 0.0) == (double)sorted[0], "%s: p0 not min", what);
    CHECK(ms_hist_percentile(h, 150.0) == p100, "%s: p>100 not clamped", what);
    CHECK(ms_hist_percentile(h, -3.0) == (double)sorted[0], "%s: p<0 not clamped", what);
    CHECK(ms_hist_percentile(h, NAN) == (double)sorted[0], "%s: NaN p not min", what);

    ms_hist_free(h);
    free(sorted);
}

enum dist { UNIFORM, LOG_UNIFORM, PARETO, SMALL_RANDOM };

/* Generators for the distributions the brief names; pareto is clamped at
 * 2^40 ns (the range the recorder must support) to keep sums exact. */
static void gen(enum dist d, uint64_t seed, uint64_t *out, size_t n)
{
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) {
        switch (d) {
        case UNIFORM: /* 1 .. 1e9 */
            out[i] = 1 + rng_next(&s) % 1000000000ull;
            break;
        case LOG_UNIFORM: /* 1 ns .. 100 s */
            out[i] = (uint64_t)exp(rng_unit(&s) * log(1e11));
            break;
        case PARETO: { /* x_m = 1 us, alpha = 1.1: very heavy tail */
            double x = 1000.0 / pow(rng_unit(&s), 1.0 / 1.1);
            out[i] = x > 1099511627776.0 ? 1099511627776ull : (uint64_t)x;
            break;
        }
        case SMALL_RANDOM: /* spread over many magnitudes */
        {
            uint64_t bits = rng_next(&s);
            unsigned sh = (unsigned)(rng_next(&s) % 64);
            out[i] = (bits >> sh) & ((1ull << 40) - 1);
        }
            break;
        }
    }
}

static void test_distributions(void)
{
    static const char *names[] = {"uniform", "log-uniform", "pareto", "small-random"};
    static const uint64_t seeds[] = {1, 42, 20240601};
    uint64_t *v = malloc(BIG_N * sizeof *v);
    char what[96];
    for (int d = UNIFORM; d <= PARETO; d++) {
        for (size_t k = 0; k < sizeof seeds / sizeof seeds[0]; k++) {
            gen((enum dist)d, seeds[k], v, BIG_N);
            snprintf(what, sizeof what, "%s seed %" PRIu64, names[d], seeds[k]);
            check_dataset(v, BIG_N, what);
        }
    }
    /* Small counts: rank rounding matters most here. */
    static const size_t smalls[] = {1, 2, 3, 7, 10, 101, 1000};
    for (size_t k = 0; k < sizeof smalls / sizeof smalls[0]; k++) {
        for (uint64_t seed = 1; seed <= 5; seed++) {
            gen(SMALL_RANDOM, seed * 7919, v, smalls[k]);
            snprintf(what, sizeof what, "small n=%zu seed %" PRIu64, smalls[k], seed);
            check_dataset(v, smalls[k], what);
        }
    }
    /* Constant values, including 0 and the 2^40 range edge. */
    static const uint64_t consts[] = {0, 1, 255, 256, 257, 12345, 999999937, 1ull << 40};
    for (size_t k = 0; k < sizeof consts / sizeof consts[0]; k++) {
        for (size_t i = 0; i < 1000; i++)
            v[i] = consts[k];
        snprintf(what, sizeof what, "constant %" PRIu64, consts[k]);
        check_dataset(v, 1000, what);
    }
    /* Bucket edges: powers of two and their neighbours, where an off-by-one
     * in the index math would show. */
    size_t n = 0;
    for (int e = 0; e <= 40; e++) {
        uint64_t p = 1ull << e;
        v[n++] = p - 1;
        v[n++] = p;
        v[n++] = p + 1;
    }
    check_dataset(v, n, "powers of two +-1");
    free(v);
}

/* Captures the CDF text so two histograms can be compared byte for byte. */
static char *cdf_text(const ms_hist *h)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    int rc = ms_hist_write_cdf(h, f);
    fclose(f);
    CHECK(rc == 0, "write_cdf returned %d", rc);
    return buf;
}

static void test_merge_reset_empty(void)
{
    uint64_t *v = malloc(BIG_N * sizeof *v);
    gen(LOG_UNIFORM, 77, v, BIG_N);
    ms_hist *whole = ms_hist_new(), *a = ms_hist_new(), *b = ms_hist_new();
    for (size_t i = 0; i < BIG_N; i++) {
        ms_hist_record(whole, v[i]);
        ms_hist_record(i < BIG_N / 2 ? a : b, v[i]);
    }
    ms_hist_merge(a, b);
    CHECK(ms_hist_count(a) == ms_hist_count(whole), "merge: count");
    CHECK(ms_hist_total_ns(a) == ms_hist_total_ns(whole), "merge: total");
    CHECK(ms_hist_min(a) == ms_hist_min(whole), "merge: min");
    CHECK(ms_hist_max(a) == ms_hist_max(whole), "merge: max");
    for (int q = 0; q <= 1000; q++) {
        double p = q / 10.0;
        CHECK(ms_hist_percentile(a, p) == ms_hist_percentile(whole, p),
              "merge: p%.1f differs", p);
    }
    char *ta = cdf_text(a), *tw = cdf_text(whole);
    CHECK(strcmp(ta, tw) == 0, "merge: CDF output differs");
    free(ta);
    free(tw);

    /* Merging an empty histogram changes nothing; merging into an empty one
     * copies (min must not stay at the empty sentinel). */
    ms_hist *e = ms_hist_new();
    uint64_t before = ms_hist_count(a);
    ms_hist_merge(a, e);
    CHECK(ms_hist_count(a) == before && ms_hist_min(a) == ms_hist_min(whole),
          "merge: empty src changed dst");
    ms_hist_merge(e, whole);
    CHECK(ms_hist_min(e) == ms_hist_min(whole) && ms_hist_max(e) == ms_hist_max(whole) &&
              ms_hist_percentile(e, 50) == ms_hist_percentile(whole, 50),
          "merge: into empty dst");

    /* Reset returns to the empty state and stays usable. */
    ms_hist_reset(a);
    CHECK(ms_hist_count(a) == 0 && ms_hist_total_ns(a) == 0 && ms_hist_min(a) == 0 &&
              ms_hist_max(a) == 0 && ms_hist_percentile(a, 50) == 0.0,
          "reset: not empty");
    ms_hist_record(a, 5000);
    CHECK(ms_hist_count(a) == 1 && ms_hist_min(a) == 5000 && ms_hist_max(a) == 5000 &&
              ms_hist_percentile(a, 1) == 5000.0 && ms_hist_percentile(a, 100) == 5000.0,
          "reset: record after reset");

    /* Empty histogram. */
    ms_hist *z = ms_hist_new();
    CHECK(ms_hist_count(z) == 0 && ms_hist_total_ns(z) == 0 && ms_hist_min(z) == 0 &&
              ms_hist_max(z) == 0, "empty: stats not zero");
    CHECK(ms_hist_percentile(z, 0) == 0.0 && ms_hist_percentile(z, 50) == 0.0 &&
              ms_hist_percentile(z, 100) == 0.0, "empty: percentile not 0");
    char *tz = cdf_text(z);
    CHECK(strcmp(tz, "value_us,fraction\n") == 0, "empty: CDF is not just the header: %s", tz);
    free(tz);

    /* Full range: UINT64_MAX lands in the last bucket, total saturates. */
    ms_hist_record(z, UINT64_MAX);
    ms_hist_record(z, UINT64_MAX);
    ms_hist_record(z, 0);
    CHECK(ms_hist_total_ns(z) == UINT64_MAX, "saturation: total");
    CHECK(ms_hist_max(z) == UINT64_MAX && ms_hist_min(z) == 0, "full range: min/max");
    CHECK(ms_hist_percentile(z, 100) == (double)UINT64_MAX, "full range: p100");
    CHECK(ms_hist_percentile(z, 33) == 0.0, "full range: p33 should be 0");

    ms_hist_free(z);
    ms_hist_free(e);
    ms_hist_free(whole);
    ms_hist_free(a);
    ms_hist_free(b);
    free(v);
}

/* The CDF must state exact facts: fraction == share of values <= value. */
static void test_cdf_content(void)
{
    enum { N = 20000 };
    uint64_t *v = malloc(N * sizeof *v);
    gen(LOG_UNIFORM, 5, v, N);
    ms_hist *h = ms_hist_new();
    for (size_t i = 0; i < N; i++)
        ms_hist_record(h, v[i] % 100000000000ull);
    for (size_t i = 0; i < N; i++)
        v[i] %= 100000000000ull;
    qsort(v, N, sizeof *v, cmp_u64);

    char *text = cdf_text(h);
    char *save = NULL;
    char *line = strtok_r(text, "\n", &save);
    CHECK(line && strcmp(line, "value_us,fraction") == 0, "cdf: header");
    double prev_val = -1.0, prev_frac = 0.0, last_val = 0, last_frac = 0;
    size_t rows = 0, j = 0;
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        double val, frac;
        if (sscanf(line, "%lf,%lf", &val, &frac) != 2) {
            CHECK(0, "cdf: bad line '%s'", line);
            break;
        }
        rows++;
        CHECK(val > prev_val && frac > prev_frac, "cdf: not increasing at '%s'", line);
        uint64_t ns = (uint64_t)llround(val * 1000.0);
        while (j < N && v[j] <= ns)
            j++;
        CHECK(fabs(frac - (double)j / N) < 1e-8, "cdf: '%s' but share <= is %.9f",
              line, (double)j / N);
        prev_val = last_val = val;
        prev_frac = last_frac = frac;
    }
    CHECK(rows > 100, "cdf: only %zu rows", rows);
    CHECK(last_frac == 1.0 && llround(last_val * 1000.0) == (long long)v[N - 1],
          "cdf: last row %.3f,%.9f is not (max, 1)", last_val, last_frac);
    free(text);
    ms_hist_free(h);
    free(v);
}

/* Reads a whole small file, for comparing CSV output. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    buf[got] = '\0';
    fclose(f);
    return buf;
}

static void test_pause_log(const char *dir)
{
    ms_pause_log *log = ms_pause_log_new(4);
    const uint64_t t0 = 1000000000ull;
    for (int i = 0; i < 10; i++) {
        ms_pause_event ev = {
            .start_ns = t0 + (uint64_t)i * 1500000u, /* every 1.5 ms */
            .duration_ns = 2500u + (uint64_t)i,
            .generation = i % 3,
            .collected = (uint64_t)i * 1000u,
        };
        ms_pause_log_add(log, &ev);
    }
    CHECK(ms_pause_log_len(log) == 4, "pause_log: len %zu want 4", ms_pause_log_len(log));
    CHECK(ms_pause_log_dropped(log) == 6, "pause_log: dropped %zu want 6",
          ms_pause_log_dropped(log));
    const ms_pause_event *e3 = ms_pause_log_at(log, 3);
    CHECK(e3 && e3->generation == 0 && e3->collected == 3000 && e3->duration_ns == 2503,
          "pause_log: event 3 content");
    CHECK(ms_pause_log_at(log, 4) == NULL, "pause_log: at(len) not NULL");

    char path[512], tmp[600];
    snprintf(path, sizeof path, "%s/pauses.csv", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    /* t0 half a ms after the first event: its t_ms must come out negative. */
    int rc = ms_pause_log_write_csv(log, path, t0 + 500000u);
    CHECK(rc == 0, "pause_log: write_csv rc %d errno %d", rc, errno);
    char *text = slurp(path);
    const char *want = "t_ms,duration_us,generation,collected\n"
                       "-0.500000,2.500,0,0\n"
                       "1.000000,2.501,1,1000\n"
                       "2.500000,2.502,2,2000\n"
                       "4.000000,2.503,0,3000\n";
    CHECK(text && strcmp(text, want) == 0, "pause_log: CSV content:\n%s", text ? text : "(none)");
    free(text);
    CHECK(access(tmp, F_OK) != 0, "pause_log: %s left behind", tmp);

    char bad[600];
    snprintf(bad, sizeof bad, "%s/no/such/dir/p.csv", dir);
    errno = 0;
    rc = ms_pause_log_write_csv(log, bad, t0);
    CHECK(rc == -1 && errno == ENOENT, "pause_log: bad path rc %d errno %d", rc, errno);
    ms_pause_log_free(log);

    ms_pause_log *none = ms_pause_log_new(0);
    ms_pause_event ev = {0};
    ms_pause_log_add(none, &ev);
    ms_pause_log_add(none, &ev);
    CHECK(ms_pause_log_len(none) == 0 && ms_pause_log_dropped(none) == 2 &&
              ms_pause_log_at(none, 0) == NULL, "pause_log: capacity 0");
    ms_pause_log_free(none);
    unlink(path);
}

/* The writers replace only regular files (atomic_file.h): a FIFO, a symbolic
 * link or a stale FIFO at the tmp name are left as they are and the write fails;
 * ms_output_target_ok says what is there before anything is written. */
static void test_output_targets(const char *dir)
{
    ms_pause_log *log = ms_pause_log_new(4);
    ms_pause_event ev = {.start_ns = 1, .duration_ns = 2};
    ms_pause_log_add(log, &ev);
    char fifo[512], link[512], target[512], tmpfifo[512], tmp[600], err[1200];
    snprintf(fifo, sizeof fifo, "%s/fifo.csv", dir);
    snprintf(link, sizeof link, "%s/link.csv", dir);
    snprintf(target, sizeof target, "%s/target.csv", dir);
    snprintf(tmpfifo, sizeof tmpfifo, "%s/t.csv", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", tmpfifo);
    struct stat st;
    CHECK(mkfifo(fifo, 0600) == 0 && mkfifo(tmp, 0600) == 0, "mkfifo: %s", strerror(errno));
    FILE *f = fopen(target, "w");
    if (f) {
        fputs("keep\n", f);
        fclose(f);
    }
    CHECK(symlink(target, link) == 0, "symlink: %s", strerror(errno));

    CHECK(ms_pause_log_write_csv(log, fifo, 0) == -1 && lstat(fifo, &st) == 0 && S_ISFIFO(st.st_mode),
          "atomic write replaced a FIFO");
    CHECK(ms_pause_log_write_csv(log, link, 0) == -1 && lstat(link, &st) == 0 && S_ISLNK(st.st_mode),
          "atomic write replaced a symbolic link");
    char *text = slurp(target);
    CHECK(text && strcmp(text, "keep\n") == 0, "the symlink's target was written: %s", text ? text : "(gone)");
    free(text);
    CHECK(ms_pause_log_write_csv(log, tmpfifo, 0) == -1 && lstat(tmp, &st) == 0 && S_ISFIFO(st.st_mode) &&
              access(tmpfifo, F_OK) != 0, "atomic write opened a FIFO at its tmp name");
    CHECK(ms_pause_log_write_csv(log, target, 0) == 0 && lstat(target, &st) == 0 && S_ISREG(st.st_mode),
          "atomic write refused a regular file");

    CHECK(!ms_output_target_ok(fifo, "--x", err, sizeof err) && strstr(err, "--x: ") && strstr(err, "a FIFO"),
          "target check, FIFO: %s", err);
    CHECK(!ms_output_target_ok(link, "--x", err, sizeof err) && strstr(err, "a symbolic link"), "symlink: %s", err);
    CHECK(!ms_output_target_ok(dir, "--x", err, sizeof err) && strstr(err, "a directory"), "directory: %s", err);
    CHECK(!ms_output_target_ok("/dev/null", "--x", err, sizeof err) && strstr(err, "a character device"),
          "/dev/null: %s", err);
    char missing[600];
    snprintf(missing, sizeof missing, "%s/no/such.csv", dir);
    CHECK(!ms_output_target_ok(missing, "--x", err, sizeof err) && strstr(err, "does not exist"), "missing dir: %s", err);
    CHECK(!ms_output_target_ok("a\033b/c", "--x", err, sizeof err) && strstr(err, "a\\x1bb/c") &&
              !strchr(err, '\033'), "an echoed path is escaped: %s", err);
    CHECK(ms_output_target_ok(target, "--x", err, sizeof err), "regular file refused: %s", err);
    snprintf(missing, sizeof missing, "%s/new.csv", dir);
    CHECK(ms_output_target_ok(missing, "--x", err, sizeof err), "new path refused: %s", err);
    unlink(fifo);
    unlink(tmp);
    unlink(link);
    unlink(target);
    ms_pause_log_free(log);
}

/* Stops the compiler from eliding the allocation it cannot see used. */
static void *volatile g_sink;
static volatile unsigned g_touched;

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)ms * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_rss(const char *dir)
{
    int reset_ok = ms_rss_reset_peak() == 0;
    if (!reset_ok)
        printf("note: ms_rss_reset_peak failed (errno %d); peak covers process lifetime\n", errno);
    /* A sampler that failed to start is NULL; the API must shrug it off. */
    ms_rss_mark(NULL);
    ms_rss_stop(NULL);
    errno = 0;
    CHECK(ms_rss_len(NULL) == 0 && ms_rss_max_sampled(NULL) == 0 &&
              ms_rss_write_csv(NULL, "/nonexistent") == -1 && errno == EINVAL,
          "rss: NULL sampler not handled");

    uint64_t base = ms_rss_current_bytes();
    CHECK(base > 0, "rss: current bytes is 0");

    uint64_t t0 = ms_now_ns();
    ms_rss_sampler *s = ms_rss_start(0, 1000, t0, -1);
    CHECK(s != NULL, "rss: start failed (errno %d)", errno);
    if (!s)
        return;
    sleep_ms(5);
    char *p = malloc(RSS_ALLOC_BYTES);
    CHECK(p != NULL, "rss: malloc of %zu bytes failed", RSS_ALLOC_BYTES);
    if (!p) {
        ms_rss_free(s);
        return;
    }
    g_sink = p;
    memset(p, 1, RSS_ALLOC_BYTES);
    /* Reading the pages back makes the memset observable, so it is kept. */
    unsigned sum = 0;
    for (size_t i = 0; i < RSS_ALLOC_BYTES; i += 4096)
        sum += (unsigned char)p[i];
    g_touched = sum;
    ms_rss_mark(s);
    sleep_ms(10);
    uint64_t peak = ms_rss_peak_bytes();
    free(p);
    g_sink = NULL;
    ms_rss_mark(s);
    sleep_ms(5);
    ms_rss_stop(s);
    ms_rss_stop(s); /* idempotent */
    ms_rss_mark(s); /* ignored after stop */

    uint64_t maxs = ms_rss_max_sampled(s);
    CHECK(maxs >= base + RSS_MIN_RISE, "rss: max sampled %" PRIu64 " MiB, base %" PRIu64 " MiB",
          maxs >> 20, base >> 20);
    CHECK(peak >= base + RSS_MIN_RISE, "rss: VmHWM %" PRIu64 " MiB, base %" PRIu64 " MiB",
          peak >> 20, base >> 20);
    /* Both numbers come from the kernel's per-CPU batched RSS counters, read
     * at different moments, so they may disagree by a few hundred KiB. */
    CHECK(ms_rss_peak_bytes() + RSS_COUNTER_SLACK >= maxs,
          "rss: VmHWM %" PRIu64 " below sampled max %" PRIu64, ms_rss_peak_bytes(), maxs);
    size_t len = ms_rss_len(s);
    CHECK(len >= 5, "rss: only %zu samples", len);

    /* The reset itself: once the block is gone, a fresh reset must bring the
     * peak down (skipped when the allocator keeps the memory, e.g. ASan). */
    if (reset_ok && ms_rss_current_bytes() < base + RSS_MIN_RISE / 4) {
        CHECK(ms_rss_reset_peak() == 0, "rss: second reset failed");
        CHECK(ms_rss_peak_bytes() < base + RSS_MIN_RISE,
              "rss: VmHWM %" PRIu64 " MiB after reset", ms_rss_peak_bytes() >> 20);
    }

    char path[512];
    snprintf(path, sizeof path, "%s/rss.csv", dir);
    int rc = ms_rss_write_csv(s, path);
    CHECK(rc == 0, "rss: write_csv rc %d errno %d", rc, errno);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL, "rss: CSV missing");
    if (f) {
        char line[128];
        CHECK(fgets(line, sizeof line, f) && strcmp(line, "t_ms,rss_mb\n") == 0,
              "rss: CSV header");
        size_t rows = 0;
        double prev_t = -1e300, max_mb = 0;
        int sorted = 1;
        while (fgets(line, sizeof line, f)) {
            double t, mb;
            if (sscanf(line, "%lf,%lf", &t, &mb) != 2) {
                CHECK(0, "rss: bad CSV line '%s'", line);
                break;
            }
            if (t < prev_t)
                sorted = 0;
            prev_t = t;
            if (mb > max_mb)
                max_mb = mb;
            rows++;
        }
        fclose(f);
        CHECK(rows >= 5 && rows == len, "rss: CSV rows %zu, samples %zu", rows, len);
        CHECK(sorted, "rss: CSV time not non-decreasing");
        CHECK(prev_t >= 0.0, "rss: CSV last time %.3f before t0", prev_t);
        CHECK(fabs(max_mb - (double)maxs / 1048576.0) < 0.01,
              "rss: CSV max %.3f MiB vs sampled %.3f", max_mb, (double)maxs / 1048576.0);
    }
    unlink(path);
    ms_rss_free(s);
    ms_rss_free(NULL);
}

/* The sampler on another process (what a cpython cell samples): a child that
 * touches RSS_ALLOC_BYTES the parent never holds, then waits to be killed. Its
 * samples show the rise; rebase keeps one sample before the new origin; a child
 * that is gone gives no samples, not zeros. */
static void test_rss_child(void)
{
    int ready[2];
    CHECK(pipe(ready) == 0, "rss child: pipe");
    uint64_t t0 = ms_now_ns();
    pid_t pid = fork();
    if (pid == 0) {
        char *p = malloc(RSS_ALLOC_BYTES);
        if (p) memset(p, 1, RSS_ALLOC_BYTES);
        g_sink = p;
        if (write(ready[1], "x", 1) != 1) _exit(1);
        pause();
        _exit(0);
    }
    CHECK(pid > 0, "rss child: fork");
    if (pid <= 0) return;
    ms_rss_sampler *s = ms_rss_start(pid, 1000, t0, -1);
    CHECK(s != NULL, "rss child: start failed (errno %d)", errno);
    char c;
    CHECK(read(ready[0], &c, 1) == 1, "rss child: never ready");
    ms_rss_mark(s);
    sleep_ms(5);
    uint64_t mid = ms_now_ns();
    sleep_ms(5);
    ms_rss_rebase(s, mid);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    sleep_ms(3); /* a read begun before the kill may still be appended */
    size_t before = ms_rss_len(s);
    sleep_ms(5);
    CHECK(ms_rss_mark(s) == 0, "rss child: a sample of a process that is gone");
    ms_rss_stop(s);
    CHECK(ms_rss_len(s) == before, "rss child: %zu samples after it died, %zu before", ms_rss_len(s), before);
    CHECK(ms_rss_max_sampled(s) >= RSS_MIN_RISE && ms_rss_current_bytes() < RSS_MIN_RISE,
          "rss child: max sampled %" PRIu64 " MiB (ours %" PRIu64 " MiB)", ms_rss_max_sampled(s) >> 20,
          ms_rss_current_bytes() >> 20);
    char path[] = "/tmp/ms_test_rss_child_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0 && ms_rss_write_csv(s, path) == 0, "rss child: CSV");
    FILE *f = fopen(path, "r");
    char line[128];
    int negative = 0, rows = 0;
    while (f && fgets(line, sizeof line, f))
        if (rows++ > 0) negative += strtod(line, NULL) < 0;
    CHECK(rows > 3 && negative == 1, "rss child: %d rows, %d before the origin (want 1)", rows - 1, negative);
    if (f) fclose(f);
    if (fd >= 0) close(fd);
    unlink(path);
    close(ready[0]);
    close(ready[1]);
    ms_rss_free(s);
}

int main(void)
{
    uint64_t start = ms_now_ns();
    char dir[] = "/tmp/ms_test_hist_XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    test_distributions();
    test_merge_reset_empty();
    test_cdf_content();
    test_pause_log(dir);
    test_output_targets(dir);
    test_rss_child(); /* first: our own RSS is still small then, even under ASan */
    test_rss(dir);
    rmdir(dir);

    /* pause_hist.h promises more than the 1%: midpoints are within 1/256. */
    CHECK(g_worst_rel < 1.0 / 256.0, "worst relative error %.6f not below 1/256", g_worst_rel);
    printf("worst percentile relative error: %.5f%% (limit %.1f%%)\n",
           g_worst_rel * 100.0, MAX_REL_ERR * 100.0);
    printf("time: %.2f s\n", (double)(ms_now_ns() - start) / 1e9);
    return check_summary();
}
