/* cell.h — a cell: `workload/reclaim/allocator/layout[/knob=value...]`.
 *
 * Contract: ms_cell_parse resolves the four names (workload.h's table and the
 * component views of mm.h) and validates every knob against the tables of the
 * four components (unknown name, bad number, out of range → false with one
 * line naming it), then runs each component's own check across knobs; on
 * success the knob set holds every declared knob of the four, defaults filled
 * in, and ms_cell_config gives what mm_heap_new takes. A workload that runs only
 * in an interpreter needs a strategy that runs in one; a cell whose strategy
 * does is held to the interpreter's rules too (ms_cpython_cell_check), which
 * resolve its interpreter into `interp`.
 */
#ifndef MS_CELL_H
#define MS_CELL_H

#include "mm.h"
#include "workload.h"

/* A cell spec longer than this is refused (a trace path is the longest part). */
#define MS_CELL_MAX 1024

typedef struct ms_cell {
    char spec[MS_CELL_MAX];
    const mm_workload *workload;
    mm_component reclaim, allocator, layout;
    mm_knobset knobs;
    char interp[PATH_MAX]; /* the interpreter of a cell that runs in one, else "" */
} ms_cell;

bool ms_cell_parse(const char *spec, ms_cell *cell, char *err, size_t errlen);

/* The heap a cell runs on: its three components and its knobs (which cell holds). */
static inline mm_config ms_cell_config(const ms_cell *cell) {
    return (mm_config){cell->reclaim.desc.reclaim, cell->allocator.desc.allocator, cell->layout.desc.layout,
                       &cell->knobs};
}

#endif
