"""(c) The policies change the interpreter's collections as they change the
model's (rc+gen, strategies/heap.c's mm_event_notify):
  manual  one collection per unit end — gen2 every 100th, else gen1 every 10th,
          else gen0 — and none besides: the same counts as the model, exactly;
  batch   none during the batch, exactly one full collection after it;
  freeze  after the warm-up the application state leaves the collector's view:
          long_lived_total shrinks, so full collections come more often (and
          each examines fewer objects — the model's gc_examined; the interpreter
          does not count them before 3.15).
"""
import unittest

from common import memstrat, run_probe


class Manual(unittest.TestCase):
    def test_request(self):
        # 250 requests: gen2 at 100 and 200, gen1 at the other 23 tens, gen0 the rest.
        knobs = ("requests=250", "warmup=10", "records=20", "appstate=100")
        c = memstrat("request/rc+gen/system/slots/%s/policy=manual" % "/".join(knobs))
        for layout in ("slots", "dict"):
            r = run_probe("request", knobs, layout=layout, policy="manual")
            self.assertEqual(r.check_success(), [])
            self.assertEqual(r.collections(), [225, 23, 2])
            self.assertEqual(r.collections(), [int(c["gc_collections_gen%d" % g]) for g in range(3)])
            self.assertEqual(len(r.pauses), 250, "one pause per request end")
            # Every request is cyclic garbage by its end, collected there. The C's
            # dicts are always tracked; CPython never tracks a dict that holds only
            # atomic values: the params and headers dicts, and under `dict` the own
            # dict of every Relation (5 per record) and Row (1 per record).
            untracked = 2 + (6 * 20 if layout == "dict" else 0)
            c_layout = memstrat("request/rc+gen/system/%s/%s/policy=manual" % (layout, "/".join(knobs)))
            self.assertEqual(r.collected(), int(c_layout["gc_collected"]) - 250 * untracked, layout)

    def test_without_unit_events(self):
        # list sends no request-end event: manual means no collection at all, as in the model.
        r = run_probe("list", ("n=200000",), policy="manual")
        c = memstrat("list/rc+gen/system/slots/n=200000/policy=manual")
        self.assertEqual(r.collections(), [0, 0, 0])
        self.assertEqual([int(c["gc_collections_gen%d" % g]) for g in range(3)], [0, 0, 0])
        auto = run_probe("list", ("n=200000",))
        self.assertGreater(sum(auto.collections()), 0)


class Batch(unittest.TestCase):
    def test_one_full_collection_after(self):
        knobs = ("n=30000", "temps=4", "fields=3")
        c = memstrat("batch/rc+gen/system/slots/%s/policy=batch" % "/".join(knobs))
        r = run_probe("batch", knobs, policy="batch")
        self.assertEqual(r.check_success(), [])
        self.assertEqual(r.collections(), [0, 0, 1])
        self.assertEqual(r.collections(), [int(c["gc_collections_gen%d" % g]) for g in range(3)])
        self.assertEqual([p[2] for p in r.pauses], [2], "one pause: the full collection after the batch")
        # It frees every temporaries' ring: 30000 × 4, in both.
        self.assertEqual(r.collected(), 120000)
        self.assertEqual(int(c["gc_collected"]), 120000)
        auto = run_probe("batch", knobs)
        self.assertGreater(auto.collections()[0], 10, "without the policy the build collects all along")
        # gc=off keeps automatic collection off until the batch's end re-enables it (as the model).
        off = run_probe("batch", knobs, gc="off", policy="batch")
        self.assertEqual(off.collections(), [0, 0, 1])


class Freeze(unittest.TestCase):
    def test_more_and_smaller_full_collections(self):
        knobs = ("requests=2500", "warmup=400", "records=50", "appstate=100000")
        gens = {}
        for policy in ("auto", "freeze"):
            r = run_probe("request", knobs, gc="700,10,10", policy=policy)
            self.assertEqual(r.check_success(), [])
            c = memstrat("request/rc+gen/system/slots/%s/policy=%s" % ("/".join(knobs), policy))
            gens[policy] = (r.collections()[2], int(c["gc_collections_gen2"]), int(c["gc_examined"]))
        (py_auto, c_auto, ex_auto), (py_freeze, c_freeze, ex_freeze) = gens["auto"], gens["freeze"]
        self.assertGreater(c_freeze, c_auto, "model: more full collections after freeze")
        self.assertLess(ex_freeze, ex_auto, "model: fewer objects examined after freeze")
        self.assertGreater(py_freeze, py_auto, "interpreter: more full collections after freeze, as the model")
        self.assertGreaterEqual(py_freeze - py_auto, (c_freeze - c_auto) // 2,
                                "interpreter: about as many more as the model (%s vs %s)" % (gens["auto"], gens["freeze"]))


if __name__ == "__main__":
    unittest.main()
