/* test_alloc.c — one conformance suite that every allocator in mm_allocators
 * passes, then what only `pool` and `bump` promise.
 *
 * Conformance (alloc.h's contract): 16-byte alignment for every size 1..4096; live
 * blocks never overlap (each block carries a pattern derived from its address and
 * index, checked just before it is freed, and the blocks are checked disjoint by
 * address); live_bytes equals the sum of live sizes at every checkpoint, and
 * reserved >= live where the allocator reports reserved bytes; random interleavings
 * of alloc and free with fixed seeds; a 0-byte request is NULL or freeable with
 * free(p, 0) and leaves live_bytes alone. An allocator that must be the process's
 * malloc (preload_library) is skipped here, as is one whose create() says it is
 * unavailable.
 *
 * pool: LIFO reuse, big and 0-byte requests go to malloc, new pools come from the
 * fullest arena, a wholly free arena is unmapped (one kept, as CPython does), a mass
 * free of ~100 MB returns the arenas (stats and RSS fall), both geometries work,
 * bad geometry is refused naming the knob (by create() and by the cell parser).
 * bump: free leaves reserved alone, big requests get their own chunk, destroy gives
 * the memory back.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cell.h"
#include "check.h"
#include "mm.h"
#include "registry.h"

/* Blocks of every size 1..MAX_SIZE, this many of each. */
#define SIZES_MAX 4096
#define SIZES_COPIES 3
/* Random interleaving: slots that may hold a block, and operations per seed. */
#define RANDOM_SLOTS 2048
#define RANDOM_OPS 120000
/* Checkpoints of the stats in the random test, every this many operations. */
#define RANDOM_CHECK_EVERY 997
/* The mass free of `pool` allocates this much in small blocks (the task's ~100 MB). */
#define MASS_BYTES (100u << 20)

typedef struct blk {
    unsigned char *p;
    size_t size;
    uint32_t tag;
} blk;

/* ---- helpers ----------------------------------------------------------------------- */

/* Builds an allocator the way a cell does: knobs validated against its table, then
 * defaults. NULL with err set when a knob or create() refuses. */
static mm_allocator *make(const mm_allocator_ops *ops, const char *knobs, char *err, size_t errlen) {
    mm_knobset ks;
    memset(&ks, 0, sizeof ks);
    const mm_knob_desc *const tables[] = {ops->knobs};
    char buf[256];
    snprintf(buf, sizeof buf, "%s", knobs ? knobs : "");
    for (char *save = NULL, *kv = strtok_r(buf, "/", &save); kv; kv = strtok_r(NULL, "/", &save)) {
        char *eq = strchr(kv, '=');
        if (eq == NULL) {
            snprintf(err, errlen, "knob '%s' has no '='", kv);
            return NULL;
        }
        *eq = '\0';
        if (!mm_knobset_apply(&ks, kv, eq + 1, tables, 1, err, errlen)) return NULL;
    }
    mm_knobset_fill_defaults(&ks, ops->knobs);
    return ops->create(&ks, err, errlen);
}

/* For tests where the allocator must exist: a refusal is a test failure. */
static mm_allocator *must_make(const mm_allocator_ops *ops, const char *knobs) {
    char err[256] = "";
    mm_allocator *a = make(ops, knobs, err, sizeof err);
    if (a == NULL) {
        fprintf(stderr, "%s/%s: create failed: %s\n", ops->name, knobs ? knobs : "", err);
        exit(1);
    }
    return a;
}

static mm_alloc_stats stats_of(mm_allocator *a) {
    mm_alloc_stats s;
    memset(&s, 0, sizeof s);
    a->ops->stats(a, &s);
    return s;
}

/* Patterns are windows of one random table: a block's window starts at an offset
 * derived from its address and index, so two overlapping blocks cannot both keep
 * their patterns; memcpy/memcmp keep the checks fast under ASan. */
#define PATTERN_OFFSETS 4096
#define PATTERN_LEN (PATTERN_OFFSETS + 4097 + (64 << 10)) /* offsets + the largest block asked for */
static unsigned char pattern_table[PATTERN_LEN];

