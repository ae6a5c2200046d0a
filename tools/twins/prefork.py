"""prefork.py — twin of workloads/prefork.c: a pre-forking server (os.fork) and
the copy-on-write of its shared heap.

Contract (the C's, step for step): the parent builds the request twin's
application state (`appstate` Model instances and their name strings), sends
the warm-up event (policy=freeze / manual+freeze: gc.freeze() there, before the
fork, as gunicorn-style servers are told to), then forks `workers` children
with os.fork. Each child serves `requests` requests of the request twin's
shape, request k's records referring to models k·records.. (spread, as the C),
with the request-end event after each, keeping the responses of its last
`cache` requests. The parent tells the harness each worker's pid at once
(`worker PID start`: the harness samples /proc/PID/smaps_rollup while it
serves); a worker that is done reads its own smaps_rollup, sends its figures
and collection counts to the parent on a pipe and leaves with os._exit; the
parent reports them (`worker PID end PRIVATE SHARED PSS`) and reaps it.
ops = requests served by all workers; counters requests_total, app_objects
(34 + 2·appstate), worker_gc_gen2 and worker_gc_collections (the workers' own
collections, from gc.get_stats() before and after, in the worker).

In a worker the probe's pause callback records into the worker's copy of its
buffers, which are lost with it: as in the C, only the parent's pauses (the
build) are reported. Immortality is not a knob here: the interpreter's
immortal objects (3.12+) are its own.
"""
import os
import struct
import gc

from twinlib import COUNT, BadInput, WorkloadError, load_twin

request = load_twin("request")

# prefork.c's knob bounds.
MAX_WORKERS = 64
MAX_REQUESTS = 100000000
MAX_APPSTATE = 100000000
MAX_RECORDS = 100000
MAX_CACHE = 1000000
KNOBS = (
    ("appstate", COUNT, "1m", 1, MAX_APPSTATE),
    ("workers", COUNT, "2", 1, MAX_WORKERS),
    ("requests", COUNT, "1000", 1, MAX_REQUESTS),
    ("records", COUNT, "100", 1, MAX_RECORDS),
    ("cycles", COUNT, "4", 0, MAX_RECORDS),
    ("cache", COUNT, "200", 0, MAX_CACHE),
)
# A worker's result record: ok, served, gen2, collections, private, shared, pss.
RESULT = struct.Struct("<qqqqqqq")
KB = 1024


def check(k):
    if k["cycles"] > k["records"]:
        raise BadInput("knob 'cycles' must be <= records (got cycles=%d records=%d)" % (k["cycles"], k["records"]))


def prepare(k, ctx):
    return request.prepare(k, ctx)


def smaps_rollup():
    """(Private_Dirty, Shared_Clean + Shared_Dirty, Pss) of this process, bytes."""
    f = {}
    with open("/proc/self/smaps_rollup", "rb") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) == 3 and parts[2] == b"kB":
                f[parts[0][:-1]] = int(parts[1]) * KB
    return f[b"Private_Dirty"], f[b"Shared_Clean"] + f[b"Shared_Dirty"], f[b"Pss"]


def collections():
    st = gc.get_stats()
    return st[2]["collections"], sum(g["collections"] for g in st)


def worker_main(serve, requests, cache, request_end, wfd):
    """One worker's life, in the child: serve, report, leave. Never returns."""
    ok, served = 1, 0
    try:
        g2, all0 = collections()
        ring = [None] * cache
        for k in range(requests):
            resp = serve(k)
            if cache:
                ring[k % cache] = resp
            resp = None
            request_end()
            served = k + 1
        g2b, all1 = collections()
        mem = smaps_rollup()
        os.write(wfd, RESULT.pack(ok, served, g2b - g2, all1 - all0, *mem))
    except BaseException:  # the parent sees a short record and reports the worker failed
        ok = 0
    os._exit(0 if ok else 1)


def run(k, ctx, classes):
    app = request.build_app(k["appstate"], classes[-1])
    ctx.warmup_end()
    serve = request.make_server(app, k["records"], k["cycles"], classes, spread=True)
    workers = []
    for _ in range(k["workers"]):
        rfd, wfd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(rfd)
            for _, fd in workers:  # the older workers' pipes stay with the parent
                os.close(fd)
            worker_main(serve, k["requests"], k["cache"], ctx.request_end, wfd)
        os.close(wfd)
        workers.append((pid, rfd))
        ctx.worker(pid)
    served = gen2 = colls = 0
    failed = None
    for pid, rfd in workers:
        data = b""
        while len(data) < RESULT.size:
            chunk = os.read(rfd, RESULT.size - len(data))
            if not chunk:
                break
            data += chunk
        os.close(rfd)
        os.waitpid(pid, 0)
        if len(data) != RESULT.size:
            failed = failed or "worker %d died before reporting" % pid
            continue
        _, n, g2, c, *mem = RESULT.unpack(data)
        ctx.worker(pid, mem)
        served, gen2, colls = served + n, gen2 + g2, colls + c
    if failed:
        raise WorkloadError(failed)
    ctx.ops = served
    ctx.counter("requests_total", served)
    ctx.counter("app_objects", 34 + 2 * k["appstate"])
    ctx.counter("worker_gc_gen2", gen2)
    ctx.counter("worker_gc_collections", colls)
