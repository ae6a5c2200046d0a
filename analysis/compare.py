"""compare.py — `memstrat compare RUN_A RUN_B [--alpha P] [--noise-floor PCT] [--csv FILE]`.

Contract (harness/compare.c's): both runs are read by runs.load_run (damaged = bad input); cells
match by name. Per common cell and metric: B/A of the medians and p of the two-sided Mann–Whitney
U test (scipy.stats.mannwhitneyu, method by scipy 1.10's 'auto' rule, named in the CSV); marked
only when p < alpha AND |B/A - 1| > noise floor ('+': B higher, worse for all three). Exit 0 when
compared, whatever was found; 2 with one line for bad input (options, a missing or damaged run, no
common cell, a --csv target that is not a regular or new file: refused before anything is loaded).
"""
import functools, math, os, warnings  # noqa: E401

import numpy as np

from . import core, runs

DEFAULT_ALPHA = 0.05     # the conventional significance level, and Google Benchmark compare.py's
# Smallest change (%) marked when p < alpha: runs taken at different times differ as a whole by 1-2%.
DEFAULT_NOISE_PCT = 2.0
MAX_NOISE_PCT = 1000.0   # beyond this nothing could ever be marked
MIN_REPS = 2             # fewer good repetitions on a side: no test (compare.py's UTEST_MIN_REPETITIONS)
EXACT_MAX_SMALL = 8      # scipy 1.10 'auto': exact while one side has <= 8 values and nothing ties
# (metric in the run, CSV name, table heading, why it is n/a when zero throughout both runs)
METRICS = (("real_time_ms", "time_ms", "time (median ms)", "zero time"),
           ("pause_p99_us", "pause_p99_us", "p99 pause", "no pauses"),
           ("rss_peak_mb", "rss_peak_mb", "peak RSS", "zero RSS"))
GROUP_W, MEDIANS_W = 19, 22  # table widths: "  ratio       p m" per metric; " A B" medians
CSV_HEADER = ["cell", "metric", "a_median", "b_median", "ratio", "p_value", "test", "significant"]

def u_method(a, b):
    """scipy 1.10's method='auto' rule made explicit: exact when one sample has at most 8 values
    and the pooled sample has no ties, else asymptotic (tie and continuity corrected)."""
    untied = np.unique(np.concatenate([a, b])).size == len(a) + len(b)
    return "exact" if min(len(a), len(b)) <= EXACT_MAX_SMALL and untied else "asymptotic"

def u_test(a, b):
    """(p, 'exact' | 'normal') of the two-sided Mann–Whitney U test; a constant pooled sample
    (zero variance) is no evidence either way: p = 1, and no numpy warning on stderr."""
    from scipy import stats  # here, not at the top: ~1 s that bad input should not wait for
    m = u_method(a, b)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        p = float(stats.mannwhitneyu(a, b, alternative="two-sided", method=m).pvalue)
    return (min(1.0, p) if math.isfinite(p) else 1.0), ("exact" if m == "exact" else "normal")

@functools.lru_cache(maxsize=None)
def min_p(n1, n2):
    """The smallest p these sizes can give (fully separated samples: 2/C(n1+n2, n1) when exact)."""
    return u_test(np.arange(n1, dtype=float), np.arange(n1, n1 + n2, dtype=float))[0]

def compare_one(a, b, good, zero_na, alpha, noise_pct):
    """One metric of one cell (a, b: finite values; good: successful reps of the cell in A, B)."""
    r = {"n": (len(a), len(b)), "a": core.median(a), "b": core.median(b), "ratio": math.nan,
         "p": math.nan, "test": "none", "na": None, "mark": 0, "under": False, "unreachable": False}
    if not len(a) or not len(b) or not (a.any() or b.any()):  # all-failed cell != missing metric
        r["na"] = ("failed in A" if not good[0] else "failed in B" if not good[1] else "absent" if not
                   len(a) and not len(b) else "absent in A" if not len(a) else "absent in B" if not len(b)
                   else zero_na)
        return r
    r["ratio"] = 1.0 if r["a"] == r["b"] else math.inf if r["a"] == 0 else r["b"] / r["a"]
    if min(len(a), len(b)) < MIN_REPS:
        return r
    r["p"], r["test"] = u_test(a, b)
    r["unreachable"] = not min_p(len(a), len(b)) < alpha
    if r["p"] < alpha:  # significant; marked only beyond the noise floor
        big = abs(r["ratio"] - 1.0) * 100.0 > noise_pct
        r["mark"], r["under"] = (1 if r["ratio"] > 1.0 else -1) if big else 0, not big
    return r

def number(text, ok, message):
    """A strict finite number satisfying ok, else Fail(2) with message ('0.05x', 'nan' refused)."""
    try:
        if math.isfinite(v := float(text)) and ok(v):
            return v
    except ValueError:
        pass
    raise core.usage(f"{message}, not '{core.printable(text)}'")

def load(path):
    """A run directory, named as missing or not a directory before the loader judges it."""
    if not os.path.isdir(path):
        raise core.usage(f"{core.printable(path)} is not a directory (expected a run directory)" if
                         os.path.exists(path) else f"cannot open run directory {core.printable(path)}: not found")
    return runs.load_run(path)

