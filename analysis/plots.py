"""plots.py — a run's plots: the data files under plots/data/ and the gnuplot calls.

Contract: draw(run, reg) draws every plot of a summarized Run into RUN/plots/ with the scripts
in plots/ (core.gnuplot), run in the run directory with relative paths only, first into
plots/.tmp-<pid>/, moved into plots/ at the end (data/ replaced whole): a broken redraw leaves
the old images. Whole-run plots (RUN_PLOTS, from plots/summary.tsv; churn, request_latency,
instances, cache_timeline only when the run has such cells) and, per workload with results,
WL_PLOTS from what write_data() puts into plots/data/: <wl>.tsv (a row per cell with results:
throughput, also divided by the median of its rc+gen reference (norm_ref), peak RSS, p99/max
pause, pause count, dash type), and an index block per cell in <wl>.pause_cdf.dat (CDF of the
pauses of every good repetition, at most CDF_POINTS exact quantiles), <wl>.pause_tl.dat ("t_ms
duration_us kind" of the first repetition with pauses) and <wl>.rss_tl.dat ("t_ms rss_mb");
<wl>.floating_tl.dat ("t_ms floating_mb" of the cell's shadow run, timeline/<slug>.floating.csv);
timelines above TL_BUCKETS points keep the largest of each kind per time bucket. A plot of
degenerate data (no row with the finite numbers its axes need, no cell that paused) is skipped
with one line saying so, never handed to gnuplot to fail. Colours and legend order come from
plots/colors.gp, pause kinds from the registry. Returns 0 drawn, 1 a plot failed, -1 skipped.
"""
import contextlib, math, os, re, shutil  # noqa: E401

import numpy as np

from . import core, runs
from .tables import ratio

# Quantile points per pause CDF: smooth at any plot size, small even for 20k pauses x reps.
CDF_POINTS = 500
# Time buckets of a thinned timeline: more than a plot's width in pixels, so nothing visible is
# lost, while an SVG of a dozen cells stays a few hundred kilobytes.
TL_BUCKETS = 1500
# Pause kinds of pause_timeline.gp (colors.gp pt_of_kind): gen0..gen2 are 1..3, anything else 4,
# a release cascade 5 (generation -2 in the pause CSV: MM_PAUSE_RELEASE of the object model).
KIND_OTHER, KIND_RELEASE, GEN_RELEASE = 4, 5, -2
# Per-workload plot name -> script, in the order the plots are drawn and the report lists them.
WL_PLOTS = {"throughput": "norm_throughput", "pause_cdf": "pause_cdf", "pause_timeline": "pause_timeline",
            "rss_timeline": "rss_timeline", "floating_timeline": "floating_timeline", "rss_peak": "rss_peak",
            "pareto": "pareto"}
RUN_PLOTS = ("throughput", "rss_peak", "rss_timeline", "churn", "request_latency", "instances", "cache_timeline",
             "cow_timeline")
OPS, NORM = ("ops_per_s_median", "ops_per_s_min", "ops_per_s_max"), ("norm_median", "norm_min", "norm_max")
RSS = ("rss_peak_mb_median", "rss_peak_mb_min", "rss_peak_mb_max")
PAUSE = ("pause_p99_us_median", "pause_max_us_median")
TSV_HEAD = ("cell", "label", "reclaim", "allocator", "layout", "knobs", "reps", *OPS, *NORM, "ref", *RSS, *PAUSE,
            "pauses", "dash")
# The columns a plot's `stats` and axes need finite in one row at least, else gnuplot fails.
NEEDS = {"throughput": OPS, "rss_peak": RSS, "pareto": ("ops_per_s_median", "pause_p99_us_median", RSS[0])}

def num(v):
    """A number as gnuplot reads it: NaN spelled out (inf too), else 8 significant digits."""
    return "%.8g" % v if math.isfinite(v) else "NaN"

def known_strategies():
    """Legend order: colors.gp's known_strategies, the one strategy -> colour map."""
    with open(os.path.join(core.plots_dir(), "colors.gp"), encoding="utf-8") as f:
        m = re.search(r'^known_strategies\s*=\s*"([^"]*)"', f.read(), re.M)
    return m.group(1).split() if m else []

