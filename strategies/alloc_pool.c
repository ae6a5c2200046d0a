/* alloc_pool.c — `pool`: a model of CPython's pymalloc (Objects/obmalloc.c).
 *
 * Contract: requests of 1..512 bytes come from 32 size classes 16 bytes apart
 * (class = (n-1) >> 4); each class is served from pools, pools are carved from
 * arenas, arenas are mapped with mmap. Zero-size and larger requests go to the
 * system malloc. Every block is 16-byte aligned. The free is sized, so the size
 * alone says whether a block came from a pool or from malloc: CPython's free is
 * not, and must ask address_in_range() (a radix tree since 3.10); we need no such
 * lookup and do not model it.
 *
 * Geometry is a knob: `arena=1m,pool=16k` (CPython 3.10+ on 64-bit, the default)
 * or `arena=256k,pool=4k` (CPython ≤ 3.9). A pool header is 48 bytes, as CPython's.
 *
 * Invariants:
 *  1. Arenas are aligned to their size (to the largest power of two dividing it),
 *     so pools are aligned to the pool size and a block's pool is block & ~(pool-1).
 *  2. A pool is on usedpools[c] exactly when it serves class c, has a block in
 *     use and a non-empty freeblock list (a full pool leaves the list, an empty
 *     one goes back to its arena).
 *  3. In a pool, ref_count + length(freeblock list) = blocks carved so far
 *     = (nextoffset - header) / block size; blocks past nextoffset were never used.
 *  4. An arena's nfreepools = length(freepools) + pools never carved.
 *     usable_arenas holds exactly the arenas with nfreepools > 0, sorted by
 *     nfreepools ascending (fullest first: new pools come from the head), and
 *     lasta[k] is the last arena on it with nfreepools == k, or NULL.
 *  5. live_bytes = sum of requested sizes not yet freed; reserved_bytes = mapped
 *     arena bytes + requested sizes of the blocks that went to malloc.
 *
 * Where to start reading: pool_alloc and pool_free (the fast paths), then
 * pool_alloc_slow (a new pool from the fullest arena) and pool_free_slow (a full
 * pool comes back, an empty pool goes home, a wholly free arena is unmapped
 * unless it is the last usable one, which CPython ≥ 3.9 keeps against thrashing).
 *
 * Not modelled: address_in_range, the arena_object vector (one malloc'd
 * descriptor per arena here), the debug allocator hooks, and glibc's own overhead
 * on the big blocks (counted at their requested size).
 */
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "alloc.h"
#include "alloc_asan.h"
#include "mm.h"

/* Blocks are 16 bytes apart, as pymalloc's ALIGNMENT on 64-bit. */
#define POOL_CLASS_SHIFT 4
/* Largest request served from pools (SMALL_REQUEST_THRESHOLD). */
#define POOL_SMALL_MAX 512
/* One usedpools list per class: 32, as in CPython. */
#define POOL_NCLASSES (POOL_SMALL_MAX >> POOL_CLASS_SHIFT)
/* CPython's pool header is 48 bytes on 64-bit; ours keeps the same size so that a
 * pool holds the same number of blocks. */
#define POOL_HEADER_SIZE 48
/* szidx of a pool carved but never given a class (mmap'd memory reads 0 = class 0). */
#define POOL_NO_CLASS UINT32_MAX
/* Knob limits: 4 KiB is CPython's smallest pool (≤ 3.9) and a page; 64 MiB bounds
 * the per-arena bookkeeping and keeps every in-pool offset in 32 bits. */
#define POOL_GEOMETRY_MIN 4096
#define POOL_GEOMETRY_MAX (64 << 20)

#if defined(__GNUC__)
#define POOL_NOINLINE __attribute__((noinline))
#else
#define POOL_NOINLINE
#endif

typedef struct pool_arena pool_arena;
typedef struct pool_header pool_header;

/* A free block holds the link to the next free block of its pool (LIFO). */
typedef struct free_block {
    struct free_block *next;
} free_block;

