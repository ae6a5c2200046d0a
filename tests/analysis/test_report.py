"""Tests of analysis/report.py, plots.py and tables.py on small synthetic run directories
(meta.json + json/ in Google Benchmark's format, pauses/ and timeline/ CSVs), rendered with the
real registry of build/memstrat: degenerate data is skipped with a line (never a gnuplot
failure), report.md has a row per cell and links only files that exist, the rc+gen/pool
reference normalises to exactly 1, pause kinds follow the registry, the tables pair the cells
they should. Run from the source root:
    /usr/bin/python3 -m unittest discover -s tests/analysis -t .
"""
import contextlib
import csv
import io
import json
import os
import re
import shutil
import tempfile
import unittest

from analysis import core, plots, report, runs, tables

HAVE_GNUPLOT = shutil.which("gnuplot") is not None


def make_run(root, run_id, cells, reps=2, failed=(), counters=None, pauses=None, timelines=True):
    """A published-looking run directory. counters(cell, rep) -> dict of counters (default: a
    full set); pauses: {cell: [(t_ms, duration_us, generation), ...]} for every repetition;
    failed: cells whose every repetition failed (no JSON)."""
    d = os.path.join(root, run_id)
    for sub in ("json", "pauses", "timeline", "plots"):
        os.makedirs(os.path.join(d, sub))
    meta = {"run_id": run_id, "reps": reps, "matrix": {"cells": cells}, "started_utc": "2026-01-01T00:00:00Z",
            "finished_utc": "2026-01-01T00:01:00Z", "git": {"commit": "abc", "dirty": False},
            "machine": {"cpu_model": "Test CPU", "cores": 2, "mem_total_mb": 1024, "kernel": "Linux"},
            "build": {"compiler": "GNU 12", "flags": "-O3", "build_type": "Release"},
            "libraries": {"gnuplot": {"version": "5.4"}}, "failures": [], "cv_warnings": []}
    with open(os.path.join(d, "meta.json"), "w") as f:
        json.dump(meta, f)
    for n, cell in enumerate(cells):
        slug = core.Cell(cell).slug
        for r in range(1, reps + 1):
            if cell in failed:
                continue
            ms = 10.0 * (n + 1) * (1 + 0.001 * r)
            cnt = counters(cell, r) if counters else {
                "ops_per_s": 1e6 / ms, "rss_peak_mb": 5.0 + n, "pause_p99_us": 10.0 * n, "pause_max_us": 20.0 * n,
                "pause_total_ms": 0.5 * n, "leaked_objects": 0, "ns_per_pair": 50.0 + n}
            entry = {"name": cell, "run_type": "iteration", "real_time": ms, "cpu_time": ms, "time_unit": "ms", **cnt}
            with open(os.path.join(d, "json", f"{slug}.rep{r}.json"), "w") as f:
                json.dump({"context": {}, "benchmarks": [entry]}, f)
            if timelines:
                with open(os.path.join(d, "timeline", f"{slug}.rep{r}.csv"), "w") as f:
                    f.write("t_ms,rss_mb\n" + "".join(f"{t},{5 + t / 10}\n" for t in range(20)))
            if pauses and cell in pauses:
                with open(os.path.join(d, "pauses", f"{slug}.rep{r}.csv"), "w") as f:
                    f.write("t_ms,duration_us,generation,collected\n"
                            + "".join(f"{t},{u},{g},0\n" for t, u, g in pauses[cell]))
    return d


class RenderCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.reg = core.registry()  # build/memstrat must exist: the facts come from it

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="memstrat-test-report.")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    @classmethod
    def render(cls, d, **kw):
        """(status, stderr lines, report.md text) of rendering run directory d, with the CSVs the
        driver writes before it (the report links them)."""
        run, err = runs.load_run(d, cls.reg), io.StringIO()
        run.write_results_csv(os.path.join(d, "results.csv"))
        run.write_summary_csv(os.path.join(d, "summary.csv"))
        with contextlib.redirect_stderr(err):
            rc = report.render(run, cls.reg, **kw)
        with open(os.path.join(d, "report.md"), encoding="utf-8") as f:
            return rc, err.getvalue().splitlines(), f.read()


