#!/usr/bin/env python3.11
"""cpython_replay.py — replays a memstrat trace in real CPython (3.11, 3.12 or
3.13: the generational collector) and reports what its cycle collector did:
collections per generation, objects collected.

Contract: the trace is parsed and validated exactly as workloads/trace.c does
(same rules, same one-line errors "trace FILE:LINE: expected ...", exit 2),
into flat arrays, before anything is timed — by the loader of the trace twin,
tools/twins/trace.py, which the probe's `trace` workload shares, with the
replay loop. Objects are instances of classes
Trace0..Trace16 (TraceK has __slots__ s0..s{K-1}), the same shapes as the C
workload under the `slots` layout. Handles still held at the end are dropped
in ascending order, as run() does in C.

Invariant of the timed loop: the only GC containers it allocates are the
trace's objects — one per `new`; per `burst` its list, two iterators with their
argument tuples and its N objects — nothing else (no bound methods or frames),
so CPython's generation-0 count sees exactly the trace.
`--audit` checks this op by op (see below). Before the loop: gc.collect(),
gc.freeze() (the interpreter's own objects go to the permanent generation, so
they count neither in collections nor in long_lived_total), gc.collect() again:
counts (0, 0, 0), long_lived_pending = long_lived_total = 0, as in a fresh heap.

Sources of the figures (--source):
  stats      gc.get_stats() before and after, no callback installed: nothing
             extra runs during collections. The exact figures.
  callbacks  a gc.callbacks function sums the "stop" events. CPython builds an
             info dict per event; after a full collection (which empties the
             dict free list) that dict is a fresh GC allocation whose free goes
             to the free list, leaving gen0's count 1 higher — so this source
             can drift from `stats`. Reported so the drift is measured, not guessed.
  both       (default) each in its own child process; the JSON carries both and
             their difference; the top-level figures are from `stats`.
Engines (--engine):
  cpython    (default) the real thing; needs CPython 3.11.
  model      a pure-Python model of gcmodule.c 3.11's rules (counts, thresholds,
             long_lived_pending/total, generation merging, unreachable = garbage)
             over the trace's object graph — a second witness, for the C `rc+gen`.
  rc         the same graph under pure refcounting (`collect` ops do nothing):
             "alive_end" is what the C `rc` strategy leaks.
  (model and rc run on any Python 3; they also report "alive_end", the objects
  still allocated after every hold is dropped.)
--audit runs the real loop with the collector disabled and compares
gc.get_count()[0] after every op with the model's count: a foreign container
allocated or freed in the loop would show at the op that made it. (A transient
taken from a free list does not move the count, except right after a full
collection, which empties the free lists; that case is what the comparison
of `stats` with `model` under small thresholds — hundreds of full
collections — rules out.)

Output: JSON on stdout {"python", "engine", "source", "trace", "ops",
"collections": [g0, g1, g2], "collected", "collected_gen": [..],
"uncollectable", "seconds"}; --table prints a human table instead.
Usage: python3.11 tools/cpython_replay.py mix.trace [--table]
"""
import argparse
import array
import gc
import json
import os
import platform
import subprocess
import sys
import time

# The loader and the replay loop are the trace twin's (tools/twins/trace.py), loaded
# by path under its own name (a bare `import trace` is the standard library's).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "twins"))
import twinlib  # noqa: E402

del sys.path[0]
_trace = twinlib.load_twin("trace")
NONE, NEW, SET, DROP, HOLD, BURST = _trace.NONE, _trace.NEW, _trace.SET, _trace.DROP, _trace.HOLD, _trace.BURST
TraceError, resolve, load, make_classes, replay = (_trace.TraceError, _trace.resolve, _trace.load,
                                                   _trace.make_classes, _trace.replay)
# CPython 3.11's default thresholds (Modules/gcmodule.c): the model's default.
# The real engine defaults to the running interpreter's gc.get_threshold().
DEFAULT_THRESHOLDS = (700, 10, 10)
# Interpreters whose collector is the generational one this script reports on
# (3.14.0-3.14.4 shipped the incremental one).
REAL_VERSIONS = ((3, 11), (3, 12), (3, 13))
# The list free list's capacity (PyList_MAXFREELIST, 3.11 to 3.13) and the tuple
# free list's per length (PyTuple_MAXFREELIST).
LIST_FREELIST = 80
TUPLE_FREELIST = 2000


