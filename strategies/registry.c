/* registry.c — one line per strategy, allocator and layout. */
#include "registry.h"

#include <string.h>

extern const mm_strategy mm_strategy_none;
extern const mm_strategy mm_strategy_rc;
extern const mm_strategy mm_strategy_gen;
extern const mm_strategy mm_strategy_trial;
extern const mm_strategy mm_strategy_incr;
extern const mm_strategy mm_strategy_boehm;
extern const mm_allocator_ops mm_allocator_system;
extern const mm_allocator_ops mm_allocator_pool;
extern const mm_allocator_ops mm_allocator_bump;
extern const mm_allocator_ops mm_allocator_pymalloc;
extern const mm_allocator_ops mm_allocator_jemalloc;
extern const mm_allocator_ops mm_allocator_mimalloc;
extern const mm_layout mm_layout_slots;
extern const mm_layout mm_layout_dict;
extern const mm_layout mm_layout_shared;

const mm_strategy *const mm_strategies[] = {
    &mm_strategy_none,
    &mm_strategy_rc,
    &mm_strategy_gen,
    &mm_strategy_trial,
    &mm_strategy_incr,
    &mm_strategy_boehm,
    NULL,
};

const mm_allocator_ops *const mm_allocators[] = {
    &mm_allocator_system,
    &mm_allocator_pool,
    &mm_allocator_pymalloc,
    &mm_allocator_jemalloc,
    &mm_allocator_mimalloc,
    &mm_allocator_bump,
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
