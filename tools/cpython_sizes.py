#!/usr/bin/env python3.11
"""cpython_sizes.py — the size mix of small blocks a real CPython program keeps
live, measured with tracemalloc; the source of `churn`'s `sizes=cpython` table.

Contract: runs a fixed set of representative stdlib tasks (below), each one on
its own: inputs are prepared first (not traced), then tracemalloc starts, the
task runs and keeps its result, a snapshot is taken, tracing stops and the
result is dropped. The blocks counted for a task are those allocated while it
ran and still live at its end (the heap it built), in tracemalloc's domain 0
(PyMem_Raw*, PyMem_*, PyObject_*: everything the interpreter allocates), of
1..512 bytes (pymalloc's small-request range; larger requests are counted and
reported, not kept). Sizes are the bytes requested, as an allocator sees them
(a GC object's request includes its 16-byte PyGC_Head).

Each task weighs the same: its histogram is normalised to fractions before
the tasks are averaged, so a task that builds more blocks does not dominate.

Reduction to a short table: the TOP_EXACT most frequent exact sizes are kept
as they are (they cover ~97% of the blocks); every other block is rounded up to
the top of its pymalloc size class (class = (size - 1) >> 4, 16 bytes wide), so
it stays in its pymalloc class, never shrinks, and lands on a multiple of 16,
which is a bin boundary of jemalloc's and mimalloc's small classes too. Weights
are parts per 100000 of all small blocks, rounded; entries that round to 0 are
dropped (the script says how many).

Invariant: deterministic input (fixed seeds, stdlib sources of the running
interpreter), so two runs on one Python give the same table up to the
interpreter's own caches.

Output: a human summary on stderr and, on stdout, the C initialiser lines that
workloads/churn.c holds ({size, weight}, one per line).
Usage: python3.11 tools/cpython_sizes.py [--verbose]
"""
import ast
import collections
import csv
import gc
import importlib.util
import io
import json
import random
import re
import sys
import tracemalloc

# pymalloc serves requests up to this many bytes; beyond, it calls malloc.
SMALL_MAX = 512
# pymalloc's size classes are this many bytes wide.
CLASS_WIDTH = 16
# Exact sizes kept as they are; the rest go to their class's top (see above).
TOP_EXACT = 24
# Weights are written in parts of this total.
WEIGHT_TOTAL = 100000
# Fixed seed of every generated input, so the table is reproducible.
SEED = 20261121
# Records, rows, instances, graph nodes per task: large enough that each task's
# heap is tens of thousands of blocks, small enough to run in seconds.
N_RECORDS = 20000
# Stdlib modules whose source is parsed, split and searched (text workloads).
SOURCE_MODULES = ["argparse", "inspect", "typing", "dataclasses", "pathlib"]


def read_sources():
    """The stdlib sources the text tasks work on, read before tracing."""
    texts = []
    for name in SOURCE_MODULES:
        with open(importlib.util.find_spec(name).origin, encoding="utf-8") as f:
            texts.append(f.read())
    return texts


def make_json(rng):
    """A JSON document of records, as an API response or config store would be."""
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
    recs = [{"id": 1000 + i, "name": "user%d" % rng.randrange(10**6),
             "email": "u%d@example.org" % i, "score": rng.random() * 100,
             "active": rng.random() < 0.5,
             "tags": rng.sample(words, rng.randrange(1, 4))}
            for i in range(N_RECORDS)]
    return json.dumps(recs)


def make_csv(rng):
    """CSV text: an id, a name, a float and a date per row."""
    out = io.StringIO()
    w = csv.writer(out)
    for i in range(N_RECORDS):
        w.writerow([i, "item-%d" % rng.randrange(10**5), "%.3f" % (rng.random() * 1e4),
                    "2024-%02d-%02d" % (rng.randrange(1, 13), rng.randrange(1, 29))])
    return out.getvalue()


class Point:
    """A plain user class (3.11: values inline, dict made on demand)."""

    def __init__(self, ident, label, x, tags):
        self.ident = ident
        self.label = label
        self.x = x
        self.tags = tags


def task_ast(inp):
    """A compiler front end: ASTs of real modules (node objects, lists, strings)."""
    return [ast.parse(src) for src in inp["sources"]]


