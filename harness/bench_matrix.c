/* bench_matrix.c — the matrix file of `memstrat bench` and the parts of a cell name.
 *
 * Contract: a matrix file holds one cell per line, `workload/reclaim/allocator/layout` followed
 * by optional `/knob=value` parts; `#` starts a comment, blank lines are ignored. A cell is one
 * token of [A-Za-z0-9_.+=,:@%-] and '/'. Any malformed line, a duplicate cell (also the same
 * knobs in another order) or two cells whose file names would collide is an error naming
 * file:line, and nothing of the matrix is kept. Whether the names exist is the runner's call
 * (`memstrat run` exits 2); the driver only checks shape.
 */
#include "bench.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The four fixed parts before the knobs: workload, reclaim, allocator, layout. */
#define MS_CELL_FIXED_PARTS 4
/* Characters a cell may contain besides letters, digits and '/': enough for knob values such
 * as thresholds=700,10,10 or ratio=0.5, and nothing that needs quoting in a shell, a file
 * name or a gnuplot string. */
#define MS_CELL_PUNCT "_.+-=,:@%"
/* Characters kept as they are in a slug; everything else becomes '_' ('/' becomes "__"). */
#define MS_SLUG_PUNCT "_.+-=,"

/* One cell is one token that is safe in argv, file names and gnuplot strings. */
static int ms_cell_char_ok(char c)
{
    return isalnum((unsigned char)c) || c == '/' || (c && strchr(MS_CELL_PUNCT, c));
}

/* File names of a cell's outputs: readable, reversible enough to recognise the cell. */
static char *ms_cell_slug(const char *name)
{
    ms_sbuf b = {0};
    for (const char *s = name; *s; s++) {
        if (*s == '/')
            ms_sbuf_puts(&b, "__");
        else if (isalnum((unsigned char)*s) || strchr(MS_SLUG_PUNCT, *s))
            ms_sbuf_putc(&b, *s);
        else
            ms_sbuf_putc(&b, '_');
    }
    return b.p;
}

/* qsort order for knobs, so that knob order does not make a different cell. */
static int ms_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Split a cell into its parts and check its shape; on error `err` says what is wrong. */
int ms_bench_cell_parse(const char *text, ms_bench_cell *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    for (const char *s = text; *s; s++) {
        if (!ms_cell_char_ok(*s)) {
            if (isprint((unsigned char)*s))
                snprintf(err, errlen, "cell '%s': character '%c' is not allowed", text, *s);
            else
                snprintf(err, errlen, "cell '%s': character 0x%02x is not allowed", text,
                         (unsigned char)*s);
            return -1;
        }
    }
    char *copy = ms_bench_xstrdup(text);
    size_t nparts = 1;
    for (char *s = copy; *s; s++)
        nparts += *s == '/';
    char **part = ms_bench_xmalloc(nparts * sizeof *part);
    size_t i = 0;
    part[i++] = copy;
    for (char *s = copy; *s; s++) {
        if (*s == '/') {
            *s = '\0';
            part[i++] = s + 1;
        }
    }
    const char *what = NULL;
    if (nparts < MS_CELL_FIXED_PARTS)
        what = "needs workload/reclaim/allocator/layout";
    for (i = 0; !what && i < nparts; i++)
        if (!*part[i])
            what = "has an empty part";
    for (i = MS_CELL_FIXED_PARTS; !what && i < nparts; i++) {
        char *eq = strchr(part[i], '=');
        if (!eq || eq == part[i] || !eq[1])
            what = "knobs must be key=value";
        for (size_t j = MS_CELL_FIXED_PARTS; !what && j < i; j++) {
            size_t klen = (size_t)(eq - part[i]);
            if (strncmp(part[j], part[i], klen) == 0 && part[j][klen] == '=')
                what = "sets the same knob twice";
        }
    }
    if (what) {
        snprintf(err, errlen, "cell '%s': %s", text, what);
        free(part);
        free(copy);
        return -1;
    }
    ms_sbuf knobs = {0};
    for (i = MS_CELL_FIXED_PARTS; i < nparts; i++) {
        if (i > MS_CELL_FIXED_PARTS)
            ms_sbuf_putc(&knobs, ';');
        ms_sbuf_puts(&knobs, part[i]);
    }
    c->name = ms_bench_xstrdup(text);
    c->workload = ms_bench_xstrdup(part[0]);
    c->reclaim = ms_bench_xstrdup(part[1]);
    c->allocator = ms_bench_xstrdup(part[2]);
    c->layout = ms_bench_xstrdup(part[3]);
    c->knobs = knobs.p ? knobs.p : ms_bench_xstrdup("");
    c->slug = ms_cell_slug(text);
    free(part);
    free(copy);
    return 0;
}

/* Frees the parts and zeroes the cell, so freeing twice is harmless. */
void ms_bench_cell_free(ms_bench_cell *c)
{
    free(c->name);
    free(c->workload);
    free(c->reclaim);
    free(c->allocator);
    free(c->layout);
    free(c->knobs);
    free(c->slug);
    memset(c, 0, sizeof *c);
}

