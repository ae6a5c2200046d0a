"""bench.py — `memstrat bench`: runs a matrix of cells and publishes DIR/<run-id>/.

Contract:
 1. Everything is checked before anything is written (options, matrix, runner, run id, DIR/<run-id>
    absent, DIR not inside a run, no live driver owning DIR/.tmp-<run-id>); then the runner checks
    each cell, bounded by --timeout (a FIFO as trace= would hang it): exit 2 or silence refuses it.
 2. One process per cell x repetition, repetition-major by default (--order interleaved: machine
    drift spreads over all cells) or cell-major (--order blocked: every repetition of a cell in a
    row, its warm-ups first); outputs go to "<file>.part", renamed if the child succeeded; its
    stdout/stderr go to logs/. --pin, --aslr off and --rss-period-us change how each child runs
    (tools/noise.sh measures what they do to the CV) and are recorded in meta.json (harness).
 3. CSVs, meta.json, tables, plots, report.md go into DIR/.tmp-<run-id>/, renamed to DIR/<run-id>/
    (never over anything); latest moves only if it is a symlink or absent and a repetition succeeded.
 4. SIGINT/SIGTERM/SIGHUP before that rename: child stopped, .tmp removed, exit 128+signo.
 5. Children die with the driver, even a SIGKILLed one. A .tmp dir records its driver (pid, start
    time, boot); the next driver removes it once that driver is gone, never one without a record.
Start reading at main().
"""
import contextlib, ctypes, functools, math, os, re  # noqa: E401
import select, signal, subprocess, sys, time, types  # noqa: E401

from . import core, report, runs, system

DEFAULT_REPS, QUICK_REPS = 5, 3  # a median and a CV; --quick: a smoke run that still shows spread
GCSCAN_N = 1000000               # live objects of the gc-scan table (issue 3's target heap)
QUICK_GCSCAN_N = 200000          # --quick's: the same table in a fifth of the time (a smoke run)
DEFAULT_TIMEOUT_S = 600          # a child running longer is stuck: killed, marked failed
KILL_GRACE_S = 2.0               # SIGTERM to SIGKILL: time to flush, short enough for Ctrl-C
TAIL_BYTES = 4096                # end of a child's stderr read for its last line (it may write MBs)
SHORT_SHA = 7                    # commit characters in a default run id
MATRIX, QUICK_MATRIX = "harness/matrix.txt", "harness/matrix-quick.txt"
SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OWNER = ".owner"                 # in a .tmp directory: "pid starttime boot_id" of its driver
# Per-repetition outputs of a cell: (subdirectory, suffix after "<slug>.rep<r>").
OUTPUTS = (("json", ".json"), ("timeline", ".csv"), ("pauses", ".csv"), ("latency", ".csv"), ("timeline", ".live.csv"),
           ("timeline", ".pressure.csv"), ("timeline", ".cow.csv"))
SUBDIRS = ("json", "timeline", "pauses", "latency", "plots", "logs", "warmup")
# The runner's flag that writes each output (the .live, .pressure and .cow twins follow --ms_timeline by themselves).
OUTPUT_FLAGS = ("--benchmark_out", "--ms_timeline", "--ms_pauses", "--ms_latency", None, None, None)
# Warm-up repetitions per cell, run first and discarded: the first pass over a matrix is slow
# (page cache, CPU frequency, first touch of the kernel's own structures), 1 removes most of it.
DEFAULT_WARMUPS, MAX_WARMUPS = 1, 10
ORDERS = ("interleaved", "blocked")  # repetition-major (default) or cell-major
PIN = re.compile(r"\d{1,4}(,\d{1,4})?")  # CPU[,SAMPLER_CPU], checked by the runner against this machine
ADDR_NO_RANDOMIZE = 0x0040000        # personality(2) flag: what `setarch -R` sets
# Libraries whose version changes what a cell measures, and the Debian package the build saw.
LIBRARIES = (("google_benchmark", "libbenchmark-dev"), ("jemalloc", "libjemalloc-dev"), ("mimalloc", "libmimalloc-dev"),
             ("libgc", "libgc-dev"), ("python3.11", "libpython3.11-dev"), ("gnuplot", "gnuplot-nox"))
