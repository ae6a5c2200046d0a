/* cell.c — parsing and validating cell specs; see cell.h. The harness knows the
 * object model's components only through their mm_component views (mm.h). */
#include "cell.h"
#include "run_cpython.h"

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

/* Bytes of the spec quoted in an error line (then "..."): enough to recognise the
 * cell, short enough that the reason after it is never cut. */
#define MS_CELL_QUOTE 80

/* Whether `part` starts a knob (rule 3 of knobs.h): the text before its first '='
 * is a name one of the four components declares. */
static const mm_knob_desc *knob_start(const char *part, const mm_knob_desc *const *tables) {
    const char *eq = strchr(part, '=');
    if (eq == NULL || eq == part) return NULL;
    for (int t = 0; t < 4; t++)
        for (const mm_knob_desc *d = tables[t]; d && d->name; d++)
            if (strlen(d->name) == (size_t)(eq - part) && strncmp(d->name, part, (size_t)(eq - part)) == 0) return d;
    return NULL;
}

/* A part spelt like a knob (a lowercase name, then '='): when it was taken into
 * the previous knob's value and that value is refused, it is most likely a
 * misspelt knob, and the error says so. */
static bool looks_like_knob(const char *part) {
    const char *p = part;
    if (*p < 'a' || *p > 'z') return false;
    while ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_') p++;
    return *p == '=';
}

static void unknown_knob(char *err, size_t errlen, const char *qspec, const char *part, const ms_cell *cell) {
    char q[4 * MS_CELL_QUOTE + 4];
    size_t n = strcspn(part, "=");
    char name[MS_CELL_QUOTE + 1];
    snprintf(name, sizeof name, "%.*s", (int)(n < MS_CELL_QUOTE ? n : MS_CELL_QUOTE), part);
    snprintf(err, errlen, "cell '%s': unknown knob '%s' (not declared by %s, %s, %s or %s)", qspec,
             mm_escape(q, sizeof q, name, MS_CELL_QUOTE), cell->workload->name, cell->reclaim.name,
             cell->allocator.name, cell->layout.name);
}

/* Applies one knob: name=value (value joined from its parts; suspect: the first
 * part taken in that looks like a knob, or NULL). */
static bool put_knob(ms_cell *cell, const char *qspec, const char *name, const char *value, const char *suspect,
                     const mm_knob_desc *const *tables, char *err, size_t errlen) {
    if (mm_knobset_get(&cell->knobs, name) != NULL) {
        snprintf(err, errlen, "cell '%s': knob '%s' given twice", qspec, name);
        return false;
    }
    char kerr[800];
    if (!mm_knobset_apply(&cell->knobs, name, value, tables, 4, kerr, sizeof kerr)) {
        if (suspect != NULL) unknown_knob(err, errlen, qspec, suspect, cell);
        else snprintf(err, errlen, "cell '%s': %s", qspec, kerr);
        return false;
    }
    return true;
}

