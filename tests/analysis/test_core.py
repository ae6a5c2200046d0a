"""Unit tests of analysis/core.py: the one cell parser, the statistics, and the component
registry read from the real `memstrat list --json` ($MEMSTRAT, as ctest sets it)."""
import math
import os
import unittest

from analysis import core


class CellTest(unittest.TestCase):
    def test_axes_and_knobs(self):
        c = core.Cell("tree/rc+gen/pool/slots/depth=18/gc=700,10,10")
        self.assertEqual((c.workload, c.reclaim, c.allocator, c.layout), ("tree", "rc+gen", "pool", "slots"))
        self.assertEqual(c.knobs, (("depth", "18"), ("gc", "700,10,10")))
        self.assertEqual(c.knob_text, "depth=18;gc=700,10,10")

    def test_path_knob_keeps_its_slashes(self):
        c = core.Cell("trace/rc/system/slots/trace=tmp/a/b.trace/n=5")
        self.assertEqual(c.knobs, (("trace", "tmp/a/b.trace"), ("n", "5")))

    def test_slug_of_a_cell_with_slashes(self):
        self.assertEqual(core.Cell("list/rc/system/slots/n=1000").slug, "list__rc__system__slots__n=1000")
        self.assertEqual(core.Cell("trace/rc/system/slots/trace=t/x@1").slug,
                         "trace__rc__system__slots__trace=t__x_1")

    def test_canonical_ignores_knob_order(self):
        self.assertEqual(core.Cell("list/rc/system/slots/b=2/a=1").canonical,
                         core.Cell("list/rc/system/slots/a=1/b=2").canonical)

    def test_bad_cells_are_refused(self):
        for text in ("", "list/rc/system", "list//system/slots", "list/rc/system/slots/n=",
                     "list/rc/system/slots/n=1/n=2", "list/rc/system/slots/junk", "list/rc/system/slots/n=1 "):
            with self.subTest(text=text), self.assertRaises(ValueError):
                core.Cell(text)


class StatsTest(unittest.TestCase):
    def test_median(self):
        self.assertEqual(core.median([3, 1, 2]), 2)
        self.assertEqual(core.median([4, 1, 3, 2]), 2.5)
        self.assertEqual(core.median([float("nan"), 5, 1]), 3)  # a failed repetition is left out
        self.assertTrue(math.isnan(core.median([])))

    def test_spread(self):
        self.assertEqual(core.spread([5, 1, 3]), (3, 1, 5))

    def test_cv(self):
        self.assertAlmostEqual(core.cv_pct([1, 2, 3]), 50.0)  # sample stddev 1, mean 2
        self.assertTrue(math.isnan(core.cv_pct([7])))

    def test_bootstrap_ci_brackets_the_median(self):
        lo, hi = core.bootstrap_ci([10, 11, 12, 13, 14, 15, 16])
        self.assertLessEqual(lo, 13)
        self.assertGreaterEqual(hi, 13)
        self.assertGreaterEqual(lo, 10)
        self.assertLessEqual(hi, 16)

    def test_fmt_num(self):
        self.assertEqual(core.fmt_num(3.0), "3")
        self.assertEqual(core.fmt_num(0.125), "0.125")
        self.assertEqual(core.fmt_num(1 / 3), "0.3333333333")
        self.assertEqual(core.fmt_num(float("nan")), "")


@unittest.skipUnless(os.path.exists(core.memstrat_binary()), "no memstrat binary ($MEMSTRAT or build/memstrat)")
class RegistryTest(unittest.TestCase):
    """The facts the analysis takes from the binary (strategy.h's descriptors, through mm.h's views)."""

    def setUp(self):
        self.reg = core.registry(core.memstrat_binary())

    def test_generations_and_collectors(self):
        want = {"none": (False, 0), "rc": (False, 0), "rc+gen": (True, 3), "rc+incr": (True, 3),
                "rc+trial": (True, 1), "boehm": (True, 1)}
        for name, (collector, gens) in want.items():
            with self.subTest(strategy=name):
                self.assertEqual(self.reg.has_collector(name), collector)
                self.assertEqual(self.reg.generations(name), gens)

    def test_axes_and_knobs(self):
        self.assertIn("pool", self.reg.axes["allocator"])
        self.assertIn("slots", self.reg.axes["layout"])
        self.assertIn("list", self.reg.axes["workload"])
        self.assertIsNone(self.reg.axes["allocator"]["system"]["preload_library"])
        self.assertEqual(self.reg.knob("workload", "list", "n")["kind"], "count")
        self.assertEqual(self.reg.knob("reclaim", "rc+gen", "policy")["default"], "auto")
