"""common.py — what the twin tests share: the interpreter under test, running the
probe as the harness does, reading and checking its records (PROTOCOL.md), and
the C workload's counters from `memstrat run`.

Environment (set by run.py): TWIN_PYTHON (the interpreter under test),
TWIN_VERSION (X.Y), MEMSTRAT (build/memstrat, for the C side of comparisons).
"""
import json
import os
import re
import subprocess
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TWINS = os.path.join(ROOT, "tools", "twins")
PROBE = os.path.join(TWINS, "probe.py")
HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = os.environ.get("TWIN_PYTHON", "/usr/bin/python3.11")
VERSION = os.environ.get("TWIN_VERSION", "3.11")
MEMSTRAT = os.environ.get("MEMSTRAT", os.path.join(ROOT, "build", "memstrat"))
# A child that takes longer than this is hung (the largest test cell runs ~10 s).
TIMEOUT = 300
# What the protocol's records look like: name, then fields (PROTOCOL.md).
INT = r"-?\d+"
NUM = r"-?(?:\d+(?:\.\d*)?(?:e[-+]?\d+)?|\d*\.\d+(?:e[-+]?\d+)?)"
RECORD_FORMS = {
    "memstrat-probe": re.compile(r"1"),
    "python": re.compile(r"\d+\.\d+\.\d+\S*"),
    "malloc": re.compile(r"\S+"),
    "begin": re.compile(INT),
    "pause": re.compile(r"(%s) (%s) ([0-2]) (%s) (%s)" % (INT, INT, INT, INT)),
    "latency": re.compile(r"(%s) (%s)" % (INT, INT)),
    "end": re.compile(INT),
    "ops": re.compile(NUM),
    "counter": re.compile(r"([A-Za-z_][A-Za-z0-9_]*) (%s)" % NUM),
    "gc": re.compile(r"([0-2]) (%s) (%s) (%s)" % (INT, INT, INT)),
    "rss_peak": re.compile(INT),
    "error": re.compile(r".+"),
    "done": re.compile(r""),
}


