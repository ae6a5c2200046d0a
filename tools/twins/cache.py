"""cache.py — twin of workloads/cache.c: a keyed cache under a drifting stream.

Contract (the C's): a stream of gets for integer keys, each drawn uniformly from
a window of `window` keys whose start slides linearly from 0 to keys − window
over the run (the C's splitmix64 and arithmetic, bit for bit, so both sides
draw the same keys). On a miss the caller builds Entry(key, size, payload) whose
payload is a chain of `payload` Chunk(value, next), and puts it. ops = gets +
puts; the stream stops once `ops` is reached. Callers keep the objects they used
last in a ring of `hold` slots. Variants (`cache`):
  lru        collections.OrderedDict, at most `capacity` entries, the least
             recently used evicted (its links are C structs, as the C's raw
             recency list and functools.lru_cache's);
  unbounded  a plain dict, never evicted (the module-level cache that leaks);
  weak       weakref.WeakValueDictionary: an entry vanishes when the last caller
             drops its object (KeyedRef callbacks, as the C's weakdict.c).
Counters, the C's names: gets, hits, puts, hit_rate, evictions (lru),
cache_entries_end (weak: pending-callback entries included), cache_table_mb_end
(sys.getsizeof of the table), live_objects_end (Entries and Chunks alive when the
stream ends, ×2 under `dict` for their own dicts, plus the weak variant's
KeyedRefs), live_mb_end and live_mb_peak (those objects' bytes as tracemalloc
counts them, per entry measured before the run; the peak is the largest of
LIVE_SAMPLES points through the stream).

Object work per put: 1 + payload instances (+ 1 KeyedRef under weak); a get
allocates nothing but, under lru, OrderedDict's move_to_end; an lru eviction
returns one (key, value) tuple from popitem.
"""
import collections
import gc
import sys
import weakref

from twinlib import COUNT, STRING, BadInput, WorkloadError, escape

# workloads/cache.c's bounds.
MAX_OPS = 10000000000
MAX_KEYS = 1 << 40
MAX_SET = 100000000
MAX_PAYLOAD = 1000
# splitmix64's increment and finalising multipliers (Steele et al. 2014), as cache.c.
SM_GAMMA = 0x9E3779B97F4A7C15
SM_MUL1 = 0xBF58476D1CE4E5B9
SM_MUL2 = 0x94D049BB133111EB
M64 = (1 << 64) - 1
# Points of the live-set reading per run: the peak of a set that grows (unbounded)
# or stays near capacity + hold (lru, weak) is found by far fewer than the C's
# 1000 timeline points; each reading walks the ring and the cache (O(hold + capacity)).
LIVE_SAMPLES = 100
# Entries built to measure bytes per entry with tracemalloc (before the run).
SIZE_SAMPLE = 256
MB = 1024.0 * 1024.0
KINDS = ("lru", "unbounded", "weak")
KNOBS = (
    ("cache", STRING, "lru", 0, 0),
    ("ops", COUNT, "2000000", 1, MAX_OPS),
    ("keys", COUNT, "100000", 1, MAX_KEYS),
    ("window", COUNT, "1000", 1, MAX_SET),
    ("capacity", COUNT, "1000", 1, MAX_SET),
    ("hold", COUNT, "1000", 1, MAX_SET),
    ("payload", COUNT, "4", 0, MAX_PAYLOAD),
    ("seed", COUNT, "1", 0, (1 << 63) - 1),
)


def check(k):
    if k["cache"] not in KINDS:
        raise BadInput("knob 'cache': '%s' is not one of lru, unbounded, weak" % escape(k["cache"]))
    if k["window"] > k["keys"]:
        raise BadInput("knobs must satisfy window <= keys (got window=%d keys=%d)" % (k["window"], k["keys"]))


def build(key, payload, Entry, Chunk):
    """The expensive object: its payload chain, built back to front."""
    head = None
    for i in range(payload):
        head = Chunk(key + i, head)
    return Entry(key, payload, head)


