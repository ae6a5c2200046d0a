/* alloc_pymalloc.c — `pymalloc`: CPython 3.11's obmalloc itself, PyObject_Malloc/PyObject_Free.
 *
 * Contract: libpython3.11.so.1.0 is dlopen()ed (RTLD_LOCAL) at the first create(),
 * so memstrat does not need libpython to start; a missing library is one clear
 * error. The interpreter is never initialised: in 3.11 obmalloc's state (usedpools,
 * arenas, the arena map) is static data of the library and PyObject_Malloc works
 * from the first call (tests/test_pymalloc.c shows it, with Py_IsInitialized() == 0).
 * libpython does not export malloc, so glibc stays the process malloc. Requests of
 * 1..512 bytes are served from pymalloc's 1 MiB arenas; 0 and larger go to glibc's
 * malloc through PyMem_RawMalloc, as in CPython. pymalloc relies on the GIL for
 * exclusion; memstrat allocates on one thread, which takes its place.
 * Stats: pymalloc's own report (_PyObject_DebugMallocStats, the text behind
 * sys._debugmallocstats()) parsed into arenas ("# arenas allocated current"),
 * pools in use (the per-class "num pools" column), lib_allocated ("# bytes in
 * allocated blocks": size-class rounded) and reserved = the arenas' "Total" + the
 * arena map's mid/bot nodes + the bytes of live requests passed through to malloc.
 * The report is process-wide: every pymalloc heap of the process shares one obmalloc.
 * Invariant: live_bytes is the sum of sizes requested and not freed; passthrough_bytes
 * the part of it that pymalloc handed to malloc.
 */
#include <dlfcn.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

/* The soname Debian's libpython3.11 package installs; the version is the point:
 * obmalloc's state moved into the interpreter in 3.12. */
#define PYM_LIBRARY "libpython3.11.so.1.0"
/* pymalloc's SMALL_REQUEST_THRESHOLD in 3.11: larger requests (and 0) go to malloc. */
#define PYM_SMALL_MAX 512

typedef void *(*pym_malloc_fn)(size_t size);
typedef void (*pym_free_fn)(void *p);
typedef int (*pym_stats_fn)(FILE *out);

/* The library stays loaded for the life of the process: its arenas outlive any
 * one heap (a leaking cell leaves blocks behind), and dlclose would drop obmalloc's
 * static state under them. */
static struct {
    void *handle;
    pym_malloc_fn malloc;
    pym_free_fn free;
    pym_stats_fn stats;
} pym;

typedef struct pymalloc_allocator {
    mm_allocator base;
    uint64_t live_bytes;
    uint64_t passthrough_bytes;
} pymalloc_allocator;

extern const mm_allocator_ops mm_allocator_pymalloc;

/* Loads libpython once; false with one line in err if it or a symbol is missing. */
static bool pym_load(char *err, size_t errlen) {
    if (pym.handle != NULL) return true;
    void *h = dlopen(PYM_LIBRARY, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        snprintf(err, errlen, "allocator 'pymalloc' needs %s (Debian package libpython3.11): %s", PYM_LIBRARY,
                 dlerror());
        return false;
    }
    void *m = dlsym(h, "PyObject_Malloc"), *f = dlsym(h, "PyObject_Free"), *s = dlsym(h, "_PyObject_DebugMallocStats");
    if (m == NULL || f == NULL || s == NULL) {
        snprintf(err, errlen, "allocator 'pymalloc': %s lacks PyObject_Malloc/PyObject_Free/_PyObject_DebugMallocStats",
                 PYM_LIBRARY);
        dlclose(h);
        return false;
    }
    pym.malloc = (pym_malloc_fn)m;
    pym.free = (pym_free_fn)f;
    pym.stats = (pym_stats_fn)s;
    pym.handle = h;
    return true;
}

/* Every instance shares the process's one obmalloc; an instance keeps only its books. */
static mm_allocator *pymalloc_create(const mm_knobset *ks, char *err, size_t errlen) {
    (void)ks;
    if (!pym_load(err, errlen)) return NULL;
    pymalloc_allocator *a = calloc(1, sizeof *a);
    if (a == NULL) {
        snprintf(err, errlen, "out of memory creating allocator");
        return NULL;
    }
    a->base.ops = &mm_allocator_pymalloc;
    return &a->base;
}

