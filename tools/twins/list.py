"""list.py — twin of workloads/list.c: build n nodes, walk, drop the head.

Contract (workloads/linked.h): per round, n Node(value, next) instances built by
prepending (head = Node(i, head)), the list walked checking the sum of values
(one lap at most), optionally closed into a ring (tail.next = head, ring.py),
then the head dropped: a domino free under refcounting, cyclic garbage for a
ring. ops = n × rounds. Knobs n, rounds as the C's.

Object work per node: one Node instance (a GC container), nothing else — the
loop's ints are not containers, and no tuple, list or bound method is made.
"""
from twinlib import COUNT, WorkloadError

# workloads/list.c's WL_LINKED_MAX_N: 2^31 nodes.
MAX_N = 1 << 31
KNOBS = (
    ("n", COUNT, "1000000", 1, MAX_N),
    ("rounds", COUNT, "1", 1, 1000000),
)


def prepare(k, ctx):
    return ctx.make_class("Node", ("value", "next"))


def run_linked(k, ctx, Node, close_ring):
    """wl_linked_run: rounds of build, walk, (close), drop."""
    n, rounds = k["n"], k["rounds"]
    want = n * (n - 1) // 2
    for _ in range(rounds):
        tail = head = Node(0, None)
        for i in range(1, n):
            head = Node(i, head)
        # Walk: stop after one lap (a ring has no end).
        total = count = 0
        p = head
        while p is not None:
            total += p.value
            count += 1
            if count > n:
                break
            p = p.next
        if total != want or count != n:
            raise WorkloadError("list walk saw %d nodes summing to %d, expected %d and %d"
                                % (count, total, n, want))
        if close_ring:
            tail.next = head
        head = tail = p = None
    ctx.ops = n * rounds


def run(k, ctx, Node):
    run_linked(k, ctx, Node, False)
