/* cow_sampler.c — forked workers' memory over time; contract in cow_sampler.h.
 *
 * Invariant: under s->mu, buf[0 .. len) is in time order (appends come from
 * the thread and from ms_cow_end, each stamped after its read, under the lock,
 * so out-of-order arrivals are inserted backwards as rss_sampler.c does),
 * len <= cap <= MS_COW_MAX_SAMPLES; live[i] says whether worker i is followed.
 * The reads are done outside the lock: only appends hold it.
 */
#include "cow_sampler.h"
#include "fork_gate.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "atomic_file.h"
#include "ms_clock.h"

/* smaps_rollup reports kB. */
#define MS_COW_KB 1024ull
/* First buffer: 4096 samples (40 s of two workers at 10 ms); doubles from there. */
#define MS_COW_INITIAL ((size_t)4096)
#define MS_COW_MIB (1024.0 * 1024.0)

typedef struct ms_cow_sample {
    uint64_t t_ns;
    int worker;
    ms_cow_mem mem;
} ms_cow_sample;

struct ms_cow_sampler {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    bool thread_live, stopping;
    uint64_t t0_ns;
    int nworkers;
    pid_t pid[MS_COW_MAX_WORKERS];
    bool live[MS_COW_MAX_WORKERS], has_final[MS_COW_MAX_WORKERS];
    ms_cow_mem final[MS_COW_MAX_WORKERS];
    ms_cow_sample *buf;
    size_t len, cap;
};

/* Three fields of the rollup; the rest of the file is skipped. */
bool ms_cow_read(pid_t pid, ms_cow_mem *out) {
    char path[64];
    if (pid > 0) snprintf(path, sizeof path, "/proc/%ld/smaps_rollup", (long)pid);
    else snprintf(path, sizeof path, "/proc/self/smaps_rollup");
    FILE *f = fopen(path, "re");
    if (f == NULL) return false;
    char line[256];
    unsigned long long v;
    int seen = 0;
    *out = (ms_cow_mem){0};
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "Private_Dirty: %llu kB", &v) == 1) out->private_dirty = v * MS_COW_KB, seen |= 1;
        else if (sscanf(line, "Shared_Clean: %llu kB", &v) == 1) out->shared += v * MS_COW_KB, seen |= 2;
        else if (sscanf(line, "Shared_Dirty: %llu kB", &v) == 1) out->shared += v * MS_COW_KB, seen |= 4;
        else if (strncmp(line, "Pss:", 4) == 0 && sscanf(line, "Pss: %llu kB", &v) == 1) out->pss = v * MS_COW_KB, seen |= 8;
    }
    fclose(f);
    return seen == 15;
}

/* Grows while under the cap; a full buffer drops the timer's sample (final
 * samples are kept in final[] as well, so no counter loses anything). */
static void append_locked(ms_cow_sampler *s, uint64_t t, int worker, const ms_cow_mem *m) {
    if (s->len == s->cap) {
        if (s->cap >= MS_COW_MAX_SAMPLES) return;
        size_t ncap = s->cap ? s->cap * 2 : MS_COW_INITIAL;
        ms_cow_sample *nb = realloc(s->buf, ncap * sizeof *nb);
        if (nb == NULL) return;
        s->buf = nb;
        s->cap = ncap;
    }
    size_t i = s->len++;
    while (i > 0 && s->buf[i - 1].t_ns > t) {
        s->buf[i] = s->buf[i - 1];
        i--;
    }
    s->buf[i] = (ms_cow_sample){t, worker, *m};
}

/* One round: every followed worker, read outside the lock. */
static void sample_round(ms_cow_sampler *s) {
    pthread_mutex_lock(&s->mu);
    int n = s->nworkers;
    pid_t pids[MS_COW_MAX_WORKERS];
    bool live[MS_COW_MAX_WORKERS];
    memcpy(pids, s->pid, sizeof pids);
    memcpy(live, s->live, sizeof live);
    pthread_mutex_unlock(&s->mu);
    for (int i = 0; i < n; i++) {
        ms_cow_mem m;
        ms_fork_gate_enter(); /* fopen and the append allocate: no fork meanwhile */
        if (live[i] && ms_cow_read(pids[i], &m)) {
            uint64_t t = ms_now_ns();
            pthread_mutex_lock(&s->mu);
            if (s->live[i]) append_locked(s, t, i, &m); /* not after its final sample */
            pthread_mutex_unlock(&s->mu);
        }
        ms_fork_gate_leave();
    }
}

