"""tune.py — `memstrat tune CELL --grid AXIS...`: a grid of collector knobs, run, ranked.

Contract: (1) all is checked before anything runs, bad input is one line and exit 2: axes (knobs of
the cell's strategy by `memstrat list --json`), goal, and every cell by the runner's own check.
(2) The grid is the axes' cross product, first slowest; gen0..gen2 fill the `gc=T0,T1,T2` knob of a
strategy that declares one (700,10,10 where not given); the default cell and its `none` cell join.
(3) `$MEMSTRAT bench --no-latest` (a child) runs and publishes it, or --emit-jobs prints the bench
commands. (4) runs.load_run reads the run, as --from does: the same files give the same results.
(5) Pareto front over (max throughput, min p99, min peak RSS) medians; the goal picks the best point
by its objective among those meeting every constraint. Degenerate plots are skipped (one line).
"""
import collections, datetime, json, math, os, re, subprocess, sys  # noqa: E401

import numpy as np

from . import core, runs

MAX_AXES = 3  # three fill rc+gen's thresholds, and a heatmap shows three (x, y, panel)
DEFAULT_POINTS = 4  # points of a LO..HI axis by default: the ends and two between
MAX_AXIS_POINTS = 12  # 12 log-spaced points already step by ~1.6x over 100..20000
MAX_GRID_POINTS = 500  # 500 points x 3 reps of a 1 s cell is already 25 minutes
DEFAULT_REPS = 3  # a median and a CV at 3/5 of bench's default cost
MAX_CONSTRAINTS = 8  # one per metric and direction is plenty
GEN_DEFAULTS = (700, 10, 10)  # CPython's gc.get_threshold(), kept by a gen axis not given
GEN_LABELS = tuple(f"threshold ({u})" for u in ("container allocations", "gen0 collections", "gen1 collections"))
CHECK_TIMEOUT_S = 60  # the runner's check of the cells must not hang (a FIFO given as trace=)
MIN_PLOT_POINTS = 2  # fewer points with results show no trade-off (and break gnuplot's stats)
PAUSE_UNITS = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}
# Metric -> (summary column, units of an absolute bound, their names for a message).
METRICS = {"throughput": ("ops_per_s_median", {"": 1.0, "k": 1e3, "M": 1e6, "G": 1e9}, "ops/s, optionally k or M"),
           "p99": ("pause_p99_us_median", PAUSE_UNITS, "ns, us, ms, s"),
           "maxpause": ("pause_max_us_median", PAUSE_UNITS, "ns, us, ms, s"),
           "rss": ("rss_peak_mb_median", {"KB": 1 / 1024, "MB": 1.0, "GB": 1024.0, "KiB": 1 / 1024, "MiB": 1.0,
                                          "GiB": 1024.0}, "KB, MB, GB")}
OBJECTIVES = {"max-throughput": "throughput", "min-p99": "p99", "min-maxpause": "maxpause", "min-rss": "rss"}
NUMBER = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
FRONT = ("throughput", "p99", "rss")
OPTIONS = ("points", "reps", "goal", "out", "run_id", "from_")
USAGE = """\
usage: memstrat tune CELL --grid AXIS... [--points K] [--reps R] [--goal GOAL] [--out DIR]
                     [--run-id ID] [--no-plots] [--emit-jobs | --from RUN_DIR]
  AXIS  name=LO..HI (K log-spaced integers, K = --points 2..12, default 4) or name=a,b,c; gen0..gen2 set
        rc+gen's gc=T0,T1,T2 (700,10,10 where not given), other names are the strategy's knobs; <= 3 axes
  GOAL  max-throughput (default) | min-p99 | min-maxpause | min-rss, and/or METRIC<=V, METRIC>=V joined
        by ',' (throughput, p99, maxpause, rss; V: 2ms, 120MB, 1.5M, or +10% against the default cell)
  --reps R (3) per point; --emit-jobs prints one bench command per cell; --from RUN analyses a run
  (e.g. merged); --out DIR (results), --run-id ID (tune-<UTC>). See docs/tune.md.
"""
Axis = collections.namedtuple("Axis", "name gen values")  # gen: 0..2, or None for a knob as written
Point = collections.namedtuple("Point", "idx gc knobs cell")  # idx: an index into each axis
Constraint = collections.namedtuple("Constraint", "text metric op relative value")  # value: ops/s, us, MB or %

