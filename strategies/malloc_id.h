/* malloc_id.h — which shared object supplies the process-wide malloc.
 *
 * Contract: mm_malloc_which() names the object that the symbol `malloc` resolves
 * to in the global scope — the one every malloc call of the process reaches —
 * by its file path and base name (libc.so.6, libjemalloc.so.2, libmimalloc.so.2,
 * libasan.so.8 under AddressSanitizer) and a code small enough to be a counter.
 * mm_malloc_sibling() finds a symbol only if it is defined by that same object,
 * so an allocator can insist that its library *is* the process malloc.
 * Invariant: the answer is fixed for the life of a process image (it changes
 * only across exec, with LD_PRELOAD).
 */
#ifndef MM_MALLOC_ID_H
#define MM_MALLOC_ID_H

#include <limits.h>
#include <stdbool.h>

/* Codes of the `malloc_impl` counter; stable, results files keep them. */
typedef enum mm_malloc_code {
    MM_MALLOC_GLIBC = 0,
    MM_MALLOC_JEMALLOC = 1,
    MM_MALLOC_MIMALLOC = 2,
    MM_MALLOC_OTHER = 3, /* e.g. a sanitizer's interceptor, tcmalloc */
} mm_malloc_code;

typedef struct mm_malloc_info {
    char path[PATH_MAX]; /* as the dynamic linker loaded it */
    const char *base;    /* points into path: the file name */
    mm_malloc_code code;
} mm_malloc_info;

/* False only if malloc cannot be traced to a loaded object (then path is "?"). */
bool mm_malloc_which(mm_malloc_info *out);

/* The address of `symbol` if the object that supplies malloc defines it, else NULL. */
void *mm_malloc_sibling(const char *symbol);

/* The code for a library base name (libc.so.6 → MM_MALLOC_GLIBC, ...). */
mm_malloc_code mm_malloc_code_of(const char *base);

#endif
