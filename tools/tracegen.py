#!/usr/bin/env python3
"""tracegen.py — writes a memstrat trace (tools/TRACE_FORMAT.md) from a seed.

Contract: the output depends only on the arguments (same arguments, same bytes,
on any Python 3: the only randomness is random.Random(seed).random()), has
exactly --ops op lines, never holds more than --max-held handles at once, and
always loads (every op is valid at its point in the trace). Handles still held
at the end are dropped by the replayer, so a trace can stop anywhere.

How: the trace is an interleaving of tasks. A task is a Python generator that
builds and uses one structure (a list, a ring, a tree, a tree with parent
links, a random graph) and yields one op line at a time, or an int to sleep for
that many ops (its structure stays alive meanwhile). The scheduler runs a few
tasks at once and picks which one emits the next op at random, so structures
of different ages overlap the way a program's do.

Shapes: list (domino frees, no cycles), ring (every ring becomes cyclic
garbage), tree (complete binary trees, subtrees replaced while alive), tree-parent
(the same with parent links: every dropped subtree is a cycle), graph (random
rewiring of a node pool: cycles form and break), mix (all of them, plus a
long-lived tree and graph kept for a large part of the run).

Usage: tracegen.py --seed 1 --ops 200000 --shape mix -o mix.trace
"""
import argparse
import heapq
import random
import sys

MAGIC = "# memstrat-trace v1"
# Handle bound of the format (handles are table indices below 2^24).
MAX_HANDLES = 1 << 24
# Fewest handles a trace may be limited to: the biggest fixed need of a small task.
MIN_HELD = 16
SHAPES = ("list", "ring", "tree", "tree-parent", "graph", "mix")


class Handles:
    """Handle IDs as a LIFO free list, so IDs stay small and get reused."""

    def __init__(self, cap):
        self.cap = cap
        self.free = []
        self.next_id = 0
        self.held = 0
        self.reserved = 0  # sum of the needs of the running tasks

    def take(self):
        self.held += 1
        assert self.held <= self.reserved <= self.cap
        if self.free:
            return self.free.pop()
        self.next_id += 1
        return self.next_id - 1

    def give(self, h):
        self.held -= 1
        self.free.append(h)


class Rng:
    """Only random() is used: its stream is the same on every Python 3."""

    def __init__(self, seed):
        self.r = random.Random(seed)

    def below(self, n):
        return min(int(self.r.random() * n), n - 1)

    def between(self, lo, hi):  # inclusive
        return lo + self.below(hi - lo + 1)

    def chance(self, p):
        return self.r.random() < p


# ---- tasks: each yields op lines (str) or a sleep (int, in ops) ------------------

def list_task(H, R, length, ring, life):
    """A list built by prepending (or a ring: the first node's next closes it),
    walked part way with `hold`, kept for `life` ops, then dropped."""
    k = R.between(1, 3)  # slot 0 is `next`; the others stay None, like payload fields
    first = H.take()
    yield f"new {first} {k}"
    head = first
    for _ in range(length - 1):
        n = H.take()
        yield f"new {n} {k}"
        yield f"set {n} 0 {head}"
        if head != first or not ring:
            H.give(head)
            yield f"drop {head}"
        head = n
    if ring:
        yield f"set {first} 0 {head}"
        if head != first:
            H.give(first)
            yield f"drop {first}"
    steps = R.between(0, min(50, length - 1 if not ring else 50))
    if steps:
        cur = H.take()
        yield f"hold {cur} {head} 0"
        for _ in range(steps - 1):
            nxt = H.take()
            yield f"hold {nxt} {cur} 0"
            H.give(cur)
            yield f"drop {cur}"
            cur = nxt
        H.give(cur)
        yield f"drop {cur}"
    if life:
        yield life
    H.give(head)
    yield f"drop {head}"


LIST_NEED = 5  # first, head, the new node, two walking handles


def build_tree(H, depth, k, parent):
    """A complete binary tree, bottom-up; returns the root's handle. Holds at most
    depth + 2 handles at once (one pending left subtree per level)."""
    if depth == 0:
        h = H.take()
        yield f"new {h} {k}"
        return h
    left = yield from build_tree(H, depth - 1, k, parent)
    right = yield from build_tree(H, depth - 1, k, parent)
    p = H.take()
    yield f"new {p} {k}"
    yield f"set {p} 0 {left}"
    yield f"set {p} 1 {right}"
    if parent:
        yield f"set {left} 2 {p}"
        yield f"set {right} 2 {p}"
    H.give(left)
    yield f"drop {left}"
    H.give(right)
    yield f"drop {right}"
    return p


