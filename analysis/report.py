"""report.py — results/<run>/report.md, and the two entry points the bench driver calls.

Contract: render(run, reg, plots, cmd) takes a summarized Run whose directory holds its files
(meta.json first) and writes the table CSVs, the plots when asked, then report.md last: it links
only images that exist. report.md is rebuilt from the run's files alone, so `--plots-only`
re-reports old runs: meta.json (machine, build, libraries, CV warnings), a section per workload
with results (plots, a row per cell, conclusions), the cells without results, and the tables the
run keeps (churn_allocators.csv, collectors.csv, lineage.csv, gc_scan.txt/.csv). render returns 0, or 1 when
a plot failed; an unwritable report.md is one warning line. Conclusions say only what the numbers
carry: two cells are ranked by median time only when each has >= MIN_REPS good repetitions and the
95% bootstrap CI of the ratio of their medians excludes 1 (else "not distinguishable" or "no
claim"); peak RSS by the min–max rule alone; deterministic counters (equal in every repetition of
each cell) are stated whatever the noise, marked as such. Pairs: each cell and its `none` baseline (LBO),
each cell and the rc+gen cell its throughput is normalised to (plots.norm_ref).
print_tables(run, reg, out) prints the churn, collector, model-vs-real and lineage tables.
"""
import csv, functools, json, math, os, sys  # noqa: E401

import numpy as np

from . import core, plots as plotting, runs, tables

# Repetitions below which a CV means nothing, so no ranking is attempted.
MIN_REPS = 2
# Ratios closer to 1 than this read "about the same" even when ranges are disjoint: a 0.5%
# difference that happens to be separated is not worth a sentence.
MIN_RATIO = 1.005
CV = core.CV_WARN_PCT
# Counters that do not depend on timing: when every repetition of a cell gives the same value,
# a difference between two cells is a fact of the strategies, not of the machine's noise.
DETERMINISTIC = (("gc_collections_gen0", "gen0 collections"), ("gc_collections_gen1", "gen1 collections"),
                 ("gc_collections_gen2", "gen2 collections"), ("gc_examined", "objects examined"),
                 ("gc_collected", "collected"), ("leaked_objects", "leaked objects"),
                 ("live_objects_peak", "peak live objects"), ("live_bytes_peak", "peak live bytes"))
CAPTIONS = {
    "pause_cdf": "pause-time CDF per cell, pauses of all repetitions pooled, log x (µs)",
    "pause_timeline": "pauses over time (first repetition), point type = generation / increment",
    "rss_timeline": "RSS over time (first repetition)",
    "floating_timeline": "floating garbage over time (unreachable, not yet freed; each cell's untimed shadow run, "
                         "none for boehm and interpreter cells: n/a)",
    "rss_peak": "peak RSS per cell (median; bar: min–max)",
    "pareto": "throughput against p99 pause, bubble area ∝ peak RSS",
    # throughput, by what the workload's cells are normalised to (plots.ref_kind)
    "none": "absolute throughput: no rc+gen cell to normalise to (median; bar: min–max of repetitions)",
    "pool": "throughput relative to rc+gen/pool of the same layout and knobs (median; bar: min–max of "
            "repetitions, divided by the reference median)",
    "system": "throughput relative to rc+gen/system of the same layout and knobs: no rc+gen/pool cell (median; "
              "bar: min–max of repetitions, divided by the reference median)",
    "mixed": "throughput relative to rc+gen/pool, or rc+gen/system where the label says [vs system]; [no ref] "
             "cells not drawn (median; bar: min–max of repetitions)"}
