"""Unit tests of analysis/gcscan.py, the Python side of `memstrat gcscan`: the table and gc_scan.csv
from rows chosen by the test (stand-in children print them: no measuring), the relay of a failed
child's error as one line with its exit status, options checked before anything runs, and the real
C side's rows when this tree's binary is built."""
import csv
import io
import json
import os
import stat
import subprocess
import sys
import tempfile
import unittest
from contextlib import redirect_stdout

from analysis import core, gcscan
from tests.analysis.rundirs import BINARY, HAVE_BINARY, ROOT, memstrat

# What `memstrat gcscan-measure --n 1000 --reps 3` prints (figures chosen by the test).
C_ROWS = ("shape,side,n,rep,ns_per_object\n"
          "list,memstrat-rc+gen-system,1000,0,4.000\nlist,memstrat-rc+gen-system,1000,1,6.000\n"
          "list,memstrat-rc+gen-system,1000,2,5.000\n"
          "tree,memstrat-rc+gen-system,1000,0,20.000\ntree,memstrat-rc+gen-system,1000,1,16.000\n"
          "tree,memstrat-rc+gen-system,1000,2,18.000\n"
          "tree,memstrat-rc+gen32-system,1000,0,9.000\ntree,memstrat-rc+gen32-system,1000,1,8.000\n"
          "tree,memstrat-rc+gen32-system,1000,2,7.000\n")
# What tools/cpython_gc_scan.py prints, per shape.
PY_NS = {"list": [30.0, 45.5, 40.0], "tree": [36.0, 36.0, 54.0]}


def script(path, body):
    """An executable shell script standing in for a child."""
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body)
    os.chmod(path, stat.S_IRWXU)
    return path


class Stand(unittest.TestCase):
    """A directory with a stand-in measuring binary ($MEMSTRAT), interpreter and tools/."""

    def setUp(self):
        self.t = tempfile.TemporaryDirectory()
        self.d = self.t.name
        os.mkdir(f"{self.d}/tools")
        script(f"{self.d}/tools/{gcscan.SCRIPT}", "")
        self.log = f"{self.d}/ran"  # each stand-in appends its arguments: what ran, and how
        self.binary(f"cat <<'EOF'\n{C_ROWS}EOF\n")
        for shape, ns in PY_NS.items():  # the interpreter's JSON for `--shape SHAPE` ($3)
            with open(f"{self.d}/{shape}.json", "w") as f:
                json.dump({"python": "3.11.9", "shape": shape, "n": 1000, "reps": 3, "ns_per_object": ns}, f)
        self.python = script(f"{self.d}/python", f'echo "$@" >> {self.log}\ncat "{self.d}/$3.json"\n')
        self.env = os.environ.get("MEMSTRAT")
        os.environ["MEMSTRAT"] = f"{self.d}/memstrat"

    def tearDown(self):
        os.environ.pop("MEMSTRAT") if self.env is None else os.environ.update(MEMSTRAT=self.env)
        self.t.cleanup()

    def binary(self, body):
        script(f"{self.d}/memstrat", f'echo "$@" >> {self.log}\n' + body)

    def main(self, *args):
        """gcscan.main's stdout, with the stand-ins."""
        out = io.StringIO()
        with redirect_stdout(out):
            self.assertEqual(gcscan.main(["--cpython", self.python, "--tools", f"{self.d}/tools", *args]), 0)
        return out.getvalue()

    def fails(self, *args):
        with self.assertRaises(core.Fail) as cm:
            self.main(*args)
        self.assertNotIn("\n", str(cm.exception))
        return cm.exception.status, str(cm.exception)

    def ran(self):
        with open(self.log) as f:
            return f.read().splitlines()


class Table(Stand):
    def test_table_and_csv_from_the_rows(self):
        text = self.main("--n", "1000", "--reps", "3", "--out", f"{self.d}/gc_scan.csv")
        self.assertEqual(text.splitlines(), [
            "gc-scan: one full collection over 1000 live objects, ns/object, median [min-max] of 3",
            "shape  rc+gen                   rc+gen header=32         CPython                      ratio    "
            "target <= 15 ns/object",
            "list   5.0 [4.0-6.0]            -                        40.0 [30.0-45.5] 3.11.9      8.00x    met",
            "tree   18.0 [16.0-20.0]         8.0 [7.0-9.0]            36.0 [36.0-54.0] 3.11.9      2.00x    NOT met"])
        self.assertRegex(text, r"(?m)^tree +[0-9.]+ \[.*\] +[0-9.]+ \[.*3\.11.* [0-9.]+x")  # test_bench_e2e's
        with open(f"{self.d}/gc_scan.csv", newline="") as f:
            rows = list(csv.reader(f))
        self.assertEqual(rows[0], ["shape", "side", "n", "rep", "ns_per_object"])
        self.assertEqual(rows[1:4], [r.split(",") for r in C_ROWS.splitlines()[1:4]])  # as the C side wrote them
        self.assertEqual(rows[4:7], [["list", "cpython-3.11.9", "1000", str(r), "%.3f" % v]
                                     for r, v in enumerate(PY_NS["list"])])
        self.assertEqual([r[:2] for r in rows[7:]],
                         [["tree", "memstrat-rc+gen-system"]] * 3 + [["tree", "memstrat-rc+gen32-system"]] * 3
                         + [["tree", "cpython-3.11.9"]] * 3)
        # the C side got every option it checks; the interpreter the C side's shape, n and reps
        tool = f"{self.d}/tools/{gcscan.SCRIPT}"
        self.assertEqual(self.ran(), ["gcscan-measure --n 1000 --reps 3", f"{tool} --shape list --n 1000 --reps 3",
                                      f"{tool} --shape tree --n 1000 --reps 3"])

    def test_without_cpython(self):
        out = io.StringIO()
        with redirect_stdout(out):
            gcscan.main(["--cpython", "none", "--tools", "/nonexistent", "--shapes", "list"])
        self.assertEqual(out.getvalue().splitlines()[2].split(), ["list", "5.0", "[4.0-6.0]", "-", "-", "-", "met"])
        self.assertEqual(self.ran(), ["gcscan-measure --shapes list"])

    def test_table_of_even_reps_and_a_zero(self):
        ours, theirs = ("list", "memstrat-rc+gen-pool", "10"), ("list", "cpython-3.12.1", "10")
        rows = [(*ours, "0", "0.000"), (*ours, "1", "0.000"), (*theirs, "0", "2.000"), (*theirs, "1", "3.000")]
        self.assertEqual(gcscan.table(rows).splitlines()[2].split(), ["list", "0.0", "[0.0-0.0]", "-", "2.5",
                                                                      "[2.0-3.0]", "3.12.1", "infx", "met"])


