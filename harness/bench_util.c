/* bench_util.c — small helpers of the bench driver: growable strings, whole-file I/O,
 * directories, shell quoting, plain-decimal numbers and CSV fields.
 *
 * Contract: allocation failure aborts with a message (the driver cannot do anything useful
 * without memory); file helpers return 0 / -1 with errno set; every file the driver writes
 * goes through ms_bench_write_atomic (write "<path>.tmp", then rename), so a reader never
 * sees half a file.
 */
#include "bench.h"

#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Smallest growth step of a string buffer: most strings here are short lines. */
#define MS_SBUF_MIN_CAP 64
/* Open file descriptors nftw may hold while removing a tree; deep trees just run slower. */
#define MS_RMRF_FDS 16
/* Significant digits kept when a non-integral number is printed in plain decimal: more than
 * any measurement here carries, fewer than the noise digits of a double. */
#define MS_NUM_SIG_DIGITS 10

/* Out of memory leaves nothing sensible to do: say so and stop. */
static void ms_bench_oom(void)
{
    fputs("memstrat bench: out of memory\n", stderr);
    abort();
}

/* Checked allocation: callers never test for NULL, so failure cannot go unnoticed. */
void *ms_bench_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        ms_bench_oom();
    return p;
}

/* Checked realloc, for the growing arrays of cells, repetitions and names. */
void *ms_bench_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        ms_bench_oom();
    return q;
}

/* strdup is not C11; this one also cannot fail. */
char *ms_bench_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = ms_bench_xmalloc(n);
    memcpy(p, s, n);
    return p;
}

/* Formatting into a fresh string keeps path and message building to one line each. */
char *ms_bench_xprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        ms_bench_oom();
    char *p = ms_bench_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

/* Grow so that `extra` more bytes plus a terminator fit. */
static void ms_sbuf_reserve(ms_sbuf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : MS_SBUF_MIN_CAP;
    while (cap < b->len + extra + 1)
        cap *= 2;
    b->p = ms_bench_xrealloc(b->p, cap);
    b->cap = cap;
}

/* Appenders: CSV, JSON-free text and gnuplot expressions are built piece by piece. */
void ms_sbuf_puts(ms_sbuf *b, const char *s)
{
    size_t n = strlen(s);
    ms_sbuf_reserve(b, n);
    memcpy(b->p + b->len, s, n + 1);
    b->len += n;
}

void ms_sbuf_putc(ms_sbuf *b, char c)
{
    ms_sbuf_reserve(b, 1);
    b->p[b->len++] = c;
    b->p[b->len] = '\0';
}

void ms_sbuf_printf(ms_sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    ms_sbuf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* An empty buffer has no storage yet; callers still want a valid "" to print. */
const char *ms_sbuf_str(ms_sbuf *b)
{
    return b->p ? b->p : "";
}

/* Leaves the buffer empty and reusable. */
void ms_sbuf_free(ms_sbuf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

typedef struct {
    const char *data;
    size_t len;
} ms_bench_blob;

static int ms_bench_emit_blob(FILE *f, void *arg)
{
    ms_bench_blob *b = arg;
    return fwrite(b->data, 1, b->len, f) == b->len ? 0 : -1;
}

/* Readers (and a crash) only ever see whole files: ms_write_file_atomic. */
int ms_bench_write_atomic(const char *path, const char *data, size_t len)
{
    ms_bench_blob b = {data, len};
    return ms_write_file_atomic(path, ms_bench_emit_blob, &b);
}

/* Reads a stream to its end into a NUL-terminated buffer (files and popen pipes alike). */
static void ms_bench_slurp(FILE *f, ms_sbuf *b)
{
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        ms_sbuf_reserve(b, n);
        memcpy(b->p + b->len, chunk, n);
        b->len += n;
        b->p[b->len] = '\0';
    }
}

/* Whole-file read with a terminating NUL, for JSON and small text files. */
int ms_bench_read_file(const char *path, char **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    ms_sbuf b = {0};
    ms_bench_slurp(f, &b);
    int err = ferror(f);
    fclose(f);
    if (err) {
        ms_sbuf_free(&b);
        errno = EIO;
        return -1;
    }
    ms_sbuf_reserve(&b, 0);
    b.p[b.len] = '\0';
    *data = b.p;
    if (len)
        *len = b.len;
    return 0;
}

/* `mkdir -p`: the output directory may be several levels deep and partly exist. */
int ms_bench_mkdir_p(const char *path)
{
    char *p = ms_bench_xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            int e = errno;
            free(p);
            errno = e;
            return -1;
        }
        *s = '/';
    }
    int rc = mkdir(p, 0755);
    int e = errno;
    free(p);
    if (rc != 0 && e == EEXIST) {
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            return 0;
        errno = ENOTDIR;
        return -1;
    }
    errno = e;
    return rc;
}

/* nftw callback: children come before their directory (FTW_DEPTH); links are not followed. */
static int ms_rmrf_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (type == FTW_DP)
        return rmdir(path) != 0 && errno != ENOENT ? -1 : 0;
    return unlink(path) != 0 && errno != ENOENT ? -1 : 0;
}

