"""The model-vs-real table (analysis/tables.py, issue 13): each cell of the registry's interpreter
strategy is paired with its rc+gen model — same workload, allocator, layout, workload knobs and
policy, and the gc preset of the same Python version when the run has one — and the ratios are
real / model of the medians. The registry here is the real one plus a stand-in interpreter entry,
so the pairing is tested on facts, not on the strategy's name."""
import copy
import os
import tempfile
import unittest

from analysis import core, runs, tables
from tests.analysis.rundirs import HAVE_BINARY, make_run

REQ = "request/{}/pymalloc/slots/requests=2000"


@unittest.skipUnless(HAVE_BINARY, "needs build/memstrat (the registry)")
class ModelVsReal(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        real = core.registry()
        doc = {"build": real.build, "strategies": list(real.axes["reclaim"].values()),
               "allocators": list(real.axes["allocator"].values()), "layouts": list(real.axes["layout"].values()),
               "workloads": list(real.axes["workload"].values())}
        doc = copy.deepcopy(doc)
        if not any(s.get("interpreter") for s in doc["strategies"]):  # before the C side lands
            gen = next(s for s in doc["strategies"] if s["name"] == "rc+gen")
            doc["strategies"].append(dict(gen, name="pyreal", interpreter=True, knobs=gen["knobs"] + [
                {"name": "python", "kind": "string", "default": "3.11", "help": ""}]))
        self.interp = next(s["name"] for s in doc["strategies"] if s.get("interpreter"))
        self.reg = core.Registry(doc)

    def tearDown(self):
        self.tmp.cleanup()

    def run_of(self, cells):
        d = os.path.join(self.tmp.name, "r")
        counters = {c: {"pause_count": [v[1]] * 3, "gc_collections_gen0": [v[2]] * 3, "pause_p99_us": [v[3]] * 3}
                    for c, v in cells.items()}
        make_run(d, {c: [v[0]] * 3 for c, v in cells.items()}, 3, counters=counters)
        return runs.load_run(d, self.reg)

    def test_pairs_and_ratios(self):
        real, model = REQ.format(self.interp), REQ.format("rc+gen")
        run = self.run_of({model: (100.0, 40, 40, 15.0), real: (400.0, 41, 41, 90.0),
                           REQ.format("rc+gen") + "/policy=manual": (90.0, 10, 10, 5.0),
                           REQ.format("none"): (50.0, 0, 0, 0.0)})
        self.assertEqual(tables.model_pairs(run, self.reg), [(1, 0)])  # not the manual one, not none
        text, csv = tables.model_vs_real(run, self.reg)
        rows = {ln.split(",")[1]: ln.split(",") for ln in csv.splitlines()[1:]}
        self.assertEqual(rows["ops_per_s"][4:], ["2.5", "10"])  # real 1000/400, model 1000/100
        self.assertEqual(rows["pause_p99_us"][4:], ["90", "15"])
        self.assertIn("0.25x", text)  # ops/s real / model
        self.assertIn("6.00x", text)  # p99 real / model

    def test_policy_and_version_pick_the_model(self):
        real = REQ.format(self.interp) + "/python=3.13/policy=freeze"
        run = self.run_of({REQ.format("rc+gen") + "/policy=freeze": (100.0, 1, 1, 1.0),
                           REQ.format("rc+gen") + "/gc=cpython313/policy=freeze": (100.0, 2, 2, 1.0),
                           REQ.format("rc+gen"): (100.0, 3, 3, 1.0), real: (100.0, 4, 4, 1.0)})
        self.assertEqual(tables.model_pairs(run, self.reg), [(3, 1)])

    def test_no_model_no_table(self):
        run = self.run_of({REQ.format(self.interp): (100.0, 1, 1, 1.0), REQ.format("rc+gen") + "/records=5":
                           (100.0, 1, 1, 1.0)})
        self.assertEqual(tables.model_vs_real(run, self.reg), ("", None))


if __name__ == "__main__":
    unittest.main()