def tree_task(H, R, depth, parent, mutations, life):
    """A tree that lives `life` ops in all; `mutations` times, a random subtree is
    replaced by a fresh one of the same depth (the old one is freed, or with parent
    links becomes a garbage cycle that still points into the live tree)."""
    k = 3 if parent else 2
    root = yield from build_tree(H, depth, k, parent)
    pause = life // (mutations + 1) if life else 0
    for _ in range(mutations if depth > 0 else 0):
        if pause:
            yield pause
        level = R.below(depth)  # the node at `level` has children
        node, walker = root, None
        for _ in range(level):
            nxt = H.take()
            yield f"hold {nxt} {node} {R.below(2)}"
            if walker is not None:
                H.give(walker)
                yield f"drop {walker}"
            walker = node = nxt
        sub = yield from build_tree(H, depth - level - 1, k, parent)
        yield f"set {node} {R.below(2)} {sub}"
        if parent:
            yield f"set {sub} 2 {node}"
        H.give(sub)
        yield f"drop {sub}"
        if walker is not None:
            H.give(walker)
            yield f"drop {walker}"
    if pause:
        yield pause
    H.give(root)
    yield f"drop {root}"


def tree_need(depth):
    return depth + 5  # build: depth + 2, plus the root and a walker while replacing


class Node:
    __slots__ = ("h", "out")

    def __init__(self, h, k):
        self.h = h  # handle, or None when the program holds no reference
        self.out = [None] * k  # the Node each slot refers to


def graph_task(H, R, n, k, steps, pause_every, pause):
    """A pool of about n nodes with k slots each, randomly rewired: edges come and
    go, holds are dropped (the node lives on if something refers to it, or dies,
    or is left in a garbage cycle) and taken back through `hold`."""
    held = []

    def add():
        node = Node(H.take(), k)
        held.append(node)
        return node

    for _ in range(n):
        node = add()
        yield f"new {node.h} {k}"
    for u in list(held):
        for s in range(k):
            if R.chance(0.5):
                v = held[R.below(len(held))]
                u.out[s] = v
                yield f"set {u.h} {s} {v.h}"
    for step in range(steps):
        if pause and step and step % pause_every == 0:
            yield pause
        x = R.r.random()
        if x < 0.45 or not held:
            if not held:
                node = add()
                yield f"new {node.h} {k}"
                continue
            u = held[R.below(len(held))]
            s = R.below(k)
            v = None if R.chance(0.1) else held[R.below(len(held))]
            u.out[s] = v
            yield f"set {u.h} {s} {'-' if v is None else v.h}"
        elif x < 0.65:
            if len(held) > n // 2:
                i = R.below(len(held))
                u = held[i]
                held[i] = held[-1]
                held.pop()
                H.give(u.h)
                yield f"drop {u.h}"
                u.h = None
        elif x < 0.85:
            if len(held) < n:
                u = held[R.below(len(held))]
                s = R.below(k)
                v = u.out[s]
                if v is not None and v.h is None:
                    v.h = H.take()
                    held.append(v)
                    yield f"hold {v.h} {u.h} {s}"
        else:
            if len(held) < n:
                node = add()
                yield f"new {node.h} {k}"
                for s in range(k):
                    if R.chance(0.6):
                        v = held[R.below(len(held))]
                        node.out[s] = v
                        yield f"set {node.h} {s} {v.h}"
                if R.chance(0.5):
                    u = held[R.below(len(held))]
                    s = R.below(k)
                    u.out[s] = node
                    yield f"set {u.h} {s} {node.h}"
    for u in held:
        H.give(u.h)
        yield f"drop {u.h}"


# ---- task factories per shape: (need, generator) ------------------------------------

def make_list(H, R, budget, ring, scale):
    length = R.between(1, max(1, scale))
    return LIST_NEED, list_task(H, R, length, ring, R.below(2 * scale))


def make_tree(H, R, budget, parent, max_depth):
    depth = R.between(0, max_depth)
    while depth > 0 and tree_need(depth) > budget:
        depth -= 1
    size = (1 << (depth + 1)) - 1
    return tree_need(depth), tree_task(H, R, depth, parent, R.between(0, 4), R.below(4 * size))


def make_graph(H, R, budget, max_nodes):
    n = max(4, min(R.between(4, max(4, max_nodes)), budget))  # over budget: refused by the caller
    k = R.between(1, 6)
    return n, graph_task(H, R, n, k, R.between(n, 20 * n), 0, 0)