struct pool_header {
    uint32_t ref_count;    /* blocks handed out and not yet freed */
    uint32_t szidx;        /* size class, or POOL_NO_CLASS */
    free_block *freeblock; /* LIFO list of free blocks; NULL when none is carved and free */
    pool_header *nextpool; /* usedpools[szidx] list, or the arena's free-pool list */
    pool_header *prevpool; /* usedpools[szidx] list only */
    pool_arena *arena;     /* the arena this pool was carved from */
    uint32_t nextoffset;   /* offset of the first never-used block */
    uint32_t maxnextoffset; /* largest offset at which a whole block still fits */
};
_Static_assert(sizeof(pool_header) == POOL_HEADER_SIZE, "pool header must be CPython's 48 bytes");
_Static_assert(POOL_HEADER_SIZE % (1 << POOL_CLASS_SHIFT) == 0, "blocks after the header stay 16-aligned");

struct pool_arena {
    char *base;              /* aligned start of the mapping */
    char *pool_address;      /* next never-carved pool */
    pool_header *freepools;  /* emptied pools, linked through nextpool */
    uint32_t nfreepools;     /* freepools + never-carved pools */
    pool_arena *next, *prev; /* usable_arenas (only while nfreepools > 0) */
    pool_arena *all_next, *all_prev; /* every mapped arena, for destroy */
};

typedef struct pool_allocator {
    mm_allocator base;
    uintptr_t pool_mask;                   /* ~(pool_size - 1) */
    pool_header *usedpools[POOL_NCLASSES]; /* partly used pools per class, head first */
    pool_arena *usable;                    /* usable_arenas: fewest free pools first */
    pool_arena **lasta;                    /* [0..pools_per_arena]: last arena with k free pools */
    pool_arena *all;
    size_t pool_size, arena_size, arena_align, page_size;
    uint32_t pools_per_arena;
    uint64_t live_bytes, big_bytes, narenas, pools_in_use;
} pool_allocator;

extern const mm_allocator_ops mm_allocator_pool;

static inline size_t class_bytes(uint32_t szidx) { return (size_t)(szidx + 1) << POOL_CLASS_SHIFT; }

/* ---- debug validators: compile away unless MM_DEBUG ---------------------------- */

#if MM_DEBUG
/* A broken invariant here means later corruption far from the cause: stop now. */
#define POOL_ASSERT(cond, ...)                                                   \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "alloc_pool: invariant broken: %s: ", #cond);        \
            fprintf(stderr, __VA_ARGS__);                                        \
            fputc('\n', stderr);                                                 \
            abort();                                                             \
        }                                                                        \
    } while (0)

/* Invariant 3 for one pool, walking its free list (opening each block under ASan). */
static void pool_check(pool_allocator *a, pool_header *p) {
    size_t bs = class_bytes(p->szidx);
    POOL_ASSERT(p->szidx < POOL_NCLASSES, "pool %p szidx %u", (void *)p, p->szidx);
    POOL_ASSERT(p->maxnextoffset == a->pool_size - bs, "pool %p maxnextoffset %u", (void *)p, p->maxnextoffset);
    POOL_ASSERT(p->nextoffset <= p->maxnextoffset + bs, "pool %p nextoffset %u", (void *)p, p->nextoffset);
    size_t carved = (p->nextoffset - POOL_HEADER_SIZE) / bs, nfree = 0;
    for (free_block *b = p->freeblock; b != NULL;) {
        size_t off = (size_t)((char *)b - (char *)p);
        POOL_ASSERT(off >= POOL_HEADER_SIZE && off < p->nextoffset && (off - POOL_HEADER_SIZE) % bs == 0,
                    "pool %p free block at offset %zu", (void *)p, off);
        POOL_ASSERT(++nfree <= carved, "pool %p free list longer than carved blocks (loop?)", (void *)p);
        MM_MEM_OPEN(b, sizeof *b);
        free_block *next = b->next;
        MM_MEM_CLOSE(b, bs);
        b = next;
    }
    POOL_ASSERT(p->ref_count + nfree == carved, "pool %p: %u used + %zu free != %zu carved", (void *)p,
                p->ref_count, nfree, carved);
}