@unittest.skipUnless(HAVE_GNUPLOT, "gnuplot not installed")
class Degenerate(RenderCase):
    """Item 5: degenerate data is skipped with a line saying so, never a gnuplot failure."""

    def assert_clean(self, rc, err):
        self.assertEqual(rc, 0, err)
        self.assertFalse([e for e in err if "failed" in e], err)

    def test_one_cell_workload(self):
        d = make_run(self.tmp, "one", ["list/rc+gen/system/slots/n=10"])
        rc, err, md = self.render(d)
        self.assert_clean(rc, err)
        self.assertIn("memstrat bench: plot list-pause_cdf skipped: no cell of list paused", err)
        self.assertTrue(os.path.getsize(os.path.join(d, "plots", "list-throughput.png")))
        self.assertIn("![list throughput](plots/list-throughput.png)", md)
        self.assertNotIn("list-pause_cdf", md)

    def test_every_cell_failed(self):
        cells = ["list/none/system/slots", "list/rc/system/slots"]
        d = make_run(self.tmp, "dead", cells, failed=cells)
        rc, err, md = self.render(d)
        self.assert_clean(rc, err)
        self.assertIn("memstrat bench: no cell has results; skipping plots", err)
        self.assertIn("## Cells without results", md)
        self.assertNotIn("## Workload", md)
        self.assertEqual(os.listdir(os.path.join(d, "plots")), [])

    def test_no_pauses_and_no_numbers(self):
        """No cell paused and no counters at all: the stats of throughput, rss_peak and pareto
        would find no valid point ("undefined variable: LO_records")."""
        cells = ["ring/rc/system/slots", "ring/none/system/slots"]
        d = make_run(self.tmp, "bare", cells, counters=lambda c, r: {}, timelines=False)
        rc, err, md = self.render(d)
        self.assert_clean(rc, err)
        for p in ("ring-throughput", "ring-pause_cdf", "ring-pause_timeline", "ring-rss_timeline", "ring-rss_peak",
                  "ring-pareto", "throughput", "rss_peak"):
            self.assertTrue(any(e.startswith(f"memstrat bench: plot {p} skipped: ") for e in err), (p, err))
        self.assertIn("*No plots for this workload", md)
        self.assertEqual(len(re.findall(r"^\| `ring/", md, re.M)), 2)

    def test_unwritable_report_is_one_warning(self):
        d = make_run(self.tmp, "ro", ["list/rc+gen/system/slots"])
        os.mkdir(os.path.join(d, "report.md"))
        run, err = runs.load_run(d, self.reg), io.StringIO()
        with contextlib.redirect_stderr(err):
            rc = report.render(run, self.reg, plots=False)
        self.assertEqual(rc, 0)
        self.assertEqual([e for e in err.getvalue().splitlines() if "report.md" in e],
                         [e for e in err.getvalue().splitlines() if e.startswith("memstrat bench: warning: report.md")])
        self.assertEqual(len([e for e in err.getvalue().splitlines() if "report.md" in e]), 1)


class NoiseFloor(RenderCase):
    """The machine table names the run's noise floor when the floor cell ran, and only then."""

    def test_floor_row(self):
        cells = [report.FLOOR_CELL, "list/rc+gen/system/slots"]
        times = {report.FLOOR_CELL: [20.0, 24.0, 16.0], "list/rc+gen/system/slots": [100.0, 100.5, 99.5]}
        d = make_run(self.tmp, "floor", cells, reps=3)
        for cell, ts in times.items():  # the floor at CV 20.0% (sample), the list cell at 0.5%
            for r, t in enumerate(ts, 1):
                path = os.path.join(d, "json", f"{core.Cell(cell).slug}.rep{r}.json")
                with open(path) as f:
                    doc = json.load(f)
                doc["benchmarks"][0]["real_time"] = t
                with open(path, "w") as f:
                    json.dump(doc, f)
        rc, err, md = self.render(d, plots=False)
        self.assertEqual(rc, 0, err)
        row = [ln for ln in md.splitlines() if ln.startswith("| noise floor |")]
        self.assertEqual(len(row), 1, md)
        self.assertIn("time CV 20.0% of `churn/none/void/slots/live=10k/rounds=100`", row[0])
        self.assertIn("1 of 2 cells at CV ≤ 5%", row[0])

    def test_no_floor_cell_no_row(self):
        d = make_run(self.tmp, "nofloor", ["list/rc+gen/system/slots"], reps=3)
        rc, err, md = self.render(d, plots=False)
        self.assertEqual(rc, 0, err)
        self.assertNotIn("noise floor", md)


