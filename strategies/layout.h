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
    bool (*class_init)(mm_heap *h, mm_class *c, char *err, size_t errlen);
    void (*class_fini)(mm_heap *h, mm_class *c); /* may be NULL */
    mm_object *(*instantiate)(mm_heap *h, mm_class *c);
    mm_value (*get)(mm_heap *h, mm_object *o, mm_attr a);
    int (*set)(mm_heap *h, mm_object *o, mm_attr a, mm_value v);
} mm_layout;

#endif