/* Blocks still allocated (a leaking cell's) stay in pymalloc's arenas: only the books go. */
static void pymalloc_destroy(mm_allocator *a) { free(a); }

/* pymalloc rounds to 16-byte classes and aligns blocks to 16 (ALIGNMENT in 3.11);
 * its passthrough is glibc's malloc, also 16-aligned. */
static void *pymalloc_alloc(mm_allocator *base, size_t size) {
    pymalloc_allocator *a = (pymalloc_allocator *)base;
    void *p = pym.malloc(size);
    if (p != NULL) {
        a->live_bytes += size;
        if (size == 0 || size > PYM_SMALL_MAX) a->passthrough_bytes += size;
    }
    return p;
}

/* pymalloc finds a block's pool from its address; the size serves only our books. */
static void pymalloc_free(mm_allocator *base, void *p, size_t size) {
    pymalloc_allocator *a = (pymalloc_allocator *)base;
    a->live_bytes -= size;
    if (size == 0 || size > PYM_SMALL_MAX) a->passthrough_bytes -= size;
    pym.free(p);
}

/* What can be given back: the passthrough blocks' free pages, through glibc's
 * malloc_trim(0). obmalloc itself has no call for it: it unmaps a wholly free
 * arena when its last pool empties (keeping one, bpo-37257), and 3.11 exports
 * nothing that would release the kept arena or the free pools of a used one. */
static void pymalloc_trim(mm_allocator *base) {
    (void)base;
    malloc_trim(0);
}

/* The number after '=' on a report line, with its thousands separators. */
static uint64_t report_number(const char *line) {
    const char *eq = strchr(line, '=');
    uint64_t v = 0;
    if (eq == NULL) return 0;
    for (const char *p = eq + 1; *p; p++) {
        if (*p >= '0' && *p <= '9') v = v * 10 + (uint64_t)(*p - '0');
        else if (*p != ',' && *p != ' ') break;
    }
    return v;
}

/* Report labels are matched by prefix: the padding after them varies. */
static bool has_prefix(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

/* Reads pymalloc's own report rather than its private structures: the report's
 * format is what sys._debugmallocstats() users see, the structures are not ABI.
 * The first "Total" line is the arenas' bytes; a second one (the arena map) is
 * taken apart from its mid/bot lines instead, as the map's root is static data. */
static void pymalloc_stats(mm_allocator *base, mm_alloc_stats *out) {
    pymalloc_allocator *a = (pymalloc_allocator *)base;
    *out = (mm_alloc_stats){.live_bytes = a->live_bytes, .reserved_bytes = a->passthrough_bytes};
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL) return;
    int printed = pym.stats(f);
    if (fclose(f) != 0 || !printed || text == NULL) {
        free(text);
        return;
    }
    bool in_classes = false, seen_total = false;
    uint64_t pools = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        unsigned cls, size;
        unsigned long long npools, used, avail;
        if (has_prefix(line, "-----")) {
            in_classes = true;
        } else if (in_classes && sscanf(line, "%u %u %llu %llu %llu", &cls, &size, &npools, &used, &avail) == 5) {
            pools += npools;
        } else if (has_prefix(line, "# arenas allocated current")) {
            in_classes = false;
            out->arenas = report_number(line);
        } else if (has_prefix(line, "# bytes in allocated blocks")) {
            out->lib_allocated_bytes = report_number(line);
        } else if (has_prefix(line, "Total") && !seen_total) {
            out->reserved_bytes += report_number(line);
            seen_total = true;
        } else if (has_prefix(line, "# bytes lost to arena map mid") || has_prefix(line, "# bytes lost to arena map bot")) {
            out->reserved_bytes += report_number(line);
        }
    }
    out->pools_in_use = pools;
    free(text);
}

const mm_allocator_ops mm_allocator_pymalloc = {
    .name = "pymalloc",
    .summary = "CPython 3.11's obmalloc (PyObject_Malloc/Free from libpython3.11, interpreter not initialised)",
    .knobs = NULL,
    .create = pymalloc_create,
    .destroy = pymalloc_destroy,
    .alloc = pymalloc_alloc,
    .free = pymalloc_free,
    .stats = pymalloc_stats,
    .trim = pymalloc_trim,
};