/* Invariant 4: the usable list is sorted, doubly linked, and lasta names each run's end;
 * deep also counts every arena's free pools and the pools in use. */
static void arenas_check(pool_allocator *a, bool deep) {
    uint32_t prevk = 0;
    for (pool_arena *ao = a->usable, *prev = NULL; ao; prev = ao, ao = ao->next) {
        uint32_t k = ao->nfreepools;
        POOL_ASSERT(ao->prev == prev, "usable list back link of arena %p", (void *)ao);
        POOL_ASSERT(k >= 1 && k <= a->pools_per_arena, "usable arena %p has %u free pools", (void *)ao, k);
        POOL_ASSERT(k >= prevk, "usable list not sorted: %u after %u", k, prevk);
        bool last_of_run = ao->next == NULL || ao->next->nfreepools != k;
        POOL_ASSERT((a->lasta[k] == ao) == last_of_run, "lasta[%u] wrong around arena %p", k, (void *)ao);
        prevk = k;
    }
    for (uint32_t k = 0; k <= a->pools_per_arena; k++)
        POOL_ASSERT(a->lasta[k] == NULL || a->lasta[k]->nfreepools == k, "lasta[%u] stale", k);
    if (!deep) return;
    uint64_t used = 0, n = 0;
    for (pool_arena *ao = a->all; ao; ao = ao->all_next) {
        uint32_t nfree = (uint32_t)((size_t)(ao->base + a->arena_size - ao->pool_address) / a->pool_size);
        for (pool_header *p = ao->freepools; p; p = p->nextpool) nfree++;
        POOL_ASSERT(nfree == ao->nfreepools, "arena %p counts %u free pools, has %u", (void *)ao, ao->nfreepools,
                    nfree);
        used += a->pools_per_arena - nfree;
        n++;
    }
    POOL_ASSERT(used == a->pools_in_use && n == a->narenas, "pools in use %llu vs %llu, arenas %llu vs %llu",
                (unsigned long long)used, (unsigned long long)a->pools_in_use, (unsigned long long)n,
                (unsigned long long)a->narenas);
}

/* A sized free with the wrong size would thread a block into the wrong class's list. */
static void block_check(pool_allocator *a, pool_header *p, void *ptr, size_t size) {
    size_t off = (size_t)((char *)ptr - (char *)p), bs = class_bytes(p->szidx);
    POOL_ASSERT(p->szidx == (size - 1) >> POOL_CLASS_SHIFT, "free(%p, %zu) into a pool of %zu-byte blocks", ptr,
                size, bs);
    POOL_ASSERT(off >= POOL_HEADER_SIZE && off < p->nextoffset && (off - POOL_HEADER_SIZE) % bs == 0,
                "free(%p): not a block start of its pool", ptr);
    POOL_ASSERT(p->ref_count > 0, "free(%p) into a pool with no block in use", ptr);
    (void)a;
}
#define POOL_CHECK(a, p) pool_check((a), (p))
#define ARENAS_CHECK(a, deep) arenas_check((a), (deep))
#define BLOCK_CHECK(a, p, ptr, size) block_check((a), (p), (ptr), (size))
#else
#define POOL_CHECK(a, p) ((void)0)
#define ARENAS_CHECK(a, deep) ((void)0)
#define BLOCK_CHECK(a, p, ptr, size) ((void)0)
#endif

/* ---- usedpools: partly used pools per size class ------------------------------- */

/* Front insertion: the pool that just got a block back serves the next request,
 * as in CPython, which keeps allocation on recently touched memory. */
static inline void usedpools_push(pool_allocator *a, pool_header *p) {
    pool_header *head = a->usedpools[p->szidx];
    p->prevpool = NULL;
    p->nextpool = head;
    if (head) head->prevpool = p;
    a->usedpools[p->szidx] = p;
}

/* An empty pool can sit anywhere in its list, hence the double links. */
static inline void usedpools_unlink(pool_allocator *a, pool_header *p) {
    if (p->prevpool)
        p->prevpool->nextpool = p->nextpool;
    else
        a->usedpools[p->szidx] = p->nextpool;
    if (p->nextpool) p->nextpool->prevpool = p->prevpool;
}

