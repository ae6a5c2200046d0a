"""(b) The probe's output is well-formed per tools/twins/PROTOCOL.md for every
workload and layout, carries the C workload's counter names (and, where the
work is deterministic, its values), and bad input gives one `error` record and
the protocol's exit status.
"""
import os
import resource
import subprocess
import tempfile
import unittest

from common import PROBE, PYTHON, VERSION, c_counter_names, child_env, memstrat, run_probe

# Small knobs per workload: seconds at most, every code path (collections included).
SMALL = {
    "list": ("n=20000", "rounds=2"),
    "ring": ("n=20000", "rounds=2"),
    "tree": ("stretch=10", "longlived=8", "min=4", "max=10", "array=5000", "parent=1"),
    "trace": (),
    "cache": ("ops=30000", "keys=5000", "window=200", "capacity=100", "hold=50", "cache=unbounded"),
    "batch": ("n=5000",),
    "request": ("requests=300", "warmup=20", "appstate=500"),
    "instances": ("n=20000",),
    "cycles": ("cycles=20000", "live=5000", "size=3"),
}
# Counters whose value depends only on the knobs (not on time or memory): the
# twin must report the C's value.
DETERMINISTIC = {"tree_nodes", "trees_built", "trace_ops", "trace_news", "trace_held_peak", "gets", "hits", "puts",
                 "hit_rate", "evictions", "cache_entries_end", "live_objects_end", "records", "temporaries", "fields",
                 "req_objects", "app_objects", "cycles_shed", "live_heap_objects"}
JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
MIMALLOC = "/usr/lib/x86_64-linux-gnu/libmimalloc.so.2"


