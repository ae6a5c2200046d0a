/* fork_gate.h — keeps the harness's sampler threads out of the allocator while the
 * measured thread forks (prefork's workers).
 *
 * Why: fork() copies one thread. A sampler thread caught inside malloc (growing its
 * buffer, fopen of /proc/PID/smaps_rollup) leaves the allocator's lock held in the
 * child, and the child's first allocation waits forever. glibc's malloc guards
 * against that itself; ASan's allocator (gcc 12) does not, and prefork cells hung
 * under the sanitizer build.
 *
 * Contract: a sampler brackets every stretch that may allocate with
 * ms_fork_gate_enter/leave (cheap: one uncontended mutex); the first enter
 * registers pthread_atfork handlers that take the gate before any fork and give
 * it back after it, in parent and child. Invariant: while a fork runs, no
 * sampler thread is between enter and leave.
 */
#ifndef MS_FORK_GATE_H
#define MS_FORK_GATE_H

void ms_fork_gate_enter(void);
void ms_fork_gate_leave(void);

#endif
