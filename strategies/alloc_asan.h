/* alloc_asan.h — poisoning hooks for allocators that carve their own memory.
 *
 * Contract: under AddressSanitizer, MM_MEM_CLOSE(p, n) marks [p, p+n) unaddressable
 * and MM_MEM_OPEN(p, n) marks it addressable again, so that a use after free or an
 * overflow into a neighbouring block of a pool or region is reported as it would be
 * for malloc. Without ASan both compile to nothing (arguments still evaluated, so no
 * unused-variable warnings differ between builds).
 *
 * Invariant: an allocator opens memory before it reads or writes its own links in
 * a free block, and closes it again afterwards.
 */
#ifndef MM_ALLOC_ASAN_H
#define MM_ALLOC_ASAN_H

#if defined(__SANITIZE_ADDRESS__)
#define MM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MM_ASAN 1
#endif
#endif

#if MM_ASAN
#include <sanitizer/asan_interface.h>
#define MM_MEM_OPEN(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#define MM_MEM_CLOSE(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#else
#define MM_MEM_OPEN(p, n) ((void)(p), (void)(n))
#define MM_MEM_CLOSE(p, n) ((void)(p), (void)(n))
#endif

#endif