def die(msg):
    """One line on stderr, exit 2: bad input never gets a traceback."""
    sys.stderr.flush()  # what the file gave is escaped (trace.py's esc), as the C loader prints it
    sys.stderr.buffer.write(f"cpython_replay.py: {msg}\n".encode("utf-8", "surrogateescape"))
    sys.exit(2)


# ---- the real CPython replay ---------------------------------------------------------

def run_cpython(t, source, thresholds, audit=False):
    """One replay in this process; source 'stats' or 'callbacks'."""
    classes, names = make_classes()
    held = [None] * max(1, t.handles)
    n = len(t)
    marks = array.array("q", bytes(8 * n)) if audit else None
    ev_count = [0, 0, 0]
    ev_collected = [0, 0, 0]
    ev_uncollectable = [0, 0, 0]

    def on_gc(phase, info):
        if phase == "stop":
            g = info["generation"]
            ev_count[g] += 1
            ev_collected[g] += info["collected"]
            ev_uncollectable[g] += info["uncollectable"]

    gc.set_threshold(*thresholds)
    if audit:
        gc.disable()
    else:
        gc.enable()
    # No callback may run in the setup: the info dict of the last collection would
    # be allocated after the free lists were emptied, leaving gen0's count at 1.
    gc.collect()
    before = gc.get_stats()  # made before the freeze, so frozen with the rest
    gc.freeze()  # counts[0] = 0; everything so far is out of the collector's sight
    setup = gc.collect()  # long_lived_total = 0 now; collects what was made since (nothing)
    if source == "callbacks":
        gc.callbacks.append(on_gc)
    probe = None
    if audit:
        gc.get_count()  # the first tuple after a full collection is a GC allocation: take it now
        base = gc.get_count()[0]
        probe = gc.get_count
    # Nothing between the last collect and the loop allocates a container.
    t0 = time.perf_counter()
    replay(n, t.code, t.a, t.b, t.arg, held, classes, names, gc.collect, probe, marks)
    seconds = time.perf_counter() - t0
    if source == "callbacks":
        gc.callbacks.remove(on_gc)
    after = gc.get_stats()
    gc.enable()
    if audit:
        return {"base": base, "marks": marks}
    if source == "callbacks":
        coll, got, unc = ev_count, ev_collected, ev_uncollectable
    else:
        coll = [after[g]["collections"] - before[g]["collections"] for g in range(3)]
        coll[2] -= 1  # the setup collection after the freeze
        got = [after[g]["collected"] - before[g]["collected"] for g in range(3)]
        got[2] -= setup  # what it found (collected + uncollectable; 0 in practice)
        unc = [after[g]["uncollectable"] - before[g]["uncollectable"] for g in range(3)]
    return result(t, "cpython", source, coll, got, unc, seconds)


def result(t, engine, source, coll, got, unc, seconds):
    return {
        "python": platform.python_version(),
        "engine": engine,
        "source": source,
        "trace": t.path,
        "ops": len(t),
        "collections": list(coll),
        "collected": sum(got),
        "collected_gen": list(got),
        "uncollectable": sum(unc),
        "seconds": round(seconds, 6),
    }


# ---- the model of gcmodule.c 3.11 -------------------------------------------------------