def shell_quote(s):
    """Always single-quoted, as the C commands printed them (jobs are pasted into sh)."""
    return "'" + s.replace("'", "'\\''") + "'"

def parse_count(text):
    """A non-negative integer (<= 18 digits, then k/m/g as in cells; the runner checks ranges), else None."""
    m = re.fullmatch(r"([0-9]{1,18})([kKmMgG]?)", text)
    return int(m[1]) * {"": 1, "k": 10**3, "m": 10**6, "g": 10**9}[m[2].lower()] if m else None

def logspace(lo, hi, k):
    """k log-spaced integers lo..hi, rounded, duplicates dropped: thresholds matter by ratio."""
    v = [str(hi if i == k - 1 else math.floor(lo * (hi / lo) ** (i / max(k - 1, 1)) + 0.5)) for i in range(k)]
    return [x for i, x in enumerate(v) if i == 0 or v[i - 1] != x]  # ascending: equal ones are neighbours

def refuse(checks, prefix=""):
    """The first (condition, message) that holds ends the command: one line, exit 2."""
    message = next((m for bad, m in checks if bad), None)
    if message is not None:
        raise core.usage(prefix + message)

def parse_axis(spec, cell, reg, axes, points):
    """`name=LO..HI` or `name=a,b,c` into an Axis, checked against the strategy's knobs."""
    name, _, v = spec.partition("=")
    where, strat, has_gc = f"grid axis '{core.printable(spec)}'", cell.reclaim, reg.knob("reclaim", cell.reclaim, "gc")
    gen = int(name[3]) if re.fullmatch(r"gen[0-2]", name) else None
    desc = reg.knob("reclaim", strat, name) if gen is None and name != "gc" else None
    known = [f"gen{g}" for g in range(min(reg.generations(strat), 3)) if has_gc] + [
        k["name"] for k in reg.strategy(strat)["knobs"] if k["name"] != "gc"]
    own = "gc" if gen is not None else name
    refuse([(not name or not v, f"{where} is not name=LO..HI or name=a,b,c"),
            (len(axes) == MAX_AXES, f"{where}: at most {MAX_AXES} axes"),
            (any(a.name == name for a in axes), f"grid axis '{core.printable(name)}' given twice"),
            (gen is not None and not has_gc, f"grid axis '{name}': strategy '{strat}' has no generation thresholds "
                                             "(gen0/gen1/gen2 tune rc+gen's gc= knob)"),
            (gen is None and not desc, f"unknown grid axis '{core.printable(name)}' for strategy '{strat}' "
                                       f"(its axes: {', '.join(known) or 'none'})"),
            (any(k == own for k, _ in cell.knobs), f"grid axis '{name}': the cell already sets {own}=; "
                                                  "leave it out, the grid sets it")])
    numeric = gen is not None or desc["kind"] != "string"
    if ".." in v:
        lo, hi = (parse_count(x) for x in v.split("..", 1))
        refuse([(not numeric, f"knob {name} is not numeric; give a list a,b,c"),
                (lo is None or hi is None, "LO and HI must be non-negative integers"),
                (None not in (lo, hi) and lo > hi, f"LO {lo} > HI {hi}"),
                (lo == 0, f"a log-spaced range needs LO >= 1 (list 0 explicitly: {name}=0,...)")], f"{where}: ")
        return Axis(name, gen, logspace(lo, hi, points))
    values = []
    for tok in v.split(","):
        x = (None if parse_count(tok) is None else str(parse_count(tok))) if numeric else tok
        refuse([(not tok, "empty value in the list"),
                (x is None, f"'{core.printable(tok)}' is not a non-negative integer"),
                (x in values, f"value '{core.printable(tok)}' listed twice"),
                (len(values) == MAX_AXIS_POINTS, f"more than {MAX_AXIS_POINTS} values")], f"{where}: ")
        values.append(x)
    return Axis(name, gen, values)

