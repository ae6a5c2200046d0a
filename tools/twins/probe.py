"""probe.py — runs one workload's Python twin in this interpreter and reports
what its cycle collector did, on the result fd, as tools/twins/PROTOCOL.md says.

    PY -s probe.py --workload W --layout L --gc GC --policy P --result-fd FD \\
       [--probe 0|1] KNOB=VALUE ...

Where to start reading: main(), whose numbered steps are the run's order. The
twins themselves are tools/twins/<workload>.py (contract in twinlib.py).

Invariants:
  1. Nothing the probe does between `begin` and `end` allocates a GC container
     of its own, except what CPython itself does for an installed gc.callbacks
     function: per collection, an info dict for "start" and one for "stop" (and in
     3.11 an argument tuple), mostly from free lists. The callback stores into
     preallocated/appendable arrays of C integers (array('q')): no list, dict or
     tuple per event. So the interpreter's gen0 count sees the workload alone,
     up to one dict after a full collection (which empties the free lists) — the
     drift tools/cpython_replay.py measures as `callbacks_minus_stats`.
  2. Before `begin` the probe's and the interpreter's own objects are collected
     and frozen (gc.collect, gc.freeze, gc.collect — as cpython_replay.py does), so
     collections see the workload's objects alone, from counts (0, 0, 0) and
     long_lived_total 0, as the model's fresh heap does. The set-up collection
     after the freeze is not in the `gc` figures.
  3. Records are buffered and written after `end` (only the three header records
     go out at start): no write, no file object inside the timed region.

What the callback costs (measured; README.md gives the figures): two Python calls
per collection, each reading time.monotonic_ns() and, on "stop", three dict
lookups and five array appends. A pause's duration runs from the clock read in
"start" to the one in "stop", so it includes the interpreter's building of the
"stop" info dict and the call into the callback, not the "start" callback's own
return.

Exit status: 0 after `done`; 1 after `error` for a failed workload; 2 after
`error` for bad input (bad arguments or knobs, an unreadable trace, a user
script that raised). Without a usable result fd: one line on stderr, exit 2.
"""
import gc
import os
import sys
import time
from array import array

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
import memstrat_probe  # noqa: E402
import twinlib  # noqa: E402
from twinlib import BadInput, WorkloadError  # noqa: E402

# The user API is imported here, while this directory is still on sys.path, so
# that it is in sys.modules when a user's script imports it (script.py).
USER_API = memstrat_probe

# The probe's directory leaves sys.path: a user script must not import a twin
# (or shadow the standard library's `trace`) by accident; twins are loaded by path.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != HERE]

PROTOCOL_VERSION = 1
WORKLOADS = ("list", "ring", "tree", "trace", "cache", "batch", "request", "prefork", "instances", "largefile",
             "cycles", "script")
POLICIES = ("auto", "manual", "batch", "freeze", "manual+freeze")
# policy=manual, as strategies/heap.c's mm_event_notify: one collection per unit
# end, of gen2 every 100th unit, else gen1 every 10th, else gen0.
MANUAL_GEN1_EVERY = 10
MANUAL_GEN2_EVERY = 100
# Named presets a `gc=` may carry (strategies/reclaim_gen.c), besides T0,T1,T2, off, default.
GC_PRESETS = {"cpython311": (700, 10, 10), "cpython313": (2000, 10, 10)}
# Generations gc.get_stats() reports in 3.10–3.13.
GENERATIONS = 3
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
USAGE = ("usage: probe.py --workload W --layout slots|shared|dict --gc T0,T1,T2|off|default "
         "--policy auto|manual|batch|freeze|manual+freeze --result-fd FD [--probe 0|1] KNOB=VALUE ...")


class Options:
    """The command line, parsed."""

    def __init__(self):
        self.workload = self.layout = self.gc = self.policy = None
        self.result_fd = None
        self.probe = 1
        self.knobs = {}


