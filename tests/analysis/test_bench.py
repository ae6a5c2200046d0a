"""Unit tests of analysis/bench.py's pieces that need no measuring binary: the owner records of
.tmp directories (stale ones of gone drivers removed, live or record-less ones kept), the
child runner (timeout, exit status, signal, last stderr line, children dying with the driver),
option errors, and core.enclosing_run (--out inside a run)."""
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from contextlib import redirect_stderr, redirect_stdout

from analysis import bench, core


class TmpDirs(unittest.TestCase):
    def setUp(self):
        self.t = tempfile.TemporaryDirectory()
        self.d = self.t.name

    def tearDown(self):
        self.t.cleanup()

    def tmp(self, name, record):
        p = os.path.join(self.d, name)
        os.mkdir(p)
        os.mkdir(os.path.join(p, "json"))
        if record is not None:
            with open(os.path.join(p, bench.OWNER), "w") as f:
                f.write(record)
        return p

    def test_stale_removed_live_and_unowned_kept(self):
        dead = subprocess.Popen(["true"])
        dead.wait()
        me = bench._owner(os.getpid())
        gone = self.tmp(".tmp-gone", f"{dead.pid} {me.split()[1]} {me.split()[2]}\n")  # exited driver
        reused = self.tmp(".tmp-reused", f"{os.getpid()} 1 {me.split()[2]}\n")   # our pid, other start
        reboot = self.tmp(".tmp-reboot", f"{me.split()[0]} {me.split()[1]} another-boot\n")
        live = self.tmp(".tmp-live", me + "\n")
        unowned = self.tmp(".tmp-unowned", None)
        garbage = self.tmp(".tmp-garbage", "not a record")
        other = self.tmp("run-1", f"{dead.pid} 1 x\n")  # not a .tmp dir: never looked at
        os.symlink(gone + "-target", os.path.join(self.d, ".tmp-link"))
        err = io.StringIO()
        with redirect_stderr(err):
            bench.clean_stale(self.d)
        for p in (gone, reused, reboot):
            self.assertFalse(os.path.exists(p), p)
        for p in (live, unowned, garbage, other):
            self.assertTrue(os.path.isdir(p), p)
        self.assertTrue(os.path.islink(os.path.join(self.d, ".tmp-link")))
        self.assertEqual(len(err.getvalue().splitlines()), 3, err.getvalue())

    def test_make_tmp_records_owner_and_refuses_existing(self):
        tmp = os.path.join(self.d, "out", ".tmp-x")
        bench.make_tmp(os.path.join(self.d, "out"), tmp)
        self.assertEqual(sorted(os.listdir(tmp)), sorted([bench.OWNER, *bench.SUBDIRS]))
        with open(os.path.join(tmp, bench.OWNER)) as f:
            self.assertEqual(f.read().strip(), bench._owner(os.getpid()))
        with self.assertRaises(core.Fail) as cm:
            bench.make_tmp(os.path.join(self.d, "out"), tmp)
        self.assertEqual(cm.exception.status, core.EXIT_USAGE)
        self.assertTrue(os.path.exists(os.path.join(tmp, bench.OWNER)))  # someone else's: untouched

    def test_enclosing_run(self):
        run = self.tmp("r1", None)
        with open(os.path.join(run, "meta.json"), "w") as f:
            f.write("{}")
        os.symlink("r1", os.path.join(self.d, "latest"))
        self.assertEqual(core.enclosing_run(run), os.path.realpath(run))
        self.assertEqual(core.enclosing_run(os.path.join(run, "json", "new", "deeper")), os.path.realpath(run))
        self.assertEqual(core.enclosing_run(os.path.join(self.d, "latest")), os.path.realpath(run))
        self.assertIsNone(core.enclosing_run(self.d))
        self.assertIsNone(core.enclosing_run(os.path.join(self.d, "r2")))


