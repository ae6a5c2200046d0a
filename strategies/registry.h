/* registry.h — the tables of everything that can fill a cell's axes.
 *
 * Contract: adding a strategy, allocator or layout is one new file plus one line
 * in registry.c. Private to strategies/ (and white-box tests): the harness
 * lists, validates and builds cells through the mm_component views of mm.h,
 * which registry.c copies out of these tables.
 */
#ifndef MM_REGISTRY_H
#define MM_REGISTRY_H

#include "alloc.h"
#include "layout.h"
#include "strategy.h"

extern const mm_strategy *const mm_strategies[];          /* NULL-terminated */
extern const mm_allocator_ops *const mm_allocators[];     /* NULL-terminated */
extern const mm_layout *const mm_layouts[];               /* NULL-terminated */

const mm_strategy *mm_find_strategy(const char *name);
const mm_allocator_ops *mm_find_allocator(const char *name);
const mm_layout *mm_find_layout(const char *name);

#endif