def workloads(run):
    """Workloads with at least one cell with results, in matrix order."""
    return list(dict.fromkeys(c.workload for c, s in zip(run.cells, run.sum) if s["reps"]))

def norm_ref(run, reg, i):
    """(j, allocator) of the rc+gen cell that cell i's throughput is normalised to: same workload,
    layout and baseline key, on pool, else on system; (None, None) when neither has results."""
    c, key = run.cells[i], reg.baseline_key(run.cells[i])
    for alloc in ("pool", "system"):
        for j, r in enumerate(run.cells):
            if (run.sum[j]["reps"] and r.reclaim == "rc+gen" and r.allocator == alloc and r.workload == c.workload
                    and r.layout == c.layout and reg.baseline_key(r) == key):
                return j, alloc
    return None, None

def ref_kind(refs):
    """What a workload's throughput is normalised to, from its cells' reference allocators."""
    pool, system, none = ("pool" in refs), ("system" in refs), (None in refs)
    return ("pool" if pool and not system and not none else "system" if system and not pool and not none
            else "mixed" if pool or system else "none")

def read_points(path, kinds=None):
    """(x, y, kind) rows of a CSV of the run with a header (t, value[, generation]); a missing or
    special file gives none. kinds: the strategy's pause_kinds (None: an RSS timeline, kind 0)."""
    pts = []
    for f in (ln.split(",") for ln in core.read_text(path).split("\n")[1:]):
        try:
            x, y, g = float(f[0]), float(f[1]), int(f[2]) if len(f) > 2 and f[2].strip() else 0
        except (ValueError, IndexError):
            continue
        gen = kinds is not None and 0 <= g < len(kinds) and kinds[g] == f"gen{g}"
        if math.isfinite(x):
            pts.append((x, y, 0 if kinds is None else g + 1 if gen else KIND_RELEASE if g == GEN_RELEASE
                        else KIND_OTHER))
    return pts

def read_floating(path):
    """(t_ms, floating_mb, 0) points of a shadow run's timeline/<slug>.floating.csv (harness/
    floating.c: t_ms,allocations,floating_objects,floating_mb,live_mb); none when missing."""
    pts = []
    for f in (ln.split(",") for ln in core.read_text(path).split("\n")[1:]):
        try:
            x, y = float(f[0]), float(f[3])
        except (ValueError, IndexError):
            continue
        if math.isfinite(x) and math.isfinite(y):
            pts.append((x, y, 0))
    return pts

def cdf_block(ys):
    """The sorted durations at evenly spaced ranks (value, fraction at or below), the largest
    last; drawn as steps, so nothing is interpolated."""
    v = np.sort(np.asarray(ys, dtype=float))
    n = v.size
    step = n // CDF_POINTS if n > CDF_POINTS else 1
    return "".join("%.6g %.8g\n" % (v[k], (k + 1) / n) for k in range(0, n - 1, step)) + "%.6g 1\n" % v[-1]

def tl_block(pts, with_kind):
    """A timeline block; above TL_BUCKETS points, the largest y of each kind per time bucket."""
    if len(pts) > TL_BUCKETS:
        x, y, k = np.asarray(pts, dtype=float).T
        width = (x[-1] - x[0]) / TL_BUCKETS
        b = ((x - x[0]) / (width if width > 0 else 1)).astype(int)
        q = np.where((k >= 0) & (k <= KIND_RELEASE), k, 0)
        o = np.lexsort((-y, q, b))  # by bucket, then kind, then the largest y first (the first of equals)
        first = np.r_[True, (b[o][1:] != b[o][:-1]) | (q[o][1:] != q[o][:-1])]
        pts = [pts[i] for i in o[first]]
    return "".join("%.6f %.6g%s\n" % (x, y, " %d" % k if with_kind else "") for x, y, k in pts)

