"""gcscan.py — `memstrat gcscan`: one full collection of a live heap, ns per object, rc+gen beside CPython.

Contract: two children measure (bench.capture): `memstrat gcscan-measure` (harness/gc_scan.c) prints
the rc+gen rows; tools/cpython_gc_scan.py, in the --cpython interpreter unless none, measures the same
shapes, n and repetitions and prints JSON. --cpython, --tools and --out are checked here before
anything runs, every other option by the C side. A failed child ends the command with one line: the
C child's last stderr line and exit status (2 bad input, 1 out of memory or a failed measurement),
the interpreter's with exit 1. Then --out gets gc_scan.csv (shape,side,n,rep,ns_per_object; sides
memstrat-rc+gen-<alloc> (CPython's 16-byte head and passes, rc+gen's default) and
memstrat-rc+gen32-<alloc> (header=32) as the C side wrote them, and cpython-<version>), atomically,
and stdout the table: per shape, median [min-max] of each side, the ratio CPython / rc+gen (the
default head) and issue 3's target, judged on the default head.
"""
import json, math, os, re, shutil  # noqa: E401

from . import bench, core, tables

TARGET_NS = 15  # issue 3: a full collection under rc+gen costs at most 15 ns per object
HEAD = "shape,side,n,rep,ns_per_object"
MEASURE, SCRIPT = "gcscan-measure", "cpython_gc_scan.py"  # the two measuring sides
C_ROW = re.compile(r"[a-z]+,memstrat-[^,\s]+,[0-9]+,[0-9]+,[0-9]+\.[0-9]+")  # a row as gc_scan.c prints it
LINE = "%-6s %-24s %-24s %-28s %-8s %s\n"
SIDE16, SIDE32 = "memstrat-rc+gen-", "memstrat-rc+gen32-"  # the C side's two heads

def measure(binary, args):
    """The C side's rows, as tuples of its strings; its failure relayed as its own one line."""
    ch, out, last = bench.capture([binary, MEASURE, *args], math.inf)
    if ch.status in (core.EXIT_FAILED, core.EXIT_USAGE) and last:  # "memstrat gcscan-measure: WHY" -> WHY
        raise core.Fail(ch.status, re.sub(r"^memstrat [\w+-]+: ", "", last))
    if ch.status != 0:  # killed, or could not start
        raise core.Fail(core.EXIT_FAILED, f"{core.printable(binary)} {MEASURE}: {ch.why}"
                        + (f": {last}" if last else ""))
    lines = out.splitlines()
    if lines[:1] != [HEAD] or len(lines) < 2 or not all(map(C_ROW.fullmatch, lines[1:])):
        raise core.Fail(core.EXIT_FAILED, f"unexpected output from {core.printable(binary)} {MEASURE}: "
                        f"{core.printable(out)}")
    return [tuple(ln.split(",")) for ln in lines[1:]]

def cpython(interp, script, own):
    """The interpreter's rows for the shape, n and repetitions of the C side's rows `own`."""
    shape, n, reps = own[0][0], own[0][2], sum(r[1] == own[0][1] for r in own)
    ch, out, last = bench.capture([interp, script, "--shape", shape, "--n", n, "--reps", str(reps)], math.inf)
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
    """gc_scan.txt from the rows (gc_scan.csv's): one line per shape."""
    shapes = list(dict.fromkeys(r[0] for r in rows))
    reps = sum(r[0] == shapes[0] and r[1].startswith(SIDE16) for r in rows)
    out = [f"gc-scan: one full collection over {rows[0][2]} live objects, ns/object, median [min-max] of {reps}\n",
           LINE % ("shape", "rc+gen", "rc+gen header=32", "CPython", "ratio", f"target <= {TARGET_NS} ns/object")]
    for shape in shapes:
        mine = [r for r in rows if r[0] == shape]
        med, lo, hi = core.spread([float(r[4]) for r in mine if r[1].startswith(SIDE16)])
        roomy = [float(r[4]) for r in mine if r[1].startswith(SIDE32)]
        wide = "%.1f [%.1f-%.1f]" % core.spread(roomy) if roomy else "-"
        py = [r for r in mine if r[1].startswith("cpython-")]
        theirs = ratio = "-"
        if py:
            pmed, plo, phi = core.spread([float(r[4]) for r in py])
            theirs = "%.1f [%.1f-%.1f] %s" % (pmed, plo, phi, core.printable(py[0][1].removeprefix("cpython-")))
            ratio = "%.2fx" % tables.ratio(pmed, med)
        out.append(LINE % (shape, "%.1f [%.1f-%.1f]" % (med, lo, hi), wide, theirs, ratio,
                           "met" if med <= TARGET_NS else "NOT met"))
    return "".join(out)

def main(argv):
    p = core.ArgParser("gcscan", usage="memstrat gcscan [--n N] [--reps R] [--shapes list,tree] [--alloc NAME] "
                       "[--cpython PY|none] [--tools DIR] [--out FILE]", epilog="--n (default 1000000), --reps (5), "
                       f"--shapes (list,tree), --alloc (system): checked by memstrat {MEASURE}.",
                       description="One full collection over a live heap, ns/object: rc+gen beside CPython.")
    p.add_argument("--cpython", default="python3.11", metavar="PY", help="interpreter of the CPython side, or none")
    p.add_argument("--tools", default=os.path.join(bench.SOURCE_DIR, "tools"), metavar="DIR", help=f"where {SCRIPT} is")
    p.add_argument("--out", metavar="FILE", help="also write every row here (CSV)")
    o, rest = p.parse_known_args(argv)
    script = os.path.join(o.tools, SCRIPT)
    if o.cpython != "none" and shutil.which(o.cpython) is None:
        raise core.usage(f"no executable interpreter (or --cpython none): {core.printable(o.cpython)}")
    if o.cpython != "none" and not os.path.isfile(script):
        raise core.usage(f"--tools '{core.printable(o.tools)}' holds no {SCRIPT}")
    if o.out is not None:
        core.check_output_path(o.out, "--out")
    bench.signals_begin()
    rows, by_shape = measure(core.memstrat_binary(), rest), {}
    for r in rows:
        by_shape.setdefault(r[0], []).append(r)
    if o.cpython != "none":  # each shape's CPython rows after its rc+gen rows
        rows = [r for own in by_shape.values() for r in own + cpython(o.cpython, script, own)]
    if o.out is not None:
        core.write_csv(o.out, HEAD.split(","), rows)
    print(table(rows), end="")
    return core.EXIT_OK
