#!/usr/bin/python3
"""harness_cost.py — what the harness itself costs a cell: the RSS sampler thread and the observer.

Usage (from the source tree, Debian's python3 for numpy/scipy):
    /usr/bin/python3 tools/harness_cost.py [--reps N] [--periods 1000,10000] [--cells CELL,...]
                                           [--memstrat build/memstrat]

Contract: every cell runs under every configuration below, one process per run, interleaved
(repetition r runs each cell under every configuration in turn, the order rotated by one each
repetition, so neither machine drift nor a position in the order favours one). ops_per_s is
read from each run's JSON. A cost is measured on pairs: within one repetition, the run with the
instrument against the run of the same cell without it (minutes apart at most, on the same
machine state). Two costs per pair:
  wall %  = (ops/s without / ops/s with - 1) x 100: the time the instrument adds to the timed
            span, the figure that matters; on a loaded machine other processes' preemption
            swamps it (its interval says so);
  CPU %   = (process CPU time with - without) / timed span without x 100: the CPU time the
            instrument adds, every thread counted (Google Benchmark's cpu_time is the process's),
            which other processes disturb far less; it misses what the instrument costs without
            using CPU (a wake-up's cache damage on the workload's core shows in wall %).
  thread % = the sampler thread's own CPU time (counter rss_sampler_cpu_ms, read in the thread)
            as a share of the timed span: what the sampler itself burns, load or no load.
The table gives each one's median over repetitions, the 95% bootstrap interval of that median
(analysis.core.bootstrap_ci), and each configuration's median ops/s.

Configurations (flags of `memstrat run`):
    bare             --ms_rss_period_us=0 --ms_observe=0   no sampler thread, no observer
    observer         --ms_rss_period_us=0                  the observer alone (pauses, RSS marks)
    sampler P        --ms_observe=0 --ms_rss_period_us=P   the sampler thread alone, period P µs
    full             (no flag)                             what `memstrat bench` runs
Costs printed: observer (observer vs bare), sampler P (sampler P vs bare), full (full vs bare).
Exit status: 0; 1 when a run failed; 2 on bad options.
"""
import argparse, json, os, subprocess, sys  # noqa: E401

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from analysis import core, runs  # noqa: E402  (median, bootstrap_ci, time units: the suite's one copy)

# The three workloads the issue names, at the sizes of the default matrix.
CELLS = ("list/rc+gen/system/slots",
         "tree/rc+gen/system/slots/stretch=16/longlived=16/max=14",
         "request/rc+gen/system/shared/requests=3000")
DEFAULT_REPS = 7           # pairs per cost: enough for a median and a bootstrap interval
DEFAULT_PERIODS = (1000, 10000)
RUN_TIMEOUT_S = 300        # one run of the cells above takes about a second


def configs(periods):
    """(name, flags) in the order of a repetition before rotation."""
    out = [("bare", ["--ms_rss_period_us=0", "--ms_observe=0"]), ("observer", ["--ms_rss_period_us=0"])]
    out += [(f"sampler {p}", ["--ms_observe=0", f"--ms_rss_period_us={p}"]) for p in periods]
    return out + [("full", [])]


def run_one(binary, cell, flags):
    """(ops/s, timed span ms, process CPU ms, sampler thread CPU ms) of one run of cell, in its own process; raises
    RuntimeError with the last line."""
    p = subprocess.run([binary, "run", cell, *flags, "--benchmark_format=json"], capture_output=True, text=True,
                       timeout=RUN_TIMEOUT_S)
    if p.returncode != 0:
        raise RuntimeError(f"{cell} {' '.join(flags)}: exit {p.returncode}: "
                           f"{(p.stderr.strip().splitlines() or ['?'])[-1]}")
    b = json.loads(p.stdout)["benchmarks"][0]
    ms = runs.UNIT_MS[b.get("time_unit")]
    return (float(b["ops_per_s"]), float(b["real_time"]) * ms, float(b["cpu_time"]) * ms,
            float(b.get("rss_sampler_cpu_ms", 0.0)))


def measure(binary, cells, confs, reps):
    """ops[cell][config] = list of (ops/s, span ms, CPU ms), one per repetition (index = repetition)."""
    ops = {c: {n: [] for n, _ in confs} for c in cells}
    for r in range(reps):
        order = confs[r % len(confs):] + confs[:r % len(confs)]
        for c in cells:
            for name, flags in order:
                ops[c][name].append(run_one(binary, c, flags))
        sys.stderr.write(f"repetition {r + 1}/{reps} done\n")
    return ops


def costs(with_, without):
    """((wall % median, lo, hi), (CPU % median, lo, hi)) of the paired costs."""
    wall = [(b[0] / a[0] - 1.0) * 100.0 for a, b in zip(with_, without) if a[0] > 0]
    cpu = [(a[2] - b[2]) / b[1] * 100.0 for a, b in zip(with_, without) if b[1] > 0]
    return tuple((core.median(v), *core.bootstrap_ci(v)) for v in (wall, cpu))


def table(ops, confs):
    """The markdown table: one row per cell x instrument."""
    rows = ["| cell | instrument | ops/s without | ops/s with | wall % | 95% CI | CPU % | 95% CI | thread % |",
            "|---|---|---:|---:|---:|---|---:|---|---:|"]
    for cell, by in ops.items():
        for name, _ in confs[1:]:
            (w, wlo, whi), (c, clo, chi) = costs(by[name], by["bare"])
            rows.append(f"| {cell} | {name} | {core.median([x[0] for x in by['bare']]):,.0f} | "
                        f"{core.median([x[0] for x in by[name]]):,.0f} | {w:+.2f} | [{wlo:+.2f}, {whi:+.2f}] | "
                        f"{c:+.2f} | [{clo:+.2f}, {chi:+.2f}] | "
                        f"{core.median([x[3] / x[1] * 100.0 for x in by[name] if x[1] > 0]):.2f} |")
    return "\n".join(rows)


def main(argv):
    p = argparse.ArgumentParser(prog="harness_cost.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--reps", type=int, default=DEFAULT_REPS, help=f"repetitions (pairs), default {DEFAULT_REPS}")
    p.add_argument("--periods", default=",".join(map(str, DEFAULT_PERIODS)), help="sampler periods in µs")
    p.add_argument("--cells", default=",".join(CELLS), help="comma-separated cells")
    p.add_argument("--memstrat", default=core.memstrat_binary(), help="the binary (default build/memstrat)")
    o = p.parse_args(argv)
    try:
        periods = [int(x) for x in o.periods.split(",")]
        if not periods or min(periods) < 1 or not 2 <= o.reps <= core.MAX_REPS:
            raise ValueError
    except ValueError:
        print(f"harness_cost.py: --periods must be positive integers and --reps 2..{core.MAX_REPS}", file=sys.stderr)
        return 2
    if not os.access(o.memstrat, os.X_OK):
        print(f"harness_cost.py: cannot execute {o.memstrat} (build first, or --memstrat)", file=sys.stderr)
        return 2
    confs = configs(periods)
    cells = [c for c in o.cells.split(",") if c]
    try:
        ops = measure(o.memstrat, cells, confs, o.reps)
    except (RuntimeError, subprocess.TimeoutExpired, ValueError, KeyError) as e:
        print(f"harness_cost.py: {e}", file=sys.stderr)
        return 1
    print(f"{o.reps} interleaved repetitions; cost = what the instrument adds over `bare` (no sampler thread, "
          f"no observer), paired within each repetition; load average {os.getloadavg()[0]:.2f} at the end\n")
    print(table(ops, confs))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
