/* bench_knobs.c — which knobs of a cell decide the `none` cell it is compared with.
 *
 * Contract: ms_bench_baseline_key(cell) returns the cell's knobs that a `none` cell can share
 * with it — knobs of the workload, allocator and layout — sorted and ';'-joined, with every
 * knob that is set to its declared default left out (so `list/rc/system/slots/n=1000000`
 * matches `list/none/system/slots`). Knobs of the cell's own reclamation strategy (the
 * thresholds of rc+gen, say) are left out too: `none` has no such knob and they do not change
 * the work to be done. A knob no registry declares is kept as written. The tables are read
 * only through the registries (registry.h, workload.h), as the design asks of the harness.
 */
#include "bench.h"

#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "workload.h"

/* Sorted knobs: the same knobs in another order give the same key. */
static int ms_cmp_knob(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Does the knob `key=value` take part in choosing the baseline? */
static int ms_knob_counts(const ms_bench_cell *c, const char *key, const char *value)
{
    const mm_strategy *s = mm_find_strategy(c->reclaim);
    if (s && s->knobs && mm_knob_find(s->knobs, key))
        return 0;
    const mm_workload *w = wl_find(c->workload);
    const mm_allocator_ops *a = mm_find_allocator(c->allocator);
    const mm_layout *l = mm_find_layout(c->layout);
    const mm_knob_desc *tables[] = {w ? w->knobs : NULL, a ? a->knobs : NULL,
                                    l ? l->knobs : NULL};
    for (size_t t = 0; t < sizeof tables / sizeof *tables; t++) {
        const mm_knob_desc *d = tables[t] ? mm_knob_find(tables[t], key) : NULL;
        if (d)
            return !d->default_value || strcmp(d->default_value, value) != 0;
    }
    return 1;
}

/* The knob part of a cell as far as its baseline is concerned (see the contract). */
char *ms_bench_baseline_key(const ms_bench_cell *c)
{
    char *k = ms_bench_xstrdup(c->knobs);
    size_t cap = 1;
    for (char *s = k; *s; s++)
        cap += *s == ';';
    char **kept = ms_bench_xmalloc(cap * sizeof *kept);
    size_t n = 0;
    for (char *tok = *k ? k : NULL; tok;) {
        char *next = strchr(tok, ';');
        if (next)
            *next++ = '\0';
        char *eq = strchr(tok, '=');
        if (eq) {
            *eq = '\0';
            int counts = ms_knob_counts(c, tok, eq + 1);
            *eq = '=';
            if (counts)
                kept[n++] = tok;
        }
        tok = next;
    }
    qsort(kept, n, sizeof *kept, ms_cmp_knob);
    ms_sbuf b = {0};
    for (size_t i = 0; i < n; i++) {
        if (i)
            ms_sbuf_putc(&b, ';');
        ms_sbuf_puts(&b, kept[i]);
    }
    free(kept);
    free(k);
    return b.p ? b.p : ms_bench_xstrdup("");
}