/* Same cell whatever the order of its knobs: fixed parts, then the knobs sorted. */
static char *ms_cell_canonical(const ms_bench_cell *c)
{
    char *k = ms_bench_xstrdup(c->knobs);
    size_t n = *k ? 1 : 0;
    for (char *s = k; *s; s++)
        n += *s == ';';
    char **v = ms_bench_xmalloc((n ? n : 1) * sizeof *v);
    size_t i = 0;
    for (char *tok = *k ? k : NULL; tok; i++) {
        v[i] = tok;
        tok = strchr(tok, ';');
        if (tok)
            *tok++ = '\0';
    }
    qsort(v, n, sizeof *v, ms_cmp_str);
    ms_sbuf b = {0};
    ms_sbuf_printf(&b, "%s/%s/%s/%s", c->workload, c->reclaim, c->allocator, c->layout);
    for (i = 0; i < n; i++)
        ms_sbuf_printf(&b, "/%s", v[i]);
    free(v);
    free(k);
    return b.p;
}

/* Cut a comment and surrounding blanks off one line, in place. */
static char *ms_matrix_trim(char *line)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    while (*line && isspace((unsigned char)*line))
        line++;
    size_t n = strlen(line);
    while (n > 0 && isspace((unsigned char)line[n - 1]))
        line[--n] = '\0';
    return line;
}

/* Check one new cell against the ones before it: the same cell twice (in any knob order)
 * is surely a mistake, and two cells sharing a slug would overwrite each other's files. */
static int ms_matrix_check_new(const ms_bench_matrix *m, const ms_bench_cell *c,
                               const char *path, int line, char *err, size_t errlen)
{
    char *canon = ms_cell_canonical(c);
    int rc = 0;
    for (size_t i = 0; i < m->n && rc == 0; i++) {
        const ms_bench_cell *o = &m->cells[i];
        char *oc = ms_cell_canonical(o);
        if (strcmp(oc, canon) == 0) {
            if (strcmp(o->name, c->name) == 0)
                snprintf(err, errlen, "%s:%d: duplicate cell '%s' (first on line %d)", path,
                         line, c->name, o->line);
            else
                snprintf(err, errlen, "%s:%d: duplicate cell '%s': same as '%s' on line %d",
                         path, line, c->name, o->name, o->line);
            rc = -1;
        } else if (strcmp(o->slug, c->slug) == 0) {
            snprintf(err, errlen, "%s:%d: cell '%s' would share file names with '%s' (line %d)",
                     path, line, c->name, o->name, o->line);
            rc = -1;
        }
        free(oc);
    }
    free(canon);
    return rc;
}

/* Read and check the whole matrix file before anything runs or is written. */
int ms_bench_matrix_load(const char *path, ms_bench_matrix *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    char *text;
    size_t len;
    if (ms_bench_read_file(path, &text, &len) != 0) {
        snprintf(err, errlen, "cannot read matrix file '%s': %s", path, strerror(errno));
        return -1;
    }
    if (strlen(text) != len) {
        snprintf(err, errlen, "matrix file '%s' contains a NUL byte", path);
        free(text);
        return -1;
    }
    size_t cap = 0;
    int lineno = 0, rc = 0;
    char *save = NULL;
    for (char *s = text; s && rc == 0; s = save) {
        char *nl = strchr(s, '\n');
        save = nl ? nl + 1 : NULL;
        if (nl)
            *nl = '\0';
        else if (!*s)
            break;
        lineno++;
        char *cell = ms_matrix_trim(s);
        if (!*cell)
            continue;
        for (char *t = cell; *t; t++) {
            if (isspace((unsigned char)*t)) {
                snprintf(err, errlen, "%s:%d: one cell per line; found blank inside '%s'", path,
                         lineno, cell);
                rc = -1;
                break;
            }
        }
        if (rc)
            break;
        ms_bench_cell c;
        char why[512];
        if (ms_bench_cell_parse(cell, &c, why, sizeof why) != 0) {
            snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
            rc = -1;
            break;
        }
        c.line = lineno;
        if (ms_matrix_check_new(m, &c, path, lineno, err, errlen) != 0) {
            ms_bench_cell_free(&c);
            rc = -1;
            break;
        }
        if (m->n == cap) {
            cap = cap ? cap * 2 : 16;
            m->cells = ms_bench_xrealloc(m->cells, cap * sizeof *m->cells);
        }
        m->cells[m->n++] = c;
    }
    free(text);
    if (rc == 0 && m->n == 0) {
        snprintf(err, errlen, "matrix file '%s' has no cells", path);
        rc = -1;
    }
    if (rc != 0) {
        ms_bench_matrix_free(m);
        return -1;
    }
    m->path = ms_bench_xstrdup(path);
    return 0;
}

/* Also used on a half-loaded matrix after an error. */
void ms_bench_matrix_free(ms_bench_matrix *m)
{
    for (size_t i = 0; i < m->n; i++)
        ms_bench_cell_free(&m->cells[i]);
    free(m->cells);
    free(m->path);
    memset(m, 0, sizeof *m);
}
