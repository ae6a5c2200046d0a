/* test_pymalloc.c — the `pymalloc` allocator: CPython 3.11's obmalloc without an interpreter.
 *
 * What must hold: libpython3.11 loads and serves PyObject_Malloc while
 * Py_IsInitialized() is 0 before and after; it leaves the process malloc as it
 * was (libpython does not replace malloc/free); 200,000 blocks of 1..600 bytes
 * (small ones from arenas, larger ones passed to malloc) are 16-byte aligned,
 * pairwise disjoint and keep their contents through frees and reallocations;
 * the stats agree with an independent count: live bytes exactly, pymalloc's
 * "bytes in allocated blocks" = the small requests rounded to 16-byte classes,
 * arenas > 0 and reserved ≥ arenas × 1 MiB while blocks live, no pool in use
 * once everything is freed; a heap on it frees a 100,000-node chain completely.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "malloc_id.h"
#include "mm.h"
#include "registry.h"

/* Enough blocks to fill dozens of 1 MiB arenas. */
#define NBLOCKS 200000
/* Largest request: past pymalloc's 512-byte threshold, so passthrough is covered. */
#define MAX_REQUEST 600
/* pymalloc's threshold and class granularity in 3.11 (Objects/obmalloc.c). */
#define SMALL_MAX 512
#define CLASS_BYTES 16
/* Arena size of 64-bit CPython 3.10+. */
#define ARENA_BYTES (1u << 20)

typedef struct block {
    unsigned char *p;
    size_t size;
    unsigned char tag;
} block;

static int by_address(const void *a, const void *b) {
    uintptr_t x = (uintptr_t)((const block *)a)->p, y = (uintptr_t)((const block *)b)->p;
    return x < y ? -1 : x > y;
}

/* Deterministic sizes without libc's rand state: xorshift. */
static uint32_t next_size(uint32_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return 1 + *s % MAX_REQUEST;
}

static bool block_intact(const block *b) {
    for (size_t i = 0; i < b->size; i++)
        if (b->p[i] != b->tag) return false;
    return true;
}

/* The independent figure for pymalloc's "bytes in allocated blocks". */
static uint64_t small_class_bytes(const block *v, int n) {
    uint64_t sum = 0;
    for (int i = 0; i < n; i++)
        if (v[i].p && v[i].size <= SMALL_MAX) sum += (v[i].size + CLASS_BYTES - 1) / CLASS_BYTES * CLASS_BYTES;
    return sum;
}

static uint64_t live_sum(const block *v, int n) {
    uint64_t sum = 0;
    for (int i = 0; i < n; i++)
        if (v[i].p) sum += v[i].size;
    return sum;
}

static int (*py_is_initialized)(void);

static void check_no_interpreter(const char *when) {
    void *h = dlopen("libpython3.11.so.1.0", RTLD_NOW | RTLD_NOLOAD);
    CHECK(h != NULL, "libpython not loaded %s", when);
    if (h == NULL) return;
    py_is_initialized = (int (*)(void))dlsym(h, "Py_IsInitialized");
    CHECK(py_is_initialized != NULL && py_is_initialized() == 0, "interpreter initialised %s", when);
    dlclose(h); /* drops only this reference; the allocator keeps its own */
}

