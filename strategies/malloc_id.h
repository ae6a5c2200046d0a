/* malloc_id.h — private to strategies/: what an allocator needs beyond mm.h to
 * insist that its library *is* the process-wide malloc.
 *
 * Contract: mm_malloc_which / mm_malloc_code_of (which object supplies malloc,
 * and its code) are public, in mm.h, because the harness reports them;
 * mm_malloc_sibling() finds a symbol only if it is defined by that same object,
 * which only the jemalloc and mimalloc allocators need.
 * Invariant: the answer is fixed for the life of a process image (it changes
 * only across exec, with LD_PRELOAD).
 */
#ifndef MM_MALLOC_ID_H
#define MM_MALLOC_ID_H

#include "mm.h"

/* The address of `symbol` if the object that supplies malloc defines it, else NULL. */
void *mm_malloc_sibling(const char *symbol);

#endif
