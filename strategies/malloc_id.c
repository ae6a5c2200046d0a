/* malloc_id.c — which shared object supplies malloc; see malloc_id.h.
 *
 * Invariant: a symbol looked up with RTLD_DEFAULT is the definition the
 * executable's own calls bind to (same global search order: executable,
 * LD_PRELOAD objects, then DT_NEEDED in load order), so dladdr on it names the
 * malloc this process actually runs on, not merely one that is loaded.
 */
#include "malloc_id.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

/* Name prefixes of the libraries a code stands for (any soname version). */
#define MM_GLIBC_PREFIX "libc.so"
#define MM_JEMALLOC_PREFIX "libjemalloc"
#define MM_MIMALLOC_PREFIX "libmimalloc"

/* The names carry soname versions after the part that identifies the library. */
static bool starts_with(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

/* By file name, so any soname version (or a local build) of a library counts. */
mm_malloc_code mm_malloc_code_of(const char *base) {
    if (starts_with(base, MM_GLIBC_PREFIX)) return MM_MALLOC_GLIBC;
    if (starts_with(base, MM_JEMALLOC_PREFIX)) return MM_MALLOC_JEMALLOC;
    if (starts_with(base, MM_MIMALLOC_PREFIX)) return MM_MALLOC_MIMALLOC;
    return MM_MALLOC_OTHER;
}

/* dladdr on the global definition of malloc: the object every call reaches. */
bool mm_malloc_which(mm_malloc_info *out) {
    void *sym = dlsym(RTLD_DEFAULT, "malloc");
    Dl_info di;
    if (sym == NULL || dladdr(sym, &di) == 0 || di.dli_fname == NULL || di.dli_fname[0] == '\0') {
        snprintf(out->path, sizeof out->path, "?");
        out->base = out->path;
        out->code = MM_MALLOC_OTHER;
        return false;
    }
    snprintf(out->path, sizeof out->path, "%s", di.dli_fname);
    const char *slash = strrchr(out->path, '/');
    out->base = slash ? slash + 1 : out->path;
    out->code = mm_malloc_code_of(out->base);
    return true;
}

/* Comparing load bases (not names) is exact even if two copies of a library are
 * loaded from different paths. */
void *mm_malloc_sibling(const char *symbol) {
    void *m = dlsym(RTLD_DEFAULT, "malloc"), *s = dlsym(RTLD_DEFAULT, symbol);
    Dl_info dm, ds;
    if (m == NULL || s == NULL || dladdr(m, &dm) == 0 || dladdr(s, &ds) == 0) return NULL;
    return dm.dli_fbase == ds.dli_fbase ? s : NULL;
}
