"""batch.py — twin of workloads/batch.c: one large batch of records, kept, dropped.

Contract (the C's): a list of n slots is made; then the batch-begin event; then
n records are built and stored; then the batch-end event (sent on failure too);
then every record is checked and the list dropped. policy=batch turns automatic
collection off for the build and runs one full collection after it. Record i
(Record(id, total, fields, scratch)):
  - `temps` Temp(value, next, parent) made while parsing it, chained (each new
    one's next is the previous) and closed into a ring, each pointing back at the
    record, which points at the ring (scratch) while it sums their values into
    `total`, then lets go (scratch = None): the ring is cyclic garbage;
  - `fields` Field(value, next, parent) kept in the record's `fields` chain, each
    pointing back at it: long-lived cycles.
ops = records built; counters records, temporaries, fields.

Object work per record: 1 + temps + fields instances, nothing else (the list is
made once, before the batch, and filled in order as the C's n slots are).
"""
from twinlib import COUNT, WorkloadError

# workloads/batch.c's WL_BATCH_MAX_N and WL_BATCH_MAX_PARTS.
MAX_N = 1000000000
MAX_PARTS = 1000
KNOBS = (
    ("n", COUNT, "500000", 1, MAX_N),
    ("temps", COUNT, "4", 0, MAX_PARTS),
    ("fields", COUNT, "3", 0, MAX_PARTS),
)


def prepare(k, ctx):
    part = ("value", "next", "parent")
    return (ctx.make_class("Record", ("id", "total", "fields", "scratch")),
            ctx.make_class("Temp", part), ctx.make_class("Field", part))


def part_sum(i, count):
    """Sum of the part values i + j, j < count (what `total` must hold)."""
    return count * i + count * (count - 1) // 2


def build(i, temps, fields, Record, Temp, Field):
    """Record i: temporaries first (a garbage ring by the end), then kept fields."""
    rec = Record(i, 0, None, None)
    head = last = None
    for j in range(temps):
        head = Temp(i + j, head, rec)
        if j == 0:
            last = head
    if head is not None:
        last.next = head  # close the ring
        rec.scratch = head
    total = 0
    t = head
    for _ in range(temps):
        total += t.value
        t = t.next
    rec.total = total
    rec.scratch = None
    head = last = t = None  # the ring is garbage now: it points only at itself and the record
    for j in range(fields):
        head = Field(i + j, head, rec)
    rec.fields = head
    return rec


def verify(rec, i, temps, fields):
    if rec is None or rec.id != i or rec.total != part_sum(i, temps):
        return False
    count = total = 0
    f = rec.fields
    while f is not None and count <= fields:
        if f.parent is not rec:
            return False
        total += f.value
        f = f.next
        count += 1
    return count == fields and total == part_sum(i, fields)


def run(k, ctx, classes):
    Record, Temp, Field = classes
    n, temps, fields = k["n"], k["temps"], k["fields"]
    records = []  # one list, no transient (`[None] * n` makes a literal first)
    built = 0
    ctx.batch_begin()
    try:
        for i in range(n):
            records.append(build(i, temps, fields, Record, Temp, Field))
            built += 1
    finally:
        ctx.batch_end()  # sent on failure too: the policy must see the pair
    ctx.ops = built
    ctx.counter("records", built)
    ctx.counter("temporaries", built * temps)
    ctx.counter("fields", built * fields)
    for i in range(n):
        if not verify(records[i], i, temps, fields):
            raise WorkloadError("record %d is not intact after the batch" % i)
    records = None