/* Remove a tree the driver made itself (its own .tmp run directory); never follows symlinks. */
int ms_bench_rm_rf(const char *path)
{
    return nftw(path, ms_rmrf_one, MS_RMRF_FDS, FTW_DEPTH | FTW_PHYS);
}

/* lstat, not stat: a dangling symlink named like the run still blocks the name. */
int ms_bench_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* The last non-empty line of a child's stderr is usually the reason it failed. */
char *ms_bench_last_line(const char *text, size_t len)
{
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
        len--;
    size_t start = len;
    while (start > 0 && text[start - 1] != '\n')
        start--;
    if (start == len)
        return NULL;
    char *line = ms_bench_xmalloc(len - start + 1);
    memcpy(line, text + start, len - start);
    line[len - start] = '\0';
    return line;
}

/* Paths that go through popen's shell are single-quoted; embedded quotes become '\''. */
char *ms_bench_shell_quote(const char *s)
{
    ms_sbuf b = {0};
    ms_sbuf_putc(&b, '\'');
    for (; *s; s++) {
        if (*s == '\'')
            ms_sbuf_puts(&b, "'\\''");
        else
            ms_sbuf_putc(&b, *s);
    }
    ms_sbuf_putc(&b, '\'');
    return b.p;
}

/* Run a short query command (git, dpkg-query) and return its output without the trailing
 * newline; *status gets the exit status, -1 when it could not run. */
char *ms_bench_popen_read(const char *cmd, int *status)
{
    *status = -1;
    FILE *f = popen(cmd, "r");
    if (!f)
        return NULL;
    ms_sbuf b = {0};
    ms_bench_slurp(f, &b);
    int st = pclose(f);
    if (st != -1 && WIFEXITED(st))
        *status = WEXITSTATUS(st);
    while (b.len > 0 && (b.p[b.len - 1] == '\n' || b.p[b.len - 1] == '\r'))
        b.p[--b.len] = '\0';
    if (!b.p)
        return ms_bench_xstrdup("");
    return b.p;
}

/* gnuplot may be absent; finding it first lets the driver say so in one line and go on. */
char *ms_bench_find_in_path(const char *prog)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/bin:/bin";
    const char *s = path;
    for (;;) {
        const char *e = strchr(s, ':');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        char *cand = n ? ms_bench_xprintf("%.*s/%s", (int)n, s, prog)
                       : ms_bench_xprintf("./%s", prog);
        struct stat st;
        if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0)
            return cand;
        free(cand);
        if (!e)
            return NULL;
        s = e + 1;
    }
}

/* Numbers in CSV are plain decimals (no exponent), so spreadsheets, awk and gnuplot all read
 * them alike: integers exactly, others to MS_NUM_SIG_DIGITS significant digits without
 * trailing zeros. NaN and infinities become an empty field. */
void ms_bench_fmt_num(char *buf, size_t n, double v)
{
    if (!isfinite(v)) {
        buf[0] = '\0';
        return;
    }
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(buf, n, "%.0f", v == 0 ? 0.0 : v);
        return;
    }
    int mag = (int)floor(log10(fabs(v)));
    int decimals = MS_NUM_SIG_DIGITS - 1 - mag;
    if (decimals < 0)
        decimals = 0;
    if (decimals > 30)
        decimals = 30;
    snprintf(buf, n, "%.*f", decimals, v);
    if (strchr(buf, '.')) {
        size_t len = strlen(buf);
        while (len > 0 && buf[len - 1] == '0')
            buf[--len] = '\0';
        if (len > 0 && buf[len - 1] == '.')
            buf[--len] = '\0';
    }
    if (strcmp(buf, "-0") == 0)
        strcpy(buf, "0");
}

/* RFC 4180 quoting, only where needed: a field with a comma, quote or line break. */
void ms_bench_csv_field(ms_sbuf *b, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        ms_sbuf_puts(b, s);
        return;
    }
    ms_sbuf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"')
            ms_sbuf_putc(b, '"');
        ms_sbuf_putc(b, *s);
    }
    ms_sbuf_putc(b, '"');
}

/* meta.json times are UTC ISO-8601 with a Z, unambiguous across machines. */
void ms_bench_utc_iso(char *buf, size_t n, long long epoch_s)
{
    time_t t = (time_t)epoch_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Bad input on a subcommand's command line: "memstrat CMD: <why>" as one line on stderr;
 * returns the usage exit status (2) so callers can `return ms_usage_error(...)`. */
int ms_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "memstrat %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return MS_BENCH_EXIT_USAGE;
}

/* Strict integer: the whole string, in [lo, hi]; "5x" or "" is an error, not 5 or 0. */
int ms_parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* Run ids become directory names next to `latest` and the .tmp dirs: plain names only
 * (bench, tune and merge all name runs). */
int ms_run_id_ok(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > MS_MAX_RUN_ID || id[0] == '.' || id[0] == '-' || !strcmp(id, "latest"))
        return 0;
    for (const char *s = id; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_' || *s == '.'))
            return 0;
    return 1;
}