HOW_TO_READ = (
    "## How to read this report\n\n"
    "- Colours: one per strategy in every plot (plots/colors.gp): none grey, rc blue, rc+gen vermillion, rc+incr "
    "green, rc+pep848 dark violet, rc+ft dark yellow, rc+trial pink, boehm orange, cpython (the real interpreter) sky blue; several cells of one strategy "
    "differ by dash type.\n"
    "- Throughput plots are normalised to the rc+gen/pool cell of the same workload, layout and knobs (rc+gen/system "
    "where there is no pool cell; the plot's title says which).\n"
    f"- A cell is **noisy** when its time CV (sample stddev / mean over repetitions) exceeds {CV:.0f}%.\n"
    f"- Conclusions are generated, and each says what it rests on. **Time** (noisy on a shared machine): two cells "
    f"are ranked by median time only when both have ≥ {MIN_REPS} repetitions and the 95% bootstrap confidence "
    "interval of the ratio of their medians (scipy, percentile method, repetitions resampled) excludes 1; "
    "otherwise they are \"not distinguishable in this run\". **Peak RSS** is compared when the min–max ranges are "
    "disjoint. **Counters** (collections, objects examined and collected, leaked and peak live objects and bytes) "
    "are stated when every repetition of each cell gives the same value: they hold whatever the noise. Each cell is "
    "compared with its `none` baseline (same workload, allocator, layout, knobs: the LBO method) and with its "
    "rc+gen reference.\n\n")

def md(text):
    """Text for a table cell: '|' would end the cell, a line break the row."""
    return text.replace("|", "\\|").replace("\n", " ").replace("\r", " ")

def cell_num(fmt, v):
    """A number for the table, "–" when there is none."""
    return " – |" if not math.isfinite(v) else f" {fmt % v} |"

def warmup_note(run):
    """How many warm-ups each cell ran (and were discarded), and how much slower they were: the
    median over cells of warm-up time / measured median time. "" for runs made without them."""
    w, per = run.meta.get("warmups"), runs.meta_get(run.meta, "warmup_ms", dict, {})
    if not isinstance(w, int) or isinstance(w, bool) or w < 1:
        return ""
    ratios = [t / run.sum[i]["time_median_ms"] for i, c in enumerate(run.cells) for t in per.get(c.name, [])[:1]
              if isinstance(t, (int, float)) and run.sum[i]["reps"] and run.sum[i]["time_median_ms"] > 0]
    slow = " (first warm-up / measured median: %.2f×, median over cells)" % core.median(ratios) if ratios else ""
    return f"| warm-ups | {w} per cell, run first and discarded{slow} |\n"

# The run's noise floor: a deterministic, cache-resident loop with no objects and no system calls
# (the `void` allocator's push and pop on 10,000 live slots, ~20 ms). Its time CV is what the
# machine itself adds to any cell; no cell can be expected to vary less.
FLOOR_CELL = "churn/none/void/slots/live=10k/rounds=100"

def floor_note(run):
    """The noise-floor row of the machine table: the floor cell's time CV and the share of cells
    at or under the CV threshold; "" when the run lacks the floor cell."""
    i = next((k for k, c in enumerate(run.cells) if c.name == FLOOR_CELL and run.sum[k]["reps"] >= 2), None)
    if i is None:
        return ""
    ok = sum(1 for k in range(len(run.cells)) if run.sum[k]["reps"] >= 2 and run.sum[k]["time_cv_pct"] <= CV)
    n = sum(1 for k in range(len(run.cells)) if run.sum[k]["reps"] >= 2)
    return (f"| noise floor | time CV {run.sum[i]['time_cv_pct']:.1f}% of `{FLOOR_CELL}` (a deterministic, "
            f"cache-resident loop: what the machine adds to every cell); {ok} of {n} cells at CV ≤ {CV:.0f}% |\n")

