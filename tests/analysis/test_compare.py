"""analysis/compare.py: the U test's p-values against values computed independently here (exact
enumeration of every ordering, the normal approximation written out, scipy's documented example),
the method choice (scipy 1.10's 'auto'), the ratio / significance / n/a rules, and end to end on
synthetic runs: the table and CSV, and the defects of issue 12 item 5 (a damaged input is
refused with one line naming file and field; a --csv target that is not a regular or new file is
refused before anything is computed, and left as it was)."""
import csv
import itertools
import math
import os
import random
import shutil
import stat
import tempfile
import unittest
import warnings

import numpy as np
from scipy import stats

from analysis import compare
from tests.analysis.rundirs import BINARY, HAVE_BINARY, edit_meta, make_run, memstrat, read, rep_path, write

X, Y = "list/rc+gen/system/slots/n=10", "list/none/system/slots/n=10"


def exact_p(a, b):
    """Two-sided exact p by enumerating every assignment of the pooled (untied) values to A."""
    pooled, n1 = sorted(a + b), len(a)
    us = [sum(x > y for x in xa for y in set(pooled) - set(xa)) for xa in map(set, itertools.combinations(pooled, n1))]
    u1 = sum(x > y for x in a for y in b)
    u = max(u1, n1 * len(b) - u1)
    return min(1.0, 2 * sum(v >= u for v in us) / len(us))


def normal_p(a, b):
    """Normal approximation with tie and continuity correction, written out (scipy's 'asymptotic')."""
    n1, n2 = len(a), len(b)
    n = n1 + n2
    u1 = sum((x > y) + 0.5 * (x == y) for x in a for y in b)
    ties = sum(t ** 3 - t for t in (list(a + b).count(v) for v in set(a + b)))
    sigma = math.sqrt(n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1))))
    return min(1.0, math.erfc((max(u1, n1 * n2 - u1) - n1 * n2 / 2 - 0.5) / sigma / math.sqrt(2)))


class UTest(unittest.TestCase):
    def test_scipy_documented_example(self):
        males, females = [19, 22, 16, 29, 24], [20, 11, 17, 12]  # scipy.stats.mannwhitneyu's docstring
        self.assertEqual(compare.u_test(np.array(males, float), np.array(females, float)), (0.1111111111111111, "exact"))

    def test_exact_against_enumeration(self):
        rng = random.Random(1)
        for n1, n2 in [(2, 2), (3, 3), (2, 5), (4, 4), (5, 5), (3, 7), (8, 3), (6, 6)]:
            pooled = rng.sample(range(1000), n1 + n2)
            a, b = pooled[:n1], pooled[n1:]
            p, method = compare.u_test(np.array(a, float), np.array(b, float))
            self.assertEqual(method, "exact", (n1, n2))
            self.assertAlmostEqual(p, exact_p(a, b), delta=1e-12, msg=(a, b))

    def test_normal_against_formula(self):
        rng = random.Random(2)
        cases = [([1, 2, 2, 3, 4], [2, 3, 5, 6, 6, 7])]  # ties: asymptotic at any size
        cases += [(rng.sample(range(1000), 9), rng.sample(range(1000, 2000), 10))]  # both > 8
        cases += [([rng.randint(0, 5) for _ in range(n)], [rng.randint(2, 7) for _ in range(n)]) for n in (3, 5, 12)]
        for a, b in cases:
            p, method = compare.u_test(np.array(a, float), np.array(b, float))
            self.assertEqual(method, "normal", (a, b))
            self.assertAlmostEqual(p, normal_p(a, b), delta=1e-12, msg=(a, b))

    def test_method_is_scipys_auto(self):
        rng = np.random.default_rng(3)
        for n1, n2 in [(2, 2), (5, 5), (8, 30), (9, 9), (5, 20), (12, 3), (9, 8), (30, 30)]:
            for tied in (False, True):
                a, b = rng.normal(size=n1), rng.normal(size=n2)
                if tied:
                    a, b = np.round(a), np.round(b)
                want = "exact" if min(n1, n2) <= 8 and not tied else "asymptotic"
                self.assertEqual(compare.u_method(a, b), want, (n1, n2, tied))
                auto = stats.mannwhitneyu(a, b, alternative="two-sided", method="auto").pvalue
                self.assertAlmostEqual(compare.u_test(a, b)[0], auto, delta=1e-15, msg=(n1, n2, tied))

    def test_smallest_p(self):
        for n1, n2 in [(2, 2), (3, 3), (4, 4), (5, 5), (5, 2), (8, 8), (3, 40)]:
            self.assertAlmostEqual(compare.min_p(n1, n2), min(1.0, 2 / math.comb(n1 + n2, n1)), delta=1e-15)
        self.assertAlmostEqual(compare.min_p(2, 2), 1 / 3)
        self.assertAlmostEqual(compare.min_p(9, 9), normal_p(list(range(9)), list(range(9, 18))), delta=1e-15)

    def test_constant_sample_is_p_one_without_warnings(self):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            self.assertEqual(compare.u_test(np.array([3.0, 3, 3]), np.array([3.0, 3])), (1.0, "normal"))
        self.assertEqual(seen, [])


