"""runs.py — a run directory as one typed table, and the files every command writes from it.

Contract: a run directory is what `memstrat bench` publishes: meta.json (run_id, reps,
matrix.cells, machine, ...) and json/<slug>.rep<r>.json, Google Benchmark's output, per
successful repetition. load_run() reads it back strictly: a missing repetition file is a
failed repetition; anything malformed (meta.json that does not parse or lacks a field, a
non-integer `reps`, a repetition file that is not Google Benchmark JSON for its cell) is bad
input, one line naming the file and the field (Fail, exit 2), so a damaged run never wins over
a good one. A live run (bench.py) fills the same Run through read_rep().

Every number of a run is reachable as Run.values(cell_index, metric): one float per
repetition, NaN where the repetition failed or did not report the metric. Run.table() is the
same data in long form (cell, axes, knobs, rep, metric, value). summarize() computes the
per-cell statistics that results.csv, summary.csv, the table, the plots and report.md share.
"""
import json, math, os, re, sys  # noqa: E401

from . import core

# Google Benchmark's own numeric fields; every other numeric field of an entry is a counter.
STD_FIELDS = {"family_index", "per_family_instance_index", "repetitions", "repetition_index",
              "threads", "iterations", "real_time", "cpu_time", "complexity_n"}
# Factor from Google Benchmark's time_unit to milliseconds (absent means ns, its default).
UNIT_MS = {None: 1e-6, "ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}
# Metrics that are not counters: the manual (workload) time and the CPU time of a repetition.
TIME_METRICS = ("real_time_ms", "cpu_time_ms")
SUMMARY_HEADER = ["cell", "workload", "reclaim", "allocator", "layout", "knobs", "reps",
                  "time_median_ms", "time_min_ms", "time_max_ms", "time_cv_pct", "ops_per_s_median",
                  "ops_per_s_min", "ops_per_s_max", "rss_peak_mb_median", "rss_peak_mb_min",
                  "rss_peak_mb_max", "pause_max_us_median", "pause_p99_us_median",
                  "leaked_objects_median", "overhead_vs_none_pct", "floating_peak_objects_median",
                  "floating_peak_mb_median", "floating_mean_mb_median"]

# Columns of the end-of-run table: (heading, width, format, summary key).
TABLE = (("median ms", 12, "%.2f", "time_median_ms"), ("CV %", 6, "%.1f", "time_cv_pct"),
         ("ops/s", 14, "%.0f", "ops_per_s_median"), ("peak MB", 9, "%.1f", "rss_peak_mb_median"),
         ("p99 pause µs", 13, "%.1f", "pause_p99_us_median"), ("max pause µs", 13, "%.1f", "pause_max_us_median"),
         ("leaked", 9, "%.0f", "leaked_objects_median"), ("vs none", 9, "%+.1f%%", "overhead_vs_none_pct"))

class Rep:
    """One repetition of one cell: ok with its times and counters, or failed with a reason."""

    __slots__ = ("ok", "real_ms", "cpu_ms", "wall_s", "counters", "error")

    def __init__(self, error=None):
        self.ok, self.error = error is None, error
        self.real_ms = self.cpu_ms = self.wall_s = math.nan
        self.counters = {}

    def value(self, metric):
        times = {"real_time_ms": self.real_ms, "cpu_time_ms": self.cpu_ms}
        return times.get(metric, self.counters.get(metric, math.nan)) if self.ok else math.nan

def _name_matches(name, cell):
    """The runner registers the cell's name; Google Benchmark may add its suffixes
    (/iterations:1, /manual_time, /real_time, /process_time)."""
    if not name.startswith(cell):
        return False
    rest = name[len(cell):]
    return all(":" in p or p in ("manual_time", "real_time", "process_time")
               for p in rest.split("/")[1:]) and (not rest or rest.startswith("/"))

def parse_rep(doc, cell):
    """(Rep, context) from a parsed Google Benchmark document; a failed Rep says why."""
    benches = doc.get("benchmarks") if isinstance(doc, dict) else None
    entry = next((b for b in benches or [] if isinstance(b, dict)
                  and isinstance(b.get("name"), str) and _name_matches(b["name"], cell)
                  and b.get("run_type", "iteration") == "iteration"), None)
    if entry is None:
        return Rep(f"benchmark JSON has no entry named '{cell}'"), None
    if entry.get("error_occurred") is True or entry.get("skipped") not in (None, False, 0):
        why = entry.get("error_message") or entry.get("skip_message") or "?"
        return Rep(f"benchmark reported an error: {why}"), None
    f = UNIT_MS.get(entry.get("time_unit"), math.nan) if isinstance(entry.get("time_unit", "ns"), str) else math.nan
    rt, ct = entry.get("real_time"), entry.get("cpu_time")
    if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (rt, ct)) or math.isnan(f):
        return Rep("benchmark JSON lacks real_time/cpu_time/time_unit"), None
    rep = Rep()
    rep.real_ms, rep.cpu_ms = rt * f, ct * f
    rep.counters = {k: float(v) for k, v in entry.items() if k not in STD_FIELDS
                    and isinstance(v, (int, float)) and not isinstance(v, bool)}
    return rep, doc.get("context")