def meta_section(meta, reps, warmups=""):
    """Everything needed to know whether two runs are comparable ("unknown" for what meta.json lacks)."""
    s = functools.partial(runs.meta_get, kind=str, default="unknown")
    cores, mem = (runs.meta_get(meta, f"machine.{k}", (int, float)) for k in ("cores", "mem_total_mb"))
    cv, fails = runs.meta_get(meta, "cv_warnings", list, []), meta.get("failures")
    dirty = {True: " **dirty** (uncommitted changes)", False: " clean"}.get(runs.meta_get(meta, "git.dirty", bool),
                                                                            " (dirty: unknown)")
    return "".join([
        "## Machine and build\n\n| | |\n|---|---|\n", f"| CPU | {s(meta, 'machine.cpu_model')} |\n",
        f"| cores | {int(cores)} |\n" if cores is not None else "",
        "| memory | %.0f MB |\n" % mem if mem is not None else "",
        f"| kernel | {s(meta, 'machine.kernel')} |\n| compiler | {s(meta, 'build.compiler')} |\n",
        f"| flags | `{md(s(meta, 'build.flags'))}` ({s(meta, 'build.build_type')}) |\n",
        f"| git commit | `{s(meta, 'git.commit')}`{dirty} |\n",
        *(f"| {k} | {s(lib, 'version')} |\n" for k, lib in runs.meta_get(meta, "libraries", dict, {}).items()),
        f"| repetitions | {reps} per cell, each in its own process |\n", warmups,
        f"| started | {s(meta, 'started_utc')} |\n",
        f"| finished | {s(meta, 'finished_utc')} |\n",
        f"| failed repetitions | {len(fails) if isinstance(fails, (list, dict)) else 0} |\n",
        "".join(f"| noise source | {md(n)}: {md(str(f.get('value')))} — {md(str(f['advice']))} |\n" for n, f in
                runs.meta_get(meta, "system", dict, {}).items() if isinstance(f, dict) and f.get("advice")),
        f"\n**CV warnings** (time CV > {CV:.0f}%: {len(cv)} cell(s)):",
        ",".join(" `%s` %.1f%%" % (s(w, "cell"), runs.meta_get(w, "time_cv_pct", (int, float), math.nan)) for w in cv),
        ".\n\n" if cv else " none.\n\n"])

def compare(run, a, b, why=None):
    """One mechanical sentence about cells a and b: their time (why: the pair's reason), ranked
    only when the 95% bootstrap CI of the ratio of medians excludes 1; or, without why, their peak
    RSS, compared by the min–max rule alone (see the contract)."""
    x, y, na, nb = run.sum[a], run.sum[b], run.cells[a].name, run.cells[b].name
    med, lo, hi = ("time_median_ms", "time_min_ms", "time_max_ms") if why else plotting.RSS
    if not why and (math.isnan(x[med]) or math.isnan(y[med]) or y[med] <= 0):
        return ""
    out = f"- time, `{na}` vs `{nb}` ({why}): " if why else f"- peak RSS, `{na}` vs `{nb}`: "
    r = tables.ratio(x[med], y[med])
    if why:
        if not all(s["reps"] >= MIN_REPS for s in (x, y)):
            return out + f"no claim — fewer than {MIN_REPS} repetitions.\n"
        clo, chi = core.bootstrap_ci(run.values(a, "real_time_ms"), over=run.values(b, "real_time_ms"))
        ci = "95%% CI of the ratio %.2f–%.2f×" % ((clo, chi) if r >= 1 else (1 / chi, 1 / clo))
        if not clo > 1 and not chi < 1:  # NaN too: no interval, no claim
            ci = "95%% CI of the ratio %.2f–%.2f×" % (clo, chi)
            return out + f"not distinguishable in this run ({ci} includes 1).\n"
        if 1.0 / MIN_RATIO < r < MIN_RATIO:
            return out + "the same within %.1f%% (medians; %s).\n" % ((MIN_RATIO - 1) * 100, ci)
        return out + "`%s` is **%.2f× %s** (medians %.2f vs %.2f ms; %s).\n" % (
            na, r if r >= 1 else 1 / r, "slower" if r >= 1 else "faster", x[med], y[med], ci)
    if x[lo] <= y[hi] and y[lo] <= x[hi]:
        return out + "not distinguishable in this run (min–max ranges overlap).\n"
    if 1.0 / MIN_RATIO < r < MIN_RATIO:
        return out + "the same within %.1f%% (medians; ranges disjoint).\n" % ((MIN_RATIO - 1) * 100)
    return out + "`%s` peaks at **%.2f×** the RSS of `%s` (%.1f vs %.1f MB, medians; min–max ranges " \
        "disjoint).\n" % (na, r, nb, x[med], y[med])

