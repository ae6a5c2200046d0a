"""tables.py — the tables a run prints at its end and keeps beside its results.

Contract: churn(run) and collectors(run, reg) each return (text, csv) of a summarized Run: the
text printed at the end of `memstrat bench` ("" without such cells) and the CSV kept in the run
directory (None: nothing to keep). churn_allocators.csv: the churn cells by knobs; per allocator
the median [min–max] ns per alloc+free pair, the same net of the `void` allocator's (the
harness's own cost per pair), and the ratios of net figures to mimalloc and pymalloc where they
ran (bump shown, not ranked: it never reuses memory); issue 4's target on pool's row.
collectors.csv: each other collector beside the rc+gen cell
of the same workload, allocator, layout and knobs (its strategy's knobs at their defaults count
as absent): throughput, max pause, collector time as strategy / rc+gen; issue 6's target on
rc+incr. model_vs_real.csv: each cell run in a real interpreter (the registry's `interpreter`
strategy, `cpython`) beside its model, the rc+gen cell of the same workload, allocator, layout,
workload knobs and policy (the one whose `gc` preset names the same interpreter version if there is
one, else the default): throughput, pauses, collections per generation, peak RSS, with real / model.
write() writes all three; gcscan(run_dir) reads what `memstrat gcscan` left. Figures come only from
repetitions that ran: a cell without any is left out, never shown as 0.
"""
import math, os  # noqa: E401

import numpy as np

from . import core

# Issue 4's targets for `pool`: time per pair relative to mimalloc and to the real pymalloc.
CHURN_TARGET_VS_MIMALLOC = 1.1
CHURN_TARGET_VS_PYMALLOC = 0.5
# Issue 6's target for rc+incr against rc+gen: max pause share and throughput loss.
COLL_TARGET_MAX_PAUSE_RATIO = 0.10
COLL_TARGET_THROUGHPUT_LOSS = 0.10
CHURN_HEAD = ("knobs,allocator,ns_per_pair_median,ns_per_pair_min,ns_per_pair_max,vs_mimalloc,vs_pymalloc,"
              "net_ns_per_pair\n")
# The allocator whose time per pair is the harness's own (a push and a pop): subtracted from the
# others' so the table compares allocators, not the workload loop around them.
CHURN_FLOOR = "void"
# Allocators shown but not ranked, and why (their time is not an allocator's reuse cost).
CHURN_UNRANKED = {"bump": "   (never reuses memory: every pair touches a new block; not ranked)"}
COLL_HEAD = "cell,baseline,ops_per_s,ops_ratio,pause_max_us,pause_max_ratio,pause_total_ms,pause_total_ratio\n"
# The model-vs-real table's metrics (counter, column label), medians over repetitions.
MVR_METRICS = (("ops_per_s", "ops/s"), ("pause_count", "pauses"), ("pause_p50_us", "p50 µs"),
               ("pause_p99_us", "p99 µs"), ("pause_max_us", "max µs"), ("gc_collections_gen0", "gen0"),
               ("gc_collections_gen1", "gen1"), ("gc_collections_gen2", "gen2"), ("rss_peak_mb", "peak MB"))

def ratio(a, b):
    """a / b with IEEE results (inf, NaN) where Python would raise, as the C tables printed."""
    with np.errstate(all="ignore"):
        return float(np.float64(a) / np.float64(b))