/* ---- usable_arenas: sorted by free pools, O(1) reordering through lasta -------- */

/* Removing an arena may end the run of its count one arena earlier. */
static void usable_unlink(pool_allocator *a, pool_arena *ao) {
    uint32_t k = ao->nfreepools;
    if (a->lasta[k] == ao) a->lasta[k] = ao->prev && ao->prev->nfreepools == k ? ao->prev : NULL;
    if (ao->prev)
        ao->prev->next = ao->next;
    else
        a->usable = ao->next;
    if (ao->next) ao->next->prev = ao->prev;
    ao->next = ao->prev = NULL;
}

/* The caller picks a place that keeps the list sorted (after NULL = at the head);
 * the arena ends its run exactly when its successor has another count. */
static void usable_insert_after(pool_allocator *a, pool_arena *ao, pool_arena *after) {
    ao->prev = after;
    ao->next = after ? after->next : a->usable;
    if (after)
        after->next = ao;
    else
        a->usable = ao;
    if (ao->next) ao->next->prev = ao;
    if (ao->next == NULL || ao->next->nfreepools != ao->nfreepools) a->lasta[ao->nfreepools] = ao;
}

/* ---- arenas -------------------------------------------------------------------- */

/* Maps arena + align bytes and trims both ends, so the arena starts on an
 * align boundary (invariant 1) whatever address mmap picks. */
static pool_arena *arena_new(pool_allocator *a) {
    pool_arena *ao = calloc(1, sizeof *ao);
    if (ao == NULL) return NULL;
    size_t len = a->arena_size + a->arena_align;
    char *raw = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) {
        free(ao);
        return NULL;
    }
    uintptr_t align = a->arena_align;
    char *base = (char *)(((uintptr_t)raw + align - 1) & ~(align - 1));
    if (base > raw) munmap(raw, (size_t)(base - raw));
    char *tail = (char *)(((uintptr_t)(base + a->arena_size) + a->page_size - 1) & ~(uintptr_t)(a->page_size - 1));
    if (tail < raw + len) munmap(tail, (size_t)(raw + len - tail));
    MM_MEM_CLOSE(base, a->arena_size); /* every block is closed until handed out */
    ao->base = ao->pool_address = base;
    ao->nfreepools = a->pools_per_arena;
    ao->all_next = a->all;
    if (a->all) a->all->all_prev = ao;
    a->all = ao;
    a->narenas++;
    usable_insert_after(a, ao, NULL); /* the list was empty: we map only when nothing is usable */
    ARENAS_CHECK(a, true);
    return ao;
}

/* A wholly free arena goes back to the OS; the caller took it off the usable list. */
static void arena_free(pool_allocator *a, pool_arena *ao) {
    if (ao->all_prev)
        ao->all_prev->all_next = ao->all_next;
    else
        a->all = ao->all_next;
    if (ao->all_next) ao->all_next->all_prev = ao->all_prev;
    MM_MEM_OPEN(ao->base, a->arena_size); /* a later mapping at this address starts clean */
    munmap(ao->base, a->arena_size);
    free(ao);
    a->narenas--;
    ARENAS_CHECK(a, true);
}

/* A new pool comes from the head of usable_arenas, the arena with the fewest free
 * pools, so that nearly empty arenas drain and can be unmapped (CPython 3.8+). */
static pool_header *pool_take(pool_allocator *a) {
    if (a->usable == NULL && arena_new(a) == NULL) return NULL;
    pool_arena *ao = a->usable;
    pool_header *p;
    if (ao->freepools) {
        p = ao->freepools;
        ao->freepools = p->nextpool;
    } else {
        p = (pool_header *)ao->pool_address;
        ao->pool_address += a->pool_size;
        MM_MEM_OPEN(p, POOL_HEADER_SIZE);
        p->szidx = POOL_NO_CLASS;
        p->arena = ao;
    }
    /* Still the fewest free pools after losing one: back at the head, or off the
     * list when it has none left. */
    usable_unlink(a, ao);
    if (--ao->nfreepools > 0) usable_insert_after(a, ao, NULL);
    a->pools_in_use++;
    ARENAS_CHECK(a, false);
    return p;
}

