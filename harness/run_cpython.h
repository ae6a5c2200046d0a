/* run_cpython.h — a cell that runs in an interpreter (`cpython`): its rules, and the
 * strict reader of what its probe writes. The contract with the probe is
 * tools/twins/PROTOCOL.md; run_cpython.c says how the harness keeps its side.
 */
#ifndef MS_RUN_CPYTHON_H
#define MS_RUN_CPYTHON_H

#include "cell.h"
#include "measure.h"

/* Environment variable naming the directory of probe.py and the twins (default:
 * the source tree's tools/twins): tests point it at stand-in probes. */
#define MS_TWINS_ENV "MEMSTRAT_TWINS_DIR"

/* The rules of an interpreter cell, checked before anything runs: an allocator
 * the interpreter can run on, the probe and the workload's twin present, and
 * `python=` resolved to an executable (into c->interp). false with one line. */
bool ms_cpython_cell_check(ms_cell *c, char *err, size_t errlen);

/* What the reader knows between two lines. */
typedef struct ms_probe {
    int line;          /* lines read so far */
    unsigned seen;     /* one bit per record that may come once */
    unsigned gc_seen;  /* one bit per generation of `gc` lines */
    uint64_t start_ns; /* the child's start: begin and end lie between it and their line */
    bool done, failed; /* `done` read; an `error` line read (its text in error) */
    char version[32], malloc_base[64], error[512];
} ms_probe;

/* One line (without its '\n') into m; false with the reason (one line) when it
 * breaks the protocol. now_ns: when it was read (ms_now_ns). */
bool ms_probe_line(ms_probe *p, ms_measurement *m, const char *line, uint64_t now_ns, char *why, size_t whylen);
/* After `done` (and no `error`): every record a finished run owes is there, and
 * the interpreter is the cell's (version, malloc); false with the reason. */
bool ms_probe_complete(const ms_probe *p, const ms_cell *c, const ms_measurement *m, char *why, size_t whylen);

#endif
