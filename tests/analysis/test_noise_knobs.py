"""Unit tests of bench's noise knobs (issue 16 item 2): the running order of --order interleaved
and blocked, the runner flags of --pin and --rss-period-us, --aslr off reaching the child
(personality ADDR_NO_RANDOMIZE), and their bad values refused with one line."""
import tempfile
import unittest

from analysis import bench, core


class Schedule(unittest.TestCase):
    def test_interleaved_is_repetition_major_after_the_warmups(self):
        self.assertEqual(bench.schedule(2, 2, 1, "interleaved"),
                         [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1)])

    def test_blocked_is_cell_major_with_its_warmups_first(self):
        self.assertEqual(bench.schedule(2, 2, 1, "blocked"),
                         [(0, 0), (1, 0), (2, 0), (0, 1), (1, 1), (2, 1)])

    def test_same_runs_either_way(self):
        for w in (0, 2):
            self.assertEqual(sorted(bench.schedule(3, 4, w, "blocked")), sorted(bench.schedule(3, 4, w, "interleaved")))
            self.assertEqual(len(bench.schedule(3, 4, w, "blocked")), 3 * (4 + w))


class Options(unittest.TestCase):
    def fails(self, *argv):
        with self.assertRaises(core.Fail) as cm:
            bench.parse_args(list(argv))
        self.assertEqual(cm.exception.status, core.EXIT_USAGE)
        self.assertNotIn("\n", str(cm.exception))
        return str(cm.exception)

    def test_bad_values(self):
        self.assertIn("--order", self.fails("--order", "random"))
        self.assertIn("--aslr", self.fails("--aslr", "maybe"))
        self.assertIn("--pin", self.fails("--pin", "0,1,2"))
        self.assertIn("--pin", self.fails("--pin", "x"))
        self.fails("--rss-period-us", "-1")

    def test_runner_flags(self):
        o = bench.parse_args(["--pin", "0,1", "--rss-period-us", "0", "--aslr", "off", "--order", "blocked"])
        how = bench.child_how(o)
        self.assertEqual(how.flags, ["--ms_pin=0,1", "--ms_rss_period_us=0"])
        self.assertTrue(how.no_aslr)
        d = bench.child_how(bench.parse_args([]))
        self.assertEqual((d.flags, d.no_aslr), ([], False))


class Aslr(unittest.TestCase):
    def setUp(self):
        if bench._wake is None:  # spawn_wait waits on the signal pipe that signals_begin makes
            bench.signals_begin()

    def personality(self, no_aslr):
        with tempfile.TemporaryFile() as out:
            ch = bench.spawn_wait(["cat", "/proc/self/personality"], out, None, 10, no_aslr)
            self.assertEqual(ch.status, 0, ch.why)
            out.seek(0)
            return int(out.read(), 16)

    def test_off_reaches_the_child(self):
        self.assertTrue(self.personality(True) & bench.ADDR_NO_RANDOMIZE)
        self.assertFalse(self.personality(False) & bench.ADDR_NO_RANDOMIZE)


if __name__ == "__main__":
    unittest.main()
