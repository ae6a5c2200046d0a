/* churn.c — `churn`: allocator traffic without objects.
 *
 * Contract: run() talks to the cell's allocator through mm_raw_alloc and
 * mm_raw_free only (no object, no class, no root), so the cell measures its
 * allocator axis; reclaim and layout play no part (`none` is the natural
 * choice). One run:
 *   1. fill: allocate `live` blocks into slots 0..live-1, in slot order;
 *   2. `rounds` rounds; each replaces every block once, one pair at a time:
 *      free the block of one slot, allocate a new block into that slot. The
 *      slot freed next is, among the blocks not yet replaced in this round,
 *        fifo      the oldest (slots in fill order, every round),
 *        lifo      the most recently allocated (a stack over the previous
 *                  round's blocks: the first round walks the slots from last to
 *                  first, the next from first to last, and so on),
 *        shuffled  a pseudorandom one (a fresh random permutation per round,
 *                  drawn before the round and outside its clock);
 *   3. teardown: free every block, in slot order.
 * Sizes are drawn from the `sizes` mix (see wl_churn_mixes): `uniform16-512`
 * (any byte count 16..512 inclusive, each equally likely), `fixed32`, or
 * `cpython` (the measured table below). They come from their own xorshift
 * stream seeded by `seed`, so for one seed every free order and every
 * allocator sees the same sequence of requests; the shuffle has a second one.
 *
 * Touch and check: every block is written when allocated — its first 8 bytes
 * (fewer for a block of 8 bytes or less) with a stamp of (slot, generation);
 * one slot in 64 (audited) also gets its last byte tagged and is checked before
 * every free; every block's stamp is checked in the teardown. A mismatch (the allocator
 * gave out memory that was still in use, or wrote into a live block) fails the
 * run with one line; the blocks are then left allocated, because freeing into
 * an allocator in that state could crash before the error is reported.
 *
 * Reports: ops = pairs = live·rounds. Counters: `ns_per_pair` (clock around
 * the replacement loops only: no shuffle, fill or teardown), `pairs`,
 * `fill_ns_per_alloc`, `free_all_ns_per_free`, `mean_block_bytes` (over every
 * allocation), `live_payload_mb` (bytes requested by the live set at the end of
 * the last round), `table_mb` (this workload's own slot tables, from plain
 * malloc: part of RSS, not of the allocator's figures). Raw blocks are not
 * objects, so live_objects and leaked_* stay 0; alloc_live_mb shows what the
 * allocator still holds afterwards. ns_per_pair includes the workload's own
 * work per pair (size draw, stamp and check, slot tables: ~75 instructions by
 * callgrind, besides the two calls through the allocator table), the same for
 * every allocator and mix.
 *
 * Invariant: between two pairs, slots[i] holds a block of slots[i].size bytes from
 * the cell's allocator that carries stamp(i, g), where g counts the times slot
 * i was filled before (0 after the fill, r after r rounds); every block is
 * freed exactly once, with the size it was asked for, before run() returns
 * true.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "workload.h"

/* Largest live set: 1e8 blocks is ~26 GB at the uniform mix's mean of 264 B,
 * beyond any machine here; more is a typo. */
#define WL_CHURN_MAX_LIVE 100000000LL
/* Most rounds: a million rounds of even 1000 blocks take about a minute. */
#define WL_CHURN_MAX_ROUNDS 1000000LL
/* Largest block any mix asks for (pymalloc's small-request limit); table sizes fit in uint16_t. */
#define WL_CHURN_MAX_BLOCK 512
/* One slot in this many is audited (see wl_churn_audited): 1/64 of the pairs. */
#define WL_CHURN_AUDIT_EVERY 64
/* Bytes of the stamp written at the start of a block (the tag byte is the last). */
#define WL_CHURN_HEAD 8
/* Odd multipliers that spread (slot, generation) over all 64 bits of a stamp
 * (golden-ratio and splitmix constants: any odd constants with mixed bits do). */
