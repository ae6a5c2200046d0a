"""largefile.py — twin of workloads/largefile.c: large files in 1 MiB chunks.

Contract (the C's): `files` files of `file_mb` MiB, one after the other. Per file
a results list of file_mb slots; per chunk i:
  1. read: a bytes object of 1 MiB (above pymalloc's 512-byte limit: malloc),
     random bytes seeded by (file, chunk) (getrandbits: 3.8 has no randbytes);
  2. processed: the transformed copy, a second bytes object (the seed's
     bytes(chunk_data)); the raw chunk is dropped;
  3. described: `records` Record(data, offset, digest, next) objects, one per
     slice of the copy, in a ring through `next`; the first holds the copy, so
     the copy lives until the collector frees the ring;
  4. a Result(index, checksum) goes into results[i]; the ring is dropped.
After each file every result is checked and the list dropped.
ops = chunks; counters chunks, records_made, mb_processed (the C's names and
values); a live-bytes point per chunk.

Object work per chunk: `records` + 1 instances (the C's too; its bytes objects
are not containers, as Python's are not). Per file one list.

Differs from the C in its arithmetic only: the pattern is random bytes, the
transform bytes.translate (each byte xor'ed with a constant), digests are
zlib.crc32 of a slice; the expected checksum is computed from the raw chunk's
slices, transformed again, before the copy is described.
"""
import random
import zlib
from array import array

from twinlib import COUNT, WorkloadError

# workloads/largefile.c: WL_LF_CHUNK, WL_LF_MAX_FILES, WL_LF_MAX_MB, WL_LF_*_RECORDS.
CHUNK = 1 << 20
MAX_FILES = 1 << 20
MAX_MB = 1 << 20
KNOBS = (
    ("files", COUNT, "4", 1, MAX_FILES),
    ("file_mb", COUNT, "64", 1, MAX_MB),
    ("records", COUNT, "4", 2, 1024),
)
# The transform: every byte xor'ed with this, through one translate table.
XOR = 0x5A
TABLE = bytes(b ^ XOR for b in range(256))
# One generator, reseeded per chunk: a Random per chunk would be a container per chunk.
RNG = random.Random()


def prepare(k, ctx):
    return (ctx.make_class("Record", ("data", "offset", "digest", "next")),
            ctx.make_class("Result", ("index", "checksum")))


def slices(records):
    """(from, to) byte offsets of each record's slice: equal parts, the last takes the rest."""
    size = CHUNK // records
    return [(j * size, CHUNK if j == records - 1 else (j + 1) * size) for j in range(records)]


def chunk(f, i, parts, results, Record, Result):
    """Steps 1 to 4 for chunk i of file f; returns the checksum results[i] must hold."""
    RNG.seed((f << 32) ^ i)
    raw = RNG.getrandbits(8 * CHUNK).to_bytes(CHUNK, "little")
    expected = 0
    # range loops, not sum(generator) or `for a, b in parts`: a generator and a list
    # iterator are containers the C does not make
    for j in range(len(parts)):
        a, b = parts[j]
        expected += zlib.crc32(raw[a:b].translate(TABLE))
    copy = raw.translate(TABLE)
    raw = None  # the raw chunk is done with: freed now
    ring = last = None
    checksum = 0
    for j in range(len(parts) - 1, -1, -1):
        a, b = parts[j]
        d = zlib.crc32(copy[a:b])
        checksum += d
        ring = Record(None, a, d, ring)
        if last is None:
            last = ring
    ring.data = copy
    last.next = ring  # close the ring: garbage once dropped
    results[i] = Result(i, checksum)
    return expected


def run(k, ctx, classes):
    Record, Result = classes
    files, mb, records = k["files"], k["file_mb"], k["records"]
    parts = slices(records)
    chunks = 0
    for f in range(files):
        results = [None] * mb
        expected = array("Q", bytes(8 * mb))  # C-side memory in the C: no container here either
        for i in range(mb):
            expected[i] = chunk(f, i, parts, results, Record, Result)
            chunks += 1
            ctx.live_sample()
        for i in range(mb):
            r = results[i]
            if r is None or r.index != i or r.checksum != expected[i]:
                raise WorkloadError("file %d chunk %d: result missing or checksum wrong" % (f, i))
        results = expected = None
    ctx.ops = chunks
    ctx.counter("chunks", chunks)
    ctx.counter("records_made", chunks * records)
    ctx.counter("mb_processed", chunks * CHUNK / (1024.0 * 1024.0))