def parse_goal(text):
    """--goal into (objective metric, [Constraint]); Fail(2) naming the bad part."""
    objective, constraints, bad = None, [], f"--goal '{core.printable(text)}': "
    for tok in text.split(","):
        m = re.search(r"[<>]=?", tok)
        refuse([(not tok, "empty part"),
                (not m and tok not in OBJECTIVES, f"unknown goal '{core.printable(tok)}' (max-throughput, min-p99, "
                                                  "min-maxpause, min-rss, or METRIC<=VALUE / METRIC>=VALUE)"),
                (not m and objective, "more than one of max-throughput, min-p99, min-maxpause, min-rss")], bad)
        if not m:
            objective = OBJECTIVES[tok]
            continue
        metric, op, val = tok[:m.start()], m[0], tok[m.end():]
        relative = val[:1] in ("+", "-") and val.endswith("%")
        num, (_, units, unit_names) = NUMBER.match(val, 1 if relative else 0), METRICS.get(metric, (0, {}, ""))
        refuse([(len(constraints) == MAX_CONSTRAINTS, f"more than {MAX_CONSTRAINTS} constraints"),
                (metric not in METRICS, f"unknown metric '{core.printable(metric)}' (throughput, p99, maxpause, rss)"),
                (not val, f"'{core.printable(tok)}' has no value"),
                (relative and not (num and num.end() == len(val) - 1 and -100 < float(val[:-1]) < math.inf),
                 f"'{core.printable(val)}' is not a percentage like +10% or -5%"),
                (not relative and val.endswith("%"),
                 f"a relative bound needs a sign: +{core.printable(val)} (against the default cell)"),
                (not relative and not (num and math.isfinite(float(num[0])) and val[num.end():] in units),
                 f"'{core.printable(val)}' is not a number with a unit for {metric} ({unit_names})")], bad)
        value = float(val[:-1]) if relative else float(num[0]) * units[val[num.end():]]
        constraints.append(Constraint(tok, metric, op, relative, value))
    return objective or "throughput", constraints

def check_cells(binary, cells, what):
    """The runner's own check of the cells, in one process; when it refuses, the first refused is named."""
    def refusal(batch):
        try:
            p = subprocess.run([binary, "run", *batch, "--benchmark_list_tests=true"], capture_output=True,
                               text=True, errors="replace", timeout=CHECK_TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired) as e:
            return f"cannot check it with {core.printable(binary)} ({getattr(e, 'strerror', 'timed out')})"
        last = next((ln for ln in reversed(p.stderr.splitlines()) if ln.strip()), "refused by the runner")
        return p.returncode and core.printable(re.sub(r"^memstrat run: ", "", last))
    why = refusal(cells)
    if why:
        raise core.usage(next((f"{w}: {r}" for c, w in zip(cells, what) for r in [refusal([c])] if r), why))

def point(idx, axes, cell):
    """One grid point: axis indices, gc thresholds (None without gen axes), knob string (gc= first), cell."""
    gc = [int(next((a.values[i] for a, i in zip(axes, idx) if a.gen == g), d)) for g, d in enumerate(GEN_DEFAULTS)]
    gc = gc if any(a.gen is not None for a in axes) else None
    knobs = "/".join(([f"gc={','.join(map(str, gc))}"] if gc else [])
                     + [f"{a.name}={a.values[i]}" for a, i in zip(axes, idx) if a.gen is None])
    return Point(idx, gc, knobs, f"{cell.name}/{knobs}")

