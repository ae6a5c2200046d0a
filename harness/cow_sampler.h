/* cow_sampler.h — memory of forked workers over time: what copy-on-write costs.
 *
 * Contract: a workload that forks names each worker (workload.h's worker sink):
 * ms_cow_add starts sampling that pid, ms_cow_end takes its final sample in the
 * caller's thread and stops sampling it (the worker is still alive then). A
 * sampler thread reads /proc/PID/smaps_rollup of every worker being sampled
 * every period (MS_COW_PERIOD_US, stretched so that reading costs at most
 * 1/MS_COW_DUTY of the time): Private_Dirty, Shared_Clean + Shared_Dirty, Pss. Samples carry
 * ms_now_ns timestamps, so they share the RSS timeline's origin t0.
 * Invariant: memory is bounded (MS_COW_MAX_SAMPLES timeline samples; past that
 * the timer's samples are dropped, the final ones never); workers are numbered
 * 0.. in the order added.
 *
 * Units: bytes in the API; the CSV columns are MiB.
 */
#ifndef MS_COW_SAMPLER_H
#define MS_COW_SAMPLER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Timeline samples kept: 1M x 40 bytes = 40 MiB at most, hours at the period below. */
#define MS_COW_MAX_SAMPLES ((size_t)1 << 20)
/* Shortest sampling period. smaps_rollup walks the worker's page tables under
 * its mmap lock, which is slow on a VM (measured here: ~12 ms for a 200 MB
 * process), so the period also stretches to MS_COW_DUTY x the last round's time. */
#define MS_COW_PERIOD_US 10000u
/* The sampler reads at most 1/MS_COW_DUTY of the time: <= 5% of a core, and each
 * worker's mmap lock free of it 95% of the time (instrumentation must not be
 * what the workers wait for). */
#define MS_COW_DUTY 20u
/* Workers followed at once (prefork's `workers` bound). */
#define MS_COW_MAX_WORKERS 64

typedef struct ms_cow_sampler ms_cow_sampler;

/* One reading of a worker's smaps_rollup, in bytes. */
typedef struct ms_cow_mem {
    uint64_t private_dirty, shared, pss;
} ms_cow_mem;

/* A sampler with no worker yet (the thread starts with the first); NULL when memory ran out. */
ms_cow_sampler *ms_cow_new(uint64_t t0_ns);
/* Starts following pid; false when MS_COW_MAX_WORKERS are followed already. */
bool ms_cow_add(ms_cow_sampler *s, pid_t pid);
/* The worker's final sample, now, then it is no longer followed. */
void ms_cow_end(ms_cow_sampler *s, pid_t pid);
/* The same with a final sample the worker took itself (an interpreter's worker, whose
 * figures come on the probe's pipe: it may have exited by the time the line is read). */
void ms_cow_end_with(ms_cow_sampler *s, pid_t pid, const ms_cow_mem *final);
/* The time origin of the CSV, when it is known only later (an interpreter's `begin`). */
void ms_cow_set_t0(ms_cow_sampler *s, uint64_t t0_ns);
/* Stops and joins the thread (idempotent). */
void ms_cow_stop(ms_cow_sampler *s);
/* Workers added, and how many of them have a final sample. */
int ms_cow_workers(const ms_cow_sampler *s);
/* Worker i's final sample; false if it has none. */
bool ms_cow_final(const ms_cow_sampler *s, int i, ms_cow_mem *out);
/* CSV "t_ms,worker,private_mb,shared_mb,pss_mb", time order, atomically written. 0 or -1. */
int ms_cow_write_csv(const ms_cow_sampler *s, const char *path);
/* Stops it, then frees it; NULL allowed. */
void ms_cow_free(ms_cow_sampler *s);

/* Reads /proc/PID/smaps_rollup (0: this process); false if unreadable. */
bool ms_cow_read(pid_t pid, ms_cow_mem *out);

#endif
