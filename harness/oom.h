/* oom.h — running out of memory in `memstrat run` and `memstrat gcscan-measure`.
 *
 * Contract: whatever runs out, the process ends with ONE line on stderr naming
 * what ran out (and the cell), and exit status 1: no abort(), no core, no
 * uncaught C++ exception. Where a workload gets NULL from mm_new it fails its run
 * itself (its line, exit 1). Where the object model cannot go on without memory
 * (mm_set_oom_handler) or Google Benchmark's operator new fails
 * (std::set_new_handler, gbench_shim.cc), the handler first gives back an
 * emergency reserve of address space held since ms_oom_arm — so a cell that
 * failed under `ulimit -v` can still be reported — and stops the process with
 * the line when there is nothing left to give.
 */
#ifndef MS_OOM_H
#define MS_OOM_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Installs the handler of the object model; prefix starts the line ("memstrat run"). */
void ms_oom_init(const char *prefix);
/* Names what runs now (a cell spec; kept by pointer) and takes the reserve again
 * if it was given back (best effort). */
void ms_oom_arm(const char *context);
/* Gives the reserve back; false when there was none. */
bool ms_oom_release(void);
/* "PREFIX: out of memory: WHAT (CONTEXT)", stdout flushed, exit status 1. */
__attribute__((noreturn)) void ms_oom_stop(const char *what);

#ifdef __cplusplus
}
#endif

#endif