#define WL_CHURN_MUL_SLOT 0x9E3779B97F4A7C15ull
#define WL_CHURN_MUL_GEN 0xD1B54A32D192ED03ull
/* xorshift64*'s output multiplier (Vigna 2016): fixes the weak low bits of xorshift64. */
#define WL_CHURN_XS_MUL 0x2545F4914F6CDD1Dull
/* Nanoseconds per second and bytes per MiB, for the counters. */
#define WL_CHURN_NS_PER_S 1000000000ull
#define WL_CHURN_MB (1024.0 * 1024.0)

static const mm_knob_desc wl_churn_knobs[] = {
    {"live", MM_KNOB_COUNT, "1000000", 1, WL_CHURN_MAX_LIVE, "blocks in the live set"},
    {"rounds", MM_KNOB_COUNT, "3", 1, WL_CHURN_MAX_ROUNDS, "rounds; each frees and replaces every block once"},
    {"sizes", MM_KNOB_STRING, "uniform16-512", 0, 0, "size mix: uniform16-512 | cpython | fixed32"},
    {"free", MM_KNOB_STRING, "shuffled", 0, 0, "order of the frees: lifo | fifo | shuffled"},
    {"seed", MM_KNOB_COUNT, "1", 0, INT64_MAX, "seed of the size and shuffle generators"},
    {0},
};

/* One line of a size table: a request size and its weight. */
typedef struct wl_churn_weight {
    uint16_t size;
    uint32_t weight;
} wl_churn_weight;

/* The size mix of small blocks python3.11 keeps live, for `sizes=cpython`.
 * Measured 2026-11-21 with Python 3.11.7 on this machine (x86-64, Debian) by
 *     python3.11 tools/cpython_sizes.py
 * whose stdout is pasted here unchanged. How it measures (its header says
 * more): seven stdlib tasks — ast.parse of five stdlib modules, json.loads of
 * 20,000 records, 20,000 instances of a plain class, a word count, csv rows
 * converted to int/str/float, regex findall of `name = value` lines, an int
 * graph (dict of lists plus a set of edge tuples) — each run under tracemalloc
 * alone; counted are tracemalloc domain 0 blocks of 1..512 bytes (requested
 * size, PyGC_Head included) allocated by the task and live at its end; each
 * task weighs the same. The 24 most frequent exact sizes (97.15% of blocks)
 * are kept; the other sizes are rounded up to the top of their 16-byte
 * pymalloc class, marked (+); weights in parts per 100000 (12 entries that
 * round to 0 were dropped). The 8-byte entry is real: requests below 16 B occur. */
static const wl_churn_weight wl_churn_cpython[] = {
    /* {size, weight per 100000}; (+): holds other sizes of its class, rounded up */
    {  8,   577},
    { 16,   148}, /* + */
    { 24,  5653},
    { 28,  3784},
    { 32, 21305},
    { 48,  4282}, /* + */
    { 51,   567},
    { 52,  1113},
    { 53,  2167},
    { 54,  3604},
    { 55,  2128},
    { 56, 30177},
    { 57,  1129},
    { 58,  1318},
    { 59,  6613},
    { 60,   674},
    { 61,   501},
    { 62,   513},
    { 63,   413},
    { 64,  4631},
    { 65,   299},
    { 66,   893},
    { 67,   899},
    { 68,   166},
    { 80,  1234}, /* + */
    { 96,   857}, /* + */
    {112,   358}, /* + */
    {128,   214}, /* + */
    {144,     4}, /* + */
    {160,     1}, /* + */
    {176,     1}, /* + */
    {192,     1}, /* + */
    {208,  3757}, /* + */
    {224,     8}, /* + */
    {240,     1}, /* + */
    {256,     1}, /* + */
    {272,     1}, /* + */
    {352,     1}, /* + */
    {368,     1}, /* + */
    {384,     3}, /* + */
};

static const wl_churn_weight wl_churn_fixed32[] = {{32, 1}};

