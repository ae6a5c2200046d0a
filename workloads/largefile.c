/* largefile.c — `largefile`: large files processed in 1 MiB chunks (Dropbox's
 * memory-pressure story, seed 004).
 *
 * Contract: `files` files of `file_mb` MiB each are processed one after the
 * other. For file f the program makes a results list of file_mb slots, then for
 * each chunk i:
 *   1. reads it: a bytes object of WL_LF_CHUNK bytes (above the small-object
 *      limit, so pymalloc and the pool model pass it to malloc), filled with a
 *      pattern that depends on (f, i);
 *   2. processes it: a second bytes object, the transformed copy (the seed's
 *      bytes(chunk_data)); the raw chunk is dropped at once (refcount frees it);
 *   3. describes it: `records` Record(data, offset, digest, next) objects, one
 *      per slice of the copy, linked into a ring through `next` — a small cycle —
 *      and the first points at the copy (`data`), so the 1 MiB copy lives until
 *      a collector frees the ring;
 *   4. keeps a Result(index, checksum) in results[i], checksum = the sum of the
 *      records' digests, and drops the ring: garbage that only a collector frees.
 * After the file, every result is checked against the checksum computed from
 * the raw chunk in step 1, and the list is dropped. So under auto the rings and
 * their copies pile up until gen0's threshold (about 700 / (records + 1) chunks
 * of garbage), while policy=pressure collects as soon as RSS passes rss_limit.
 * ops = chunks processed; counters `chunks`, `records_made`, `mb_processed`;
 * a live-bytes point (wl_live_sample) per chunk.
 *
 * Invariant: the results list, the chunk, the copy and the ring being built are
 * registered roots while the program holds them, so tracing strategies see every
 * hold; every hold is released and every root popped on return, on success and
 * on failure alike.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

/* The chunk: 1 MiB, as the seed reads its files. */
#define WL_LF_CHUNK (1u << 20)
/* 2^20 files of 2^20 MiB: far past any machine; the bounds only keep counts exact. */
#define WL_LF_MAX_FILES (1LL << 20)
#define WL_LF_MAX_MB (1LL << 20)
/* Records per chunk: at least 2 to make a cycle; at most one per 8-byte word of a slice. */
#define WL_LF_MIN_RECORDS 2
#define WL_LF_MAX_RECORDS 1024
/* The transform of step 2: each 64-bit word xor'ed with this (any odd constant). */
#define WL_LF_XOR 0x9E3779B97F4A7C15ull
/* Checksums are kept as tagged small ints: 62 bits fit. */
#define WL_LF_SUM_MASK ((1ull << 62) - 1)

static const mm_knob_desc wl_lf_knobs[] = {
    {"files", MM_KNOB_COUNT, "4", 1, WL_LF_MAX_FILES, "files processed one after the other"},
    {"file_mb", MM_KNOB_COUNT, "64", 1, WL_LF_MAX_MB, "MiB per file: its number of 1 MiB chunks"},
    {"records", MM_KNOB_COUNT, "4", WL_LF_MIN_RECORDS, WL_LF_MAX_RECORDS,
     "Record objects per chunk, in a ring (a small cycle) that holds the chunk's processed copy"},
    {0},
};

/* bytes: raw bytes after the varobject header, no references, never tracked. */
static const mm_type wl_lf_bytes_type = {
    .name = "bytes",
    .size = sizeof(mm_varobject),
    .itemsize = 1,
    .is_container = false,
};

/* The results list: a fixed-length list of values, tracked like CPython's list. */
static const mm_type wl_lf_list_type = {
    .name = "list",
    .size = sizeof(mm_varobject),
    .itemsize = sizeof(mm_value),
    .is_container = true,
    .traverse = mm_traverse_var_items,
    .clear = mm_clear_var_items,
};

typedef struct wl_lf_ctx {
    mm_heap *h;
    mm_class *record_cls, *result_cls;
    mm_attr a_data, a_offset, a_digest, a_next, a_index, a_checksum;
    int64_t records;
    uint64_t chunks, records_made;
} wl_lf_ctx;

static inline uint64_t *wl_lf_words(mm_object *bytes) { return (uint64_t *)((mm_varobject *)bytes + 1); }