class FailingPlot(RenderCase):
    """A gnuplot that fails halfway: render returns 1, names the plot, and leaves no half image."""

    def test_failed_plot(self):
        bindir = os.path.join(self.tmp, "bin")
        os.mkdir(bindir)
        with open(os.path.join(bindir, "gnuplot"), "w") as f:  # writes a partial PNG, then dies
            f.write('#!/bin/sh\nexpr "$2" : ".*outname=\'list-throughput\'" > /dev/null || exit 0\n'
                    'echo partial > "$(echo "$2" | sed "s/.*outdir=\'\\([^\']*\\)\'.*/\\1/")/list-throughput.png"\n'
                    'echo "line 41: boom" >&2\nexit 1\n')
        os.chmod(os.path.join(bindir, "gnuplot"), 0o755)
        d = make_run(self.tmp, "bad", ["list/rc+gen/system/slots"])
        old = os.environ["PATH"]
        os.environ["PATH"] = bindir + os.pathsep + old
        try:
            rc, err, md = self.render(d)
        finally:
            os.environ["PATH"] = old
        self.assertEqual(rc, 1)
        self.assertIn("memstrat bench: plot list-throughput (norm_throughput.gp) failed (exit 1): line 41: boom", err)
        self.assertFalse(os.path.exists(os.path.join(d, "plots", "list-throughput.png")))
        self.assertNotIn("list-throughput", md)


