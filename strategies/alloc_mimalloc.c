/* alloc_mimalloc.c — `mimalloc`: mimalloc's own API, with mimalloc as the process malloc.
 *
 * Contract: alloc is mi_malloc(n), free is mi_free_size(p, n). Debian's
 * libmimalloc.so.2 exports malloc/free, so it must be the process-wide malloc,
 * never a second heap beside glibc's: `preload_library` asks the CLI to
 * re-execute with it in LD_PRELOAD, and create() refuses when mi_malloc is not
 * defined by the object that supplies malloc.
 * Stats (process-wide, from mi_process_info): reserved = current_commit, the
 * bytes mimalloc has committed from the OS (its reserved-but-uncommitted address
 * space is not memory). Nothing goes to lib_allocated/lib_resident: this build
 * (MI_STAT=0) keeps no per-block byte counts, and on Linux mi_process_info's
 * current_rss is only a copy of current_commit (checked: both 64 MiB while the
 * real RSS was 48 MiB), so reporting it as residency would mislead.
 * Invariant: live_bytes is the sum of sizes requested and not freed; every block
 * is freed with the (rounded) size it was allocated with.
 */
#include <stdio.h>
#include <stdlib.h>

#include "alloc.h"
#include "malloc_id.h"

/* The contract's alignment: mimalloc's 8-byte bin is only 8-aligned, and builds
 * with word-sized bins (24, 40, 56 B) would be too; rounding requests up to a
 * multiple of 16 lands in the same bins as Debian's build already uses. */
#define MI_REQUEST_ALIGN 16

typedef void *(*mi_malloc_fn)(size_t size);
typedef void (*mi_free_size_fn)(void *p, size_t size);
typedef void (*mi_process_info_fn)(size_t *elapsed_msecs, size_t *user_msecs, size_t *system_msecs,
                                   size_t *current_rss, size_t *peak_rss, size_t *current_commit,
                                   size_t *peak_commit, size_t *page_faults);
typedef void (*mi_collect_fn)(bool force);

typedef struct mimalloc_allocator {
    mm_allocator base;
    mi_malloc_fn malloc;
    mi_free_size_fn free_size;
    mi_process_info_fn process_info;
    mi_collect_fn collect;
    uint64_t live_bytes;
} mimalloc_allocator;

extern const mm_allocator_ops mm_allocator_mimalloc;

/* Resolves the API only from the object that supplies malloc (see jemalloc's twin). */
static mm_allocator *mimalloc_create(const mm_knobset *ks, char *err, size_t errlen) {
    (void)ks;
#ifdef MS_SANITIZE_BUILD
    snprintf(err, errlen, "allocator 'mimalloc' is unavailable in a sanitizer build (ASan owns malloc; "
                          "preloading libmimalloc.so.2 would conflict)");
    return NULL;
#else
    void *m = mm_malloc_sibling("mi_malloc"), *f = mm_malloc_sibling("mi_free_size"),
         *pi = mm_malloc_sibling("mi_process_info"), *col = mm_malloc_sibling("mi_collect");
    if (m == NULL || f == NULL || pi == NULL || col == NULL) {
        mm_malloc_info mi;
        mm_malloc_which(&mi);
        snprintf(err, errlen, "allocator 'mimalloc' needs libmimalloc.so.2 as the process malloc, but malloc comes "
                              "from %s (run the cell through `memstrat run`, which preloads it)", mi.base);
        return NULL;
    }
    mimalloc_allocator *a = calloc(1, sizeof *a);
    if (a == NULL) {
        snprintf(err, errlen, "out of memory creating allocator");
        return NULL;
    }
    a->base.ops = &mm_allocator_mimalloc;
    a->malloc = (mi_malloc_fn)m;
    a->free_size = (mi_free_size_fn)f;
    a->process_info = (mi_process_info_fn)pi;
    a->collect = (mi_collect_fn)col;
    return &a->base;
#endif
}

/* Blocks still allocated (a leaking cell's) stay mimalloc's: only the books go. */
static void mimalloc_destroy(mm_allocator *a) { free(a); }

/* Applied identically in alloc and free, so mi_free_size sees the size it gave. */
static inline size_t mi_request(size_t size) {
    return size == 0 ? MI_REQUEST_ALIGN : (size + MI_REQUEST_ALIGN - 1) & ~(size_t)(MI_REQUEST_ALIGN - 1);
}

/* The books count what the caller asked for; the rounding is mimalloc's business. */
static void *mimalloc_alloc(mm_allocator *base, size_t size) {
    mimalloc_allocator *a = (mimalloc_allocator *)base;
    void *p = a->malloc(mi_request(size));
    if (p != NULL) a->live_bytes += size;
    return p;
}

/* Sized free, as the interface passes it; mimalloc finds the page from p anyway. */
static void mimalloc_free(mm_allocator *base, void *p, size_t size) {
    mimalloc_allocator *a = (mimalloc_allocator *)base;
    a->live_bytes -= size;
    a->free_size(p, mi_request(size));
}

/* mi_process_info is the one statistic Debian's build keeps exactly (see the header). */
static void mimalloc_stats(mm_allocator *base, mm_alloc_stats *out) {
    mimalloc_allocator *a = (mimalloc_allocator *)base;
    size_t elapsed, user, sys, rss, peak_rss, commit = 0, peak_commit, faults;
    a->process_info(&elapsed, &user, &sys, &rss, &peak_rss, &commit, &peak_commit, &faults);
    *out = (mm_alloc_stats){.live_bytes = a->live_bytes, .reserved_bytes = commit};
}

/* mi_collect(true): the thread's free pages and abandoned segments are
 * returned (reset or decommitted) now instead of at mimalloc's own pace. */
static void mimalloc_trim(mm_allocator *base) { ((mimalloc_allocator *)base)->collect(true); }

const mm_allocator_ops mm_allocator_mimalloc = {
    .name = "mimalloc",
    .summary = "mimalloc 2 mi_malloc/mi_free_size, mimalloc preloaded as the process malloc (re-exec)",
    .knobs = NULL,
    .create = mimalloc_create,
    .destroy = mimalloc_destroy,
    .alloc = mimalloc_alloc,
    .free = mimalloc_free,
    .stats = mimalloc_stats,
    .trim = mimalloc_trim,
    .preload_library = "libmimalloc.so.2",
};