def read_rep(path, cell):
    """A repetition as the driver reads its child's output: any defect is a failed Rep."""
    try:
        with open(path, "rb") as f:
            doc = json.loads(f.read())
    except OSError as e:
        return Rep(f"no benchmark JSON ({e.strerror})"), None
    except ValueError:
        return Rep("benchmark JSON does not parse"), None
    return parse_rep(doc, cell)

def meta_get(meta, dotted, kind=str, default=None):
    """A field of a meta.json ("machine.cpu_model") when it is a `kind` (a bool only as a bool),
    else default: what describes a run reads "unknown" where an old or edited run lacks it."""
    for key in dotted.split("."):
        meta = meta.get(key) if isinstance(meta, dict) else None
    return meta if isinstance(meta, kind) and isinstance(meta, bool) == (kind is bool) else default

def _field(meta, path, dotted, check, want):
    v = meta_get(meta, dotted, object)
    if not check(v):
        raise core.usage(f"{path}: field '{dotted}' {'is missing' if v is None else 'is not ' + want}"
                         + ("" if v is None else f" (got {core.printable(json.dumps(v), 60)})"))
    return v

def read_meta(run_dir):
    """meta.json of a run directory, parsed; Fail(2) naming the file when it is not one."""
    path = os.path.join(run_dir, "meta.json")
    if not os.path.isdir(run_dir):
        raise core.usage(f"{core.printable(run_dir)} is not a run directory (not a directory)")
    if os.path.lexists(path) and not os.path.isfile(path):  # a FIFO would hang the read
        raise core.usage(f"{path}: is not a regular file")
    try:
        with open(path, "rb") as f:
            text = f.read()
    except OSError:
        raise core.usage(f"{core.printable(run_dir)} is not a run directory (no readable meta.json)")
    try:
        meta = json.loads(text)
    except UnicodeDecodeError as e:  # a ValueError without .pos
        raise core.usage(f"{path}: is not UTF-8 text (byte {e.start})")
    except ValueError as e:  # a document cut short fails in its last token, or in a string running to the end
        cut = e.msg.startswith("Unterminated string") or re.fullmatch(r"[^\s,:\[\]{}]*", e.doc[e.pos:].rstrip())
        raise core.usage(f"{path}: does not parse as JSON ({'truncated' if cut else e.msg} at line {e.lineno})")
    if not isinstance(meta, dict):
        raise core.usage(f"{path}: is not a JSON object")
    return meta

def cpu_model(meta):
    """machine.cpu_model of a meta.json: plot titles name it, compare and merge warn when two meet."""
    return meta_get(meta, "machine.cpu_model") or "unknown CPU"

