"""instances.py — twin of workloads/instances.c: what an instance costs under a layout.

Contract (the C's): n instances of one class Inst declaring attrs = 2, 4 or 8
attributes a0..a{k-1}, each set to the int i + j in declaration order (through
__init__); then one timed pass of gets and one of sets (i + j + 1) over every
attribute of every instance; then everything dropped. ops = n. Counters:
  bytes_per_instance_alloc  bytes per instance as tracemalloc counts them
                            (instance with its GC head, its dict or values
                            array), measured before the run on SIZE_SAMPLE
                            instances built the same way (tracemalloc would
                            swell the run's RSS); the ints excluded: they come
                            from a table made before (the C's are tagged values)
  bytes_per_instance_rss    resident set growth during the build (statm), / n
  getattr_ns, setattr_ns    ns per attribute access in the timed passes (loop
                            overhead included, as in the C)
The table of n holds is made and filled with None before the first reading, so
it counts as no instance memory.
"""
import gc
import time

import twinlib
from twinlib import COUNT, BadInput, WorkloadError

# workloads/instances.c's WL_INSTANCES_MAX_N.
MAX_N = 1000000000
# Instances built (before the run) to measure bytes per instance with tracemalloc.
SIZE_SAMPLE = 10000
NAMES = ("a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7")
KNOBS = (
    ("n", COUNT, "1000000", 1, MAX_N),
    ("attrs", COUNT, "2", 1, 8),
)


def check(k):
    if k["attrs"] not in (2, 4, 8):
        raise BadInput("knob 'attrs': %d is not 2, 4 or 8" % k["attrs"])


def passes(names):
    """The build and the two timed passes, generated for k attributes so that
    each access is one LOAD_ATTR/STORE_ATTR (no getattr call, no tuple)."""
    k = len(names)
    args = ", ".join("v[i + %d]" % j for j in range(k))
    src = "\n".join([
        "def build(Inst, hold, n, v):",
        "    for i in range(n):",
        "        hold[i] = Inst(%s)" % args,
        "def get_pass(hold):",
        "    s = 0",
        "    for o in hold:",
        "        s += %s" % " + ".join("o.%s" % a for a in names),
        "    return s",
        "def set_pass(hold, v):",
        "    i = 0",
        "    for o in hold:",
    ] + ["        o.%s = v[i + %d]" % (a, j + 1) for j, a in enumerate(names)] + [
        "        i += 1",
    ]) + "\n"
    ns = {}
    exec(compile(src, "<memstrat instances %d>" % k, "exec"), ns)
    return ns["build"], ns["get_pass"], ns["set_pass"]


def alloc_bytes(Inst, build, nattrs):
    """Bytes per instance as tracemalloc counts them, over SIZE_SAMPLE instances
    built as the run builds them (every instance of a class costs the same)."""
    import tracemalloc
    hold = [None] * SIZE_SAMPLE
    values = list(range(SIZE_SAMPLE + nattrs + 1))
    gc.collect()  # empties the free lists: a dict taken from one would hide its bytes
    tracemalloc.start()
    live0 = tracemalloc.get_traced_memory()[0]
    build(Inst, hold, SIZE_SAMPLE, values)
    live1 = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return (live1 - live0) / SIZE_SAMPLE


def prepare(k, ctx):
    names = NAMES[:k["attrs"]]
    Inst = ctx.make_class("Inst", names)
    fns = passes(names)
    return Inst, fns, alloc_bytes(Inst, fns[0], k["attrs"])


def run(k, ctx, state):
    Inst, (build, get_pass, set_pass), bytes_alloc = state
    n, nattrs = k["n"], k["attrs"]
    hold = [None] * n
    # The ints i + j of the build and the sets, made before any reading and kept
    # in a table of their own: the C's ints are tagged values, so they are no
    # instance memory there and must not be here (nor allocations in the passes).
    values = list(range(n + nattrs + 1))
    rss0 = twinlib.statm_rss_bytes()
    build(Inst, hold, n, values)
    rss1 = twinlib.statm_rss_bytes()
    now = time.monotonic_ns
    t0 = now()
    got = get_pass(hold)
    t1 = now()
    set_pass(hold, values)
    t2 = now()
    want = nattrs * n * (n - 1) // 2 + n * nattrs * (nattrs - 1) // 2
    accesses = n * nattrs
    ctx.ops = n
    ctx.counter("getattr_ns", (t1 - t0) / accesses)
    ctx.counter("setattr_ns", (t2 - t1) / accesses)
    ctx.counter("bytes_per_instance_alloc", bytes_alloc)
    ctx.counter("bytes_per_instance_rss", (rss1 - rss0) / n)
    hold = values = None
    if got != want:
        raise WorkloadError("attribute sum %d, expected %d" % (got, want))
