/* alloc_bump.c — `bump`: a region allocator, everything freed at once.
 *
 * Contract: alloc bumps a pointer through the current chunk (mmap'd, `chunk`
 * bytes, rounded up to pages); a request that does not fit in the rest of the
 * chunk opens a new one (the rest is wasted), and a request larger than a chunk's
 * payload gets a chunk of its own while the current chunk stays current. Blocks
 * are 16-byte aligned; a 0-byte request gets a distinct 16-byte block. free only
 * does accounting: live_bytes falls, reserved_bytes does not. destroy unmaps
 * every chunk, whatever is still live.
 *
 * Invariant: cur ≤ end and cur is 16-byte aligned; reserved_bytes = total length
 * of the mapped chunks; live_bytes = sum of requested sizes not yet freed.
 * The `arenas` stat counts chunks.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "alloc.h"
#include "alloc_asan.h"
#include "mm.h"

/* The contract's alignment. */
#define BUMP_ALIGN 16
/* Knob limits: a page at least; a gibibyte is more than any workload asks at once. */
#define BUMP_CHUNK_MIN 4096
#define BUMP_CHUNK_MAX (1LL << 30)

#if defined(__GNUC__)
#define BUMP_NOINLINE __attribute__((noinline))
#else
#define BUMP_NOINLINE
#endif

/* At the start of every chunk; 16 bytes, so the payload stays aligned. */
typedef struct bump_chunk {
    struct bump_chunk *next;
    size_t len; /* bytes mapped */
} bump_chunk;
_Static_assert(sizeof(bump_chunk) % BUMP_ALIGN == 0, "chunk header keeps the payload aligned");

typedef struct bump_allocator {
    mm_allocator base;
    char *cur, *end;    /* the free rest of the current chunk */
    bump_chunk *chunks; /* every mapped chunk, newest first */
    size_t chunk_size, page_size;
    uint64_t live_bytes, reserved_bytes, nchunks;
} bump_allocator;

extern const mm_allocator_ops mm_allocator_bump;

/* Maps a chunk of at least len bytes (whole pages) and links it for destroy. */
static bump_chunk *chunk_new(bump_allocator *a, size_t len) {
    len = (len + a->page_size - 1) & ~(a->page_size - 1);
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return NULL;
    bump_chunk *c = m;
    c->next = a->chunks;
    c->len = len;
    a->chunks = c;
    a->reserved_bytes += len;
    a->nchunks++;
    MM_MEM_CLOSE((char *)c + sizeof *c, len - sizeof *c); /* opened block by block */
    return c;
}

static inline size_t bump_room(const bump_allocator *a) { return (uintptr_t)a->end - (uintptr_t)a->cur; }

/* The request did not fit (or is 0 bytes, or absurd): a chunk of its own if it is
 * big, else a fresh current chunk. */
static BUMP_NOINLINE void *bump_alloc_slow(bump_allocator *a, size_t size) {
    if (size > SIZE_MAX / 2) return NULL; /* no mapping holds it; rounding cannot wrap below */
    size_t n = size ? (size + BUMP_ALIGN - 1) & ~(size_t)(BUMP_ALIGN - 1) : BUMP_ALIGN;
    char *p;
    if (n <= bump_room(a)) { /* only a 0-byte request gets here with room left */
        p = a->cur;
        a->cur += n;
    } else if (n > a->chunk_size - sizeof(bump_chunk)) {
        bump_chunk *c = chunk_new(a, sizeof *c + n);
        if (c == NULL) return NULL;
        p = (char *)(c + 1);
    } else {
        bump_chunk *c = chunk_new(a, a->chunk_size);
        if (c == NULL) return NULL;
        p = (char *)(c + 1);
        a->cur = p + n;
        a->end = (char *)c + c->len;
    }
    MM_MEM_OPEN(p, size);
    a->live_bytes += size;
    return p;
}

/* Fast path: round up, bump, count. n - 1 wraps when n is 0 (a 0-byte request, or
 * one so big that rounding wrapped), so one comparison sends those to the slow path. */
static void *bump_alloc(mm_allocator *base, size_t size) {
    bump_allocator *a = (bump_allocator *)base;
    size_t n = (size + BUMP_ALIGN - 1) & ~(size_t)(BUMP_ALIGN - 1);
    if (MM_UNLIKELY(n - 1 >= bump_room(a))) return bump_alloc_slow(a, size);
    char *p = a->cur;
    a->cur += n;
    MM_MEM_OPEN(p, size);
    a->live_bytes += size;
    return p;
}

/* Regions free nothing one block at a time; under ASan the block is closed so a
 * use after free is still caught. */
static void bump_free(mm_allocator *base, void *p, size_t size) {
    bump_allocator *a = (bump_allocator *)base;
    MM_MEM_CLOSE(p, size);
    a->live_bytes -= size;
}

static const mm_knob_desc bump_knobs[] = {
    {"chunk", MM_KNOB_BYTES, "4m", BUMP_CHUNK_MIN, BUMP_CHUNK_MAX,
     "bytes mapped per region chunk; bigger requests get a chunk of their own"},
    {0},
};

static mm_allocator *bump_create(const mm_knobset *ks, char *err, size_t errlen) {
    bump_allocator *a = calloc(1, sizeof *a);
    if (a == NULL) {
        snprintf(err, errlen, "out of memory creating allocator");
        return NULL;
    }
    a->base.ops = &mm_allocator_bump;
    a->page_size = (size_t)sysconf(_SC_PAGESIZE);
    a->chunk_size = ((size_t)mm_knob_int(ks, "chunk") + a->page_size - 1) & ~(a->page_size - 1);
    return &a->base; /* cur == end == NULL: the first request maps the first chunk */
}

/* The one moment a region gives memory back: all of it. */
static void bump_destroy(mm_allocator *base) {
    bump_allocator *a = (bump_allocator *)base;
    for (bump_chunk *c = a->chunks, *next; c; c = next) {
        next = c->next;
        size_t len = c->len;
        MM_MEM_OPEN(c, len); /* a later mapping at this address starts clean */
        munmap(c, len);
    }
    free(a);
}

static void bump_stats(mm_allocator *base, mm_alloc_stats *out) {
    bump_allocator *a = (bump_allocator *)base;
    *out = (mm_alloc_stats){.live_bytes = a->live_bytes, .reserved_bytes = a->reserved_bytes, .arenas = a->nchunks};
}

const mm_allocator_ops mm_allocator_bump = {
    .name = "bump",
    .summary = "region: bump pointer through mmap'd chunks, free only counts, all released at destroy",
    .knobs = bump_knobs,
    .create = bump_create,
    .destroy = bump_destroy,
    .alloc = bump_alloc,
    .free = bump_free,
    .stats = bump_stats,
};