def label(run, wl, c):
    """reclaim/allocator/layout and only the knobs that tell c apart from its workload's other
    cells: knobs every cell shares, said again on every tick, squeezed the plots to a sliver."""
    others = [set(o.knobs) for o, s in zip(run.cells, run.sum) if s["reps"] and o.workload == wl]
    return "/".join([c.reclaim, c.allocator, c.layout] + [f"{k}={v}" for k, v in c.knobs
                                                          if not all((k, v) in o for o in others)])

def write_data(run, reg, datadir, wl):
    """The data files of workload wl (see the contract) and what indexes them: legend order,
    reference kind, the rows, (label, reclaim, dash) of the cells that paused ("p") and of the
    cells with a timeline ("t"). Raises OSError/core.Fail when a file cannot be written."""
    known, idx = known_strategies(), [i for i, c in enumerate(run.cells) if run.sum[i]["reps"] and c.workload == wl]
    present = [run.cells[i].reclaim for i in idx]
    d = {"reclaims": [k for k in known if k in present] + list(dict.fromkeys(r for r in present if r not in known)),
         "p": [], "t": [], "f": [], "rows": []}
    tsv, refs, dashes = ["\t".join(TSV_HEAD)], [], {}
    blocks = {"pause_cdf.dat": [], "pause_tl.dat": [], "rss_tl.dat": [], "floating_tl.dat": []}
    for i in idx:
        c, s = run.cells[i], run.sum[i]
        j, alloc = norm_ref(run, reg, i)
        refs.append(alloc)
        base = run.sum[j]["ops_per_s_median"] if j is not None else math.nan
        pauses, first, rss = [], [], []
        for r in (r for r, rep in enumerate(run.rep[i], 1) if rep.ok):
            p = read_points(os.path.join(run.dir, "pauses", f"{c.slug}.rep{r}.csv"),
                            reg.strategy(c.reclaim).get("pause_kinds") or [])
            pauses += p  # every pause of every good repetition: the CDF's sample
            first = first or p
            rss = rss or read_points(os.path.join(run.dir, "timeline", f"{c.slug}.rep{r}.csv"))
        dashes[c.reclaim] = dash = dashes.get(c.reclaim, 0) + 1
        lab, row = label(run, wl, c), {**s, **{n: ratio(s[o], base) for n, o in zip(NORM, OPS)}}
        d["rows"].append(row)
        tsv.append("\t".join([c.name, lab, c.reclaim, c.allocator, c.layout, c.knob_text or "-", str(s["reps"])]
                             + [num(row[k]) for k in OPS + NORM] + [alloc or "-"] + [num(row[k]) for k in RSS + PAUSE]
                             + [str(len(pauses)), str(dash)]))
        if pauses:
            blocks["pause_cdf.dat"].append(f"# {c.name}\n" + cdf_block([p[1] for p in pauses]))
            blocks["pause_tl.dat"].append(f"# {c.name}\n" + tl_block(first, True))
            d["p"].append((lab, c.reclaim, str(dash)))
        if rss:
            blocks["rss_tl.dat"].append(f"# {c.name}\n" + tl_block(rss, False))
            d["t"].append((lab, c.reclaim, str(dash)))
        fl = read_floating(os.path.join(run.dir, "timeline", f"{c.slug}.floating.csv"))
        if fl:  # the cell's shadow run (absent: n/a, e.g. boehm or an interpreter)
            blocks["floating_tl.dat"].append(f"# {c.name}\n" + tl_block(fl, False))
            d["f"].append((lab, c.reclaim, str(dash)))
    d["ref"] = ref_kind(refs)
    core.write_atomic(os.path.join(datadir, f"{wl}.tsv"), "\n".join(tsv) + "\n")
    for suffix, b in ((k, b) for k, b in blocks.items() if b):
        core.write_atomic(os.path.join(datadir, f"{wl}.{suffix}"), "\n\n".join(b))
    return d

def degenerate(need, rows):
    """Why a plot that needs columns `need` finite in one row cannot be drawn from rows, or None."""
    if need and not any(all(math.isfinite(r[k]) for k in need) for r in rows):
        return f"no cell has a finite {', '.join(need)}"
    return None