warn = functools.partial(core.warn, "bench")
quiet = contextlib.suppress(OSError)

# The options: (flag and metavar, argparse type (None: a switch, str: a path or name), help).
OPTIONS = (("--matrix FILE", str, "cells, one per line (default harness/matrix.txt)"),
           ("--reps N", core.int_in(1, core.MAX_REPS), "repetitions per cell, 1..100 (default 5)"),
           ("--out DIR", str, "results directory (default results)"),
           ("--run-id ID", str, "name of the run (default UTC timestamp + short commit)"),
           ("--quick", None, "harness/matrix-quick.txt and 3 repetitions (explicit options win)"),
           ("--no-plots", None, "do not run gnuplot"),
           ("--no-floating", None, "skip the untimed shadow run of each cell (no floating_* counters: n/a)"),
           ("--no-latest", None, "leave DIR/latest where it is (memstrat tune's runs use it)"),
           ("--gcscan-n N", core.int_in(0, 10**8), "objects in the gc-scan table (rc+gen vs CPython; default 1000000, "
                                             "--quick 200000); 0 skips it"),
           ("--memstrat PATH", str, "binary that runs the cells (default: this one)"),
           ("--timeout SEC", core.int_in(1, 86400), "kill a cell after SEC seconds and mark it failed (default 600)"),
           ("--warmups N", core.int_in(0, MAX_WARMUPS), "warm-up repetitions per cell, run first and discarded "
                                                        "(default 1)"),
           ("--order ORDER", str, "interleaved (default: every cell once per pass) or blocked (a cell's "
                                  "repetitions in a row)"),
           ("--pin CPU[,CPU2]", str, "run each cell on CPU, its RSS sampler thread on CPU2 (memstrat run --ms_pin)"),
           ("--aslr MODE", str, "on (default) or off: each cell without address-space randomisation "
                                "(personality ADDR_NO_RANDOMIZE, as setarch -R)"),
           ("--rss-period-us N", core.int_in(0, 10**7), "RSS sampler period of each cell in µs (default the "
                                                        "runner's, 10000; 0: no sampler thread)"),
           ("--plots-only DIR", str, "redraw the plots of an existing run directory"))
USAGE = """memstrat bench [--matrix FILE] [--reps N] [--out DIR] [--run-id ID] [--quick]
                      [--no-plots] [--no-floating] [--no-latest] [--memstrat PATH] [--timeout SEC]
                      [--gcscan-n N] [--warmups N] [--order interleaved|blocked] [--pin CPU[,CPU2]]
                      [--aslr on|off] [--rss-period-us N]
       memstrat bench --plots-only RUN_DIR"""
ABOUT = """Runs every cell of the matrix N times, each in its own process, and writes DIR/<run-id>/
(results.csv, summary.csv, meta.json, json/, timeline/, pauses/, latency/, plots/), then points
DIR/latest at it."""

_sig, _wake = 0, None  # first interrupt signal (0: none); read end of the signal wakeup pipe

def _on_signal(signo, _frame):
    global _sig
    _sig = _sig or signo

def signals_begin():
    """Interrupts become a flag checked at safe points; the wakeup pipe ends a wait at once."""
    global _wake
    _wake, w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(w, warn_on_full_buffer=False)
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, _on_signal)

def _die_with(parent, no_aslr=False):
    """In the child before exec: SIGKILL when the driver dies; if it already has, do not start.
    no_aslr: the child and what it execs run without address-space randomisation."""
    libc = ctypes.CDLL(None)
    libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1: PR_SET_PDEATHSIG
    if no_aslr:
        cur = libc.personality(ctypes.c_ulong(0xffffffff))  # 0xffffffff only asks
        if cur == -1 or libc.personality(ctypes.c_ulong(cur | ADDR_NO_RANDOMIZE)) == -1:
            os._exit(1)
    if os.getppid() != parent:
        os._exit(1)

