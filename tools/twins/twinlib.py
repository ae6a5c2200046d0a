"""twinlib.py — what the probe and the workloads' Python twins share.

Contract (tools/twins/PROTOCOL.md is the contract with the C harness; this is
the one between probe.py and the twins):
  - A twin is tools/twins/<workload>.py, loaded by load_twin() under the module
    name `memstrat_twin_<workload>` (never by its bare name: `trace` would shadow
    the standard library's module). It defines
        KNOBS    the C workload's knob table, row for row: (name, kind, default
                 text, min, max) — same names, defaults and ranges;
        check(k)           optional: rules across knobs (BadInput, the C's words);
        prepare(k, ctx)    optional, untimed: classes, input files; returns state;
        run(k, ctx, state) the timed work; sets ctx.ops, adds counters.
  - Errors: BadInput (exit 2: bad knob, unreadable trace, a user script that
    raised), WorkloadError (exit 1: the work went wrong, e.g. a checksum).
  - Knob values follow strategies/include/knobs.h rule 1 and 2 (digits with an
    optional k/m/g suffix in the declared range; printable ASCII strings), with
    the C's error wording, so a bad value reads the same from either side.
  - make_class() is the layout axis in the interpreter (PROTOCOL.md, Layouts):
    every class gets an __init__ that sets every declared attribute in
    declaration order (None by default); `slots` adds __slots__ (+ __weakref__
    when asked), `shared` is a plain class (3.11+: key-sharing dict, values
    inline), `dict` first gives each instance its own fresh dict, whose table is
    therefore not the class's shared keys.
  - meter() is workloads/meter.c (Lindley's recursion on a fixed-rate schedule)
    with request.c's calibration (rate 0: 1.25 × the mean busy time).

Stdlib only; runs on CPython 3.10 to 3.13.
"""
import importlib.util
import math
import os
import sys
from array import array

COUNT = "count"  # MM_KNOB_COUNT: integer, suffix k/m/g = ×1e3/1e6/1e9
STRING = "string"  # MM_KNOB_STRING: printable ASCII, no leading/trailing blank
# Suffix multipliers of a COUNT knob (knobs.h rule 1).
COUNT_SUFFIX = {"k": 10 ** 3, "m": 10 ** 6, "g": 10 ** 9}
# Longest knob value the C accepts (MM_KNOB_VALUE_MAX − 1) and the bytes of a bad value quoted back.
KNOB_VALUE_MAX = 511
KNOB_QUOTE = 60
# request.c's WL_REQ_LOAD_HEADROOM: with rate=0 one arrival per 1.25 mean service
# times (80% load), so queues form only behind requests slower than usual.
LOAD_HEADROOM = 1.25
LAYOUTS = ("slots", "shared", "dict")
HERE = os.path.dirname(os.path.abspath(__file__))


class BadInput(Exception):
    """Bad input (a knob, a file, a user script that raised): exit 2."""


class WorkloadError(Exception):
    """The work went wrong (a checksum, a broken structure): exit 1."""


def escape(text, limit=None):
    """mm_escape (strategies/knobs.h): printable ASCII as itself, a backslash
    doubled, any other byte as \\xHH; cut to `limit` bytes, then '...'."""
    raw = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text
    cut = limit is not None and len(raw) > limit
    out = "".join("\\\\" if c == 0x5C else chr(c) if 0x20 <= c < 0x7F else "\\x%02x" % c
                  for c in (raw[:limit] if cut else raw))
    return out + "..." if cut else out


def parse_count(text):
    """knobs.h rule 1 for a COUNT: digits with an optional k/m/g; None otherwise."""
    mult = COUNT_SUFFIX.get(text[-1:], 1)
    digits = text[:-1] if mult != 1 else text
    if not digits or not digits.isdigit() or not digits.isascii():
        return None
    return int(digits) * mult