class Model:
    """CPython 3.11's collector over the trace's object graph, from the rules in
    Modules/gcmodule.c: gen0 count +1 per container allocation (a collection may
    run then, before the new object is tracked), -1 per container free while > 0;
    collect_generations picks the oldest generation over its threshold, skipping
    2 while long_lived_pending < long_lived_total / 4; collecting g bumps count
    g+1, zeroes counts 0..g, merges 0..g, finds what is unreachable from outside
    references (refcount minus references from inside the set), moves the rest
    to g+1 and frees the unreachable. Objects have no finalizers or weakrefs, so
    every unreachable object is collected."""

    def __init__(self, thresholds, enabled=True, safepoint=False):
        self.threshold = list(thresholds)
        self.enabled = enabled and thresholds[0] > 0
        self.safepoint = safepoint  # 3.12+: a crossing schedules; run_model runs it after the op
        self.scheduled = False
        self.lists = set()  # objects that are CPython lists (burst's), for the list free list
        self.fl_lists = 0  # lists kept on the free list
        self.fl_pairs = 0  # 2-tuples kept on the free list (burst's argument tuples)
        self.count = [0, 0, 0]
        self.gens = [set(), set(), set()]
        self.pending = 0  # long_lived_pending
        self.total = 0  # long_lived_total
        self.rc = []
        self.slots = []
        self.gen_of = []  # generation of each object, -1 once freed
        self.collections = [0, 0, 0]
        self.collected = [0, 0, 0]
        self.freelist_empty = False  # a full collection empties the free lists (for --audit)

    def call_type(self):
        """A type called without vectorcall: a 2-tuple of arguments (from the
        free list when it holds one) around the new object, dying after."""
        if self.fl_pairs:
            self.fl_pairs -= 1
        else:
            self.count_new()
        o = self.new(0)
        if self.fl_pairs < TUPLE_FREELIST:
            self.fl_pairs += 1
        elif self.count[0] > 0:
            self.count[0] -= 1
        return o

    def count_new(self):
        self.count[0] += 1
        if self.enabled and self.count[0] > self.threshold[0]:
            if self.safepoint:
                self.scheduled = True
            else:
                self.collect_generations()

    def new(self, k, is_list=False):
        if is_list and self.fl_lists:
            self.fl_lists -= 1  # reused: count0 unchanged
        else:
            self.count_new()
        o = len(self.rc)
        if is_list:
            self.lists.add(o)
        self.rc.append(1)
        self.slots.append([-1] * k)
        self.gen_of.append(0)
        self.gens[0].add(o)
        return o

    def incref(self, o):
        self.rc[o] += 1

    def decref(self, o):
        """Refcount release, iteratively, as CPython's deallocs cascade."""
        self.rc[o] -= 1
        if self.rc[o]:
            return
        work = [o]
        while work:
            d = work.pop()
            self.gens[self.gen_of[d]].discard(d)
            self.gen_of[d] = -1
            if d in self.lists and self.fl_lists < LIST_FREELIST:
                self.fl_lists += 1  # kept for reuse: no PyObject_GC_Del, count0 unchanged
            elif self.count[0] > 0:
                self.count[0] -= 1
            for c in self.slots[d]:
                if c >= 0:
                    self.rc[c] -= 1
                    if self.rc[c] == 0:
                        work.append(c)
            self.slots[d] = None

    def collect_generations(self):
        for i in (2, 1, 0):
            if self.count[i] > self.threshold[i]:
                if i == 2 and self.pending < self.total // 4:
                    continue
                self.collect(i)
                break

    def collect(self, g):
        if g + 1 < 3:
            self.count[g + 1] += 1
        for i in range(g + 1):
            self.count[i] = 0
        young = set()
        for i in range(g + 1):
            young |= self.gens[i]
            self.gens[i] = set()
        gc_refs = {o: self.rc[o] for o in young}
        for o in young:
            for c in self.slots[o]:
                if c in gc_refs:
                    gc_refs[c] -= 1
        reachable = set()
        work = [o for o in young if gc_refs[o] > 0]
        reachable.update(work)
        while work:
            o = work.pop()
            for c in self.slots[o]:
                if c in gc_refs and c not in reachable:
                    reachable.add(c)
                    work.append(c)
        unreachable = young - reachable
        older = min(g + 1, 2)
        if g == 1:
            self.pending += len(reachable)
        if g == 2:
            self.pending = 0
            self.total = len(reachable)
        for o in reachable:
            self.gen_of[o] = older
        self.gens[older] |= reachable
        self.collections[g] += 1
        self.collected[g] += len(unreachable)
        self.freelist_empty = self.freelist_empty or g == 2
        if g == 2:  # clear_freelists: each kept object is deleted (count0 is 0 here already)
            self.count[0] = max(0, self.count[0] - self.fl_lists - self.fl_pairs)
            self.fl_lists = self.fl_pairs = 0
        # Delete the garbage: break every reference it holds; each object is freed
        # once its count reaches zero (count0 is 0 now, so frees leave it there).
        for o in unreachable:
            self.gen_of[o] = g  # in a list of its own; decref's discard is then harmless
        for o in unreachable:
            if self.slots[o] is None:
                continue
            self.rc[o] += 1  # like delete_garbage's Py_INCREF around tp_clear
            kids, self.slots[o] = self.slots[o], [-1] * len(self.slots[o])
            for c in kids:
                if c >= 0:
                    self.decref(c)
            self.decref(o)