class Children(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        bench.signals_begin()

    def run_sh(self, script, timeout=30):
        with tempfile.TemporaryFile() as err:
            ch = bench.spawn_wait(["sh", "-c", script], subprocess.DEVNULL, err, timeout)
            return ch, bench.last_line(err.fileno())

    def test_exit_status_and_last_line(self):
        ch, last = self.run_sh("echo first >&2; printf 'bad\\033[31m line\\n\\n' >&2; exit 3")
        self.assertEqual((ch.status, ch.signal, ch.timed_out), (3, 0, False))
        self.assertEqual(last, "bad\\x1b[31m line")  # control bytes escaped
        self.assertEqual(ch.why, "exit status 3")

    def test_timeout_kills_the_process_group(self):
        t0 = time.monotonic()
        ch, _ = self.run_sh("sleep 60 & sleep 60", timeout=1)
        self.assertTrue(ch.timed_out)
        self.assertLess(time.monotonic() - t0, 20)
        self.assertEqual(ch.why, "timed out after 1 s")

    def test_signal_and_spawn_error(self):
        ch, _ = self.run_sh("kill -SEGV $$")
        self.assertEqual(ch.signal, signal.SIGSEGV)
        self.assertIn("killed by signal 11", ch.why)
        ch = bench.spawn_wait(["/nonexistent/memstrat"], None, None, 5)
        self.assertEqual(ch.why, "could not start: No such file or directory")

    def test_child_dies_with_its_driver(self):
        """A driver killed by SIGKILL takes its child along (PR_SET_PDEATHSIG)."""
        with tempfile.TemporaryDirectory() as d:
            pidfile = os.path.join(d, "pid")
            code = ("import subprocess, sys; from analysis import bench; bench.signals_begin(); "
                    f"bench.spawn_wait(['sh', '-c', 'echo $$ > {pidfile}; exec sleep 60'], None, None, 60)")
            driver = subprocess.Popen([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": os.getcwd()})
            for _ in range(200):
                if core.read_text(pidfile).strip():
                    break
                time.sleep(0.05)
            child = int(core.read_text(pidfile))
            driver.kill()
            driver.wait()
            for _ in range(100):
                state = core.read_text(f"/proc/{child}/stat").rpartition(")")[2].split()[:1]
                if state in ([], ["Z"]):
                    break
                time.sleep(0.05)
            if state not in ([], ["Z"]):
                os.kill(child, signal.SIGKILL)
                self.fail(f"child {child} outlived its driver")


class Options(unittest.TestCase):
    def fails(self, *argv):
        with self.assertRaises(core.Fail) as cm:
            bench.parse_args(list(argv))
        self.assertEqual(cm.exception.status, core.EXIT_USAGE)
        self.assertNotIn("\n", str(cm.exception))
        return str(cm.exception)

    def test_bad_options(self):
        self.fails("--reps", "0")
        self.fails("--reps", "2.5")
        self.fails("--timeout", "86401")
        self.fails("--gcscan-n", "-5")
        self.fails("--frobnicate")
        self.fails("--quic")  # no abbreviations
        self.assertIn("--out", self.fails("--out="))

    def test_defaults(self):
        o = bench.parse_args([])
        self.assertEqual((o.timeout, o.gcscan_n, o.reps, o.quick), (600, None, None, False))  # None: by --quick

    def test_help_lists_every_option(self):
        out = io.StringIO()
        with redirect_stdout(out), self.assertRaises(SystemExit) as cm:
            bench.parse_args(["--help"])
        self.assertEqual(cm.exception.code, 0)
        text = " ".join(out.getvalue().split())  # argparse wraps to the terminal's width
        self.assertIn("usage: memstrat bench [--matrix FILE]", text)
        for flag, _, help_text in bench.OPTIONS:
            self.assertIn(f"{flag} {help_text}", text)


if __name__ == "__main__":
    unittest.main()


@unittest.skipUnless(os.access(os.environ.get("MEMSTRAT") or os.path.join(bench.SOURCE_DIR, "build", "memstrat"),
                               os.X_OK), "needs the memstrat binary")
class Warmups(unittest.TestCase):
    """Issue 16: warm-up repetitions run first, are kept as a record (warmup/, meta.json) and are
    never samples: results.csv and the summary hold the measured repetitions only."""

    def test_warmups_are_records_not_samples(self):
        binary = os.environ.get("MEMSTRAT") or os.path.join(bench.SOURCE_DIR, "build", "memstrat")
        with tempfile.TemporaryDirectory() as d:
            m = os.path.join(d, "m.txt")
            with open(m, "w") as f:
                f.write("list/rc/system/slots/n=1000\nring/rc/system/slots/n=1000\n")
            p = subprocess.run([binary, "bench", "--matrix", m, "--reps", "2", "--warmups", "2", "--out", d,
                                "--run-id", "w", "--no-plots", "--gcscan-n", "0"], capture_output=True, text=True,
                               timeout=300)
            self.assertEqual(p.returncode, 0, p.stderr)
            run = os.path.join(d, "w")
            self.assertEqual(sorted(os.listdir(os.path.join(run, "warmup"))), sorted(
                f"{c}__rc__system__slots__n=1000.warmup{k}.json" for c in ("list", "ring") for k in (1, 2)))
            with open(os.path.join(run, "results.csv")) as f:
                self.assertEqual([ln.split(",")[7] for ln in f.read().splitlines()[1:]], ["1", "2", "1", "2"])
            with open(os.path.join(run, "meta.json")) as f:
                meta = json.load(f)
            self.assertEqual(meta["warmups"], 2)
            self.assertEqual([len(v) for v in meta["warmup_ms"].values()], [2, 2])
            self.assertTrue(all(t > 0 for v in meta["warmup_ms"].values() for t in v))
            self.assertIn("[warm-up 4/4] ring/rc/system/slots/n=1000 warm-up 2/2", p.stderr)
            self.assertIn("[4/4] ring/rc/system/slots/n=1000 rep 2/2", p.stderr)
