"""report.md's conclusions (issue 16): time is ranked by the bootstrap CI of the ratio of medians,
not by CV thresholds; counters equal in every repetition are stated as deterministic facts."""
import os
import tempfile
import unittest

from analysis import core, report, runs
from tests.analysis.rundirs import HAVE_BINARY, make_run

A, B = "list/rc/system/slots/n=1000", "list/none/system/slots/n=1000"


@unittest.skipUnless(HAVE_BINARY, "needs build/memstrat (the registry)")
class Conclusions(unittest.TestCase):
    def setUp(self):
        self.t = tempfile.TemporaryDirectory()
        self.reg = core.registry()

    def tearDown(self):
        self.t.cleanup()

    def run_of(self, times, counters=None):
        return runs.load_run(make_run(os.path.join(self.t.name, "r"), times, 5, counters=counters), self.reg)

    def test_noisy_but_separated_is_ranked(self):
        # CV ~ 8% on A (the old rule said "no claim"), but every A is slower than every B
        run = self.run_of({A: [20, 22, 24, 21, 25], B: [10, 10.2, 10.1, 10.3, 9.9]})
        self.assertGreater(run.sum[0]["time_cv_pct"], core.CV_WARN_PCT)
        line = report.compare(run, 0, 1, "LBO baseline")
        self.assertRegex(line, r"is \*\*2\.\d\d× slower\*\* \(medians 22\.00 vs 10\.10 ms; 95% CI of the ratio "
                               r"\d\.\d\d–\d\.\d\d×\)")

    def test_overlapping_is_not_ranked(self):
        run = self.run_of({A: [10, 12, 9, 11, 10.5], B: [10.4, 9.5, 11.5, 10, 10.8]})
        self.assertIn("not distinguishable in this run (95% CI of the ratio", report.compare(run, 0, 1, "x"))

    def test_faster_reports_the_inverted_interval(self):
        run = self.run_of({A: [10, 10.1, 10.2, 9.9, 10], B: [20, 20.5, 19.5, 20.2, 20.1]})
        line = report.compare(run, 0, 1, "x")
        lo, hi = (float(x) for x in line.split("ratio ")[1].split("×")[0].split("–"))
        self.assertIn("faster", line)
        self.assertTrue(1.9 <= lo <= 2.0 <= hi <= 2.1, line)

    def test_counters_only_when_deterministic(self):
        run = self.run_of({A: [10] * 5, B: [10] * 5}, counters={
            A: {"gc_collections_gen0": [130] * 5, "gc_examined": [1, 2, 3, 4, 5], "leaked_objects": [0] * 5},
            B: {"gc_collections_gen0": [10] * 5, "gc_examined": [9] * 5, "leaked_objects": [1000] * 5}})
        line = report.counters_line(run, 0, 1)
        self.assertIn("gen0 collections 130 vs 10 (13.00×)", line)
        self.assertIn("leaked objects 0 vs 1,000", line)
        self.assertNotIn("examined", line)  # varies across A's repetitions: not a fact of the strategy


if __name__ == "__main__":
    unittest.main()
