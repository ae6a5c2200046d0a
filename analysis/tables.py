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
lineage(run, reg) is issue 15's table of the collectors CPython is choosing between: three
findings (floating garbage on `cycles`: rc+gen gc=cpython313, rc+incr variant=3.14.0 and 3.14.2;
max pause and peak RSS on `request` appstate=1m: rc+pep848 and rc+incr beside rc+gen
gc=cpython313; rc+ft memgate=on: collections per net allocation), each figure beside the
published one (LINEAGE_PUBLISHED) with ours / published; empty when the run has none of those
cells, and naming the cells and counters it lacks when it has some. lineage.csv keeps it.
heads(run, reg) is issue 14's GC-head table (rc+gen header=32 beside header=16); heads.csv keeps it.
write() writes the five; gcscan(run_dir) reads what `memstrat gcscan` left. Figures come only from
repetitions that ran: a cell without any is left out, never shown as 0.
"""
import math, os, re  # noqa: E401

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

# ---- issue 15: the lineage table ------------------------------------------------------------

# What each finding compares, as (role, label, test of a cell's reclaim and knobs). A knob left out
# of a cell counts at its registry default, so `rc+incr` alone is variant 3.14.0.
LINEAGE_GEN313 = ("gen313", "rc+gen gc=cpython313", "rc+gen", "gc", "cpython313")
LINEAGE_CYCLES_ROLES = (LINEAGE_GEN313, ("incr3140", "rc+incr 3.14.0", "rc+incr", "variant", "3.14.0"),
                        ("incr3142", "rc+incr 3.14.2", "rc+incr", "variant", "3.14.2"))
LINEAGE_APPSTATE_ROLES = (LINEAGE_GEN313, ("pep848", "rc+pep848", "rc+pep848", None, None),
                          ("incr3140", "rc+incr 3.14.0", "rc+incr", "variant", "3.14.0"),
                          ("incr3142", "rc+incr 3.14.2", "rc+incr", "variant", "3.14.2"))
# The long-lived heap of finding 2: `appstate=1m`, however it is written.
LINEAGE_APPSTATE = 1000000
# The FT finding's cells and counters: collections (every generation label, as FT automatic runs
# are "generation 0") per net allocation the collector counted.
LINEAGE_FT = ("rc+ft", "memgate", "on")
LINEAGE_FT_NET = "gc_net_allocations"
# Without that counter: what refcounting did not free, i.e. what the collector had to (collected)
# plus what is still live at the end: the net allocations a whole-heap collector's count adds up.
LINEAGE_FT_NET_PARTS = ("gc_collected", "live_objects")
LINEAGE_FLOATING = "floating_peak_objects"
# Published figures (GC_LINEAGE.md §3, §5, §6; the sources are named in each note).
LINEAGE_PUBLISHED = {
    # PR #142001 (nascheme): max outstanding cyclic garbage, objects
    "floating": {"gen313": (100, "< 100 (3.13, PR #142001)"), "incr3140": (2000, "~2,000 (3.14.0, PR #142001)"),
                 "incr3142": (10000, "~10,000 (after GH-140262, PR #142001)")},
    # max pause / rc+gen's: PEP 848 "up to a factor of 100" shorter; 3.14 What's New (gh-108362): "by an order
    # of magnitude or more for larger heaps"
    "pause": {"pep848": (0.01, "1/100 at best (PEP 848)"), "incr3140": (0.1, "<= 1/10 (3.14 What's New)"),
              "incr3142": (0.1, "<= 1/10 (3.14 What's New)")},
    # peak RSS / rc+gen's: PEP 848 "about the same" (+24 MB at most on small heaps); the revert's reports for
    # 3.14.x: httpx 420 MB vs 80 MB, mypy about double
    "rss": {"pep848": (1.0, "~1x, +24 MB at most (PEP 848)"), "incr3140": (2.0, "~2x (mypy; httpx 5.3x)"),
            "incr3142": (2.0, "~2x (mypy; httpx 5.3x)")},
    # one full collection per 40 x threshold0 = 80,000 net allocations (issue #148937)
    "ft": (1 / 80000, "1/80,000 (issue #148937)")}
LINEAGE_HEAD = "finding,cell,metric,ours,published,ours_over_published\n"

def _knob(reg, c, name):
    """A cell's knob value, its registry default when the cell leaves it out ('' if undeclared)."""
    if name in dict(c.knobs):
        return dict(c.knobs)[name]
    d = reg.knob("reclaim", c.reclaim, name) or reg.knob("workload", c.workload, name)
    return d["default"] if d else ""