def first_file(run, i, sub):
    """SUB/<slug>.rep<r>.csv of the first good repetition of cell i where it is non-empty."""
    return next((f for f in (f"{sub}/{run.cells[i].slug}.rep{r}.csv" for r, rep in enumerate(run.rep[i], 1) if rep.ok)
                 if os.path.isfile(os.path.join(run.dir, f)) and os.path.getsize(os.path.join(run.dir, f))), None)

def write_cow(run, ok, path):
    """plots/data/cow_tl.dat for cow_timeline.gp: one index block "t_ms private_mb" per forked worker of
    each cell with a workers' timeline (X.cow.csv beside its first good timeline); returns
    [(title, reclaim, dash)] per block, dash = the cell's ordinal among its strategy's cells."""
    blocks, out, seen = [], [], {}
    for i in ok:
        tl = first_file(run, i, "timeline")
        rows = core.read_text(os.path.join(run.dir, tl[:-4] + ".cow.csv")) if tl else None
        if not rows:
            continue
        c, per = run.cells[i], {}
        for line in rows.split("\n")[1:]:
            f = line.split(",")
            if len(f) == 5:
                with contextlib.suppress(ValueError):
                    per.setdefault(int(f[1]), []).append((float(f[0]), float(f[2])))
        seen[c.reclaim] = seen.get(c.reclaim, 0) + 1
        for w in sorted(per):
            out.append("".join(f"{num(t)} {num(v)}\n" for t, v in per[w]) + "\n\n")
            blocks.append((f"{c.name}#w{w}", c.reclaim, str(seen[c.reclaim])))
    if blocks:
        core.write_atomic(path, "".join(out))
    return blocks

class Drawer:
    """One drawing pass into run.dir/out: what every plot shares, and the status (0 or 1)."""

    def __init__(self, run, out, cmd):
        self.run, self.out, self.cmd, self.status = run, out, cmd, 0
        self.common = {"outdir": out, "title_machine": runs.cpu_model(run.meta), "title_run": run.run_id}

    def plot(self, script, outname, variables, why=None):
        """One script, or the line saying why not; a failed one loses its half-written images."""
        if why:
            return core.warn(self.cmd, f"plot {outname} skipped: {why}")
        if core.gnuplot(script, {**self.common, "outname": outname, **variables}, self.run.dir, self.cmd,
                        f"{outname} ({script})") is False:
            self.status = 1
            for ext in ("png", "svg"):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(self.run.dir, self.out, f"{outname}.{ext}"))

    def whole_run(self):
        """The plots with every cell of the run on one axis (plots/summary.tsv)."""
        run, ok = self.run, [i for i, s in enumerate(self.run.sum) if s["reps"]]
        series = {"rss_timeline": [], "request_latency": [], "cache_timeline": []}
        for i, c in ((i, run.cells[i]) for i in ok):
            tl, lat = first_file(run, i, "timeline"), first_file(run, i, "latency")
            live = tl and tl[:-4] + ".live.csv"
            series["rss_timeline"] += [(tl, c.name, c.reclaim)] if tl else []
            series["request_latency"] += [(lat, c.name, c.reclaim)] if lat else []
            if live and c.workload == "cache" and os.access(os.path.join(run.dir, live), os.R_OK):
                series["cache_timeline"].append((live, c.name, c.reclaim))
        cow = write_cow(run, ok, os.path.join(run.dir, self.out, "data", "cow_tl.dat"))
        inst = [v for i in ok if run.cells[i].workload == "instances"
                for v in run.values(i, "bytes_per_instance_alloc")]
        for name in RUN_PLOTS:
            if name == "cow_timeline":
                if cow:
                    self.plot("cow_timeline.gp", name, {"blockfile": f"{self.out}/data/cow_tl.dat",
                              **{k: " ".join(b[n] for b in cow) for n, k in enumerate(("titles", "file_reclaims",
                                                                                          "file_dash"))}})
                continue
            files, cache = series.get(name, series["rss_timeline"]), name == "cache_timeline"
            if ((name in series and not files) or (name == "instances" and not inst)
                    or (name == "churn" and not os.path.isfile(os.path.join(run.dir, "churn_allocators.csv")))):
                continue  # the run has no such cells: nothing to say
            self.plot("rss_timeline.gp" if cache else f"{name}.gp", name, {
                "datafile": f"{self.out}/summary.tsv", "ycolumn": "live_mb" if cache else "rss_mb",
                "title_workloads": "cache variants" if cache else ", ".join(workloads(run)),
                "reclaims": " ".join(dict.fromkeys(run.cells[i].reclaim for i in ok)),
                **{k: " ".join(f[n] for f in files) for n, k in enumerate(("files", "titles", "file_reclaims"))}},
                degenerate(NEEDS.get(name), [run.sum[i] for i in ok]) or (
                    "no instances cell reported bytes_per_instance_alloc"
                    if name == "instances" and not np.isfinite(inst).any() else None))

    def workload(self, reg, wl):
        """The per-workload plots, from the data files of write_data."""
        data = f"{self.out}/data"
        try:
            d = write_data(self.run, reg, os.path.join(self.run.dir, data), wl)
        except (OSError, core.Fail) as e:
            self.status = 1
            return core.warn(self.cmd, f"cannot write the plot data of {wl}: {getattr(e, 'strerror', None) or e}")
        p, t, f = ([" ".join(x[n] for x in d[k]) for n in range(3)] for k in ("p", "t", "f"))
        for name, script in WL_PLOTS.items():
            self.plot(f"{script}.gp", f"{wl}-{name}", {
                "datafile": f"{data}/{wl}.tsv", "blockprefix": f"{data}/{wl}", "labelcol": "label",
                "title_workloads": wl, "reclaims": " ".join(d["reclaims"]), "ref_kind": d["ref"],
                "plabels": p[0], "preclaims": p[1], "pdash": p[2],
                **({"titles": f[0], "file_reclaims": f[1], "file_dash": f[2]} if name == "floating_timeline" else
                   {"titles": t[0], "file_reclaims": t[1], "file_dash": t[2]})},
                f"no cell of {wl} paused" if name.startswith("pause_") and not d["p"] else
                f"no cell of {wl} has an RSS timeline" if name == "rss_timeline" and not d["t"] else
                f"no cell of {wl} has a floating-garbage timeline (shadow run)" if name == "floating_timeline"
                and not d["f"] else
                degenerate(NORM if name == "throughput" and d["ref"] != "none" else NEEDS.get(name), d["rows"]))