def build_points(cell, axes, reg):
    """The grid (first axis slowest), the default cell, the `none` cell (without the strategy's knobs)."""
    shape = [len(a.values) for a in axes]
    refuse([(math.prod(shape) > MAX_GRID_POINTS, f"grid has {math.prod(shape)} points, more than "
                                                 f"{MAX_GRID_POINTS}; use fewer --points or shorter lists")])
    # a real interpreter has no lower bound among the C models: no `none` cell beside it
    none = None if reg.strategy(cell.reclaim).get("interpreter") else "/".join(
        [cell.workload, "none", cell.allocator, cell.layout]
        + [f"{k}={v}" for k, v in cell.knobs if reg.knob("reclaim", cell.reclaim, k) is None])
    return [point(idx, axes, cell) for idx in np.ndindex(*shape)], cell.name, none

# ---- analysis -----------------------------------------------------------------------------
def metric_of(s, metric):
    """A metric's median from a cell's summary; NaN without one."""
    return s[METRICS[metric][0]] if s else math.nan

def pareto_front(ops, p99, rss):
    """Mask of the non-dominated points among those with all three values (NaN: no result)."""
    x = np.column_stack([-np.asarray(ops, float), np.asarray(p99, float), np.asarray(rss, float)])
    ok = np.isfinite(x).all(axis=1)
    dominated = ((x[:, None] <= x[None]).all(axis=2) & (x[:, None] < x[None]).any(axis=2)
                 & ok[:, None] & ok[None]).any(axis=0)
    return ok & ~dominated

def rank_key(s, objective):
    """Smaller is better: objective, throughput, p99, RSS, NaN last; ties keep grid order (stable)."""
    v = [-metric_of(s, objective) if objective == "throughput" else metric_of(s, objective),
         -s["ops_per_s_median"], s["pause_p99_us_median"], s["rss_peak_mb_median"]]
    return tuple(math.inf if math.isnan(x) else x for x in v)

def recommend(sums, objective, constraints, base):
    """(best or None, meets, bounds): the best point by the objective of those meeting every constraint."""
    bounds = [c.value if not c.relative else metric_of(base, c.metric) * (1 + c.value / 100) for c in constraints]
    ops = {"<": float.__lt__, "<=": float.__le__, ">": float.__gt__, ">=": float.__ge__}
    meets = [s is not None and all(ops[c.op](float(metric_of(s, c.metric)), float(b))
                                   for c, b in zip(constraints, bounds)) for s in sums]
    best = min((i for i, m in enumerate(meets) if m), key=lambda i: rank_key(sums[i], objective), default=None)
    return best, meets, bounds

def fmt_metric(metric, v):
    """A value in the metric's unit, scaled for reading (8.98k ops/s, 674 us, 8.1 MB)."""
    ops = (f"{v / 1e6:.3g}M" if v >= 1e6 else f"{v / 1e3:.3g}k" if v >= 1e3 else f"{v:.3g}") + " ops/s"
    return ("n/a" if math.isnan(v) else ops if metric == "throughput" else f"{v:.1f} MB" if metric == "rss"
            else f"{v / 1e3:.3g} ms" if v >= 1e3 else f"{v:.3g} us")

def rel_pct(v, ref):
    """v against ref in percent; NaN when either is missing or ref is zero."""
    return math.nan if math.isnan(v) or math.isnan(ref) or ref == 0 else (v / ref - 1.0) * 100.0

def describe(s, base):
    """One point's numbers in a line, its throughput against the default cell's."""
    rel = rel_pct(s["ops_per_s_median"], metric_of(base, "throughput"))
    rel = "n/a" if math.isnan(rel) else f"{rel:+.1f}%"
    return (f"throughput {fmt_metric('throughput', s['ops_per_s_median'])} ({rel} vs default), p99 pause "
            f"{fmt_metric('p99', s['pause_p99_us_median'])}, peak RSS {fmt_metric('rss', s['rss_peak_mb_median'])}")