def churn(run):
    """The allocator table (see the contract)."""
    groups = {}
    for i, c in enumerate(run.cells):
        if c.workload == "churn":
            med, lo, hi = core.spread(run.values(i, "ns_per_pair"))
            groups.setdefault(c.knob_text, []).extend([(c.allocator, med, lo, hi)] if math.isfinite(med) else [])
    text, csv = [], []
    for knobs, rows in ((k, r) for k, r in groups.items() if r):
        floor = next((m for a, m, _, _ in rows if a == CHURN_FLOOR), math.nan)  # the harness's own ns per pair
        net = {a: m - floor if math.isfinite(floor) else m for a, m, _, _ in rows}
        text.append("%s\n  %-10s %-26s %9s %10s %10s\n" % (knobs or "(default knobs)", "allocator", "ns/pair",
                                                           "net", "vs mimalloc", "vs pymalloc"))
        for a, med, lo, hi in rows:
            vm, vp = (ratio(net[a], net[ref]) if ref in net and net[ref] > 0 and a not in CHURN_UNRANKED else math.nan
                      for ref in ("mimalloc", "pymalloc"))
            line = "  %-10s %-26s %9s" % (a, "%.1f [%.1f-%.1f]" % (med, lo, hi),
                                          "floor" if a == CHURN_FLOOR else "%.1f" % net[a])
            line += "".join(" %9s" % "-" if math.isnan(r) else " %8.2fx" % r for r in (vm, vp))
            if a == "pool" and not (math.isnan(vm) and math.isnan(vp)):
                met = ((math.isnan(vm) or vm <= CHURN_TARGET_VS_MIMALLOC)
                       and (math.isnan(vp) or vp <= CHURN_TARGET_VS_PYMALLOC))
                line += "   target <= %.1fx / <= %.1fx: %s" % (CHURN_TARGET_VS_MIMALLOC, CHURN_TARGET_VS_PYMALLOC,
                                                              "met" if met else "NOT met")
            line += CHURN_UNRANKED.get(a, "")
            text.append(line + "\n")
            # knobs are joined with ';' and hold no ',' (cell syntax), so they need no quotes
            csv.append("%s,%s,%.3f,%.3f,%.3f,%.4f,%.4f,%.3f\n" % (knobs or "default", a, med, lo, hi, vm, vp,
                                                                  net[a] if math.isfinite(floor) else math.nan))
    if not csv:
        return "", None
    return ("\nallocators (churn, ns per alloc+free pair, median [min-max] of the repetitions; net = minus the "
            f"`{CHURN_FLOOR}` allocator's, the harness's own cost; ratios of net figures):\n" + "".join(text),
            CHURN_HEAD + "".join(csv))

def collectors(run, reg):
    """The collector table (see the contract)."""

    def setting(c):
        own = {k["name"]: k["default"] for k in reg.strategy(c.reclaim)["knobs"]}
        return c.workload, c.allocator, c.layout, [kv for kv in c.knobs if own.get(kv[0], None) != kv[1]]

    text, csv = [], []
    for i, b in enumerate(run.cells):
        if b.reclaim != "rc+gen" or not run.sum[i]["reps"]:
            continue
        bs, b_tot = run.sum[i], core.median(run.values(i, "pause_total_ms"))
        for j, c in enumerate(run.cells):
            if (j == i or not run.sum[j]["reps"] or not reg.has_collector(c.reclaim) or c.reclaim == "rc+gen"
                    or setting(c) != setting(b)):
                continue
            s = run.sum[j]
            ops, mx, tot = s["ops_per_s_median"], s["pause_max_us_median"], core.median(run.values(j, "pause_total_ms"))
            r_ops, r_mx, r_tot = (ratio(ops, bs["ops_per_s_median"]), ratio(mx, bs["pause_max_us_median"]),
                                  ratio(tot, b_tot))
            line = "  %-58s %9.3g (%.2fx) %9.0f (%.2fx) %9.0f (%.2fx)" % (c.name, ops, r_ops, mx, r_mx, tot, r_tot)
            if c.reclaim == "rc+incr":
                met = r_mx <= COLL_TARGET_MAX_PAUSE_RATIO and r_ops >= 1 - COLL_TARGET_THROUGHPUT_LOSS
                line += "  target max pause <= %.0f%%, loss <= %.0f%%: %s" % (
                    COLL_TARGET_MAX_PAUSE_RATIO * 100, COLL_TARGET_THROUGHPUT_LOSS * 100, "met" if met else "NOT met")
            text.append(line + "\n")
            csv.append("%s,%s,%.6g,%.4f,%.6g,%.4f,%.6g,%.4f\n" % (c.name, b.name, ops, r_ops, mx, r_mx, tot, r_tot))
    if not csv:
        return "", None
    return ("\ncollectors beside rc+gen (medians; ratio = strategy / rc+gen):\n  %-58s %17s %17s %17s\n"
            % ("cell", "ops/s (ratio)", "max pause us", "collector ms") + "".join(text), COLL_HEAD + "".join(csv))

