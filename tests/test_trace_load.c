/* test_trace_load.c — wl_trace_load against hostile files (issue 12, item 5).
 *
 * A NUL byte on any line is refused with FILE:LINE (it used to hide the rest of
 * the line and drop the next one); a FIFO is refused at once (it used to block
 * forever in open); control bytes are echoed escaped; handles are numbered
 * densely in ID order, so `new 16777215 0` makes a table of one entry and the
 * ascending drop at the end still goes by ID. The same files through
 * tools/cpython_replay.py: tests/test_hostile.sh.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "trace.h"

static char dir[] = "/tmp/ms_test_trace_XXXXXX";

/* Writes n bytes to dir/name; returns the path (static buffer). */
static const char *put(const char *name, const char *bytes, size_t n) {
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(bytes, 1, n, f);
        fclose(f);
    }
    return path;
}

#define PUT(name, lit) put(name, lit, sizeof lit - 1)
#define V "# memstrat-trace v1\n"

static void expect_error(const char *path, const char *want) {
    wl_tracefile *t = NULL;
    char err[1024] = "";
    bool ok = wl_trace_load(path, &t, err, sizeof err);
    CHECK(!ok && strstr(err, want) != NULL, "%s: want '%s', got '%s'", path, want, ok ? "(loaded)" : err);
    if (ok) wl_trace_free(t);
}

static void test_hostile_bytes(void) {
    expect_error(PUT("nul-comment.trace", V "# here \0 there\nfrob\n"), "nul-comment.trace:2: expected text, got a NUL byte at column 8");
    expect_error(PUT("nul-header.trace", "# memstrat\0-trace v1\n"), "nul-header.trace:1: expected text, got a NUL byte at column 11");
    expect_error(PUT("nul-op.trace", V "new 0 0\0junk\n"), "nul-op.trace:2: expected text");
    expect_error(PUT("esc.trace", V "fr\033[2Job 1\n"), "esc.trace:2: expected an op (new, set, drop, hold, collect, burst), got 'fr\\x1b[2Job'");
    char longtok[200] = V "new ";
    memset(longtok + strlen(longtok), '9', 100);
    strcat(longtok, " 0\n");
    expect_error(put("long.trace", longtok, strlen(longtok)), "got '9999999999999999999999999999999999999999...'");
    /* a comment longer than any buffer, with a NUL at its far end */
    size_t n = 5000;
    char *big = malloc(n);
    memset(big, '#', n);
    memcpy(big, V, strlen(V));
    big[n - 3] = '\0';
    big[n - 1] = '\n';
    expect_error(put("nul-far.trace", big, n), "nul-far.trace:2: expected text, got a NUL byte at column 4978");
    free(big);
}

static void test_special_files(void) {
    char fifo[256];
    snprintf(fifo, sizeof fifo, "%s/fifo.trace", dir);
    CHECK(mkfifo(fifo, 0600) == 0, "mkfifo: %s", strerror(errno));
    alarm(20); /* the old loader blocked here for ever */
    expect_error(fifo, "fifo.trace: expected a regular file, got a FIFO");
    alarm(0);
    expect_error(dir, ": expected a regular file, got a directory");
    expect_error("/dev/zero", "/dev/zero: expected a regular file, got a character device");
    unlink(fifo);
}

static void test_sparse_handles(void) {
    wl_tracefile *t = NULL;
    char err[512] = "";
    /* IDs first used in the order 9, 16777215, 3: dense indices by ID are 1, 2, 0 */
    const char *p = PUT("sparse.trace", V "new 9 1\nnew 16777215 1\nnew 3 0\nset 9 0 16777215\nhold 7 9 0\ndrop 16777215\ncollect 0\n");
    CHECK(wl_trace_load(p, &t, err, sizeof err), "sparse: %s", err);
    if (t == NULL) return;
    CHECK(t->handles == 4, "handle table of %u entries, want 4", t->handles);
    CHECK(t->nops == 7, "ops %zu", t->nops);
    if (t->nops == 7) {
        /* ranks: 3 -> 0, 7 -> 1, 9 -> 2, 16777215 -> 3 */
        CHECK(t->ops[0].a == 2 && t->ops[1].a == 3 && t->ops[2].a == 0, "new: %u %u %u", t->ops[0].a, t->ops[1].a,
              t->ops[2].a);
        CHECK(t->ops[3].a == 2 && t->ops[3].b == 3, "set: %u %u", t->ops[3].a, t->ops[3].b);
        CHECK(t->ops[4].a == 1 && t->ops[4].b == 2, "hold: %u %u", t->ops[4].a, t->ops[4].b);
        CHECK(t->ops[5].a == 3, "drop: %u", t->ops[5].a);
    }
    wl_trace_free(t);
    t = NULL;
    CHECK(wl_trace_load(PUT("far.trace", V "new 16777215 0\n"), &t, err, sizeof err) && t->handles == 1,
          "new 16777215 0: %s", err);
    wl_trace_free(t);
    /* a freed handle taken again keeps its index; the errors still name IDs */
    expect_error(PUT("twice.trace", V "new 70000 0\ndrop 70000\nnew 70000 0\nnew 70000 0\n"),
                 "twice.trace:5: expected handle 70000 to be free for 'new', but it is held");
    expect_error(PUT("unheld.trace", V "new 5 1\nset 5 0 12345\n"), "unheld.trace:3: expected handle 12345 to be held");
}

int main(void) {
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    test_hostile_bytes();
    test_special_files();
    test_sparse_handles();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return check_summary();
}
