/* layout.h — how an instance stores its attributes (`__slots__`, `__dict__`, ...).
 *
 * Contract: class_init builds c->type (size, traverse, clear) and any per-class
 * data; instantiate returns a new instance with every attribute None; get returns
 * a borrowed value; set takes its own reference through mm_store. A layout is one
 * file defining one `const mm_layout`, listed once in registry.c.
 *
 * Invariant: every reference an instance holds is visited by its type's traverse,
 * so collectors see exactly the references the layout stores.
 */
#ifndef MM_LAYOUT_H
#define MM_LAYOUT_H

#include "mm.h"

typedef struct mm_layout {
    const char *name;
    const char *summary;
    const mm_knob_desc *knobs;
    /* Optional: knob values a type alone cannot check, checked by the CLI before
     * anything runs (false with one line in err); init may repeat the check. */
    bool (*check)(const mm_knobset *ks, char *err, size_t errlen);
    /* Optional: sets h->layout_data from the cell's knobs (false with one line in
     * err); fini frees it, after every class. */
    bool (*init)(mm_heap *h, const mm_knobset *ks, char *err, size_t errlen);
    void (*fini)(mm_heap *h);
    bool (*class_init)(mm_heap *h, mm_class *c, char *err, size_t errlen);
    void (*class_fini)(mm_heap *h, mm_class *c); /* may be NULL */
    mm_object *(*instantiate)(mm_heap *h, mm_class *c);
    mm_value (*get)(mm_heap *h, mm_object *o, mm_attr a);
    int (*set)(mm_heap *h, mm_object *o, mm_attr a, mm_value v);
} mm_layout;

/* A block an instance owns that is not an object of its own (CPython 3.11's
 * values array, PyMem_Malloc'd apart from the instance): from the heap's
 * allocator, its bytes counted as live bytes; the owner frees it in its type's
 * on_free. Only where mm_blocks_supported (not under a strategy that owns object
 * memory, boehm: it frees objects without calling on_free). */
void *mm_block_alloc(mm_heap *h, size_t size);
void mm_block_free(mm_heap *h, void *p, size_t size);
bool mm_blocks_supported(const mm_heap *h);

#endif