static uint64_t rng_next(uint64_t *s);

static void pattern_init(void) {
    uint64_t rng = 0x243F6A8885A308D3ull;
    for (size_t i = 0; i < PATTERN_LEN; i++) pattern_table[i] = (unsigned char)(rng_next(&rng) >> 56);
}

static const unsigned char *pattern(const blk *b) {
    uint32_t h = (uint32_t)((uintptr_t)b->p >> 4) * 2654435761u ^ b->tag * 40503u;
    return pattern_table + (h >> 7) % PATTERN_OFFSETS;
}

static void fill(const blk *b) {
    if (b->size > PATTERN_LEN - PATTERN_OFFSETS) abort(); /* a test asking for more than the table */
    memcpy(b->p, pattern(b), b->size);
}

/* Offset of the first wrong byte, or SIZE_MAX when the block is intact. */
static size_t first_bad(const blk *b) {
    const unsigned char *want = pattern(b);
    if (memcmp(b->p, want, b->size) == 0) return SIZE_MAX;
    size_t j = 0;
    while (b->p[j] == want[j]) j++;
    return j;
}

static uint64_t rss_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long size = 0, resident = 0;
    if (f == NULL) return 0;
    if (fscanf(f, "%llu %llu", &size, &resident) != 2) resident = 0;
    fclose(f);
    return resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* Deterministic random numbers (xorshift64*), so a failure reproduces. */