def spawn_wait(argv, out, err, timeout, no_aslr=False):
    """Run argv (stdin /dev/null) to its end, timeout or an interrupt (then its process group gets
    SIGTERM, SIGKILL after KILL_GRACE_S); reaped on return. Says how it ended (.why: one phrase for
    progress lines and meta.json) and its wall time."""
    ch = types.SimpleNamespace(status=None, signal=0, timed_out=False, interrupted=False, error=None, wall=0.0)
    t0, parent = time.monotonic(), os.getpid()
    try:
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, process_group=0,
                             preexec_fn=lambda: _die_with(parent, no_aslr))
    except OSError as e:
        ch.error, ch.why = e.strerror, f"could not start: {e.strerror}"
        return ch
    fd, deadline, phase = os.pidfd_open(p.pid), t0 + timeout, 0
    while p.poll() is None:
        now = time.monotonic()
        if phase == 0 and (_sig or now >= deadline):  # stop it: SIGTERM now, SIGKILL after the grace
            ch.interrupted, ch.timed_out = bool(_sig), not _sig
            phase, deadline, sig = 1, now + KILL_GRACE_S, signal.SIGTERM
        elif phase == 1 and now >= deadline:
            phase, deadline, sig = 2, math.inf, signal.SIGKILL
        else:
            select.select([fd, _wake], [], [], min(deadline - now, 3600))  # signals_begin() made _wake
            with contextlib.suppress(BlockingIOError):
                os.read(_wake, 512)
            continue
        with quiet:
            os.killpg(p.pid, sig)
    os.close(fd)
    ch.wall = time.monotonic() - t0
    ch.status, ch.signal = (p.returncode, 0) if p.returncode >= 0 else (None, -p.returncode)
    ch.why = ("interrupted" if ch.interrupted else f"timed out after {timeout:g} s" if ch.timed_out
              else f"killed by signal {ch.signal} ({signal.strsignal(ch.signal)})" if ch.signal
              else f"exit status {ch.status}")
    return ch

def last_line(fd):
    """Last non-blank line a child wrote to fd, escaped for a message; '' if none."""
    data = os.pread(fd, TAIL_BYTES, max(0, os.fstat(fd).st_size - TAIL_BYTES)).rstrip(b"\r\n ")
    return core.printable(data.rsplit(b"\n", 1)[-1].decode("utf-8", "replace")) if data else ""

def capture(argv, timeout):
    """spawn_wait with both streams kept in memory, nothing on disk: (how it ended, its stdout,
    its last stderr line); an interrupt ends the command."""
    with open(os.memfd_create("memstrat-out", os.MFD_CLOEXEC), "w+b") as fo, \
            open(os.memfd_create("memstrat-err", os.MFD_CLOEXEC), "w+b") as fe:
        ch = spawn_wait(argv, fo, fe, timeout)
        fo.seek(0)
        out, last = fo.read().decode("utf-8", "replace"), last_line(fe.fileno())
    if ch.interrupted:
        raise core.Fail(128 + _sig, f"interrupted by signal {_sig}")
    return ch, out, last

def _owner(pid):
    """A process across pid reuse: pid, start time (/proc/PID/stat field 22) and boot id."""
    fields = core.read_text(f"/proc/{pid}/stat").rpartition(")")[2].split()
    boot = core.read_text("/proc/sys/kernel/random/boot_id").strip() or "?"
    return f"{pid} {fields[19] if len(fields) > 19 else '?'} {boot}"

def clean_stale(out):
    """Remove (one line each) .tmp dirs of gone drivers: a full disk must not stay full."""
    with quiet:  # an unreadable DIR fails later, when the run is made in it
        for name in sorted(os.listdir(out)):
            p, rec = os.path.join(out, name), []
            if name.startswith(".tmp-") and os.path.isdir(p) and not os.path.islink(p):
                rec = core.read_text(os.path.join(p, OWNER)).split()
            if len(rec) == 3 and rec[0].isdigit() and _owner(rec[0]).split() != rec:
                core.remove_tree(p)
                warn(f"removed {p}, left by a bench or merge that is gone (pid {rec[0]})")

def make_tmp(out, tmp):
    """The .tmp directory: new (another run's or a crashed one's is not ours), owner record first."""
    made = False
    try:
        os.makedirs(out, exist_ok=True)
        os.mkdir(tmp)
        made = True
        with open(os.path.join(tmp, OWNER), "w") as f:
            f.write(_owner(os.getpid()) + "\n")
        for d in SUBDIRS:
            os.mkdir(os.path.join(tmp, d))
    except OSError as e:
        made and core.remove_tree(tmp)
        raise core.Fail(core.EXIT_FAILED if made or not isinstance(e, FileExistsError) else core.EXIT_USAGE,
                        f"cannot create {e.filename}: {e.strerror}")

