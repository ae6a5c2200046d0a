"""cycles.py — twin of workloads/cycles.c: small cycles shed at a steady rate
beside a long-lived heap.

Contract (workloads/cycles.c): a live heap of `live` Node(value, next) built by
prepending and held throughout; then `cycles` steps, each building one cycle of
`size` Nodes (next → the following node, the last's next → the first), holding
it in a ring of `hold` slots and letting go of the one made `hold` steps before
(cyclic garbage from then on); a live sample every cycles/64 steps; at the end
the held cycles and the live heap are let go and the live heap's sum checked.
ops = cycles; counters cycles_shed, live_heap_objects.

Object work: live + size × cycles Node instances; the ring of holds is a list
made in prepare (the C's is malloc'd memory, no object), so the timed run makes
only Nodes: tests/twins/test_work.py counts them (cycles × size left as cyclic
garbage, the live heap freed).
"""
from twinlib import COUNT, WorkloadError

# workloads/cycles.c's WL_CYCLES_LIVE_SAMPLES, WL_CYCLES_MAX_SIZE, WL_CYCLES_MAX_N.
LIVE_SAMPLES = 64
MAX_SIZE = 1000
MAX_N = 1 << 31
KNOBS = (
    ("cycles", COUNT, "200000", 1, 1000000000),
    ("size", COUNT, "2", 1, MAX_SIZE),
    ("live", COUNT, "100000", 0, MAX_N),
    ("hold", COUNT, "100", 1, 10000000),
)


def prepare(k, ctx):
    """The class and the ring of holds (untimed, as the C's calloc is no object)."""
    return ctx.make_class("Node", ("value", "next")), [None] * k["hold"]


def run(k, ctx, state):
    ncycles, size, live, hold = k["cycles"], k["size"], k["live"], k["hold"]
    Node, ring = state
    head = None
    for i in range(live):
        head = Node(i, head)
    sample_every = ncycles // LIVE_SAMPLES + 1
    slot = 0
    for step in range(ncycles):
        if step % sample_every == 0:
            ctx.live_sample()
        first = prev = Node(step, None)
        for _ in range(size - 1):
            node = Node(step, None)
            prev.next = node
            prev = node
        prev.next = first
        ring[slot] = first  # the cycle made `hold` steps ago is shed here
        slot = (slot + 1) % hold
        first = prev = node = None
    ctx.live_sample()
    for i in range(hold):
        ring[i] = None
    total = count = 0
    p = head
    while p is not None:
        total += p.value
        count += 1
        p = p.next
    if count != live or total != live * (live - 1) // 2:
        raise WorkloadError("live heap walk saw %d nodes summing to %d, expected %d and %d"
                            % (count, total, live, live * (live - 1) // 2))
    head = p = None
    ctx.ops = ncycles
    ctx.counter("cycles_shed", ncycles)
    ctx.counter("live_heap_objects", live)