def parse_fd(argv):
    """--result-fd first, on its own: every later error must go there."""
    for i, a in enumerate(argv):
        if a == "--result-fd" and i + 1 < len(argv):
            text = argv[i + 1]
        elif a.startswith("--result-fd="):
            text = a.split("=", 1)[1]
        else:
            continue
        if not text.isdigit():
            return None, "--result-fd wants a file descriptor number, got '%s'" % twinlib.escape(text, 40)
        fd = int(text)
        try:
            os.fstat(fd)
        except OSError:
            return None, "--result-fd %d is not an open file descriptor" % fd
        return fd, None
    return None, "--result-fd is required"


def parse_args(argv):
    """Options from argv (BadInput with one line when something is wrong)."""
    o = Options()
    flags = {"--workload": "workload", "--layout": "layout", "--gc": "gc", "--policy": "policy",
             "--result-fd": "result_fd", "--probe": "probe"}
    i = 0
    while i < len(argv):
        a = argv[i]
        name, eq, val = a.partition("=")
        if name in flags:
            if not eq:
                if i + 1 >= len(argv):
                    raise BadInput("%s needs a value (%s)" % (name, USAGE))
                val = argv[i + 1]
                i += 1
            setattr(o, flags[name], val)
        elif a.startswith("-"):
            raise BadInput("unknown option '%s' (%s)" % (twinlib.escape(a, 40), USAGE))
        elif eq and name:
            if name in o.knobs:
                raise BadInput("knob '%s' given twice" % twinlib.escape(name, 40))
            o.knobs[name] = val
        else:
            raise BadInput("expected KNOB=VALUE, got '%s'" % twinlib.escape(a, 60))
        i += 1
    for name, attr in flags.items():
        if getattr(o, attr) is None and attr != "result_fd":
            raise BadInput("%s is required (%s)" % (name, USAGE))
    if o.workload not in WORKLOADS:
        raise BadInput("unknown workload '%s' (one of %s)" % (twinlib.escape(o.workload, 40), ", ".join(WORKLOADS)))
    if o.layout not in twinlib.LAYOUTS:
        raise BadInput("unknown layout '%s' (one of %s)" % (twinlib.escape(o.layout, 40), ", ".join(twinlib.LAYOUTS)))
    if o.policy not in POLICIES:
        raise BadInput("unknown policy '%s' (one of %s)" % (twinlib.escape(o.policy, 40), ", ".join(POLICIES)))
    if str(o.probe) not in ("0", "1"):
        raise BadInput("--probe wants 0 or 1, got '%s'" % twinlib.escape(str(o.probe), 40))
    o.probe = int(o.probe)
    o.thresholds = parse_gc(o.gc)
    return o


def parse_gc(text):
    """--gc: a threshold triple, None for `default`, 'off'."""
    if text in ("default", "off"):
        return text
    if text in GC_PRESETS:
        return GC_PRESETS[text]
    parts = text.split(",")
    if len(parts) == GENERATIONS and all(p.isdigit() and p.isascii() for p in parts):
        return tuple(int(p) for p in parts)
    raise BadInput("--gc wants T0,T1,T2 (non-negative), off or default, got '%s'" % twinlib.escape(text, 60))