def run_model(t, thresholds, enabled=True, marks=None, rc_only=False, count0=0, safepoint=False):
    """rc_only: pure refcounting, the C `rc` strategy — `collect` ops do nothing.
    marks: gen0's count after every op as --audit's probe reads it (below).
    safepoint: 3.12+'s rule — a scheduled collection runs after the op."""
    m = Model(thresholds, enabled and not rc_only, safepoint)
    m.count[0] = count0
    held = [-1] * max(1, t.handles)
    code, A, B, ARG = t.code, t.a, t.b, t.arg
    t0 = time.perf_counter()
    for i in range(len(t)):
        c = code[i]
        if c == NEW:
            held[A[i]] = m.new(ARG[i])
        elif c == SET:
            o, b = held[A[i]], B[i]
            v = -1 if b == NONE else held[b]
            old = m.slots[o][ARG[i]]
            if v >= 0:
                m.incref(v)
            m.slots[o][ARG[i]] = v
            if old >= 0:
                m.decref(old)
        elif c == DROP:
            m.decref(held[A[i]])
            held[A[i]] = -1
        elif c == HOLD:
            v = m.slots[held[B[i]]][ARG[i]]
            m.incref(v)
            held[A[i]] = v
        elif c == BURST:
            # [*starmap(cls, repeat((), N))]: the list, two iterators, N objects, the iterators die
            lst = held[A[i]] = m.new(0, is_list=True)
            its = (m.call_type(), m.call_type())
            items = m.slots[lst]
            for _ in range(B[i]):
                items.append(m.new(0))
            m.decref(its[1])
            m.decref(its[0])
        elif not rc_only:
            m.collect(ARG[i])
        if m.scheduled:
            m.scheduled = False
            m.collect_generations()
        if marks is not None:
            # The probe, gc.get_count(), reads the count and then makes its tuple:
            # from the tuple free list, except after a full collection emptied it —
            # then a GC allocation (+1) whose free goes back to the list (no -1).
            marks[i] = m.count[0]
            if m.freelist_empty:
                m.count[0] += 1
                m.freelist_empty = False
    for h in range(len(held)):
        if held[h] >= 0:
            m.decref(held[h])
            held[h] = -1
    seconds = time.perf_counter() - t0
    engine = "rc" if rc_only else "model"
    r = result(t, engine, engine, m.collections, m.collected, [0, 0, 0], seconds)
    # Objects still allocated after every hold is dropped: under --engine rc this
    # is what pure refcounting leaks (the C `rc` strategy's leaked_objects).
    r["alive_end"] = sum(1 for gen in m.gen_of if gen >= 0)
    return r


# ---- driver ---------------------------------------------------------------------------

def audit(t):
    """Real loop with the collector off vs the model's count0 after every op
    (the model also accounts for the probe's own tuple)."""
    real = run_cpython(t, "stats", DEFAULT_THRESHOLDS, audit=True)
    marks = array.array("q", bytes(8 * len(t)))
    run_model(t, DEFAULT_THRESHOLDS, enabled=False, marks=marks, count0=real["base"])
    got = real["marks"]
    for i in range(len(t)):
        if got[i] != marks[i]:
            return {"audit": "FAILED", "op": i + 1, "gen0_count_cpython": got[i], "gen0_count_model": marks[i],
                    "ops": len(t), "python": platform.python_version()}
    return {"audit": "ok", "ops": len(t), "gen0_count_end": marks[len(t) - 1] if len(t) else 0,
            "python": platform.python_version()}


def child(args, source):
    """`both`: each source in a fresh interpreter, so neither run sees the other's heap."""
    cmd = [sys.executable, os.path.abspath(__file__), args.trace, "--source", source]
    if args.thresholds:
        cmd += ["--thresholds", ",".join(map(str, args.thresholds))]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.stderr.write(p.stderr)
        sys.exit(p.returncode)
    return json.loads(p.stdout)


