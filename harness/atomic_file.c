/* atomic_file.c — tmp + fsync + rename; see atomic_file.h. */
#include "atomic_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Suffix of the file being written before it is renamed into place. */
#define MS_TMP_SUFFIX ".tmp"

int ms_write_file_atomic(const char *path, ms_emit_fn emit, void *ctx)
{
    size_t n = strlen(path);
    char *tmp = malloc(n + sizeof MS_TMP_SUFFIX);
    if (!tmp) {
        errno = ENOMEM;
        return -1;
    }
    memcpy(tmp, path, n);
    memcpy(tmp + n, MS_TMP_SUFFIX, sizeof MS_TMP_SUFFIX);

    FILE *f = fopen(tmp, "w");
    if (!f) {
        int e = errno;
        free(tmp);
        errno = e;
        return -1;
    }
    errno = 0;
    int rc = emit(f, ctx);
    if (rc == 0 && fflush(f) != 0)
        rc = -1;
    if (rc == 0 && fsync(fileno(f)) != 0)
        rc = -1;
    int e = errno;
    if (fclose(f) != 0 && rc == 0) {
        rc = -1;
        e = errno;
    }
    if (rc == 0 && rename(tmp, path) != 0) {
        rc = -1;
        e = errno;
    }
    if (rc != 0) {
        unlink(tmp);
        errno = e ? e : EIO;
    }
    free(tmp);
    return rc;
}
