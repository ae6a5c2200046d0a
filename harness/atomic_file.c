/* atomic_file.c — tmp + fsync + rename, over regular files only; see atomic_file.h. */
#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "knobs.h"

/* Suffix of the file being written before it is renamed into place. */
#define MS_TMP_SUFFIX ".tmp"
/* Bytes of a path quoted in an error line (then "..."). */
#define MS_PATH_QUOTE 200

/* What a path is, for the line that refuses it. */
static const char *file_kind(mode_t m) {
    return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ? "a character device"
         : S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket" : S_ISLNK(m) ? "a symbolic link"
         : "not a regular file";
}

/* The tmp file, created afresh: O_EXCL|O_NOFOLLOW so a FIFO, a device or a
 * symbolic link planted at the tmp name is never opened; a stale regular tmp
 * (a crash's) is removed first. */
static FILE *open_tmp(const char *tmp) {
    struct stat st;
    if (lstat(tmp, &st) == 0) {
        if (!S_ISREG(st.st_mode)) {
            errno = EEXIST;
            return NULL;
        }
        unlink(tmp);
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0) return NULL;
    FILE *f = fdopen(fd, "w");
    if (f == NULL) {
        int e = errno;
        close(fd);
        unlink(tmp);
        errno = e;
    }
    return f;
}

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

    FILE *f = open_tmp(tmp);
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
    struct stat st; /* defence in depth: rename replaces whatever is there */
    if (rc == 0 && lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        rc = -1;
        e = EEXIST;
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

bool ms_output_target_ok(const char *path, const char *what, char *err, size_t errlen) {
    char q[4 * MS_PATH_QUOTE + 4];
    mm_escape(q, sizeof q, path, MS_PATH_QUOTE);
    struct stat st;
    if (*path == '\0') {
        snprintf(err, errlen, "%s: an empty path", what);
        return false;
    }
    if (lstat(path, &st) == 0) {
        if (S_ISREG(st.st_mode)) return true;
        snprintf(err, errlen, "%s: '%s' is %s; an output replaces only a regular file or goes to a new path", what, q,
                 file_kind(st.st_mode));
        return false;
    }
    if (errno != ENOENT) {
        snprintf(err, errlen, "%s: cannot use '%s' (%s)", what, q, strerror(errno));
        return false;
    }
    /* a new path: its directory must exist and take new files */
    char *dir = strdup(path);
    if (dir == NULL) {
        snprintf(err, errlen, "%s: out of memory", what);
        return false;
    }
    char *slash = strrchr(dir, '/');
    const char *d = slash == NULL ? "." : slash == dir ? "/" : (*slash = '\0', dir);
    char qd[4 * MS_PATH_QUOTE + 4];
    mm_escape(qd, sizeof qd, d, MS_PATH_QUOTE);
    bool ok = false;
    if (stat(d, &st) != 0)
        snprintf(err, errlen, "%s: the directory of '%s' does not exist (%s)", what, q, strerror(errno));
    else if (!S_ISDIR(st.st_mode))
        snprintf(err, errlen, "%s: the directory of '%s' is %s", what, q, file_kind(st.st_mode));
    else if (access(d, W_OK | X_OK) != 0)
        snprintf(err, errlen, "%s: cannot create files in directory '%s' (%s)", what, qd, strerror(errno));
    else
        ok = true;
    free(dir);
    return ok;
}
