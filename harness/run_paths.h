/* run_paths.h — where `memstrat run` writes its optional outputs, checked before
 * anything runs.
 *
 * Contract: with one cell, --ms_timeline=X writes X (and the live-bytes timeline
 * beside it, X.csv -> X.live.csv); with several, cell k writes X with ".k" before
 * the extension. ms_run_check_outputs checks every path a run may write
 * (ms_output_target_ok: a regular file or a new path in an existing directory),
 * so a FIFO, a device, a symbolic link or a missing directory is refused with one
 * line (exit 2) before the first workload starts, not reported after it.
 */
#ifndef MS_RUN_PATHS_H
#define MS_RUN_PATHS_H

#include <stdbool.h>
#include <stddef.h>

/* Cell k's file for an output path shared by several cells (several: k counts). */
void ms_run_output_path(char *out, size_t outlen, const char *path, int index, bool several);
/* The live-bytes timeline beside a timeline path: X.csv -> X.live.csv, and
 * X.csv.part -> X.live.csv.part (the bench driver's name until a rep succeeds). */
void ms_run_live_path(char *out, size_t outlen, const char *timeline_path);
/* Any twin of a timeline path: X.csv -> X.KIND.csv (and .part as above); the
 * pressure events of policy=pressure are X.pressure.csv, prefork's workers' memory X.cow.csv. */
void ms_run_twin_path(char *out, size_t outlen, const char *timeline_path, const char *kind);
/* Every path ncells cells may write; NULL paths are not written. false: one line in err. */
bool ms_run_check_outputs(const char *timeline, const char *pauses, const char *latency, int ncells, char *err,
                          size_t errlen);

#endif
