"""memstrat_probe — the probe's API for a user's program (workload `script`).

    import memstrat_probe

    for request in requests:
        with memstrat_probe.unit():      # one unit of work: ops = units, a latency each
            handle(request)
    memstrat_probe.warmup_done()         # the warm-up event (policy=freeze freezes here)

Contract: under the probe (tools/twins/probe.py, workload `script`), each
outermost `with unit():` block is one op; its simple latency is the block's
wall time, and the unit-end event (policy=manual's collection) runs after it,
counted in the time the unit kept the server (the metered latency's busy time).
Units before the first warmup_done() are warm-up: counted in ops, not in the
latencies. Outside the probe (the program run by plain `python`), both calls do
nothing but time the block, so the program runs unchanged.

Invariant: a unit allocates no GC container of this module's: unit() returns one
preallocated object and the times go into arrays of C integers. (The `with`
statement itself makes a bound method of __exit__ per unit: one transient
container, freed at once, that the interpreter's gen0 count sees come and go.)
"""
import time
from array import array

__all__ = ["unit", "warmup_done"]

_now = time.monotonic_ns


class _Session:
    """What the probe collects for one run: the units' times and the warm-up mark.
    The probe installs one (start_session) and reads it back after the run."""

    def __init__(self, unit_end, warmup_end):
        self.unit_end = unit_end  # the policy's unit-end event (manual: a collection)
        self.warmup_end = warmup_end  # the policy's warm-up event (freeze: gc.freeze)
        self.response = array("q")  # per unit: its block's wall time, ns
        self.busy = array("q")  # per unit: the same plus the unit-end event, ns
        self.warmup_units = -1  # units before warmup_done(); -1: never called


_session = None


class _Unit:
    """The context manager unit() hands out: one object for the whole run; only
    the outermost of nested units counts."""

    __slots__ = ("depth", "t0")

    def __init__(self):
        self.depth = 0
        self.t0 = 0

    def __enter__(self):
        self.depth += 1
        if self.depth == 1:
            self.t0 = _now()
        return self

    def __exit__(self, exc_type, exc, tb):
        t1 = _now()
        self.depth -= 1
        if self.depth == 0:
            s = _session
            if s is not None:
                s.unit_end()
                t2 = _now()
                s.response.append(t1 - self.t0)
                s.busy.append(t2 - self.t0)
        return False


_UNIT = _Unit()


def unit():
    """`with memstrat_probe.unit():` marks one unit of work (one request)."""
    return _UNIT


def warmup_done():
    """The end of the program's warm-up: later units are measured; under
    policy=freeze the probe runs gc.freeze() here. Only the first call counts."""
    s = _session
    if s is not None and s.warmup_units < 0:
        s.warmup_units = len(s.response)
        s.warmup_end()


def start_session(unit_end, warmup_end):
    """The probe's side: begin collecting (returns the session it reads back)."""
    global _session
    _session = _Session(unit_end, warmup_end)
    _UNIT.depth = 0
    return _session


def end_session():
    """The probe's side: stop collecting; later calls do nothing."""
    global _session
    s, _session = _session, None
    return s