def one(a, b, good=(5, 5), alpha=0.05, noise=2.0):
    return compare.compare_one(np.array(a, float), np.array(b, float), good, "no pauses", alpha, noise)


class Rules(unittest.TestCase):
    def test_marks(self):
        a, b = [10, 11, 12, 13, 14], [20, 21, 22, 23, 24]
        r = one(a, b)
        self.assertEqual((r["mark"], r["test"], r["under"]), (1, "exact", False))
        self.assertAlmostEqual(r["p"], 2 / 252, delta=1e-15)
        self.assertAlmostEqual(r["ratio"], 22 / 12)
        self.assertEqual(one(b, a)["mark"], -1)
        self.assertEqual(one(a, b, alpha=0.001)["mark"], 0)

    def test_noise_floor(self):
        a = [100, 100.1, 100.2, 100.3, 100.4]
        r = one(a, [x * 1.01 + 1 for x in a])  # fully separated, ~2% higher
        self.assertLess(r["p"], 0.05)
        self.assertEqual(r["mark"], 1 if abs(r["ratio"] - 1) * 100 > 2 else 0)
        r = one(a, [x * 1.01 for x in a])  # 1% higher: within the floor, counted, not marked
        self.assertEqual((r["mark"], r["under"]), (0, True))
        self.assertEqual(one(a, [x * 1.01 for x in a], noise=0.5)["mark"], 1)

    def test_too_few_reps(self):
        r = one([1, 2], [3, 4], good=(2, 2))
        self.assertEqual((r["mark"], r["unreachable"]), (0, True))
        self.assertAlmostEqual(r["p"], 1 / 3)
        r = one([1], [2, 3], good=(1, 2))
        self.assertEqual((r["test"], r["ratio"]), ("none", 2.5))
        self.assertTrue(math.isnan(r["p"]))

    def test_ratio_and_na(self):
        self.assertEqual(one([0, 0, 0], [1, 2, 3])["ratio"], math.inf)
        self.assertEqual(one([5, 6, 7], [5, 6, 7])["ratio"], 1.0)
        self.assertEqual(one([], [1, 2], good=(0, 2))["na"], "failed in A")
        self.assertEqual(one([1, 2], [], good=(2, 0))["na"], "failed in B")
        self.assertEqual(one([], [1, 2])["na"], "absent in A")
        self.assertEqual(one([1, 2], [])["na"], "absent in B")
        self.assertEqual(one([], [])["na"], "absent")
        self.assertEqual(one([0, 0], [0, 0])["na"], "no pauses")


