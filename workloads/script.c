/* script.c — `script`: the user's own Python program, as a cell.
 *
 * Contract: `script=PATH` names a Python program that the probe runs as __main__
 * in the interpreter of a `cpython` cell (tools/twins/PROTOCOL.md, "The user's
 * program"), with `args=` as its arguments (split as a POSIX shell would). The
 * workload only exists in an interpreter: its check makes sure, before anything
 * runs, that PATH is a regular file this process can read; run() refuses, as no
 * C program stands behind it. Which strategy may run it is the harness's rule
 * (the `interpreter` flags of both).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "workload.h"

static const mm_knob_desc script_knobs[] = {
    {"script", MM_KNOB_STRING, "", 0, 0, "the Python program to run as __main__ (a path; required)"},
    {"args", MM_KNOB_STRING, "", 0, 0, "its arguments, split as a shell would (sys.argv[1:]); default none"},
    {0},
};

/* The file must be there and readable now, not when the child fails on it: opened
 * without blocking (a FIFO would block) and checked to be a regular file. */
static bool script_check(const mm_knobset *ks, char *err, size_t errlen) {
    const char *path = mm_knob_str(ks, "script");
    char q[4 * MM_KNOB_QUOTE + 4];
    mm_escape(q, sizeof q, path, MM_KNOB_QUOTE);
    if (path[0] == '\0') {
        snprintf(err, errlen, "workload 'script' needs script=PATH (the Python program to run)");
        return false;
    }
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "script '%s': %s", q, strerror(errno));
        return false;
    }
    struct stat st;
    bool regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    close(fd);
    if (!regular) snprintf(err, errlen, "script '%s' is not a regular file", q);
    return regular;
}

static bool script_run(mm_heap *h, const mm_knobset *ks, wl_result *r, char *err, size_t errlen) {
    (void)h, (void)ks, (void)r;
    snprintf(err, errlen, "workload 'script' runs only in an interpreter (reclaim cpython)");
    return false;
}

const mm_workload wl_script = {
    .name = "script",
    .summary = "the user's Python program (script=PATH, args=...) run as __main__ by the probe",
    .knobs = script_knobs,
    .check = script_check,
    .run = script_run,
    .interpreter = true,
};