/* A size mix: a table, or (table NULL) every size in [lo, hi] equally likely. */
typedef struct wl_churn_mix {
    const char *name;
    const wl_churn_weight *table;
    size_t n;
    uint16_t lo, hi;
} wl_churn_mix;

static const wl_churn_mix wl_churn_mixes[] = {
    {"uniform16-512", NULL, 0, 16, WL_CHURN_MAX_BLOCK},
    {"cpython", wl_churn_cpython, sizeof wl_churn_cpython / sizeof wl_churn_cpython[0], 0, 0},
    {"fixed32", wl_churn_fixed32, 1, 0, 0},
};
#define WL_CHURN_NMIXES (sizeof wl_churn_mixes / sizeof wl_churn_mixes[0])

typedef enum { WL_CHURN_LIFO, WL_CHURN_FIFO, WL_CHURN_SHUFFLED } wl_churn_order;

static const char *const wl_churn_orders[] = {"lifo", "fifo", "shuffled"};
#define WL_CHURN_NORDERS (sizeof wl_churn_orders / sizeof wl_churn_orders[0])

/* One bucket of Walker's alias table: with probability thresh/2^32 the bucket's
 * own size, else its alias. */
typedef struct wl_churn_bucket {
    uint64_t thresh;
    uint16_t size, alias;
} wl_churn_bucket;

/* One slot of the live set: its block and the bytes asked for (for the sized
 * free). Pointer and size share a cache line, so a shuffled pair's random
 * access to its slot costs one miss, not two. */
typedef struct wl_churn_slot {
    unsigned char *block; /* NULL once freed on a failure path */
    size_t size;
} wl_churn_slot;

/* Everything a run holds, so the helpers take one pointer. */
typedef struct wl_churn_ctx {
    mm_heap *h;
    size_t live;
    wl_churn_slot *slots;
    uint32_t *perm; /* free order of a shuffled round; NULL otherwise */
    wl_churn_bucket *buckets;
    uint32_t nbuckets;
    uint64_t size_rng, order_rng;
    size_t failed_slot; /* where a loop stopped with a status other than OK */
} wl_churn_ctx;

/* Outcome of an allocation, a free or a pair. The timed loops return it and
 * the caller writes the error line, so the loops carry no error text. */
typedef enum { WL_CHURN_OK, WL_CHURN_NOMEM, WL_CHURN_BAD_STAMP } wl_churn_status;

/* Workloads include no harness header (they talk to mm_* only), so the clock is
 * read here: CLOCK_MONOTONIC, the harness's own time source. */
static uint64_t wl_churn_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * WL_CHURN_NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* splitmix64: turns any seed (0 included) into well-mixed xorshift states. */
static uint64_t wl_churn_splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* xorshift64*: a few cycles per draw, so drawing sizes costs little beside the allocator. */
static inline uint64_t wl_churn_next(uint64_t *x) {
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return *x * WL_CHURN_XS_MUL;
}

/* An index below n from the high 32 bits (multiply-shift: no division). */
static inline uint32_t wl_churn_below(uint64_t r, uint32_t n) { return (uint32_t)(((r >> 32) * n) >> 32); }

/* Knob text to mix; NULL names no mix, so check() can refuse it by name. */
static const wl_churn_mix *wl_churn_find_mix(const char *name) {
    for (size_t i = 0; i < WL_CHURN_NMIXES; i++)
        if (strcmp(wl_churn_mixes[i].name, name) == 0) return &wl_churn_mixes[i];
    return NULL;
}

/* Knob text to order; -1 when the name is no order, so check() can refuse it. */
static int wl_churn_find_order(const char *name) {
    for (size_t i = 0; i < WL_CHURN_NORDERS; i++)
        if (strcmp(wl_churn_orders[i], name) == 0) return (int)i;
    return -1;
}

