/* alloc.h — the allocator interface every strategy allocates through.
 *
 * Contract: alloc(size) returns 16-byte-aligned memory of at least size bytes or
 * NULL; free(p, size) gets the size that was asked for (sized free, as Lua's
 * allocator passes the old size); stats reports bytes live (asked for and not yet
 * freed) and bytes reserved from the OS. Every allocator is called through this
 * table, so every strategy pays the same one indirection. Private to strategies/:
 * the floors above see an allocator only as an mm_component view and its
 * figures through mm_get_alloc_stats (mm.h).
 *
 * Invariant: live_bytes == sum of sizes allocated and not freed.
 */
#ifndef MM_ALLOC_H
#define MM_ALLOC_H

#include "mm.h" /* mm_alloc_stats: the harness reads it through mm_get_alloc_stats */

struct mm_allocator_ops;

/* Each allocator embeds this as its first member. */
typedef struct mm_allocator {
    const struct mm_allocator_ops *ops;
} mm_allocator;

typedef struct mm_allocator_ops {
    const char *name;
    const char *summary;
    const mm_knob_desc *knobs;
    mm_allocator *(*create)(const mm_knobset *ks, char *err, size_t errlen);
    void (*destroy)(mm_allocator *a);
    void *(*alloc)(mm_allocator *a, size_t size);
    void (*free)(mm_allocator *a, void *p, size_t size);
    void (*stats)(mm_allocator *a, mm_alloc_stats *out);
    /* Optional: rules across knobs (a pool size that must be a power of two),
     * checked by the CLI before anything runs so bad input exits 2; false with one
     * line in err. create() may repeat the check. */
    bool (*check)(const mm_knobset *ks, char *err, size_t errlen);
    /* Optional: the shared library that must be the process-wide malloc for this
     * allocator (e.g. "libjemalloc.so.2"); the CLI re-executes itself with it
     * preloaded. NULL for allocators that live beside glibc's malloc. */
    const char *preload_library;
    /* Optional: give memory that is free but still held back to the OS, now
     * (policy=pressure calls it after a full collection). What each allocator can
     * give is its own: glibc's free heap pages (malloc_trim), wholly free arenas
     * and free pools, jemalloc's dirty pages (arena purge), mimalloc's free pages
     * (mi_collect). Live blocks never move. NULL: nothing to give back. */
    void (*trim)(mm_allocator *a);
} mm_allocator_ops;

#endif
