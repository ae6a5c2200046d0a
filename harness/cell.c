/* cell.c — parsing and validating cell specs; see cell.h. */
#include "cell.h"

#include <stdio.h>
#include <string.h>

/* Names the known choices in an error, so a typo is fixed without reading docs. */
static void known_names(char *out, size_t outlen, const char *const *names, int n) {
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < n && used < outlen; i++)
        used += (size_t)snprintf(out + used, outlen - used, "%s%s", i ? ", " : "", names[i]);
}

#define MS_MAX_NAMES 32

static void unknown(char *err, size_t errlen, const char *what, const char *name, const char *const *names, int n) {
    char list[512];
    known_names(list, sizeof list, names, n);
    snprintf(err, errlen, "unknown %s '%s' (known: %s)", what, name, list);
}

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
    const char *names[MS_MAX_NAMES];
    int n;
    if ((cell->workload = wl_find(parts[0])) == NULL) {
        for (n = 0; wl_workloads[n] && n < MS_MAX_NAMES; n++) names[n] = wl_workloads[n]->name;
        unknown(err, errlen, "workload", parts[0], names, n);
        return false;
    }
    if ((cell->reclaim = mm_find_strategy(parts[1])) == NULL) {
        for (n = 0; mm_strategies[n] && n < MS_MAX_NAMES; n++) names[n] = mm_strategies[n]->name;
        unknown(err, errlen, "strategy", parts[1], names, n);
        return false;
    }
    if ((cell->allocator = mm_find_allocator(parts[2])) == NULL) {
        for (n = 0; mm_allocators[n] && n < MS_MAX_NAMES; n++) names[n] = mm_allocators[n]->name;
        unknown(err, errlen, "allocator", parts[2], names, n);
        return false;
    }
    if ((cell->layout = mm_find_layout(parts[3])) == NULL) {
        for (n = 0; mm_layouts[n] && n < MS_MAX_NAMES; n++) names[n] = mm_layouts[n]->name;
        unknown(err, errlen, "layout", parts[3], names, n);
        return false;
    }
    const mm_knob_desc *const tables[] = {cell->workload->knobs, cell->reclaim->knobs, cell->allocator->knobs,
                                          cell->layout->knobs};
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
    if (cell->reclaim->check) {
        char kerr[600];
        if (!cell->reclaim->check(&cell->knobs, kerr, sizeof kerr)) {
            snprintf(err, errlen, "cell '%s': %s", spec, kerr);
            return false;
        }
    }
    if (cell->allocator->check) {
        char kerr[600];
        if (!cell->allocator->check(&cell->knobs, kerr, sizeof kerr)) {
            snprintf(err, errlen, "cell '%s': %s", spec, kerr);
            return false;
        }
    }
    if (cell->workload->check) {
        char kerr[600];
        if (!cell->workload->check(&cell->knobs, kerr, sizeof kerr)) {
            snprintf(err, errlen, "cell '%s': %s", spec, kerr);
            return false;
        }
    }
    return true;
}