/* The string knobs, checked by the CLI before any heap exists (exit 2) and again by run(). */
static bool wl_churn_check(const mm_knobset *ks, char *err, size_t errlen) {
    const char *sizes = mm_knob_str(ks, "sizes"), *order = mm_knob_str(ks, "free");
    if (wl_churn_find_mix(sizes) == NULL) {
        snprintf(err, errlen, "knob 'sizes': '%s' is not one of uniform16-512, cpython, fixed32", sizes);
        return false;
    }
    if (wl_churn_find_order(order) < 0) {
        snprintf(err, errlen, "knob 'free': '%s' is not one of lifo, fifo, shuffled", order);
        return false;
    }
    return true;
}

/* Walker's alias method (Vose's construction, in integers): one draw costs the
 * same for every mix — one index, one compare — so the mixes differ only in
 * what they ask the allocator for. Bucket i holds weight w_i·n in units of the
 * total W; a short bucket is topped up from a tall one, which becomes its alias. */
static bool wl_churn_sampler_init(wl_churn_ctx *c, const wl_churn_mix *mix) {
    const uint32_t n = mix->table ? (uint32_t)mix->n : (uint32_t)(mix->hi - mix->lo + 1);
    uint64_t *scaled = malloc(n * sizeof *scaled);
    uint32_t *stack = malloc(n * sizeof *stack); /* shorts grow from the bottom, talls from the top */
    c->buckets = malloc(n * sizeof *c->buckets);
    c->nbuckets = n;
    if (scaled == NULL || stack == NULL || c->buckets == NULL) {
        free(scaled);
        free(stack);
        return false;
    }
    uint64_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        const uint64_t w = mix->table ? mix->table[i].weight : 1;
        c->buckets[i].size = c->buckets[i].alias = mix->table ? mix->table[i].size : (uint16_t)(mix->lo + i);
        scaled[i] = w * n;
        total += w;
    }
    uint32_t nshort = 0, ntall = n;
    for (uint32_t i = 0; i < n; i++) {
        if (scaled[i] < total) stack[nshort++] = i;
        else stack[--ntall] = i;
    }
    while (nshort > 0 && ntall < n) {
        const uint32_t s = stack[--nshort], t = stack[ntall++];
        c->buckets[s].thresh = (scaled[s] << 32) / total; /* scaled[s] < total < 2^32: no overflow */
        c->buckets[s].alias = c->buckets[t].size;
        scaled[t] -= total - scaled[s];
        if (scaled[t] < total) stack[nshort++] = t;
        else stack[--ntall] = t;
    }
    /* What is left is full (exactly, or within rounding): always its own size. */
    while (nshort > 0) c->buckets[stack[--nshort]].thresh = (uint64_t)1 << 32;
    while (ntall < n) c->buckets[stack[ntall++]].thresh = (uint64_t)1 << 32;
    free(scaled);
    free(stack);
    return true;
}

/* One request size from the mix. */
static inline size_t wl_churn_draw(wl_churn_ctx *c) {
    const uint64_t r = wl_churn_next(&c->size_rng);
    const wl_churn_bucket *b = &c->buckets[wl_churn_below(r, c->nbuckets)];
    return (r & 0xFFFFFFFFu) < b->thresh ? b->size : b->alias;
}

/* What slot `slot` holds after being filled `gen` times before. */
static inline uint64_t wl_churn_stamp(size_t slot, uint64_t gen) {
    return ((uint64_t)slot + 1) * WL_CHURN_MUL_SLOT ^ (gen + 1) * WL_CHURN_MUL_GEN;
}

/* The last byte's value: from the stamp's top byte, which the head of a block
 * of 8 bytes or less does not hold, so even those blocks check 8 stamp bits. */
static inline unsigned char wl_churn_tag(uint64_t stamp) { return (unsigned char)(stamp >> 56); }

/* Audited slots (one in WL_CHURN_AUDIT_EVERY) get both ends written and are
 * checked before every free; the others get their head written and are checked
 * in the teardown only. Why not all: reading a block just before freeing it,
 * and writing its last byte (another cache line for most blocks), add one or
 * two cache misses per pair that no allocator causes — on a shuffled live set
 * of hundreds of MB they cost more than the allocator itself and hide the
 * differences between allocators. A sample still catches an allocator that
 * hands out live memory within a few thousand pairs. */
