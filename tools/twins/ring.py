"""ring.py — twin of workloads/ring.c: the list closed into a cycle before the drop.

Under pure refcounting every node keeps its successor alive, so each round's n
nodes become cyclic garbage that only the collector frees. Same knobs and ops as
list.py, whose builder it runs with close_ring.
"""
import twinlib

_linked = twinlib.load_twin("list")
KNOBS = _linked.KNOBS
prepare = _linked.prepare


def run(k, ctx, Node):
    _linked.run_linked(k, ctx, Node, True)