def table(r):
    lines = [f"trace          {r['trace']} ({r['ops']} ops)",
             f"python         {r['python']}  engine {r['engine']}  source {r['source']}",
             f"{'generation':<14}{0:>10}{1:>10}{2:>10}{'total':>10}",
             f"{'collections':<14}" + "".join(f"{x:>10}" for x in r["collections"]) + f"{sum(r['collections']):>10}",
             f"{'collected':<14}" + "".join(f"{x:>10}" for x in r["collected_gen"]) + f"{r['collected']:>10}",
             f"{'uncollectable':<14}{'':>30}{r['uncollectable']:>10}",
             f"seconds        {r['seconds']:.3f}"]
    if "callbacks" in r:
        cb = r["callbacks"]
        lines.append(f"{'callbacks':<14}" + "".join(f"{x:>10}" for x in cb["collections"]) +
                     f"{sum(cb['collections']):>10}   (collections seen through gc.callbacks; "
                     f"collected {cb['collected']})")
    return "\n".join(lines)


class OneLineParser(argparse.ArgumentParser):
    def error(self, message):
        die(message)


def thresholds_arg(text):
    try:
        v = tuple(int(x) for x in text.split(","))
    except ValueError:
        v = ()
    if len(v) != 3 or min(v) < 0:
        raise argparse.ArgumentTypeError(f"--thresholds wants three counts like 700,10,10, got '{text}'")
    return v


def main():
    ap = OneLineParser(description="Replay a memstrat trace in CPython 3.11 and report its cycle collector's work.")
    ap.add_argument("trace", help="trace file (a bare name is also looked up in tools/traces/)")
    ap.add_argument("--source", choices=("both", "stats", "callbacks"), default="both",
                    help="where the figures come from (default both, in two child processes)")
    ap.add_argument("--engine", choices=("cpython", "model", "rc"), default="cpython",
                    help="the real collector, the pure-Python model of its rules, or pure refcounting")
    ap.add_argument("--thresholds", type=thresholds_arg, default=None,
                    help="gc thresholds (default: the interpreter's; the model's 700,10,10)")
    ap.add_argument("--trigger", choices=("alloc", "safepoint"), default="alloc",
                    help="the model's trigger: alloc (3.11) or safepoint (3.12+: run after the op)")
    ap.add_argument("--audit", action="store_true",
                    help="check op by op that the loop allocates no container but the trace's")
    ap.add_argument("--table", action="store_true", help="a human table instead of JSON")
    args = ap.parse_args()
    real = args.engine == "cpython" or args.audit
    if real and (sys.implementation.name != "cpython" or sys.version_info[:2] not in REAL_VERSIONS or
                 (args.audit and sys.version_info[:2] != (3, 11))):
        die(f"needs CPython 3.11 to 3.13 (--audit: 3.11; this is {sys.implementation.name} "
            f"{platform.python_version()}); run it with python3.11")
    try:
        t = load(resolve(args.trace))
    except TraceError as e:
        die(str(e))
    if args.audit:
        r = audit(t)
        print(json.dumps(r))
        sys.exit(0 if r["audit"] == "ok" else 1)
    if args.engine in ("model", "rc"):
        r = run_model(t, args.thresholds or DEFAULT_THRESHOLDS, rc_only=args.engine == "rc",
                      safepoint=args.trigger == "safepoint")
    elif args.source == "both":
        r = child(args, "stats")
        cb = child(args, "callbacks")
        r["source"] = "stats"
        r["callbacks"] = {k: cb[k] for k in ("collections", "collected", "collected_gen", "uncollectable", "seconds")}
        r["callbacks_minus_stats"] = [c - s for c, s in zip(cb["collections"], r["collections"])]
    else:
        r = run_cpython(t, args.source, args.thresholds or gc.get_threshold())
    try:
        print(table(r) if args.table else json.dumps(r))
        sys.stdout.flush()
    except BrokenPipeError:  # `| head`: the reader has what it wanted
        sys.stdout = None


if __name__ == "__main__":
    main()
