"""request.py — twin of workloads/request.c: a web server answering Django-like requests.

Contract (the C's, step for step): an application state built at start and kept
to the end — `appstate` Model(name, pk, next) instances chained and listed, and
the interned param and header names in two lists, all in one list `app`. Then
`requests` requests, one after another; request k:
  1. parsing: Request(id, params, headers, queryset, response) with a params dict
     (10 entries) and a headers dict (20 entries), keys the interned names,
     values fresh strings;
  2. query: QuerySet(request, results, model) holding a list of `records`
     Record(id, data, relations, related, owner), each with a data string, a list
     of 5 Relation(rel_id, data) and `related` pointing at a model of the
     application state;
  3. transform: one Row(transformed_id, summary, relation_count) per record;
  4. response: Response(status, data, body, count) with the rows and their
     serialized strings;
  5. cycles: with `cycles` > 0 the QuerySet points back at its Request and the
     first `cycles` Records at their QuerySet: the whole request is cyclic garbage;
  6. the answer is checked (row count, sum of transformed ids), the request
     dropped, then the request-end event; after the first `warmup` requests (at
     request `warmup`, before it runs) the warm-up event.
Latency: requests after the warm-up are measured: simple = steps 1–6 up to the
drop, busy = up to after the request-end event (policy=manual's collection runs
there). Replayed after the run on the fixed-rate schedule (twinlib.meter,
`rate`, or 80% of the measured capacity with rate=0). ops = requests; counters
requests_per_s, req_rate_per_s, req_objects (objects per request as the C counts
them: instances, dicts, lists and strings, 39 + 16·records), app_objects
(34 + 2·appstate), warmup_end_ms (the warm-up event's time from the start of
run()) and gc_gen2_measured (full collections after the warm-up event: gc.get_stats()
read twice, at the event and at the end).

Object work per request (GC containers): Request, params and headers dicts,
QuerySet, results list, per record a Record, a relations list and 5 Relations,
Response, rows and body lists, per record a Row — 9 + 8·records, as the C's
non-string objects; under `dict` each instance's own dict besides. Lists are
built by append and dicts by item assignment: no comprehension (a function
object in 3.11), no transient tuple or list. Strings are the interpreter's own
business (not containers): "success" is a constant here, a fresh string in C.
"""
import time

from twinlib import COUNT, BadInput, WorkloadError

# request.c's WL_REQ_PARAMS, WL_REQ_HEADERS, WL_REQ_RELATIONS, WL_REQ_DATA_REPEAT, WL_REQ_SUMMARY_LEN.
PARAMS = 10
HEADERS = 20
RELATIONS = 5
DATA_REPEAT = 10
SUMMARY_LEN = 50
# request.c's knob bounds.
MAX_REQUESTS = 100000000
MAX_RECORDS = 100000
MAX_APPSTATE = 100000000
MAX_RATE = 1000000000
KNOBS = (
    ("requests", COUNT, "20000", 1, MAX_REQUESTS),
    ("warmup", COUNT, "1000", 0, MAX_REQUESTS),
    ("records", COUNT, "100", 1, MAX_RECORDS),
    ("cycles", COUNT, "4", 0, MAX_RECORDS),
    ("appstate", COUNT, "5000", 1, MAX_APPSTATE),
    ("rate", COUNT, "0", 0, MAX_RATE),
)
CLASSES = (
    ("Request", ("id", "params", "headers", "queryset", "response")),
    ("QuerySet", ("request", "results", "model")),
    ("Record", ("id", "data", "relations", "related", "owner")),
    ("Relation", ("rel_id", "data")),
    ("Row", ("transformed_id", "summary", "relation_count")),
    ("Response", ("status", "data", "body", "count")),
    ("Model", ("name", "pk", "next")),
)


def check(k):
    if k["warmup"] >= k["requests"]:
        raise BadInput("knob 'warmup' must be < requests (got warmup=%d requests=%d)" % (k["warmup"], k["requests"]))
    if k["cycles"] > k["records"]:
        raise BadInput("knob 'cycles' must be <= records (got cycles=%d records=%d)" % (k["cycles"], k["records"]))


def prepare(k, ctx):
    return tuple(ctx.make_class(name, attrs) for name, attrs in CLASSES)