def malloc_provider():
    """Base name of the shared object whose malloc this process calls. The
    dynamic linker binds malloc to the first object in the global scope that
    defines it: the link map's order (the executable, LD_PRELOADs, then needed
    libraries). The executable is skipped: a non-PIE CPython only holds a
    canonical PLT stub for malloc, which dladdr would name as itself. Each object
    is asked through dlsym on its own handle, and counts only if dladdr places
    the answer inside it (not in a dependency). '?' when none answers."""
    try:
        import ctypes
    except ImportError:
        return "?"

    class DlInfo(ctypes.Structure):
        _fields_ = [("dli_fname", ctypes.c_char_p), ("dli_fbase", ctypes.c_void_p),
                    ("dli_sname", ctypes.c_char_p), ("dli_saddr", ctypes.c_void_p)]

    class LinkMap(ctypes.Structure):
        pass

    LinkMap._fields_ = [("l_addr", ctypes.c_void_p), ("l_name", ctypes.c_char_p), ("l_ld", ctypes.c_void_p),
                        ("l_next", ctypes.POINTER(LinkMap)), ("l_prev", ctypes.POINTER(LinkMap))]
    rtld_lazy, rtld_noload, rtld_di_linkmap = 0x1, 0x4, 2  # <dlfcn.h>
    try:
        main = ctypes.CDLL(None)
        dladdr, dlinfo, dlopen, dlsym, dlclose = main.dladdr, main.dlinfo, main.dlopen, main.dlsym, main.dlclose
    except (OSError, AttributeError):
        return "?"
    dladdr.argtypes = [ctypes.c_void_p, ctypes.POINTER(DlInfo)]
    dlinfo.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
    dlopen.argtypes, dlopen.restype = [ctypes.c_char_p, ctypes.c_int], ctypes.c_void_p
    dlsym.argtypes, dlsym.restype = [ctypes.c_void_p, ctypes.c_char_p], ctypes.c_void_p
    dlclose.argtypes = [ctypes.c_void_p]
    lm = ctypes.POINTER(LinkMap)()
    if dlinfo(main._handle, rtld_di_linkmap, ctypes.byref(lm)) != 0:
        return "?"
    p = lm.contents.l_next if lm else None  # skip the executable
    while p:
        name = p.contents.l_name
        h = dlopen(name, rtld_lazy | rtld_noload) if name else None
        if h:
            addr = dlsym(h, b"malloc")
            info = DlInfo()
            found = addr and dladdr(addr, ctypes.byref(info)) and info.dli_fname == name
            dlclose(h)
            if found:
                return os.path.basename(name.decode("utf-8", "replace"))
        p = p.contents.l_next
    return "?"


class Output:
    """The result fd: records as lines, written with os.write (no file object)."""

    def __init__(self, fd):
        self.fd = fd

    def write(self, lines):
        data = ("".join(line + "\n" for line in lines)).encode("utf-8", "replace")
        while data:
            n = os.write(self.fd, data)
            data = data[n:]

    def error(self, message):
        """One `error` record: the message on one line."""
        text = " ".join(str(message).split())
        self.write(["error " + (text or "unknown error")])


def number(v):
    """A counter's value as the protocol writes it: integers as such, other
    floats in the shortest form that reads back the same."""
    if isinstance(v, bool):
        return str(int(v))
    if isinstance(v, int):
        return str(v)
    if v != v or v in (float("inf"), float("-inf")):
        return "0"  # never produced by a twin; a record must stay a number
    if v == int(v) and abs(v) < 2 ** 53:
        return str(int(v))
    return repr(float(v))