class Outcome(RenderCase):
    """What a normal run's report, data files and tables say."""
    CELLS = ["ring/none/pool/slots/n=20", "ring/rc+gen/pool/slots/n=20", "ring/rc+incr/pool/slots/n=20/policy=auto",
             "ring/boehm/pool/slots/n=20", "ring/rc+gen/system/slots/n=20", "ring/rc/pool/slots/n=20",
             "churn/none/pool/slots", "churn/none/mimalloc/slots", "churn/none/pymalloc/slots"]
    PAUSES = {"ring/rc+gen/pool/slots/n=20": [(1, 5, 0), (2, 50, 1), (3, 500, 2)],
              "ring/rc+incr/pool/slots/n=20/policy=auto": [(1, 7, 1), (2, 70, 2)],
              "ring/boehm/pool/slots/n=20": [(1, 9, 0)]}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = tempfile.mkdtemp(prefix="memstrat-test-report.")
        cls.d = make_run(cls.root, "ok", cls.CELLS + ["ring/rc+trial/pool/slots/n=20"], reps=3,
                         pauses=cls.PAUSES, failed=["ring/rc+trial/pool/slots/n=20"])
        cls.rc, cls.err, cls.md = cls.render(cls.d, plots=HAVE_GNUPLOT)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)

    def test_one_row_per_cell_and_sections(self):
        for c in self.CELLS + ["ring/rc+trial/pool/slots/n=20"]:
            self.assertEqual(self.md.count(f"| `{c}` |"), 1, c)
        self.assertEqual(re.findall(r"^## Workload `(\w+)`", self.md, re.M), ["ring", "churn"])
        self.assertIn("| `ring/rc+trial/pool/slots/n=20` | 0 | FAILED |", self.md)
        self.assertIn("- `ring/rc+trial/pool/slots/n=20`: every repetition failed", self.md)
        self.assertIn("| CPU | Test CPU |", self.md)
        self.assertRegex(self.md, r"- time, `ring/rc/pool/slots/n=20` vs `ring/none/pool/slots/n=20` \(LBO baseline\): "
                                  r"`ring/rc/pool/slots/n=20` is \*\*\d+\.\d\d× slower\*\*")

    def test_links_resolve(self):
        links = re.findall(r"\]\(([^)]*)\)", self.md)
        self.assertTrue(links)
        for link in links:
            self.assertTrue(os.path.exists(os.path.join(self.d, link)), link)
        if HAVE_GNUPLOT:
            self.assertEqual(self.rc, 0, self.err)
            self.assertIn("plots/ring-pareto.png", links)
            self.assertTrue(os.path.getsize(os.path.join(self.d, "plots", "ring-pareto.svg")))
            self.assertFalse([n for n in os.listdir(os.path.join(self.d, "plots")) if n.startswith(".tmp")])

    @unittest.skipUnless(HAVE_GNUPLOT, "gnuplot not installed")
    def test_reference_normalises_to_one(self):
        with open(os.path.join(self.d, "plots", "data", "ring.tsv")) as f:
            rows = {r["cell"]: r for r in csv.DictReader(f, delimiter="\t")}
        ref = rows["ring/rc+gen/pool/slots/n=20"]
        self.assertEqual((ref["norm_median"], ref["ref"]), ("1", "pool"))
        self.assertEqual(rows["ring/rc+gen/system/slots/n=20"]["ref"], "pool")  # same layout and knobs
        self.assertNotIn("ring/rc+trial/pool/slots/n=20", rows)
        self.assertEqual(rows["ring/rc+gen/pool/slots/n=20"]["pauses"], "9")  # 3 pauses x 3 reps
        self.assertEqual(rows["ring/rc+gen/system/slots/n=20"]["dash"], "2")

    @unittest.skipUnless(HAVE_GNUPLOT, "gnuplot not installed")
    def test_pause_kinds_from_the_registry(self):
        with open(os.path.join(self.d, "plots", "data", "ring.pause_tl.dat")) as f:
            blocks = {b.split("\n", 1)[0][2:]: [ln.split()[2] for ln in b.split("\n")[1:] if ln]
                      for b in f.read().split("\n\n\n")}
        self.assertEqual(blocks["ring/rc+gen/pool/slots/n=20"], ["1", "2", "3"])
        self.assertEqual(blocks["ring/rc+incr/pool/slots/n=20/policy=auto"], ["4", "3"])  # increment, full
        self.assertEqual(blocks["ring/boehm/pool/slots/n=20"], ["4"])

    def test_tables(self):
        with open(os.path.join(self.d, "collectors.csv")) as f:
            pairs = [r[:2] for r in csv.reader(f)][1:]
        self.assertEqual(pairs, [["ring/rc+incr/pool/slots/n=20/policy=auto", "ring/rc+gen/pool/slots/n=20"],
                                 ["ring/boehm/pool/slots/n=20", "ring/rc+gen/pool/slots/n=20"]])
        with open(os.path.join(self.d, "churn_allocators.csv")) as f:
            rows = {r["allocator"]: r for r in csv.DictReader(f)}
        self.assertEqual((rows["mimalloc"]["vs_mimalloc"], rows["pymalloc"]["vs_pymalloc"]), ("1.0000", "1.0000"))
        self.assertIn("## Allocator table (churn)", self.md)
        self.assertIn("## Collectors beside rc+gen", self.md)
        out = io.StringIO()
        report.print_tables(runs.load_run(self.d, self.reg), self.reg, out)
        self.assertIn("allocators (churn, ns per alloc+free pair", out.getvalue())
        self.assertIn("target max pause <= 10%, loss <= 10%: NOT met", out.getvalue())
        self.assertEqual(tables.gcscan(self.d), (None, False))

    def test_tail_thinning_keeps_each_kind(self):
        pts = [(t / 10, float(t % 7), 1 + t % 4) for t in range(10 * plots.TL_BUCKETS)]
        lines = plots.tl_block(pts, True).splitlines()
        self.assertLessEqual(len(lines), 4 * (plots.TL_BUCKETS + 1))  # the last point opens a bucket
        self.assertEqual({ln.split()[2] for ln in lines}, {"1", "2", "3", "4"})
        cdf = plots.cdf_block([float(x) for x in range(10000)]).splitlines()
        self.assertEqual((len(cdf), cdf[-1]), (plots.CDF_POINTS + 1, "9999 1"))


if __name__ == "__main__":
    unittest.main()