def child_env(extra=None):
    """The harness's environment for the child: the parent's minus PYTHON*, plus
    PYTHONHASHSEED=0 (PROTOCOL.md, Starting the child)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONHASHSEED"] = "0"
    env.update(extra or {})
    return env


class Result:
    """One probe run: exit status, the records, stderr, and what is wrong with them."""

    def __init__(self, rc, text, stderr):
        self.rc, self.text, self.stderr = rc, text, stderr
        self.lines = text.splitlines()
        self.problems = []
        self.pauses, self.latencies, self.counters, self.gc = [], [], {}, {}
        self.header = {}
        self.begin = self.end = self.ops = self.rss_peak = self.error = None
        self.done = False
        self._parse()

    def _parse(self):
        p = self.problems
        if not self.text.endswith("\n") and self.text:
            p.append("output does not end with a newline")
        if not self.lines or self.lines[0] != "memstrat-probe 1":
            p.append("first record is not 'memstrat-probe 1': %r" % (self.lines[:1],))
        seen_begin = False
        for i, line in enumerate(self.lines):
            name, _, rest = line.partition(" ")
            form = RECORD_FORMS.get(name)
            if form is None:
                p.append("line %d: unknown record %r" % (i + 1, line))
                continue
            m = form.fullmatch(rest)
            if m is None:
                p.append("line %d: malformed %s record %r" % (i + 1, name, line))
                continue
            if self.done:
                p.append("line %d: record after done: %r" % (i + 1, line))
            if name in ("memstrat-probe", "python", "malloc"):
                self.header[name] = rest
            elif name == "begin":
                self.begin, seen_begin = int(rest), True
            elif name == "pause":
                if not seen_begin:
                    p.append("line %d: pause before begin" % (i + 1))
                self.pauses.append(tuple(int(x) for x in m.groups()))
            elif name == "latency":
                if not seen_begin:
                    p.append("line %d: latency before begin" % (i + 1))
                self.latencies.append(tuple(int(x) for x in m.groups()))
            elif name == "end":
                self.end = int(rest)
            elif name == "ops":
                self.ops = float(rest)
            elif name == "counter":
                if m.group(1) in self.counters:
                    p.append("line %d: counter %s twice" % (i + 1, m.group(1)))
                self.counters[m.group(1)] = float(m.group(2))
            elif name == "gc":
                self.gc[int(m.group(1))] = tuple(int(x) for x in m.groups()[1:])
            elif name == "rss_peak":
                self.rss_peak = int(rest)
            elif name == "error":
                self.error = rest
            elif name == "done":
                self.done = True
        for h in ("python", "malloc"):
            if h not in self.header:
                p.append("no %s record" % h)

    def check_success(self):
        """The problems of a run that should have succeeded (PROTOCOL.md)."""
        p = list(self.problems)
        if self.rc != 0:
            p.append("exit status %d (error %r, stderr %r)" % (self.rc, self.error, self.stderr[-300:]))
        if not self.done or self.lines[-1:] != ["done"]:
            p.append("'done' is not the last record")
        if self.error is not None:
            p.append("error record in a successful run: %s" % self.error)
        for what in ("begin", "end", "ops", "rss_peak"):
            if getattr(self, what) is None:
                p.append("no %s record" % what)
        if sorted(self.gc) != [0, 1, 2]:
            p.append("gc records for generations %s, expected 0, 1, 2" % sorted(self.gc))
        if self.begin is not None and self.end is not None:
            if self.end < self.begin:
                p.append("end %d before begin %d" % (self.end, self.begin))
            for t, d, g, c, u in self.pauses:
                if d < 0 or c < 0 or u < 0 or not self.begin <= t <= t + d <= self.end:
                    p.append("pause %s outside begin..end or negative" % ((t, d, g, c, u),))
                    break
        starts = [x[0] for x in self.pauses]
        if starts != sorted(starts):
            p.append("pauses out of time order")
        for s, m in self.latencies:
            if s < 0 or m < s:
                p.append("latency %d %d: metered below simple or negative" % (s, m))
                break
        if self.rss_peak is not None and self.rss_peak <= 0:
            p.append("rss_peak %d is not positive" % self.rss_peak)
        return p

    def collections(self):
        return [self.gc[g][0] for g in range(3)]

    def collected(self):
        return sum(self.gc[g][1] for g in range(3))


def run_probe(workload, knobs=(), layout="slots", gc="default", policy="auto", probe=None, env=None,
              python=None, fd=None, args=None, cwd=None):
    """Runs the probe as the harness does: records on a pipe (fd 3 by default,
    or the given fd number), stdout and stderr apart."""
    cmd = [python or PYTHON, "-s", PROBE]
    if args is None:
        args = ["--workload", workload, "--layout", layout, "--gc", gc, "--policy", policy]
        if probe is not None:
            args += ["--probe", str(probe)]
        args += list(knobs)
    r, w = os.pipe()
    target = 3 if fd is None else fd

    def child_fds():
        # Runs before the child's close_fds, which keeps only pass_fds: the
        # target number is in pass_fds, the read end (if elsewhere) is closed there.
        if w != target:
            os.dup2(w, target)

    cmd += ["--result-fd", str(target)] if "--result-fd" not in args else []
    p = subprocess.Popen(cmd + list(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=child_env(env), pass_fds=tuple({w, target}), preexec_fn=child_fds,
                         cwd=cwd)
    os.close(w)
    chunks = []
    with os.fdopen(r, "rb") as f:
        for chunk in iter(lambda: f.read(65536), b""):
            chunks.append(chunk)
    out, err = p.communicate(timeout=TIMEOUT)
    return Result(p.returncode, b"".join(chunks).decode("utf-8"), err.decode("utf-8", "replace"))


def run_in_python(code, *argv, python=None, env=None):
    """Runs a helper script (tests/twins/<code>.py) in the interpreter under test; its JSON."""
    cmd = [python or PYTHON, "-s", os.path.join(HERE, code + ".py")] + [str(a) for a in argv]
    p = subprocess.run(cmd, capture_output=True, text=True, env=child_env(env), timeout=TIMEOUT)
    if p.returncode != 0:
        raise AssertionError("%s %s failed (%d): %s" % (code, " ".join(map(str, argv)), p.returncode,
                                                       p.stderr.strip()[-800:]))
    return json.loads(p.stdout)


_memstrat_cache = {}


def memstrat(cell):
    """The C run's Google Benchmark record (counters by name) for a cell."""
    if cell in _memstrat_cache:
        return _memstrat_cache[cell]
    if not os.access(MEMSTRAT, os.X_OK):
        raise unittest.SkipTest("no memstrat binary at %s (build it: make build)" % MEMSTRAT)
    p = subprocess.run([MEMSTRAT, "run", cell, "--benchmark_format=json"], capture_output=True, text=True,
                       timeout=TIMEOUT)
    if p.returncode != 0:
        raise AssertionError("memstrat run %s failed (%d): %s" % (cell, p.returncode, p.stderr.strip()[-500:]))
    b = json.loads(p.stdout)["benchmarks"][0]
    _memstrat_cache[cell] = b
    return b


def c_counter_names(workload):
    """The counter names a C workload can report: every wl_counter(r, "NAME", ...)
    in workloads/<workload>.c (linked.h's list and ring report none)."""
    src = os.path.join(ROOT, "workloads", "%s.c" % ("list" if workload == "ring" else workload))
    with open(src) as f:
        return set(re.findall(r'wl_counter\(r,\s*"([A-Za-z0-9_]+)"', f.read()))


def needs(version):
    """Skips a test whose claim holds for one interpreter version only."""
    return unittest.skipUnless(VERSION == version, "the claim is about python%s (this is %s)" % (version, VERSION))