def factory(shape, H, R, max_held):
    """Returns a function budget -> (need, task) making short-lived tasks of a shape."""
    if shape == "list":
        return lambda b: make_list(H, R, b, False, 2000)
    if shape == "ring":
        return lambda b: make_list(H, R, b, True, 500)
    if shape == "tree":
        return lambda b: make_tree(H, R, b, False, 12)
    if shape == "tree-parent":
        return lambda b: make_tree(H, R, b, True, 12)
    if shape == "graph":
        return lambda b: make_graph(H, R, b, min(1000, max_held // 2))

    def mixed(b):  # short-lived, smaller than the single shapes: mostly garbage
        x = R.r.random()
        if x < 0.25:
            return make_list(H, R, b, False, 300)
        if x < 0.45:
            return make_list(H, R, b, True, 60)
        if x < 0.65:
            return make_tree(H, R, b, False, 7)
        if x < 0.85:
            return make_tree(H, R, b, True, 6)
        return make_graph(H, R, b, min(60, b))

    return mixed


def long_lived(H, R, ops, max_held):
    """mix: a tree and a graph that live for a large part of the trace."""
    depth = min(11, max(0, max_held // 4 - 5))
    tree_life = R.between(ops // 4, ops // 2)
    tasks = [(tree_need(depth), tree_task(H, R, depth, R.chance(0.5), 6, tree_life))]
    n = min(300, max_held // 4)
    if n >= 4:
        steps = R.between(n, 4 * n)
        tasks.append((n, graph_task(H, R, n, 4, steps, 50, max(1, ops // (2 * max(1, steps // 50))))))
    return tasks


# ---- the scheduler -------------------------------------------------------------------

def generate(seed, ops, shape, max_held, collect_every, concurrency):
    R = Rng(seed)
    H = Handles(max_held)
    out = [MAGIC, f"# tracegen.py --seed {seed} --ops {ops} --shape {shape} --max-held {max_held}"
                  f" --collect-every {collect_every} --concurrency {concurrency}"]
    make = factory(shape, H, R, max_held)
    running = []  # [need, task] able to emit now
    sleeping = []  # heap of (wake_at, order, need, task)
    order = 0
    if shape == "mix":
        for need, task in long_lived(H, R, ops, max_held):
            H.reserved += need
            running.append([need, task])
            concurrency += 1  # the long-lived ones do not take the short-lived tasks' places
    emitted = 0
    while emitted < ops:
        while sleeping and sleeping[0][0] <= emitted:
            _, _, need, task = heapq.heappop(sleeping)
            running.append([need, task])
        while len(running) + len(sleeping) < concurrency:
            need, task = make(max_held - H.reserved)
            if H.reserved + need > max_held:
                break
            H.reserved += need
            running.append([need, task])
        if not running:  # everyone sleeps: wake the earliest now
            _, _, need, task = heapq.heappop(sleeping)
            running.append([need, task])
        i = R.below(len(running))
        need, task = running[i]
        try:
            item = next(task)
        except StopIteration:
            running[i] = running[-1]
            running.pop()
            H.reserved -= need
            continue
        if isinstance(item, int):
            running[i] = running[-1]
            running.pop()
            order += 1
            heapq.heappush(sleeping, (emitted + item, order, need, task))
            continue
        out.append(item)
        emitted += 1
        if collect_every and emitted % collect_every == 0 and emitted < ops:
            x = R.r.random()
            out.append(f"collect {0 if x < 0.6 else 1 if x < 0.9 else 2}")
            emitted += 1
    out.append("")
    return "\n".join(out)


class OneLineParser(argparse.ArgumentParser):
    """Bad arguments: one line on stderr and exit 2, no usage block."""

    def error(self, message):
        sys.stderr.write(f"tracegen.py: {message}\n")
        sys.exit(2)


def main():
    ap = OneLineParser(description="Write a memstrat trace (tools/TRACE_FORMAT.md) from a seed.")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--ops", type=int, default=200000, help="op lines to write (default 200000)")
    ap.add_argument("--shape", choices=SHAPES, default="mix", help="structure kind (default mix)")
    ap.add_argument("--max-held", type=int, default=4096, help="most handles held at once (default 4096)")
    ap.add_argument("--collect-every", type=int, default=0,
                    help="an explicit `collect G` after every N ops (default 0: none)")
    ap.add_argument("--concurrency", type=int, default=4, help="tasks running at once (default 4)")
    ap.add_argument("-o", "--output", default="-", help="output file (default: stdout)")
    a = ap.parse_args()
    if a.ops < 0:
        ap.error(f"--ops must be >= 0, got {a.ops}")
    if not MIN_HELD <= a.max_held <= MAX_HANDLES:
        ap.error(f"--max-held must be in {MIN_HELD}..{MAX_HANDLES}, got {a.max_held}")
    if a.collect_every < 0:
        ap.error(f"--collect-every must be >= 0, got {a.collect_every}")
    if a.concurrency < 1:
        ap.error(f"--concurrency must be >= 1, got {a.concurrency}")
    text = generate(a.seed, a.ops, a.shape, a.max_held, a.collect_every, a.concurrency)
    try:
        if a.output == "-":
            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            with open(a.output, "w", encoding="ascii", newline="\n") as f:
                f.write(text)
    except BrokenPipeError:  # `| head`: the reader has what it wanted
        sys.stdout = None
    except OSError as e:
        sys.stderr.write(f"tracegen.py: cannot write {a.output}: {e.strerror}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
