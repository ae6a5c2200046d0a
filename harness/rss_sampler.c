/* rss_sampler.c — RSS timeline and peak; contract in rss_sampler.h.
 *
 * Invariant: under s->mu, buf[0 .. len) is sorted by t_ns, len <= cap <=
 * MS_RSS_MAX_SAMPLES, and max_rss >= every rss ever appended (kept or
 * decimated). The sampler thread and ms_rss_mark both go through
 * ms_rss_append_locked, which is the only writer of the buffer.
 *
 * Period 0: no thread; the timeline holds the marks alone (start, collection
 * ends, stop), which is what `--ms_rss_period_us=0` measures the sampler against.
 *
 * Cost: one pread of /proc/self/statm on an fd kept open (no open/close per
 * sample), done outside the lock; the lock only covers the append. The thread
 * sleeps on a condition variable with absolute CLOCK_MONOTONIC deadlines, so
 * the period does not drift and ms_rss_stop wakes it at once.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pthread_setaffinity_np, CPU_SET */
#endif
#include "rss_sampler.h"

#include "atomic_file.h"
#include "fork_gate.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* First buffer size: 4096 samples = 4 s at 1 ms, 64 KiB; doubles from there
 * so short cells stay small in the RSS they are measuring. */
#define MS_RSS_INITIAL_SAMPLES ((size_t)4096)
/* statm is seven decimal numbers; 128 bytes is ample. */
#define MS_RSS_STATM_BUF 128
/* Staging file next to the target, so rename() stays within one filesystem. */
/* /proc/self/status reports VmHWM in kB. */
#define MS_RSS_KB 1024ull
/* MiB for the CSV column rss_mb. */
#define MS_RSS_MIB (1024.0 * 1024.0)

typedef struct {
    uint64_t t_ns; /* CLOCK_MONOTONIC, absolute; t0 is subtracted on output */
    uint64_t rss;  /* bytes */
} ms_rss_sample;

struct ms_rss_sampler {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    int thread_live; /* joinable thread exists */
    int stopping;    /* set once by ms_rss_stop; marks are ignored after */
    int fd;          /* /proc/PID/statm, open for the sampler's lifetime */
    uint64_t page_size;
    uint64_t t0_ns;
    uint64_t period_ns; /* doubles at each decimation; 0: no thread */
    int cpu;            /* the thread's CPU; -1: the creator's affinity */
    uint64_t thread_cpu_ns; /* CPU time the thread used, set as it ends */
    uint64_t ticks;         /* samples the thread took */
    ms_rss_sample *buf;
    size_t len, cap;
    uint64_t max_rss;
    unsigned decimations;
};

/* Shared by the one-shot query and the sampler: pread at offset 0 rereads
 * the file without seeking, and is safe from several threads on one fd. */
static uint64_t ms_rss_read_statm(int fd, uint64_t page_size) {
    char buf[MS_RSS_STATM_BUF];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return 0;
    buf[n] = '\0';
    char *end;
    (void)strtoull(buf, &end, 10); /* size: skipped */
    unsigned long long resident = strtoull(end, NULL, 10);
    return (uint64_t)resident * page_size;
}

static uint64_t ms_rss_page_size(void) {
    long ps = sysconf(_SC_PAGESIZE);
    return ps > 0 ? (uint64_t)ps : 4096u;
}

/* Harness code calls this rarely (cell start/end), so open/close is fine. */
uint64_t ms_rss_current_bytes(void) {
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    uint64_t v = ms_rss_read_statm(fd, ms_rss_page_size());
    close(fd);
    return v;
}

/* VmHWM is the kernel's own high-water mark, so it sees peaks that fall
 * between two samples. */
uint64_t ms_rss_peak_bytes(void) {
    FILE *f = fopen("/proc/self/status", "re");
    if (!f) return 0;
    char line[256];
    uint64_t v = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmHWM:", 6) == 0) {
            v = (uint64_t)strtoull(line + 6, NULL, 10) * MS_RSS_KB;
            break;
        }
    }
    fclose(f);
    return v;
}

