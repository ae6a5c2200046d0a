"""The lineage table (analysis/tables.py, issue 15 item 6) on fixture runs: each finding's cells
are found by their reclaim and knobs (a knob left out counts at its registry default), the figures
are medians, ours / published is computed against GC_LINEAGE.md's published figures, and cells
or counters the run lacks are named rather than shown as 0. `cycles`, `rc+ft` and the floating_*
counters may not be in this build's registry yet: cells are parsed by spelling then."""
import os
import tempfile
import unittest

from analysis import core, report, runs, tables
from tests.analysis.rundirs import HAVE_BINARY, make_run

CYC = "cycles/{}/system/slots"
APP = "request/{}/system/shared/requests=500/warmup=100/appstate=1m"
FT = "cycles/rc+ft/system/slots/memgate=on"


@unittest.skipUnless(HAVE_BINARY, "needs build/memstrat (the registry)")
class Lineage(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.reg = core.registry()

    def tearDown(self):
        self.tmp.cleanup()

    def run_of(self, counters, reps=3):
        """counters: {cell: {counter: value}}, the same in every repetition (time 100 ms)."""
        d = os.path.join(self.tmp.name, "r")
        make_run(d, {c: [100.0] * reps for c in counters}, reps,
                 counters={c: {k: [v] * reps for k, v in kv.items()} for c, kv in counters.items()})
        return runs.load_run(d, self.reg)

    def full(self):
        return self.run_of({
            CYC.format("rc+gen") + "/gc=cpython313": {"floating_peak_objects": 80},
            CYC.format("rc+gen"): {"floating_peak_objects": 50},  # cpython311: not a role
            CYC.format("rc+incr"): {"floating_peak_objects": 1900},  # variant defaults to 3.14.0
            CYC.format("rc+incr") + "/variant=3.14.2": {"floating_peak_objects": 9500},
            APP.format("rc+gen") + "/gc=cpython313": {"pause_max_us": 200000, "rss_peak_mb": 180},
            APP.format("rc+pep848"): {"pause_max_us": 2000, "rss_peak_mb": 216},
            APP.format("rc+incr"): {"pause_max_us": 40000, "rss_peak_mb": 360},
            APP.format("rc+incr") + "/variant=3.14.2": {"pause_max_us": 100000, "rss_peak_mb": 540},
            FT: {"gc_collections_gen0": 5, "gc_net_allocations": 400000}})

    def test_three_findings(self):
        text, csv = tables.lineage(self.full(), self.reg)
        rows = {(r[0], r[1], r[2]): r[3:] for r in (ln.split(",") for ln in csv.splitlines()[1:])}
        # 1. floating garbage: ours, published, ours / published
        self.assertEqual(rows[("cycles", CYC.format("rc+gen") + "/gc=cpython313", "floating_peak_objects")],
                         ["80", "100", "0.8"])
        self.assertEqual(rows[("cycles", CYC.format("rc+incr"), "floating_peak_objects")], ["1900", "2000", "0.95"])
        self.assertEqual(rows[("cycles", CYC.format("rc+incr") + "/variant=3.14.2", "floating_peak_objects")],
                         ["9500", "10000", "0.95"])
        self.assertNotIn(("cycles", CYC.format("rc+gen"), "floating_peak_objects"), rows)
        self.assertIn("3.14.0 / 3.13 = 23.8x", text)
        self.assertIn("3.14.2 / 3.14.0 = 5.0x", text)
        self.assertIn("as published", text)
        # 2. ratios to rc+gen gc=cpython313, then to the published ratios
        self.assertEqual(rows[("appstate", APP.format("rc+pep848"), "max_pause_ratio")], ["0.01", "0.01", "1"])
        self.assertEqual(rows[("appstate", APP.format("rc+pep848"), "peak_rss_ratio")], ["1.2", "1", "1.2"])
        self.assertEqual(rows[("appstate", APP.format("rc+incr"), "max_pause_ratio")], ["0.2", "0.1", "2"])
        self.assertEqual(rows[("appstate", APP.format("rc+incr") + "/variant=3.14.2", "peak_rss_ratio")],
                         ["3", "2", "1.5"])
        # 3. 5 collections in 400,000 net allocations = 1/80,000: agreement
        self.assertEqual(rows[("ft", FT, "collections_per_net_allocation")][1:], ["0.0000125", "1"])
        self.assertIn("= 1/80000", text)
        self.assertNotIn("missing", text)
        # the report's section: the table, a sentence per finding, the closing note
        sec = report.lineage_section(self.full(), self.reg)
        self.assertIn("## Lineage", sec)
        self.assertIn("largest disagreement is `" + APP.format("rc+incr") + "/variant=3.14.2` max_pause_ratio at 5.00x",
                      sec)
        self.assertIn("Why ours and the published figures differ", sec)

    def test_missing_cells_and_counters_are_named(self):
        run = self.run_of({CYC.format("rc+gen") + "/gc=cpython313": {"pause_max_us": 5},
                           APP.format("rc+pep848"): {"pause_max_us": 2000, "rss_peak_mb": 216}})
        text, csv = tables.lineage(run, self.reg)
        self.assertIn("missing:", text)
        self.assertIn("counter floating_peak_objects in " + CYC.format("rc+gen") + "/gc=cpython313", text)
        self.assertIn("cycles rc+incr 3.14.0", text)
        self.assertIn("request appstate=1m rc+gen gc=cpython313", text)
        self.assertIn("rc+ft memgate=on cells", text)
        # the FT cell's net allocations: its counter, else collected + live at the end
        run = self.run_of({FT: {"gc_collections_gen0": 4, "gc_collected": 300000, "live_objects": 20000}})
        text, csv = tables.lineage(run, self.reg)
        self.assertIn("4 collections / 320000 net allocations (= gc_collected + live_objects) = 1/80000", text)
        run = self.run_of({FT: {"gc_collections_gen0": 4}})
        self.assertIn("counter gc_net_allocations (or gc_collected and live_objects) in " + FT, tables.lineage(run, self.reg)[0])
        # a figure that is not there is never 0: no ratio without the baseline
        rows = [ln.split(",") for ln in csv.splitlines()[1:]]
        self.assertTrue(all(r[3] in ("nan", "") or r[0] != "appstate" for r in rows), rows)
        self.assertNotIn(" 0.000x", text)

    def test_appstate_spelt_as_a_number_and_no_lineage_cells(self):
        run = self.run_of({"request/rc+pep848/system/shared/requests=500/warmup=100/appstate=1000000":
                           {"pause_max_us": 1, "rss_peak_mb": 1}})
        self.assertIn("rc+pep848", tables.lineage(run, self.reg)[0])
        run = self.run_of({"request/rc+pep848/system/shared/requests=500/warmup=100": {"pause_max_us": 1}})
        self.assertEqual(tables.lineage(run, self.reg), ("", None))
        self.assertEqual(report.lineage_section(run, self.reg), "")


if __name__ == "__main__":
    unittest.main()