class Context:
    """What a twin sees: its layout's class factory, the policy's events, and
    where its results go. The event methods are bound per policy once, so a
    twin's call costs one Python call that does nothing under `auto`."""

    def __init__(self, layout, policy):
        self.layout = layout
        self.policy = policy
        self.ops = 0
        self.counters = []
        self.classes = []  # the workload's classes: their live instances at the end are its leak
        self.latency_simple = None
        self.latency_metered = None
        self.manual_units = 0
        self.result = None  # the Output, set by run(): `worker` records go out at once
        self.request_end = self.warmup_end = self.batch_begin = self.batch_end = self._nothing
        if policy in ("manual", "manual+freeze"):
            self.request_end = self._manual_collect
            if policy == "manual+freeze":
                self.warmup_end = gc.freeze
        elif policy == "batch":
            self.batch_begin, self.batch_end = self._batch_begin, self._batch_end
        elif policy == "freeze":
            self.warmup_end = gc.freeze

    def make_class(self, name, attrs, weakref=False):
        cls = twinlib.make_class(self.layout, name, attrs, weakref)
        self.classes.append(cls)
        return cls

    def counter(self, name, value):
        self.counters.append((name, value))

    def latencies(self, response, busy, rate):
        """The measured units' simple latencies and the times they kept the
        server, replayed on the fixed-rate schedule (twinlib.meter); returns the
        schedule's interval in ns."""
        metered, interval = twinlib.meter(response, busy, rate)
        self.latency_simple, self.latency_metered = response, metered
        return interval

    def worker(self, pid, mem=None):
        """A forked worker (prefork): its pid when it starts (mem None), or its
        own last smaps_rollup figures (private, shared, pss bytes) when it is
        done. Written at once, inside the timed run: the harness samples the
        worker's memory while it serves (PROTOCOL.md, `worker`)."""
        self.result.write(["worker %d start" % pid if mem is None else "worker %d end %d %d %d" % (pid, *mem)])

    @staticmethod
    def gen2_collections():
        """Full collections so far (C: mm_get_stats' collections[2]); gc.get_stats()
        makes one small list of untracked dicts, so call it outside the hot loop."""
        return gc.get_stats()[2]["collections"]

    def live_sample(self):
        """A point of the live-bytes timeline (C: wl_live_sample): the harness
        samples the child's RSS from outside, so nothing to do here; tests hook it."""

    @staticmethod
    def _nothing():
        pass

    def _manual_collect(self):
        self.manual_units += 1
        n = self.manual_units
        gc.collect(2 if n % MANUAL_GEN2_EVERY == 0 else 1 if n % MANUAL_GEN1_EVERY == 0 else 0)

    @staticmethod
    def _batch_begin():
        gc.disable()

    @staticmethod
    def _batch_end():
        gc.enable()  # as the model: mm_gc_enable, even under gc=off
        gc.collect()


def make_gc_callback(t, d, g, c, u):
    """The gc.callbacks function: per collection, start time, duration,
    generation, collected and uncollectable into the five arrays (invariant 1).
    The clock is read first thing on both phases."""
    start = array("q", [0])
    now = time.monotonic_ns

    def on_gc(phase, info):
        if phase == "start":
            start[0] = now()
        else:
            end = now()
            s = start[0]
            t.append(s)
            d.append(end - s)
            g.append(info["generation"])
            c.append(info["collected"])
            u.append(info["uncollectable"])

    return on_gc


def reset_hwm():
    """VmHWM := VmRSS (`echo 5 > /proc/self/clear_refs`); False if refused."""
    try:
        fd = os.open("/proc/self/clear_refs", os.O_WRONLY)
    except OSError:
        return False
    try:
        os.write(fd, b"5")
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def read_hwm():
    """VmHWM of this process in bytes (0 if /proc says nothing)."""
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def configure_gc(opts):
    """Thresholds (--gc), the policy's standing state, then the clean start of
    invariant 2. Returns the stats before and what the set-up collection found."""
    if isinstance(opts.thresholds, tuple):
        gc.set_threshold(*opts.thresholds)
    if opts.thresholds == "off" or opts.policy in ("manual", "manual+freeze"):
        gc.disable()
    else:
        gc.enable()
    gc.collect()
    before = stats_snapshot()
    gc.freeze()
    setup_found = gc.collect()  # long_lived_total = 0 now; counts (0, 0, 0)
    return before, setup_found


STAT_KEYS = ("collections", "collected", "uncollectable")


def stats_snapshot():
    """gc.get_stats() as an array: no container, so neither the set-up nor the leak check
    (which counts what the collector tracks) sees it."""
    return array("q", [s[k] for s in gc.get_stats() for k in STAT_KEYS])


def gc_records(before, after, setup_found):
    """`gc G N C U` per generation over begin..end, minus the set-up collection."""
    out = []
    for gen in range(GENERATIONS):
        n, col, unc = (after[3 * gen + k] - before[3 * gen + k] for k in range(3))
        if gen == GENERATIONS - 1:
            n -= 1
            col -= setup_found
        out.append("gc %d %d %d %d" % (gen, n, col, unc))
    return out