def knob_values(table, given, workload):
    """The knob set a twin reads: every declared knob, given or defaulted, each
    valid by its kind and range (the CLI's check, same words). `given` maps names
    to texts; a name the table does not declare is refused."""
    names = [row[0] for row in table]
    for name in given:
        if name not in names:
            raise BadInput("unknown knob '%s' for workload %s (its knobs: %s)"
                           % (escape(name, KNOB_QUOTE), workload, ", ".join(names) or "none"))
    values = {}
    for name, kind, default, lo, hi in table:
        text = given.get(name, default)
        q = escape(text, KNOB_QUOTE)
        if kind == STRING:
            if text == "" and name in given:
                raise BadInput("knob '%s' needs a value" % name)
            if len(text.encode("utf-8", "surrogateescape")) > KNOB_VALUE_MAX:
                raise BadInput("knob '%s' must be shorter than %d bytes: '%s'" % (name, KNOB_VALUE_MAX + 1, q))
            for i, c in enumerate(text):
                if not " " <= c <= "~":
                    raise BadInput("knob '%s' must be printable ASCII; byte %d of '%s' is not" % (name, i + 1, q))
            if text != text.strip(" "):
                raise BadInput("knob '%s' must not start or end with a blank: '%s'" % (name, q))
            values[name] = text
        else:
            v = parse_count(text)
            if v is None:
                raise BadInput("knob '%s' must be digits with an optional k, m or g: '%s' is not a number" % (name, q))
            if not lo <= v <= hi:
                raise BadInput("knob '%s' must be in [%d, %d]: %d is out of range" % (name, lo, hi, v))
            values[name] = v
    return values


def make_class(layout, name, attrs, weakref=False):
    """A class of the cell's layout declaring `attrs` (see the header). The
    __init__ is generated so that every layout runs the same statements (one
    STORE_ATTR per attribute, in declaration order): the layouts differ only in
    where the values land. `dict` assigns a fresh `{}` to __dict__ first, so the
    instance's table is its own (a combined table), never the class's shared
    keys; `slots` declares __weakref__ only when the C class declares it."""
    if layout not in LAYOUTS:
        raise BadInput("layout '%s' is not one of %s" % (escape(layout, KNOB_QUOTE), ", ".join(LAYOUTS)))
    attrs = tuple(attrs)
    lines = ["def __init__(self%s):" % "".join(", %s=None" % a for a in attrs)]
    if layout == "dict":
        lines.append("    self.__dict__ = {}")
    lines += ["    self.%s = %s" % (a, a) for a in attrs]
    if len(lines) == 1:
        lines.append("    pass")
    ns = {}
    exec(compile("\n".join(lines) + "\n", "<memstrat %s %s>" % (layout, name), "exec"), ns)
    body = {"__init__": ns["__init__"], "__module__": "memstrat_twins", "__qualname__": name}
    if layout == "slots":
        body["__slots__"] = attrs + (("__weakref__",) if weakref else ())
    return type(name, (object,), body)


def llround(x):
    """C's llround for x >= 0 (halves away from zero), exactly: x − floor(x) is
    exact for doubles below 2^52, where x + 0.5 may round."""
    f = math.floor(x)
    return int(f) + (1 if x - f >= 0.5 else 0)


def meter(response, busy, rate):
    """metered latency per request (array 'q') and the schedule's interval in ns:
    workloads/meter.c's wl_meter_next over request.c's wl_req_interval. Requests
    arrive at 0, I, 2I, ... at one server: start_k = max(arrival_k, free_k),
    free_{k+1} = start_k + max(busy_k, response_k), metered_k = start_k +
    response_k − arrival_k."""
    n = len(response)
    interval = 0.0
    if rate > 0:
        interval = 1e9 / rate
    elif n > 0:
        interval = LOAD_HEADROOM * float(sum(busy)) / n
    if interval < 1:
        interval = 1.0  # a clock too coarse to see a request still gives a schedule
    metered = array("q", bytes(8 * n))
    free = 0
    for k in range(n):
        arrival = llround(k * interval)
        start = arrival if arrival > free else free
        r = response[k]
        b = busy[k]
        free = start + (b if b > r else r)
        metered[k] = start + r - arrival
    return metered, interval


def load_twin(workload):
    """The twin module of a workload, loaded once from tools/twins/<workload>.py
    under the name memstrat_twin_<workload>."""
    modname = "memstrat_twin_" + workload
    mod = sys.modules.get(modname)
    if mod is not None:
        return mod
    path = os.path.join(HERE, workload + ".py")
    spec = importlib.util.spec_from_file_location(modname, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[modname] = mod
    try:
        spec.loader.exec_module(mod)
    except BaseException:
        del sys.modules[modname]
        raise
    return mod


def statm_rss_bytes():
    """Resident bytes from /proc/self/statm (second field, pages); 0 if unreadable."""
    try:
        with open("/proc/self/statm", "rb") as f:
            fields = f.read().split()
        return int(fields[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return 0