class WellFormed(unittest.TestCase):
    def test_every_workload_and_layout(self):
        for workload, knobs in SMALL.items():
            for layout in ("slots", "shared", "dict"):
                c = memstrat("/".join((workload, "rc+gen", "system", layout) + knobs))
                c_names = c_counter_names(workload) & set(c)
                with self.subTest(workload=workload, layout=layout):
                    r = run_probe(workload, knobs, layout=layout)
                    self.assertEqual(r.check_success(), [])
                    self.assertEqual(r.header["python"].split(".")[:2], VERSION.split("."))
                    self.assertEqual(set(r.counters) - {"leaked_objects"}, c_names,
                                     "counter names differ from the C workload's")
                    # the probe's leak check: instances of the workload's classes alive at the end
                    self.assertEqual(r.counters["leaked_objects"] == 0, c["leaked_objects"] == 0, "leaked_objects")
                    self.assertAlmostEqual(r.ops, c["ops_per_s"] * c["real_time"] / 1e3, delta=1e-6 * r.ops + 1e-6)
                    for name in c_names & DETERMINISTIC:
                        self.assertEqual(r.counters[name], c[name], "counter %s" % name)
                    by_gen = [sum(1 for p in r.pauses if p[2] == g) for g in range(3)]
                    self.assertEqual(by_gen, r.collections(), "one pause per collection, by generation")
                    self.assertEqual(sum(p[3] for p in r.pauses), r.collected(), "pauses' collected vs gc records")
                    self.assertGreater(sum(r.collections()), 0, "the small cell should collect")
                    if workload == "request":
                        self.assertEqual(len(r.latencies), 280, "one latency per measured request")

    def test_largefile(self):
        # largefile's collections need 700 / (records + 1) chunks of 1 MiB under the
        # default thresholds: small files under gc=20,10,10 instead, model and twin alike.
        # Deterministic counters equal, nothing leaked, the probe's pauses consistent.
        knobs = ("files=2", "file_mb=8", "records=3")
        for layout in ("slots", "shared", "dict"):
            c = memstrat("/".join(("largefile", "rc+gen", "system", layout) + knobs + ("gc=20,10,10",)))
            with self.subTest(layout=layout):
                r = run_probe("largefile", knobs, layout=layout, gc="20,10,10")
                self.assertEqual(r.check_success(), [])
                self.assertEqual(set(r.counters) - {"leaked_objects"}, c_counter_names("largefile"))
                for name in ("chunks", "records_made", "mb_processed"):
                    self.assertEqual(r.counters[name], c[name], "counter %s" % name)
                self.assertEqual(r.counters["leaked_objects"], 0)
                self.assertEqual(c["leaked_objects"], 0)
                self.assertEqual(r.ops, 16)
                by_gen = [sum(1 for p in r.pauses if p[2] == g) for g in range(3)]
                self.assertEqual(by_gen, r.collections(), "one pause per collection, by generation")
                self.assertGreater(r.collections()[0], 0, "gen0 collects the garbage rings")
                self.assertGreater(c["gc_collections_gen0"], 0)

    def test_result_on_stdout(self):
        # --result-fd 1: a person running the probe by hand reads the records on stdout.
        p = subprocess.run([PYTHON, PROBE, "--workload", "list", "--layout", "slots", "--gc", "default",
                            "--policy", "auto", "--result-fd", "1", "n=1000"], capture_output=True, text=True,
                           env=child_env(), timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        self.assertEqual((lines[0], lines[-1]), ("memstrat-probe 1", "done"))
        self.assertIn("ops 1000", lines)

    def test_probe_off(self):
        # --probe 0: no callback, so no pause records; the collections are the same.
        on = run_probe("tree", SMALL["tree"], probe=1)
        off = run_probe("tree", SMALL["tree"], probe=0)
        self.assertEqual(off.check_success(), [])
        self.assertEqual(off.pauses, [])
        self.assertGreater(len(on.pauses), 0)
        self.assertEqual(off.collections(), on.collections())

    def test_malloc_identity(self):
        r = run_probe("list", ("n=1000",))
        self.assertEqual(r.header["malloc"], "libc.so.6")
        for lib in (JEMALLOC, MIMALLOC):
            if not os.path.exists(lib):
                continue
            r = run_probe("list", ("n=1000",), env={"PYTHONMALLOC": "malloc", "LD_PRELOAD": lib})
            self.assertEqual(r.check_success(), [])
            self.assertEqual(r.header["malloc"], os.path.basename(lib))

    def test_rss_peak(self):
        # VmHWM is reset at begin: memory taken and given back before it (the
        # script's 64 MB source, read and compiled in the untimed set-up) does not
        # count; memory the run holds does.
        with tempfile.TemporaryDirectory() as d:
            big = os.path.join(d, "big.py")
            with open(big, "w") as f:
                f.write("# " + "x" * (64 << 20) + "\nx = 1\n")
            small = run_probe("script", ("script=" + big,))
            self.assertEqual(small.check_success(), [])
            self.assertLess(small.rss_peak, 48 << 20, "the set-up's 64 MB survived the VmHWM reset")
        large = run_probe("list", ("n=2000000",))
        self.assertGreater(large.rss_peak, 2000000 * 48, "2M nodes of 48 bytes are resident at the peak")


class BadInput(unittest.TestCase):
    def assertError(self, r, status, *words):
        self.assertEqual(r.rc, status, "exit status (stderr %r)" % r.stderr[-300:])
        self.assertEqual(r.problems, [])
        self.assertEqual(r.lines[0], "memstrat-probe 1")
        self.assertFalse(r.done, "no done after an error")
        self.assertIsNotNone(r.error)
        self.assertEqual(r.lines[-1], "error " + r.error)
        for w in words:
            self.assertIn(w, r.error)

    def test_knobs(self):
        self.assertError(run_probe("list", ("m=5",)), 2, "unknown knob 'm'", "n, rounds")
        self.assertError(run_probe("list", ("n=abc",)), 2, "knob 'n' must be digits with an optional k, m or g")
        self.assertError(run_probe("list", ("n=0",)), 2, "knob 'n' must be in [1, 2147483648]: 0 is out of range")
        self.assertError(run_probe("cache", ("cache=fifo",)), 2, "knob 'cache': 'fifo' is not one of lru, unbounded")
        self.assertError(run_probe("list", ("n=5", "n=6")), 2, "given twice")
        r = run_probe("list", ("n=2k",))  # suffixes as in the C (rule 1 of knobs.h)
        self.assertEqual(r.check_success(), [])
        self.assertEqual(r.ops, 2000)

    def test_cross_knob_rules_as_the_c(self):
        # The same rule and the same words as the C workload's check.
        for workload, knobs in (("tree", ("min=10", "max=8")), ("request", ("warmup=10", "requests=10")),
                                ("request", ("cycles=5", "records=4")), ("cache", ("window=10", "keys=5")),
                                ("instances", ("attrs=3",))):
            r = run_probe(workload, knobs)
            c = subprocess.run([os.environ.get("MEMSTRAT", "build/memstrat"), "run",
                                "%s/rc+gen/system/slots/%s" % (workload, "/".join(knobs))],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(c.returncode, 2)
            self.assertError(r, 2)
            self.assertIn(r.error, c.stderr, "%s: the C says %r" % (workload, c.stderr))

    def test_options(self):
        self.assertError(run_probe("nope"), 2, "unknown workload 'nope'")
        self.assertError(run_probe("list", layout="hash"), 2, "unknown layout 'hash'")
        self.assertError(run_probe("list", policy="lazy"), 2, "unknown policy 'lazy'")
        self.assertError(run_probe("list", gc="700,10"), 2, "--gc wants T0,T1,T2")
        self.assertError(run_probe("list", probe=2), 2, "--probe wants 0 or 1")
        self.assertError(run_probe(None, args=["--layout", "slots"]), 2, "--workload is required")
        self.assertError(run_probe(None, args=["--workload", "list", "--layout", "slots", "--gc", "off",
                                               "--policy", "auto", "stray"]), 2, "expected KNOB=VALUE")

    def test_no_result_fd(self):
        for extra in ([], ["--result-fd", "57"], ["--result-fd", "x"]):
            p = subprocess.run([PYTHON, PROBE, "--workload", "list"] + extra, capture_output=True, text=True,
                               env=child_env(), timeout=60)
            self.assertEqual(p.returncode, 2)
            self.assertEqual(p.stdout, "")
            self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)
            self.assertIn("--result-fd", p.stderr)

    def test_bad_trace(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "bad.trace")
            with open(path, "w") as f:
                f.write("# memstrat-trace v1\nnew 0 1\nbogus 1\n")
            r = run_probe("trace", ("trace=" + path,))
            self.assertError(r, 2, "trace %s:3: expected an op (new, set, drop, hold, collect, burst), got 'bogus'" % path)
            self.assertError(run_probe("trace", ("trace=" + d,)), 2, "expected a regular file, got a directory")
            self.assertError(run_probe("trace", ("trace=" + path + ".missing",)), 2,
                             "expected a readable trace file")

    @unittest.skipIf(VERSION == "3.13", "CPython 3.13.0 itself dies with SIGSEGV when memory runs out "
                     "(a plain loop of slot instances under `ulimit -v` does too)")
    def test_workload_failure_exits_1(self):
        # Memory runs out (the address space is capped in the child): the twin
        # fails, one `error` line, exit 1 — not a traceback.
        # 128 MB: a few times what the interpreter starts with, so the list runs out in ~1 s
        # (400 MB took 7-17 s per interpreter for the same outcome).
        def cap():
            resource.setrlimit(resource.RLIMIT_AS, (128 << 20, 128 << 20))
        r = subprocess.run([PYTHON, PROBE, "--workload", "list", "--layout", "slots", "--gc", "default",
                            "--policy", "auto", "--result-fd", "1", "n=20000000"], capture_output=True, text=True,
                           env=child_env(), timeout=120, preexec_fn=cap)
        self.assertEqual(r.returncode, 1, r.stdout[-300:] + r.stderr[-300:])
        self.assertEqual(r.stdout.splitlines()[-1], "error out of memory")


if __name__ == "__main__":
    unittest.main()