bool ms_cell_parse(const char *spec, ms_cell *cell, char *err, size_t errlen) {
    memset(cell, 0, sizeof *cell);
    char qspec[4 * MS_CELL_QUOTE + 4];
    mm_escape(qspec, sizeof qspec, spec, MS_CELL_QUOTE);
    if (strlen(spec) >= MS_CELL_MAX) {
        snprintf(err, errlen, "cell spec longer than %d characters: '%s'", MS_CELL_MAX - 1, qspec);
        return false;
    }
    snprintf(cell->spec, sizeof cell->spec, "%s", spec);
    char buf[MS_CELL_MAX];
    snprintf(buf, sizeof buf, "%s", spec);
    char *parts[4], *rest = NULL, *p = buf;
    int nparts = 0;
    while (nparts < 4) {
        parts[nparts++] = p;
        char *slash = strchr(p, '/');
        if (slash == NULL) break;
        *slash = '\0';
        p = slash + 1;
        if (nparts == 4) rest = p;
    }
    if (nparts < 4) {
        snprintf(err, errlen, "cell '%s' must be workload/reclaim/allocator/layout[/knob=value...]", qspec);
        return false;
    }
    char qname[4 * MS_CELL_QUOTE + 4];
    if ((cell->workload = wl_find(parts[0])) == NULL) {
        unknown(err, errlen, "workload", mm_escape(qname, sizeof qname, parts[0], MS_CELL_QUOTE), workload_at);
        return false;
    }
    if (!mm_component_find(MM_AXIS_RECLAIM, parts[1], &cell->reclaim)) {
        unknown(err, errlen, "strategy", mm_escape(qname, sizeof qname, parts[1], MS_CELL_QUOTE), reclaim_at);
        return false;
    }
    if (!mm_component_find(MM_AXIS_ALLOCATOR, parts[2], &cell->allocator)) {
        unknown(err, errlen, "allocator", mm_escape(qname, sizeof qname, parts[2], MS_CELL_QUOTE), allocator_at);
        return false;
    }
    if (!mm_component_find(MM_AXIS_LAYOUT, parts[3], &cell->layout)) {
        unknown(err, errlen, "layout", mm_escape(qname, sizeof qname, parts[3], MS_CELL_QUOTE), layout_at);
        return false;
    }
    const mm_knob_desc *const tables[] = {cell->workload->knobs, cell->reclaim.knobs, cell->allocator.knobs,
                                          cell->layout.knobs};
    /* Rule 3 of knobs.h: the knobs are split at the parts that start one; each
     * knob's value runs (with its '/') up to the next such part. The value is
     * cut nowhere: an over-long one reaches mm_knobset_apply, which names it. */
    const char *name = NULL, *suspect = NULL;
    char value[MS_CELL_MAX], suspect_buf[MS_CELL_MAX];
    size_t used = 0;
    for (char *part = rest; part != NULL;) {
        char *slash = strchr(part, '/');
        if (slash != NULL) *slash = '\0';
        const mm_knob_desc *d = knob_start(part, tables);
        if (d != NULL) {
            if (name != NULL && !put_knob(cell, qspec, name, value, suspect, tables, err, errlen)) return false;
            name = d->name;
            suspect = NULL;
            used = (size_t)snprintf(value, sizeof value, "%s", strchr(part, '=') + 1);
        } else if (name != NULL) {
            if (suspect == NULL && looks_like_knob(part)) suspect = strcpy(suspect_buf, part);
            used += (size_t)snprintf(value + used, sizeof value - used, "/%s", part);
        } else {
            char *eq = strchr(part, '=');
            if (eq != NULL && eq != part) {
                unknown_knob(err, errlen, qspec, part, cell);
            } else {
                snprintf(err, errlen, "cell '%s': '%s' is not knob=value", qspec,
                         mm_escape(qname, sizeof qname, part, MS_CELL_QUOTE));
            }
            return false;
        }
        part = slash != NULL ? slash + 1 : NULL;
    }
    if (name != NULL && !put_knob(cell, qspec, name, value, suspect, tables, err, errlen)) return false;
    for (int i = 0; i < 4; i++) mm_knobset_fill_defaults(&cell->knobs, tables[i]);
    /* a program for an interpreter; each component's own rules across knobs: strategy,
     * allocator, workload (the trace loads last); an interpreter's rules */
    char kerr[PATH_MAX + 600];
    if (cell->workload->interpreter && !cell->reclaim.interpreter) {
        snprintf(err, errlen, "cell '%s': workload '%s' runs only in an interpreter (reclaim cpython)", qspec,
                 cell->workload->name);
        return false;
    }
    const bool ok = mm_component_check(&cell->reclaim, &cell->knobs, kerr, sizeof kerr) &&
                    mm_component_check(&cell->allocator, &cell->knobs, kerr, sizeof kerr) &&
                    mm_component_check(&cell->layout, &cell->knobs, kerr, sizeof kerr) &&
                    (cell->workload->check == NULL || cell->workload->check(&cell->knobs, kerr, sizeof kerr)) &&
                    (!cell->reclaim.interpreter || ms_cpython_cell_check(cell, kerr, sizeof kerr));
    if (!ok) {
        snprintf(err, errlen, "cell '%s': %s", qspec, kerr);
        return false;
    }
    return true;
}
