/* oom.c — one line and exit 1 when memory runs out; see oom.h. */
#include "oom.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mm.h"

/* Address space held back for the report of a cell that ran out: Google
 * Benchmark's result strings and our counters need well under 1 MiB, and glibc
 * maps at least 1 MiB when brk cannot grow. Never touched, so it costs no RSS
 * and no page faults; only `ulimit -v` sees it. */
#define MS_OOM_RESERVE (8u << 20)

static void *reserve;
static const char *prefix = "memstrat";
static const char *context;

/* The object model's handler: the reserve once, then the line. */
static bool on_model_oom(const char *what) {
    if (ms_oom_release()) return true;
    ms_oom_stop(what);
}

void ms_oom_init(const char *p) {
    prefix = p;
    mm_set_oom_handler(on_model_oom);
}

void ms_oom_arm(const char *ctx) {
    context = ctx;
    if (reserve != NULL) return;
    void *m = mmap(NULL, MS_OOM_RESERVE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    reserve = m == MAP_FAILED ? NULL : m;
}

bool ms_oom_release(void) {
    if (reserve == NULL) return false;
    munmap(reserve, MS_OOM_RESERVE);
    reserve = NULL;
    return true;
}

/* Built in a static buffer and written with write(2): nothing here allocates. */
void ms_oom_stop(const char *what) {
    static char line[1400];
    fflush(stdout);
    int n = context ? snprintf(line, sizeof line, "%s: out of memory: %s (%s)\n", prefix, what, context)
                    : snprintf(line, sizeof line, "%s: out of memory: %s\n", prefix, what);
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof line) {
        n = (int)sizeof line - 1;
        line[n - 1] = '\n';
    }
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
    _exit(1);
}