class Tune:
    """One tune command, checked (cell, registry, axes, goal, points); then one run's analysis."""
    def report(self):
        """The table, the front and the recommendation, as printed and kept in tune.txt."""
        n, base, none, front, best = len(self.points), self.base, self.none, self.front, self.best
        o = [f"memstrat tune: {self.cell.name}, {n} grid points x {self.run.reps} reps, run {self.run.dir}",
             "%-4s %-28s %10s %12s %10s %10s %9s %6s %7s %s" % (
                 "#", "knobs", "time_ms", "ops/s", "p99_us", "max_us", "rss_mb", "cv%", "vs_none", "front")]
        for k, (p, s) in enumerate(zip(self.points, self.have)):
            ovh = s["overhead_vs_none_pct"] if s else math.nan
            o.append("%-4d %-28s " % (k + 1, p.knobs) + (
                ("failed (no successful repetition)" if s else "missing from the run") if not s or not s["reps"] else
                "%10.2f %12.0f %10.1f %10.1f %9.1f %6.1f %7s %s" % (
                    s["time_median_ms"], s["ops_per_s_median"], s["pause_p99_us_median"], s["pause_max_us_median"],
                    s["rss_peak_mb_median"], 0.0 if math.isnan(s["time_cv_pct"]) else s["time_cv_pct"],
                    "n/a" if math.isnan(ovh) else f"{ovh:+.0f}%", "*" if front[k] else "")))
        o.append(f"default ({self.default_cell}): " + (describe(base, base) if base else "no results"))
        o += [] if self.none_cell is None else [f"none ({self.none_cell}, lower bound): " + (
            f"time {none['time_median_ms']:.2f} ms; the default cell costs {base['overhead_vs_none_pct']:+.1f}% "
            "over it (LBO)" if none and base else "ran, but the default cell did not" if none else "no results")]
        o.append(f"Pareto front (max throughput, min p99 pause, min peak RSS): {int(front.sum())} of {n} points")
        o += ["  front: %-28s %s" % (self.points[k].knobs, describe(self.sums[k], base))
              for k in sorted(np.flatnonzero(front), key=lambda k: rank_key(self.sums[k], "throughput"))]
        o.append(f"goal: {self.goal or 'max-throughput'}")
        o += [f"  constraint {c.text}: {c.metric} {c.op}{fmt_metric(c.metric, b)}"
              for c, b in zip(self.constraints, self.bounds)]
        unbounded = next((c for c, b in zip(self.constraints, self.bounds) if math.isnan(b)), None)
        if best is None:
            o.append(f"recommend: none: constraint {unbounded.text} is relative to the default cell "
                     f"{self.default_cell}, which has no results" if unbounded else
                     f"recommend: none: no grid point meets {self.goal or 'the goal'} (of {n} points)")
        else:
            p = self.points[best]
            py = f"  ->  gc.set_threshold({', '.join(map(str, p.gc))})" if p.gc else ""
            o += [f"recommend: {p.knobs}{py}  [{sum(self.meets)} of {n} points meet the goal]",
                  f"  cell {p.cell}: {describe(self.sums[best], base)}"]
        return "".join(line + "\n" for line in o)

    def analyse(self, run_dir):
        """Steps 4-5 on a published run: report, tune.csv, tune.txt, plots. Exit status."""
        run, n = runs.load_run(run_dir, self.reg), len(self.points)
        ix = [run.index(p.cell) for p in self.points]
        refuse([(ix.count(None) == n, f"{run_dir} has none of the {n} grid points of {self.cell.name} "
                                      "(another cell or grid?)")])
        if None in ix:
            core.warn("tune", f"warning: {ix.count(None)} of {n} grid points are missing from {run_dir}")
        self.run, self.have = run, [run.sum[i] if i is not None else None for i in ix]
        self.sums = [s if s and s["reps"] and all(math.isfinite(metric_of(s, m)) for m in FRONT) else None
                     for s in self.have]
        self.base, self.none = (run.sum[i] if i is not None and run.sum[i]["reps"] else None
                                for i in (run.index(self.default_cell), self.none_cell and run.index(self.none_cell)))
        self.front = pareto_front(*([metric_of(s, m) for s in self.sums] for m in FRONT))
        self.best, self.meets, self.bounds = recommend(self.sums, self.objective, self.constraints, self.base)
        print(text := self.report(), end="", flush=True)
        cols = ("time_median_ms", "ops_per_s_median", "pause_p99_us_median", "pause_max_us_median",
                "pause_max_us_max", "rss_peak_mb_median", "time_cv_pct", "overhead_vs_none_pct")
        rows = [[str(k + 1), p.knobs, p.cell, *(a.values[j] for a, j in zip(self.axes, p.idx)),
                 "missing" if s is None else "ok" if self.sums[k] else "failed", str(s["reps"] if s else 0),
                 *(math.nan if not s else core.spread(run.values(i, "pause_max_us"))[2] if c == "pause_max_us_max"
                   else s[c] for c in cols),
                 rel_pct(s["ops_per_s_median"], metric_of(self.base, "throughput")) if s and self.base else math.nan,
                 str(int(self.front[k])), str(int(self.meets[k])), str(int(k == self.best))]
                for k, (p, i, s) in enumerate(zip(self.points, ix, self.have))]
        csv, txt = os.path.join(run_dir, "tune.csv"), os.path.join(run_dir, "tune.txt")
        try:
            core.write_csv(csv, ["point", "knobs", "cell", *(a.name for a in self.axes), "status", "reps", *cols,
                                 "throughput_vs_default_pct", "on_front", "meets_goal", "recommended"], rows)
            core.write_atomic(txt, f"command: {self.command}\n{text}")
        except OSError as e:
            raise core.Fail(core.EXIT_FAILED, f"cannot write {e.filename}: {e.strerror}")
        drawn = None if self.no_plots else self.plots()
        print(f"tune:   {csv} and {txt}{', heatmaps in plots/' if drawn else ''}", flush=True)
        return core.EXIT_FAILED if drawn is False else core.EXIT_OK

    def plots(self):
        """tune_grid.tsv, heatmaps, Pareto plot: True drawn, False failed, None skipped (said why)."""
        rows = ["xi\tyi\tzi\tknobs\tops_per_s\tp99_us\trss_mb\ton_front\trecommended"] + [
            "\t".join(map(str, [*(p.idx + (0, 0))[:3], p.knobs, *(core.fmt_num(metric_of(s, m)) or "NaN"
                                                                   for m in FRONT), int(f), int(k == self.best)]))
            for k, (p, s, f) in enumerate(zip(self.points, self.sums, self.front))]
        tsv, usable = os.path.join(self.run.dir, "plots", "tune_grid.tsv"), len(self.sums) - self.sums.count(None)
        try:
            os.makedirs(os.path.dirname(tsv), exist_ok=True)
            core.write_atomic(tsv, "\n".join(rows) + "\n")
        except OSError as e:
            return core.warn("tune", f"cannot write {tsv}: {e.strerror}") or False
        if usable < MIN_PLOT_POINTS:
            return core.warn("tune", f"skipping the heatmaps and the Pareto plot: {usable} of {len(self.sums)} grid "
                             f"points have results (a plot needs {MIN_PLOT_POINTS}); the table has them all")
        ax = self.axes + [None, None]
        label = [a and f"{a.name} {GEN_LABELS[a.gen] if a.gen is not None else '(knob value)'}" for a in ax]
        v = {"datafile": "plots/tune_grid.tsv", "outdir": "plots", "title_cell": self.cell.name,
             "title_machine": runs.cpu_model(self.run.meta),
             "xlabel_text": label[0], "ylabel_text": label[1] or "", "zname": ax[2].name if ax[2] else "",
             **{f"{c}vals": " ".join(a.values) if a else "-" for c, a in zip("xyz", ax)}}
        drawn = [core.gnuplot(f"{s}.gp", v, self.run.dir, "tune") for s in ("tune_heatmap", "tune_pareto")]
        return None if None in drawn else all(drawn)

    def bench(self, out, run_id):
        """Step 3 through `$MEMSTRAT bench` (its own signals and atomic publication), then step 4."""
        final = os.path.join(out, run_id)
        matrix, table = (os.path.join(out, f".tune-{run_id}.{x}.txt") for x in ("matrix", "bench"))
        try:
            os.makedirs(out, exist_ok=True)
            core.write_atomic(matrix, f"# memstrat tune {self.cell.name}: {len(self.points)} grid points, the default "
                              "cell and its none cell (none beside an interpreter)\n"
                              + "".join(c + "\n" for c in self.cells))
            core.warn("tune", f"{len(self.points)} grid points + default{' + none' * (self.none_cell is not None)}, "
                      f"{self.reps} reps each -> {final}")
            with open(table, "w") as tf:
                child = subprocess.Popen([self.binary, "bench", "--matrix", matrix, "--reps", str(self.reps), "--out",
                                          out, "--run-id", run_id, "--no-plots", "--no-latest", "--gcscan-n", "0"],
                                         stdout=tf)
            try:
                child.wait()
            finally:
                status = child.wait()  # after a Ctrl-C (which reached bench too) bench cleans up first
            if status < 0:
                raise core.Fail(core.EXIT_FAILED, f"memstrat bench died (signal {-status})")
            if status == core.EXIT_USAGE or status > 128 or not os.path.isdir(final):
                return status or core.EXIT_FAILED  # bench said why
            os.rename(table, os.path.join(final, "bench.txt"))
            os.rename(matrix, os.path.join(final, "tune_matrix.txt"))
            meta = runs.read_meta(final)
            if isinstance(meta.get("matrix"), dict):  # its path: the matrix kept in the run
                meta["matrix"]["path"] = os.path.realpath(os.path.join(final, "tune_matrix.txt"))
                core.write_atomic(os.path.join(final, "meta.json"), json.dumps(meta, indent="\t") + "\n")
        except OSError as e:
            raise core.Fail(core.EXIT_FAILED, f"cannot run the grid: {core.printable(e.filename or out)}: {e.strerror}")
        finally:
            for path in (matrix, table):
                if os.path.lexists(path):
                    os.unlink(path)
        return self.analyse(final) or status  # bench's non-zero status: some repetition failed

    def emit_jobs(self, out, run_id, command):
        """One self-contained `memstrat bench` command per cell on stdout; how to finish on stderr."""
        abs_out = os.path.abspath(out)
        jobs, n = f"{abs_out}/{run_id}-jobs", len(self.points)
        for cell, tag in zip(self.cells, [f"j-p{k:03d}" for k in range(1, n + 1)] + ["j-default", "j-none"]):
            print(f"printf '%s\\n' {shell_quote(cell)} | {shell_quote(self.binary)} bench --matrix /dev/stdin "
                  f"--reps {self.reps} --out {shell_quote(jobs)} --run-id {tag} --no-plots --no-latest --gcscan-n 0",
                  flush=True)
        also = " + none" * (self.none_cell is not None)
        core.warn("tune", f"{len(self.cells)} jobs ({n} grid points + default{also}) into {jobs}/j-*; "
                  f"then: {self.binary} "
                  f"merge {jobs}/j-* --out {abs_out} --run-id {run_id} && {command} --from {abs_out}/{run_id}")
        return core.EXIT_OK

