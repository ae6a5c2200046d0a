/* knobs.h — named parameters of cells (`n=100000`, `gc=700,10,10`, `arena=1m`).
 *
 * Contract: every component (workload, reclamation strategy, allocator, layout)
 * declares the knobs it accepts in a table of mm_knob_desc ending with {0}.
 * The harness validates a cell's knobs against the union of those tables before
 * anything runs (unknown name, bad number, out of range → one line, exit 2), then
 * fills in defaults, so a component reading its own knob never sees a missing or
 * malformed value.
 *
 * Public (with mm.h): every floor above the object model names knobs this way.
 *
 * The one rule of knob values and cells (the Python cell parser applies the same):
 *   1. An integer knob (COUNT, BYTES) is [0-9]+ with an optional suffix k, m or g
 *      (COUNT: ×10^3, ×10^6, ×10^9; BYTES: ×2^10, ×2^20, ×2^30): no sign, no
 *      blank, no other character; then it must lie in the knob's declared range.
 *      (Every range starts at 0 or more, so "-5" is reported as out of range.)
 *   2. A string knob is 1..MM_KNOB_VALUE_MAX-1 bytes of printable ASCII
 *      (0x20..0x7e) that neither starts nor ends with a blank; the component then
 *      checks its meaning (a trace file, a threshold list). Its default may be empty:
 *      the knob then reads "" when not given (a script's `args`), which the user
 *      cannot write.
 *   3. A cell is split on '/': workload/reclaim/allocator/layout, then knobs. After
 *      the four axes a part starts a new knob only when the text before its first
 *      '=' is a knob name that one of the cell's four components declares; any
 *      other part continues the previous knob's value after a '/'. So a value may
 *      be a path with '=' and any number of '/'. A part before the first knob that
 *      starts none is an error (an unknown knob, or not knob=value). Limits: each
 *      knob once, at most MM_MAX_KNOBS knobs, a value shorter than
 *      MM_KNOB_VALUE_MAX bytes — none on the number of parts.
 *   4. An error names the problem first, then the value, escaped (mm_escape) and
 *      cut to MM_KNOB_QUOTE bytes, so a long value never hides the reason.
 *
 * Invariant: a mm_knobset handed to a component holds every knob the component
 * declares, each with a value that passed its declared kind and range.
 */
#ifndef MM_KNOBS_H
#define MM_KNOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Cells carry few knobs; a fixed table keeps knob sets copyable and allocation-free. */
#define MM_MAX_KNOBS 32
/* Longest knob value accepted (a trace path is the longest expected). */
#define MM_KNOB_VALUE_MAX 512
/* Bytes of a bad value quoted back in an error line (then "..."). */
#define MM_KNOB_QUOTE 60

typedef enum {
    MM_KNOB_COUNT, /* integer; suffix k/m/g multiplies by 1e3/1e6/1e9 (n=1m) */
    MM_KNOB_BYTES, /* integer; suffix k/m/g multiplies by 2^10/2^20/2^30 (arena=1m) */
    MM_KNOB_STRING /* free text; the component validates it in its init */
} mm_knob_kind;

typedef struct mm_knob_desc {
    const char *name;
    mm_knob_kind kind;
    const char *default_value; /* as text, parsed like user input */
    int64_t min, max;          /* inclusive range for COUNT/BYTES */
    const char *help;          /* one line for `memstrat list` */
} mm_knob_desc;

typedef struct mm_knob {
    char name[64];
    char value[MM_KNOB_VALUE_MAX];
} mm_knob;

typedef struct mm_knobset {
    int count;
    mm_knob items[MM_MAX_KNOBS];
} mm_knobset;

/* Parses "1000", "10k", "1m" (COUNT: ×1e3, BYTES: ×1024) by rule 1; false on
 * anything else or on overflow. */
bool mm_knob_parse_int(const char *text, mm_knob_kind kind, int64_t *out);

/* Sets name=value (replacing an earlier value); false when the set is full or too long. */
bool mm_knobset_put(mm_knobset *ks, const char *name, const char *value);

/* The raw text of a knob, or NULL when absent. */
const char *mm_knobset_get(const mm_knobset *ks, const char *name);

/* Reads a validated integer knob; aborts on a missing knob (a programming error:
 * the harness fills defaults for every declared knob). */
int64_t mm_knob_int(const mm_knobset *ks, const char *name);

/* Reads a validated string knob; aborts when missing, like mm_knob_int. */
const char *mm_knob_str(const mm_knobset *ks, const char *name);

/* Finds a knob description by name in a {0}-terminated table, or NULL. */
const mm_knob_desc *mm_knob_find(const mm_knob_desc *table, const char *name);

/* Checks one value (a MM_KNOB_VALUE_MAX buffer) against its description and rewrites
 * integers as plain decimals; on failure writes one line into err. */
bool mm_knob_check(const mm_knob_desc *d, char *value, char *err, size_t errlen);

/* Adds the (checked, normalised) default of every knob in table that ks lacks. */
void mm_knobset_fill_defaults(mm_knobset *ks, const mm_knob_desc *table);

/* Validates name=value against the first of `ntables` tables that declares name
 * and stores the normalised value; false with one line in err when no table
 * declares it or the value is bad. Both the CLI and tests build cells this way. */
bool mm_knobset_apply(mm_knobset *ks, const char *name, const char *value,
                      const mm_knob_desc *const *tables, int ntables, char *err, size_t errlen);

/* Text from a user or a file made safe to echo on one line: printable ASCII
 * (0x20..0x7e) as itself except the backslash, written as two backslashes;
 * every other byte as a backslash, 'x' and two lowercase hex digits. At most
 * `max` bytes of s are escaped; when s is longer, "..." follows. Always
 * NUL-terminated (cut to outlen); returns out. tools/cpython_replay.py escapes
 * the same way. */
char *mm_escape(char *out, size_t outlen, const char *s, size_t max);

#endif