def _count(text):
    """A COUNT knob's value as an int (knobs.h rule 1: k/m/g multiply by 1e3/1e6/1e9); None if not one."""
    m = re.fullmatch(r"([0-9]+)([kmg]?)", text or "")
    return int(m[1]) * {"": 1, "k": 10**3, "m": 10**6, "g": 10**9}[m[2]] if m else None

def _roles(run, reg, want, roles):
    """{group: {role: cell index}}: cells with results that `want` keeps, by allocator, layout and
    workload knobs other than the collector's (so each group compares like with like)."""
    groups = {}
    for i, c in enumerate(run.cells):
        if not run.sum[i]["reps"] or not want(c):
            continue
        for role, _, reclaim, knob, value in roles:
            if c.reclaim == reclaim and (knob is None or _knob(reg, c, knob) == value):
                key = (c.allocator, c.layout, reg.baseline_key(c))
                groups.setdefault(key, {}).setdefault(role, i)
    return groups

def _fmt(v, spec="%.4g"):
    return "-" if v is None or not math.isfinite(v) else spec % v

def lineage(run, reg):
    """(text, csv) of the lineage table (see the contract)."""
    text, csv, missing = [], [], []
    has = lambda i, m: math.isfinite(core.median(run.values(i, m)))  # noqa: E731
    med = lambda i, m: core.median(run.values(i, m))  # noqa: E731
    cyc = _roles(run, reg, lambda c: c.workload == "cycles", LINEAGE_CYCLES_ROLES)
    app = _roles(run, reg, lambda c: c.workload == "request" and _count(_knob(reg, c, "appstate")) == LINEAGE_APPSTATE,
                 LINEAGE_APPSTATE_ROLES)
    ft = [i for i, c in enumerate(run.cells) if run.sum[i]["reps"] and c.reclaim == LINEAGE_FT[0]
          and _knob(reg, c, LINEAGE_FT[1]) == LINEAGE_FT[2]]
    if not (cyc or app or ft):
        return "", None
    # 1. floating garbage on `cycles`
    text.append(" 1. cycles: floating garbage at its peak (objects unreachable, not yet freed)\n")
    if not cyc:
        missing.append("cycles cells of rc+gen gc=cpython313 / rc+incr variant=3.14.0 / 3.14.2")
    for key, roles in cyc.items():
        text.append("    %s\n    %-22s %12s %36s %10s\n" % ("/".join(k for k in key if k) or "-", "collector",
                                                           LINEAGE_FLOATING, "published", "ours/pub"))
        ours = {}
        for role, label, *_ in LINEAGE_CYCLES_ROLES:
            if role not in roles:
                missing.append(f"cycles {label} ({'/'.join(k for k in key if k)})")
                continue
            i = roles[role]
            if not has(i, LINEAGE_FLOATING):
                missing.append(f"counter {LINEAGE_FLOATING} in {run.cells[i].name}")
            ours[role] = v = med(i, LINEAGE_FLOATING)
            pub, note = LINEAGE_PUBLISHED["floating"][role]
            text.append("    %-22s %12s %36s %10s  %s\n" % (label, _fmt(v, "%.0f"), note, _fmt(ratio(v, pub), "%.2fx"),
                                                           run.cells[i].name))
            csv.append("cycles,%s,%s,%s,%s,%s\n" % (run.cells[i].name, LINEAGE_FLOATING, core.fmt_num(v),
                                                    core.fmt_num(pub), core.fmt_num(ratio(v, pub))))
        if all(math.isfinite(ours.get(r, math.nan)) for r in ("gen313", "incr3140", "incr3142")):
            a, b = ratio(ours["incr3140"], ours["gen313"]), ratio(ours["incr3142"], ours["incr3140"])
            order = ours["gen313"] < ours["incr3140"] < ours["incr3142"]
            text.append("    proportions: 3.14.0 / 3.13 = %s (published >= 20x), 3.14.2 / 3.14.0 = %s (published ~5x, "
                        "ours/pub %s); order 3.13 < 3.14.0 < 3.14.2: %s\n" % (
                            _fmt(a, "%.1fx"), _fmt(b, "%.1fx"), _fmt(b / 5, "%.2fx"), "as published" if order else
                            "NOT as published"))
    # 2. max pause and peak RSS with a 1M-object long-lived heap
    text.append(" 2. request appstate=1m: max pause and peak RSS beside rc+gen gc=cpython313 (ratio = strategy / "
                "rc+gen)\n")
    if not app:
        missing.append("request appstate=1m cells of rc+gen gc=cpython313 / rc+pep848 / rc+incr")
    for key, roles in app.items():
        text.append("    %s\n    %-16s %18s %28s %9s %18s %28s %9s\n" % (
            "/".join(k for k in key if k) or "-", "collector", "max pause us", "published", "ours/pub", "peak RSS MB",
            "published", "ours/pub"))
        base = roles.get("gen313")
        if base is None:
            missing.append(f"request appstate=1m rc+gen gc=cpython313 ({'/'.join(k for k in key if k)})")
        for role, label, *_ in LINEAGE_APPSTATE_ROLES:
            if role not in roles:
                if role != "gen313":
                    missing.append(f"request appstate=1m {label} ({'/'.join(k for k in key if k)})")
                continue
            i = roles[role]
            mx, rss = med(i, "pause_max_us"), med(i, "rss_peak_mb")
            if role == "gen313":
                text.append("    %-16s %18s %28s %9s %18s %28s %9s  %s\n" % (label, _fmt(mx, "%.0f"), "(baseline)", "",
                                                                            _fmt(rss, "%.1f"), "(baseline)", "",
                                                                            run.cells[i].name))
                continue
            r_mx = ratio(mx, med(base, "pause_max_us")) if base is not None else math.nan
            r_rss = ratio(rss, med(base, "rss_peak_mb")) if base is not None else math.nan
            (p_mx, n_mx), (p_rss, n_rss) = LINEAGE_PUBLISHED["pause"][role], LINEAGE_PUBLISHED["rss"][role]
            text.append("    %-16s %18s %28s %9s %18s %28s %9s  %s\n" % (
                label, "%s (%s)" % (_fmt(mx, "%.0f"), _fmt(r_mx, "%.3fx")), n_mx, _fmt(ratio(r_mx, p_mx), "%.2fx"),
                "%s (%s)" % (_fmt(rss, "%.1f"), _fmt(r_rss, "%.2fx")), n_rss, _fmt(ratio(r_rss, p_rss), "%.2fx"),
                run.cells[i].name))
            for metric, r, p in (("max_pause_ratio", r_mx, p_mx), ("peak_rss_ratio", r_rss, p_rss)):
                csv.append("appstate,%s,%s,%s,%s,%s\n" % (run.cells[i].name, metric, core.fmt_num(r), core.fmt_num(p),
                                                          core.fmt_num(ratio(r, p))))
    # 3. the free-threaded collector's memory gate
    text.append(" 3. rc+ft memgate=on: full collections per net allocation\n")
    if not ft:
        missing.append("rc+ft memgate=on cells")
    pub, note = LINEAGE_PUBLISHED["ft"]
    for i in ft:
        colls = sum(med(i, f"gc_collections_gen{g}") for g in range(reg.generations("rc+ft") or 1)
                    if has(i, f"gc_collections_gen{g}"))
        how = ""
        if has(i, LINEAGE_FT_NET):
            net = med(i, LINEAGE_FT_NET)
        elif all(has(i, m) for m in LINEAGE_FT_NET_PARTS):
            net, how = sum(med(i, m) for m in LINEAGE_FT_NET_PARTS), " (= " + " + ".join(LINEAGE_FT_NET_PARTS) + ")"
        else:
            net = math.nan
            missing.append(f"counter {LINEAGE_FT_NET} (or {' and '.join(LINEAGE_FT_NET_PARTS)}) in {run.cells[i].name}")
        per = ratio(colls, net)
        text.append("    %-58s %s collections / %s net allocations%s = 1/%s; published %s; ours/pub %s\n" % (
            run.cells[i].name, _fmt(colls, "%.0f"), _fmt(net, "%.0f"), how, _fmt(ratio(1, per), "%.0f"), note,
            _fmt(ratio(per, pub), "%.2fx")))
        csv.append("ft,%s,collections_per_net_allocation,%s,%s,%s\n" % (run.cells[i].name, core.fmt_num(per),
                                                                        core.fmt_num(pub), core.fmt_num(ratio(per, pub))))
    if missing:
        text.append("    missing: " + "; ".join(dict.fromkeys(missing)) + "\n")
    return ("\nlineage: the collectors CPython is choosing between (medians; ours / published = the ratio of "
            "disagreement, 1.00x = agreement):\n" + "".join(text), LINEAGE_HEAD + "".join(csv))