static inline bool wl_churn_audited(size_t slot) { return slot % WL_CHURN_AUDIT_EVERY == 0; }

/* Touch a new block (so no allocator can hand out memory it never maps) and
 * leave what wl_churn_intact will look for; `tail`: the last byte too. */
static inline void wl_churn_mark(unsigned char *p, size_t size, uint64_t stamp, bool tail) {
    if (MM_LIKELY(size > WL_CHURN_HEAD)) memcpy(p, &stamp, WL_CHURN_HEAD);
    else memcpy(p, &stamp, size - 1);
    if (tail) p[size - 1] = wl_churn_tag(stamp);
}

/* Before a free: is what wl_churn_mark wrote still there? (8-byte compare on the fast path.) */
static inline bool wl_churn_intact(const unsigned char *p, size_t size, uint64_t stamp, bool tail) {
    if (MM_LIKELY(size > WL_CHURN_HEAD)) {
        uint64_t head;
        memcpy(&head, p, WL_CHURN_HEAD);
        if (head != stamp) return false;
    } else if (memcmp(p, &stamp, size - 1) != 0) {
        return false;
    }
    return !tail || p[size - 1] == wl_churn_tag(stamp);
}

/* Allocates and stamps slot's block of generation gen. */
static inline wl_churn_status wl_churn_put(wl_churn_ctx *c, size_t slot, uint64_t gen) {
    const size_t size = wl_churn_draw(c);
    unsigned char *p = mm_raw_alloc(c->h, size);
    if (MM_UNLIKELY(p == NULL)) {
        c->failed_slot = slot;
        return WL_CHURN_NOMEM;
    }
    wl_churn_mark(p, size, wl_churn_stamp(slot, gen), wl_churn_audited(slot));
    c->slots[slot] = (wl_churn_slot){p, size};
    return WL_CHURN_OK;
}

/* Checks (always in the teardown, `every`; else audited slots only) and frees
 * slot's block of generation gen; a wrong stamp frees nothing. */
static inline wl_churn_status wl_churn_take(wl_churn_ctx *c, size_t slot, uint64_t gen, bool every) {
    unsigned char *p = c->slots[slot].block;
    const size_t size = c->slots[slot].size;
    const bool audited = wl_churn_audited(slot);
    if ((every || audited) && MM_UNLIKELY(!wl_churn_intact(p, size, wl_churn_stamp(slot, gen), audited))) {
        c->failed_slot = slot;
        return WL_CHURN_BAD_STAMP;
    }
    mm_raw_free(c->h, p, size);
    c->slots[slot].block = NULL; /* so a failure's cleanup skips it */
    return WL_CHURN_OK;
}

/* One pair: slot's generation-gen block out, a generation gen+1 block in. */
static inline wl_churn_status wl_churn_pair(wl_churn_ctx *c, size_t slot, uint64_t gen) {
    const wl_churn_status s = wl_churn_take(c, slot, gen, false);
    return MM_LIKELY(s == WL_CHURN_OK) ? wl_churn_put(c, slot, gen + 1) : s;
}

/* The timed loops below work on a local copy `l` of the context: the stamps are
 * byte stores, which may alias anything reachable through a pointer, so on *c
 * the compiler would reload every field after each store; a local whose
 * address never leaves the function stays in registers. */

/* Step 1: slots 0..live-1 get their generation-0 blocks. */
static wl_churn_status wl_churn_fill(wl_churn_ctx *c) {
    wl_churn_ctx l = *c;
    wl_churn_status s = WL_CHURN_OK;
    for (size_t slot = 0; slot < l.live && s == WL_CHURN_OK; slot++) s = wl_churn_put(&l, slot, 0);
    *c = l;
    return s;
}

/* Step 2, round `round` (0-based): every slot's generation-`round` block is
 * replaced by one of generation round+1, in the order the header defines; one
 * loop per order, so the loop does not decide the order per pair. */