def disown(d):
    """A directory the user is told to read must never go as stale; a published run has no owner."""
    with quiet:
        os.unlink(os.path.join(d, OWNER))

def _run(argv):
    """(stdout, exit status) of a helper command; ("", None) when it cannot be run."""
    try:
        p = subprocess.run(argv, capture_output=True, text=True, errors="replace", timeout=60)
        return p.stdout, p.returncode
    except (OSError, subprocess.SubprocessError):
        return "", None

@functools.lru_cache(maxsize=None)
def git_commit():
    """(commit, dirty) of the source tree, to trace a result to its code; ("unknown", None)."""
    sha, rc = _run(["git", "-C", SOURCE_DIR, "rev-parse", "HEAD"])
    if rc != 0 or not re.fullmatch(r"[0-9a-f]{40}", sha.strip()):
        return "unknown", None
    status, rc = _run(["git", "-C", SOURCE_DIR, "status", "--porcelain"])
    return sha.strip(), (status != "") if rc == 0 else None

def cpu_model():
    """The CPU names the machine in plot titles and meta.json (x86, ARM, MIPS spellings)."""
    m = re.search(r"^(?:model name|Model|Hardware|cpu model)\s*:[ \t]*(\S.*?)\s*$", core.read_text("/proc/cpuinfo"),
                  re.M)
    return m.group(1) if m else "unknown CPU"

def libraries():
    """Installed version of each library's package: "absent", or "unknown" without dpkg."""
    out, rc = _run(["dpkg-query", "-W", "-f=${Package}|${db:Status-Abbrev}|${Version}\n", *dict(LIBRARIES).values()])
    found = {f[0]: f[2] for f in (ln.split("|", 2) for ln in out.splitlines()) if len(f) == 3 and f[1][1:2] == "i"}
    return {n: {"package": p, "version": found.get(p) or ("absent" if rc in (0, 1) else "unknown")}
            for n, p in LIBRARIES}

def build_meta(run, reg, o, runner, matrix, started, finished, context):
    """Everything that identifies the run: the fields bench_meta.c wrote."""
    (sha, dirty), u = git_commit(), os.uname()
    mem = re.search(r"^MemTotal:\s*(\d+)", core.read_text("/proc/meminfo"), re.M)
    iso = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))  # noqa: E731
    meta = {"run_id": run.run_id, "started_utc": iso(started), "finished_utc": iso(finished),
            "git": {"commit": sha, "dirty": dirty}, "build": {**reg.build, "memstrat": runner},
            "libraries": libraries(),
            "machine": {"cpu_model": cpu_model(), "cores": os.sysconf("SC_NPROCESSORS_ONLN"),
                        "mem_total_mb": int(mem.group(1)) // 1024 if mem else "unknown",
                        "kernel": f"{u.sysname} {u.release} {u.version} {u.machine}", "hostname": u.nodename},
            **({"gbench_context": context} if context is not None else {}),
            "matrix": {"path": os.path.realpath(matrix), "cells": [c.name for c in run.cells]}}
    meta.update(reps=run.reps, timeout_s=o.timeout, warmups=o.warmups, warmup_ms=run.meta.get("warmup_ms", {}),
                system=run.meta.get("system", {}),
                harness={"order": o.order, "pin": o.pin, "aslr": o.aslr,
                         "rss_period_us": o.rss_period_us, "runner_flags": child_how(o).flags})
    return meta

def preflight(runner, cells, matrix, timeout):
    """A misspelt strategy stops the run now, not as a failed cell an hour later."""
    for c in cells:
        ch, _, last = capture([runner, "run", c.name, "--benchmark_list_tests=true"], timeout)
        why = (f"cannot run {runner}: {ch.error}" if ch.error else
               f"{matrix}:{c.line}: the runner did not check the cell within --timeout {timeout} s"
               " (is an input a FIFO or a device?)" if ch.timed_out else
               f"{matrix}:{c.line}: {last or 'cell rejected by the runner'}" if ch.status == core.EXIT_USAGE else None)
        if why:
            raise core.usage(why)