static uint64_t rng_next(uint64_t *s) {
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

static int cmp_addr(const void *x, const void *y) {
    const blk *a = x, *b = y;
    return a->p < b->p ? -1 : a->p > b->p;
}

/* Live bytes match the test's own sum; reserved covers live where it is reported. */
static void check_stats(mm_allocator *a, uint64_t expect_live, const char *name, const char *where) {
    mm_alloc_stats s = stats_of(a);
    CHECK(s.live_bytes == expect_live, "%s %s: live_bytes %llu, expected %llu", name, where,
          (unsigned long long)s.live_bytes, (unsigned long long)expect_live);
    CHECK(s.reserved_bytes == 0 || s.reserved_bytes >= s.live_bytes, "%s %s: reserved %llu < live %llu", name,
          where, (unsigned long long)s.reserved_bytes, (unsigned long long)s.live_bytes);
}

/* One checked free: the pattern must have survived everything since it was written. */
static void checked_free(mm_allocator *a, blk *b, const char *name) {
    size_t bad = first_bad(b);
    CHECK(bad == SIZE_MAX, "%s: block %p (size %zu, #%u) overwritten at offset %zu", name, (void *)b->p, b->size,
          b->tag, bad);
    a->ops->free(a, b->p, b->size);
    b->p = NULL;
}

/* ---- conformance: every allocator ---------------------------------------------------- */

/* Every size 1..4096, several blocks each, all live at once: aligned, disjoint,
 * intact, counted. Freed odd-indexed first, so frees interleave across sizes. */
static void conform_sizes(const mm_allocator_ops *ops, const char *knobs, const char *name) {
    mm_allocator *a = must_make(ops, knobs);
    size_t n = (size_t)SIZES_MAX * SIZES_COPIES;
    blk *b = calloc(n, sizeof *b);
    uint64_t live = 0;
    size_t misaligned = 0, nulls = 0;
    for (size_t i = 0; i < n; i++) {
        b[i].size = i / SIZES_COPIES + 1;
        b[i].tag = (uint32_t)i;
        b[i].p = a->ops->alloc(a, b[i].size);
        if (b[i].p == NULL) {
            nulls++;
            continue;
        }
        if ((uintptr_t)b[i].p % 16 != 0) misaligned++;
        fill(&b[i]);
        live += b[i].size;
        if (i % (256 * SIZES_COPIES) == 0) check_stats(a, live, name, "while allocating sizes");
    }
    CHECK(nulls == 0, "%s: %zu allocations of 1..%d bytes returned NULL", name, nulls, SIZES_MAX);
    CHECK(misaligned == 0, "%s: %zu blocks not 16-byte aligned", name, misaligned);
    check_stats(a, live, name, "after sizes 1..4096");

    blk *sorted = malloc(n * sizeof *sorted);
    memcpy(sorted, b, n * sizeof *b);
    qsort(sorted, n, sizeof *sorted, cmp_addr);
    size_t overlaps = 0;
    for (size_t i = 0; i + 1 < n; i++)
        if (sorted[i].p && sorted[i].p + sorted[i].size > sorted[i + 1].p) overlaps++;
    CHECK(overlaps == 0, "%s: %zu live blocks overlap their neighbour", name, overlaps);
    free(sorted);

    for (int parity = 1; parity >= 0; parity--) {
        for (size_t i = (size_t)parity; i < n; i += 2) {
            if (b[i].p == NULL) continue;
            checked_free(a, &b[i], name);
            live -= b[i].size;
        }
        check_stats(a, live, name, parity ? "after freeing odd blocks" : "after freeing all blocks");
    }
    CHECK(live == 0, "%s: test bookkeeping", name);
    free(b);
    a->ops->destroy(a);
}

/* Random size for the interleaving: mostly small (pymalloc's range), some medium,
 * a few large enough to leave any pool or small chunk. */
static size_t random_size(uint64_t *rng) {
    uint64_t r = rng_next(rng);
    unsigned pick = (unsigned)(r % 100);
    r >>= 8;
    if (pick < 85) return 1 + (size_t)(r % 512);
    if (pick < 98) return 513 + (size_t)(r % (4096 - 512));
    return 4097 + (size_t)(r % (64 << 10));
}

/* Alloc and free in a random order; a slot is freed (pattern checked) when drawn
 * while occupied, else filled. Stats checked every RANDOM_CHECK_EVERY operations. */
static void conform_random(const mm_allocator_ops *ops, const char *knobs, const char *name, uint64_t seed) {
    mm_allocator *a = must_make(ops, knobs);
    blk *slot = calloc(RANDOM_SLOTS, sizeof *slot);
    uint64_t rng = seed, live = 0;
    size_t nulls = 0, misaligned = 0;
    for (uint32_t op = 0; op < RANDOM_OPS; op++) {
        blk *s = &slot[rng_next(&rng) % RANDOM_SLOTS];
        if (s->p) {
            checked_free(a, s, name);
            live -= s->size;
        } else {
            s->size = random_size(&rng);
            s->tag = op;
            s->p = a->ops->alloc(a, s->size);
            if (s->p == NULL) {
                nulls++;
                continue;
            }
            if ((uintptr_t)s->p % 16 != 0) misaligned++;
            fill(s);
            live += s->size;
        }
        if (op % RANDOM_CHECK_EVERY == 0) check_stats(a, live, name, "during random interleaving");
    }
    CHECK(nulls == 0 && misaligned == 0, "%s seed %llu: %zu NULL, %zu misaligned", name, (unsigned long long)seed,
          nulls, misaligned);
    for (size_t i = 0; i < RANDOM_SLOTS; i++) {
        if (slot[i].p == NULL) continue;
        live -= slot[i].size;
        checked_free(a, &slot[i], name);
    }
    check_stats(a, 0, name, "after the random interleaving");
    free(slot);
    a->ops->destroy(a);
}

/* alloc.h says nothing of 0 bytes beyond the general contract: NULL, or a pointer
 * that free(p, 0) takes back; either way nothing is counted live. */
static void conform_zero(const mm_allocator_ops *ops, const char *knobs, const char *name) {
    mm_allocator *a = must_make(ops, knobs);
    void *p = a->ops->alloc(a, 0);
    CHECK(p == NULL || (uintptr_t)p % 16 == 0, "%s: alloc(0) misaligned", name);
    check_stats(a, 0, name, "after alloc(0)");
    if (p) a->ops->free(a, p, 0);
    check_stats(a, 0, name, "after free(alloc(0), 0)");
    a->ops->destroy(a);
}

static void conform(const mm_allocator_ops *ops, const char *knobs) {
    char name[128];
    snprintf(name, sizeof name, "%s%s%s", ops->name, knobs ? "/" : "", knobs ? knobs : "");
    conform_sizes(ops, knobs, name);
    for (uint64_t seed = 1; seed <= 2; seed++) conform_random(ops, knobs, name, seed * 0x9E3779B97F4A7C15ull);
    conform_zero(ops, knobs, name);
}

/* Every registered allocator, skipped only where it cannot run in this process. */
static void conform_all(void) {
    for (int i = 0; mm_allocators[i]; i++) {
        const mm_allocator_ops *ops = mm_allocators[i];
        if (ops->preload_library != NULL) {
            printf("note: %s skipped here: it must be the process-wide malloc (%s)\n", ops->name,
                   ops->preload_library);
            continue;
        }
        char err[256] = "";
        mm_allocator *a = make(ops, NULL, err, sizeof err);
        if (a == NULL) {
            bool unavailable = strstr(err, "unavailable") != NULL;
            if (unavailable)
                printf("note: %s skipped: %s\n", ops->name, err);
            else
                CHECK(false, "%s: create with default knobs failed: %s", ops->name, err);
            continue;
        }
        ops->destroy(a);
        conform(ops, NULL);
        printf("%s: conformance done\n", ops->name);
    }
}

/* ---- pool ---------------------------------------------------------------------------- */

static const mm_allocator_ops *pool_ops(void) { return mm_find_allocator("pool"); }

/* The last freed block of a class is the next one handed out (LIFO free list), for
 * any size of the same 16-byte class. */
static void pool_lifo(void) {
    mm_allocator *a = must_make(pool_ops(), NULL);
    void *x = a->ops->alloc(a, 100), *y = a->ops->alloc(a, 100);
    a->ops->free(a, x, 100);
    a->ops->free(a, y, 100);
    void *y2 = a->ops->alloc(a, 97), *x2 = a->ops->alloc(a, 112); /* class (n-1)>>4 = 6 for 97..112 */
    CHECK(y2 == y && x2 == x, "LIFO reuse within a class: %p %p vs %p %p", y2, x2, y, x);
    void *z = a->ops->alloc(a, 113); /* class 7: another pool */
    CHECK(((uintptr_t)z & ~(uintptr_t)(16384 - 1)) != ((uintptr_t)x & ~(uintptr_t)(16384 - 1)),
          "class 7 shares a pool with class 6");
    mm_alloc_stats s = stats_of(a);
    CHECK(s.pools_in_use == 2 && s.arenas == 1, "two pools in one arena, got %llu pools, %llu arenas",
          (unsigned long long)s.pools_in_use, (unsigned long long)s.arenas);
    a->ops->free(a, x2, 112);
    a->ops->free(a, y2, 97);
    a->ops->free(a, z, 113);
    s = stats_of(a);
    CHECK(s.pools_in_use == 0 && s.live_bytes == 0, "all pools empty again (%llu in use)",
          (unsigned long long)s.pools_in_use);
    a->ops->destroy(a);
}

/* Zero and > 512 bytes go to malloc: counted live and reserved, no arena mapped. */
static void pool_big(void) {
    mm_allocator *a = must_make(pool_ops(), NULL);
    void *p = a->ops->alloc(a, 513), *q = a->ops->alloc(a, 100000), *z = a->ops->alloc(a, 0);
    mm_alloc_stats s = stats_of(a);
    CHECK(p && q && z, "big and zero-size requests served");
    CHECK(s.arenas == 0 && s.pools_in_use == 0, "big blocks map no arena (%llu)", (unsigned long long)s.arenas);
    CHECK(s.live_bytes == 100513 && s.reserved_bytes == 100513, "big blocks: live %llu reserved %llu",
          (unsigned long long)s.live_bytes, (unsigned long long)s.reserved_bytes);
    void *small = a->ops->alloc(a, 512);
    s = stats_of(a);
    CHECK(s.arenas == 1 && s.reserved_bytes == 100513 + (1u << 20), "512 bytes is small: one arena, reserved %llu",
          (unsigned long long)s.reserved_bytes);
    a->ops->free(a, small, 512);
    a->ops->free(a, p, 513);
    a->ops->free(a, q, 100000);
    a->ops->free(a, z, 0);
    s = stats_of(a);
    CHECK(s.live_bytes == 0 && s.reserved_bytes == (1u << 20), "after freeing: live %llu reserved %llu",
          (unsigned long long)s.live_bytes, (unsigned long long)s.reserved_bytes);
    a->ops->destroy(a);
}

/* Arena policy with a tiny geometry (64 KiB arenas of 16 pools of 4 KiB; 7 blocks
 * of 512 bytes per pool): arenas are aligned to their size; a new pool comes from
 * the arena with the fewest free pools; a wholly free arena is unmapped unless it
 * is the last usable one (kept, as CPython ≥ 3.9 does against thrashing). */
static void pool_arena_policy(void) {
    enum { ARENA = 64 << 10, PER_POOL = 7, POOLS = 16, PER_ARENA = PER_POOL * POOLS };
    mm_allocator *a = must_make(pool_ops(), "arena=64k/pool=4k");
    void *blocks[2 * PER_ARENA];
#define ARENA_OF(p) ((uintptr_t)(p) & ~(uintptr_t)(ARENA - 1))
    for (int i = 0; i < 2 * PER_ARENA; i++) blocks[i] = a->ops->alloc(a, 512);
    uintptr_t A = ARENA_OF(blocks[0]), B = ARENA_OF(blocks[PER_ARENA]);
    size_t in_a = 0, in_b = 0;
    for (int i = 0; i < PER_ARENA; i++) in_a += ARENA_OF(blocks[i]) == A;
    for (int i = PER_ARENA; i < 2 * PER_ARENA; i++) in_b += ARENA_OF(blocks[i]) == B;
    CHECK(A != B && in_a == PER_ARENA && in_b == PER_ARENA, "%d blocks fill an aligned arena: %zu, %zu", PER_ARENA,
          in_a, in_b);
    CHECK((uintptr_t)blocks[0] - A == 48, "first block right after the 48-byte pool header (offset %zu)",
          (size_t)((uintptr_t)blocks[0] - A));
    mm_alloc_stats s = stats_of(a);
    CHECK(s.arenas == 2 && s.pools_in_use == 2 * POOLS, "two full arenas: %llu arenas, %llu pools",
          (unsigned long long)s.arenas, (unsigned long long)s.pools_in_use);

    /* Empty 3 pools of A and 5 of B: A is the fuller arena. */
    for (int i = 0; i < 3 * PER_POOL; i++) a->ops->free(a, blocks[i], 512), blocks[i] = NULL;
    for (int i = PER_ARENA; i < PER_ARENA + 5 * PER_POOL; i++) a->ops->free(a, blocks[i], 512), blocks[i] = NULL;
    s = stats_of(a);
    CHECK(s.pools_in_use == 2 * POOLS - 8 && s.arenas == 2, "8 pools back: %llu in use",
          (unsigned long long)s.pools_in_use);
    /* The next 3 pools' worth come from A, the one after from B. */
    size_t from_a = 0;
    for (int i = 0; i < 3 * PER_POOL; i++) { /* refill the slots emptied in A */
        blocks[i] = a->ops->alloc(a, 512);
        from_a += ARENA_OF(blocks[i]) == A;
    }
    CHECK(from_a == 3 * PER_POOL, "new pools from the fullest arena: %zu of %d from A", from_a, 3 * PER_POOL);
    void *next = a->ops->alloc(a, 512);
    CHECK(ARENA_OF(next) == B, "A full: the next pool comes from B");
    a->ops->free(a, next, 512);

    /* B wholly free: the last usable arena, kept. Then A wholly free: unmapped. */
    for (int i = PER_ARENA; i < 2 * PER_ARENA; i++)
        if (blocks[i]) a->ops->free(a, blocks[i], 512), blocks[i] = NULL;
    s = stats_of(a);
    CHECK(s.arenas == 2 && s.pools_in_use == POOLS, "wholly free B is kept as the last usable arena (%llu arenas)",
          (unsigned long long)s.arenas);
    for (int i = 0; i < PER_ARENA; i++)
        if (blocks[i]) a->ops->free(a, blocks[i], 512), blocks[i] = NULL;
    s = stats_of(a);
    CHECK(s.arenas == 1 && s.pools_in_use == 0 && s.reserved_bytes == ARENA && s.live_bytes == 0,
          "wholly free A unmapped: %llu arenas, reserved %llu", (unsigned long long)s.arenas,
          (unsigned long long)s.reserved_bytes);
    void *again = a->ops->alloc(a, 64);
    CHECK(ARENA_OF(again) == B && stats_of(a).arenas == 1, "the kept arena B serves again");
    a->ops->free(a, again, 64);
#undef ARENA_OF
    a->ops->destroy(a);
}

/* ~100 MB of small blocks of every class, freed in random order: the arenas go back
 * to the OS (all but the one kept), and RSS falls with them. */
static void pool_mass_free(const char *knobs, size_t total_bytes) {
    mm_allocator *a = must_make(pool_ops(), knobs);
    size_t cap = total_bytes / 128, n = 0, bytes = 0; /* sizes average 256.5 bytes */
    blk *b = malloc(cap * sizeof *b);
    memset(b, 0, cap * sizeof *b); /* touch the bookkeeping before the baseline */
    uint64_t rss0 = rss_bytes();
    while (bytes < total_bytes && n < cap) {
        blk *x = &b[n];
        x->size = 1 + (n * 37) % 512;
        x->tag = (uint32_t)n;
        x->p = a->ops->alloc(a, x->size);
        if (x->p == NULL) break;
        fill(x);
        bytes += x->size;
        n++;
    }
    CHECK(bytes >= total_bytes, "%s: allocated only %zu bytes", knobs ? knobs : "pool", bytes);
    mm_alloc_stats s = stats_of(a);
    uint64_t rss1 = rss_bytes();
    CHECK(s.live_bytes == bytes && s.reserved_bytes >= bytes && s.arenas > 0 && s.pools_in_use > 0,
          "mass: live %llu reserved %llu arenas %llu", (unsigned long long)s.live_bytes,
          (unsigned long long)s.reserved_bytes, (unsigned long long)s.arenas);
    CHECK(s.reserved_bytes < bytes + bytes / 4, "small blocks pack tightly: reserved %llu for %zu live",
          (unsigned long long)s.reserved_bytes, bytes);
    CHECK(rss1 > rss0 + total_bytes / 2, "RSS rose by %llu MiB", (unsigned long long)((rss1 - rss0) >> 20));
    uint64_t rng = 42;
    for (size_t i = n; i > 1; i--) { /* Fisher-Yates: free in random order */
        size_t j = (size_t)(rng_next(&rng) % i);
        blk t = b[i - 1];
        b[i - 1] = b[j];
        b[j] = t;
    }
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        bad += first_bad(&b[i]) != SIZE_MAX;
        a->ops->free(a, b[i].p, b[i].size);
    }
    CHECK(bad == 0, "%zu blocks damaged before their free", bad);
    mm_alloc_stats e = stats_of(a);
    uint64_t rss2 = rss_bytes();
    printf("pool %s mass free: %zu blocks, %zu MiB: arenas %llu -> %llu, reserved %llu -> %llu MiB, "
           "RSS +%llu MiB, then -%llu MiB\n",
           knobs ? knobs : "(default)", n, bytes >> 20, (unsigned long long)s.arenas, (unsigned long long)e.arenas,
           (unsigned long long)(s.reserved_bytes >> 20), (unsigned long long)(e.reserved_bytes >> 20),
           (unsigned long long)((rss1 - rss0) >> 20), (unsigned long long)((rss1 - rss2) >> 20));
    CHECK(e.arenas <= 1 && e.pools_in_use == 0 && e.live_bytes == 0, "after mass free: %llu arenas, %llu pools",
          (unsigned long long)e.arenas, (unsigned long long)e.pools_in_use);
    CHECK(e.reserved_bytes <= (64u << 20) && e.reserved_bytes < s.reserved_bytes / 8, "reserved fell to %llu",
          (unsigned long long)e.reserved_bytes);
    CHECK(rss2 + (rss1 - rss0) / 2 < rss1, "RSS fell by %llu MiB of the %llu it rose",
          (unsigned long long)((rss1 - rss2) >> 20), (unsigned long long)((rss1 - rss0) >> 20));
    free(b);
    a->ops->destroy(a);
}