/* "5" resets only the peak (other values clear page-referenced bits). Soft
 * failure: containers and old kernels may refuse, and the caller notes it. */
int ms_rss_reset_peak(void) {
    int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = write(fd, "5", 1);
    int e = errno;
    close(fd);
    if (n != 1) {
        errno = (n < 0) ? e : EIO;
        return -1;
    }
    return 0;
}

/* Slow path of the append: halve the samples, keeping the larger RSS of each
 * adjacent pair so that peaks survive on the plot, and halve the rate. */
static void ms_rss_decimate_locked(ms_rss_sampler *s) {
    size_t j = 0;
    for (size_t i = 0; i + 1 < s->len; i += 2)
        s->buf[j++] = (s->buf[i + 1].rss > s->buf[i].rss) ? s->buf[i + 1] : s->buf[i];
    if (s->len % 2) s->buf[j++] = s->buf[s->len - 1];
    s->len = j;
    s->period_ns *= 2;
    s->decimations++;
}

/* Makes room for one more sample: grow while under the cap (and while memory
 * allows), otherwise decimate; either way memory stays bounded. */
static void ms_rss_reserve_locked(ms_rss_sampler *s) {
    if (s->len < s->cap) return;
    if (s->cap < MS_RSS_MAX_SAMPLES) {
        size_t ncap = s->cap * 2;
        if (ncap > MS_RSS_MAX_SAMPLES) ncap = MS_RSS_MAX_SAMPLES;
        ms_rss_sample *nb = realloc(s->buf, ncap * sizeof *nb);
        if (nb) {
            s->buf = nb;
            s->cap = ncap;
            return;
        }
    }
    ms_rss_decimate_locked(s);
}

/* Samples are read outside the lock, so a mark and a timer sample can arrive
 * out of order by a few ns; the backward insertion keeps buf sorted, and
 * almost always moves nothing. */
static void ms_rss_append_locked(ms_rss_sampler *s, uint64_t t_ns, uint64_t rss) {
    if (rss > s->max_rss) s->max_rss = rss;
    ms_rss_reserve_locked(s);
    size_t i = s->len;
    while (i > 0 && s->buf[i - 1].t_ns > t_ns) {
        s->buf[i] = s->buf[i - 1];
        i--;
    }
    s->buf[i].t_ns = t_ns;
    s->buf[i].rss = rss;
    s->len++;
}

/* One sample from the calling thread; the read is outside the lock so the
 * lock is held only for the append. No RSS (a child that exited) is no sample. */
static uint64_t ms_rss_sample_now(ms_rss_sampler *s, int even_if_stopping) {
    uint64_t t = ms_now_ns();
    uint64_t rss = ms_rss_read_statm(s->fd, s->page_size);
    if (rss == 0) return 0;
    ms_fork_gate_enter(); /* the append may grow the buffer: no fork meanwhile */
    pthread_mutex_lock(&s->mu);
    if (even_if_stopping || !s->stopping) ms_rss_append_locked(s, t, rss);
    pthread_mutex_unlock(&s->mu);
    ms_fork_gate_leave();
    return rss;
}

static void ms_rss_ns_to_timespec(uint64_t ns, struct timespec *ts) {
    ts->tv_sec = (time_t)(ns / MS_NS_PER_SEC);
    ts->tv_nsec = (long)(ns % MS_NS_PER_SEC);
}

/* Absolute deadlines: sampling cost does not accumulate into drift. Missed
 * ticks (the machine was busy) are skipped rather than caught up in a burst. */
