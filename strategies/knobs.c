/* knobs.c — parsing and validation of cell knobs; see knobs.h for the contract. */
#include "knobs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Suffix multipliers differ by kind because `n=1m` means a million objects while
 * `arena=1m` means a mebibyte, as people write them. */
bool mm_knob_parse_int(const char *text, mm_knob_kind kind, int64_t *out) {
    if (text == NULL || *text == '\0') return false;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(text, &end, 10);
    if (errno != 0 || end == text) return false;
    int64_t mul = 1;
    if (*end != '\0') {
        bool bytes = kind == MM_KNOB_BYTES;
        switch (*end) {
        case 'k': case 'K': mul = bytes ? (1LL << 10) : 1000LL; break;
        case 'm': case 'M': mul = bytes ? (1LL << 20) : 1000000LL; break;
        case 'g': case 'G': mul = bytes ? (1LL << 30) : 1000000000LL; break;
        default: return false;
        }
        if (end[1] != '\0') return false;
    }
    if (v > INT64_MAX / mul || v < INT64_MIN / mul) return false;
    *out = (int64_t)v * mul;
    return true;
}

/* Put replaces so that a cell's later knob wins over a default filled earlier. */
bool mm_knobset_put(mm_knobset *ks, const char *name, const char *value) {
    if (strlen(name) >= sizeof ks->items[0].name || strlen(value) >= MM_KNOB_VALUE_MAX) return false;
    for (int i = 0; i < ks->count; i++) {
        if (strcmp(ks->items[i].name, name) == 0) {
            snprintf(ks->items[i].value, sizeof ks->items[i].value, "%s", value);
            return true;
        }
    }
    if (ks->count >= MM_MAX_KNOBS) return false;
    snprintf(ks->items[ks->count].name, sizeof ks->items[0].name, "%s", name);
    snprintf(ks->items[ks->count].value, sizeof ks->items[0].value, "%s", value);
    ks->count++;
    return true;
}

const char *mm_knobset_get(const mm_knobset *ks, const char *name) {
    for (int i = 0; i < ks->count; i++)
        if (strcmp(ks->items[i].name, name) == 0) return ks->items[i].value;
    return NULL;
}

/* A missing knob here means a component reads a knob it never declared: fail loudly. */
static const char *knob_required(const mm_knobset *ks, const char *name) {
    const char *v = mm_knobset_get(ks, name);
    if (v == NULL) {
        fprintf(stderr, "memstrat: internal error: knob '%s' read but not declared\n", name);
        abort();
    }
    return v;
}

int64_t mm_knob_int(const mm_knobset *ks, const char *name) {
    const char *v = knob_required(ks, name);
    int64_t out;
    /* mm_knob_check rewrote the value as a plain decimal, so suffixes are gone. */
    if (!mm_knob_parse_int(v, MM_KNOB_COUNT, &out)) {
        fprintf(stderr, "memstrat: internal error: knob '%s=%s' not an integer\n", name, v);
        abort();
    }
    return out;
}

const char *mm_knob_str(const mm_knobset *ks, const char *name) { return knob_required(ks, name); }

const mm_knob_desc *mm_knob_find(const mm_knob_desc *table, const char *name) {
    for (const mm_knob_desc *d = table; d && d->name; d++)
        if (strcmp(d->name, name) == 0) return d;
    return NULL;
}

bool mm_knob_check(const mm_knob_desc *d, char *value, char *err, size_t errlen) {
    if (d->kind == MM_KNOB_STRING) {
        if (*value == '\0') {
            snprintf(err, errlen, "knob '%s' needs a value", d->name);
            return false;
        }
        return true;
    }
    int64_t v;
    if (!mm_knob_parse_int(value, d->kind, &v)) {
        snprintf(err, errlen, "knob '%s': '%s' is not a number", d->name, value);
        return false;
    }
    if (v < d->min || v > d->max) {
        snprintf(err, errlen, "knob '%s': %s is out of range [%lld, %lld]", d->name, value,
                 (long long)d->min, (long long)d->max);
        return false;
    }
    /* Normalise so readers need not know whether the suffix meant 1e6 or 2^20. */
    snprintf(value, MM_KNOB_VALUE_MAX, "%lld", (long long)v);
    return true;
}

void mm_knobset_fill_defaults(mm_knobset *ks, const mm_knob_desc *table) {
    for (const mm_knob_desc *d = table; d && d->name; d++) {
        if (mm_knobset_get(ks, d->name) != NULL) continue;
        char value[MM_KNOB_VALUE_MAX], err[160];
        snprintf(value, sizeof value, "%s", d->default_value);
        if (!mm_knob_check(d, value, err, sizeof err)) {
            fprintf(stderr, "memstrat: internal error: default of %s\n", err);
            abort();
        }
        mm_knobset_put(ks, d->name, value);
    }
}

bool mm_knobset_apply(mm_knobset *ks, const char *name, const char *value,
                      const mm_knob_desc *const *tables, int ntables, char *err, size_t errlen) {
    const mm_knob_desc *d = NULL;
    for (int i = 0; i < ntables && d == NULL; i++) d = mm_knob_find(tables[i], name);
    if (d == NULL) {
        snprintf(err, errlen, "unknown knob '%s'", name);
        return false;
    }
    if (strlen(value) >= MM_KNOB_VALUE_MAX) {
        snprintf(err, errlen, "knob '%s': value too long", name);
        return false;
    }
    char buf[MM_KNOB_VALUE_MAX];
    snprintf(buf, sizeof buf, "%s", value);
    if (!mm_knob_check(d, buf, err, errlen)) return false;
    if (!mm_knobset_put(ks, name, buf)) {
        snprintf(err, errlen, "too many knobs (at most %d)", MM_MAX_KNOBS);
        return false;
    }
    return true;
}
