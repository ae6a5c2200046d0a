/* pause_log.c — bounded pause event log; contract in pause_log.h.
 *
 * Invariant: events[0 .. len) are the first `len` events added, len <=
 * capacity, and len + dropped counts every add. The array is allocated once
 * in ms_pause_log_new; nothing on the add path allocates or makes a syscall.
 */
#include "pause_log.h"

#include "atomic_file.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Staging file next to the target, so rename() stays within one filesystem. */

struct ms_pause_log {
    size_t capacity;
    size_t len;
    size_t dropped;
    ms_pause_event *events; /* NULL when capacity is 0 */
};

/* All memory is taken here so that adding during a pause cannot allocate. */
ms_pause_log *ms_pause_log_new(size_t capacity) {
    ms_pause_log *log = calloc(1, sizeof *log);
    if (!log) return NULL;
    if (capacity) {
        log->events = calloc(capacity, sizeof *log->events);
        if (!log->events) {
            free(log);
            return NULL;
        }
    }
    log->capacity = capacity;
    return log;
}

void ms_pause_log_free(ms_pause_log *log) {
    if (!log) return;
    free(log->events);
    free(log);
}

/* Keep the first events rather than a ring of the last: the start of a run
 * (warm-up, first full collections) is what a timeline plot must not lose,
 * and the drop count says the tail is missing. */
void ms_pause_log_add(ms_pause_log *log, const ms_pause_event *ev) {
    if (log->len < log->capacity)
        log->events[log->len++] = *ev;
    else
        log->dropped++;
}

size_t ms_pause_log_len(const ms_pause_log *log) {
    return log->len;
}

size_t ms_pause_log_dropped(const ms_pause_log *log) {
    return log->dropped;
}

size_t ms_pause_log_capacity(const ms_pause_log *log) {
    return log->capacity;
}

/* Bounds-checked so a reader cannot walk into unused slots. */
const ms_pause_event *ms_pause_log_at(const ms_pause_log *log, size_t i) {
    return i < log->len ? &log->events[i] : NULL;
}

/* Signed difference in ms: an event stamped before t0 must not wrap around
 * to 1.8e13 ms on the plot. */
static double ms_pause_rel_ms(uint64_t t, uint64_t t0) {
    return t >= t0 ? (double)(t - t0) / 1e6 : -((double)(t0 - t) / 1e6);
}

/* Writes every row; separate from the tmp/rename dance so that one error
 * path cleans up for all failures. */
static int ms_pause_log_emit(const ms_pause_log *log, FILE *f, uint64_t t0_ns) {
    if (fprintf(f, "t_ms,duration_us,generation,collected\n") < 0) return -1;
    for (size_t i = 0; i < log->len; i++) {
        const ms_pause_event *e = &log->events[i];
        if (fprintf(f, "%.6f,%.3f,%d,%" PRIu64 "\n", ms_pause_rel_ms(e->start_ns, t0_ns), (double)e->duration_ns / 1e3,
                    e->generation, e->collected) < 0)
            return -1;
    }
    return 0;
}

typedef struct {
    const ms_pause_log *log;
    uint64_t t0_ns;
} ms_pause_emit_ctx;

static int ms_pause_emit_cb(FILE *f, void *arg) {
    ms_pause_emit_ctx *c = arg;
    return ms_pause_log_emit(c->log, f, c->t0_ns);
}

/* Atomic (ms_write_file_atomic): plot scripts may read while the driver works. */
int ms_pause_log_write_csv(const ms_pause_log *log, const char *path, uint64_t t0_ns) {
    ms_pause_emit_ctx c = {log, t0_ns};
    return ms_write_file_atomic(path, ms_pause_emit_cb, &c);
}