/* An empty pool goes home. The arena moves one place up the order (past the last
 * arena with its old count, found in O(1) through lasta) or, wholly free, is
 * unmapped unless it is the last usable arena: CPython ≥ 3.9 keeps that one to
 * avoid mapping and unmapping an arena on every pool at a boundary (bpo-37257). */
static void pool_release(pool_allocator *a, pool_header *p) {
    pool_arena *ao = p->arena;
    p->nextpool = ao->freepools;
    ao->freepools = p;
    a->pools_in_use--;
    uint32_t k = ao->nfreepools;
    if (k == 0) { /* was full, so off the list; count 1 is the smallest: head */
        ao->nfreepools = 1;
        if (a->pools_per_arena == 1 && a->usable != NULL) {
            arena_free(a, ao);
            return;
        }
        usable_insert_after(a, ao, NULL);
        ARENAS_CHECK(a, false);
        return;
    }
    pool_arena *after = a->lasta[k] == ao ? ao->prev : a->lasta[k];
    bool last = ao->next == NULL;
    usable_unlink(a, ao);
    ao->nfreepools = k + 1;
    if (ao->nfreepools == a->pools_per_arena && !last) {
        arena_free(a, ao);
        return;
    }
    usable_insert_after(a, ao, after);
    ARENAS_CHECK(a, false);
}

/* ---- pools and blocks ---------------------------------------------------------- */

/* A pool's free list ran dry: carve the next never-used block lazily, or, when
 * none fits, the pool is full and leaves usedpools (it is the list's head). */
static inline void pool_extend(pool_allocator *a, pool_header *p) {
    size_t bs = class_bytes(p->szidx);
    if (p->nextoffset <= p->maxnextoffset) {
        free_block *b = (free_block *)((char *)p + p->nextoffset);
        p->nextoffset += (uint32_t)bs;
        MM_MEM_OPEN(b, sizeof *b);
        b->next = NULL;
        MM_MEM_CLOSE(b, bs);
        p->freeblock = b;
    } else {
        a->usedpools[p->szidx] = p->nextpool;
        if (p->nextpool) p->nextpool->prevpool = NULL;
    }
}

/* Pops the head of a usedpools pool's free list (invariant 2 says there is one). */
static inline void *pool_pop(pool_allocator *a, pool_header *p, size_t size) {
    free_block *b = p->freeblock;
    MM_MEM_OPEN(b, class_bytes(p->szidx));
    p->ref_count++;
    if (MM_UNLIKELY((p->freeblock = b->next) == NULL)) pool_extend(a, p);
    MM_MEM_CLOSE((char *)b + size, class_bytes(p->szidx) - size); /* the slack past the request */
    a->live_bytes += size;
    return b;
}

/* Gives a pool its class: one free block (the first), the rest carved later. */
static void pool_init(pool_allocator *a, pool_header *p, uint32_t szidx) {
    size_t bs = class_bytes(szidx);
    p->szidx = szidx;
    p->ref_count = 0;
    p->nextoffset = (uint32_t)(POOL_HEADER_SIZE + bs);
    p->maxnextoffset = (uint32_t)(a->pool_size - bs);
    free_block *first = (free_block *)((char *)p + POOL_HEADER_SIZE);
    MM_MEM_CLOSE(first, a->pool_size - POOL_HEADER_SIZE);
    MM_MEM_OPEN(first, sizeof *first);
    first->next = NULL;
    MM_MEM_CLOSE(first, bs);
    p->freeblock = first;
}

/* Sizes 0 and > 512 bytes: the system malloc, as pymalloc falls back to PyMem_RawMalloc. */
static void *big_alloc(pool_allocator *a, size_t size) {
    void *p = malloc(size);
    if (p != NULL) {
        a->live_bytes += size;
        a->big_bytes += size;
    }
    return p;
}