def build_app(nmodels, Model):
    """[models, param names, header names]: the long-lived application state."""
    app = []
    models = []
    app.append(models)
    prev = None
    for i in range(nmodels):
        m = Model("model_%d" % i, i, prev)
        models.append(m)
        prev = m
    pnames = []
    for i in range(PARAMS):
        pnames.append("param_%d" % i)
    app.append(pnames)
    hnames = []
    for i in range(HEADERS):
        hnames.append("header_%d" % i)
    app.append(hnames)
    return app


def make_server(app, records, cycles, classes, spread=False):
    """serve(k): steps 1–6 for request k, returning the response (a cache may keep
    it). spread: request k's records refer to models k·records.. (prefork's
    workers read across the whole state; request.c's ctx.spread)."""
    Request, QuerySet, Record, Relation, Row, Response, _ = classes
    models, pnames, hnames = app
    nmodels = len(models)

    def serve(k):
        # 1. parsing
        params = {}
        for i in range(PARAMS):
            params[pnames[i]] = "value_%d" % i
        headers = {}
        for i in range(HEADERS):
            headers[hnames[i]] = "val_%d" % i
        req = Request(k, params, headers)
        params = headers = None
        # 2. query (5. cycles: the queryset and the first records point back)
        results = []
        qs = QuerySet(req if cycles > 0 else None, results, models[k % nmodels])
        req.queryset = qs
        for i in range(records):
            name = "database_record_%d" % i
            rels = []
            for j in range(RELATIONS):
                rels.append(Relation(j, "rel_%d" % j))
            related = models[(k * records + i) % nmodels if spread else i % nmodels]
            results.append(Record(i, name * DATA_REPEAT, rels, related, qs if i < cycles else None))
        rels = qs = None
        # 3.-4. transform and respond
        rows = []
        body = []
        resp = Response("success", rows, body)
        req.response = resp
        total = 0
        for rec in results:
            data = rec.data
            nrel = len(rec.relations)
            tid = 2 * rec.id
            rows.append(Row(tid, data[:SUMMARY_LEN], nrel))
            body.append('{"transformed_id": %d, "relation_count": %d}' % (tid, nrel))
            total += tid
        resp.count = records
        rec = data = rows = body = results = None
        # 6. the answer, checked; the request dropped on return
        count = req.response.count
        want = records * (records - 1)
        if total != want or count != records:
            raise WorkloadError("request %d answered %d rows summing to %d, expected %d and %d"
                                % (k, count, total, records, want))
        return req.response

    return serve


def run(k, ctx, classes):
    requests, warmup, records, cycles = k["requests"], k["warmup"], k["records"], k["cycles"]
    t_start = time.monotonic_ns()
    app = build_app(k["appstate"], classes[-1])
    serve = make_server(app, records, cycles, classes)
    measured = requests - warmup
    response = array_q(measured)
    busy = array_q(measured)
    now = time.monotonic_ns
    request_end, warmup_end = ctx.request_end, ctx.warmup_end
    t_first = t_last = gen2_at_warmup = 0
    for r in range(requests):
        if r == warmup:
            warmup_end()
            t_first = now()
            gen2_at_warmup = ctx.gen2_collections()
        t0 = now()
        serve(r)
        t1 = now()
        request_end()
        t2 = now()
        if r >= warmup:
            response[r - warmup] = t1 - t0
            busy[r - warmup] = t2 - t0
        t_last = t2
    app = serve = None
    interval = ctx.latencies(response, busy, k["rate"])
    measured_s = (t_last - t_first) / 1e9
    ctx.ops = requests
    ctx.counter("requests_per_s", measured / measured_s if measured_s > 0 else 0.0)
    ctx.counter("req_rate_per_s", 1e9 / interval)
    ctx.counter("req_objects", 39 + 16 * records)
    ctx.counter("app_objects", 34 + 2 * k["appstate"])
    ctx.counter("warmup_end_ms", (t_first - t_start) / 1e6)
    ctx.counter("gc_gen2_measured", ctx.gen2_collections() - gen2_at_warmup)


def array_q(n):
    """n zeroed C int64s: the per-request times, outside the collector's sight."""
    from array import array
    return array("q", bytes(8 * n))