static wl_churn_status wl_churn_round(wl_churn_ctx *c, wl_churn_order order, uint64_t round) {
    wl_churn_ctx l = *c;
    const size_t n = l.live;
    wl_churn_status s = WL_CHURN_OK;
    if (order == WL_CHURN_SHUFFLED) {
        for (size_t k = 0; k < n && s == WL_CHURN_OK; k++) s = wl_churn_pair(&l, l.perm[k], round);
    } else if (order == WL_CHURN_LIFO && round % 2 == 0) { /* lifo, against the fill's direction */
        for (size_t k = n; k > 0 && s == WL_CHURN_OK; k--) s = wl_churn_pair(&l, k - 1, round);
    } else { /* fifo, and lifo's odd rounds */
        for (size_t k = 0; k < n && s == WL_CHURN_OK; k++) s = wl_churn_pair(&l, k, round);
    }
    *c = l;
    return s;
}

/* Step 3: every block, in slot order, checked against its last generation. */
static wl_churn_status wl_churn_teardown(wl_churn_ctx *c, uint64_t gen) {
    wl_churn_ctx l = *c;
    wl_churn_status s = WL_CHURN_OK;
    for (size_t slot = 0; slot < l.live && s == WL_CHURN_OK; slot++) s = wl_churn_take(&l, slot, gen, true);
    *c = l;
    return s;
}

/* After a failure other than a bad stamp: whatever is still allocated is freed
 * unchecked (a failure mid-round leaves mixed generations). */
static void wl_churn_release(wl_churn_ctx *c) {
    for (size_t slot = 0; slot < c->live; slot++) {
        if (c->slots[slot].block == NULL) continue;
        mm_raw_free(c->h, c->slots[slot].block, c->slots[slot].size);
        c->slots[slot].block = NULL;
    }
}

/* Bytes requested by the blocks now in the slots: after the fill or a round,
 * the bytes that step allocated (each slot got exactly one new block). */
static uint64_t wl_churn_payload(const wl_churn_ctx *c) {
    uint64_t sum = 0;
    for (size_t slot = 0; slot < c->live; slot++) sum += c->slots[slot].size;
    return sum;
}

/* Fisher–Yates over the previous permutation: a fresh uniform order per round. */
static void wl_churn_shuffle(wl_churn_ctx *c) {
    for (size_t i = c->live - 1; i > 0; i--) {
        const size_t j = wl_churn_below(wl_churn_next(&c->order_rng), (uint32_t)(i + 1));
        const uint32_t t = c->perm[i];
        c->perm[i] = c->perm[j];
        c->perm[j] = t;
    }
}

/* The one error line of a failed step. */
static void wl_churn_explain(const wl_churn_ctx *c, wl_churn_status s, const char *step, uint64_t gen, char *err,
                             size_t errlen) {
    if (s == WL_CHURN_NOMEM)
        snprintf(err, errlen, "out of memory in the %s, allocating a block for slot %zu of %zu", step,
                 c->failed_slot, c->live);
    else
        snprintf(err, errlen,
                 "block of slot %zu (%u bytes, generation %llu) lost its pattern before its free in the %s: the "
                 "allocator handed out memory still in use, or wrote into a live block",
                 c->failed_slot, (unsigned)c->slots[c->failed_slot].size, (unsigned long long)gen, step);
}