def counters_line(run, a, b):
    """The deterministic counters of a pair: those equal in every repetition of each cell, so
    what they say holds whatever the machine's noise; "" when there are none."""
    said = []
    for k, label in DETERMINISTIC:
        va, vb = (core.finite(run.values(i, k)) for i in (a, b))
        if va.size and vb.size and np.ptp(va) == 0 and np.ptp(vb) == 0 and (va[0] or vb[0]):
            said.append(f"{label} {va[0]:,.0f} = {vb[0]:,.0f}" if va[0] == vb[0] else f"{label} {va[0]:,.0f} vs "
                        f"{vb[0]:,.0f}" + (f" ({va[0] / vb[0]:.2f}×)" if va[0] and vb[0] else ""))
    return f"- counters, `{run.cells[a].name}` vs `{run.cells[b].name}` (deterministic): {'; '.join(said)}.\n" \
        if said else ""

def none_of(run, reg, i):
    """The `none` cell the summary's overhead of cell i was computed against, or None."""
    c = run.cells[i]
    if c.reclaim == "none" or math.isnan(run.sum[i]["overhead_vs_none_pct"]):
        return None
    key = reg.baseline_key(c)
    return next((j for j, n in enumerate(run.cells) if run.sum[j]["reps"] and n.reclaim == "none"
                 and (n.workload, n.allocator, n.layout) == (c.workload, c.allocator, c.layout)
                 and reg.baseline_key(n) == key), None)

