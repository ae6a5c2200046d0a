#!/usr/bin/env python3.11
"""cpython_gc_scan.py — real CPython's cost of a full gc.collect() over a live heap,
the other half of `memstrat gcscan`.

Contract: builds the same shapes as harness/gc_scan.c, in the same allocation
order, out of instances of classes with __slots__, keeps them alive, and times
gc.collect() `--reps` times. The interpreter's own objects are frozen first
(gc.freeze()), so every collection examines exactly the shape's n objects; the
script checks that (len(gc.get_objects()) == n, collected == 0) and fails loudly
otherwise, because a per-object figure over the wrong n would be a wrong figure.

Shapes (identical in C):
  list  n nodes, one slot `next`, built by prepending (the head is the newest).
  tree  a complete binary tree of n nodes, slots `left`, `right`, allocated in
        breadth-first order (node i's children are 2i+1 and 2i+2).

Output: JSON on stdout {"python", "shape", "n", "reps", "ns_per_object": [...]}.
Usage: python3.11 tools/cpython_gc_scan.py --shape list --n 1000000 --reps 5
"""
import argparse
import gc
import json
import platform
import sys
import time


class ListNode:
    __slots__ = ("next",)


class TreeNode:
    __slots__ = ("left", "right")


def build_list(n):
    """Prepends n nodes; returns the head (the only external reference)."""
    head = None
    for _ in range(n):
        node = ListNode()
        node.next = head
        head = node
    return head


def build_tree(n):
    """Allocates n nodes in breadth-first order, then links i -> 2i+1, 2i+2.

    The temporary Python list is deleted before timing so that the only
    tracked containers left are the n nodes."""
    nodes = [TreeNode() for _ in range(n)]
    for i in range(n):
        node = nodes[i]
        left, right = 2 * i + 1, 2 * i + 2
        node.left = nodes[left] if left < n else None
        node.right = nodes[right] if right < n else None
    root = nodes[0]
    del nodes
    return root


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", choices=("list", "tree"), required=True)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    if not 1 <= args.n <= 100_000_000:
        sys.exit(f"cpython_gc_scan: --n {args.n} is out of range 1..100000000")
    if not 1 <= args.reps <= 1000:
        sys.exit(f"cpython_gc_scan: --reps {args.reps} is out of range 1..1000")

    gc.disable()
    gc.collect()
    gc.freeze()  # the interpreter's objects leave the collected generations
    keep = build_list(args.n) if args.shape == "list" else build_tree(args.n)
    gc.collect()  # warm-up: everything reaches the oldest generation
    tracked = len(gc.get_objects())
    if tracked != args.n:
        sys.exit(f"cpython_gc_scan: {tracked} tracked objects, expected {args.n}")

    ns = []
    for _ in range(args.reps):
        t0 = time.perf_counter_ns()
        collected = gc.collect()
        t1 = time.perf_counter_ns()
        if collected != 0:
            sys.exit(f"cpython_gc_scan: gc.collect() freed {collected} objects of a live heap")
        ns.append((t1 - t0) / args.n)
    del keep
    json.dump({"python": platform.python_version(), "shape": args.shape, "n": args.n,
               "reps": args.reps, "ns_per_object": ns}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
