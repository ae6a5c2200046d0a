/* malloc_select.c — choosing the process-wide malloc by re-executing; see malloc_select.h.
 *
 * Why a re-exec: Debian's libjemalloc.so.2 and libmimalloc.so.2 export malloc/free,
 * so linking one replaces glibc's malloc for the whole process, linking both makes
 * them fight, and jemalloc cannot be dlopen()ed (static TLS). The way jemalloc is
 * deployed under Python — LD_PRELOAD — is also the one sound way here: the cell's
 * process starts again with the library preloaded, before anything is measured.
 * The reverse holds too: a glibc cell (`system`, `pymalloc`, ...) started with an
 * inherited LD_PRELOAD of another malloc starts again without it, so `system`
 * really is glibc.
 *
 * Invariant: at most one re-exec per `memstrat run`. The marker MS_REEXEC_ENV is
 * set for the new image; finding it set while the malloc is still wrong is an
 * error, never another exec. A satisfied process removes the marker again.
 *
 * A cell that runs in an interpreter (`cpython`) puts its allocator's malloc in
 * the child (ms_malloc_preload), not here: for this process it needs glibc.
 */
#include "malloc_select.h"

#include <dlfcn.h>
#include <errno.h>
#include <gnu/libc-version.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cell.h"

/* How a glibc-malloc need is named in messages. */
#define MS_GLIBC_NAME "glibc"

/* Where a preload library is looked for after glibc's own directory. */
static const char *const ms_lib_dirs[] = {"/usr/local/lib", "/usr/lib64", "/usr/lib", "/lib64", "/lib", NULL};
/* Base-name prefixes of the malloc replacements dropped from an inherited LD_PRELOAD. */
static const char *const ms_malloc_libs[] = {"libjemalloc", "libmimalloc", "libtcmalloc", NULL};
/* True if dir/name is a readable file; the full path goes to out. */
static bool try_dir(const char *dir, size_t dirlen, const char *name, char *out, size_t outlen) {
    int n = snprintf(out, outlen, "%.*s/%s", (int)dirlen, dir, name);
    return n > 0 && (size_t)n < outlen && access(out, R_OK) == 0;
}

/* LD_PRELOAD wants a path the loader can open without a search, so find the
 * library the way the standard layout has it: glibc's own directory (the
 * multiarch one on Debian), its /usr twin, then the classic directories. */
static bool find_library(const char *name, char *out, size_t outlen) {
    Dl_info di;
    if (dladdr((void *)&gnu_get_libc_version, &di) != 0 && di.dli_fname != NULL) {
        const char *slash = strrchr(di.dli_fname, '/');
        if (slash != NULL) {
            size_t len = (size_t)(slash - di.dli_fname);
            if (try_dir(di.dli_fname, len, name, out, outlen)) return true;
            char usr[PATH_MAX];
            if (strncmp(di.dli_fname, "/lib", 4) == 0 && snprintf(usr, sizeof usr, "/usr%.*s", (int)len, di.dli_fname) > 0 &&
                try_dir(usr, strlen(usr), name, out, outlen))
                return true;
        }
    }
    for (int i = 0; ms_lib_dirs[i]; i++)
        if (try_dir(ms_lib_dirs[i], strlen(ms_lib_dirs[i]), name, out, outlen)) return true;
    return false;
}

/* An inherited LD_PRELOAD entry that must go: a known malloc replacement, or
 * whatever object supplies malloc now (when the cell wants another). */
static bool drop_entry(const char *entry, size_t len, const char *current_base) {
    const char *base = entry;
    for (size_t i = 0; i < len; i++)
        if (entry[i] == '/') base = entry + i + 1;
    size_t blen = len - (size_t)(base - entry);
    for (int i = 0; ms_malloc_libs[i]; i++)
        if (blen >= strlen(ms_malloc_libs[i]) && strncmp(base, ms_malloc_libs[i], strlen(ms_malloc_libs[i])) == 0) return true;
    return current_base != NULL && blen == strlen(current_base) && strncmp(base, current_base, blen) == 0;
}

/* The new LD_PRELOAD: want_path (if any) first, then the inherited entries that
 * are not mallocs. Entries are separated by spaces or colons, as ld.so reads them. */
static bool build_preload(char *out, size_t outlen, const char *want_path, const char *current_base) {
    size_t used = 0;
    out[0] = '\0';
    if (want_path != NULL) used = (size_t)snprintf(out, outlen, "%s", want_path);
    const char *old = getenv("LD_PRELOAD");
    for (const char *p = old ? old : ""; *p;) {
        size_t len = strcspn(p, " :");
        if (len > 0 && !drop_entry(p, len, current_base)) {
            int n = snprintf(out + used, outlen - used, "%s%.*s", used ? ":" : "", (int)len, p);
            if (n < 0 || (size_t)n >= outlen - used) return false;
            used += (size_t)n;
        }
        p += len;
        p += strspn(p, " :");
    }
    return used < outlen;
}

