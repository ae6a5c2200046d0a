"""(f) The user's program under the probe (workload `script`): the README's
example (tools/twins/example.py: 2000 units, warmup_done() after 200) gives
ops = units and one latency per measured unit, and the policies act at its
events; a program that raises gives its exception's last line and exit 2; the
program runs as `python PATH ARGS` would run it.
"""
import os
import tempfile
import textwrap
import unittest

from common import ROOT, run_probe

EXAMPLE = os.path.join(ROOT, "tools", "twins", "example.py")


class Script(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def script(self, text, name="app.py"):
        path = os.path.join(self.tmp.name, name)
        with open(path, "w") as f:
            f.write(textwrap.dedent(text))
        return path

    def assertFailed(self, r, status, message):
        self.assertEqual(r.rc, status, r.stderr[-300:])
        self.assertFalse(r.done)
        self.assertEqual(r.lines[-1], "error " + message)

    def test_example(self):
        r = run_probe("script", ("script=" + EXAMPLE,))
        self.assertEqual(r.check_success(), [])
        self.assertEqual(r.ops, 2000)
        self.assertEqual(r.counters, {"units": 2000, "warmup_units": 200})
        self.assertEqual(len(r.latencies), 1800, "one latency per unit after the warm-up")
        self.assertGreater(sum(r.collections()), 0)
        # policy=manual: one collection per unit end (gen2 every 100th, gen1 every 10th).
        m = run_probe("script", ("script=" + EXAMPLE,), policy="manual")
        self.assertEqual(m.collections(), [1800, 180, 20])
        # Each unit's session is cyclic garbage: 51 dicts and a list per unit, collected at its end.
        self.assertEqual(m.collected(), 2000 * 52)

    def test_freeze_at_warmup_done(self):
        path = self.script("""
            import gc, memstrat_probe
            keep = [[i] for i in range(1000)]
            before = gc.get_freeze_count()
            memstrat_probe.warmup_done()
            assert gc.get_freeze_count() >= before + 1000, (before, gc.get_freeze_count())
            """)
        self.assertEqual(run_probe("script", ("script=" + path,), policy="freeze").check_success(), [])
        r = run_probe("script", ("script=" + path,), policy="auto")  # no freeze: the count stays
        self.assertEqual(r.rc, 2)
        self.assertRegex(r.lines[-1], r"^error AssertionError: \((\d+), \1\)$")

    def test_whole_run_is_one_op(self):
        r = run_probe("script", ("script=" + self.script("x = [list() for _ in range(100000)]\n"),))
        self.assertEqual(r.check_success(), [])
        self.assertEqual(r.ops, 1)
        self.assertEqual(r.latencies, [])
        self.assertEqual(r.counters["units"], 0)

    def test_raises(self):
        path = self.script("""
            import memstrat_probe
            with memstrat_probe.unit():
                pass
            raise ValueError("bad port %d\\nsecond line" % 80)
            """)
        self.assertFailed(run_probe("script", ("script=" + path,)), 2, "ValueError: bad port 80 second line")
        self.assertFailed(run_probe("script", ("script=" + self.script("import sys\nsys.exit(3)\n"),)), 2,
                          "SystemExit: 3")
        self.assertEqual(run_probe("script", ("script=" + self.script("import sys\nsys.exit(0)\n"),)).rc, 0)
        self.assertFailed(run_probe("script", ("script=" + self.script("def f(:\n"),)), 2,
                          "script %s: SyntaxError: invalid syntax" % os.path.join(self.tmp.name, "app.py"))
        missing = os.path.join(self.tmp.name, "missing.py")
        self.assertFailed(run_probe("script", ("script=" + missing,)), 2,
                          "script %s: cannot read it (No such file or directory)" % missing)
        self.assertFailed(run_probe("script", ()), 2,
                          "knob 'script' is required: script=PATH (the program to run as __main__)")
        self.assertFailed(run_probe("script", ("script=" + EXAMPLE, "args='open")), 2,
                          "knob 'args': No closing quotation: ''open'")

    def test_runs_as_main(self):
        out = os.path.join(self.tmp.name, "out.txt")
        self.script("VALUE = 42\n", name="helper.py")
        path = self.script("""
            import sys, trace
            import helper                                  # the script's directory is sys.path[0]
            assert __name__ == "__main__" and sys.modules["__main__"].__file__ == __file__
            assert "twins" not in trace.__file__, trace.__file__   # the standard library's trace
            open(%r, "w").write(repr((sys.argv[1:], helper.VALUE)))
            """ % out)
        r = run_probe("script", ("script=" + path, "args=--port 8000 'two words'"), cwd=self.tmp.name)
        self.assertEqual(r.check_success(), [])
        with open(out) as f:
            self.assertEqual(f.read(), repr((["--port", "8000", "two words"], 42)))


if __name__ == "__main__":
    unittest.main()
