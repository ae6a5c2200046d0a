/* alloc_jemalloc.c — `jemalloc`: jemalloc's own API, with jemalloc as the process malloc.
 *
 * Contract: alloc is mallocx(n, 0), free is sdallocx(p, n, 0) — jemalloc's sized
 * free, which skips the size lookup that plain free() pays. The library must be
 * the process-wide malloc (Debian's libjemalloc.so.2 exports malloc/free and
 * cannot be dlopen()ed: static TLS), so `preload_library` asks the CLI to
 * re-execute with it in LD_PRELOAD, as jemalloc is deployed under Python; create()
 * refuses when the symbols are not defined by the object that supplies malloc.
 * Stats (all process-wide, after an "epoch" refresh): reserved = stats.mapped
 * (bytes in extents jemalloc has mapped and in use, the analogue of glibc's arena
 * + mmapped figure); lib_allocated = stats.allocated (bytes in allocated blocks,
 * size-class rounded); lib_resident = stats.resident (pages jemalloc knows are
 * resident, its metadata included).
 * Invariant: live_bytes is the sum of sizes requested and not freed; every block
 * is freed with the (rounded) size it was allocated with.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "alloc.h"
#include "malloc_id.h"

/* jemalloc's 8-byte class is only 8-aligned and mallocx(0) is undefined; every
 * class from 16 up is a multiple of 16 on x86-64, so this floor keeps the
 * contract's 16-byte alignment without the cost of MALLOCX_ALIGN. */
#define JE_MIN_REQUEST 16
/* MALLCTL_ARENAS_ALL of jemalloc 5: "arena.4096.purge" purges every arena. */
#define JE_ARENAS_ALL "4096"

typedef void *(*je_mallocx_fn)(size_t size, int flags);
typedef void (*je_sdallocx_fn)(void *p, size_t size, int flags);
typedef int (*je_mallctl_fn)(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen);

typedef struct jemalloc_allocator {
    mm_allocator base;
    je_mallocx_fn mallocx;
    je_sdallocx_fn sdallocx;
    je_mallctl_fn mallctl;
    uint64_t live_bytes;
} jemalloc_allocator;

extern const mm_allocator_ops mm_allocator_jemalloc;

/* Resolves the API only from the object that supplies malloc: a jemalloc that
 * is loaded but not the process malloc would be a second heap beside glibc's. */
static mm_allocator *jemalloc_create(const mm_knobset *ks, char *err, size_t errlen) {
    (void)ks;
#ifdef MS_SANITIZE_BUILD
    snprintf(err, errlen, "allocator 'jemalloc' is unavailable in a sanitizer build (ASan owns malloc; "
                          "preloading libjemalloc.so.2 would conflict)");
    return NULL;
#else
    void *mx = mm_malloc_sibling("mallocx"), *sdx = mm_malloc_sibling("sdallocx"), *ctl = mm_malloc_sibling("mallctl");
    if (mx == NULL || sdx == NULL || ctl == NULL) {
        mm_malloc_info mi;
        mm_malloc_which(&mi);
        snprintf(err, errlen, "allocator 'jemalloc' needs libjemalloc.so.2 as the process malloc, but malloc comes "
                              "from %s (run the cell through `memstrat run`, which preloads it)", mi.base);
        return NULL;
    }
    jemalloc_allocator *a = calloc(1, sizeof *a);
    if (a == NULL) {
        snprintf(err, errlen, "out of memory creating allocator");
        return NULL;
    }
    a->base.ops = &mm_allocator_jemalloc;
    a->mallocx = (je_mallocx_fn)mx;
    a->sdallocx = (je_sdallocx_fn)sdx;
    a->mallctl = (je_mallctl_fn)ctl;
    return &a->base;
#endif
}

/* Blocks still allocated (a leaking cell's) stay jemalloc's: only the books go. */
static void jemalloc_destroy(mm_allocator *a) { free(a); }

/* The floor is applied identically in alloc and free, as sdallocx requires. */
static inline size_t je_request(size_t size) { return size < JE_MIN_REQUEST ? JE_MIN_REQUEST : size; }

/* The books count what the caller asked for; the floor is jemalloc's business. */
static void *jemalloc_alloc(mm_allocator *base, size_t size) {
    jemalloc_allocator *a = (jemalloc_allocator *)base;
    void *p = a->mallocx(je_request(size), 0);
    if (p != NULL) a->live_bytes += size;
    return p;
}

/* Sized free: jemalloc skips the extent lookup that free(p) would pay. */
static void jemalloc_free(mm_allocator *base, void *p, size_t size) {
    jemalloc_allocator *a = (jemalloc_allocator *)base;
    a->live_bytes -= size;
    a->sdallocx(p, je_request(size), 0);
}

/* One size_t statistic; 0 when jemalloc was built without stats. */
static uint64_t je_stat(jemalloc_allocator *a, const char *name) {
    size_t v = 0, len = sizeof v;
    return a->mallctl(name, &v, &len, NULL, 0) == 0 ? (uint64_t)v : 0;
}

/* jemalloc caches its statistics; writing "epoch" refreshes them first. */
static void jemalloc_stats(mm_allocator *base, mm_alloc_stats *out) {
    jemalloc_allocator *a = (jemalloc_allocator *)base;
    uint64_t epoch = 1;
    size_t len = sizeof epoch;
    a->mallctl("epoch", &epoch, &len, &epoch, len);
    *out = (mm_alloc_stats){
        .live_bytes = a->live_bytes,
        .reserved_bytes = je_stat(a, "stats.mapped"),
        .lib_allocated_bytes = je_stat(a, "stats.allocated"),
        .lib_resident_bytes = je_stat(a, "stats.resident"),
    };
}

/* jemalloc returns dirty pages on its own after dirty_decay_ms (10 s by default):
 * under pressure that is too late. The thread cache is flushed first (blocks it
 * caches count as allocated to the arena), then every arena purges its dirty and
 * muzzy pages at once. */
static void jemalloc_trim(mm_allocator *base) {
    jemalloc_allocator *a = (jemalloc_allocator *)base;
    a->mallctl("thread.tcache.flush", NULL, NULL, NULL, 0);
    a->mallctl("arena." JE_ARENAS_ALL ".purge", NULL, NULL, NULL, 0);
}

const mm_allocator_ops mm_allocator_jemalloc = {
    .name = "jemalloc",
    .summary = "jemalloc 5 mallocx/sdallocx, jemalloc preloaded as the process malloc (re-exec)",
    .knobs = NULL,
    .create = jemalloc_create,
    .destroy = jemalloc_destroy,
    .alloc = jemalloc_alloc,
    .free = jemalloc_free,
    .stats = jemalloc_stats,
    .trim = jemalloc_trim,
    .preload_library = "libjemalloc.so.2",
};
