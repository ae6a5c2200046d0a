"""gcscan.py — `memstrat gcscan`: what one full collection of a live heap costs per object, under
rc+gen and under real CPython, side by side.

Contract: two children measure, one process each (bench's child runner): `memstrat
gcscan-measure` (harness/gc_scan.c: the rc+gen rows) and, unless --cpython none,
tools/cpython_gc_scan.py in that interpreter (the same shapes, n and repetitions; JSON). This
module owns --cpython, --tools and --out and checks them before anything runs; every other
option (--n, --reps, --shapes, --alloc) goes to the C side as given, which checks it. A failed
child ends the command with one line: the C child's last stderr line with its exit status (bad
input 2, out of memory or a failed measurement 1), or the interpreter's with exit 1. Then --out
gets gc_scan.csv (shape,side,n,rep,ns_per_object; sides memstrat-rc+gen-<alloc> and
cpython-<version>; the C side's figures as it wrote them), atomically, and stdout the table: per
shape, median [min-max] ns/object of each side, the ratio CPython / rc+gen, issue 3's target.
"""
import json, math, os, re, shutil  # noqa: E401

from . import bench, core, tables

# Issue 3's target: a full collection under rc+gen costs at most 15 ns per object.
TARGET_NS = 15
HEAD = ("shape", "side", "n", "rep", "ns_per_object")
MEASURE = "gcscan-measure"  # the binary's subcommand that measures the rc+gen side
SCRIPT = "cpython_gc_scan.py"
# A row as gc_scan.c prints it: anything else is not from the measuring side we know.
C_ROW = re.compile(r"[a-z]+,memstrat-[^,\s]+,[0-9]+,[0-9]+,[0-9]+\.[0-9]+")
FMT = "%-6s %-28s %-28s %-8s %s\n"

def run_child(argv):
    """(how it ended, its stdout, its last stderr line); both streams kept in memory."""
    with open(os.memfd_create("memstrat-gcscan-out", os.MFD_CLOEXEC), "w+b") as fo, \
            open(os.memfd_create("memstrat-gcscan-err", os.MFD_CLOEXEC), "w+b") as fe:
        ch = bench.spawn_wait(argv, fo, fe, math.inf)
        fo.seek(0)
        out, last = fo.read().decode("utf-8", "replace"), bench.last_line(fe.fileno())
    if ch.interrupted:
        raise core.Fail(128 + bench._sig, f"interrupted by signal {bench._sig}")
    return ch, out, last

def measure(binary, args):
    """The C side's rows (tuples of its strings); its failure relayed as its own one line."""
    ch, out, last = run_child([binary, MEASURE, *args])
    if ch.status in (core.EXIT_FAILED, core.EXIT_USAGE) and last:
        # "memstrat gcscan-measure: WHY" reaches the user as "memstrat gcscan: WHY"
        raise core.Fail(ch.status, re.sub(r"^memstrat [\w+-]+: ", "", last))
    if ch.status != 0:
        raise core.Fail(core.EXIT_FAILED, f"{core.printable(binary)} {MEASURE}: {ch.why}"
                        + (f": {last}" if last else ""))
    lines = out.splitlines()
    if lines[:1] != [",".join(HEAD)] or len(lines) < 2 or not all(C_ROW.fullmatch(ln) for ln in lines[1:]):
        raise core.Fail(core.EXIT_FAILED, f"unexpected output from {core.printable(binary)} {MEASURE}: "
                        f"{core.printable(out)}")
    return [tuple(ln.split(",")) for ln in lines[1:]]

def cpython(interp, script, shape, n, reps):
    """The interpreter's rows for one shape; its failure is one line naming it (exit 1)."""
    ch, out, last = run_child([interp, script, "--shape", shape, "--n", n, "--reps", str(reps)])
    if ch.status != 0:
        raise core.Fail(core.EXIT_FAILED, f"{core.printable(interp)} {SCRIPT} --shape {shape}: {ch.why}"
                        + (f": {last}" if last else "") + "; pass --cpython none to skip CPython")
    try:
        doc = json.loads(out)
        ns, side = [float(v) for v in doc["ns_per_object"]], f"cpython-{doc['python']}"
    except (ValueError, KeyError, TypeError):
        ns = None
    if ns is None or len(ns) != reps:
        raise core.Fail(core.EXIT_FAILED, f"unexpected output from {core.printable(interp)} {SCRIPT}: "
                        f"{core.printable(out)}")
    return [(shape, side, n, str(r), "%.3f" % v) for r, v in enumerate(ns)]

def table(rows):
    """gc_scan.txt: one line per shape, figures from the rows (so also from a gc_scan.csv)."""
    shapes = list(dict.fromkeys(r[0] for r in rows))
    reps = sum(r[0] == shapes[0] and r[1].startswith("memstrat-") for r in rows)
    out = [f"gc-scan: one full collection over {rows[0][2]} live objects, ns/object, median [min-max] of {reps}\n",
           FMT % ("shape", "rc+gen", "CPython", "ratio", f"target <= {TARGET_NS} ns/object")]
    for shape in shapes:
        med, lo, hi = core.spread([float(r[4]) for r in rows if r[0] == shape and r[1].startswith("memstrat-")])
        py = [r for r in rows if r[0] == shape and r[1].startswith("cpython-")]
        theirs = ratio = "-"
        if py:
            pmed, plo, phi = core.spread([float(r[4]) for r in py])
            theirs = "%.1f [%.1f-%.1f] %s" % (pmed, plo, phi, core.printable(py[0][1].removeprefix("cpython-")))
            ratio = "%.2fx" % tables.ratio(pmed, med)
        out.append(FMT % (shape, "%.1f [%.1f-%.1f]" % (med, lo, hi), theirs, ratio,
                          "met" if med <= TARGET_NS else "NOT met"))
    return "".join(out)

def main(argv):
    p = core.ArgParser("gcscan", usage="memstrat gcscan [--n N] [--reps R] [--shapes list,tree] [--alloc NAME] "
                       "[--cpython PY|none] [--tools DIR] [--out FILE]",
                       description="One full collection over a live heap, ns/object: rc+gen beside CPython.",
                       epilog=f"--n (default 1000000), --reps (5), --shapes, --alloc (system): see memstrat {MEASURE}.")
    p.add_argument("--cpython", default="python3.11", help="interpreter of the CPython side, or none")
    p.add_argument("--tools", default=os.path.join(bench.SOURCE_DIR, "tools"), help=f"directory of {SCRIPT}")
    p.add_argument("--out", help="also write every row here (CSV)")
    o, rest = p.parse_known_args(argv)
    script = os.path.join(o.tools, SCRIPT)
    if o.cpython != "none" and shutil.which(o.cpython) is None:
        raise core.usage(f"no executable interpreter (or --cpython none): {core.printable(o.cpython)}")
    if o.cpython != "none" and not os.path.isfile(script):
        raise core.usage(f"--tools '{core.printable(o.tools)}' holds no {SCRIPT}")
    if o.out is not None:
        core.check_output_path(o.out, "--out")
    bench.signals_begin()
    rows = measure(core.memstrat_binary(), rest)
    if o.cpython != "none":  # each shape's CPython rows after its rc+gen rows, same n and reps
        by_shape = {}
        for r in rows:
            by_shape.setdefault(r[0], []).append(r)
        rows = []
        for shape, own in by_shape.items():
            rows += own + cpython(o.cpython, script, shape, own[0][2], len(own))
    if o.out is not None:
        core.write_csv(o.out, HEAD, rows)
    print(table(rows), end="")
    return core.EXIT_OK
