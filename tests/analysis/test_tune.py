"""Unit tests of analysis/tune.py: grid generation, the goal language, the Pareto front and the
recommendation on hand-made points with known answers, and the degenerate-plot skip (issue 12,
item 5: a one-point grid failed inside gnuplot with "undefined variable: P_records", a grid whose
points all failed failed in tune_heatmap.gp).

The last group runs `$MEMSTRAT tune ... --from RUN` on synthetic run directories, so it needs
the built binary (rundirs: MEMSTRAT, else build/memstrat); with MEMSTRAT pointing at a binary of
the C tune (before the fix) those tests fail.
run: /usr/bin/python3 -m unittest discover -s tests/analysis -t .   (from the source root)
"""
import csv
import math
import os
import shutil
import tempfile
import unittest

from analysis import core, tune
from tests.analysis import rundirs

NAN = math.nan
KNOB = {"kind": "string", "default": "auto", "help": ""}
# A registry as `memstrat list --json` gives it, cut down; "mygc" is a strategy no code knows by
# name: only its declared knobs make gen0..gen2 valid for it.
REG = core.Registry({"build": {}, "allocators": [], "layouts": [], "workloads": [], "strategies": [
    {"name": "none", "has_collector": False, "generations": 0, "knobs": []},
    {"name": "rc+gen", "has_collector": True, "generations": 3, "knobs": [
        dict(KNOB, name="gc", default="cpython311"), dict(KNOB, name="policy")]},
    {"name": "rc+incr", "has_collector": True, "generations": 3, "knobs": [
        dict(KNOB, name="young", kind="count", default="2000"), dict(KNOB, name="scale", kind="count", default="10")]},
    {"name": "mygc", "has_collector": True, "generations": 3, "knobs": [dict(KNOB, name="gc")]}]})


def refused(test, fn, *args):
    """fn(*args) must end the command with exit 2 and one line; returns the line."""
    with test.assertRaises(core.Fail) as cm:
        fn(*args)
    test.assertEqual(cm.exception.status, core.EXIT_USAGE)
    test.assertNotIn("\n", str(cm.exception))
    return str(cm.exception)