/* Bad geometry: ranges refused when the knob is applied, the rest by create(); each
 * with one line that names the knob. */
static void pool_bad_knobs(void) {
    static const struct {
        const char *knobs, *named;
    } bad[] = {
        {"pool=5000", "'pool'"},        /* not a power of two */
        {"pool=2k", "'pool'"},          /* below 4 KiB */
        {"arena=100k", "'arena'"},      /* not a multiple of the 16 KiB pool */
        {"arena=16k/pool=32k", "'arena'"}, /* smaller than a pool */
        {"arena=128m", "'arena'"},      /* above 64 MiB */
        {"arena=1x", "'arena'"},        /* not a number */
        {"pool=0", "'pool'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[256] = "";
        mm_allocator *a = make(pool_ops(), bad[i].knobs, err, sizeof err);
        CHECK(a == NULL && strstr(err, bad[i].named) != NULL && strchr(err, '\n') == NULL,
              "pool/%s refused naming %s: got '%s'", bad[i].knobs, bad[i].named, err);
        if (a) a->ops->destroy(a);
    }
    /* The CLI asks the allocator's check before anything runs (exit 2, not a failed run). */
    static ms_cell cell;
    char err[700] = "";
    CHECK(!ms_cell_parse("list/rc/pool/slots/arena=100k", &cell, err, sizeof err) && strstr(err, "'arena'") &&
              strstr(err, "multiple of pool"),
          "cell with arena=100k refused naming arena: '%s'", err);
    CHECK(ms_cell_parse("list/rc/pool/slots/arena=256k/pool=4k", &cell, err, sizeof err), "<=3.9 cell: %s", err);
    mm_heap *h = mm_heap_new_named("rc", "pool", "slots", "pool=5000", err, sizeof err);
    CHECK(h == NULL && strstr(err, "pool") && strstr(err, "power of two"), "heap refuses pool=5000: '%s'", err);
    mm_heap_free(h);
    h = mm_heap_new_named("rc", "pool", "slots", "arena=256k/pool=4k", err, sizeof err);
    CHECK(h != NULL, "heap with the <=3.9 geometry: %s", err);
    mm_heap_free(h);
}

/* ---- bump ---------------------------------------------------------------------------- */

static const mm_allocator_ops *bump_ops(void) { return mm_find_allocator("bump"); }

/* Free only counts; big requests get a chunk of their own and the current chunk
 * stays current; 0-byte requests are distinct. */
static void bump_semantics(void) {
    mm_allocator *a = must_make(bump_ops(), "chunk=1m");
    char *p1 = a->ops->alloc(a, 16);
    mm_alloc_stats s0 = stats_of(a);
    CHECK(s0.reserved_bytes == (1u << 20) && s0.arenas == 1, "one chunk of 1 MiB: %llu",
          (unsigned long long)s0.reserved_bytes);
    size_t big = (3u << 20) + 5;
    char *q = a->ops->alloc(a, big);
    mm_alloc_stats s1 = stats_of(a);
    uint64_t grew = s1.reserved_bytes - s0.reserved_bytes;
    CHECK(q && grew >= big && grew <= big + 2 * 4096 && s1.arenas == 2, "big request: own chunk of %llu bytes",
          (unsigned long long)grew);
    char *p2 = a->ops->alloc(a, 1);
    CHECK(p2 == p1 + 16, "the current chunk stays current after a big request (%p after %p)", (void *)p2,
          (void *)p1);
    void *z1 = a->ops->alloc(a, 0), *z2 = a->ops->alloc(a, 0);
    CHECK(z1 && z2 && z1 != z2, "0-byte requests are distinct");
    memset(q, 0x5a, big);
    a->ops->free(a, q, big);
    a->ops->free(a, p1, 16);
    a->ops->free(a, p2, 1);
    a->ops->free(a, z1, 0);
    a->ops->free(a, z2, 0);
    mm_alloc_stats s2 = stats_of(a);
    CHECK(s2.live_bytes == 0 && s2.reserved_bytes == s1.reserved_bytes, "free leaves reserved alone: %llu vs %llu",
          (unsigned long long)s2.reserved_bytes, (unsigned long long)s1.reserved_bytes);
    /* Filling past the first chunk opens another; the rest of the first is wasted. */
    uint64_t live = 0;
    for (int i = 0; i < 300; i++) {
        void *p = a->ops->alloc(a, 4000);
        memset(p, i, 4000);
        live += 4000;
    }
    mm_alloc_stats s3 = stats_of(a);
    CHECK(s3.live_bytes == live && s3.arenas == 3 && s3.reserved_bytes == s2.reserved_bytes + (1u << 20),
          "300 x 4000 B open one more 1 MiB chunk: %llu chunks", (unsigned long long)s3.arenas);
    a->ops->destroy(a); /* live blocks and all: a region goes at once */
}

/* destroy is when a region gives memory back: RSS falls by what it held. */
static void bump_destroy_releases(void) {
    enum { TOTAL = 64 << 20, BLOCK = 4096 };
    uint64_t rss0 = rss_bytes();
    mm_allocator *a = must_make(bump_ops(), NULL);
    for (int i = 0; i < TOTAL / BLOCK; i++) {
        void *p = a->ops->alloc(a, BLOCK);
        memset(p, 1, BLOCK);
        a->ops->free(a, p, BLOCK); /* counted, not returned */
    }
    mm_alloc_stats s = stats_of(a);
    uint64_t rss1 = rss_bytes();
    CHECK(s.live_bytes == 0 && s.reserved_bytes >= TOTAL, "freed blocks stay reserved: %llu",
          (unsigned long long)s.reserved_bytes);
    CHECK(rss1 > rss0 + TOTAL / 2, "RSS rose by %llu MiB", (unsigned long long)((rss1 - rss0) >> 20));
    a->ops->destroy(a);
    uint64_t rss2 = rss_bytes();
    printf("bump: 64 MiB freed block by block: reserved %llu MiB; RSS +%llu MiB, after destroy -%llu MiB\n",
           (unsigned long long)(s.reserved_bytes >> 20), (unsigned long long)((rss1 - rss0) >> 20),
           (unsigned long long)((rss1 - rss2) >> 20));
    CHECK(rss2 + TOTAL / 2 < rss1, "destroy returned the chunks: RSS %llu -> %llu MiB",
          (unsigned long long)(rss1 >> 20), (unsigned long long)(rss2 >> 20));
}

static void bump_bad_knobs(void) {
    char err[256] = "";
    mm_allocator *a = make(bump_ops(), "chunk=1k", err, sizeof err);
    CHECK(a == NULL && strstr(err, "'chunk'"), "chunk=1k refused: '%s'", err);
    if (a) a->ops->destroy(a);
}

int main(void) {
    pattern_init();
    conform_all();
    CHECK(pool_ops() != NULL && bump_ops() != NULL, "pool and bump are registered");
    if (pool_ops()) {
        conform(pool_ops(), "arena=256k/pool=4k"); /* CPython <= 3.9 geometry */
        conform(pool_ops(), "arena=16k/pool=16k"); /* one pool per arena: the edge */
        pool_lifo();
        pool_big();
        pool_arena_policy();
        pool_mass_free(NULL, MASS_BYTES);
        pool_mass_free("arena=256k/pool=4k", MASS_BYTES / 4);
        pool_bad_knobs();
    }
    if (bump_ops()) {
        bump_semantics();
        bump_destroy_releases();
        bump_bad_knobs();
    }
    return check_summary();
}
