"""Synthetic run directories for the analysis tests: meta.json plus one Google Benchmark JSON per
repetition, the files `memstrat bench` publishes, so compare and merge can be tested with values
chosen by the test (no measuring). `memstrat()` runs the real command line: $MEMSTRAT, else
build/memstrat of this tree (MEMSTRAT=<a pre-split C build> shows which tests fail before a fix).
"""
import json
import os
import subprocess

from analysis import core

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.environ.get("MEMSTRAT") or os.path.join(ROOT, "build", "memstrat")
HAVE_BINARY = os.access(BINARY, os.X_OK)


def memstrat(*args, timeout=120, cwd=None):
    """The command's CompletedProcess (text); a hang ends as TimeoutExpired after `timeout` s."""
    return subprocess.run([BINARY, *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=cwd)


def rep_path(run_dir, cell, rep, sub="json", suffix=".json"):
    return os.path.join(run_dir, sub, f"{core.Cell(cell).slug}.rep{rep}{suffix}")


def make_run(run_dir, cells, reps, cpu="Test CPU 1", run_id=None, counters=None, started="2026-01-01T00:00:00Z"):
    """cells: {cell: [real time in ms per repetition, None = failed]}; counters: {cell: {name:
    [value per repetition]}}; every repetition also gets a timeline CSV (a file merge copies)."""
    for sub in ("json", "timeline"):
        os.makedirs(os.path.join(run_dir, sub), exist_ok=True)
    for cell, times in cells.items():
        for r, t in enumerate(times, 1):
            if t is None:
                continue
            entry = {"name": f"{cell}/iterations:1/manual_time", "run_type": "iteration", "iterations": 1,
                     "real_time": t, "cpu_time": t, "time_unit": "ms", "ops_per_s": 1000.0 / t}
            entry.update({k: v[r - 1] for k, v in (counters or {}).get(cell, {}).items()})
            with open(rep_path(run_dir, cell, r), "w") as f:
                json.dump({"context": {"host_name": "test"}, "benchmarks": [entry]}, f)
            with open(rep_path(run_dir, cell, r, "timeline", ".csv"), "w") as f:
                f.write(f"t_ms,rss_mb\n0,{r}\n")
    meta = {"run_id": run_id or os.path.basename(run_dir), "started_utc": started,
            "finished_utc": started.replace("00:00:00", "00:10:00"), "git": {"commit": "c0ffee", "dirty": False},
            "machine": {"cpu_model": cpu, "cores": 2}, "matrix": {"path": "matrix.txt", "cells": list(cells)},
            "reps": reps, "timeout_s": 600, "failures": []}
    with open(os.path.join(run_dir, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    return run_dir


def edit_meta(run_dir, **fields):
    path = os.path.join(run_dir, "meta.json")
    with open(path) as f:
        meta = json.load(f)
    meta.update(fields)
    with open(path, "w") as f:
        json.dump(meta, f)


def tree(path):
    """{relative path: bytes} of every file under path: what a refused command must leave alone."""
    out = {}
    for d, _, files in os.walk(path):
        for name in files:
            p = os.path.join(d, name)
            with open(p, "rb") as f:
                out[os.path.relpath(p, path)] = f.read()
    return out


def read(path):
    with open(path) as f:
        return f.read()


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