/* Steps 1–3 of the header, each on its own clock. */
static bool wl_churn_run(mm_heap *h, const mm_knobset *ks, wl_result *r, char *err, size_t errlen) {
    if (!wl_churn_check(ks, err, errlen)) return false;
    const int64_t rounds = mm_knob_int(ks, "rounds");
    const wl_churn_order order = (wl_churn_order)wl_churn_find_order(mm_knob_str(ks, "free"));
    wl_churn_ctx c = {.h = h, .live = (size_t)mm_knob_int(ks, "live")};
    uint64_t seed = (uint64_t)mm_knob_int(ks, "seed");
    c.size_rng = wl_churn_splitmix(&seed) | 1; /* xorshift's state must not be 0 */
    c.order_rng = wl_churn_splitmix(&seed) | 1;
    c.slots = calloc(c.live, sizeof *c.slots);
    if (order == WL_CHURN_SHUFFLED) c.perm = malloc(c.live * sizeof *c.perm);
    const double table_bytes =
        (double)c.live * (double)(sizeof *c.slots + (c.perm ? sizeof *c.perm : 0));
    wl_churn_status s = WL_CHURN_OK;
    uint64_t pair_ns = 0, fill_ns = 0, teardown_ns = 0, requested = 0, payload_end = 0;
    int64_t done = 0;
    bool ok = false;
    if (c.slots == NULL || (order == WL_CHURN_SHUFFLED && c.perm == NULL)) {
        snprintf(err, errlen, "out of memory for the tables of %zu slots", c.live);
        goto out;
    }
    if (!wl_churn_sampler_init(&c, wl_churn_find_mix(mm_knob_str(ks, "sizes")))) {
        snprintf(err, errlen, "out of memory building the size sampler");
        goto out;
    }
    if (c.perm)
        for (size_t i = 0; i < c.live; i++) c.perm[i] = (uint32_t)i;

    /* 1. fill */
    uint64_t t0 = wl_churn_now_ns();
    s = wl_churn_fill(&c);
    fill_ns = wl_churn_now_ns() - t0;
    if (s != WL_CHURN_OK) {
        wl_churn_explain(&c, s, "fill", 0, err, errlen);
        goto out;
    }
    requested = wl_churn_payload(&c);

    /* 2. rounds: only the replacement loops are on the clock */
    for (; done < rounds; done++) {
        if (c.perm) wl_churn_shuffle(&c);
        t0 = wl_churn_now_ns();
        s = wl_churn_round(&c, order, (uint64_t)done);
        pair_ns += wl_churn_now_ns() - t0;
        if (s != WL_CHURN_OK) {
            wl_churn_explain(&c, s, "rounds", (uint64_t)done, err, errlen);
            goto out;
        }
        requested += wl_churn_payload(&c);
    }
    payload_end = wl_churn_payload(&c);

    /* 3. teardown, checking every block's last generation */
    t0 = wl_churn_now_ns();
    s = wl_churn_teardown(&c, (uint64_t)rounds);
    teardown_ns = wl_churn_now_ns() - t0;
    if (s != WL_CHURN_OK) {
        wl_churn_explain(&c, s, "teardown", (uint64_t)rounds, err, errlen);
        goto out;
    }
    ok = true;

out:
    /* A bad stamp leaves the blocks alone (see the header); other failures free them. */
    if (!ok && s != WL_CHURN_BAD_STAMP && c.slots != NULL) wl_churn_release(&c);
    const double pairs = (double)done * (double)c.live;
    r->ops = pairs;
    wl_counter(r, "ns_per_pair", pairs > 0 ? (double)pair_ns / pairs : 0);
    wl_counter(r, "pairs", pairs);
    wl_counter(r, "fill_ns_per_alloc", ok ? (double)fill_ns / (double)c.live : 0);
    wl_counter(r, "free_all_ns_per_free", ok ? (double)teardown_ns / (double)c.live : 0);
    wl_counter(r, "mean_block_bytes", ok ? (double)requested / ((double)c.live * (double)(rounds + 1)) : 0);
    wl_counter(r, "live_payload_mb", (double)payload_end / WL_CHURN_MB);
    wl_counter(r, "table_mb", table_bytes / WL_CHURN_MB);
    free(c.buckets);
    free(c.perm);
    free(c.slots);
    return ok;
}

const mm_workload wl_churn = {
    .name = "churn",
    .summary = "allocator traffic, no objects: `live` raw blocks, each freed and replaced once per round in "
               "lifo/fifo/shuffled order (the allocator axis; use reclaim none)",
    .knobs = wl_churn_knobs,
    .check = wl_churn_check,
    .run = wl_churn_run,
};