def run_one(d, runner, c, tag, timeout, warmup=False, how=None):
    """One cell x repetition (tag "rep3", "warmup1"): (Rep, Google Benchmark context); ends its
    progress line. A warm-up keeps only its JSON, in warmup/: it is a record, not a sample.
    how: child_flags() and no_aslr of the options (None: the runner's defaults)."""
    base = f"{c.slug}.{tag}"
    outs = [(("warmup", ".json"), OUTPUT_FLAGS[0])] if warmup else list(zip(OUTPUTS, OUTPUT_FLAGS))
    files = [os.path.join(d, sub, base + ext) for (sub, ext), _ in outs]
    parts = [f + ".part" for f in files]
    logs = [os.path.join(d, "logs", f"{base}.{s}") for s in ("stdout", "stderr")]
    with open(logs[0], "wb") as fo, open(logs[1], "wb+") as fe:
        ch = spawn_wait([runner, "run", c.name, *(f"{flag}={p}" for p, (_, flag) in zip(parts, outs) if flag),
                         *(how.flags if how else ()), "--benchmark_out_format=json", "--benchmark_format=console"],
                        fo, fe, timeout, bool(how and how.no_aslr))
        last = last_line(fe.fileno())
    rep, ctx = runs.read_rep(parts[0], c.name) if ch.status == 0 else (
        runs.Rep(ch.why + (f": {last}" if last else "")), None)
    rep.wall_s = ch.wall
    for part, f in zip(parts, files):
        if os.path.exists(part):
            os.rename(part, f) if rep.ok else os.unlink(part)
    sys.stderr.write("interrupted\n" if ch.interrupted else f"{ch.wall:.2f} s\n" if rep.ok
                     else f"FAILED after {ch.wall:.2f} s: {rep.error}\n")
    for p in logs:
        if os.path.getsize(p) == 0:
            os.unlink(p)
    return rep, ctx

def schedule(ncells, reps, warmups, order):
    """(repetition, cell index) in running order; repetitions 1-warmups..0 are the warm-ups.
    interleaved: the warm-up passes, then pass after pass over the whole matrix (drift of the
    machine spreads over all cells); blocked: each cell's warm-ups and repetitions in a row."""
    rs = range(1 - warmups, reps + 1)
    return [(r, i) for r in rs for i in range(ncells)] if order != "blocked" else \
        [(r, i) for i in range(ncells) for r in rs]

def run_cells(run, runner, timeout, warmups, order="interleaved", how=None):
    """Every cell x repetition (warm-ups first) in the order of schedule(); returns the first
    Google Benchmark context. Warm-up times go to run.meta["warmup_ms"]; a failed warm-up is
    only said."""
    context, n = None, len(run.cells)
    run.meta["warmup_ms"] = {c.name: [] for c in run.cells}
    done = {True: 0, False: 0}  # runs so far of each kind (warm-up or not), for the progress lines
    for r, i in schedule(n, run.reps, warmups, order):
        c = run.cells[i]
        if _sig:
            return context
        done[r < 1] += 1
        where = f"[warm-up {done[True]}/{n * warmups}] {c.name} warm-up {r + warmups}/{warmups}" \
            if r < 1 else f"[{done[False]}/{n * run.reps}] {c.name} rep {r}/{run.reps}"
        sys.stderr.write(f"{where} \u2026 ")
        sys.stderr.flush()
        rep, ctx = run_one(run.dir, runner, c, f"warmup{r + warmups}" if r < 1 else f"rep{r}", timeout, r < 1, how)
        if r < 1:
            run.meta["warmup_ms"][c.name].append(rep.real_ms if rep.ok else None)
        else:
            run.rep[i][r - 1] = rep
        context = context or ctx
    return context

