/* atomic_file.h — the one way the harness writes an output file.
 *
 * Contract: ms_write_file_atomic writes through emit() into "<path>.tmp", flushes,
 * fsyncs and renames it over path, so a reader (the plot step, a later run) or a
 * crash only ever sees the old file or the whole new one. On failure the tmp file
 * is removed, errno says why, and -1 is returned; path is untouched.
 */
#ifndef MS_ATOMIC_FILE_H
#define MS_ATOMIC_FILE_H

#include <stdio.h>

/* Writes the content; returns 0, or -1 on a write error. */
typedef int (*ms_emit_fn)(FILE *f, void *ctx);

int ms_write_file_atomic(const char *path, ms_emit_fn emit, void *ctx);

#endif