class Grid(unittest.TestCase):
    def axis(self, spec, cell="list/rc+gen/system/slots", points=4, axes=()):
        return tune.parse_axis(spec, core.Cell(cell), REG, list(axes), points)

    def test_log_spacing(self):
        self.assertEqual(tune.logspace(100, 10000, 2), ["100", "10000"])
        self.assertEqual(tune.logspace(200, 20000, 3), ["200", "2000", "20000"])
        self.assertEqual(tune.logspace(5, 50, 3), ["5", "16", "50"])  # 15.81 rounds up
        self.assertEqual(tune.logspace(100, 20000, 4), ["100", "585", "3420", "20000"])

    def test_rounding_duplicates_dropped(self):
        self.assertEqual(tune.logspace(1, 3, 12), ["1", "2", "3"])
        self.assertEqual(tune.logspace(7, 7, 4), ["7"])
        self.assertEqual(self.axis("gen1=2..4", points=12).values, ["2", "3", "4"])

    def test_lists_and_suffixes(self):
        self.assertEqual(self.axis("gen0=2k,700").values, ["2000", "700"])
        self.assertEqual(self.axis("policy=auto,manual").values, ["auto", "manual"])
        self.assertEqual(self.axis("gen2=5..50", points=3), tune.Axis("gen2", 2, ["5", "16", "50"]))

    def test_points_combine_gen_axes_into_gc(self):
        axes = [self.axis("gen0=100,10000"), self.axis("gen1=2,50")]
        points, default, none = tune.build_points(core.Cell("list/rc+gen/system/slots/n=5"), axes, REG)
        self.assertEqual([p.knobs for p in points], ["gc=100,2,10", "gc=100,50,10", "gc=10000,2,10", "gc=10000,50,10"])
        self.assertEqual(points[1].cell, "list/rc+gen/system/slots/n=5/gc=100,50,10")
        self.assertEqual((default, none), ("list/rc+gen/system/slots/n=5", "list/none/system/slots/n=5"))
        mixed, _, _ = tune.build_points(core.Cell("list/rc+gen/system/slots"),
                                        [self.axis("policy=auto,manual"), self.axis("gen2=3")], REG)
        self.assertEqual([p.knobs for p in mixed], ["gc=700,10,3/policy=auto", "gc=700,10,3/policy=manual"])
        self.assertEqual(mixed[0].gc, [700, 10, 3])

    def test_none_cell_drops_the_strategys_own_knobs(self):
        cell = core.Cell("request/rc+incr/pool/slots/requests=4000/young=500")
        _, _, none = tune.build_points(cell, [self.axis("scale=2,4", cell=cell.name)], REG)
        self.assertEqual(none, "request/none/pool/slots/requests=4000")

    def test_the_registry_decides_which_strategy_takes_gen_axes(self):
        self.assertEqual(self.axis("gen0=1,2", cell="list/mygc/system/slots").gen, 0)
        self.assertIn("has no generation thresholds", refused(self, self.axis, "gen0=1,2", "list/rc+incr/system/slots"))
        self.assertIn("has no generation thresholds", refused(self, self.axis, "gen0=1,2", "list/none/system/slots"))

    def test_bad_axes(self):
        cases = {"foo=1..5": "unknown grid axis 'foo' for strategy 'rc+gen' (its axes: gen0, gen1, gen2, policy)",
                 "gen0=500..100": "LO 500 > HI 100", "gen0=100..lots": "LO and HI must be non-negative integers",
                 "gen1=2,x": "'x' is not a non-negative integer", "gen0=0..100": "needs LO >= 1",
                 "gen0=1,1": "listed twice", "gen0=1k,1000": "listed twice", "gen0=1,,2": "empty value",
                 "gen0=+5,6": "not a non-negative integer", "gen0= 5,6": "not a non-negative integer",
                 "gen0=-1..5": "non-negative", "gen0=1.." + "9" * 400: "non-negative", "gen0=" + "9" * 19: "not a", "policy=a..b": "not numeric", "gc=1,2": "unknown grid axis 'gc'",
                 "=1,2": "is not name=LO..HI", "gen0=": "is not name=LO..HI",
                 "gen0=" + ",".join(map(str, range(1, 14))): "more than 12 values"}
        for spec, want in cases.items():
            with self.subTest(spec=spec):
                self.assertIn(want, refused(self, self.axis, spec))
        self.assertIn("given twice", refused(self, self.axis, "gen0=3,4", "list/rc+gen/system/slots", 4,
                                             [tune.Axis("gen0", 0, ["1", "2"])]))
        self.assertIn("at most 3 axes", refused(self, self.axis, "policy=a,b", "list/rc+gen/system/slots", 4,
                                                [tune.Axis(f"gen{g}", g, ["1"]) for g in range(3)]))
        self.assertIn("already sets gc=", refused(self, self.axis, "gen0=1,2", "list/rc+gen/system/slots/gc=1,2,3"))

    def test_grid_cap(self):
        axes = [tune.Axis(f"gen{g}", g, [str(i) for i in range(1, 9)]) for g in range(3)]
        self.assertIn("grid has 512 points", refused(self, tune.build_points, core.Cell("l/rc+gen/system/slots"),
                                                     axes, REG))


class Goal(unittest.TestCase):
    def test_good_goals(self):
        obj, cs = tune.parse_goal("p99<=2ms,rss<=+10%")
        self.assertEqual(obj, "throughput")
        self.assertEqual([(c.metric, c.op, c.relative, c.value) for c in cs],
                         [("p99", "<=", False, 2000.0), ("rss", "<=", True, 10.0)])
        obj, cs = tune.parse_goal("min-p99,throughput>=-5%")
        self.assertEqual((obj, cs[0].metric, cs[0].op, cs[0].relative, cs[0].value), ("p99", "throughput", ">=", True, -5.0))
        for text, value in {"throughput>1.5M": 1.5e6, "throughput>=800k": 8e5, "throughput>=1200": 1200.0,
                            "maxpause<500us": 500.0, "p99<=250ns": 0.25, "p99<1s": 1e6, "rss<=512KiB": 0.5,
                            "rss<=2GB": 2048.0, "rss<120MB": 120.0, "p99<=.5ms": 500.0}.items():
            with self.subTest(goal=text):
                self.assertEqual(tune.parse_goal(text)[1][0].value, value)
        self.assertEqual(tune.parse_goal("min-maxpause")[0], "maxpause")
        self.assertEqual(tune.parse_goal("min-rss")[0], "rss")
        self.assertEqual(tune.parse_goal("max-throughput"), ("throughput", []))

    def test_bad_goals(self):
        cases = {"": "empty part", "p99<=2ms,": "empty part", "p99<=": "has no value", "p99<=2": "not a number with a unit",
                 "latency<=2ms": "unknown metric 'latency'", "fastest": "unknown goal 'fastest'",
                 "rss<=10%": "needs a sign: +10%", "min-p99,min-rss": "more than one of",
                 "rss<=-100%": "not a percentage", "rss<=+x%": "not a percentage", "p99<=+2ms": "not a number",
                 "p99<=-2ms": "not a number", "throughput>=1.5T": "not a number", "p99<=1e999ms": "not a number",
                 "p99<=2 ms": "not a number", "rss<=+1e999%": "not a percentage", "rss<=10MB%": "needs a sign", "p99=<2ms": "unknown metric",
                 ",".join(["p99<=2ms"] * 9): "more than 8 constraints"}
        for text, want in cases.items():
            with self.subTest(goal=text):
                self.assertIn(want, refused(self, tune.parse_goal, text))


