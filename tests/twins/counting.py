"""counting.py — runs one twin in the interpreter under test with the collector
disabled and reports the gen0 count at the twin's events, as JSON on stdout.

    counting.py WORKLOAD LAYOUT KNOB=VALUE ...

Why this counts allocations: with gc disabled, CPython's generation-0 count goes
up by one per GC container allocated (not taken from a free list) and down by one
per container freed (not put on one), and no collection resets it. gc.collect()
first empties the free lists. A reading is gc.get_count()[0]: its tuple comes
from the free list after the first call (made before the base reading) and goes
back to it, so readings move nothing; readings are stored in an array of C ints.
Events recorded: every ctx event the twin sends (request_end, warmup_end,
batch_begin, batch_end, live_sample) — name and count0.

Output: {"events": [[name, count0], ...], "base": count0 before run, "end":
count0 after run, "garbage": what gc.collect() then finds, "ops", "counters"}.
Before the base reading the tuple free lists are filled (fill_tuple_free_lists).
With `--build N` (instances only) it reports instead the count0 difference over
the twin's own build of N instances (the second of two, so that first-time
effects are out of it): {"build_delta": ...}.
"""
import gc
import json
import os
import sys
from array import array

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tools", "twins"))
import twinlib  # noqa: E402

EVENTS = ("request_end", "warmup_end", "batch_begin", "batch_end", "live_sample")


class CountingContext:
    def __init__(self, layout):
        self.layout = layout
        self.ops = 0
        self.counters = {}
        self.classes = []  # as the probe's Context: classes whose instances the leak check counts
        self.codes = array("q")
        self.counts = array("q")
        for code, name in enumerate(EVENTS):
            setattr(self, name, self._recorder(code))

    def _recorder(self, code):
        codes, counts, get_count = self.codes, self.counts, gc.get_count

        def record():
            counts.append(get_count()[0])
            codes.append(code)
        return record

    def make_class(self, name, attrs, weakref=False):
        return twinlib.make_class(self.layout, name, attrs, weakref)

    def counter(self, name, value):
        self.counters[name] = value

    def latencies(self, response, busy, rate):
        return twinlib.meter(response, busy, rate)[1]

    @staticmethod
    def gen2_collections():
        return 0  # not gc.get_stats(): its list would show in the counts


def fill_tuple_free_lists():
    """Puts a few tuples of every size that has a free list (1..19) on it. Calling
    a class makes a transient argument tuple in 3.10/3.11; the first one after
    gc.collect() (which empties the free lists) would be a real allocation whose
    free goes to the free list, leaving the count one higher than the objects a
    twin keeps. No twin keeps a tuple, so this hides nothing it allocates. The
    outer tuple (80 items) has no free list and is freed for real."""
    junk = tuple(tuple(range(n)) for n in range(1, 20) for _ in range(4))
    del junk


def main(argv):
    build_n = None
    if argv and argv[0] == "--build":
        build_n = int(argv[1])
        argv = argv[2:]
    workload, layout = argv[0], argv[1]
    given = dict(a.split("=", 1) for a in argv[2:])
    twin = twinlib.load_twin(workload)
    k = twinlib.knob_values(twin.KNOBS, given, workload)
    if hasattr(twin, "check"):
        twin.check(k)
    ctx = CountingContext(layout)
    state = twin.prepare(k, ctx) if hasattr(twin, "prepare") else None
    gc.disable()
    if build_n is not None:
        Inst, (build, _, _), _ = state
        first, hold = [None] * build_n, [None] * build_n
        values = list(range(build_n + 9))
        gc.collect()
        fill_tuple_free_lists()
        build(Inst, first, build_n, values)  # first-time effects (caches, keys tables) out of the way
        gc.get_count()
        base = gc.get_count()[0]
        build(Inst, hold, build_n, values)
        delta = gc.get_count()[0] - base
        print(json.dumps({"build_delta": delta}))
        return
    gc.collect()
    gc.freeze()
    fill_tuple_free_lists()
    gc.get_count()
    base = gc.get_count()[0]
    twin.run(k, ctx, state)
    end = gc.get_count()[0]
    garbage = gc.collect()
    print(json.dumps({"events": [[EVENTS[c], n] for c, n in zip(ctx.codes, ctx.counts)], "base": base, "end": end,
                      "garbage": garbage, "ops": ctx.ops, "counters": ctx.counters}))


if __name__ == "__main__":
    main(sys.argv[1:])