bool ms_malloc_preload(const char *alloc_name, const char *lib, char *out, size_t outlen, char *err, size_t errlen) {
    char path[PATH_MAX];
    if (lib != NULL && !find_library(lib, path, sizeof path)) {
        snprintf(err, errlen, "allocator '%s' needs %s, which is not installed (not in glibc's directory nor "
                 "/usr/local/lib, /usr/lib64, /usr/lib, /lib64, /lib; tools/deps.sh install)", alloc_name, lib);
        return false;
    }
    mm_malloc_info cur;
    mm_malloc_which(&cur);
    if (!build_preload(out, outlen, lib ? path : NULL, cur.base)) {
        snprintf(err, errlen, "LD_PRELOAD is too long to rewrite");
        return false;
    }
    return true;
}

#ifndef MS_SANITIZE_BUILD
/* Set in the environment of the re-executed image only: stops exec loops. */
#define MS_REEXEC_ENV "MEMSTRAT_MALLOC_REEXEC"
/* The process image to start again; argv[0] may be a bare name found on PATH. */
#define MS_SELF_EXE "/proc/self/exe"
#endif

/* The component a cell names on an axis (reclaim: its second part, allocator:
 * its third); false if it names none that exists. Only that part is read: a full
 * parse validates knobs and, for a trace cell, the whole trace file, which run
 * does anyway after the re-exec. */
static bool cell_part(const char *spec, mm_axis axis, mm_component *out) {
    const char *p = spec;
    for (int i = 0; i < (axis == MM_AXIS_RECLAIM ? 1 : 2); i++) {
        p = strchr(p, '/');
        if (p == NULL) return false;
        p++;
    }
    char name[MS_CELL_MAX];
    size_t len = strcspn(p, "/");
    if (len >= sizeof name) return false;
    memcpy(name, p, len);
    name[len] = '\0';
    return mm_component_find(axis, name, out);
}

/* Each cell's need: the library to preload, or NULL for glibc. Returns 0 when all
 * name an allocator and agree (need in *need, *any false if no cell), -1 if one
 * does not (run reports it), 2 after the message if two disagree. */
static int cells_need(int argc, char **argv, const char **need, const char **need_alloc, bool *any) {
    const char *first = NULL;
    *any = false;
    for (int i = 2; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) == 0) continue;
        mm_component a, r;
        if (!cell_part(argv[i], MM_AXIS_ALLOCATOR, &a)) return -1;
        bool interp = cell_part(argv[i], MM_AXIS_RECLAIM, &r) && r.interpreter; /* its malloc is the child's */
        const char *lib = interp ? NULL : a.preload_library;
        if (!*any) {
            *need = lib;
            *need_alloc = a.name;
            first = argv[i];
            *any = true;
        } else if ((lib == NULL) != (*need == NULL) || (lib != NULL && strcmp(lib, *need) != 0)) {
            fprintf(stderr, "memstrat run: cells '%s' and '%s' need different process mallocs (%s, %s); "
                            "run them in separate invocations\n", first, argv[i], *need ? *need : MS_GLIBC_NAME,
                    lib ? lib : MS_GLIBC_NAME);
            return 2;
        }
    }
    return 0;
}

int ms_malloc_select(int argc, char **argv) {
    const char *need = NULL, *alloc_name = NULL;
    bool any;
    int st = cells_need(argc, argv, &need, &alloc_name, &any);
    if (st != 0) return st;
    if (!any) return -1;
#ifdef MS_SANITIZE_BUILD
    /* ASan's interceptors are the process malloc and must stay first. */
    if (need != NULL) {
        fprintf(stderr, "memstrat run: allocator '%s' needs %s preloaded as the process malloc, which conflicts with "
                        "AddressSanitizer; use a build without MS_SANITIZE\n", alloc_name, need);
        return 2;
    }
    return -1;
#else
    mm_malloc_info cur;
    mm_malloc_which(&cur);
    bool ok = need ? strcmp(cur.base, need) == 0 : cur.code == MM_MALLOC_GLIBC;
    if (ok) {
        unsetenv(MS_REEXEC_ENV);
        return -1;
    }
    if (getenv(MS_REEXEC_ENV) != NULL) {
        fprintf(stderr, "memstrat run: started again for %s as the process malloc, but malloc still comes from %s "
                        "(LD_PRELOAD=%s)\n", need ? need : MS_GLIBC_NAME, cur.path,
                getenv("LD_PRELOAD") ? getenv("LD_PRELOAD") : "");
        return 2;
    }
    char preload[4 * PATH_MAX], err[PATH_MAX + 200];
    if (!ms_malloc_preload(alloc_name, need, preload, sizeof preload, err, sizeof err)) {
        fprintf(stderr, "memstrat run: %s\n", err);
        return 2;
    }
    if (preload[0] != '\0') setenv("LD_PRELOAD", preload, 1);
    else unsetenv("LD_PRELOAD");
    setenv(MS_REEXEC_ENV, need ? need : MS_GLIBC_NAME, 1);
    fflush(NULL);
    execv(MS_SELF_EXE, argv);
    fprintf(stderr, "memstrat run: cannot start %s again with %s preloaded: %s\n", MS_SELF_EXE,
            need ? need : "no malloc", strerror(errno));
    return 1;
#endif
}