def print_table(pairs, rows, w):
    """The aligned table: a heading per metric group, one line per common cell (compare.c's)."""
    print(f"{'':<{w}}  {METRICS[0][2]:<{MEDIANS_W + GROUP_W - 2}}"
          + "".join(f"  {m[2]:<{GROUP_W - 2}}" for m in METRICS[1:]))
    print(f"{'cell':<{w}} {'A':>10} {'B':>10}" + f"  {'B/A':>7} {'p':>7}  " * len(METRICS))
    for (name, _, _), rs in zip(pairs, rows):
        line = f"{name:<{w}}" + "".join(" %10s" % "n/a" if math.isnan(v) else " %10.4g" % v
                                        for v in (rs[0]["a"], rs[0]["b"]))
        for r in rs:
            if r["na"]:
                line += f"  {'n/a (' + r['na'] + ')':<{GROUP_W - 2}}"
                continue
            ratio = "inf" if math.isinf(r["ratio"]) else f"{r['ratio']:.3f}"
            p = "n/a" if r["test"] == "none" else "<1e-4" if r["p"] < 1e-4 else f"{r['p']:.4f}"
            line += f"  {ratio:>7} {p:>7} {'+' if r['mark'] > 0 else '-' if r['mark'] < 0 else ' '}"
        print(line)

def main(argv):
    ap = core.ArgParser("compare", usage="memstrat compare RUN_A RUN_B [--alpha P] [--noise-floor PCT] [--csv FILE]",
                        description="B/A of median time, p99 pause, peak RSS per cell, with a U test.")
    ap.add_argument("dirs", nargs="*", metavar="RUN")
    ap.add_argument("--alpha", default=str(DEFAULT_ALPHA), help="significance level, 0 < P < 1 (default 0.05)")
    ap.add_argument("--noise-floor", default="2", help="smallest change in percent that is marked (default 2)")
    ap.add_argument("--csv", metavar="FILE", help="also write one row per cell x metric to FILE")
    o = ap.parse_intermixed_args(argv)
    alpha = number(o.alpha, lambda v: 0 < v < 1, "--alpha must be a number between 0 and 1")
    noise = number(o.noise_floor, lambda v: 0 <= v <= MAX_NOISE_PCT,
                   f"--noise-floor must be a percentage from 0 to {MAX_NOISE_PCT:.0f}")
    if len(o.dirs) != 2:
        raise core.usage(f"expected two run directories, got a third: '{core.printable(o.dirs[2])}'" if
                         len(o.dirs) > 2 else f"expected two run directories (RUN_A RUN_B), got {len(o.dirs)}")
    if o.csv == "":
        raise core.usage("option '--csv' needs a value")
    if o.csv is not None:  # a FIFO, device, symlink or directory is refused before any work
        try:
            core.check_output_path(o.csv, "the --csv file")
        except core.Fail as f:
            raise core.usage(f"cannot write {core.printable(o.csv)}: {f}")
    run = [load(d) for d in o.dirs]
    pairs = [(c.name, i, j) for i, c in enumerate(run[0].cells) if (j := run[1].index(c.name)) is not None]
    if not pairs:
        raise core.usage(f"no cells in common between {core.printable(o.dirs[0])} and {core.printable(o.dirs[1])}")
    rows = [[compare_one(core.finite(run[0].values(i, m[0])), core.finite(run[1].values(j, m[0])),
                         (run[0].ok_reps(i), run[1].ok_reps(j)), m[3], alpha, noise) for m in METRICS]
            for _, i, j in pairs]
    flat = [r for rs in rows for r in rs]
    if o.csv is not None:
        out = [[name, m[1], r["a"], r["b"], "inf" if math.isinf(r["ratio"]) else r["ratio"], r["p"], r["test"],
                str(int(r["mark"] != 0))] for (name, _, _), rs in zip(pairs, rows) for m, r in zip(METRICS, rs)]
        try:
            core.write_csv(o.csv, CSV_HEADER, out)
        except OSError as e:
            raise core.usage(f"cannot write {core.printable(o.csv)}: {e.strerror}")
    print("".join(f"{s}: {r.dir} (run {r.run_id}, {r.reps} reps)\n" for s, r in zip("AB", run)))
    print_table(pairs, rows, max([4] + [len(p[0]) for p in pairs]))
    marked, higher = sum(r["mark"] != 0 for r in flat), sum(r["mark"] > 0 for r in flat)
    under = sum(r["under"] for r in flat)
    print(f"\nB/A: ratio of the medians over the repetitions. p: two-sided Mann-Whitney U test over the repetitions\n"
          f"(exact when untied and one side has <= {EXACT_MAX_SMALL}, else normal approximation with tie and "
          f"continuity correction).\n+ / -: B significantly higher / lower (p < {alpha:g} and change > "
          f"{noise:g}%); for all three metrics higher is worse.")
    print(f"significant changes: {marked} ({higher} higher, {marked - higher} lower) in {len(flat)} comparisons"
          + (f"; {under} more with p < {alpha:g} within the {noise:g}% noise floor" if under else ""))
    print(*(f"only in {s}: {c.name}\n" for s, x, y in (("A", *run), ("B", *run[::-1])) for c in x.cells
            if y.index(c.name) is None), sep="", end="", flush=True)
    for n1, n2 in dict.fromkeys(r["n"] for r in flat if not r["na"] and r["test"] != "none" and r["unreachable"]):
        core.warn("compare", f"warning: with {n1} vs {n2} repetitions no difference can reach p < {alpha:g} "
                  f"(smallest possible p = {min_p(n1, n2):.4f}): nothing is marked there; run more --reps "
                  f"(5 vs 5 reaches 0.0079)")
    if few := sum(not r["na"] and r["test"] == "none" for r in flat):
        core.warn("compare", f"warning: {few} comparison(s) with fewer than {MIN_REPS} good repetitions on a "
                  f"side: no test (p n/a)")
    if (cpu := [runs.cpu_model(r.meta) for r in run])[0] != cpu[1]:
        core.warn("compare", f"warning: the runs are from different CPUs ({cpu[0]}; {cpu[1]})")
    return core.EXIT_OK
