"""analysis/merge.py end to end on synthetic runs: the union of cells (first input wins, with a
warning), files copied, results/summary regenerated, meta.json with merged_from, DIR/latest
untouched, the merged run readable by the one loader; refusals (same reps, given twice, taken run
id); and the defects of issue 12 item 5: a damaged input (garbage repetition JSON in the first
input, truncated meta.json, fractional reps, a FIFO among the files) is refused with one line
naming file and field, and --out that is an input run, inside one or any run directory is
refused; every refusal is exit 2, one stderr line, nothing written."""
import csv
import json
import os
import shutil
import tempfile
import unittest

from analysis import core, runs
from tests.analysis.rundirs import (BINARY, HAVE_BINARY, edit_meta, make_run, memstrat, read, rep_path, tree,
                                    write)

X, Y, W = "list/rc+gen/system/slots/n=10", "list/none/system/slots/n=10", "ring/rc/system/slots/n=10"


class Loader(unittest.TestCase):
    """The one loader merge and compare share: a meta.json cut anywhere is called truncated."""

    def test_meta_cut_anywhere(self):
        with tempfile.TemporaryDirectory() as t:
            make_run(t, {X: [1, 2]}, 2, cpu="caf\u00e9")
            doc = read(f"{t}/meta.json").encode()
            for cut in range(1, len(doc.rstrip()) - 1):
                with open(f"{t}/meta.json", "wb") as f:
                    f.write(doc[:cut])
                with self.assertRaises(core.Fail, msg=cut) as e:
                    runs.load_run(t)
                self.assertRegex(str(e.exception), r"meta.json: (does not parse as JSON \(truncated|is not UTF-8)")
            write(f"{t}/meta.json", '{"run_id": x, "reps": 2}')  # damaged in the middle: named as such
            with self.assertRaisesRegex(core.Fail, r"meta.json: does not parse as JSON \(Expecting value at line 1"):
                runs.load_run(t)


