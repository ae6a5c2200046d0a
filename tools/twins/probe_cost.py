"""probe_cost.py — what the probe's gc.callbacks function costs, measured.

    python3 tools/twins/probe_cost.py [--python PATH] [--reps 5]

1. Per collection: in the interpreter under test, gc.collect(0) on an empty
   young generation, timed with no callback and with the probe's own callback
   (probe.make_gc_callback) installed; the difference is what one collection
   costs with the probe on: two Python calls, the interpreter's two info dicts,
   the clock reads and array appends.
2. Per cell: the same cell run alternately with --probe 0 and --probe 1, `reps`
   times each; ops/s = ops / (end − begin). Prints the medians, their
   difference, the noise of the machine (the spread (max − min) / median of
   the --probe 0 runs) and the bound the per-collection cost predicts
   (collections × cost / run time), which the noise would otherwise hide.
Nothing here asserts: timings on a shared machine are for reading.
"""
import argparse
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CELLS = (
    ("tree", ("stretch=16", "longlived=14", "max=14", "parent=1")),
    ("request", ("requests=5000", "warmup=500")),
    ("batch", ("n=200000",)),
    ("ring", ("n=1000000",)),
)
MICRO = r'''
import gc, sys, time
sys.path.insert(0, sys.argv[1])
import probe
from array import array
N = 200000
def per_collection():
    gc.collect()
    t0 = time.perf_counter_ns()
    for _ in range(N):
        gc.collect(0)
    return (time.perf_counter_ns() - t0) / N
bufs = [array("q") for _ in range(5)]
cb = probe.make_gc_callback(*bufs)
def empty(phase, info):
    pass
best = [float("inf")] * 3
for _ in range(5):
    for i, f in enumerate((None, empty, cb)):
        if f is not None:
            gc.callbacks.append(f)
        best[i] = min(best[i], per_collection())
        if f is not None:
            gc.callbacks.remove(f)
    for b in bufs:
        del b[:]
print(*best)
'''


def run_cell(python, workload, knobs, probe):
    """(ops/s, pauses, seconds) of one run of the cell."""
    cmd = [python, "-s", os.path.join(HERE, "probe.py"), "--workload", workload, "--layout", "slots", "--gc",
           "default", "--policy", "auto", "--result-fd", "1", "--probe", str(probe)] + list(knobs)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONHASHSEED"] = "0"
    lines = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout.splitlines()
    rec = {}
    pauses = 0
    for line in lines:
        name, _, rest = line.partition(" ")
        pauses += name == "pause"
        rec.setdefault(name, rest)
    seconds = (int(rec["end"]) - int(rec["begin"])) / 1e9
    return float(rec["ops"]) / seconds, pauses, seconds


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--python", default="/usr/bin/python3.11")
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    off, empty, on = (float(x) for x in subprocess.run([args.python, "-c", MICRO, HERE], capture_output=True,
                                                       text=True, check=True).stdout.split())
    per = on - off
    print("per collection (gc.collect(0) on an empty young generation, best of 5 x 200000): %.0f ns with no "
          "callback, %.0f ns with an empty one, %.0f ns with the probe's: +%.0f ns per collection, of which "
          "%.0f ns are the interpreter's (info dicts, call) and %.0f ns the probe's own work"
          % (off, empty, on, per, empty - off, on - empty))
    print("%-10s %12s %12s %9s %8s %8s %8s" % ("cell", "ops/s off", "ops/s on", "on-off", "noise", "bound",
                                             "pauses"))
    for workload, knobs in CELLS:
        runs = {0: [], 1: []}
        pauses, seconds = 0, []
        for _ in range(args.reps):
            for probe in (0, 1):
                ops_s, p, sec = run_cell(args.python, workload, knobs, probe)
                runs[probe].append(ops_s)
                if probe:
                    pauses = p
                else:
                    seconds.append(sec)
        m0, m1 = statistics.median(runs[0]), statistics.median(runs[1])
        noise = (max(runs[0]) - min(runs[0])) / m0
        bound = pauses * per / (statistics.median(seconds) * 1e9)  # what the per-collection cost predicts
        print("%-10s %12.0f %12.0f %+8.2f%% %7.1f%% %7.2f%% %8d" % (workload, m0, m1, 100 * (m1 - m0) / m0,
                                                                   100 * noise, 100 * bound, pauses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
