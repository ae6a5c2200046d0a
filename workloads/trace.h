/* trace.h — the `trace` workload: replays a trace file op by op.
 *
 * Contract: wl_trace_load reads a trace file (format: tools/TRACE_FORMAT.md),
 * validates ALL of it — syntax, numbers, and the meaning of every op (handles
 * held or free, slots in range, `hold` never reading None) by simulating the
 * object graph without a heap — and returns a compact array of fixed-size ops.
 * A trace that loads can therefore never fail while it runs (short of running
 * out of memory), and the same file gives the same heap operations under every
 * strategy, and in CPython through tools/cpython_replay.py.
 *
 * A malformed trace gets one line in err: "trace FILE:LINE: expected ...", with
 * FILE and any quoted token escaped (mm_escape). Only a regular file is read
 * (opened without blocking, so a FIFO is refused at once), and a NUL byte on any
 * line, comments included, is refused.
 * wl_trace_prepare is the workload's `check`, so the CLI loads the trace while
 * validating the cell, before any timing starts: a bad trace is bad input
 * (exit 2) rather than a failed run (exit 1), and the parse stays out of the
 * timed region (see trace.c).
 *
 * Invariant of a loaded trace: replaying ops[0..nops) from an empty handle
 * table only touches held handles, stores into declared slots, and leaves
 * some handles held (run() drops them, in ascending order, at the end).
 */
#ifndef WL_TRACE_H
#define WL_TRACE_H

#include "workload.h"

/* Slots per object: 16 covers the objects the generator makes (lists, trees
 * with parent links, graph nodes) and keeps the slot in one byte. */
#define WL_TRACE_MAX_SLOTS 16
/* Handle IDs are below 2^24 (a format rule). The loader numbers the handles a
 * trace uses densely, in ID order, so the table run() builds (and times) holds
 * one entry per handle used, whatever the IDs: `new 16777215 0` costs one op. */
#define WL_TRACE_MAX_HANDLES (1u << 24)
/* Most objects one `burst` makes (10^7: ~0.5 GB under slots, past any test). */
#define WL_TRACE_MAX_BURST 10000000u
/* The `b` of a `set` that stores None. */
#define WL_TRACE_NONE UINT32_MAX
/* First line of every trace; anything else is refused (version check). */
#define WL_TRACE_MAGIC "# memstrat-trace v1"

typedef enum {
    WL_TRACE_NEW,     /* new A K:        held[A] = a new object with K slots */
    WL_TRACE_SET,     /* set A SLOT B|-: held[A].slot = held[B] (or None) */
    WL_TRACE_DROP,    /* drop A:         release held[A] */
    WL_TRACE_HOLD,    /* hold A B SLOT:  held[A] = held[B].slot (a new hold) */
    WL_TRACE_COLLECT, /* collect G:      explicit collection of generation G */
    WL_TRACE_BURST,   /* burst A N:      held[A] = a list of N new objects made in one call */
    WL_TRACE_NCODES
} wl_trace_code;

/* One op, 12 bytes: the timed loop walks an array of these, never text. */
typedef struct wl_trace_op {
    uint32_t a;   /* the handle acted on (new, set, drop, hold), as a dense index */
    uint32_t b;   /* set: handle stored (WL_TRACE_NONE: None); hold: handle read; burst: N */
    uint8_t code; /* wl_trace_code */
    uint8_t arg;  /* new: slot count K; set, hold: slot index; collect: generation */
} wl_trace_op;

typedef struct wl_tracefile {
    char path[MM_KNOB_VALUE_MAX + 64]; /* the file actually read */
    wl_trace_op *ops;
    size_t nops;
    uint32_t handles;                   /* handle table size: distinct handles used */
    uint32_t held_peak;                 /* most handles held at one time */
    uint32_t slot_counts;               /* bit K set: some `new` asks for K slots */
    uint64_t count[WL_TRACE_NCODES];    /* ops per code */
} wl_tracefile;

/* Reads and validates the file at path; on success *out owns a new trace (free
 * with wl_trace_free). On failure: false, one line in err, *out untouched. */
bool wl_trace_load(const char *path, wl_tracefile **out, char *err, size_t errlen);
void wl_trace_free(wl_tracefile *t);

/* The workload's `check`: resolves the cell's `trace` knob (a bare name not
 * found in the working directory is looked up in the source tree's
 * tools/traces/), loads and validates the file and caches it for run(). run()
 * goes through the same cache, so it also works when nothing called this. */
bool wl_trace_prepare(const mm_knobset *ks, char *err, size_t errlen);

extern const mm_workload wl_trace;

#endif