def command_line(prefix, argv, drop_mode):
    """The command as typed, quoted; drop_mode leaves out what the --from follow-up must not repeat."""
    words, skip, dropped = [prefix], False, ("--out", "--run-id", "--reps", "--from")
    for a in argv:
        if skip or (drop_mode and a.split("=", 1)[0] in ("--emit-jobs", "--no-plots", *dropped)):
            skip = not skip and a in dropped
            continue
        words.append(shell_quote(a))
    return " ".join(words)

def main(argv):
    """Steps 1-5. As in the C: axes are the words after --grid with '=' and no '/' (CELL has '/')."""
    p = core.ArgParser("tune", add_help=False)
    for name, kw in (("words", {"nargs": "*"}), ("--grid", {"nargs": "*", "action": "extend"}),
                     *(("--" + o.strip("_").replace("_", "-"), {"dest": o}) for o in OPTIONS),
                     *((f, {"action": "store_true"}) for f in ("--emit-jobs", "--no-plots", "-h", "--help"))):
        p.add_argument(name, **kw)
    a = p.parse_intermixed_args(argv)
    axes = [g for g in a.grid or [] if "=" in g and "/" not in g]
    words, empty = a.words + [g for g in a.grid or [] if g not in axes], [o for o in OPTIONS if getattr(a, o) == ""]
    refuse([(empty, f"option '--{(empty or [''])[0].strip('_').replace('_', '-')}' needs a value")] + [
        (v is not None and not (re.fullmatch(r"[0-9]+", v) and lo <= int(v) <= hi),
         f"--{opt} must be an integer from {lo} to {hi}, not '{core.printable(v)}'")
        for opt, lo, hi, v in (("points", 2, MAX_AXIS_POINTS, a.points), ("reps", 1, core.MAX_REPS, a.reps))] + [
        (a.grid is not None and not axes, "--grid needs at least one axis name=LO..HI or name=a,b,c"),
        (len(words) > 1, f"unexpected argument '{core.printable((words or [''])[-1])}' (one CELL; grid axes follow "
                         "--grid)")])
    if a.help or a.h:
        sys.stdout.write(USAGE)
        return core.EXIT_OK
    refuse([(not words, "no CELL given (e.g. request/rc+gen/pool/slots)"),
            (not axes, "no grid given (e.g. --grid gen0=100..20000 gen1=2..50)"),
            (a.emit_jobs and a.from_, "--emit-jobs and --from exclude each other"),
            (a.from_ and (a.reps or a.out or a.run_id), "--from analyses an existing run: --reps, --out and --run-id "
                                                        "do not apply")])
    t = Tune()
    t.binary, t.goal, t.no_plots, t.reps = core.memstrat_binary(), a.goal, a.no_plots, int(a.reps or DEFAULT_REPS)
    t.reg = core.registry(t.binary)
    try:
        t.cell = core.Cell(words[0], 0, t.reg)
    except ValueError as e:
        raise core.usage(str(e))
    check_cells(t.binary, [t.cell.name], ["the cell"])
    t.axes = []
    for spec in axes:
        t.axes.append(parse_axis(spec, t.cell, t.reg, t.axes, int(a.points or DEFAULT_POINTS)))
    t.objective, t.constraints = parse_goal(a.goal) if a.goal is not None else ("throughput", [])
    t.points, t.default_cell, t.none_cell = build_points(t.cell, t.axes, t.reg)
    t.cells = [p.cell for p in t.points] + [t.default_cell] + [t.none_cell] * (t.none_cell is not None)  # in order
    check_cells(t.binary, t.cells, [f"grid point {p.knobs}" for p in t.points] + ["the cell", "the none cell"])
    t.command = command_line("memstrat", ["tune", *argv], False)
    run_id = a.run_id or datetime.datetime.now(datetime.timezone.utc).strftime("tune-%Y%m%d-%H%M%S")
    if a.from_:
        return t.analyse(a.from_)
    core.new_run(a.out or "results", run_id)  # the run bench publishes, or the jobs' merge: checked now
    if a.emit_jobs:
        return t.emit_jobs(a.out or "results", run_id, command_line(t.binary, ["tune", *argv], True))
    return t.bench(a.out or "results", run_id)