/* No partly used pool of this class: take an empty pool from the fullest arena.
 * A pool that served the same class before keeps its free list and offsets, as in
 * CPython; any other pool is initialised afresh. */
static POOL_NOINLINE void *pool_alloc_slow(pool_allocator *a, size_t size) {
    if (size - 1 >= POOL_SMALL_MAX) return big_alloc(a, size);
    uint32_t szidx = (uint32_t)((size - 1) >> POOL_CLASS_SHIFT);
    pool_header *p = pool_take(a);
    if (p == NULL) return NULL;
    if (p->szidx != szidx) pool_init(a, p, szidx);
    POOL_CHECK(a, p);
    usedpools_push(a, p);
    return pool_pop(a, p, size);
}

/* Fast path: the head pool of the class has a free block. `size - 1` wraps for 0,
 * so one comparison sends both 0 and > 512 to the slow path. */
static void *pool_alloc(mm_allocator *base, size_t size) {
    pool_allocator *a = (pool_allocator *)base;
    if (MM_LIKELY(size - 1 < POOL_SMALL_MAX)) {
        pool_header *p = a->usedpools[(size - 1) >> POOL_CLASS_SHIFT];
        if (MM_LIKELY(p != NULL)) return pool_pop(a, p, size);
    }
    return pool_alloc_slow(a, size);
}

/* The rare transitions of a free: a full pool has a block again and rejoins
 * usedpools, or a pool became empty and goes back to its arena. */
static POOL_NOINLINE void pool_free_slow(pool_allocator *a, pool_header *p, bool was_full) {
    if (p->ref_count == 0) {
        POOL_CHECK(a, p);
        if (!was_full) usedpools_unlink(a, p);
        pool_release(a, p);
    } else {
        usedpools_push(a, p);
    }
}

/* Fast path: push the block on its pool's free list (LIFO: the next request of
 * this class gets it back while it is still in cache). */
static void pool_free(mm_allocator *base, void *ptr, size_t size) {
    pool_allocator *a = (pool_allocator *)base;
    if (MM_UNLIKELY(size - 1 >= POOL_SMALL_MAX)) {
        free(ptr);
        a->live_bytes -= size;
        a->big_bytes -= size;
        return;
    }
    pool_header *p = (pool_header *)((uintptr_t)ptr & a->pool_mask);
    BLOCK_CHECK(a, p, ptr, size);
    free_block *b = ptr, *head = p->freeblock;
    MM_MEM_OPEN(b, sizeof *b);
    b->next = head;
    MM_MEM_CLOSE(b, class_bytes(p->szidx));
    p->freeblock = b;
    a->live_bytes -= size;
    if (MM_UNLIKELY(--p->ref_count == 0 || head == NULL)) pool_free_slow(a, p, head == NULL);
}

/* ---- giving memory back (policy=pressure) ------------------------------------- */

/* Frees the pages of an empty pool past its first (the header's page), and forgets
 * its class: its free list lived in those pages, so it is initialised afresh
 * when taken again (pool_take → pool_init). */
static void pool_discard_pages(pool_allocator *a, pool_header *p) {
    /* the header's page is the whole pool, or an earlier trim discarded it */
    if (a->pool_size <= a->page_size || p->szidx == POOL_NO_CLASS) return;
    madvise((char *)p + a->page_size, a->pool_size - a->page_size, MADV_DONTNEED);
    p->szidx = POOL_NO_CLASS;
}

/* Beyond what pymalloc does on its own: (1) every wholly free arena is unmapped,
 * the one kept against thrashing too (they sit at the tail of usable_arenas,
 * which is sorted by free pools); (2) the empty pools of the arenas still in use
 * give their pages back but the header's; (3) the big blocks, which are glibc's,
 * go back through malloc_trim(0). Live blocks never move. */
static void pool_trim(mm_allocator *base) {
    pool_allocator *a = (pool_allocator *)base;
    pool_arena *ao = a->usable;
    while (ao != NULL) {
        pool_arena *next = ao->next;
        if (ao->nfreepools == a->pools_per_arena) {
            usable_unlink(a, ao);
            arena_free(a, ao);
        } else {
            for (pool_header *p = ao->freepools; p != NULL; p = p->nextpool) pool_discard_pages(a, p);
        }
        ao = next;
    }
    ARENAS_CHECK(a, true);
    malloc_trim(0);
}

