/* registry.c — one line per strategy, allocator and layout, and the component
 * views (mm.h) through which the floors above read these tables.
 *
 * Contract: a view is a copy of its descriptor's facts plus the descriptor
 * pointer (for mm_config); the tables here are the only list of components.
 */
#include "registry.h"

#include <string.h>

extern const mm_strategy mm_strategy_none;
extern const mm_strategy mm_strategy_rc;
extern const mm_strategy mm_strategy_gen;
extern const mm_strategy mm_strategy_trial;
extern const mm_strategy mm_strategy_incr;
extern const mm_strategy mm_strategy_ft;
extern const mm_strategy mm_strategy_pep848;
extern const mm_strategy mm_strategy_boehm;
extern const mm_strategy mm_strategy_cpython;
extern const mm_allocator_ops mm_allocator_system;
extern const mm_allocator_ops mm_allocator_pool;
extern const mm_allocator_ops mm_allocator_bump;
extern const mm_allocator_ops mm_allocator_pymalloc;
extern const mm_allocator_ops mm_allocator_jemalloc;
extern const mm_allocator_ops mm_allocator_mimalloc;
extern const mm_allocator_ops mm_allocator_void;
extern const mm_layout mm_layout_slots;
extern const mm_layout mm_layout_dict;
extern const mm_layout mm_layout_shared;

const mm_strategy *const mm_strategies[] = {
    &mm_strategy_none,
    &mm_strategy_rc,
    &mm_strategy_gen,
    &mm_strategy_trial,
    &mm_strategy_incr,
    &mm_strategy_ft,
    &mm_strategy_pep848,
    &mm_strategy_boehm,
    &mm_strategy_cpython,
    NULL,
};

const mm_allocator_ops *const mm_allocators[] = {
    &mm_allocator_system,
    &mm_allocator_pool,
    &mm_allocator_pymalloc,
    &mm_allocator_jemalloc,
    &mm_allocator_mimalloc,
    &mm_allocator_bump,
    &mm_allocator_void,
    NULL,
};

const mm_layout *const mm_layouts[] = {
    &mm_layout_slots,
    &mm_layout_dict,
    &mm_layout_shared,
    NULL,
};

/* Linear search: the tables are tiny and searched once per cell. */
const mm_strategy *mm_find_strategy(const char *name) {
    for (int i = 0; mm_strategies[i]; i++)
        if (strcmp(mm_strategies[i]->name, name) == 0) return mm_strategies[i];
    return NULL;
}

const mm_allocator_ops *mm_find_allocator(const char *name) {
    for (int i = 0; mm_allocators[i]; i++)
        if (strcmp(mm_allocators[i]->name, name) == 0) return mm_allocators[i];
    return NULL;
}

const mm_layout *mm_find_layout(const char *name) {
    for (int i = 0; mm_layouts[i]; i++)
        if (strcmp(mm_layouts[i]->name, name) == 0) return mm_layouts[i];
    return NULL;
}

/* ---- Component views (mm.h) -------------------------------------------------- */

/* Entries of a NULL-terminated table defined in this file. */
#define ENTRIES(table) (sizeof(table) / sizeof((table)[0]) - 1)

/* The view of entry i of an axis's table; false past its end. */
bool mm_component_at(mm_axis axis, size_t i, mm_component *out) {
    memset(out, 0, sizeof *out);
    out->axis = axis;
    switch (axis) {
    case MM_AXIS_RECLAIM: {
        if (i >= ENTRIES(mm_strategies)) return false;
        const mm_strategy *s = mm_strategies[i];
        *out = (mm_component){.axis = axis, .name = s->name, .summary = s->summary, .knobs = s->knobs,
                              .preheader = s->preheader, .has_collector = s->has_collector,
                              .generations = s->generations, .pause_kinds = s->pause_kinds,
                              .interpreter = s->interpreter, .desc.reclaim = s};
        return true;
    }
    case MM_AXIS_ALLOCATOR: {
        if (i >= ENTRIES(mm_allocators)) return false;
        const mm_allocator_ops *a = mm_allocators[i];
        *out = (mm_component){.axis = axis, .name = a->name, .summary = a->summary, .knobs = a->knobs,
                              .preload_library = a->preload_library, .desc.allocator = a};
        return true;
    }
    case MM_AXIS_LAYOUT: {
        if (i >= ENTRIES(mm_layouts)) return false;
        const mm_layout *l = mm_layouts[i];
        *out = (mm_component){.axis = axis, .name = l->name, .summary = l->summary, .knobs = l->knobs,
                              .desc.layout = l};
        return true;
    }
    }
    return false;
}

bool mm_component_find(mm_axis axis, const char *name, mm_component *out) {
    for (size_t i = 0; mm_component_at(axis, i, out); i++)
        if (strcmp(out->name, name) == 0) return true;
    return false;
}

/* Rules a knob's type cannot state, per component (a threshold list, a version name). */
bool mm_component_check(const mm_component *c, const mm_knobset *ks, char *err, size_t errlen) {
    if (c->axis == MM_AXIS_RECLAIM && c->desc.reclaim->check) return c->desc.reclaim->check(ks, err, errlen);
    if (c->axis == MM_AXIS_ALLOCATOR && c->desc.allocator->check) return c->desc.allocator->check(ks, err, errlen);
    if (c->axis == MM_AXIS_LAYOUT && c->desc.layout->check) return c->desc.layout->check(ks, err, errlen);
    return true;
}
