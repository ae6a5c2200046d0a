"""structure.py — builds units with the twins' own code in the interpreter under
test and reports how their objects point at each other, as JSON on stdout, so
that a test can hold them to the C workloads' contracts (where the cycles are).
Classes are the layout's, subclassed only to remember every instance made.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tools", "twins"))
import twinlib  # noqa: E402


def recording(cls):
    """cls, remembering its instances in `made` (kept alive: the test inspects them)."""
    made = []

    def __init__(self, *args):
        cls.__init__(self, *args)
        made.append(self)

    sub = type(cls.__name__, (cls,), {"__init__": __init__, "__slots__": ()} if hasattr(cls, "__slots__")
               else {"__init__": __init__})
    return sub, made


class Ctx:
    layout = "slots"
    ops = 0

    def make_class(self, name, attrs, weakref=False):
        return twinlib.make_class(self.layout, name, attrs, weakref)

    def counter(self, *a):
        pass

    def latencies(self, response, busy, rate):
        return twinlib.meter(response, busy, rate)[1]

    request_end = warmup_end = batch_begin = batch_end = live_sample = staticmethod(lambda: None)
    gen2_collections = staticmethod(lambda: 0)


def tree_facts():
    tree = twinlib.load_twin("tree")
    out = {}
    for parent in (0, 1):
        Node = tree.prepare({"parent": parent}, Ctx())
        up = tree.make_parent if parent else tree.make
        down = tree.populate_parent if parent else tree.populate
        for how, root in (("bottom-up", up(4, Node)), ("top-down", None)):
            if root is None:
                root = Node()
                down(root, 4, Node)
            nodes, bad_links, leaves = 0, 0, 0
            stack = [(root, None)]
            while stack:
                n, p = stack.pop()
                nodes += 1
                if parent and n.parent is not p:
                    bad_links += 1
                kids = [k for k in (n.left, n.right) if k is not None]
                leaves += not kids
                stack.extend((k, n) for k in kids)
            out["parent=%d %s" % (parent, how)] = {"nodes": nodes, "leaves": leaves, "bad_parent_links": bad_links,
                                                   "has_parent_attr": hasattr(root, "parent")}
    return out


def request_facts(cycles):
    req_twin = twinlib.load_twin("request")
    classes = list(req_twin.prepare({}, Ctx()))
    classes[0], requests = recording(classes[0])
    app = req_twin.build_app(7, classes[-1])
    serve = req_twin.make_server(app, 10, cycles, classes)
    serve(3)
    req = requests[0]
    qs = req.queryset
    recs = qs.results
    return {
        "queryset_points_back": qs.request is req,
        "records": len(recs),
        "owners": [i for i, r in enumerate(recs) if r.owner is qs],
        "other_owners": sum(1 for r in recs if r.owner is not None and r.owner is not qs),
        "relations": sorted({len(r.relations) for r in recs}),
        "related_is_model": all(r.related is app[0][i % 7] for i, r in enumerate(recs)),
        "qs_model_is_model": qs.model is app[0][3 % 7],
        "rows": len(req.response.data), "body": len(req.response.body), "count": req.response.count,
        "params": len(req.params), "headers": len(req.headers),
        "keys_are_app_names": all(a is b for a, b in zip(req.params, app[1])),
    }


def batch_facts(temps, fields):
    batch = twinlib.load_twin("batch")
    Record, Temp, Field = batch.prepare({}, Ctx())
    Temp, made = recording(Temp)
    rec = batch.build(5, temps, fields, Record, Temp, Field)
    ring_ok = True
    if made:
        seen, t = 0, made[0]
        for _ in range(temps):
            t = t.next
            seen += 1
        ring_ok = t is made[0] and len({id(x.next) for x in made}) == temps
    chain, f = 0, rec.fields
    while f is not None:
        chain += f.parent is rec
        f = f.next
    return {"temps_made": len(made), "temps_point_back": all(t.parent is rec for t in made), "temps_ring": ring_ok,
            "record_lets_go": rec.scratch is None, "fields_pointing_back": chain, "total": rec.total}


def linked_facts(workload):
    twin = twinlib.load_twin(workload)
    Node, made = recording(twin.prepare({}, Ctx()))
    twin.run({"n": 50, "rounds": 1}, Ctx(), Node)
    head, tail = made[-1], made[0]
    return {"nodes": len(made), "tail_next_is_head": tail.next is head, "tail_next_is_none": tail.next is None}


def cache_facts():
    cache = twinlib.load_twin("cache")
    Entry, Chunk, _, _ = cache.prepare({"payload": 4}, Ctx())
    e = cache.build(1000, 4, Entry, Chunk)
    values, c = [], e.payload
    while c is not None:
        values.append(c.value)
        c = c.next
    return {"key": e.key, "size": e.size, "chain": values}


def main():
    print(json.dumps({"tree": tree_facts(), "request4": request_facts(4), "request0": request_facts(0),
                      "batch": batch_facts(4, 3), "batch0": batch_facts(0, 0), "list": linked_facts("list"),
                      "ring": linked_facts("ring"), "cache": cache_facts()}))


if __name__ == "__main__":
    main()
