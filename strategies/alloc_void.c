/* alloc_void.c — `void`: the allocator that costs as little as an allocator can, the floor
 * under every other in `churn`.
 *
 * Contract: requests of 1..VOID_MAX_BLOCK bytes round up to a 16-byte class; each class is a
 * LIFO stack of freed blocks linked through their first word, so a free is one push and an
 * allocation one pop. An empty stack carves a new block from the current chunk (mmap'd
 * VOID_CHUNK bytes, taken whole when it runs out). Bigger requests, and 0 bytes, go to
 * malloc. No headers, no coalescing, nothing returned to the OS before destroy. What churn
 * measures under `void` is therefore the workload's own time per pair (its size draws,
 * stamps, checks and slot tables) plus a push and a pop: the harness's cost, which the churn
 * table subtracts from every allocator's figure (analysis/tables.py: net ns per pair).
 *
 * Invariant: every block on class k's stack has k's size and was carved for class k; cur <=
 * end, both 16-byte aligned; live_bytes = sum of requested sizes not yet freed;
 * reserved_bytes = mapped chunks + what went to malloc. The `arenas` stat counts chunks.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "alloc.h"
#include "alloc_asan.h"
#include "mm.h"

/* The contract's alignment, and the class width. */
#define VOID_ALIGN 16
/* Largest block kept on a class stack: above churn's biggest size (512) and pymalloc's. */
#define VOID_MAX_BLOCK 4096
#define VOID_CLASSES (VOID_MAX_BLOCK / VOID_ALIGN)
/* Bytes mapped per chunk: big enough that mapping is rare, small enough for small cells. */
#define VOID_CHUNK ((size_t)64 << 20)

typedef struct void_chunk {
    struct void_chunk *next;
    size_t len;
} void_chunk;
_Static_assert(sizeof(void_chunk) % VOID_ALIGN == 0, "chunk header keeps the blocks aligned");

typedef struct void_allocator {
    mm_allocator base;
    void *stack[VOID_CLASSES + 1]; /* freed blocks by class (index 1..VOID_CLASSES) */
    char *cur, *end;
    void_chunk *chunks;
    uint64_t live_bytes, reserved_bytes, nchunks;
} void_allocator;

extern const mm_allocator_ops mm_allocator_void;

/* Big and 0-byte requests: malloc, counted as reserved while they live. */
static void *void_alloc_malloc(void_allocator *a, size_t size) {
    void *p = malloc(size ? size : 1);
    if (p != NULL) a->live_bytes += size, a->reserved_bytes += size;
    return p;
}

/* The class stack is empty and the chunk has no room: map the next chunk (the rest of the
 * old one is left unused) and carve from it. */
static void *void_alloc_slow(void_allocator *a, size_t size, size_t n) {
    if (n > (size_t)(a->end - a->cur)) {
        void_chunk *c = mmap(NULL, VOID_CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (c == MAP_FAILED) return NULL;
        *c = (void_chunk){a->chunks, VOID_CHUNK};
        a->chunks = c;
        a->reserved_bytes += VOID_CHUNK, a->nchunks++;
        a->cur = (char *)(c + 1);
        a->end = (char *)c + VOID_CHUNK;
        MM_MEM_CLOSE(a->cur, (size_t)(a->end - a->cur));
    }
    char *p = a->cur;
    a->cur += n;
    MM_MEM_OPEN(p, size);
    a->live_bytes += size;
    return p;
}

/* Fast path: a pop from the class stack. */
static void *void_alloc(mm_allocator *base, size_t size) {
    void_allocator *a = (void_allocator *)base;
    if (MM_UNLIKELY(size - 1 >= VOID_MAX_BLOCK)) return void_alloc_malloc(a, size);
    size_t k = (size + VOID_ALIGN - 1) / VOID_ALIGN;
    void *p = a->stack[k];
    if (MM_UNLIKELY(p == NULL)) return void_alloc_slow(a, size, k * VOID_ALIGN);
    MM_MEM_OPEN(p, sizeof(void *));
    a->stack[k] = *(void **)p;
    MM_MEM_OPEN(p, size);
    a->live_bytes += size;
    return p;
}

/* One push; the block is closed under ASan except for its link. */
static void void_free(mm_allocator *base, void *p, size_t size) {
    void_allocator *a = (void_allocator *)base;
    a->live_bytes -= size;
    if (MM_UNLIKELY(size - 1 >= VOID_MAX_BLOCK)) {
        a->reserved_bytes -= size;
        free(p);
        return;
    }
    size_t k = (size + VOID_ALIGN - 1) / VOID_ALIGN;
    MM_MEM_CLOSE(p, k * VOID_ALIGN);
    MM_MEM_OPEN(p, sizeof(void *));
    *(void **)p = a->stack[k];
    MM_MEM_CLOSE(p, sizeof(void *));
    a->stack[k] = p;
}

static mm_allocator *void_create(const mm_knobset *ks, char *err, size_t errlen) {
    (void)ks;
    void_allocator *a = calloc(1, sizeof *a);
    if (a == NULL) {
        snprintf(err, errlen, "out of memory creating allocator");
        return NULL;
    }
    a->base.ops = &mm_allocator_void;
    return &a->base; /* cur == end == NULL: the first carve maps the first chunk */
}

/* Chunks go back whole; blocks that went to malloc and are still live are the leak being
 * measured, as with every allocator. */
static void void_destroy(mm_allocator *base) {
    void_allocator *a = (void_allocator *)base;
    for (void_chunk *c = a->chunks, *next; c; c = next) {
        next = c->next;
        size_t len = c->len;
        MM_MEM_OPEN(c, len);
        munmap(c, len);
    }
    free(a);
}

static void void_stats(mm_allocator *base, mm_alloc_stats *out) {
    void_allocator *a = (void_allocator *)base;
    *out = (mm_alloc_stats){.live_bytes = a->live_bytes, .reserved_bytes = a->reserved_bytes, .arenas = a->nchunks};
}

const mm_allocator_ops mm_allocator_void = {
    .name = "void",
    .summary = "the floor: 16-byte class stacks over mmap'd chunks, a free is a push, an allocation a pop "
               "(churn reports every allocator net of it)",
    .knobs = NULL,
    .create = void_create,
    .destroy = void_destroy,
    .alloc = void_alloc,
    .free = void_free,
    .stats = void_stats,
};