/* A deterministic word stream per (file, chunk): splitmix64, so every chunk differs. */
static inline uint64_t wl_lf_mix(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Step 1: the chunk as read (every page touched, as a read() would); returns
 * the checksum the processed copy must give, computed from the raw words. */
static uint64_t wl_lf_read(mm_object *chunk, int64_t file, int64_t index) {
    uint64_t *w = wl_lf_words(chunk), state = ((uint64_t)file << 32) ^ (uint64_t)index, sum = 0;
    for (size_t k = 0; k < WL_LF_CHUNK / sizeof *w; k++) {
        w[k] = wl_lf_mix(&state);
        sum += w[k] ^ WL_LF_XOR;
    }
    return sum & WL_LF_SUM_MASK;
}

/* Sum of words [from, to) of a bytes object: one record's digest. */
static uint64_t wl_lf_digest(mm_object *bytes, size_t from, size_t to) {
    const uint64_t *w = wl_lf_words(bytes);
    uint64_t sum = 0;
    for (size_t k = from; k < to; k++) sum += w[k];
    return sum;
}

/* Steps 3 and 4 for the copy in *copy: the ring of records, built in *ring (a
 * rooted hold: the head), its digests summed into a Result stored in results[i].
 * On return *ring holds the ring's head (the caller drops it). False: no memory. */
static bool wl_lf_describe(wl_lf_ctx *c, mm_object *copy, mm_object **ring, mm_object *results, int64_t i) {
    mm_heap *h = c->h;
    const size_t words = WL_LF_CHUNK / sizeof(uint64_t), slice = words / (size_t)c->records;
    mm_object *last = NULL; /* borrowed: the ring's tail, the first record made */
    uint64_t checksum = 0;
    bool ok = true;
    for (int64_t j = c->records - 1; ok && j >= 0; j--) {
        mm_object *r = mm_instance_new(h, c->record_cls);
        if (r == NULL) return false;
        c->records_made++;
        size_t from = (size_t)j * slice, to = j == c->records - 1 ? words : from + slice;
        uint64_t d = wl_lf_digest(copy, from, to);
        checksum += d;
        ok = mm_setattr(h, r, c->a_offset, mm_int((intptr_t)(from * sizeof(uint64_t)))) == MM_OK &&
             mm_setattr(h, r, c->a_digest, mm_int((intptr_t)(d & WL_LF_SUM_MASK))) == MM_OK &&
             (*ring == NULL || mm_setattr(h, r, c->a_next, mm_ref(*ring)) == MM_OK);
        if (*ring == NULL) last = r;
        mm_xdecref(h, *ring); /* r holds it now */
        *ring = r;
    }
    /* the head (record 0) holds the copy; the tail closes the ring */
    ok = ok && mm_setattr(h, *ring, c->a_data, mm_ref(copy)) == MM_OK &&
         mm_setattr(h, last, c->a_next, mm_ref(*ring)) == MM_OK;
    mm_object *res = ok ? mm_instance_new(h, c->result_cls) : NULL;
    if (res == NULL) return false;
    ok = mm_setattr(h, res, c->a_index, mm_int((intptr_t)i)) == MM_OK &&
         mm_setattr(h, res, c->a_checksum, mm_int((intptr_t)(checksum & WL_LF_SUM_MASK))) == MM_OK;
    mm_store(h, results, &mm_var_items(results)[i], mm_ref(res));
    mm_decref(h, res);
    return ok;
}

/* Step 1 to 4 for chunk i of file f; expected[i] gets the raw chunk's checksum.
 * The holds live in the caller's rooted slots (chunk, copy, ring), NULL on return. */
static bool wl_lf_chunk(wl_lf_ctx *c, int64_t f, int64_t i, mm_object *results, mm_object **chunk, mm_object **copy,
                        mm_object **ring, uint64_t *expected) {
    mm_heap *h = c->h;
    bool ok = false;
    if ((*chunk = mm_new(h, &wl_lf_bytes_type, WL_LF_CHUNK)) == NULL) goto out;
    expected[i] = wl_lf_read(*chunk, f, i);
    if ((*copy = mm_new(h, &wl_lf_bytes_type, WL_LF_CHUNK)) == NULL) goto out;
    const uint64_t *src = wl_lf_words(*chunk);
    uint64_t *dst = wl_lf_words(*copy);
    for (size_t k = 0; k < WL_LF_CHUNK / sizeof *dst; k++) dst[k] = src[k] ^ WL_LF_XOR;
    mm_decref(h, *chunk); /* the raw chunk is done with: freed now */
    *chunk = NULL;
    ok = wl_lf_describe(c, *copy, ring, results, i);
    c->chunks++;
out:
    /* the ring (and through it the copy) becomes garbage: a cycle */
    mm_xdecref(h, *ring);
    mm_xdecref(h, *copy);
    mm_xdecref(h, *chunk);
    *ring = *copy = *chunk = NULL;
    return ok;
}

/* Every result of a file: its index and the checksum of its raw chunk. */
static bool wl_lf_verify(wl_lf_ctx *c, mm_object *results, int64_t n, const uint64_t *expected, char *err,
                         size_t errlen, int64_t f) {
    for (int64_t i = 0; i < n; i++) {
        mm_object *res = mm_as_ref(mm_var_items(results)[i]);
        if (res == NULL || mm_as_int(mm_getattr(c->h, res, c->a_index)) != i ||
            (uint64_t)mm_as_int(mm_getattr(c->h, res, c->a_checksum)) != expected[i]) {
            snprintf(err, errlen, "file %lld chunk %lld: result missing or checksum wrong", (long long)f, (long long)i);
            return false;
        }
    }
    return true;
}

static bool wl_lf_run(mm_heap *h, const mm_knobset *ks, wl_result *r, char *err, size_t errlen) {
    wl_lf_ctx c = {.h = h, .records = mm_knob_int(ks, "records")};
    const int64_t files = mm_knob_int(ks, "files"), mb = mm_knob_int(ks, "file_mb");
    static const char *const record_attrs[] = {"data", "offset", "digest", "next"};
    static const char *const result_attrs[] = {"index", "checksum"};
    c.record_cls = mm_class_new(h, "Record", record_attrs, 4);
    c.result_cls = mm_class_new(h, "Result", result_attrs, 2);
    if (c.record_cls == NULL || c.result_cls == NULL) {
        snprintf(err, errlen, "cannot declare classes Record and Result");
        return false;
    }
    c.a_data = mm_intern(h, "data");
    c.a_offset = mm_intern(h, "offset");
    c.a_digest = mm_intern(h, "digest");
    c.a_next = mm_intern(h, "next");
    c.a_index = mm_intern(h, "index");
    c.a_checksum = mm_intern(h, "checksum");
    /* C-side memory of the check, outside the heap: 8 bytes per chunk of a file */
    uint64_t *expected = malloc((size_t)mb * sizeof *expected);
    if (expected == NULL) {
        snprintf(err, errlen, "out of memory for %lld checksums", (long long)mb);
        return false;
    }
    mm_object *results = NULL, *chunk = NULL, *copy = NULL, *ring = NULL;
    mm_root_push(h, &results);
    mm_root_push(h, &chunk);
    mm_root_push(h, &copy);
    mm_root_push(h, &ring);
    bool ok = true;
    for (int64_t f = 0; f < files && ok; f++) {
        if ((results = mm_new(h, &wl_lf_list_type, (size_t)mb)) == NULL) {
            snprintf(err, errlen, "out of memory for the results list of file %lld", (long long)f);
            ok = false;
            break;
        }
        for (int64_t i = 0; i < mb && ok; i++) {
            if (!(ok = wl_lf_chunk(&c, f, i, results, &chunk, &copy, &ring, expected)))
                snprintf(err, errlen, "out of memory in file %lld chunk %lld", (long long)f, (long long)i);
            wl_live_sample(r);
        }
        ok = ok && wl_lf_verify(&c, results, mb, expected, err, errlen, f);
        mm_decref(h, results);
        results = NULL;
    }
    mm_root_pop(h, 4);
    free(expected);
    r->ops = (double)c.chunks;
    wl_counter(r, "chunks", (double)c.chunks);
    wl_counter(r, "records_made", (double)c.records_made);
    wl_counter(r, "mb_processed", (double)c.chunks * WL_LF_CHUNK / (1024.0 * 1024.0));
    return ok;
}

const mm_workload wl_largefile = {
    .name = "largefile",
    .summary = "files of file_mb MiB in 1 MiB chunks: a processed copy held by a small ring of records, "
               "a result per chunk kept per file (Dropbox's memory pressure)",
    .knobs = wl_lf_knobs,
    .run = wl_lf_run,
};
