"""twinlib's pieces that need no interpreter under test (run by the test
runner's own python): the meter (workloads/meter.c's Lindley recursion with
request.c's calibration), llround, and knob parsing by knobs.h's rules.
"""
import os
import random
import sys
import unittest
from array import array

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tools", "twins"))
import twinlib  # noqa: E402


def q(values):
    return array("q", values)


class Meter(unittest.TestCase):
    def test_no_queue(self):
        m, interval = twinlib.meter(q([10, 20, 30]), q([10, 20, 30]), 10 ** 7)  # one arrival per 100 ns
        self.assertEqual(interval, 100.0)
        self.assertEqual(list(m), [10, 20, 30])

    def test_a_pause_delays_the_queue_behind_it(self):
        # arrivals 0, 100, 200, 300; the second request takes 500 ns.
        m, _ = twinlib.meter(q([10, 500, 10, 10]), q([10, 500, 10, 10]), 10 ** 7)
        self.assertEqual(list(m), [10, 500, 410, 320])

    def test_busy_after_the_answer(self):
        # The first request answers at 10 but keeps the server until 300 (a
        # collection at its end): only the request behind it waits.
        m, _ = twinlib.meter(q([10, 10]), q([300, 10]), 10 ** 7)
        self.assertEqual(list(m), [10, 210])

    def test_calibrated_rate(self):
        # rate=0: one arrival per 1.25 × the mean busy time (80% load).
        _, interval = twinlib.meter(q([100, 100]), q([100, 300]), 0)
        self.assertEqual(interval, 250.0)
        _, interval = twinlib.meter(q([0, 0]), q([0, 0]), 0)
        self.assertEqual(interval, 1.0, "a clock too coarse to see a request still gives a schedule")

    def test_invariant(self):
        rnd = random.Random(1)
        resp = q([rnd.randrange(1, 10 ** 6) for _ in range(5000)])
        busy = q([r + rnd.choice((0, 0, 0, rnd.randrange(10 ** 7))) for r in resp])
        m, interval = twinlib.meter(resp, busy, 0)
        self.assertTrue(all(x >= r for x, r in zip(m, resp)))
        self.assertGreater(max(x - r for x, r in zip(m, resp)), 0, "some request queued")

    def test_llround(self):
        for x, want in ((0.0, 0), (0.49999999999999994, 0), (0.5, 1), (1.5, 2), (2.5, 3), (2.4999, 2),
                        (4503599627370495.5, 4503599627370496), (1e15 + 0.25, 10 ** 15)):
            self.assertEqual(twinlib.llround(x), want, x)


class Knobs(unittest.TestCase):
    TABLE = (("n", twinlib.COUNT, "1000", 1, 5000000), ("mode", twinlib.STRING, "lru", 0, 0))

    def test_values(self):
        self.assertEqual(twinlib.knob_values(self.TABLE, {}, "w"), {"n": 1000, "mode": "lru"})
        self.assertEqual(twinlib.knob_values(self.TABLE, {"n": "2k"}, "w")["n"], 2000)
        self.assertEqual(twinlib.knob_values(self.TABLE, {"n": "5m"}, "w")["n"], 5000000)

    def test_errors(self):
        for given, words in (({"n": "6m"}, "knob 'n' must be in [1, 5000000]: 6000000 is out of range"),
                             ({"n": "-1"}, "knob 'n' must be digits with an optional k, m or g: '-1' is not a number"),
                             ({"n": "1x"}, "is not a number"), ({"n": ""}, "is not a number"),
                             ({"n": "\u0661"}, "is not a number"),
                             ({"x": "1"}, "unknown knob 'x' for workload w (its knobs: n, mode)"),
                             ({"mode": " lru"}, "must not start or end with a blank"),
                             ({"mode": "l\tru"}, "must be printable ASCII; byte 2 of 'l\\x09ru' is not"),
                             ({"mode": ""}, "knob 'mode' needs a value")):
            with self.assertRaises(twinlib.BadInput) as cm:
                twinlib.knob_values(self.TABLE, given, "w")
            self.assertIn(words, str(cm.exception))


if __name__ == "__main__":
    unittest.main()
