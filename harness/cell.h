/* cell.h — a cell: `workload/reclaim/allocator/layout[/knob=value...]`.
 *
 * Contract: ms_cell_parse resolves the four names through the registries and
 * validates every knob against the tables of the four components (unknown name,
 * bad number, out of range → false with one line naming it); on success the
 * knob set holds every declared knob of the four, defaults filled in.
 */
#ifndef MS_CELL_H
#define MS_CELL_H

#include "registry.h"
#include "workload.h"

/* A cell spec longer than this is refused (a trace path is the longest part). */
#define MS_CELL_MAX 1024

typedef struct ms_cell {
    char spec[MS_CELL_MAX];
    const mm_workload *workload;
    const mm_strategy *reclaim;
    const mm_allocator_ops *allocator;
    const mm_layout *layout;
    mm_knobset knobs;
} ms_cell;

bool ms_cell_parse(const char *spec, ms_cell *cell, char *err, size_t errlen);

#endif