@unittest.skipUnless(HAVE_BINARY, f"{BINARY} not built")
class Merge(unittest.TestCase):
    def setUp(self):
        self.t = tempfile.mkdtemp(prefix="test_merge.")
        self.addCleanup(shutil.rmtree, self.t)
        self.out = f"{self.t}/results"
        os.makedirs(f"{self.out}/bench-run")
        os.symlink("bench-run", f"{self.out}/latest")
        self.a = make_run(f"{self.t}/a", {X: [10, 11, 12], Y: [5, 6, 7]}, 3)
        self.b = make_run(f"{self.t}/b", {Y: [50, 60, 70], W: [1, 2, None]}, 3, cpu="Test CPU 2",
                          started="2025-06-01T00:00:00Z")
        self.inputs = {d: tree(d) for d in (self.a, self.b)}

    def tearDown(self):
        for d, files in self.inputs.items():
            if os.path.isdir(d) and not any(os.path.exists(p) and not os.path.isfile(p)
                                            for p in (os.path.join(d, f) for f in files)):
                self.assertEqual(tree(d), files, f"merge changed its input {d}")

    def nothing_written(self, run_id):
        self.assertEqual(sorted(os.listdir(self.out)), ["bench-run", "latest"], run_id)

    def refused(self, p, *words):
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)
        for w in words:
            self.assertIn(w, p.stderr)

    def test_union(self):
        p = memstrat("merge", self.a, self.b, "--out", self.out, "--run-id", "m", "--no-plots")
        self.assertEqual(p.returncode, 0, p.stderr)
        m = f"{self.out}/m"
        self.assertIn(f"memstrat merge: warning: {Y} is in {self.a} and {self.b}; kept the first\n", p.stderr)
        self.assertIn(f"warning: {self.a} ran on 'Test CPU 1', {self.b} on 'Test CPU 2'", p.stderr)
        self.assertIn(f"merged: 2 runs, 3 cells x 3 reps, 16 files copied -> {m}\n", p.stdout)
        meta = json.loads(read(f"{m}/meta.json"))
        self.assertEqual(meta["matrix"]["cells"], [X, Y, W])
        self.assertEqual((meta["run_id"], meta["reps"], meta["started_utc"]), ("m", 3, "2025-06-01T00:00:00Z"))
        self.assertEqual([(s["dir"], s["machine"]["cpu_model"], s["git_commit"]) for s in meta["merged_from"]],
                         [(os.path.realpath(self.a), "Test CPU 1", "c0ffee"), (os.path.realpath(self.b), "Test CPU 2",
                                                                                "c0ffee")])
        self.assertEqual([(f["cell"], f["rep"]) for f in meta["failures"]], [(W, 3)])
        self.assertEqual(read(rep_path(m, Y, 2)), read(rep_path(self.a, Y, 2)))  # the first input's Y
        self.assertEqual(read(rep_path(m, W, 1, "timeline", ".csv")), read(rep_path(self.b, W, 1, "timeline", ".csv")))
        results = list(csv.DictReader(read(f"{m}/results.csv").splitlines()))
        self.assertEqual([(r["run_id"], r["cell"], r["rep"]) for r in results][-2:], [("m", W, "1"), ("m", W, "2")])
        self.assertEqual(len(results), 8)
        summary = {r["cell"]: r for r in csv.DictReader(read(f"{m}/summary.csv").splitlines())}
        self.assertEqual((summary[Y]["time_median_ms"], summary[W]["reps"]), ("6", "2"))
        self.assertEqual(os.readlink(f"{self.out}/latest"), "bench-run")
        self.assertEqual(sorted(os.listdir(self.out)), ["bench-run", "latest", "m"])
        again = runs.load_run(m)  # the merged run is a run: merge and compare read it back
        self.assertEqual(again.values(again.index(Y), "real_time_ms"), [5, 6, 7])

    def test_refusals(self):
        make_run(f"{self.t}/r2", {X: [1, 2]}, 2)
        self.refused(memstrat("merge", self.a, f"{self.t}/r2", "--out", self.out, "--run-id", "x"), "same --reps")
        self.refused(memstrat("merge", self.a, f"{self.t}/a/", "--out", self.out, "--run-id", "x"), "given twice")
        self.refused(memstrat("merge", f"{self.t}/none", "--out", self.out, "--run-id", "x"), "not a run directory")
        self.refused(memstrat("merge", self.a, "--out", self.out, "--run-id", "latest"), "bad run id")
        self.nothing_written("x")
        self.refused(memstrat("merge", self.a, "--out", self.out, "--run-id", "bench-run"), "already exists")

    # -- item 5: merge trusted a damaged input -------------------------------------------------
    def test_garbage_in_first_input_does_not_win(self):
        write(rep_path(self.a, Y, 1), "garbage")  # B has a good Y: C took A's, a failed repetition
        self.inputs[self.a] = tree(self.a)
        self.refused(memstrat("merge", self.a, self.b, "--out", self.out, "--run-id", "g"),
                     rep_path(self.a, Y, 1), "does not parse")
        self.nothing_written("g")

    def test_truncated_meta_is_named_as_such(self):
        path = f"{self.b}/meta.json"
        write(path, read(path)[:40])
        self.inputs[self.b] = tree(self.b)
        self.refused(memstrat("merge", self.a, self.b, "--out", self.out, "--run-id", "t"),
                     path, "does not parse as JSON (truncated")
        self.nothing_written("t")

    def test_fractional_reps_are_refused(self):
        edit_meta(self.a, reps=2.5)
        self.inputs[self.a] = tree(self.a)
        self.refused(memstrat("merge", self.a, "--out", self.out, "--run-id", "f"), "field 'reps'", "2.5")
        self.nothing_written("f")

    def test_fifo_among_the_files_does_not_hang(self):
        for sub, suffix in (("json", ".json"), ("timeline", ".csv")):
            with self.subTest(sub):
                p = rep_path(self.b, W, 1, sub, suffix)
                saved = read(p)
                os.remove(p)
                os.mkfifo(p)
                self.refused(memstrat("merge", self.a, self.b, "--out", self.out, "--run-id", "q", timeout=30),
                             p, "not a regular file")
                self.nothing_written("q")
                os.remove(p)
                write(p, saved)

    # -- item 5: `merge A B --out A` wrote inside an existing run --------------------------------
    def test_out_never_inside_a_run(self):
        other = make_run(f"{self.t}/other", {X: [1, 2, 3]}, 3)
        self.inputs[other] = tree(other)
        for out in (self.a, f"{self.a}/json", f"{self.a}/new/deeper", other, f"{self.out}/latest"):
            with self.subTest(out):
                os.makedirs(f"{self.out}/bench-run/json", exist_ok=True)  # a run: meta.json beside json/
                write(f"{self.out}/bench-run/meta.json", read(f"{other}/meta.json"))  # latest -> a run
                self.refused(memstrat("merge", self.a, self.b, "--out", out, "--run-id", "in"), "run directory")
                self.assertFalse(os.path.lexists(f"{out}/in") or os.path.lexists(f"{out}/.tmp-in"))
                self.assertFalse(os.path.lexists(f"{self.a}/new"))
                os.remove(f"{self.out}/bench-run/meta.json")
        self.nothing_written("in")


if __name__ == "__main__":
    unittest.main()
