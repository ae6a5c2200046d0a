/* rss_sampler.h — resident set size over time, and the peak.
 *
 * Contract: a sampler thread reads /proc/PID/statm (resident pages x page
 * size) of this process or of a child every period_us microseconds;
 * ms_rss_mark adds a sample from any thread (the harness calls it at every
 * collection end). Samples are kept in time order with timestamps from
 * ms_now_ns (ms_clock.h), so they share the pause log's time origin t0. A read
 * that fails or gives 0 (the child has exited) is not a sample.
 * Invariant: memory is bounded. The buffer grows by doubling up to
 * MS_RSS_MAX_SAMPLES; when full it is decimated in place (each adjacent pair
 * keeps its larger-RSS sample, so peaks survive) and the timer period doubles.
 * The timeline then still covers the whole run at coarser resolution, and
 * ms_rss_max_sampled stays exact over every sample ever taken.
 *
 * NULL tolerance: every function taking a sampler accepts NULL (what a failed
 * ms_rss_start returns) and does nothing / reports 0; write_csv gives EINVAL.
 *
 * Units: bytes in the API; the CSV column rss_mb is MiB (2^20 bytes).
 * Peak: VmHWM from /proc/self/status, after ms_rss_reset_peak at cell start
 * (getrusage's maxrss survives fork and exec, so it is wrong for a child).
 * Both statm and VmHWM are read from the kernel's per-CPU batched counters,
 * so a sample and the peak can disagree by a few hundred KiB.
 */
#ifndef MS_RSS_SAMPLER_H
#define MS_RSS_SAMPLER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ms_clock.h"

/* Samples kept before decimation: 2M x 16 bytes = 32 MiB at most, i.e. about
 * 33 minutes at 1 ms before the first halving. */
#define MS_RSS_MAX_SAMPLES ((size_t)2 * 1024 * 1024)

typedef struct ms_rss_sampler ms_rss_sampler;

/* Writes "5" to /proc/self/clear_refs, resetting VmHWM to the current RSS.
 * Returns 0, or -1 with errno (some kernels/containers refuse: the caller
 * records that the peak then covers the process lifetime). */
int ms_rss_reset_peak(void);
/* Current RSS in bytes from /proc/self/statm; 0 if unreadable. */
uint64_t ms_rss_current_bytes(void);
/* VmHWM from /proc/self/status in bytes; 0 if unreadable. */
uint64_t ms_rss_peak_bytes(void);

/* Starts the sampler thread on process pid (0: this process) every period_us
 * (0: no thread, marks only) on CPU cpu (-1: wherever the caller may run) and
 * takes a first sample at once. t0_ns is the common time origin (ms_now_ns)
 * used for the CSV. NULL with errno on failure. */
ms_rss_sampler *ms_rss_start(pid_t pid, unsigned period_us, uint64_t t0_ns, int cpu);
/* One extra sample now, from the calling thread; thread-safe. A pread of
 * statm costs about a microsecond. Returns the RSS read (0: none). No-op
 * after ms_rss_stop. */
uint64_t ms_rss_mark(ms_rss_sampler *s);
/* A new time origin, known only once the sampled process says when its work
 * began: samples before t0_ns are dropped except the last one (the RSS the
 * work started from); ms_rss_max_sampled still covers them. */
void ms_rss_rebase(ms_rss_sampler *s, uint64_t t0_ns);
/* Takes a last sample, stops and joins the thread. Idempotent. Samples
 * stay readable until ms_rss_free. */
void ms_rss_stop(ms_rss_sampler *s);

/* Samples currently kept (after any decimation). */
size_t ms_rss_len(const ms_rss_sampler *s);
/* Largest RSS seen by any sample, including decimated ones. */
uint64_t ms_rss_max_sampled(const ms_rss_sampler *s);
/* CPU time the sampler thread used, all of it (known once ms_rss_stop joined it;
 * 0 before, and without a thread): its own cost, whatever else the machine runs. */
uint64_t ms_rss_thread_cpu_ns(const ms_rss_sampler *s);
/* How many times the buffer was halved (0 for runs under ~33 min at 1 ms). */
unsigned ms_rss_decimations(const ms_rss_sampler *s);

/* CSV "t_ms,rss_mb", samples in time order (timer and mark samples merged),
 * t_ms relative to t0_ns. tmp file + fsync + rename. Safe while running.
 * Returns 0, or -1 with errno. */
int ms_rss_write_csv(const ms_rss_sampler *s, const char *path);

/* Stops the sampler if running, then frees it. NULL is allowed. */
void ms_rss_free(ms_rss_sampler *s);

#endif /* MS_RSS_SAMPLER_H */