/* ---- the allocator ------------------------------------------------------------- */

static const mm_knob_desc pool_knobs[] = {
    {"arena", MM_KNOB_BYTES, "1m", POOL_GEOMETRY_MIN, POOL_GEOMETRY_MAX,
     "bytes mapped per arena, a multiple of pool (CPython 3.10+: 1m; <=3.9: 256k)"},
    {"pool", MM_KNOB_BYTES, "16k", POOL_GEOMETRY_MIN, POOL_GEOMETRY_MAX,
     "bytes per pool, a power of two (CPython 3.10+: 16k; <=3.9: 4k)"},
    {0},
};

/* Geometry rules the knob table cannot state (it has ranges only); the CLI asks
 * before the run, create() asks again for callers that skip the CLI. */
static bool pool_check_knobs(const mm_knobset *ks, char *err, size_t errlen) {
    int64_t arena = mm_knob_int(ks, "arena"), pool = mm_knob_int(ks, "pool");
    if ((pool & (pool - 1)) != 0) {
        snprintf(err, errlen, "knob 'pool': %lld is not a power of two", (long long)pool);
        return false;
    }
    if (arena % pool != 0) {
        snprintf(err, errlen, "knob 'arena': %lld is not a multiple of pool (%lld)", (long long)arena,
                 (long long)pool);
        return false;
    }
    return true;
}

static mm_allocator *pool_create(const mm_knobset *ks, char *err, size_t errlen) {
    if (!pool_check_knobs(ks, err, errlen)) return NULL;
    int64_t arena = mm_knob_int(ks, "arena"), pool = mm_knob_int(ks, "pool");
    pool_allocator *a = calloc(1, sizeof *a);
    if (a == NULL) {
        snprintf(err, errlen, "out of memory creating allocator");
        return NULL;
    }
    a->base.ops = &mm_allocator_pool;
    a->pool_size = (size_t)pool;
    a->arena_size = (size_t)arena;
    a->arena_align = (size_t)(arena & -arena); /* largest power of two dividing it; >= pool */
    a->page_size = (size_t)sysconf(_SC_PAGESIZE);
    a->pool_mask = ~(uintptr_t)(a->pool_size - 1);
    a->pools_per_arena = (uint32_t)(arena / pool);
    a->lasta = calloc(a->pools_per_arena + 1, sizeof *a->lasta);
    if (a->lasta == NULL) {
        free(a);
        snprintf(err, errlen, "out of memory creating allocator");
        return NULL;
    }
    return &a->base;
}

/* Everything goes at once: arenas are unmapped whatever they still hold. Big blocks
 * still live are the caller's leak, as with malloc. */
static void pool_destroy(mm_allocator *base) {
    pool_allocator *a = (pool_allocator *)base;
    for (pool_arena *ao = a->all, *next; ao; ao = next) {
        next = ao->all_next;
        MM_MEM_OPEN(ao->base, a->arena_size);
        munmap(ao->base, a->arena_size);
        free(ao);
    }
    free(a->lasta);
    free(a);
}

static void pool_stats(mm_allocator *base, mm_alloc_stats *out) {
    pool_allocator *a = (pool_allocator *)base;
    *out = (mm_alloc_stats){
        .live_bytes = a->live_bytes,
        .reserved_bytes = a->narenas * a->arena_size + a->big_bytes,
        .arenas = a->narenas,
        .pools_in_use = a->pools_in_use,
    };
}

const mm_allocator_ops mm_allocator_pool = {
    .name = "pool",
    .summary = "model of CPython's pymalloc: 16-byte classes <= 512 B, pools in mmap'd arenas, fullest arena first",
    .knobs = pool_knobs,
    .create = pool_create,
    .destroy = pool_destroy,
    .alloc = pool_alloc,
    .free = pool_free,
    .stats = pool_stats,
    .check = pool_check_knobs,
    .trim = pool_trim,
};