class Run:
    """Cells × repetitions of one run, with meta.json and the per-cell summary."""

    def __init__(self, run_id, run_dir, cells, reps, meta=None):
        self.run_id, self.dir, self.cells, self.reps = run_id, run_dir, cells, reps
        self.meta = meta or {}
        self.rep = [[Rep("not run") for _ in range(reps)] for _ in cells]
        self.sum, self.cv_warned = [], []

    def values(self, i, metric):
        """One float per repetition of cell i (NaN: failed or not reported)."""
        return [r.value(metric) for r in self.rep[i]]

    def ok_reps(self, i):
        return sum(r.ok for r in self.rep[i])

    def counter_names(self):
        """Union over all successful repetitions, in first-seen order."""
        return list(dict.fromkeys(k for reps in self.rep for r in reps if r.ok for k in r.counters))

    def index(self, name):
        return next((i for i, c in enumerate(self.cells) if c.name == name), None)

    def table(self):
        """Long form: (cell, workload, reclaim, allocator, layout, knobs, rep, metric, value)."""
        for c, reps in zip(self.cells, self.rep):
            for r, rep in enumerate(reps, 1):
                if rep.ok:
                    for m in (*TIME_METRICS, *rep.counters):
                        yield (c.name, c.workload, c.reclaim, c.allocator, c.layout, c.knob_text, r, m,
                               rep.value(m))

    def summarize(self, reg):
        """Per-cell statistics over the successful repetitions, and the noisy cells. The
        overhead over `none` follows the LBO method (Cai et al., ISPASS 2022): the median time
        over that of the `none` cell with the same workload, allocator, layout and baseline key."""
        self.sum, self.cv_warned = [], []
        for i, c in enumerate(self.cells):
            t = self.values(i, "real_time_ms")
            s = {"reps": self.ok_reps(i), "time_cv_pct": core.cv_pct(t)}
            s["time_median_ms"], s["time_min_ms"], s["time_max_ms"] = core.spread(t)
            s["ops_per_s_median"], s["ops_per_s_min"], s["ops_per_s_max"] = core.spread(self.values(i, "ops_per_s"))
            s["rss_peak_mb_median"], s["rss_peak_mb_min"], s["rss_peak_mb_max"] = core.spread(
                self.values(i, "rss_peak_mb"))
            for m in ("pause_max_us", "pause_p99_us", "leaked_objects", "floating_peak_objects", "floating_peak_mb",
                      "floating_mean_mb"):
                s[m + "_median"] = core.median(self.values(i, m))
            self.sum.append(s)
            if s["time_cv_pct"] > core.CV_WARN_PCT:
                self.cv_warned.append(i)
        keys = [reg.baseline_key(c) for c in self.cells]
        for i, c in enumerate(self.cells):
            b = next((j for j, o in enumerate(self.cells) if o.reclaim == "none" and o.workload == c.workload
                      and o.allocator == c.allocator and o.layout == c.layout and keys[j] == keys[i]), None)
            self.sum[i]["overhead_vs_none_pct"] = math.nan if b is None else (
                self.sum[i]["time_median_ms"] / self.sum[b]["time_median_ms"] - 1.0) * 100.0
        return self

    def write_results_csv(self, path):
        """One tidy row per cell × successful repetition, every counter a column."""
        names = self.counter_names()
        rows = [[self.run_id, c.name, c.workload, c.reclaim, c.allocator, c.layout, c.knob_text, str(r),
                 rep.real_ms, rep.cpu_ms, *(rep.counters.get(n, math.nan) for n in names)]
                for c, reps in zip(self.cells, self.rep) for r, rep in enumerate(reps, 1) if rep.ok]
        core.write_csv(path, ["run_id", "cell", *core.AXES, "knobs", "rep", *TIME_METRICS, *names], rows)

    def summary_rows(self, with_failed=True):
        for c, s in zip(self.cells, self.sum):
            if with_failed or s["reps"]:
                yield [c.name, c.workload, c.reclaim, c.allocator, c.layout, c.knob_text, str(s["reps"]),
                       *(s[h] for h in SUMMARY_HEADER[7:])]

    def write_summary_csv(self, path):
        """One row per cell, failed cells included with reps 0."""
        core.write_csv(path, SUMMARY_HEADER, self.summary_rows())

    def print_table(self, out=sys.stdout):
        """The table a person reads at the end of `make bench`: a column per TABLE entry."""
        w = max([4] + [len(c.name) for c in self.cells])
        print(f"{'cell':<{w}}" + "".join(f" {h:>{cw}}" for h, cw, _, _ in TABLE), file=out)
        for c, s in zip(self.cells, self.sum):
            cols = [("-" if not math.isfinite(s[k]) else fmt % s[k], cw) for _, cw, fmt, k in TABLE]
            cols = cols if s["reps"] else [("FAILED", TABLE[0][1])]
            print(f"{c.name:<{w}}" + "".join(f" {v:>{cw}}" for v, cw in cols), file=out)

# Counters of a cell's shadow run (memstrat run --ms_floating): floating garbage, exact but
# deterministic, measured once per cell and reported beside every repetition's own counters.
FLOATING_PREFIX = "floating_"

def shadow_json(run_dir, cell):
    """Where a cell's shadow-run JSON lives (json/<slug>.shadow.json)."""
    return os.path.join(run_dir, "json", f"{cell.slug}.shadow.json")

def merge_shadow(run, i, shadow):
    """The floating_* counters of cell i's shadow Rep into each of its good repetitions."""
    if shadow.ok:
        fl = {k: v for k, v in shadow.counters.items() if k.startswith(FLOATING_PREFIX)}
        for rep in run.rep[i]:
            if rep.ok:
                rep.counters.update(fl)

def load_run(run_dir, reg=None):
    """A published run directory back into a Run (see the contract); summarized when reg is
    given. Fail(2) with one line naming file and field on anything malformed."""
    meta = read_meta(run_dir)
    path = os.path.join(run_dir, "meta.json")
    run_id = _field(meta, path, "run_id", lambda v: isinstance(v, str) and v, "a non-empty string")
    reps = _field(meta, path, "reps", lambda v: type(v) is int and 1 <= v <= core.MAX_REPS,
                  f"an integer from 1 to {core.MAX_REPS}")
    names = _field(meta, path, "matrix.cells", lambda v: isinstance(v, list) and v
                   and all(isinstance(x, str) for x in v), "a non-empty list of cells")
    cells = []
    for n in names:
        try:
            cells.append(core.Cell(n, 0, reg))
        except ValueError as e:
            raise core.usage(f"{path}: field 'matrix.cells': {e}")
    run = Run(run_id, run_dir, cells, reps, meta)
    for i, c in enumerate(cells):
        for r in range(1, reps + 1):
            p = os.path.join(run_dir, "json", f"{c.slug}.rep{r}.json")
            if not os.path.lexists(p):
                run.rep[i][r - 1] = Rep("no benchmark JSON (not in the run)")
                continue
            if not os.path.isfile(p):  # a FIFO would hang the read, a device never end it
                raise core.usage(f"{p}: is not a regular file")
            rep, _ = read_rep(p, c.name)
            if not rep.ok:
                raise core.usage(f"{p}: {rep.error}")
            run.rep[i][r - 1] = rep
        sp = shadow_json(run_dir, c)
        if os.path.isfile(sp):
            merge_shadow(run, i, read_rep(sp, c.name)[0])
    return run.summarize(reg) if reg is not None else run
