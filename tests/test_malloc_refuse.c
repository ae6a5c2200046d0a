/* test_malloc_refuse.c — jemalloc and mimalloc refuse to be a second heap beside another malloc.
 *
 * What must hold, in a process that runs on glibc's malloc (or ASan's, in a
 * sanitizer build): both allocators are registered with their preload library;
 * create() returns NULL with one line naming that library (or the sanitizer),
 * never a working allocator that would mix two mallocs; the process malloc is
 * reported as glibc's (release build) and the counter codes map library names.
 * The other side — that they work once preloaded — is test_malloc_identity.sh.
 */
#include <string.h>

#include "check.h"
#include "malloc_id.h"
#include "registry.h"

static void refuses(const char *name, const char *lib) {
    const mm_allocator_ops *ops = mm_find_allocator(name);
    CHECK(ops != NULL, "%s not registered", name);
    if (ops == NULL) return;
    CHECK(ops->preload_library != NULL && strcmp(ops->preload_library, lib) == 0, "%s preloads %s", name,
          ops->preload_library ? ops->preload_library : "nothing");
    char err[400] = "";
    mm_allocator *a = ops->create(NULL, err, sizeof err);
    CHECK(a == NULL, "%s created beside another malloc", name);
    if (a) ops->destroy(a);
#ifdef MS_SANITIZE_BUILD
    CHECK(strstr(err, "sanitizer") != NULL, "%s: message lacks the reason: %s", name, err);
#else
    CHECK(strstr(err, lib) != NULL && strstr(err, "libc.so.6") != NULL, "%s: message lacks %s/libc.so.6: %s", name, lib,
          err);
#endif
    CHECK(strchr(err, '\n') == NULL && err[0] != '\0', "%s: not one line: '%s'", name, err);
}

int main(void) {
    mm_malloc_info mi;
    CHECK(mm_malloc_which(&mi), "malloc not traced to a library");
#ifndef MS_SANITIZE_BUILD
    CHECK(mi.code == MM_MALLOC_GLIBC && strcmp(mi.base, "libc.so.6") == 0, "process malloc %s", mi.path);
#endif
    CHECK(mm_malloc_code_of("libjemalloc.so.2") == MM_MALLOC_JEMALLOC, "jemalloc code");
    CHECK(mm_malloc_code_of("libmimalloc.so.2") == MM_MALLOC_MIMALLOC, "mimalloc code");
    CHECK(mm_malloc_code_of("libc.so.6") == MM_MALLOC_GLIBC, "glibc code");
    CHECK(mm_malloc_code_of("libasan.so.8") == MM_MALLOC_OTHER, "other code");
    CHECK(mm_malloc_sibling("mallocx") == NULL, "mallocx found beside %s", mi.base);
    refuses("jemalloc", "libjemalloc.so.2");
    refuses("mimalloc", "libmimalloc.so.2");
    return check_summary();
}