static void *ms_rss_thread(void *arg) {
    ms_rss_sampler *s = arg;
    if (s->cpu >= 0) { /* best effort: a CPU outside the cpuset leaves the inherited mask */
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(s->cpu, &set);
        (void)pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    }
    pthread_mutex_lock(&s->mu);
    uint64_t next = ms_now_ns() + s->period_ns;
    while (!s->stopping) {
        struct timespec ts;
        ms_rss_ns_to_timespec(next, &ts);
        int rc = pthread_cond_timedwait(&s->cv, &s->mu, &ts);
        if (s->stopping) break;
        if (rc != ETIMEDOUT && ms_now_ns() < next) continue; /* spurious wake-up */
        pthread_mutex_unlock(&s->mu);
        ms_rss_sample_now(s, 0);
        pthread_mutex_lock(&s->mu);
        s->ticks++;
        uint64_t now = ms_now_ns();
        next += s->period_ns;
        if (next <= now) next = now + s->period_ns;
    }
    struct timespec cpu; /* the sampler's own cost, read where only it can be: in the thread */
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu) == 0)
        s->thread_cpu_ns = (uint64_t)cpu.tv_sec * MS_NS_PER_SEC + (uint64_t)cpu.tv_nsec;
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* The condition variable must time out on CLOCK_MONOTONIC like ms_now_ns;
 * the default (REALTIME) would jump with NTP or settimeofday. */
static int ms_rss_init_sync(ms_rss_sampler *s) {
    pthread_condattr_t ca;
    if (pthread_mutex_init(&s->mu, NULL) != 0) return -1;
    if (pthread_condattr_init(&ca) != 0) goto fail_mu;
    if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 || pthread_cond_init(&s->cv, &ca) != 0) {
        pthread_condattr_destroy(&ca);
        goto fail_mu;
    }
    pthread_condattr_destroy(&ca);
    return 0;
fail_mu:
    pthread_mutex_destroy(&s->mu);
    return -1;
}

/* The thread is created with all signals blocked so that process-directed
 * signals (SIGINT, timers) keep going to the benchmark's own threads, and has
 * finished starting before this returns, so no fork meets its start-up
 * (fork_gate.h). */
ms_rss_sampler *ms_rss_start(pid_t pid, unsigned period_us, uint64_t t0_ns, int cpu) {
    ms_rss_sampler *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    char path[64];
    if (pid > 0) snprintf(path, sizeof path, "/proc/%ld/statm", (long)pid);
    else snprintf(path, sizeof path, "/proc/self/statm");
    s->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (s->fd < 0) goto fail_free;
    s->buf = malloc(MS_RSS_INITIAL_SAMPLES * sizeof *s->buf);
    if (!s->buf) goto fail_fd;
    s->cap = MS_RSS_INITIAL_SAMPLES;
    s->page_size = ms_rss_page_size();
    s->t0_ns = t0_ns;
    s->period_ns = (uint64_t)period_us * 1000u;
    s->cpu = cpu;
    if (ms_rss_init_sync(s) != 0) goto fail_buf;

    ms_rss_sample_now(s, 0);
    if (period_us == 0) return s; /* marks only */

    int rc = ms_fork_gate_thread(&s->thread, ms_rss_thread, s);
    if (rc != 0) {
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
        errno = rc;
        goto fail_buf;
    }
    s->thread_live = 1;
    return s;

fail_buf:
    free(s->buf);
fail_fd : {
    int e = errno;
    close(s->fd);
    errno = e;
}
fail_free:
    free(s);
    return NULL;
}

/* Called at every collection end; the cost is one pread plus a short lock. */
uint64_t ms_rss_mark(ms_rss_sampler *s) { return s ? ms_rss_sample_now(s, 0) : 0; }

/* The buffer is sorted by time, so what goes is a prefix. */
void ms_rss_rebase(ms_rss_sampler *s, uint64_t t0_ns) {
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    size_t first = 0;
    while (first < s->len && s->buf[first].t_ns < t0_ns) first++;
    if (first > 0) first--; /* the last sample before t0 stays */
    memmove(s->buf, s->buf + first, (s->len - first) * sizeof *s->buf);
    s->len -= first;
    s->t0_ns = t0_ns;
    pthread_mutex_unlock(&s->mu);
}

/* Stop flag and signal under the lock, so the thread cannot miss the wake-up
 * between checking the flag and starting to wait. */
