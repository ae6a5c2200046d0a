"""script.py — the user's own program as a workload (no C twin: the cell runs
only under reclaim `cpython`).

Contract (PROTOCOL.md, The user's program): `script=PATH` is read and compiled
before the run (untimed; a missing file or a syntax error is bad input), then
executed as __main__ — a fresh module object in sys.modules["__main__"], with
sys.argv = [PATH, *args] (`args` split as a POSIX shell would, shlex.split) and
sys.path[0] = PATH's directory, as `python PATH args` would have them. The
program marks its units with memstrat_probe.unit() and its warm-up with
memstrat_probe.warmup_done(); ops = units, or 1 without units (the whole run is
one op). The units after the warm-up give the latencies (simple, and metered on
the fixed-rate schedule: `rate`, or 80% of the measured capacity). An exception
that leaves the program, including SystemExit with a non-zero status, is bad
input: its last line (`ValueError: bad port`), exit 2. `timeout` is the
harness's (it kills the child); the probe only accepts the knob. Counters:
`units` (units marked) and `warmup_units` (those before warmup_done()).
"""
import os
import shlex
import sys
import traceback
import types

import memstrat_probe
from twinlib import COUNT, STRING, BadInput, escape

# The harness's timeout range: a day at most.
MAX_TIMEOUT = 86400
MAX_RATE = 1000000000
KNOBS = (
    ("script", STRING, "", 0, 0),
    ("args", STRING, "", 0, 0),
    ("timeout", COUNT, "600", 1, MAX_TIMEOUT),
    ("rate", COUNT, "0", 0, MAX_RATE),
)


def check(k):
    if not k["script"]:
        raise BadInput("knob 'script' is required: script=PATH (the program to run as __main__)")


def last_line(exc):
    """The last line of an exception as the interpreter prints it."""
    lines = traceback.format_exception_only(type(exc), exc)
    text = lines[-1].strip() if lines else type(exc).__name__
    return text or type(exc).__name__


def prepare(k, ctx):
    path = k["script"]
    try:
        argv = [path] + shlex.split(k["args"])
    except ValueError as e:
        raise BadInput("knob 'args': %s: '%s'" % (e, escape(k["args"], 60)))
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError as e:
        raise BadInput("script %s: cannot read it (%s)" % (escape(path), e.strerror))
    try:
        code = compile(source, path, "exec")
    except (SyntaxError, ValueError) as e:
        raise BadInput("script %s: %s" % (escape(path), last_line(e)))
    return path, argv, code


def run(k, ctx, state):
    path, argv, code = state
    main = types.ModuleType("__main__")
    main.__file__ = path
    main.__builtins__ = __builtins__
    main.__cached__ = None
    probe_main = sys.modules.get("__main__")  # kept alive while the program runs
    sys.modules["__main__"] = main
    sys.argv = argv
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    session = memstrat_probe.start_session(ctx.request_end, ctx.warmup_end)
    try:
        exec(code, main.__dict__)
    except SystemExit as e:
        if e.code not in (None, 0):
            raise BadInput("SystemExit: %s" % e.code)
    except BaseException as e:
        raise BadInput(last_line(e))
    finally:
        memstrat_probe.end_session()
    units = len(session.response)
    warm = session.warmup_units if session.warmup_units >= 0 else 0
    ctx.ops = units if units else 1
    ctx.counter("units", units)
    ctx.counter("warmup_units", warm)
    if units > warm:
        ctx.latencies(session.response[warm:], session.busy[warm:], k["rate"])
    sys.modules["__main__"] = probe_main