@unittest.skipUnless(HAVE_BINARY, f"{BINARY} not built")
class EndToEnd(unittest.TestCase):
    def setUp(self):
        self.t = tempfile.mkdtemp(prefix="test_compare.")
        self.addCleanup(shutil.rmtree, self.t)
        cnt = {X: {"pause_p99_us": [5, 6, 7, 8, 9], "rss_peak_mb": [4, 4, 4, 4, 4]}}
        self.a = make_run(f"{self.t}/a", {X: [10, 11, 12, 13, 14], Y: [5, 5.1, 5.2, 5.3, 5.4],
                                          "list/rc/system/slots/n=1": [1] * 5}, 5, counters=cnt)
        self.b = make_run(f"{self.t}/b", {X: [20, 21, 22, 23, 24], Y: [5, 5.1, 5.2, 5.3, 5.4],
                                          "list/rc/system/slots/n=2": [1] * 5}, 5, cpu="Test CPU 2", counters=cnt)

    def refused(self, p, *words):
        """Exit 2, exactly one stderr line, naming each of words."""
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)
        for w in words:
            self.assertIn(w, p.stderr)

    def test_table_csv_and_warnings(self):
        p = memstrat("compare", self.a, self.b, "--csv", f"{self.t}/c.csv")
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = {(r["cell"], r["metric"]): r for r in csv.DictReader(read(f"{self.t}/c.csv").splitlines())}
        self.assertEqual(len(rows), 6)
        t = rows[(X, "time_ms")]
        self.assertEqual((t["test"], t["significant"]), ("exact", "1"))
        self.assertAlmostEqual(float(t["ratio"]), 22 / 12, delta=1e-9)
        self.assertAlmostEqual(float(t["p_value"]), 2 / 252, delta=1e-12)
        self.assertEqual((rows[(Y, "time_ms")]["ratio"], rows[(Y, "time_ms")]["significant"]), ("1", "0"))
        self.assertEqual(rows[(Y, "pause_p99_us")]["test"], "none")  # absent in both: n/a
        self.assertEqual(rows[(X, "rss_peak_mb")]["p_value"], "1")  # constant: p = 1, no numpy noise
        self.assertIn("significant changes: 1 (1 higher, 0 lower) in 6 comparisons", p.stdout)
        self.assertIn("only in A: list/rc/system/slots/n=1\nonly in B: list/rc/system/slots/n=2\n", p.stdout)
        self.assertEqual(p.stderr, "memstrat compare: warning: the runs are from different CPUs (Test CPU 1; Test CPU 2)\n")

    # -- item 5: compare trusted a damaged input -------------------------------------------------
    def test_garbage_repetition_json_is_refused(self):
        write(rep_path(self.a, X, 2), "{garbage")
        self.refused(memstrat("compare", self.a, self.b), rep_path(self.a, X, 2), "does not parse")

    def test_truncated_meta_is_named_as_such(self):
        path = f"{self.b}/meta.json"
        write(path, read(path)[:len(read(path)) // 2])
        self.refused(memstrat("compare", self.a, self.b), path, "does not parse as JSON (truncated")

    def test_fractional_reps_are_refused(self):
        edit_meta(self.b, reps=2.5)
        self.refused(memstrat("compare", self.a, self.b), f"{self.b}/meta.json", "field 'reps'")

    def test_fifo_repetition_file_does_not_hang(self):
        os.remove(rep_path(self.b, X, 1))
        os.mkfifo(rep_path(self.b, X, 1))
        self.refused(memstrat("compare", self.a, self.b, timeout=30), rep_path(self.b, X, 1), "not a regular file")

    # -- item 5: compare --csv replaced whatever was at the target -----------------------------------
    def test_csv_target_must_be_regular_or_new(self):
        kept = f"{self.t}/kept.csv"
        write(kept, "mine\n")
        targets = {"fifo": f"{self.t}/fifo", "symlink": f"{self.t}/link", "directory": f"{self.t}/dir"}
        os.mkfifo(targets["fifo"])
        os.symlink(kept, targets["symlink"])
        os.mkdir(targets["directory"])
        if os.geteuid() == 0:  # a character device of our own (never /dev/null itself)
            targets["device"] = f"{self.t}/null"
            os.mknod(targets["device"], 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        for kind, path in targets.items():
            with self.subTest(kind):
                before = os.lstat(path)
                self.refused(memstrat("compare", self.a, self.b, "--csv", path, timeout=30), f"cannot write {path}")
                after = os.lstat(path)
                self.assertEqual((before.st_mode, before.st_ino), (after.st_mode, after.st_ino))
                # refused before anything is loaded: a missing run is not what it complains about
                self.refused(memstrat("compare", f"{self.t}/none", self.b, "--csv", path, timeout=30), path)
        self.assertEqual(read(kept), "mine\n")


if __name__ == "__main__":
    unittest.main()