def workload_section(run, reg, wl):
    """One workload: its plots (only those drawn), a table row per cell, conclusions."""
    out = [f"## Workload `{wl}`\n\n"]
    idx = [i for i, c in enumerate(run.cells) if c.workload == wl]
    refs = {i: plotting.norm_ref(run, reg, i) for i in idx if run.sum[i]["reps"]}
    for name in plotting.WL_PLOTS:
        img = f"plots/{wl}-{name}"
        if all(os.access(os.path.join(run.dir, f"{img}.{ext}"), os.R_OK) for ext in ("png", "svg")):
            caption = CAPTIONS[plotting.ref_kind([a for _, a in refs.values()]) if name == "throughput" else name]
            out.append(f"![{wl} {name}]({img}.png)  \n*{name} — {caption} ([SVG]({img}.svg))*\n\n")
    if len(out) == 1:
        out.append("*No plots for this workload (gnuplot missing, or --no-plots).*\n\n")
    out.append("| cell | reps | median time ms | CV % | ops/s | overhead vs none % | peak RSS MB | p99 pause µs "
               "| max pause µs |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
    for i in idx:
        s = run.sum[i]
        if not s["reps"]:
            out.append(f"| `{md(run.cells[i].name)}` | 0 | FAILED | | | | | | |\n")
            continue
        cv = " **%.1f noisy** |" % s["time_cv_pct"] if s["time_cv_pct"] > CV else cell_num("%.1f", s["time_cv_pct"])
        out.append(f"| `{md(run.cells[i].name)}` | {s['reps']} |" + cell_num("%.2f", s["time_median_ms"]) + cv
                   + cell_num("%.4g", s["ops_per_s_median"]) + cell_num("%+.1f", s["overhead_vs_none_pct"])
                   + "".join(cell_num("%.1f", s[k]) for k in ("rss_peak_mb_median", "pause_p99_us_median",
                                                                "pause_max_us_median")) + "\n")
    out.append("\n**Conclusions** (generated; see the rules above)\n\n")
    said = len(out)
    for i, (r, alloc) in refs.items():
        n = none_of(run, reg, i)
        if n is not None:
            out += [compare(run, i, n, "LBO baseline"), compare(run, i, n), counters_line(run, i, n)]
        if r is not None and r != i and r != n:
            out += [compare(run, i, r, f"rc+gen/{alloc} reference"), counters_line(run, i, r)]
    if len(out) == said:
        out.append("- nothing to compare: no cell of this workload has a `none` baseline or an rc+gen reference.\n")
    return "".join(out) + "\n"

# Why the lineage table's figures differ from the published ones: the report's closing note.
LINEAGE_WHY = (
    "Why ours and the published figures differ. The published figures come from real programs on real "
    "interpreters (PR #142001's test script for floating garbage; httpx and mypy for memory; the PEP's "
    "pyperformance runs and its author's large-heap programs for pauses; issue #148937's services for the "
    "free-threaded gate); ours come from memstrat's workloads on its models. (1) Floating garbage depends on how "
    "fast the program sheds cycles and how big its live heap is; the published ratios are between collectors on "
    "one script, so compare our proportions and order with theirs rather than the absolute counts. (2) Our "
    "pauses are the model's collections timed in C without an interpreter around them, on a shared 2-core "
    "machine; rc+gen's run CPython's own passes on its 16-byte head, the incremental models' run memstrat's "
    "cheaper passes on a 32-byte head, which favours them in pause ratios (docs/fidelity.md measures the "
    "difference). Both incremental designs take whole transitive closures (3.14's expand_region, PEP 848's "
    "form_transitive_closure), so an increment that reaches a large connected structure (our `appstate` list "
    "refers to all 1M objects) is one long pause whatever its budget; 3.14 also marks everything its roots reach "
    "in a pass's first increment (gc.c's mark_at_start: \"TO DO -- Make this incremental\"), and PEP 848 lets one "
    "old increment do all the work young survivors have credited (`while work_to_do > 0`). The PEP's 100x is a "
    "best case; it says some programs see no shorter pauses. "
    "(3) Peak RSS includes the model's 32-byte pre-header where CPython uses 16, and our request program's "
    "objects, not httpx's or mypy's. (4) The free-threaded memory gate is a predicate in the model (the heap's "
    "live bytes grew 10%, or 40 x threshold0 net allocations), not a reading of the process's RSS, so its rate "
    "depends on how our heap grows. Deterministic counters (floating objects, collections) hold whatever the "
    "noise; pauses are timings.\n\n")

def lineage_section(run, reg):
    """Issue 15's lineage table with a sentence per finding and the closing note; '' without lineage cells."""
    text, csv_text = tables.lineage(run, reg)
    if not text:
        return ""
    rows = [ln.split(",") for ln in (csv_text or "").splitlines()[1:]]
    say = []
    for finding, what in (("cycles", "floating garbage on `cycles`"), ("appstate", "max pause and peak RSS with a "
                          "1M-object heap"), ("ft", "collections per net allocation under the memory gate")):
        got = [(r[1], r[2], float(r[5])) for r in rows if r[0] == finding and r[5] not in ("", "nan")]
        if not got:
            say.append(f"- {what}: no figure in this run (the table names what is missing).\n")
            continue
        worst = max(got, key=lambda g: abs(math.log(g[2])) if g[2] > 0 else math.inf)
        say.append(f"- {what}: ours / published ranges over "
                   + ", ".join(f"{g[2]:.2f}x" for g in got)
                   + f"; the largest disagreement is `{worst[0]}` {worst[1]} at {worst[2]:.2f}x"
                   + (" (within 2x of the published figure)\n" if 0.5 <= worst[2] <= 2 else "\n"))
    return ("## Lineage: the collectors CPython is choosing between\n\nThe three findings that decided 3.14's revert "
            "and PEP 848's claims, from this run, each beside the published figure with ours / published (the ratio "
            "of disagreement; [lineage.csv](lineage.csv)). 1: peak floating garbage (objects unreachable but not yet "
            "freed, exact, from the untimed shadow run) on `cycles` for CPython 3.13's generational collector, 3.14.0's "
            "incremental one and 3.14.2's (GH-140262). 2: max pause and peak RSS of PEP 848's collector and 3.14's "
            "incremental one on `request` with a 1M-object long-lived heap, as ratios to 3.13's. 3: how often the "
            "free-threaded collector with 3.14's memory gate collects, against one full collection per 80,000 net "
            "allocations.\n\n```" + text + "```\n\n" + "".join(say) + "\n" + LINEAGE_WHY)

# App objects from which a request cell is an LLM-server heap (issue 17: ~1M tracked objects).
BIG_HEAP_OBJECTS = 1_000_000

def med(run, i, metric):
    """Median of a counter over the good repetitions of cell i; NaN when absent."""
    v = core.finite(run.values(i, metric))
    return float(np.median(v)) if v.size else math.nan

def gen2_after_warmup(run, i):
    """(count, longest ms) of the gen-2 pauses after the warm-up (the request workload's
    warmup_end_ms counter; the pause log of each repetition), medians over good repetitions;
    the longest is 0 when none ran after it; NaNs without the counter or the logs."""
    worst, count = [], []
    for r, rep in enumerate(run.rep[i], 1):
        t0 = rep.value("warmup_end_ms") if rep.ok else math.nan
        text = core.read_text(os.path.join(run.dir, f"pauses/{run.cells[i].slug}.rep{r}.csv")) if rep.ok else None
        if text is None or not math.isfinite(t0):
            continue
        d = [float(f[1]) for f in (ln.split(",") for ln in text.split("\n")[1:]) if len(f) == 4 and f[2] == "2"
             and float(f[0]) >= t0]
        worst.append(max(d, default=0.0) / 1e3)
        count.append(len(d))
    return (float(np.median(count)), float(np.median(worst))) if worst else (math.nan, math.nan)

def seed_section(run):
    """Issue 17's statements, when the run has their cells: the gen-2 pause of request cells with
    an LLM-server heap (app_objects >= BIG_HEAP_OBJECTS) per policy, freeze beside auto; and the
    forked workers' memory of prefork cells (the cow counters), freeze and immortality beside auto."""
    ok = [i for i, x in enumerate(run.sum) if x["reps"]]
    big = [i for i in ok if run.cells[i].workload == "request" and med(run, i, "app_objects") >= BIG_HEAP_OBJECTS]
    fork = [i for i in ok if not math.isnan(med(run, i, "cow_private_mb_end"))]
    if not big and not fork:
        return ""
    out = ["## Where the seed patterns pay off: freeze, fork, immortal objects\n\n"]
    if big:
        out.append("**LLM-server heaps** (request cells with at least 1M long-lived objects): full (gen-2) "
                   "collections in the whole run and after the warm-up (the measured requests), the longest "
                   "gen-2 pause after the warm-up, medians over repetitions (— : the cell does not report it).\n\n"
                   "| cell | app objects | gen-2 collections | after warm-up | max gen-2 pause after warm-up ms "
                   "| p99 request µs |\n|---|---:|---:|---:|---:|---:|\n")
        for i in big:
            out.append(f"| `{md(run.cells[i].name)}` | {med(run, i, 'app_objects'):,.0f} |"
                       + "".join(cell_num(f, v) for f, v in (("%.0f", med(run, i, "gc_collections_gen2")),
                                                           ("%.0f", gen2_after_warmup(run, i)[0]),
                                                           ("%.1f", gen2_after_warmup(run, i)[1]),
                                                           ("%.0f", med(run, i, "req_p99_us")))) + "\n")
        out.append("\n")
        for i in big:
            c = run.cells[i]
            base = {"freeze": "auto", "manual+freeze": "manual"}.get(dict(c.knobs).get("policy", "auto"))
            if base is None:
                continue
            twin = {**dict(c.knobs), "policy": base}
            auto = next((j for j in big if run.cells[j].reclaim == c.reclaim
                         and {"policy": "auto", **dict(run.cells[j].knobs)} == twin
                         and (run.cells[j].allocator, run.cells[j].layout) == (c.allocator, c.layout)), None)
            (na, wa), (nf, wf) = (gen2_after_warmup(run, x) for x in (auto, i)) if auto is not None else ((0, 0),) * 2
            if auto is None or any(math.isnan(x) for x in (na, wa, nf, wf)):
                continue
            out.append(f"- gen-2 pause after the warm-up, `{run.cells[auto].name}`: without freeze {na:.0f} full "
                       f"collections, the longest {wa:.1f} ms; with `policy={dict(c.knobs)['policy']}` {nf:.0f}, "
                       f"the longest {wf:.1f} ms (gc.freeze() at the warm-up's end moves the application state to "
                       "the permanent generation, which no collection examines"
                       + ("; under auto, 3.11's rule holds full collections back while fewer than a quarter of "
                          "the long-lived objects are new" if base == "auto" and na == 0 else "") + ").\n")
        out.append("\n")
    if fork:
        out.append("**Pre-forking servers** (prefork: workers forked from a parent holding the state): each "
                   "worker's memory at its end, from /proc/PID/smaps_rollup (mean over workers, median over "
                   "repetitions). Private = pages this worker wrote (copy-on-write, plus its own allocations); "
                   "shared = pages still shared with the parent and the other workers.\n\n"
                   "| cell | private MB | shared MB | Pss MB | private MB per 1k requests | worker gen-2 collections |\n"
                   "|---|---:|---:|---:|---:|---:|\n")
        for i in fork:
            out.append(f"| `{md(run.cells[i].name)}` |" + "".join(cell_num(f, med(run, i, k)) for f, k in (
                ("%.1f", "cow_private_mb_end"), ("%.1f", "cow_shared_mb_end"), ("%.1f", "cow_pss_mb_end"),
                ("%.2f", "cow_private_mb_per_1k_requests"), ("%.0f", "worker_gc_gen2"))) + "\n")
        out.append("\n")
        for i in fork:
            c, k = run.cells[i], dict(run.cells[i].knobs)
            if k.get("policy", "auto") == "auto" and k.get("immortal", "0") == "0":
                for j in fork:
                    cj, kj = run.cells[j], dict(run.cells[j].knobs)
                    rest = {x: v for x, v in kj.items() if x not in ("policy", "immortal")}
                    if j == i or cj.reclaim != c.reclaim or rest != k or (cj.allocator, cj.layout) != (c.allocator, c.layout):
                        continue
                    a, b = med(run, i, "cow_private_mb_end"), med(run, j, "cow_private_mb_end")
                    what = "/".join(f"{x}={kj[x]}" for x in ("policy", "immortal") if x in kj)
                    out.append(f"- private memory per worker, `{c.name}` vs {what}: {a:.1f} vs {b:.1f} MB "
                               f"({b / a:.2f}×).\n" if a > 0 else "")
        out.append("\n")
    return "".join(out)

def csv_section(run_dir, name, heading, what):
    """A CSV file of the run as a markdown table; nothing when the file is absent."""
    text = core.read_text(os.path.join(run_dir, name))
    if not text:
        return ""
    out, ncol = [f"## {heading}\n\n{what} (from [{name}]({name})).\n\n"], 0
    for n, f in enumerate(next(csv.reader([ln.replace("\0", "")])) for ln in text.split("\n") if ln):
        ncol = ncol or len(f)
        out.append("|" + "".join(f" {md(x)} |" for x in (f + [""] * ncol)[:ncol]) + "\n")
        out += ["|" + "---|" * ncol + "\n"] if n == 0 else []
    return "".join(out) + "\n"

def report_text(run, reg):
    """report.md's text (see the contract)."""
    meta = run.meta  # what meta.json holds: load_run read it, or write_run wrote it
    out = [f"# memstrat run `{run.run_id}`\n\nGenerated by `memstrat bench` from this directory's files "
           "(`memstrat bench --plots-only DIR` regenerates it). Numbers per cell: medians over successful "
           "repetitions; full data in [summary.csv](summary.csv) and [results.csv](results.csv).\n\n",
           meta_section(meta, run.reps, warmup_note(run) + floor_note(run)) if meta
           else "## Machine and build\n\n*meta.json missing or unreadable.*\n\n",
           HOW_TO_READ, *(workload_section(run, reg, wl) for wl in plotting.workloads(run))]
    out.append(seed_section(run))
    failed = [c.name for c, s in zip(run.cells, run.sum) if not s["reps"]]
    if failed:
        out.append("## Cells without results\n\n" + "".join(
            f"- `{n}`: every repetition failed (see meta.json `failures`).\n" for n in failed) + "\n")
    out.append(csv_section(run.dir, "churn_allocators.csv", "Allocator table (churn)", "Time per allocation + free "
                           "pair, per allocator, with ratios to mimalloc and pymalloc"))
    out.append(csv_section(run.dir, "collectors.csv", "Collectors beside rc+gen", "Every other collector on the same "
                           "workload, allocator, layout and knobs as an rc+gen cell; ratios are strategy / rc+gen. "
                           "rc+gen runs CPython's own passes on CPython's 16-byte head (its default); the other "
                           "collectors run memstrat's on a 32-byte head, which costs less per object examined (rc+gen "
                           "header=32 shows how much: docs/fidelity.md), so pause ratios below 1 are partly that"))
    mvr = tables.model_vs_real(run, reg)[0]
    if mvr:
        out.append("## Model vs real: rc+gen beside the interpreter\n\nEach cell run in a real interpreter beside "
                   "its model, the rc+gen cell of the same workload, allocator, layout, knobs and policy (medians "
                   "over repetitions; [model_vs_real.csv](model_vs_real.csv)). The model times its collections "
                   "in C; the interpreter's pauses include what CPython does around them.\n\n```" + mvr + "```\n\n")
    out.append(lineage_section(run, reg))
    text, has_csv = tables.gcscan(run.dir)
    if text is not None or has_csv:
        out.append("## gc-scan: full collection, ns per object, rc+gen beside CPython\n\n")
        nl = "" if not text or text.endswith("\n") else "\n"
        out += [f"```\n{text}{nl}```\n\n"] if text is not None else []
        out += ["Every repetition: [gc_scan.csv](gc_scan.csv).\n\n"] if has_csv else []
    return "".join(out)

def render(run, reg, plots=True, cmd="bench"):
    """Tables, plots (when asked), then report.md of a summarized run; 0, or 1 when a plot failed.
    run.plots_status keeps what plots.draw said (0 drawn, 1 failed, -1 skipped or not asked)."""
    tables.write(run, reg, cmd)
    run.plots_status = plotting.draw(run, reg, cmd) if plots else -1
    path = os.path.join(run.dir, "report.md")
    try:
        core.write_atomic(path, report_text(run, reg))
    except (OSError, core.Fail) as e:
        core.warn(cmd, f"warning: report.md not written ({core.printable(path)}: {getattr(e, 'strerror', None) or e})")
    return 1 if run.plots_status > 0 else 0

def write_run(run, reg, plots, cmd):
    """Every file of a finished run from its summarized Run (run.meta: what identifies it):
    results.csv, summary.csv, meta.json with what happened (report.md reads it), then render's,
    then meta.json again saying what the plots did. render's status; OSError/Fail on a write."""
    run.write_results_csv(os.path.join(run.dir, "results.csv"))
    run.write_summary_csv(os.path.join(run.dir, "summary.csv"))
    run.meta.update(failures=[{"cell": c.name, "rep": r, "error": rep.error or "?"} for c, reps in
                              zip(run.cells, run.rep) for r, rep in enumerate(reps, 1) if not rep.ok],
                    cv_warnings=[{"cell": run.cells[i].name, "time_cv_pct": run.sum[i]["time_cv_pct"]}
                                 for i in run.cv_warned], cv_warn_pct=core.CV_WARN_PCT, plots="skipped")
    path = os.path.join(run.dir, "meta.json")
    core.write_atomic(path, json.dumps(run.meta, indent="\t") + "\n")
    status = render(run, reg, plots, cmd)
    run.meta["plots"] = {0: "drawn", 1: "failed"}.get(run.plots_status, "skipped")
    core.write_atomic(path, json.dumps(run.meta, indent="\t") + "\n")
    return status

def print_tables(run, reg, out=sys.stdout):
    """The churn, collector, model-vs-real and lineage tables, printed at the end of a run."""
    out.write(tables.churn(run)[0] + tables.collectors(run, reg)[0] + tables.model_vs_real(run, reg)[0]
              + tables.lineage(run, reg)[0] + tables.heads(run, reg)[0])