def move_all(src, dst, cmd):
    """Every file of src into dst (rename, same file system); a directory replaces its namesake."""
    ok = True
    for a, b in ((os.path.join(src, n), os.path.join(dst, n)) for n in sorted(os.listdir(src)) if n[0] != "."):
        if os.path.isdir(a) and not os.path.islink(b):
            core.remove_tree(b)
        try:
            os.rename(a, b)
        except OSError as e:
            core.warn(cmd, f"cannot move {a} to {b}: {e.strerror}")
            ok = False
    return ok

def draw(run, reg, cmd="bench"):
    """Every plot of a summarized run into run.dir/plots (see the contract)."""
    why = "gnuplot not found on PATH" if shutil.which("gnuplot") is None else None if workloads(run) else \
        "no cell has results"
    if why:
        return core.warn(cmd, f"{why}; skipping plots") or -1
    out = f"plots/.tmp-{os.getpid()}"
    tmp, dr = os.path.join(run.dir, out), Drawer(run, out, cmd)
    try:
        os.makedirs(os.path.join(tmp, "data"))
        core.write_atomic(os.path.join(tmp, "summary.tsv"), "".join(
            "\t".join(x if isinstance(x, str) else core.fmt_num(x) for x in row) + "\n"
            for row in [runs.SUMMARY_HEADER, *run.summary_rows(with_failed=False)]))
        dr.whole_run()
        for wl in workloads(run):
            dr.workload(reg, wl)
        dr.status |= not move_all(tmp, os.path.join(run.dir, "plots"), cmd)
    except (OSError, core.Fail) as e:
        core.warn(cmd, f"cannot write the plots into {tmp}: {getattr(e, 'strerror', None) or e}")
        dr.status = 1
    finally:
        core.remove_tree(tmp)
    return dr.status
