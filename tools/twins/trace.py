"""trace.py — twin of workloads/trace.c: replays a memstrat trace op by op; and
the one Python trace loader (tools/cpython_replay.py imports it from here).

Contract of the loader: load() parses and validates a trace exactly as
workloads/trace.c's wl_trace_load does (same rules, same one-line errors
"trace FILE:LINE: expected ...", raised as TraceError), simulating object
identities so that every `hold` is known good, into four flat arrays (one entry
per op, no per-op objects); handles are numbered densely in ID order. The format:
docs/trace-format.md; what both loaders refuse besides: tools/TRACE_FORMAT.md.

Contract of the twin (knob `trace`, counters trace_ops, trace_news,
trace_held_peak, ops = op lines, as the C): the trace is loaded in prepare(),
untimed, as the C loads it in its check. Objects are instances of classes
Trace0..Trace16 with attributes s0..s{K-1}: under `slots` exactly
cpython_replay.py's classes (bare __slots__, no __init__: a `new` costs one
allocation and nothing else); under `shared` and `dict` the layout factory's
classes, whose __init__ sets every slot to None. The handle table is made in
prepare() too, so that it is frozen with the interpreter's objects (the probe's
set-up) and the replay starts from counts (0, 0, 0), as cpython_replay.py's.

Invariant of replay(): the only GC containers it allocates are the trace's
objects — one per `new`; per `burst` its list, two iterators with their
argument tuples and its N objects — nothing else (no bound methods or frames),
so CPython's generation-0 count sees exactly the trace
(cpython_replay.py --audit checks it op by op).
"""
import array
import gc
import os
import stat
import sys
from itertools import repeat, starmap

from twinlib import STRING, BadInput

# The limits are workloads/trace.h's: a trace either loads in both or in neither.
MAGIC = b"# memstrat-trace v1"  # the version line
MAX_SLOTS = 16  # slots per object (WL_TRACE_MAX_SLOTS)
MAX_HANDLES = 1 << 24  # handles are below this (WL_TRACE_MAX_HANDLES)
MAX_GENERATION = 2  # `collect G`: CPython has generations 0..2
NONE = 0xFFFFFFFF  # `set ... -`: store None (WL_TRACE_NONE)
LINE_MAX = 512  # the C reader's buffer: op lines of LINE_MAX - 1 characters or more are refused
QUOTE = 40  # bytes of a bad token quoted back (escaped, then '...')
NUL = 0  # no line may hold this byte: it would end a C string early
MAX_BURST = 10000000  # objects one `burst` makes (WL_TRACE_MAX_BURST)
NEW, SET, DROP, HOLD, COLLECT, BURST = range(6)
OPNAMES = {b"new": NEW, b"set": SET, b"drop": DROP, b"hold": HOLD, b"collect": COLLECT, b"burst": BURST}
USAGE = ("new ID K", "set ID SLOT ID2|-", "drop ID", "hold ID ID2 SLOT", "collect G", "burst ID N")
ARITY = (3, 4, 2, 4, 2, 3)
# Shipped traces: tools/traces/, beside this directory.
TRACES_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "traces")


class TraceError(Exception):
    pass


class Trace:
    """The compact form: one entry per op in four flat arrays (no per-op objects)."""

    def __init__(self, path):
        self.path = path
        self.code = bytearray()
        self.a = array.array("I")
        self.b = array.array("I")
        self.arg = bytearray()
        self.handles = 0
        self.held_peak = 0
        self.count = [0] * 6

    def __len__(self):
        return len(self.code)


def resolve(name):
    """As trace.c: a bare name missing here is looked up in tools/traces/."""
    if "/" not in name and not os.path.exists(name):
        shipped = os.path.join(TRACES_DIR, name)
        if os.path.exists(shipped):
            return shipped
    return name


def esc(raw, limit=None):
    """mm_escape (strategies/knobs.h), byte for byte: printable ASCII as itself, a
    backslash doubled, any other byte as \\xHH; cut to `limit` bytes, then '...'."""
    if isinstance(raw, str):
        raw = os.fsencode(raw)
    cut = limit is not None and len(raw) > limit
    out = "".join("\\\\" if c == 0x5C else chr(c) if 0x20 <= c < 0x7F else f"\\x{c:02x}"
                  for c in (raw[:limit] if cut else raw))
    return out + "..." if cut else out


def q(tok):
    return esc(tok, QUOTE)


def file_kind(mode):
    """What a path is when it is not a regular file (trace.c's file_kind)."""
    for test, kind in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "not a regular file"


