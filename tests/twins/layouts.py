"""layouts.py — what each layout of twinlib.make_class gives in the interpreter
under test, as JSON on stdout: per layout and attribute count, sys.getsizeof of
an instance and of its __dict__ (materialised on a separate instance), bytes
per instance from tracemalloc (N instances, values None), whether the dict is
split (key-sharing: its getsizeof leaves the shared keys out, so it is smaller
than a combined dict built with the same inserts), whether gc tracks it, and
which attributes the class has.
"""
import gc
import json
import os
import sys
import tracemalloc

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tools", "twins"))
import twinlib  # noqa: E402

N = 10000


def combined_copy(d):
    """A dict with d's items, built by inserts from {}: a combined table."""
    c = {}
    for k, v in d.items():
        c[k] = v
    return c


def measure(layout, k, weakref):
    names = ["a%d" % i for i in range(k)]
    cls = twinlib.make_class(layout, "C", names, weakref=weakref)
    hold = [None] * N
    cls()  # first-time effects (the class's keys table) out of the measurement
    gc.collect()
    tracemalloc.start()
    t0 = tracemalloc.get_traced_memory()[0]
    for i in range(N):
        hold[i] = cls()
    t1 = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    out = {"getsizeof": sys.getsizeof(hold[0]), "tracemalloc": (t1 - t0) / N,
           "has_dict": hasattr(hold[0], "__dict__"), "weakrefable": hasattr(cls, "__weakref__"),
           "slots": list(getattr(cls, "__slots__", ()))}
    if out["has_dict"]:
        probe = cls()
        d = probe.__dict__
        out["dict_getsizeof"] = sys.getsizeof(d)
        out["combined_getsizeof"] = sys.getsizeof(combined_copy(d))
        out["dict_keys"] = list(d)
    return out


def main():
    res = {}
    for layout in ("slots", "shared", "dict"):
        for k in (2, 4):
            res["%s/%d" % (layout, k)] = measure(layout, k, False)
        res["%s/2/weakref" % layout] = measure(layout, 2, True)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
