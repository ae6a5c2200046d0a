/* cell.c — parsing and validating cell specs; see cell.h. The harness knows the
 * object model's components only through their mm_component views (mm.h). */
#include "cell.h"

#include <stdio.h>
#include <string.h>

/* "unknown AXIS 'NAME' (known: a, b, c)": the choices named, so a typo is fixed
 * without reading docs. name_at(i) is the i-th name of the axis, NULL past the last. */
static void unknown(char *err, size_t errlen, const char *what, const char *name,
                    const char *(*name_at)(size_t i)) {
    char list[512];
    size_t used = 0;
    list[0] = '\0';
    for (size_t i = 0; name_at(i) != NULL && used < sizeof list; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", name_at(i));
    snprintf(err, errlen, "unknown %s '%s' (known: %s)", what, name, list);
}

static const char *workload_at(size_t i) {
    for (size_t k = 0; k <= i; k++)
        if (wl_workloads[k] == NULL) return NULL;
    return wl_workloads[i]->name;
}

static const char *component_name(mm_axis axis, size_t i) {
    mm_component c;
    return mm_component_at(axis, i, &c) ? c.name : NULL;
}
static const char *reclaim_at(size_t i) { return component_name(MM_AXIS_RECLAIM, i); }
static const char *allocator_at(size_t i) { return component_name(MM_AXIS_ALLOCATOR, i); }
static const char *layout_at(size_t i) { return component_name(MM_AXIS_LAYOUT, i); }

bool ms_cell_parse(const char *spec, ms_cell *cell, char *err, size_t errlen) {
    memset(cell, 0, sizeof *cell);
    if (strlen(spec) >= MS_CELL_MAX) {
        snprintf(err, errlen, "cell spec longer than %d characters", MS_CELL_MAX - 1);
        return false;
    }
    snprintf(cell->spec, sizeof cell->spec, "%s", spec);
    char buf[MS_CELL_MAX];
    snprintf(buf, sizeof buf, "%s", spec);
    char *parts[4 + MM_MAX_KNOBS];
    int nparts = 0;
    char *p = buf;
    for (;;) {
        if (nparts == (int)(sizeof parts / sizeof parts[0])) {
            snprintf(err, errlen, "cell '%s' has too many parts", spec);
            return false;
        }
        parts[nparts++] = p;
        char *slash = strchr(p, '/');
        if (slash == NULL) break;
        *slash = '\0';
        p = slash + 1;
    }
    if (nparts < 4) {
        snprintf(err, errlen, "cell '%s' must be workload/reclaim/allocator/layout[/knob=value...]", spec);
        return false;
    }
    if ((cell->workload = wl_find(parts[0])) == NULL) {
        unknown(err, errlen, "workload", parts[0], workload_at);
        return false;
    }
    if (!mm_component_find(MM_AXIS_RECLAIM, parts[1], &cell->reclaim)) {
        unknown(err, errlen, "strategy", parts[1], reclaim_at);
        return false;
    }
    if (!mm_component_find(MM_AXIS_ALLOCATOR, parts[2], &cell->allocator)) {
        unknown(err, errlen, "allocator", parts[2], allocator_at);
        return false;
    }
    if (!mm_component_find(MM_AXIS_LAYOUT, parts[3], &cell->layout)) {
        unknown(err, errlen, "layout", parts[3], layout_at);
        return false;
    }
    const mm_knob_desc *const tables[] = {cell->workload->knobs, cell->reclaim.knobs, cell->allocator.knobs,
                                          cell->layout.knobs};
    /* A part without '=' continues the previous knob's value: knob values may be
     * paths (trace=/tmp/x.trace), and the cell is split on '/'. */
    for (int i = 4; i < nparts;) {
        char *name = parts[i], *eq = strchr(name, '=');
        if (eq == NULL || eq == name) {
            snprintf(err, errlen, "cell '%s': '%s' is not knob=value", spec, name);
            return false;
        }
        *eq = '\0';
        char value[MM_KNOB_VALUE_MAX];
        size_t used = (size_t)snprintf(value, sizeof value, "%s", eq + 1);
        for (i++; i < nparts && strchr(parts[i], '=') == NULL && used < sizeof value; i++)
            used += (size_t)snprintf(value + used, sizeof value - used, "/%s", parts[i]);
        if (mm_knobset_get(&cell->knobs, name) != NULL) {
            snprintf(err, errlen, "cell '%s': knob '%s' given twice", spec, name);
            return false;
        }
        char kerr[600];
        if (!mm_knobset_apply(&cell->knobs, name, value, tables, 4, kerr, sizeof kerr)) {
            snprintf(err, errlen, "cell '%s': %s", spec, kerr);
            return false;
        }
    }
    for (int i = 0; i < 4; i++) mm_knobset_fill_defaults(&cell->knobs, tables[i]);
    /* each component's own rules across knobs: strategy, allocator, workload */
    char kerr[600];
    const bool ok = mm_component_check(&cell->reclaim, &cell->knobs, kerr, sizeof kerr) &&
                    mm_component_check(&cell->allocator, &cell->knobs, kerr, sizeof kerr) &&
                    (cell->workload->check == NULL || cell->workload->check(&cell->knobs, kerr, sizeof kerr));
    if (!ok) {
        snprintf(err, errlen, "cell '%s': %s", spec, kerr);
        return false;
    }
    return true;
}
