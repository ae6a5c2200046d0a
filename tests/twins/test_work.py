"""(a) Each twin does the C workload's object work: the GC containers a unit
allocates in the interpreter equal the objects the C workload allocates per unit.

How it is counted. Python side: tests/twins/counting.py runs the twin with the
collector disabled and reads CPython's generation-0 count (+1 per container
allocated, −1 per container freed, free lists filled for tuples and emptied for
the rest) at the twin's events. Where a workload's units are cyclic garbage
(ring, tree parent=1, batch's records at the end, request with cycles), nothing
of a unit is freed, so the count's rise is exactly what the units allocated, and
gc.collect() afterwards finds them all. C side: the figures come from running
the C workload (`memstrat run`): `leaked_objects` under pure refcounting (`rc`:
what is cyclic garbage), `gc_collected` / requests under rc+gen with
policy=manual (one collection per request end), `live_objects_end` and
`live_objects_peak`. No figure is computed from the C source here.

Structure (where the cycles are) is checked unit by unit against the C
contracts: tests/twins/structure.py builds units with the twins' own code.
"""
import unittest

from common import VERSION, memstrat, run_in_python

# 3.10 allocates a frame object per Python call, which its gen0 count sees too.
EXACT = VERSION not in ("3.10",)
why_not = "python3.10 counts its frame objects in gen0 as well (3.11+: frames are not objects)"


def counting(workload, layout, *knobs):
    return run_in_python("counting", workload, layout, *knobs)


def rc_leaked(cell):
    return int(memstrat(cell)["leaked_objects"])


@unittest.skipUnless(EXACT, why_not)
class ObjectWork(unittest.TestCase):
    def test_list_and_ring(self):
        # One Node per unit; a ring's nodes are all cyclic garbage, a list's none.
        for workload in ("list", "ring"):
            knobs = ("n=1000", "rounds=3")
            py = counting(workload, "slots", *knobs)
            leaked = rc_leaked("%s/rc/system/slots/%s" % (workload, "/".join(knobs)))
            self.assertEqual(leaked, 3000 if workload == "ring" else 0, workload)
            self.assertEqual(py["end"] - py["base"], leaked, "%s: containers left after the run" % workload)
            self.assertEqual(py["garbage"], leaked, "%s: cyclic garbage found by gc.collect()" % workload)
            self.assertEqual(py["ops"], 3000)

    def test_cycles(self):
        # size Nodes per cycle, every shed or held cycle cyclic garbage (held ones
        # are let go at the end); the live heap is freed by refcounting.
        for size in (1, 3):
            knobs = ("cycles=2000", "size=%d" % size, "live=500", "hold=10")
            py = counting("cycles", "slots", *knobs)
            leaked = rc_leaked("cycles/rc/system/slots/" + "/".join(knobs))
            self.assertEqual(leaked, 2000 * size, "size=%d" % size)
            self.assertEqual(py["end"] - py["base"], leaked, "size=%d: containers left after the run" % size)
            self.assertEqual(py["garbage"], leaked, "size=%d: cyclic garbage found by gc.collect()" % size)
            self.assertEqual(py["ops"], 2000)

    def test_tree(self):
        # GCBench with parent links: every node ever made is in a cycle, so the
        # count's rise is every node allocated; the C leaks exactly those under rc.
        knobs = ("stretch=9", "longlived=7", "min=4", "max=8", "array=2000")
        for parent in (1, 0):
            py = counting("tree", "slots", *(knobs + ("parent=%d" % parent,)))
            c = memstrat("tree/rc/system/slots/%s/parent=%d" % ("/".join(knobs), parent))
            self.assertEqual(py["counters"]["tree_nodes"], int(c["tree_nodes"]))
            self.assertEqual(py["counters"]["trees_built"], int(c["trees_built"]))
            want = int(c["tree_nodes"]) if parent else 0
            self.assertEqual(int(c["leaked_objects"]), want)
            self.assertEqual(py["end"] - py["base"], want, "parent=%d: containers allocated and never freed" % parent)
            self.assertEqual(py["garbage"], want)

    def test_batch(self):
        # Between the batch events: 1 + temps + fields instances per record, all
        # kept (records, fields) or cyclic garbage (the temporaries' rings).
        for knobs in (("n=1000", "temps=4", "fields=3"), ("n=700", "temps=0", "fields=2"), ("n=300", "temps=5", "fields=0")):
            py = counting("batch", "slots", *knobs)
            ev = dict((name, n) for name, n in py["events"])
            leaked = rc_leaked("batch/rc/system/slots/" + "/".join(knobs))
            self.assertEqual(ev["batch_end"] - ev["batch_begin"], leaked, "batch %s" % " ".join(knobs))
            self.assertEqual(py["garbage"], leaked)

    def test_request(self):
        # Per request (cycles=4: the whole request is garbage): the C collects
        # gc_collected/requests objects per request-end collection; the twin
        # allocates as many containers between two request ends. Under `dict`
        # both count each instance's dict as well.
        for layout in ("slots", "shared", "dict"):
            for records in (100, 7):
                knobs = ("requests=8", "warmup=2", "records=%d" % records, "appstate=50")
                py = counting("request", layout, *knobs)
                ends = [n for name, n in py["events"] if name == "request_end"]
                per = {b - a for a, b in zip(ends[1:], ends[2:])}
                c = memstrat("request/rc+gen/system/%s/%s/policy=manual" % (layout, "/".join(knobs)))
                c_per = int(c["gc_collected"]) / 8
                self.assertEqual(per, {c_per}, "%s records=%d: containers per request" % (layout, records))
                self.assertEqual(py["counters"]["req_objects"], int(c["req_objects"]))
                self.assertEqual(py["counters"]["app_objects"], int(c["app_objects"]))

    def test_cache(self):
        # At the end of the stream (the last live sample, before the drop) the
        # containers the stream made and still holds are the C's live objects:
        # Entries and Chunks (+ KeyedRefs under weak); every counter is the C's.
        knobs = ("ops=20000", "keys=5000", "window=100", "capacity=50", "hold=30", "payload=3")
        for layout in ("slots", "shared"):
            for kind in ("lru", "unbounded", "weak"):
                py = counting("cache", layout, *(knobs + ("cache=" + kind,)))
                samples = [n for name, n in py["events"] if name == "live_sample"]
                c = memstrat("cache/rc/system/%s/%s/cache=%s" % (layout, "/".join(knobs), kind))
                self.assertEqual(samples[-1] - samples[0], int(c["live_objects_end"]), "%s %s" % (layout, kind))
                for name in ("gets", "hits", "puts", "cache_entries_end", "live_objects_end", "hit_rate") + \
                        (("evictions",) if kind == "lru" else ()):
                    self.assertEqual(py["counters"][name], c[name], "%s %s: counter %s" % (layout, kind, name))
                self.assertEqual(py["ops"], py["counters"]["gets"] + py["counters"]["puts"])

    def test_instances(self):
        # One container per instance, two under `dict` (its own dict): the C's
        # live_objects_peak over n.
        for layout, per in (("slots", 1), ("shared", 1), ("dict", 2)):
            py = run_in_python("counting", "--build", 1000, "instances", layout, "attrs=4")
            c = memstrat("instances/rc/system/%s/n=1000/attrs=4" % layout)
            self.assertEqual(int(c["live_objects_peak"]), per * 1000)
            self.assertEqual(py["build_delta"], per * 1000, layout)

    def test_trace(self):
        # One container per `new`; what is left after the run (gc off) is the
        # trace's cyclic garbage, which the C leaks under rc.
        py = counting("trace", "slots")
        c = memstrat("trace/rc/system/slots")
        self.assertEqual(py["end"] - py["base"], int(c["leaked_objects"]))
        self.assertEqual(py["garbage"], int(c["leaked_objects"]))
        for name in ("trace_ops", "trace_news", "trace_held_peak"):
            self.assertEqual(py["counters"][name], int(c[name]), name)