def model_pairs(run, reg):
    """(real, model) cell indices: each interpreter cell with results and its rc+gen model (see the
    contract); a real cell without a model in the run is left out."""
    knob = lambda c, k: dict(c.knobs).get(k, "auto" if k == "policy" else "")  # noqa: E731
    pairs = []
    for i, c in enumerate(run.cells):
        if not run.sum[i]["reps"] or not reg.strategy(c.reclaim).get("interpreter"):
            continue
        key = (c.workload, c.allocator, c.layout, reg.baseline_key(c), knob(c, "policy"))
        models = [j for j, m in enumerate(run.cells) if m.reclaim == "rc+gen" and run.sum[j]["reps"]
                  and (m.workload, m.allocator, m.layout, reg.baseline_key(m), knob(m, "policy")) == key]
        version = "cpython3" + knob(c, "python").replace("3.", "", 1) if knob(c, "python") else ""
        best = sorted(models, key=lambda j: (knob(run.cells[j], "gc") != version, knob(run.cells[j], "gc") != ""))
        pairs += [(i, best[0])] if best else []
    return pairs

def model_vs_real(run, reg):
    """(text, csv) of the model-vs-real table, by workload (see the contract)."""
    text, csv = [], []
    for wl in dict.fromkeys(run.cells[i].workload for i, _ in model_pairs(run, reg)):
        text.append(f"{wl}\n  %-14s" % "" + "".join(" %10s" % lab for _, lab in MVR_METRICS) + "\n")
        for i, j in ((i, j) for i, j in model_pairs(run, reg) if run.cells[i].workload == wl):
            real, model = ([core.median(run.values(k, m)) for m, _ in MVR_METRICS] for k in (i, j))
            for who, k, vals in (("real", i, real), ("model", j, model)):
                text.append("  %-14s" % who + "".join(" %10s" % ("-" if math.isnan(v) else "%.4g" % v)
                                                      for v in vals) + f"  {run.cells[k].name}\n")
            text.append("  %-14s" % "real / model" + "".join(" %10s" % ("-" if not math.isfinite(ratio(a, b)) else
                                                                          "%.2fx" % ratio(a, b))
                                                             for a, b in zip(real, model)) + "\n")
            csv += ["%s,%s,%s,%s,%s,%s\n" % (wl, m, run.cells[i].name, run.cells[j].name, core.fmt_num(a),
                                              core.fmt_num(b)) for (m, _), a, b in zip(MVR_METRICS, real, model)]
    if not csv:
        return "", None
    return ("\nmodel vs real (medians; the model is rc+gen on the same workload, allocator, layout, knobs and "
            "policy):\n" + "".join(text), "workload,metric,real_cell,model_cell,real,model\n" + "".join(csv))

def write(run, reg, cmd="bench"):
    """churn_allocators.csv, collectors.csv and model_vs_real.csv into the run directory, where
    there is a table; a file that cannot be written is said in one line and the run goes on."""
    for name, (_, csv) in (("churn_allocators.csv", churn(run)), ("collectors.csv", collectors(run, reg)),
                           ("model_vs_real.csv", model_vs_real(run, reg))):
        if csv is not None:
            try:
                core.write_atomic(os.path.join(run.dir, name), csv)
            except (OSError, core.Fail) as e:
                core.warn(cmd, f"cannot write {os.path.join(run.dir, name)}: {getattr(e, 'strerror', None) or e}")

def gcscan(run_dir):
    """(gc_scan.txt's table or None, whether gc_scan.csv is there): what `memstrat gcscan` left."""
    text = core.read_text(os.path.join(run_dir, "gc_scan.txt"))
    return text or None, os.access(os.path.join(run_dir, "gc_scan.csv"), os.R_OK)
