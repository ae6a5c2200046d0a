/* gbench_shim.h — a C face on Google Benchmark (the one C++ file of memstrat).
 *
 * Contract: ms_gb_init consumes every --benchmark_* flag from argv (the rest are
 * left for the caller, in order); ms_gb_register adds one benchmark that runs
 * exactly one iteration per repetition with manual time — the cell sets the
 * iteration time itself, so setup and the leak check stay outside the timing;
 * ms_gb_run runs them with Google Benchmark's own reporters (console, json,
 * --benchmark_out files, repetitions and aggregates all behave as documented).
 */
#ifndef MS_GBENCH_SHIM_H
#define MS_GBENCH_SHIM_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ms_gb_state ms_gb_state;
typedef void (*ms_gb_fn)(ms_gb_state *st, void *arg);

/* Checks the values of the Google Benchmark flags in argv (and of their
 * BENCHMARK_* environment defaults) that it would take badly: repetitions an
 * integer in 1..100000, format and out_format console|json|csv, min_time a
 * number >= 0, bools true|false, the filter a regular expression, --benchmark_out
 * a regular file or a new path (ms_output_target_ok), ... . Call before
 * ms_gb_init; false with one line in err. Flags it does not know pass untouched. */
bool ms_gb_check_flags(int argc, char **argv, char *err, size_t errlen);
/* Parses and removes Google Benchmark's flags; returns the new argc. From here
 * on, operator new failing ends the process with one line (oom.h). */
int ms_gb_init(int argc, char **argv);
/* After ms_gb_init: whether --benchmark_filter selects any of the n benchmarks
 * that ms_gb_register will be given these names (Google Benchmark's own rule). */
bool ms_gb_filter_matches(const char *const *names, int n);
/* The --benchmark_filter in force (after ms_gb_init). */
const char *ms_gb_filter(void);
void ms_gb_register(const char *name, ms_gb_fn fn, void *arg);
/* The benchmark loop: true while the iteration should run. */
bool ms_gb_keep_running(ms_gb_state *st);
void ms_gb_set_iteration_time(ms_gb_state *st, double seconds);
/* A user counter reported as a plain value (no rate, no averaging). */
void ms_gb_counter(ms_gb_state *st, const char *name, double value);
void ms_gb_skip_with_error(ms_gb_state *st, const char *message);
/* Runs all registered benchmarks; returns how many ran. */
size_t ms_gb_run(void);
void ms_gb_shutdown(void);

#ifdef __cplusplus
}
#endif

#endif
