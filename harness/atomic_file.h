/* atomic_file.h — the one way the harness writes an output file.
 *
 * Contract: ms_write_file_atomic writes through emit() into "<path>.tmp", flushes,
 * fsyncs and renames it over path, so a reader (the plot step, a later run) or a
 * crash only ever sees the old file or the whole new one. On failure the tmp file
 * is removed, errno says why, and -1 is returned; path is untouched.
 *
 * Only a regular file is ever replaced: a FIFO, a device, a directory or a
 * symbolic link at path (or at "<path>.tmp") is left alone and the write fails
 * with EEXIST — a run as root must not turn /dev/null into a file. Commands check
 * their outputs with ms_output_target_ok before anything runs, so this is the
 * second line of defence, not the error a user sees.
 */
#ifndef MS_ATOMIC_FILE_H
#define MS_ATOMIC_FILE_H

#include <stdbool.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Writes the content; returns 0, or -1 on a write error. */
typedef int (*ms_emit_fn)(FILE *f, void *ctx);

int ms_write_file_atomic(const char *path, ms_emit_fn emit, void *ctx);

/* Whether path may receive an output: an existing regular file (replaced) or a
 * new name in an existing, writable directory. false: one line in err, "WHAT:
 * 'PATH' is a FIFO ..." (what names the option), naming the path and what it is. */
bool ms_output_target_ok(const char *path, const char *what, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