def task_json(inp):
    """Decoding a document into dicts, lists, strings, ints and floats."""
    return json.loads(inp["json"])


def task_instances(inp):
    """User-defined objects, each with a string, a float and a tuple."""
    rng = random.Random(SEED)
    return [Point(1000 + i, "p%d" % i, rng.random(), (i, i + 1)) for i in range(N_RECORDS)]


def task_words(inp):
    """Text processing: a word count and its sorted (word, count) list."""
    words = [w for src in inp["sources"] for w in re.findall(r"[A-Za-z_]+", src)]
    counts = collections.Counter(words)
    return counts, sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def task_csv(inp):
    """Parsing rows into typed fields (lists of int, str, float, str)."""
    rows = []
    for r in csv.reader(io.StringIO(inp["csv"])):
        rows.append([int(r[0]), r[1], float(r[2]), r[3]])
    return rows


def task_regex(inp):
    """Searching: every `name = value` line of the sources as a tuple of strings."""
    pat = re.compile(r"^\s*(\w+)\s*=\s*(.+)$", re.M)
    return [m for src in inp["sources"] for m in pat.findall(src)]


def task_graph(inp):
    """A graph as a dict of int to list of ints, plus a set of edges."""
    rng = random.Random(SEED)
    adj = {1000 + i: [1000 + rng.randrange(N_RECORDS) for _ in range(rng.randrange(1, 6))]
           for i in range(N_RECORDS)}
    edges = {(a, b) for a, bs in adj.items() for b in bs}
    return adj, edges


TASKS = [task_ast, task_json, task_instances, task_words, task_csv, task_regex, task_graph]


def measure(task, inp):
    """Blocks allocated by the task and live at its end, by size (domain 0)."""
    gc.collect()
    tracemalloc.start(1)
    result = task(inp)
    snap = tracemalloc.take_snapshot()
    tracemalloc.stop()
    del result
    small, large = collections.Counter(), 0
    for tr in snap.traces:
        if tr.domain != 0:
            continue
        if tr.size <= SMALL_MAX:
            small[tr.size] += 1
        else:
            large += 1
    return small, large


def reduce_mix(mix):
    """Top exact sizes, the rest rounded up to their class top.

    Returns [(size, share, rounded)] sorted by size; `rounded` is the share that
    came from other sizes rounded up to this one."""
    top = dict(mix.most_common(TOP_EXACT))
    share = collections.Counter(top)
    rounded = collections.Counter()
    for size, w in mix.items():
        if size not in top:
            dest = ((size - 1) // CLASS_WIDTH + 1) * CLASS_WIDTH
            share[dest] += w
            rounded[dest] += w
    return [(size, share[size], rounded[size]) for size in sorted(share)]


def main():
    verbose = "--verbose" in sys.argv[1:]
    rng = random.Random(SEED)
    inp = {"sources": read_sources(), "json": make_json(rng), "csv": make_csv(rng)}
    mix = collections.Counter()
    for task in TASKS:
        small, large = measure(task, inp)
        n = sum(small.values())
        print("%-16s %7d small blocks, %5d larger than %d B" % (task.__name__, n, large, SMALL_MAX),
              file=sys.stderr)
        if verbose:
            print("   top sizes:", small.most_common(8), file=sys.stderr)
        for size, c in small.items():
            mix[size] += c / n / len(TASKS)
    entries = reduce_mix(mix)
    exact = sum(share - rounded for _, share, rounded in entries)
    dropped = sum(1 for _, share, _ in entries if round(share * WEIGHT_TOTAL) == 0)
    print("python %s; %d distinct sizes; the top %d exact sizes cover %.2f%% of small blocks; "
          "%d entries, %d dropped (weight rounds to 0)"
          % (sys.version.split()[0], len(mix), TOP_EXACT, 100 * exact, len(entries), dropped), file=sys.stderr)
    print("    /* {size, weight per %d}; (+): holds other sizes of its class, rounded up */" % WEIGHT_TOTAL)
    for size, share, rounded in entries:
        w = round(share * WEIGHT_TOTAL)
        if w:
            print("    {%3d, %5d},%s" % (size, w, " /* + */" if rounded > 0 else ""))

if __name__ == "__main__":
    main()