def prepare(k, ctx):
    """Classes (every variant declares __weakref__, as the C: same objects in all
    three) and the bytes one entry (and one KeyedRef) take, from tracemalloc."""
    import tracemalloc
    Entry = ctx.make_class("Entry", ("key", "size", "payload"), weakref=True)
    Chunk = ctx.make_class("Chunk", ("value", "next"))
    payload = k["payload"]
    keep = [None] * SIZE_SAMPLE
    refs = [None] * SIZE_SAMPLE
    gc.collect()  # empties the free lists: a dict taken from one would hide its bytes
    tracemalloc.start()
    t0 = tracemalloc.get_traced_memory()[0]
    for i in range(SIZE_SAMPLE):
        keep[i] = build(1 << 40 | i, payload, Entry, Chunk)  # keys past the small-int cache, as in the run
    t1 = tracemalloc.get_traced_memory()[0]
    for i in range(SIZE_SAMPLE):
        refs[i] = weakref.KeyedRef(keep[i], None, i)
    t2 = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return Entry, Chunk, (t1 - t0) / SIZE_SAMPLE, (t2 - t1) / SIZE_SAMPLE


def run(k, ctx, state):
    Entry, Chunk, entry_bytes, ref_bytes = state
    kind = KINDS.index(k["cache"])
    lru, weak = kind == 0, kind == 2
    ops, window, hold, payload, capacity = k["ops"], k["window"], k["hold"], k["payload"], k["capacity"]
    slide = k["keys"] - window
    rng = k["seed"]
    per_entry = (1 + payload) * (2 if ctx.layout == "dict" else 1)
    if lru:
        cache = collections.OrderedDict()
    elif weak:
        cache = weakref.WeakValueDictionary()
    else:
        cache = {}
    table = cache.data if weak else cache  # the raw table: its size and entries
    ring = [None] * hold
    live_peak = 0.0

    def live():
        """(entries, weakrefs) alive now: distinct Entries in the ring and the cache."""
        seen = set()
        for e in ring:
            if e is not None:
                seen.add(id(e))
        if not weak:
            for e in cache.values():
                seen.add(id(e))
        return len(seen), (len(table) if weak else 0)

    done = gets = hits = puts = evictions = 0
    next_sample = 0
    sample_every = ops // LIVE_SAMPLES + 1
    slot = 0
    get = cache.get
    while done < ops:
        if done >= next_sample:
            ctx.live_sample()
            n_entries, n_refs = live()
            b = n_entries * entry_bytes + n_refs * ref_bytes
            if b > live_peak:
                live_peak = b
            next_sample = done + sample_every
        start = int(done / ops * slide)
        rng = (rng + SM_GAMMA) & M64
        z = ((rng ^ (rng >> 30)) * SM_MUL1) & M64
        z = ((z ^ (z >> 27)) * SM_MUL2) & M64
        key = start + (z ^ (z >> 31)) % window
        obj = get(key)
        gets += 1
        done += 1
        if obj is not None:
            if obj.key != key:
                raise WorkloadError("cache returned an Entry for key %d on a get of %d" % (obj.key, key))
            hits += 1
            if lru:
                cache.move_to_end(key)
        else:
            obj = build(key, payload, Entry, Chunk)
            cache[key] = obj
            if lru and len(cache) > capacity:
                cache.popitem(last=False)
                evictions += 1
            puts += 1
            done += 1
        ring[slot] = obj  # the caller keeps what it used; the oldest hold lets go
        obj = None
        slot += 1
        if slot == hold:
            slot = 0
    ctx.live_sample()
    n_entries, n_refs = live()
    live_end = n_entries * entry_bytes + n_refs * ref_bytes
    entries_end = len(table)
    table_end = sys.getsizeof(table)
    cache = table = ring = get = None
    ctx.ops = done
    ctx.counter("gets", gets)
    ctx.counter("hits", hits)
    ctx.counter("puts", puts)
    ctx.counter("hit_rate", hits / gets if gets else 0.0)
    if lru:
        ctx.counter("evictions", evictions)
    ctx.counter("cache_entries_end", entries_end)
    ctx.counter("cache_table_mb_end", table_end / MB)
    ctx.counter("live_objects_end", n_entries * per_entry + n_refs)
    ctx.counter("live_mb_end", live_end / MB)
    ctx.counter("live_mb_peak", max(live_peak, live_end) / MB)
