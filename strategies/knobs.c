/* knobs.c — parsing and validation of cell knobs; see knobs.h for the contract. */
#include "knobs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rule 1 of knobs.h. Suffix multipliers differ by kind because `n=1m` means a
 * million objects while `arena=1m` means a mebibyte, as people write them.
 * Returns 0, KNOB_SYNTAX (not [0-9]+[kmg]?) or KNOB_OVERFLOW (beyond int64). */
enum { KNOB_SYNTAX = -1, KNOB_OVERFLOW = -2 };
static int parse_count(const char *text, mm_knob_kind kind, int64_t *out) {
    const char *p = text;
    int64_t v = 0;
    bool overflow = false;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (INT64_MAX - (*p - '0')) / 10) overflow = true;
        else v = v * 10 + (*p - '0');
    }
    if (p == text) return KNOB_SYNTAX;
    int64_t mul = 1;
    if (*p != '\0') {
        bool bytes = kind == MM_KNOB_BYTES;
        switch (*p) {
        case 'k': mul = bytes ? (1LL << 10) : 1000LL; break;
        case 'm': mul = bytes ? (1LL << 20) : 1000000LL; break;
        case 'g': mul = bytes ? (1LL << 30) : 1000000000LL; break;
        default: return KNOB_SYNTAX;
        }
        if (p[1] != '\0') return KNOB_SYNTAX;
    }
    if (overflow || v > INT64_MAX / mul) return KNOB_OVERFLOW;
    *out = v * mul;
    return 0;
}

bool mm_knob_parse_int(const char *text, mm_knob_kind kind, int64_t *out) {
    return text != NULL && parse_count(text, kind, out) == 0;
}

char *mm_escape(char *out, size_t outlen, const char *s, size_t max) {
    static const char hex[] = "0123456789abcdef";
    size_t o = 0, i = 0;
    if (outlen == 0) return out;
    for (; s[i] != '\0' && i < max; i++) {
        unsigned char c = (unsigned char)s[i];
        char buf[4];
        size_t n = 0;
        if (c == '\\') buf[n++] = '\\', buf[n++] = '\\';
        else if (c >= 0x20 && c < 0x7f) buf[n++] = (char)c;
        else buf[n++] = '\\', buf[n++] = 'x', buf[n++] = hex[c >> 4], buf[n++] = hex[c & 15];
        if (o + n >= outlen) break;
        memcpy(out + o, buf, n);
        o += n;
    }
    if (s[i] != '\0' && o + 3 < outlen) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
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

/* Rules 1, 2 and 4 of knobs.h. */
bool mm_knob_check(const mm_knob_desc *d, char *value, char *err, size_t errlen) {
    char q[4 * MM_KNOB_QUOTE + 4];
    mm_escape(q, sizeof q, value, MM_KNOB_QUOTE);
    if (d->kind == MM_KNOB_STRING) {
        size_t n = strlen(value);
        if (n == 0) {
            snprintf(err, errlen, "knob '%s' needs a value", d->name);
            return false;
        }
        for (size_t i = 0; i < n; i++) {
            if ((unsigned char)value[i] < 0x20 || (unsigned char)value[i] > 0x7e) {
                snprintf(err, errlen, "knob '%s' must be printable ASCII; byte %zu of '%s' is not", d->name, i + 1, q);
                return false;
            }
        }
        if (value[0] == ' ' || value[n - 1] == ' ') {
            snprintf(err, errlen, "knob '%s' must not start or end with a blank: '%s'", d->name, q);
            return false;
        }
        return true;
    }
    int64_t v;
    int rc = value[0] == '-' ? parse_count(value + 1, d->kind, &v) : parse_count(value, d->kind, &v);
    if (rc == KNOB_SYNTAX) {
        snprintf(err, errlen, "knob '%s' must be digits with an optional k, m or g: '%s' is not a number", d->name, q);
        return false;
    }
    /* a sign is not in the rule, but every range starts at 0 or above: "-5" is
     * out of range, which says more than "not a number" */
    if (rc == KNOB_OVERFLOW || value[0] == '-' || v < d->min || v > d->max) {
        snprintf(err, errlen, "knob '%s' must be in [%lld, %lld]: %s is out of range", d->name, (long long)d->min,
                 (long long)d->max, q);
        return false;
    }
    /* Normalise so readers need not know whether the suffix meant 1e6 or 2^20. */
    snprintf(value, MM_KNOB_VALUE_MAX, "%lld", (long long)v);
    return true;
}

void mm_knobset_fill_defaults(mm_knobset *ks, const mm_knob_desc *table) {
    for (const mm_knob_desc *d = table; d && d->name; d++) {
        if (mm_knobset_get(ks, d->name) != NULL) continue;
        if (d->kind == MM_KNOB_STRING && d->default_value[0] == '\0') { /* rule 2: "not given" */
            mm_knobset_put(ks, d->name, "");
            continue;
        }
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
        char q[4 * MM_KNOB_QUOTE + 4];
        snprintf(err, errlen, "unknown knob '%s'", mm_escape(q, sizeof q, name, MM_KNOB_QUOTE));
        return false;
    }
    if (strlen(value) >= MM_KNOB_VALUE_MAX) {
        char q[4 * MM_KNOB_QUOTE + 4];
        snprintf(err, errlen, "knob '%s' must be shorter than %d bytes, not %zu: '%s'", name, MM_KNOB_VALUE_MAX,
                 strlen(value), mm_escape(q, sizeof q, value, MM_KNOB_QUOTE));
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