static void *cow_thread(void *arg) {
    ms_cow_sampler *s = arg;
    uint64_t cost = 0; /* the last round's reading time */
    for (;;) {
        pthread_mutex_lock(&s->mu);
        uint64_t wait = (uint64_t)MS_COW_PERIOD_US * 1000u;
        if (cost * MS_COW_DUTY > wait) wait = cost * MS_COW_DUTY;
        uint64_t next = ms_now_ns() + wait;
        struct timespec ts = {(time_t)(next / MS_NS_PER_SEC), (long)(next % MS_NS_PER_SEC)};
        while (!s->stopping && pthread_cond_timedwait(&s->cv, &s->mu, &ts) != ETIMEDOUT) {
        }
        bool stop = s->stopping;
        pthread_mutex_unlock(&s->mu);
        if (stop) return NULL;
        uint64_t t = ms_now_ns();
        sample_round(s);
        cost = ms_now_ns() - t;
    }
}

ms_cow_sampler *ms_cow_new(uint64_t t0_ns) {
    ms_cow_sampler *s = calloc(1, sizeof *s);
    if (s == NULL) return NULL;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* ms_now_ns's clock */
    if (pthread_mutex_init(&s->mu, NULL) != 0 || pthread_cond_init(&s->cv, &ca) != 0) {
        pthread_condattr_destroy(&ca);
        free(s);
        return NULL;
    }
    pthread_condattr_destroy(&ca);
    s->t0_ns = t0_ns;
    return s;
}

/* The thread starts with the first worker, its signals blocked, and has finished
 * starting before the worker's next sibling is forked (fork_gate.h). */
bool ms_cow_add(ms_cow_sampler *s, pid_t pid) {
    if (s == NULL) return false;
    pthread_mutex_lock(&s->mu);
    bool ok = s->nworkers < MS_COW_MAX_WORKERS && !s->stopping;
    if (ok) {
        s->pid[s->nworkers] = pid;
        s->live[s->nworkers++] = true;
    }
    bool start = ok && !s->thread_live;
    if (start) s->thread_live = ms_fork_gate_thread(&s->thread, cow_thread, s) == 0;
    pthread_mutex_unlock(&s->mu);
    return ok;
}

/* One worker's end: its final sample (NULL: none could be read) kept, and no more sampling. */
static void end_worker(ms_cow_sampler *s, pid_t pid, const ms_cow_mem *m) {
    uint64_t t = ms_now_ns();
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->nworkers; i++) {
        if (s->pid[i] != pid || !s->live[i]) continue;
        if (m != NULL) {
            append_locked(s, t, i, m);
            s->final[i] = *m;
            s->has_final[i] = true;
        }
        s->live[i] = false;
    }
    pthread_mutex_unlock(&s->mu);
}

void ms_cow_end(ms_cow_sampler *s, pid_t pid) {
    if (s == NULL) return;
    ms_cow_mem m;
    end_worker(s, pid, ms_cow_read(pid, &m) ? &m : NULL);
}

void ms_cow_end_with(ms_cow_sampler *s, pid_t pid, const ms_cow_mem *final) {
    if (s != NULL) end_worker(s, pid, final);
}

void ms_cow_set_t0(ms_cow_sampler *s, uint64_t t0_ns) {
    if (s == NULL) return;
    pthread_mutex_lock(&s->mu);
    s->t0_ns = t0_ns;
    pthread_mutex_unlock(&s->mu);
}

void ms_cow_stop(ms_cow_sampler *s) {
    if (s == NULL) return;
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    if (s->thread_live) {
        pthread_join(s->thread, NULL);
        s->thread_live = false;
    }
}

int ms_cow_workers(const ms_cow_sampler *s) { return s ? s->nworkers : 0; }

bool ms_cow_final(const ms_cow_sampler *s, int i, ms_cow_mem *out) {
    if (s == NULL || i < 0 || i >= s->nworkers || !s->has_final[i]) return false;
    *out = s->final[i];
    return true;
}

static int emit_cow(FILE *f, void *arg) {
    const ms_cow_sampler *s = arg;
    fputs("t_ms,worker,private_mb,shared_mb,pss_mb\n", f);
    for (size_t i = 0; i < s->len; i++) {
        const ms_cow_sample *x = &s->buf[i];
        double t = x->t_ns >= s->t0_ns ? (double)(x->t_ns - s->t0_ns) / 1e6 : 0;
        fprintf(f, "%.3f,%d,%.3f,%.3f,%.3f\n", t, x->worker, (double)x->mem.private_dirty / MS_COW_MIB,
                (double)x->mem.shared / MS_COW_MIB, (double)x->mem.pss / MS_COW_MIB);
    }
    return ferror(f) ? -1 : 0;
}

/* Written after ms_cow_stop: no thread appends any more. */
int ms_cow_write_csv(const ms_cow_sampler *s, const char *path) {
    if (s == NULL) {
        errno = EINVAL;
        return -1;
    }
    return ms_write_file_atomic(path, emit_cow, (void *)s);
}

void ms_cow_free(ms_cow_sampler *s) {
    if (s == NULL) return;
    ms_cow_stop(s);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s->buf);
    free(s);
}
