"""(e) The layouts give in the interpreter what PROTOCOL.md and the README say:
  slots   __slots__: no dict; 16 + 8·k bytes of object + the 16-byte GC head
          (2 attributes: 48 B, 4: 64 B) by sys.getsizeof and by tracemalloc;
          __weakref__ only where the C class declares one;
  shared  a plain class, attributes set in declaration order by __init__: the
          instance's dict is split (key-sharing: its getsizeof leaves the class's
          shared keys out, so it is smaller than the same items in a combined
          table); bytes per instance by tracemalloc: 88 in 3.11 and 3.13 (values
          inline), 80 in 3.12, 152 in 3.10 (instance + its own split dict);
  dict    the instance gets its own fresh dict: a combined table (getsizeof as a
          combined dict of the same items), more bytes than `shared`.
The instances twin reports the same bytes per instance (bytes_per_instance_alloc).
"""
import unittest

from common import VERSION, run_in_python, run_probe

# tracemalloc bytes per plain instance with 2 attributes (DESIGN.md: 88 in 3.11, 152 in 3.10).
SHARED_BYTES = {"3.10": 152, "3.11": 88, "3.12": 80, "3.13": 88}


class Layouts(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.m = run_in_python("layouts")

    def test_slots(self):
        for k, size in ((2, 48), (4, 64)):
            m = self.m["slots/%d" % k]
            self.assertEqual(m["getsizeof"], size)
            self.assertEqual(round(m["tracemalloc"]), size)
            self.assertFalse(m["has_dict"])
            self.assertFalse(m["weakrefable"])
        w = self.m["slots/2/weakref"]
        self.assertTrue(w["weakrefable"])
        self.assertIn("__weakref__", w["slots"])
        self.assertGreater(w["getsizeof"], 48)

    def test_shared_is_key_sharing(self):
        for k in (2, 4):
            m = self.m["shared/%d" % k]
            self.assertTrue(m["has_dict"])
            self.assertEqual(m["dict_keys"], ["a%d" % i for i in range(k)], "declaration order")
            self.assertLess(m["dict_getsizeof"], m["combined_getsizeof"], "a split (key-sharing) dict")
        if VERSION in SHARED_BYTES:
            self.assertEqual(round(self.m["shared/2"]["tracemalloc"]), SHARED_BYTES[VERSION])

    def test_dict_is_its_own(self):
        for k in (2, 4):
            m, shared = self.m["dict/%d" % k], self.m["shared/%d" % k]
            self.assertTrue(m["has_dict"])
            self.assertEqual(m["dict_keys"], ["a%d" % i for i in range(k)])
            self.assertEqual(m["dict_getsizeof"], m["combined_getsizeof"], "a combined table, not key-shared")
            self.assertGreater(m["tracemalloc"], shared["tracemalloc"] + 64)
        self.assertTrue(self.m["dict/2"]["weakrefable"])

    def test_instances_twin_reports_them(self):
        for layout in ("slots", "shared", "dict"):
            for k in (2, 4):
                r = run_probe("instances", ("n=20000", "attrs=%d" % k), layout=layout)
                self.assertEqual(r.check_success(), [])
                self.assertEqual(round(r.counters["bytes_per_instance_alloc"]),
                                 round(self.m["%s/%d" % (layout, k)]["tracemalloc"]), "%s attrs=%d" % (layout, k))


if __name__ == "__main__":
    unittest.main()