def run(opts, out):
    """Steps 3–7 of main(): set up, run timed, report."""
    # 3. the twin and its knobs
    twin = twinlib.load_twin(opts.workload)
    knobs = twinlib.knob_values(twin.KNOBS, opts.knobs, opts.workload)
    if hasattr(twin, "check"):
        twin.check(knobs)
    ctx = Context(opts.layout, opts.policy)
    ctx.result = out
    # 4. untimed set-up: classes, input files (a trace is parsed here, as the C's check does)
    state = twin.prepare(knobs, ctx) if hasattr(twin, "prepare") else None
    # 5. the pause buffers and the callback (made now, so that they are frozen
    # with the rest), the collector: thresholds, policy, clean start (invariant 2)
    pt, pd, pg, pc, pu = array("q"), array("q"), array("q"), array("q"), array("q")
    callback = make_gc_callback(pt, pd, pg, pc, pu) if opts.probe else None
    before, setup_found = configure_gc(opts)
    if callback is not None:
        gc.callbacks.append(callback)
    reset_hwm()
    # 6. the timed run
    t_begin = time.monotonic_ns()
    try:
        twin.run(knobs, ctx, state)
        t_end = time.monotonic_ns()
    finally:
        if callback is not None:
            gc.callbacks.remove(callback)
    after = stats_snapshot()
    hwm = read_hwm()
    # the leak check, untimed and after the stats: instances of the workload's classes still
    # alive once a full collection ran (the model's leaked_objects also counts its strings and
    # dicts; the twins' objects are these instances and the containers they hold)
    classes = tuple(ctx.classes)
    if classes:  # a user's script declares its classes itself: no leak check there
        gc.collect()
        ctx.counter("leaked_objects", sum(1 for o in gc.get_objects() if isinstance(o, classes)))
    # 7. the records (invariant 3)
    lines = ["begin %d" % t_begin]
    lines += ["pause %d %d %d %d %d" % rec for rec in zip(pt, pd, pg, pc, pu)]
    if ctx.latency_simple is not None:
        lines += ["latency %d %d" % rec for rec in zip(ctx.latency_simple, ctx.latency_metered)]
    lines.append("end %d" % t_end)
    lines.append("ops " + number(ctx.ops))
    lines += ["counter %s %s" % (name, number(v)) for name, v in ctx.counters]
    lines += gc_records(before, after, setup_found)
    lines.append("rss_peak %d" % hwm)
    lines.append("done")
    out.write(lines)


def main(argv):
    """1. the result fd; 2. the header; then run() (3–7)."""
    fd, problem = parse_fd(argv)
    if fd is None:
        sys.stderr.write("probe.py: %s\n" % problem)
        return EXIT_USAGE
    out = Output(fd)
    try:
        import platform
        out.write(["memstrat-probe %d" % PROTOCOL_VERSION, "python " + platform.python_version(),
                   "malloc " + malloc_provider()])
    except OSError as e:
        sys.stderr.write("probe.py: cannot write to --result-fd %d: %s\n" % (fd, e.strerror))
        return EXIT_USAGE
    out_of_memory = False
    try:
        opts = parse_args(argv)
        run(opts, out)
        return EXIT_OK
    except BadInput as e:
        out.error(e)
        return EXIT_USAGE
    except WorkloadError as e:
        out.error(e)
        return EXIT_FAILED
    except MemoryError:
        out_of_memory = True  # reported below, once the traceback's frames (and the heap they hold) are gone
    except RecursionError as e:
        out.error("RecursionError: %s" % e)
        return EXIT_FAILED
    except Exception as e:  # a twin's bug: still one line, never a traceback on the pipe
        out.error("%s: %s" % (type(e).__name__, e))
        return EXIT_FAILED
    if out_of_memory:
        out.error("out of memory")
    return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
