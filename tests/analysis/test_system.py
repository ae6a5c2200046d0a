"""memstrat system (analysis/system.py, issue 16): the facts are read from this machine and match
what /proc and /sys say; the busy test sees a CPU kept busy by a child; bench records the facts."""
import os
import subprocess
import sys
import unittest

from analysis import system


class System(unittest.TestCase):
    def test_facts_match_the_machine(self):
        fs = {n: (v, why) for n, v, why in system.facts(busy_share=0.0)}
        self.assertTrue(fs["cpus"][0].startswith(f"{os.sysconf('SC_NPROCESSORS_ONLN')} online"))
        aslr = open("/proc/sys/kernel/randomize_va_space").read().strip()
        self.assertEqual(fs["ASLR"][0], {"0": "off", "1": "partial", "2": "full"}[aslr])
        self.assertEqual(fs["ASLR"][1] == "", aslr == "0")
        thp = open("/sys/kernel/mm/transparent_hugepage/enabled").read()
        self.assertIn(f"[{fs['transparent huge pages'][0].split()[0]}]", thp)
        self.assertEqual(fs["CPU busy now"][1], "")  # 0% is quiet

    def test_busy_sees_a_spinning_child(self):
        spin = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        try:
            share = system.cpu_busy(1.0)
        finally:
            spin.kill()
            spin.wait()
        self.assertGreaterEqual(share, 0.9 / os.sysconf("SC_NPROCESSORS_ONLN"))  # one CPU of n at least ~90% busy
        fs = system.facts(busy_share=share)
        self.assertTrue(any(b.startswith("CPU busy now") for b in system.busy(fs)), fs)


if __name__ == "__main__":
    unittest.main()
