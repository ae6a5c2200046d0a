/* alloc_system.c — `system`: glibc's malloc/free, the allocator of a plain build.
 *
 * Contract: alloc/free are malloc/free; the sized free is accepted and the size
 * used only for accounting. Reserved bytes come from mallinfo2 (arena + mmapped
 * blocks): process-wide, so they include the harness's own small allocations.
 * Invariant: live_bytes is the sum of sizes requested and not freed.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

#include "alloc.h"

typedef struct system_allocator {
    mm_allocator base;
    uint64_t live_bytes;
} system_allocator;

extern const mm_allocator_ops mm_allocator_system;

static mm_allocator *system_create(const mm_knobset *ks, char *err, size_t errlen) {
    (void)ks;
    system_allocator *a = calloc(1, sizeof *a);
    if (a == NULL) {
        snprintf(err, errlen, "out of memory creating allocator");
        return NULL;
    }
    a->base.ops = &mm_allocator_system;
    return &a->base;
}

static void system_destroy(mm_allocator *a) { free(a); }

/* glibc's malloc returns 16-byte-aligned blocks on x86-64, as the contract asks. */
static void *system_alloc(mm_allocator *base, size_t size) {
    system_allocator *a = (system_allocator *)base;
    void *p = malloc(size);
    if (p != NULL) a->live_bytes += size;
    return p;
}

static void system_free(mm_allocator *base, void *p, size_t size) {
    system_allocator *a = (system_allocator *)base;
    a->live_bytes -= size;
    free(p);
}

/* malloc_trim(0) gives back the top of the heap and, since glibc 2.8, every
 * whole free page inside it (madvise DONTNEED): the only way glibc returns
 * memory that free() kept below M_TRIM_THRESHOLD. Process-wide, as malloc is. */
static void system_trim(mm_allocator *base) {
    (void)base;
    malloc_trim(0);
}

static void system_stats(mm_allocator *base, mm_alloc_stats *out) {
    system_allocator *a = (system_allocator *)base;
    struct mallinfo2 mi = mallinfo2();
    *out = (mm_alloc_stats){.live_bytes = a->live_bytes, .reserved_bytes = mi.arena + mi.hblkhd};
}

const mm_allocator_ops mm_allocator_system = {
    .name = "system",
    .summary = "glibc malloc/free (the process's own malloc; proven glibc's by a test)",
    .knobs = NULL,
    .create = system_create,
    .destroy = system_destroy,
    .alloc = system_alloc,
    .free = system_free,
    .stats = system_stats,
    .trim = system_trim,
};