class Relay(Stand):
    def test_c_child_errors_are_its_own_line_and_status(self):
        for status, line in ((1, "out of memory: an object (list)"), (2, "--n must be 1..100000000, not: 0")):
            with self.subTest(line):
                self.binary(f"echo noise >&2\necho 'memstrat gcscan-measure: {line}' >&2\nexit {status}\n")
                self.assertEqual(self.fails(), (status, line))

    def test_the_user_sees_one_line(self):
        self.binary("echo 'shape,side,n,rep,ns_per_object'\necho 'a warning' >&2\n"
                    "echo 'memstrat gcscan-measure: out of memory: building 100000000 list nodes' >&2\nexit 1\n")
        p = subprocess.run([sys.executable, "-m", "analysis", "gcscan", "--cpython", "none"], capture_output=True,
                           text=True, timeout=120, cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT})
        self.assertEqual((p.returncode, p.stdout, p.stderr),
                         (1, "", "memstrat gcscan: out of memory: building 100000000 list nodes\n"))

    def test_killed_or_garbled_c_child(self):
        self.binary("kill -SEGV $$\n")
        self.assertEqual(self.fails(),
                         (1, f"{self.d}/memstrat gcscan-measure: killed by signal 11 (Segmentation fault)"))
        self.binary("echo 'shape,side,n,rep,ns_per_object'\necho 'list,memstrat-rc+gen-system,10,0,fast'\n")
        status, why = self.fails()
        self.assertEqual(status, 1)
        self.assertIn("unexpected output from", why)

    def test_interpreter_errors(self):
        self.python = script(f"{self.d}/python",
                             "echo 'cpython_gc_scan: 7 tracked objects, expected 1000' >&2\nexit 1\n")
        self.assertEqual(self.fails(), (1, f"{self.python} {gcscan.SCRIPT} --shape list: exit status 1: "
                                        "cpython_gc_scan: 7 tracked objects, expected 1000; pass --cpython none to "
                                        "skip CPython"))
        self.python = script(f"{self.d}/python", "echo '{\"python\": \"3.11.9\", \"ns_per_object\": [1.0]}'\n")
        self.assertIn("unexpected output from", self.fails()[1])  # one figure where 3 were asked for

    def test_checked_before_anything_runs(self):
        os.mkfifo(f"{self.d}/fifo")
        self.assertEqual(self.fails("--out", f"{self.d}/fifo"),
                         (2, f"--out '{self.d}/fifo' is a FIFO; give a regular file or a new path"))
        self.python = "/nonexistent/python"
        self.assertEqual(self.fails(), (2, "no executable interpreter (or --cpython none): /nonexistent/python"))
        self.python = sys.executable
        self.assertEqual(self.fails("--tools", self.d)[0], 2)
        self.assertFalse(os.path.exists(self.log))
        self.assertTrue(stat.S_ISFIFO(os.stat(f"{self.d}/fifo").st_mode))


@unittest.skipUnless(HAVE_BINARY, f"no {BINARY}")
class RealMeasure(unittest.TestCase):
    def test_rows_of_the_c_side(self):
        p = memstrat("gcscan-measure", "--n", 500, "--reps", 2, "--shapes", "tree", "--alloc", "pool")
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        self.assertEqual(lines[0], "shape,side,n,rep,ns_per_object")
        self.assertEqual([ln.rsplit(",", 1)[0] for ln in lines[1:]], ["tree,memstrat-rc+gen-pool,500,0",
                                                                     "tree,memstrat-rc+gen-pool,500,1",
                                                                     "tree,memstrat-rc+gen32-pool,500,0",
                                                                     "tree,memstrat-rc+gen32-pool,500,1"])
        self.assertTrue(all(gcscan.C_ROW.fullmatch(ln) for ln in lines[1:]))
        for args, want in ((("--shapes", "list,list"), "shape given twice: list"), (("--reps", "0"), "--reps must be")):
            p = memstrat("gcscan-measure", *args)
            self.assertEqual((p.returncode, p.stdout, p.stderr.count("\n")), (2, "", 1))
            self.assertIn(f"memstrat gcscan-measure: {want}", p.stderr)


if __name__ == "__main__":
    unittest.main()