static void test_blocks(void) {
    mm_malloc_info before, after;
    mm_malloc_which(&before);
    const mm_allocator_ops *ops = mm_find_allocator("pymalloc");
    CHECK(ops != NULL && ops->preload_library == NULL, "pymalloc registered, no preload");
    if (ops == NULL) return;
    char err[300] = "";
    mm_allocator *a = ops->create(NULL, err, sizeof err);
    CHECK(a != NULL, "create: %s", err);
    if (a == NULL) return;
    check_no_interpreter("after create");
    mm_malloc_which(&after);
    CHECK(strcmp(before.path, after.path) == 0, "process malloc changed from %s to %s", before.path, after.path);
#ifndef MS_SANITIZE_BUILD
    CHECK(after.code == MM_MALLOC_GLIBC, "process malloc is %s, not glibc", after.path);
#endif

    block *v = calloc(NBLOCKS, sizeof *v);
    uint32_t seed = 2463534242u;
    int misaligned = 0;
    for (int i = 0; i < NBLOCKS; i++) {
        v[i].size = next_size(&seed);
        v[i].tag = (unsigned char)(i * 131 + 7);
        v[i].p = ops->alloc(a, v[i].size);
        if (v[i].p == NULL) break;
        if ((uintptr_t)v[i].p % 16) misaligned++;
        memset(v[i].p, v[i].tag, v[i].size);
    }
    CHECK(v[NBLOCKS - 1].p != NULL, "allocation failed");
    CHECK(misaligned == 0, "%d blocks not 16-byte aligned", misaligned);

    mm_alloc_stats s;
    ops->stats(a, &s);
    CHECK(s.live_bytes == live_sum(v, NBLOCKS), "live %llu != %llu", (unsigned long long)s.live_bytes,
          (unsigned long long)live_sum(v, NBLOCKS));
    CHECK(s.lib_allocated_bytes == small_class_bytes(v, NBLOCKS), "pymalloc's allocated %llu != classes %llu",
          (unsigned long long)s.lib_allocated_bytes, (unsigned long long)small_class_bytes(v, NBLOCKS));
    CHECK(s.arenas > 10, "arenas %llu", (unsigned long long)s.arenas);
    CHECK(s.reserved_bytes >= s.arenas * ARENA_BYTES, "reserved %llu < %llu arenas", (unsigned long long)s.reserved_bytes,
          (unsigned long long)s.arenas);
    CHECK(s.reserved_bytes >= s.live_bytes, "reserved below live");
    CHECK(s.pools_in_use > 0, "no pools in use");

    /* Free every other block, reallocate them with new sizes: LIFO reuse must
     * not hand out memory that a surviving block still owns. */
    for (int i = 0; i < NBLOCKS; i += 2) {
        ops->free(a, v[i].p, v[i].size);
        v[i].p = NULL;
    }
    for (int i = 0; i < NBLOCKS; i += 2) {
        v[i].size = next_size(&seed);
        v[i].tag = (unsigned char)(i * 37 + 1);
        v[i].p = ops->alloc(a, v[i].size);
        if (v[i].p) memset(v[i].p, v[i].tag, v[i].size);
    }
    int broken = 0, overlaps = 0;
    for (int i = 0; i < NBLOCKS; i++)
        if (v[i].p == NULL || !block_intact(&v[i])) broken++;
    CHECK(broken == 0, "%d blocks lost their contents", broken);
    block *sorted = malloc(NBLOCKS * sizeof *sorted);
    memcpy(sorted, v, NBLOCKS * sizeof *sorted);
    qsort(sorted, NBLOCKS, sizeof *sorted, by_address);
    for (int i = 1; i < NBLOCKS; i++)
        if (sorted[i - 1].p + sorted[i - 1].size > sorted[i].p) overlaps++;
    CHECK(overlaps == 0, "%d overlapping blocks", overlaps);
    free(sorted);

    for (int i = 0; i < NBLOCKS; i++) ops->free(a, v[i].p, v[i].size);
    ops->stats(a, &s);
    CHECK(s.live_bytes == 0, "live %llu after freeing all", (unsigned long long)s.live_bytes);
    CHECK(s.pools_in_use == 0 && s.lib_allocated_bytes == 0, "pools %llu, allocated %llu after freeing all",
          (unsigned long long)s.pools_in_use, (unsigned long long)s.lib_allocated_bytes);
    CHECK(s.arenas <= 1, "%llu arenas kept after freeing all (pymalloc returns empty arenas)",
          (unsigned long long)s.arenas);
    free(v);
    ops->destroy(a);
}

/* A heap on pymalloc: a 100,000-node chain in, domino free out, nothing left in
 * pymalloc's blocks (objects are 1..512 bytes, so all of them came from arenas). */
static void test_heap(void) {
    char err[300] = "";
    mm_heap *h = mm_heap_new_named("rc", "pymalloc", "slots", NULL, err, sizeof err);
    CHECK(h != NULL, "heap: %s", err);
    if (h == NULL) return;
    const char *attrs[] = {"next"};
    mm_class *c = mm_class_new(h, "Node", attrs, 1);
    mm_attr next = mm_intern(h, "next");
    mm_object *head = mm_instance_new(h, c);
    for (int i = 1; i < NBLOCKS / 2; i++) {
        mm_object *n = mm_instance_new(h, c);
        mm_setattr(h, n, next, mm_ref(head));
        mm_decref(h, head); /* only n holds it now */
        head = n;
    }
    mm_alloc_stats s;
    mm_get_alloc_stats(h, &s);
    uint64_t chain = s.lib_allocated_bytes;
    CHECK(chain >= (uint64_t)(NBLOCKS / 2) * 16, "chain not in pymalloc's blocks (%llu bytes)", (unsigned long long)chain);
    mm_decref(h, head);
    mm_stats st;
    mm_get_stats(h, &st);
    CHECK(mm_stats_live_objects(&st) == 0, "%llu objects left", (unsigned long long)mm_stats_live_objects(&st));
    mm_get_alloc_stats(h, &s);
    CHECK(s.lib_allocated_bytes < chain / 100, "pymalloc still holds %llu of the chain's %llu bytes",
          (unsigned long long)s.lib_allocated_bytes, (unsigned long long)chain);
    mm_heap_free(h);
    check_no_interpreter("after a heap");
}

int main(void) {
    test_blocks();
    test_heap();
    return check_summary();
}