def read_regular(path):
    """The file's bytes if it is a regular file: opened O_NONBLOCK (a FIFO without
    a writer cannot block), checked with fstat on what was opened (trace.c)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        raise TraceError(f"trace {esc(path)}: expected a readable trace file ({e.strerror})")
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise TraceError(f"trace {esc(path)}: expected a regular file, got {file_kind(mode)}")
    os.set_blocking(fd, True)
    with os.fdopen(fd, "rb") as f:
        try:
            return f.read()
        except OSError as e:
            raise TraceError(f"trace {esc(path)}: expected a readable trace file (read error: {e.strerror})")


def load(path):
    """Parses and validates like wl_trace_load, simulating object identities:
    per handle the object it holds, per object what each slot refers to.
    Handles are sparse: each ID gets a dense index on first use; the ops carry
    dense indices, renumbered in ID order at the end (trace.c's finish_handles)."""
    data = read_regular(path)
    t = Trace(path)
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    qpath = esc(path)
    if not lines:
        raise TraceError(f"trace {qpath}:1: expected '{MAGIC.decode()}' as the first line, got an empty file")
    handle_obj = []  # object per dense handle, -1 when free
    handle_id = []  # ID of each dense handle
    dense = {}  # ID -> dense index
    obj_base = [0]  # first slot of each object in slot_obj (len = objects + 1)
    slot_obj = []  # object per slot, -1 for None
    held = 0
    code, A, B, ARG = t.code, t.a, t.b, t.arg
    lineno = 1

    def fail(msg):
        raise TraceError(f"trace {qpath}:{lineno}: {msg}")

    def no_nul(raw):
        if b"\0" in raw:
            fail(f"expected text, got a NUL byte at column {raw.index(NUL) + 1}")

    no_nul(lines[0])
    first = lines[0][:LINE_MAX - 1].rstrip(b"\r \t")
    if first != MAGIC:
        fail(f"expected '{MAGIC.decode()}' as the first line, got '{q(first)}'")

    def num(tok, hi):
        s = tok.lstrip(b"0") or b"0"
        if not tok.isdigit() or len(s) > 10 or int(s) > hi:
            return None
        return int(s)

    def handle(tok, what):
        v = num(tok, MAX_HANDLES - 1)
        if v is None:
            fail(f"expected {what} as a handle in 0..{MAX_HANDLES - 1}, got '{q(tok)}'")
        return v

    def slot(tok):
        v = num(tok, MAX_SLOTS - 1)
        if v is None:
            fail(f"expected SLOT as a slot index in 0..{MAX_SLOTS - 1}, got '{q(tok)}'")
        return v

    def is_held(h):
        d = dense.get(h)
        return d is not None and handle_obj[d] >= 0

    def need_held(h):
        if not is_held(h):
            fail(f"expected handle {h} to be held, but it is not")
        return dense[h]

    def need_free(h, op):
        if is_held(h):
            fail(f"expected handle {h} to be free for '{op}', but it is held")
        d = dense.get(h)
        if d is None:
            d = dense[h] = len(handle_obj)
            handle_obj.append(-1)
            handle_id.append(h)
        return d

    def need_slot(h, d, s):
        o = handle_obj[d]
        k = obj_base[o + 1] - obj_base[o]
        if s >= k:
            fail(f"expected SLOT below {k} (handle {h} holds an object with {k} slots), got {s}")

    for raw in lines[1:]:
        lineno += 1
        no_nul(raw)
        if raw.lstrip(b" \t").startswith(b"#"):
            continue
        if len(raw) >= LINE_MAX - 1:
            fail(f"expected a line shorter than {LINE_MAX - 1} characters")
        f = raw.split()
        if not f:
            continue
        c = OPNAMES.get(f[0])
        if c is None:
            fail(f"expected an op (new, set, drop, hold, collect, burst), got '{q(f[0])}'")
        if len(f) != ARITY[c]:
            n = min(len(f), 6)
            fail(f"expected '{USAGE[c]}', got {n} field{'' if n == 1 else 's'}")
        a = b = arg = 0
        if c == NEW:
            h = handle(f[1], "ID")
            arg = num(f[2], MAX_SLOTS)
            if arg is None:
                fail(f"expected K as a slot count in 0..{MAX_SLOTS}, got '{q(f[2])}'")
            a = need_free(h, "new")
            slot_obj.extend([-1] * arg)
            handle_obj[a] = len(obj_base) - 1
            obj_base.append(len(slot_obj))
            held += 1
        elif c == SET:
            h = handle(f[1], "ID")
            arg = slot(f[2])
            h2 = NONE if f[3] == b"-" else handle(f[3], "ID2 (or '-' for None)")
            a = need_held(h)
            need_slot(h, a, arg)
            b = NONE if h2 == NONE else need_held(h2)
            slot_obj[obj_base[handle_obj[a]] + arg] = -1 if b == NONE else handle_obj[b]
        elif c == DROP:
            a = need_held(handle(f[1], "ID"))
            handle_obj[a] = -1
            held -= 1
        elif c == HOLD:
            h = handle(f[1], "ID")
            h2 = handle(f[2], "ID2")
            arg = slot(f[3])
            b = need_held(h2)
            need_slot(h2, b, arg)
            o = slot_obj[obj_base[handle_obj[b]] + arg]
            if o < 0:
                fail(f"expected slot {arg} of the object held by handle {h2} to refer to an object, but it is None")
            a = need_free(h, "hold")
            handle_obj[a] = o
            held += 1
        elif c == BURST:
            # an object without slots in the simulation: set/hold on it are refused
            h = handle(f[1], "ID")
            b = num(f[2], MAX_BURST)
            if b is None:
                fail(f"expected N as an object count in 0..{MAX_BURST}, got '{q(f[2])}'")
            a = need_free(h, "burst")
            handle_obj[a] = len(obj_base) - 1
            obj_base.append(len(slot_obj))
            held += 1
        else:
            arg = num(f[1], MAX_GENERATION)
            if arg is None:
                fail(f"expected G as a generation in 0..{MAX_GENERATION}, got '{q(f[1])}'")
        if held > t.held_peak:
            t.held_peak = held
        code.append(c)
        A.append(a)
        B.append(b)
        ARG.append(arg)
        t.count[c] += 1
    # Dense indices in ID order: the table has one entry per handle used, and the
    # ascending walk at the end drops holds in ascending ID, as trace.c's run().
    n = len(handle_id)
    if n:
        rank = [0] * n
        for r, d in enumerate(sorted(range(n), key=handle_id.__getitem__)):
            rank[d] = r
        t.a = array.array("I", [x if c == COLLECT else rank[x] for c, x in zip(code, A)])  # burst's b is N
        t.b = array.array("I", [rank[x] if (c == SET and x != NONE) or c == HOLD else x for c, x in zip(code, B)])
    t.handles = n
    return t


# ---- the replay ---------------------------------------------------------------------

def make_classes():
    """TraceK with __slots__ s0..s{K-1}: a GC container of 16 + 8K bytes (+ GC head)."""
    names = tuple(sys.intern(f"s{i}") for i in range(MAX_SLOTS))
    return tuple(type(f"Trace{k}", (), {"__slots__": names[:k]}) for k in range(MAX_SLOTS + 1)), names


def replay(n, code, A, B, ARG, held, classes, names, collect, probe, marks, burst_cls=None):
    """The timed loop. Only `classes[k]()` and `burst` allocate GC containers;
    indexing the arrays makes ints, setattr/getattr are fast calls (no argument
    tuple), and nothing here materialises a frame object. probe/marks: --audit
    only. `burst A N` is one instruction, LIST_EXTEND: the list (BUILD_LIST,
    from the free list), the repeat and starmap iterators, N objects of
    burst_cls (no __init__: no Python code, so no safe point inside), then the
    two iterators die — workloads/trace.c's burst() does the same."""
    if burst_cls is None:
        burst_cls = classes[0]
    for i in range(n):
        c = code[i]
        if c == 1:
            b = B[i]
            setattr(held[A[i]], names[ARG[i]], None if b == 0xFFFFFFFF else held[b])
        elif c == 0:
            held[A[i]] = classes[ARG[i]]()
        elif c == 2:
            held[A[i]] = None
        elif c == 3:
            held[A[i]] = getattr(held[B[i]], names[ARG[i]])
        elif c == 4:
            collect(ARG[i])
        else:
            held[A[i]] = [*starmap(burst_cls, repeat((), B[i]))]
        if probe is not None:
            marks[i] = probe()[0]
    for i in range(len(held)):
        held[i] = None


# ---- the twin ------------------------------------------------------------------------

KNOBS = (("trace", STRING, "mix-20k.trace", 0, 0),)


def prepare(k, ctx):
    try:
        t = load(resolve(k["trace"]))
    except TraceError as e:
        raise BadInput(str(e))
    if ctx.layout == "slots":
        classes, names = make_classes()
        ctx.classes.extend(classes)  # the probe's leak check counts their instances
    else:
        names = tuple(sys.intern("s%d" % i) for i in range(MAX_SLOTS))
        classes = tuple(ctx.make_class("Trace%d" % j, names[:j]) for j in range(MAX_SLOTS + 1))
    held = [None] * max(1, t.handles)
    # burst's objects are made from C: a class without __init__ of the layout
    burst_cls = classes[0] if ctx.layout == "slots" else type("Trace0", (), {})
    return t, classes, names, held, burst_cls


def run(k, ctx, state):
    t, classes, names, held, burst_cls = state
    replay(len(t), t.code, t.a, t.b, t.arg, held, classes, names, gc.collect, None, None, burst_cls)
    ctx.ops = len(t)
    ctx.counter("trace_ops", len(t))
    ctx.counter("trace_news", t.count[NEW])
    ctx.counter("trace_held_peak", t.held_peak)