class Structure(unittest.TestCase):
    """Where the references (and so the cycles) are, unit by unit, against the
    C contracts (tests/twins/structure.py builds the units with the twins' code)."""

    @classmethod
    def setUpClass(cls):
        cls.f = run_in_python("structure")

    def test_tree(self):
        for name, t in self.f["tree"].items():
            self.assertEqual((t["nodes"], t["leaves"], t["bad_parent_links"]), (31, 16, 0), name)
            self.assertEqual(t["has_parent_attr"], name.startswith("parent=1"), name)

    def test_request(self):
        for name, cycles in (("request4", 4), ("request0", 0)):
            r = self.f[name]
            self.assertEqual(r["queryset_points_back"], cycles > 0)
            self.assertEqual(r["owners"], list(range(cycles)), "the first `cycles` records point back")
            self.assertEqual(r["other_owners"], 0)
            self.assertEqual((r["records"], r["relations"], r["rows"], r["body"], r["count"]), (10, [5], 10, 10, 10))
            self.assertEqual((r["params"], r["headers"]), (10, 20))
            self.assertTrue(r["related_is_model"] and r["qs_model_is_model"] and r["keys_are_app_names"])

    def test_batch(self):
        b = self.f["batch"]
        self.assertEqual(b, {"temps_made": 4, "temps_point_back": True, "temps_ring": True, "record_lets_go": True,
                             "fields_pointing_back": 3, "total": 4 * 5 + 6})
        self.assertEqual(self.f["batch0"]["temps_made"], 0)

    def test_linked_and_cache(self):
        self.assertEqual(self.f["list"], {"nodes": 50, "tail_next_is_head": False, "tail_next_is_none": True})
        self.assertEqual(self.f["ring"], {"nodes": 50, "tail_next_is_head": True, "tail_next_is_none": False})
        self.assertEqual(self.f["cache"], {"key": 1000, "size": 4, "chain": [1003, 1002, 1001, 1000]})


if __name__ == "__main__":
    unittest.main()