HEADS_HEAD = ("cell,time_ms_16,time_ms_32,time_ratio_32_over_16,time_ratio_ci_low,time_ratio_ci_high,rss_peak_mb_16,"
              "rss_peak_mb_32,rss_ratio,live_mb_peak_16,live_mb_peak_32,same_collections\n")
# The counters that must not move with the head: the same collections, the same objects collected.
HEADS_SAME = ("gc_collections_gen0", "gc_collections_gen1", "gc_collections_gen2", "gc_collected")

def heads(run, reg):
    """(text, csv) of issue 14's head table: each rc+gen cell with header=32 beside the same cell with
    the default 16-byte head: time (ratio of medians, 32 / 16, with its 95% bootstrap interval),
    peak RSS and peak live bytes (deterministic), and whether collections and objects collected
    agree (they must). Empty without such pairs."""
    def base(c):
        return c.workload, c.allocator, c.layout, sorted(kv for kv in c.knobs if kv[0] != "header")

    text, csv = [], []
    for j, c in enumerate(run.cells):
        if c.reclaim != "rc+gen" or dict(c.knobs).get("header") != "32" or not run.sum[j]["reps"]:
            continue
        mates = [i for i, m in enumerate(run.cells) if m.reclaim == "rc+gen" and run.sum[i]["reps"]
                 and dict(m.knobs).get("header", "16") == "16" and base(m) == base(c)]
        if not mates:
            continue
        i = mates[0]
        med = lambda k, n: core.median(run.values(k, n))  # noqa: E731
        t16, t32 = med(i, "real_time_ms"), med(j, "real_time_ms")
        lo, hi = core.bootstrap_ci(run.values(j, "real_time_ms"), over=run.values(i, "real_time_ms"))
        r16, r32 = med(i, "rss_peak_mb"), med(j, "rss_peak_mb")
        l16, l32 = (med(k, "live_bytes_peak") / 1048576 for k in (i, j))
        same = all(med(i, n) == med(j, n) for n in HEADS_SAME)
        name = run.cells[i].name
        text.append("  %-58s %8.1f %8.1f  %5.2fx [%.2f-%.2f]  %7.1f %7.1f (%.2fx)  %7.1f %7.1f  %s\n" % (
            name, t16, t32, ratio(t32, t16), lo, hi, r16, r32, ratio(r32, r16), l16, l32, "yes" if same else "NO"))
        csv.append(",".join([name] + [core.fmt_num(v) for v in (t16, t32, ratio(t32, t16), lo, hi, r16, r32,
                                                                ratio(r32, r16), l16, l32)]
                            + ["yes" if same else "no"]) + "\n")
    if not csv:
        return "", None
    return ("\nGC head: header=16 (CPython's packed head and passes) vs header=32 (medians; time ratio 32/16 with its "
            "95%% bootstrap interval):\n  %-58s %8s %8s  %-19s %-24s %-15s %s\n" % (
                "cell (header=16)", "ms 16", "ms 32", "ratio [CI]", "peak RSS MB 16/32", "live MB 16/32",
                "same collections")
            + "".join(text), HEADS_HEAD + "".join(csv))

def write(run, reg, cmd="bench"):
    """churn_allocators.csv, collectors.csv, model_vs_real.csv and lineage.csv into the run
    directory, where there is a table; a file that cannot be written is said in one line and the
    run goes on."""
    for name, (_, csv) in (("churn_allocators.csv", churn(run)), ("collectors.csv", collectors(run, reg)),
                           ("model_vs_real.csv", model_vs_real(run, reg)), ("lineage.csv", lineage(run, reg)),
                           ("heads.csv", heads(run, reg))):
        if csv is not None:
            try:
                core.write_atomic(os.path.join(run.dir, name), csv)
            except (OSError, core.Fail) as e:
                core.warn(cmd, f"cannot write {os.path.join(run.dir, name)}: {getattr(e, 'strerror', None) or e}")

def gcscan(run_dir):
    """(gc_scan.txt's table or None, whether gc_scan.csv is there): what `memstrat gcscan` left."""
    text = core.read_text(os.path.join(run_dir, "gc_scan.txt"))
    return text or None, os.access(os.path.join(run_dir, "gc_scan.csv"), os.R_OK)