void ms_rss_stop(ms_rss_sampler *s) {
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    int was_stopping = s->stopping;
    s->stopping = 1;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    if (s->thread_live) {
        pthread_join(s->thread, NULL);
        s->thread_live = 0;
    }
    if (!was_stopping) ms_rss_sample_now(s, 1); /* closes the timeline at the stop time */
}

/* A sampler that failed to start (NULL) reads as empty: the harness may
 * carry on without an RSS timeline rather than crash in a pause callback.
 * The const accessors lock too (the struct is never defined const, so the
 * cast is sound): they may run while the thread appends. */
size_t ms_rss_len(const ms_rss_sampler *s) {
    if (!s) return 0;
    ms_rss_sampler *m = (ms_rss_sampler *)s;
    pthread_mutex_lock(&m->mu);
    size_t n = m->len;
    pthread_mutex_unlock(&m->mu);
    return n;
}

uint64_t ms_rss_max_sampled(const ms_rss_sampler *s) {
    if (!s) return 0;
    ms_rss_sampler *m = (ms_rss_sampler *)s;
    pthread_mutex_lock(&m->mu);
    uint64_t v = m->max_rss;
    pthread_mutex_unlock(&m->mu);
    return v;
}

unsigned ms_rss_decimations(const ms_rss_sampler *s) {
    if (!s) return 0;
    ms_rss_sampler *m = (ms_rss_sampler *)s;
    pthread_mutex_lock(&m->mu);
    unsigned v = m->decimations;
    pthread_mutex_unlock(&m->mu);
    return v;
}

uint64_t ms_rss_thread_cpu_ns(const ms_rss_sampler *s) {
    if (!s) return 0;
    ms_rss_sampler *m = (ms_rss_sampler *)s;
    pthread_mutex_lock(&m->mu);
    uint64_t v = m->thread_cpu_ns;
    pthread_mutex_unlock(&m->mu);
    return v;
}

static double ms_rss_rel_ms(uint64_t t, uint64_t t0) {
    return t >= t0 ? (double)(t - t0) / 1e6 : -((double)(t0 - t) / 1e6);
}

/* Rows only; the caller owns the tmp/rename protocol and its cleanup. */
static int ms_rss_emit(FILE *f, const ms_rss_sample *v, size_t n, uint64_t t0) {
    if (fprintf(f, "t_ms,rss_mb\n") < 0) return -1;
    for (size_t i = 0; i < n; i++)
        if (fprintf(f, "%.3f,%.3f\n", ms_rss_rel_ms(v[i].t_ns, t0), (double)v[i].rss / MS_RSS_MIB) < 0) return -1;
    return 0;
}

typedef struct {
    const ms_rss_sample *v;
    size_t n;
    uint64_t t0;
} ms_rss_emit_ctx;

static int ms_rss_emit_cb(FILE *f, void *arg) {
    ms_rss_emit_ctx *c = arg;
    return ms_rss_emit(f, c->v, c->n, c->t0);
}

/* Copy under the lock, write without it: file I/O must not stall a mark
 * issued from inside a collection. Written atomically (ms_write_file_atomic). */
int ms_rss_write_csv(const ms_rss_sampler *s, const char *path) {
    if (!s) {
        errno = EINVAL;
        return -1;
    }
    ms_rss_sampler *m = (ms_rss_sampler *)s;
    pthread_mutex_lock(&m->mu);
    size_t n = m->len;
    ms_rss_sample *copy = malloc((n ? n : 1) * sizeof *copy);
    if (copy && n) memcpy(copy, m->buf, n * sizeof *copy);
    uint64_t t0 = m->t0_ns;
    pthread_mutex_unlock(&m->mu);
    if (!copy) {
        errno = ENOMEM;
        return -1;
    }
    ms_rss_emit_ctx c = {copy, n, t0};
    int rc = ms_write_file_atomic(path, ms_rss_emit_cb, &c);
    int e = errno;
    free(copy);
    errno = e;
    return rc;
}

void ms_rss_free(ms_rss_sampler *s) {
    if (!s) return;
    ms_rss_stop(s);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    close(s->fd);
    free(s->buf);
    free(s);
}