def S(ops, p99, rss, maxpause=NAN):
    """A cell's summary as runs.summarize gives it, with the metrics a point is ranked on."""
    return {"ops_per_s_median": ops, "pause_p99_us_median": p99, "rss_peak_mb_median": rss,
            "pause_max_us_median": maxpause}


# Hand-made points: C is dominated by A; B and D are equal (neither dominates the other);
# E failed; F has the lowest p99.
A, B, C, D, E, F = S(100, 10, 5, 40), S(120, 20, 5, 30), S(90, 12, 6, 50), S(120, 20, 5, 30), None, S(80, 5, 7, 20)
POINTS = [A, B, C, D, E, F]


class Front(unittest.TestCase):
    def front(self, points):
        return list(tune.pareto_front(*([tune.metric_of(s, m) for s in points] for m in tune.FRONT)))

    def test_known_front(self):
        self.assertEqual(self.front(POINTS), [True, True, False, True, False, True])

    def test_one_metric_better_is_enough(self):
        self.assertEqual(self.front([S(100, 10, 5), S(100, 10, 4.9)]), [False, True])
        self.assertEqual(self.front([S(100, 10, 5), S(100.5, 10, 5), S(99, 9, 5)]), [False, True, True])

    def test_no_results_no_front(self):
        self.assertEqual(self.front([None, None]), [False, False])
        self.assertEqual(self.front([S(1, NAN, 1), S(1, 1, 1)]), [False, True])

    def recommend(self, goal, base=S(100, 10, 5), points=POINTS):
        obj, cs = tune.parse_goal(goal)
        best, meets, _ = tune.recommend(points, obj, cs, base)
        return best, sum(meets)

    def test_objectives(self):
        self.assertEqual(self.recommend("max-throughput"), (1, 5))  # B and D tie: grid order
        self.assertEqual(self.recommend("min-p99"), (5, 5))
        self.assertEqual(self.recommend("min-maxpause"), (5, 5))
        self.assertEqual(self.recommend("min-rss"), (1, 5))  # A, B, D at 5 MB: throughput breaks it

    def test_constraints(self):
        self.assertEqual(self.recommend("p99<=12us"), (0, 3))  # A, C, F meet; A is fastest
        self.assertEqual(self.recommend("p99<12us"), (0, 2))
        self.assertEqual(self.recommend("min-rss,p99<=0.012ms"), (0, 3))
        self.assertEqual(self.recommend("throughput>=+10%"), (1, 2))  # against the default's 100
        self.assertEqual(self.recommend("rss<=-10%,min-p99"), (None, 0))
        self.assertEqual(self.recommend("p99<=5us,rss<=5MB"), (None, 0))
        self.assertEqual(self.recommend("throughput>=+10%", base=None), (None, 0))  # no default: no bound

    def test_report_lines(self):
        """The recommendation line with gc.set_threshold, and the two ways of recommending none."""
        t = tune.Tune()
        t.cell, t.axes = core.Cell("list/rc+gen/system/slots"), [tune.Axis("gen0", 0, ["100", "2000"])]
        t.points, t.default_cell, t.none_cell = tune.build_points(t.cell, t.axes, REG)
        t.run = type("Run", (), {"reps": 3, "dir": "RUN"})()
        have = [dict(S(100, 10, 5, 40), reps=3, time_median_ms=1.0, time_cv_pct=1.0, overhead_vs_none_pct=5.0),
                dict(S(150, 30, 6, 50), reps=3, time_median_ms=1.0, time_cv_pct=1.0, overhead_vs_none_pct=5.0)]
        front = tune.pareto_front([100, 150], [10, 30], [5, 6])
        for goal, want in (("max-throughput", "recommend: gc=2000,10,10  ->  gc.set_threshold(2000, 10, 10)  "
                                              "[2 of 2 points meet the goal]"),
                           ("p99<=1us", "recommend: none: no grid point meets p99<=1us (of 2 points)"),
                           ("throughput>=+1%", "recommend: none: constraint throughput>=+1% is relative to the "
                                               "default cell list/rc+gen/system/slots, which has no results")):
            t.goal = goal
            t.objective, t.constraints = tune.parse_goal(goal)
            t.base = None if "%" in goal else have[0]
            t.have = t.sums = have
            t.none, t.front = None, front
            t.best, t.meets, t.bounds = tune.recommend(have, t.objective, t.constraints, t.base)
            self.assertIn("\n" + want + "\n", t.report())


