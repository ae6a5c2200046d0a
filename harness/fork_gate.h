/* fork_gate.h — keeps the harness's sampler threads out of the allocator while the
 * measured thread forks (prefork's workers).
 *
 * Why: fork() copies one thread. A sampler thread caught inside the allocator
 * leaves the allocator's lock held in the child, and the child's first
 * allocation from that size class waits forever. glibc's malloc guards against
 * that itself; ASan's allocator (gcc 12) does not, and prefork cells hung under
 * the sanitizer build. A sampler allocates in two places: its own work (growing
 * its buffer, fopen of /proc/PID/smaps_rollup), and its start-up, before any of
 * its code runs (ASan's thread start reads the thread's stack with
 * pthread_getattr_np, which callocs and frees: seen by gdb, class 14 of ASan's
 * allocator, the class both hung workers waited on).
 *
 * Contract: a sampler brackets every stretch that may allocate with
 * ms_fork_gate_enter/leave (cheap: one uncontended mutex); the first enter
 * registers pthread_atfork handlers that take the gate before any fork and give
 * it back after it, in parent and child. A sampler thread is started with
 * ms_fork_gate_thread, which returns only once the thread runs its function.
 * Invariant: while a fork runs, no sampler thread is between enter and leave,
 * nor in its start-up. (Its exit is its owner's join, which no fork overlaps.)
 */
#ifndef MS_FORK_GATE_H
#define MS_FORK_GATE_H

#include <pthread.h>

void ms_fork_gate_enter(void);
void ms_fork_gate_leave(void);

/* pthread_create(t, NULL, fn, arg) with every signal blocked in the new thread
 * (process-directed signals stay with the benchmark's threads); waits until fn
 * is about to run. Returns pthread_create's error, 0 on success. */
int ms_fork_gate_thread(pthread_t *t, void *(*fn)(void *), void *arg);

#endif
