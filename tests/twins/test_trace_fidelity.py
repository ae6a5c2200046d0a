"""(d) The trace twin under the probe makes the same collections per generation
as tools/cpython_replay.py (the existing fidelity claim: real CPython 3.11) and
as the model (`memstrat run trace/rc+gen/system/slots`), with the same objects
collected: on tools/traces/mix-20k.trace at 700,10,10, and on a generated 200k-op
trace at 700,10,10 and at 100,5,5 (which reaches full collections).

Figures: the probe's `gc` records (gc.get_stats(), set-up collection removed);
cpython_replay's JSON, source `stats` for --probe 0 and `callbacks` for
--probe 1 (both sources install the same callback effect: CPython's info dict
per event can shift the gen0 count after a full collection, so with --probe 1
the twin is compared with cpython_replay's callback figures).
"""
import json
import os
import subprocess
import tempfile
import unittest

from common import PYTHON, ROOT, child_env, memstrat, needs, run_probe

REPLAY = os.path.join(ROOT, "tools", "cpython_replay.py")
TRACEGEN = os.path.join(ROOT, "tools", "tracegen.py")


def replay(path, thresholds, source):
    p = subprocess.run([PYTHON, REPLAY, path, "--thresholds", thresholds, "--source", source], capture_output=True,
                       text=True, env=child_env(), timeout=300)
    if p.returncode != 0:
        raise AssertionError("cpython_replay failed: %s" % p.stderr)
    return json.loads(p.stdout)


@needs("3.11")
class TraceFidelity(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.generated = os.path.join(cls.tmp.name, "mix-200k.trace")
        subprocess.run([PYTHON, TRACEGEN, "--seed", "1", "--ops", "200000", "--shape", "mix", "-o", cls.generated],
                       check=True, env=child_env(), timeout=300)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def check(self, path, thresholds, want_gen2):
        c = memstrat("trace/rc+gen/system/slots/gc=%s/trace=%s" % (thresholds, path))
        model = [int(c["gc_collections_gen%d" % g]) for g in range(3)]
        for probe, source in ((0, "stats"), (1, "callbacks")):
            r = run_probe("trace", ("trace=" + path,), gc=thresholds, probe=probe)
            self.assertEqual(r.check_success(), [])
            real = replay(path, thresholds, source)
            self.assertEqual(r.collections(), real["collections"], "probe %d vs cpython_replay %s" % (probe, source))
            self.assertEqual([r.gc[g][1] for g in range(3)], real["collected_gen"],
                             "collected per generation: probe %d vs cpython_replay %s" % (probe, source))
            self.assertEqual(r.counters["trace_ops"], real["ops"])
            if probe == 0:
                self.assertEqual(r.collections(), model, "twin vs model (rc+gen)")
                self.assertEqual(r.collected(), int(c["gc_collected"]), "twin vs model (rc+gen)")
        self.assertEqual(model[2] > 0, want_gen2, "full collections expected: %s" % want_gen2)
        self.assertGreater(model[0], 0)

    def test_shipped_trace(self):
        self.check(os.path.join(ROOT, "tools", "traces", "mix-20k.trace"), "700,10,10", False)

    def test_generated_trace(self):
        self.check(self.generated, "700,10,10", False)

    def test_full_collections(self):
        self.check(self.generated, "100,5,5", True)


if __name__ == "__main__":
    unittest.main()