def write_run(d, cells):
    """A run of one repetition per cell (rundirs.make_run); cells maps a cell to (ops/s, p99 us,
    rss MB), or None for a failed cell."""
    counters = {c: {"ops_per_s": [v[0]], "pause_p99_us": [v[1]], "pause_max_us": [2 * v[1]], "rss_peak_mb": [v[2]]}
                for c, v in cells.items() if v}
    return rundirs.make_run(d, {c: [1e3 / v[0] if v else None] for c, v in cells.items()}, 1, counters=counters)


CELL = "list/rc+gen/system/slots/n=1000"


@unittest.skipUnless(rundirs.HAVE_BINARY, f"needs the built binary ({rundirs.BINARY})")
class DegeneratePlots(unittest.TestCase):
    """Issue 12, item 5: plots of degenerate data are skipped with one line; the rest of tune's
    output is written and the exit status is as without plots."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="test_tune.")
        self.addCleanup(shutil.rmtree, self.dir)

    def tune(self, grid, points, *extra):
        run = os.path.join(self.dir, "run")
        write_run(run, {**{f"{CELL}/{k}": v for k, v in points.items()},
                        CELL: (1e6, 50.0, 6.0), "list/none/system/slots/n=1000": (2e6, 0.0, 7.0)})
        p = rundirs.memstrat("tune", CELL, "--grid", *grid, "--from", run, *extra)
        return run, p

    def assert_written(self, run, p):
        self.assertEqual(p.returncode, 0, p.stderr)
        for f in ("tune.csv", "tune.txt", "plots/tune_grid.tsv"):
            self.assertTrue(os.path.isfile(os.path.join(run, f)), f)
        self.assertIn("recommend: ", p.stdout)

    def assert_skipped(self, p, why):
        self.assertNotIn("failed", p.stderr)
        self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)
        self.assertIn(f"memstrat tune: skipping the heatmaps and the Pareto plot: {why}", p.stderr)

    def test_one_point_grid(self):
        """`--grid gen0=2000`: one point, which ran no collection (p99 0) — gnuplot's stats of
        the p99 column found nothing and the script died on P_records."""
        run, p = self.tune(["gen0=2000"], {"gc=2000,10,10": (2e5, 0.0, 4.8)})
        self.assert_written(run, p)
        self.assert_skipped(p, "1 of 1 grid points have results")
        self.assertIn("recommend: gc=2000,10,10  ->  gc.set_threshold(2000, 10, 10)", p.stdout)
        self.assertFalse(os.path.exists(os.path.join(run, "plots", "tune_pareto.png")))

    def test_every_point_failed(self):
        run, p = self.tune(["gen0=100,200"], {"gc=100,10,10": None, "gc=200,10,10": None})
        self.assert_written(run, p)
        self.assert_skipped(p, "0 of 2 grid points have results")
        self.assertIn("recommend: none: no grid point meets the goal (of 2 points)", p.stdout)
        with open(os.path.join(run, "tune.csv")) as f:
            self.assertEqual([r["status"] for r in csv.DictReader(f)], ["failed", "failed"])

    @unittest.skipUnless(shutil.which("gnuplot"), "needs gnuplot")
    def test_no_point_collected_still_plots(self):
        """Three points with results, none with a pause: not degenerate, drawn (the scripts no
        longer assume a positive p99)."""
        run, p = self.tune(["gen0=100,200,300"], {f"gc={g},10,10": (1e3 * g, 0.0, 5.0) for g in (100, 200, 300)})
        self.assert_written(run, p)
        self.assertEqual(p.stderr, "")
        for name in ("tune_pareto.png", "tune_heatmap_p99.svg", "tune_heatmap_throughput.png"):
            self.assertTrue(os.path.isfile(os.path.join(run, "plots", name)), name)


if __name__ == "__main__":
    unittest.main()