# The shadow run of each cell (floating garbage, docs/floating.md): a pass every N allocations with
# N = max(FLOATING_MIN_EVERY, allocations / passes), passes = the visit budget / the timed run's
# peak of live objects (a pass visits each), clamped to FLOATING_PASSES_MIN..max: a timeline of
# up to 50 points (20 with --quick) for ~5M (1M) object visits per cell, whatever its size —
# about half a second (a tenth) a cell here, so the matrices keep their time budgets.
FLOATING_PASSES_MIN = 8
FLOATING_PASSES_MAX, FLOATING_VISITS = 50, 5_000_000
FLOATING_PASSES_MAX_QUICK, FLOATING_VISITS_QUICK = 20, 1_000_000
FLOATING_MIN_EVERY = 1000
# The workloads whose cells get a shadow: those whose garbage is cyclic or held by a cycle and
# whose replay is cheap (cycles is what the lineage table reads); every strategy runs on each.
# A shadow costs about one more repetition: on every heap cell they took 300 s of the full run
# (16m50s, over its 15 minutes; request 112 s, tree 67 s) and 26 s of the quick one (101 s).
SHADOW_WORKLOADS = ("cycles", "ring", "cache", "batch", "trace", "largefile", "prefork")

def floating_every(rep, quick=False):
    """N of a cell's shadow run from one of its good repetitions' counters."""
    allocated, peak = rep.counters.get("objects_allocated", 0), max(rep.counters.get("live_objects_peak", 1), 1)
    most, visits = (FLOATING_PASSES_MAX_QUICK, FLOATING_VISITS_QUICK) if quick else (FLOATING_PASSES_MAX,
                                                                                      FLOATING_VISITS)
    passes = min(most, max(FLOATING_PASSES_MIN, int(visits // peak)))
    return max(FLOATING_MIN_EVERY, int(math.ceil(allocated / passes)))

def run_shadows(run, reg, runner, timeout, quick=False):
    """One untimed shadow run per cell that ran on a heap: json/<slug>.shadow.json and
    timeline/<slug>.floating.csv; its floating_* counters join the cell's repetitions. A
    strategy the census cannot count (boehm) and interpreter cells get none: n/a; nor do cells
    that allocated no object (churn), nor workloads outside SHADOW_WORKLOADS."""
    def wanted(i, c):
        good = [r for r in run.rep[i] if r.ok]
        return (good and not reg.strategy(c.reclaim).get("interpreter")
                and good[0].counters.get("objects_allocated", 1) > 0
                and c.workload in SHADOW_WORKLOADS)
    shadows = [(i, c) for i, c in enumerate(run.cells) if wanted(i, c)]
    for k, (i, c) in enumerate(shadows):
        if _sig:
            return
        every = floating_every(next(r for r in run.rep[i] if r.ok), quick)
        files = [runs.shadow_json(run.dir, c), os.path.join(run.dir, "timeline", f"{c.slug}.floating.csv")]
        parts = [f + ".part" for f in files]
        sys.stderr.write(f"[shadow {k + 1}/{len(shadows)}] {c.name} floating garbage every {every} allocations \u2026 ")
        sys.stderr.flush()
        with open(os.path.join(run.dir, "logs", f"{c.slug}.shadow.stderr"), "wb+") as fe:
            ch = spawn_wait([runner, "run", c.name, f"--ms_floating={every}", f"--ms_floating_timeline={parts[1]}",
                             f"--benchmark_out={parts[0]}", "--benchmark_out_format=json",
                             "--benchmark_format=console"], subprocess.DEVNULL, fe, timeout)
            last = last_line(fe.fileno())
        shadow = runs.read_rep(parts[0], c.name)[0] if ch.status == 0 else runs.Rep(ch.why)
        for part, f in zip(parts, files):
            if os.path.exists(part):
                os.rename(part, f) if shadow.ok else os.unlink(part)
        runs.merge_shadow(run, i, shadow)
        na = shadow.ok and not any(n.startswith(runs.FLOATING_PREFIX) for n in shadow.counters)
        sys.stderr.write("interrupted\n" if ch.interrupted else f"FAILED: {shadow.error}\n" if not shadow.ok
                         else f"n/a ({last})\n" if na else f"{ch.wall:.2f} s\n")

def child_how(o):
    """How each cell's process runs, from the options: its extra runner flags and ASLR."""
    flags = ([f"--ms_pin={o.pin}"] if o.pin else []) + \
            ([f"--ms_rss_period_us={o.rss_period_us}"] if o.rss_period_us is not None else [])
    return types.SimpleNamespace(flags=flags, no_aslr=o.aslr == "off")

def gcscan(d, runner, n, reps, timeout):
    """gc_scan.csv and .txt (rc+gen beside CPython); a failure (no python3.11?) is only reported."""
    warn(f"gc-scan: full collections over {n} live objects, rc+gen and CPython")
    with open(os.path.join(d, "gc_scan.txt"), "wb") as fo, open(os.path.join(d, "logs", "gc_scan.log"), "ab") as fe:
        ch = spawn_wait([runner, "gcscan", "--n", str(n), "--reps", str(reps), "--out",
                         os.path.join(d, "gc_scan.csv")], fo, fe, timeout)
    if ch.status != 0 and not ch.interrupted:
        warn(f"warning: gc-scan failed ({ch.why}); see {d}/logs/gc_scan.log")

def write_outputs(run, reg, o, meta_args):
    """The files of a finished run, in its .tmp directory. Returns the plots status (0 drawn,
    > 0 failed, < 0 skipped); OSError/Fail when a file cannot be written."""
    run.summarize(reg)
    for i in run.cv_warned:
        warn(f"warning: {run.cells[i].name}: time CV {run.sum[i]['time_cv_pct']:.1f}% > {core.CV_WARN_PCT:.0f}% "
             "(noisy: more --reps or a quieter machine)")
    run.meta = build_meta(run, reg, o, *meta_args)
    report.write_run(run, reg, not o.no_plots and not _sig, "bench")
    return run.plots_status  # render's record: 0 drawn, 1 failed, -1 skipped

def print_end(run, reg, final, out, moved):
    """The end of a run for a person: tables, failures, noisy cells, where things are, gc-scan."""
    run.print_table(sys.stdout)
    report.print_tables(run, reg, sys.stdout)
    sys.stdout.flush()
    if run.meta["failures"]:
        warn(f"{len(run.meta['failures'])} of {len(run.cells) * run.reps} repetitions failed:")
        sys.stderr.write("".join(f"  {f['cell']} rep {f['rep']}: {f['error']}\n" for f in run.meta["failures"]))
    if run.cv_warned:
        warn(f"{len(run.cv_warned)} cell(s) with time CV > {core.CV_WARN_PCT:.0f}%, see meta.json")
    print(f"run:    {final}")
    if moved:
        print(f"latest: {out}/latest -> {run.run_id}")
    sys.stdout.write(core.read_text(os.path.join(final, "gc_scan.txt")))

def execute(o):
    """Steps 1-5 of the contract, once the options are known."""
    start, rel = time.time(), QUICK_MATRIX if o.quick else MATRIX
    matrix = o.matrix or (rel if os.path.exists(rel) else os.path.join(SOURCE_DIR, rel))
    reg = core.registry()
    cells = core.load_matrix(matrix, reg)
    runner, out = o.memstrat or core.memstrat_binary(), (o.out or "results").rstrip("/") or "/"
    stamp, sha = time.strftime("%Y%m%d-%H%M%S", time.gmtime(start)), git_commit()[0]
    run_id = o.run_id or (stamp if sha == "unknown" else f"{stamp}-{sha[:SHORT_SHA]}")
    reps = o.reps or (QUICK_REPS if o.quick else DEFAULT_REPS)
    if not (os.path.isfile(runner) and os.access(runner, os.X_OK)):
        raise core.usage(f"cannot execute '{core.printable(runner)}': "
                         + ("not an executable file" if os.path.exists(runner) else "No such file or directory"))
    final, tmp = core.new_run(out, run_id), os.path.join(out, f".tmp-{run_id}")
    signals_begin()
    if os.path.isdir(out):
        clean_stale(out)
    if os.path.lexists(tmp):
        raise core.usage(f"{tmp} exists: another run with this id, or a crashed one (remove it)")
    preflight(runner, cells, matrix, o.timeout)
    make_tmp(out, tmp)
    run = runs.Run(run_id, tmp, cells, reps)
    facts = system.facts()  # what can move the numbers, recorded; a busy machine is said now
    run.meta["system"] = {n: {"value": v, "advice": why} for n, v, why in facts}
    for b in system.busy(facts):
        warn(f"warning: the machine is busy ({b}): timings will be noisy; `memstrat system` says more")
    try:
        warn(f"{len(cells)} cells x {reps} reps (+{o.warmups} warm-up) from {matrix} -> {final}")
        context = run_cells(run, runner, o.timeout, o.warmups, o.order, child_how(o))
        if not _sig and not o.no_floating:
            run_shadows(run, reg, runner, o.timeout, o.quick)
        gcscan_n = o.gcscan_n if o.gcscan_n is not None else (QUICK_GCSCAN_N if o.quick else GCSCAN_N)
        if not _sig and gcscan_n != 0:
            gcscan(tmp, runner, gcscan_n, reps, o.timeout)
        status = -1 if _sig else write_outputs(run, reg, o, (runner, matrix, start, time.time(), context))
    except (OSError, core.Fail) as e:
        disown(tmp)
        raise core.Fail(core.EXIT_FAILED, f"cannot write the run's files ({e}); not published, they are in {tmp}")
    if _sig:
        core.remove_tree(tmp)
        raise core.Fail(128 + _sig, f"interrupted by signal {_sig}; removed {tmp}")
    any_ok = any(rep.ok for reps_ in run.rep for rep in reps_)
    try:
        final, moved = core.publish(tmp, out, run_id, not o.no_latest and any_ok)
    except OSError as e:
        disown(tmp)
        raise core.Fail(core.EXIT_FAILED, f"cannot rename {tmp} to {final}: {e.strerror} (results left in {tmp})")
    disown(final)
    if isinstance(moved, str):
        warn(f"warning: {moved}")
    print_end(run, reg, final, out, moved is True)
    if not any_ok:
        warn(f"every repetition failed: {final} is kept for its logs, not made {out}/latest")
    return core.EXIT_FAILED if run.meta["failures"] or status > 0 else core.EXIT_OK

def plots_only(run_dir):
    """`bench --plots-only RUN_DIR` (`make plots`): tables, plots, report.md redrawn from its files."""
    reg = core.registry()
    run = runs.load_run(run_dir, reg)
    failed = report.render(run, reg, True, "bench")
    if run.plots_status == 0:
        print(f"plots: {run_dir}/plots")
    print(f"report: {run_dir}/report.md")
    return core.EXIT_FAILED if failed else core.EXIT_OK

def parse_args(argv):
    p = core.ArgParser("bench", usage=USAGE, description=ABOUT)
    for flag, kind, text in OPTIONS:
        name, *metavar = flag.split()
        p.add_argument(name, help=text, **({"action": "store_true"} if kind is None else
                                           {"type": kind, "metavar": metavar[0]}))
    p.set_defaults(timeout=DEFAULT_TIMEOUT_S, gcscan_n=None, warmups=DEFAULT_WARMUPS, order=ORDERS[0], aslr="on")
    o = p.parse_args(argv)
    if o.order not in ORDERS:
        raise core.usage(f"--order: '{core.printable(o.order)}' is not interleaved or blocked")
    if o.aslr not in ("on", "off"):
        raise core.usage(f"--aslr: '{core.printable(o.aslr)}' is not on or off")
    if o.pin is not None and not PIN.fullmatch(o.pin):
        raise core.usage(f"--pin: '{core.printable(o.pin)}' is not CPU or CPU,SAMPLER_CPU")
    for flag in (f.split()[0] for f, kind, _ in OPTIONS if kind is str):
        if getattr(o, flag[2:].replace("-", "_")) == "":
            raise core.usage(f"option '{flag}' needs a value")
    return o

def main(argv):
    for stream in (sys.stdout, sys.stderr):  # UTF-8 as the C wrote, whatever the locale
        stream.reconfigure(encoding="utf-8", errors="replace")
    o = parse_args(argv)
    if o.plots_only is not None:
        if any(v not in (None, False) for k, v in vars(o).items() if k not in ("plots_only", "timeout",
                                                                                "gcscan_n", "warmups", "order",
                                                                                "aslr")):
            raise core.usage("--plots-only takes no other options")
        return plots_only(o.plots_only)
    return execute(o)
