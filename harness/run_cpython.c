/* run_cpython.c — one iteration of a `cpython` cell: the workload runs in a real
 * interpreter, in a child process this one starts and measures from outside.
 *
 * Contract: tools/twins/PROTOCOL.md, the harness's side of it. The child is
 * `PY -s DIR/probe.py --workload W --layout L --gc GC --policy P --result-fd 3
 * --probe N KNOB=VALUE...` with the environment the protocol gives (PYTHON*
 * removed, PYTHONHASHSEED=0, PYTHONMALLOC/LD_PRELOAD for the allocator). It dies
 * with this process (PR_SET_PDEATHSIG), is killed at `timeout=` seconds, and
 * everything it reports arrives on fd 3 as lines that a strict reader checks:
 * the first line that breaks the protocol ends the cell (failed, one line
 * naming the line). The harness times nothing itself: the iteration is the
 * child's `end - begin`, its pauses and latencies go into the same recorders
 * as a model's (measure.h), its RSS is sampled from /proc/PID/statm by the same
 * sampler, on the same clock (CLOCK_MONOTONIC is system-wide).
 *
 * Where to start reading: ms_measure_cpython, in numbered steps.
 *
 * Exit status of a failed cell: 2 when the child says its input was bad (exit 2
 * with `error`: a script that raised), else 1 (an `error`, a malformed line, a
 * timeout, a child that died without `done`).
 */
#include "run_cpython.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "malloc_select.h"
#include "ms_clock.h"

extern char **environ;

/* Where the probe and the twins are unless MS_TWINS_ENV says otherwise. */
#define MS_TWINS_DEFAULT MS_SOURCE_DIR "/tools/twins"
#define MS_PROBE_FILE "probe.py"
/* python=3.11 is Debian's interpreter, the one the suite is calibrated on. */
#define MS_PY311_VERSION "3.11"
#define MS_PY311_PATH "/usr/bin/python3.11"
/* The descriptor the probe writes its records to (--result-fd). */
#define MS_RESULT_FD 3
/* Pipe ends are moved at or above this before fork, so that placing the
 * child's ends on 2 and 3 can never overwrite another one. */
#define MS_HIGH_FD 10
/* Longest probe line: a record is a few numbers, an error line a sentence. */
#define MS_PROBE_LINE_MAX 4096
/* Once fd 3 is closed, how often to look whether the child has exited (ms). */
#define MS_REAP_POLL_MS 5
/* Reads of its stderr after it exited: 64 x 8 KiB, more than a traceback. */
#define MS_DRAIN_READS 64
/* Bytes of a bad line or of the child's words quoted in a message. */
#define MS_QUOTE 200

/* The allocators an interpreter can run on: pymalloc is its own obmalloc (the
 * default, nothing to set); the others hand every allocation to the C malloc
 * (PYTHONMALLOC=malloc), which the allocator's preload_library replaces. */
static const char *const ms_py_allocators[] = {"pymalloc", "system", "jemalloc", "mimalloc", NULL};

/* ---- the cell's rules ---------------------------------------------------------- */

static const char *twins_dir(void) {
    const char *d = getenv(MS_TWINS_ENV);
    return d != NULL && *d != '\0' ? d : MS_TWINS_DEFAULT;
}

/* A regular file this process may read (R_OK) or execute (X_OK). */
static bool regular(const char *path, int mode) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, mode) == 0;
}

/* pythonX.Y in a PATH directory, skipping `shims` directories: pyenv's and
 * asdf's shims pick an interpreter by their own settings, not by the name. */
static bool on_path(const char *name, char *out, size_t outlen) {
    const char *path = getenv("PATH");
    for (const char *p = path ? path : ""; *p;) {
        size_t len = strcspn(p, ":");
        bool shims = len >= 6 && strncmp(p + len - 6, "/shims", 6) == 0;
        if (len > 0 && !shims && (size_t)snprintf(out, outlen, "%.*s/%s", (int)len, p, name) < outlen &&
            regular(out, X_OK))
            return true;
        p += len + (p[len] == ':');
    }
    return false;
}

/* The highest $PYENV_ROOT/versions/X.Y[.*]/bin/pythonX.Y (root: ~/.pyenv). */
static bool in_pyenv(const char *ver, const char *name, char *root, size_t rootlen, char *out, size_t outlen) {
    const char *env = getenv("PYENV_ROOT"), *home = getenv("HOME");
    if (env && *env) snprintf(root, rootlen, "%s/versions", env);
    else snprintf(root, rootlen, "%s/.pyenv/versions", home ? home : "");
    DIR *d = opendir(root);
    char best[NAME_MAX + 1] = "", cand[PATH_MAX];
    size_t vlen = strlen(ver);
    for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;) {
        if (strncmp(e->d_name, ver, vlen) != 0 || (e->d_name[vlen] != '\0' && e->d_name[vlen] != '.')) continue;
        if ((size_t)snprintf(cand, sizeof cand, "%s/%s/bin/%s", root, e->d_name, name) < sizeof cand &&
            regular(cand, X_OK) && (best[0] == '\0' || strverscmp(e->d_name, best) > 0))
            snprintf(best, sizeof best, "%s", e->d_name);
    }
    if (d) closedir(d);
    return best[0] != '\0' && (size_t)snprintf(out, outlen, "%s/%s/bin/%s", root, best, name) < outlen;
}

/* `python=` to an executable, by PROTOCOL.md's rule: 3.11 is Debian's; X.Y is
 * pythonX.Y on PATH, then pyenv's highest X.Y*; a path must be executable. */
static bool resolve_python(const char *want, char *out, size_t outlen, char *err, size_t errlen) {
    char q[4 * MS_QUOTE + 4], name[32], root[PATH_MAX];
    mm_escape(q, sizeof q, want, MS_QUOTE);
    if (strchr(want, '/') != NULL) {
        if ((size_t)snprintf(out, outlen, "%s", want) < outlen && regular(out, X_OK)) return true;
        snprintf(err, errlen, "python=%s is not an executable file", q);
        return false;
    }
    snprintf(name, sizeof name, "python%s", want);
    if (strcmp(want, MS_PY311_VERSION) == 0) {
        if (regular(MS_PY311_PATH, X_OK)) return snprintf(out, outlen, "%s", MS_PY311_PATH) > 0;
        snprintf(err, errlen, "python=%s: %s is missing (install it: apt-get install %s)", q, MS_PY311_PATH, name);
        return false;
    }
    if (on_path(name, out, outlen) || in_pyenv(want, name, root, sizeof root, out, outlen)) return true;
    snprintf(err, errlen, "python=%s: no %s on PATH (shims skipped) nor in %s/%s* (install it: apt-get install %s, "
             "or pyenv install %s)", q, name, root, want, name, want);
    return false;
}

bool ms_cpython_cell_check(ms_cell *c, char *err, size_t errlen) {
    bool allowed = false;
    for (int i = 0; ms_py_allocators[i]; i++) allowed |= strcmp(c->allocator.name, ms_py_allocators[i]) == 0;
    if (!allowed) {
        snprintf(err, errlen, "allocator '%s' cannot run in an interpreter (cpython runs on pymalloc, system, "
                 "jemalloc or mimalloc)", c->allocator.name);
        return false;
    }
    char path[PATH_MAX];
    const char *dir = twins_dir();
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, MS_PROBE_FILE) >= sizeof path || !regular(path, R_OK)) {
        snprintf(err, errlen, "cpython cells need the probe %.*s, which is missing (%s overrides %s)", PATH_MAX, path,
                 MS_TWINS_ENV, MS_TWINS_DEFAULT);
        return false;
    }
    if (!c->workload->interpreter &&
        ((size_t)snprintf(path, sizeof path, "%s/%s.py", dir, c->workload->name) >= sizeof path || !regular(path, R_OK))) {
        snprintf(err, errlen, "workload '%s' has no Python twin (no %s.py in %.*s/)", c->workload->name,
                 c->workload->name, PATH_MAX, dir);
        return false;
    }
    return resolve_python(mm_knob_str(&c->knobs, "python"), c->interp, sizeof c->interp, err, errlen);
}

/* ---- the probe's lines ---------------------------------------------------------- */

/* Records that come once, by their bit in ms_probe.seen. */
enum { R_PYTHON, R_MALLOC, R_BEGIN, R_END, R_OPS, R_RSS_PEAK, R_ERROR };
static const char *const ms_once[] = {"python", "malloc", "begin", "end", "ops", "rss_peak", "error", NULL};

/* Exactly n decimal integers separated by single blanks, nothing before, between or after. */
static bool u64_fields(const char *s, uint64_t *out, int n) {
    for (int i = 0; i < n; i++, s++) {
        if (*s < '0' || *s > '9') return false;
        uint64_t v = 0;
        for (; *s >= '0' && *s <= '9'; s++) {
            if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10) return false;
            v = v * 10 + (uint64_t)(*s - '0');
        }
        out[i] = v;
        if (*s != (i + 1 < n ? ' ' : '\0')) return false;
    }
    return true;
}

/* A finite decimal number as Python's str() of an int or float writes it. */
static bool number(const char *s, double *out) {
    if (!((*s >= '0' && *s <= '9') || (*s == '-' && s[1] >= '0' && s[1] <= '9'))) return false;
    if (s[strspn(s, "0123456789.eE+-")] != '\0') return false;
    char *end;
    *out = strtod(s, &end);
    return *end == '\0' && isfinite(*out);
}

/* A counter name as the C workloads spell theirs. */
static bool counter_name(const char *s, size_t len) {
    if (len == 0 || len >= sizeof ((wl_result *)0)->counters[0].name) return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_')) return false;
    return true;
}

#define BAD(...) (snprintf(why, whylen, __VA_ARGS__), false)

bool ms_probe_line(ms_probe *p, ms_measurement *m, const char *line, uint64_t now_ns, char *why, size_t whylen) {
    if (++p->line == 1) return strcmp(line, "memstrat-probe 1") == 0 || BAD("expected 'memstrat-probe 1' first");
    if (p->done) return BAD("a record after 'done'");
    size_t klen = strcspn(line, " ");
    const char *rest = line[klen] ? line + klen + 1 : line + klen;
    for (int i = 0; ms_once[i]; i++) {
        if (strlen(ms_once[i]) != klen || strncmp(line, ms_once[i], klen) != 0) continue;
        if (p->seen & (1u << i)) return BAD("'%s' given twice", ms_once[i]);
        p->seen |= 1u << i;
    }
    bool begun = p->seen & (1u << R_BEGIN);
    uint64_t v[5];
#define KIND(k) (klen == sizeof k - 1 && strncmp(line, k, klen) == 0)
    if (KIND("python")) {
        int major, minor, n = 0;
        if (sscanf(rest, "%3d.%3d%n", &major, &minor, &n) != 2 || rest[0] < '0' || rest[0] > '9' || major < 0 ||
            minor < 0)
            return BAD("expected python X.Y.Z");
        snprintf(p->version, sizeof p->version, "%s", rest);
        m->python_version = 100 * major + minor;
    } else if (KIND("malloc")) {
        if (rest[0] == '\0' || strpbrk(rest, " /") != NULL) return BAD("expected malloc LIBRARY (a base name)");
        snprintf(p->malloc_base, sizeof p->malloc_base, "%s", rest);
        m->malloc_code = (int)mm_malloc_code_of(rest);
    } else if (KIND("begin") || KIND("end")) {
        if (!u64_fields(rest, v, 1)) return BAD("expected %.*s T (time.monotonic_ns())", (int)klen, line);
        if (v[0] < p->start_ns || v[0] > now_ns)
            return BAD("T is not a time.monotonic_ns() of this run (the child started at %llu, this line came at %llu)",
                       (unsigned long long)p->start_ns, (unsigned long long)now_ns);
        if (KIND("begin")) {
            m->t0 = v[0];
            ms_rss_rebase(m->pauses.rss, v[0]);
            ms_cow_set_t0(m->cow, v[0]); /* workers were reported as they started, before this line */
        } else {
            if (!begun || v[0] < m->t0) return BAD("'end' before 'begin'");
            m->t1 = v[0];
            ms_cow_stop(m->cow);
            m->rss_final = ms_rss_mark(m->pauses.rss);
        }
    } else if (KIND("pause")) {
        if (!u64_fields(rest, v, 5)) return BAD("expected pause T D G C U (non-negative integers)");
        if (!begun) return BAD("'pause' before 'begin'");
        if (v[2] >= (uint64_t)m->pauses.generations) return BAD("generation %llu (0..%d)", (unsigned long long)v[2],
                                                               m->pauses.generations - 1);
        if (v[0] < m->t0 || v[0] > now_ns || v[1] > now_ns - v[0]) return BAD("the pause is not within this run");
        ms_pause_event ev = {v[0], v[1], (int)v[2], v[3]};
        ms_record_pause(&m->pauses, &ev, 0, now_ns);
    } else if (KIND("latency")) {
        if (!u64_fields(rest, v, 2)) return BAD("expected latency S M (non-negative integers)");
        if (!begun) return BAD("'latency' before 'begin'");
        ms_record_latency(&m->latency, v[0], v[1]);
    } else if (KIND("ops")) {
        double x;
        if (!number(rest, &x) || x < 0) return BAD("expected ops X (a non-negative number)");
        m->r.ops = x;
    } else if (KIND("counter")) {
        size_t nlen = strcspn(rest, " ");
        double x;
        if (!counter_name(rest, nlen) || rest[nlen] != ' ' || !number(rest + nlen + 1, &x))
            return BAD("expected counter NAME X (NAME of a-z, 0-9, _; X a number)");
        for (int i = 0; i < m->r.ncounters; i++)
            if (strlen(m->r.counters[i].name) == nlen && strncmp(m->r.counters[i].name, rest, nlen) == 0)
                return BAD("counter '%.*s' given twice", (int)nlen, rest);
        if (m->r.ncounters >= WL_MAX_COUNTERS) return BAD("more than %d counters", WL_MAX_COUNTERS);
        char name[sizeof m->r.counters[0].name];
        snprintf(name, sizeof name, "%.*s", (int)nlen, rest);
        wl_counter(&m->r, name, x);
    } else if (KIND("gc")) {
        if (!u64_fields(rest, v, 4)) return BAD("expected gc G N C U (non-negative integers)");
        if (v[0] >= (uint64_t)m->pauses.generations) return BAD("generation %llu (0..%d)", (unsigned long long)v[0],
                                                               m->pauses.generations - 1);
        if (p->gc_seen & (1u << v[0])) return BAD("'gc %llu' given twice", (unsigned long long)v[0]);
        p->gc_seen |= 1u << v[0];
        m->before.collections[v[0]] = v[1];
        m->before.collected_by_gen[v[0]] = v[2];
        m->before.uncollectable_by_gen[v[0]] = v[3];
        m->before.collected += v[2];
        m->before.uncollectable += v[3];
    } else if (KIND("worker")) { /* a forked worker (prefork): its start, or its end with its own figures;
                                    written at once, so before `begin` (which comes after `end`) */
        unsigned long long pid;
        int n = 0;
        if (sscanf(rest, "%llu %n", &pid, &n) != 1 || pid == 0 || pid > INT32_MAX || n == 0)
            return BAD("expected worker PID start | worker PID end PRIVATE SHARED PSS (bytes)");
        if (strcmp(rest + n, "start") == 0) {
            ms_record_worker(m, (int)pid, false, NULL);
        } else if (strncmp(rest + n, "end ", 4) == 0 && u64_fields(rest + n + 4, v, 3)) {
            ms_cow_mem mem = {v[0], v[1], v[2]};
            ms_record_worker(m, (int)pid, true, &mem);
        } else {
            return BAD("expected worker PID start | worker PID end PRIVATE SHARED PSS (bytes)");
        }
    } else if (KIND("rss_peak")) {
        if (!u64_fields(rest, v, 1)) return BAD("expected rss_peak B (bytes)");
        m->rss_peak = v[0];
    } else if (KIND("error")) {
        if (rest[0] == '\0') return BAD("expected error MESSAGE");
        p->failed = true;
        snprintf(p->error, sizeof p->error, "%s", rest);
    } else if (KIND("done")) {
        if (line[klen] != '\0') return BAD("expected done alone");
        p->done = true;
    } else {
        return BAD("not a record of the protocol (tools/twins/PROTOCOL.md)");
    }
#undef KIND
    return true;
}

bool ms_probe_complete(const ms_probe *p, const ms_cell *c, const ms_measurement *m, char *why, size_t whylen) {
    for (int i = 0; ms_once[i]; i++)
        if (i != R_ERROR && !(p->seen & (1u << i))) return BAD("the probe wrote no '%s' line", ms_once[i]);
    for (int g = 0; g < m->pauses.generations; g++)
        if (!(p->gc_seen & (1u << g))) return BAD("the probe wrote no 'gc %d' line", g);
    const char *want = mm_knob_str(&c->knobs, "python");
    size_t wl = strlen(want);
    if (strchr(want, '/') == NULL && (strncmp(p->version, want, wl) != 0 || (p->version[wl] >= '0' && p->version[wl] <= '9')))
        return BAD("python=%s runs %s, which reports Python %s", want, c->interp, p->version);
    const char *lib = c->allocator.preload_library;
    mm_malloc_code code = lib ? mm_malloc_code_of(lib) : MM_MALLOC_GLIBC;
    if ((mm_malloc_code)m->malloc_code != code)
        return BAD("allocator '%s', but malloc comes from %s in the interpreter (expected %s)", c->allocator.name,
                   p->malloc_base, lib ? lib : "glibc's libc.so.6");
    return true;
}

#undef BAD

/* ---- the child ------------------------------------------------------------------- */

/* What the child is started with, built before fork (the child only execs), and
 * what its two pipes have brought so far. */
typedef struct ms_child {
    pid_t pid;
    int result_fd, err_fd; /* our ends: its fd 3, its stderr (-1 once closed) */
    char *argv[24 + MM_MAX_KNOBS], **envp;
    char probe[PATH_MAX + 16], opts[2][16], knobs[MM_MAX_KNOBS][64 + MM_KNOB_VALUE_MAX];
    char env_extra[3][4 * PATH_MAX + 16], exec_failed[PATH_MAX + 64];
    ms_probe probe_state;
    char buf[MS_PROBE_LINE_MAX + 1], bad[MS_PROBE_LINE_MAX / 2 + 400];
    size_t len;
    char err_line[MS_QUOTE + 1], err_last[MS_QUOTE + 1]; /* its stderr's current and last line */
    size_t err_len;
} ms_child;

/* argv and envp by PROTOCOL.md, "Starting the child". */
static bool child_args(ms_child *ch, const ms_cell *c, char *err, size_t errlen) {
    const mm_knobset *ks = &c->knobs;
    snprintf(ch->probe, sizeof ch->probe, "%s/%s", twins_dir(), MS_PROBE_FILE);
    snprintf(ch->opts[0], sizeof ch->opts[0], "%d", MS_RESULT_FD);
    snprintf(ch->opts[1], sizeof ch->opts[1], "%lld", (long long)mm_knob_int(ks, "probe"));
    snprintf(ch->exec_failed, sizeof ch->exec_failed, "cannot start %s\n", c->interp);
    const char *fixed[] = {c->interp, "-s", ch->probe, "--workload", c->workload->name, "--layout", c->layout.name,
                           "--gc", mm_knob_str(ks, "gc"), "--policy", mm_knob_str(ks, "policy"),
                           "--result-fd", ch->opts[0], "--probe", ch->opts[1]};
    int n = 0, k = 0;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) ch->argv[n++] = (char *)fixed[i];
    for (const mm_knob_desc *d = c->workload->knobs; d && d->name && k < MM_MAX_KNOBS; d++, k++)
        snprintf(ch->argv[n++] = ch->knobs[k], sizeof ch->knobs[k], "%s=%s", d->name, mm_knob_str(ks, d->name));

    char preload[4 * PATH_MAX];
    if (!ms_malloc_preload(c->allocator.name, c->allocator.preload_library, preload, sizeof preload, err, errlen))
        return false;
    size_t nenv = 0, e = 0;
    while (environ[nenv]) nenv++;
    if ((ch->envp = calloc(nenv + 4, sizeof *ch->envp)) == NULL) return snprintf(err, errlen, "out of memory"), false;
    for (size_t i = 0; i < nenv; i++)
        if (strncmp(environ[i], "PYTHON", 6) != 0 && strncmp(environ[i], "LD_PRELOAD=", 11) != 0)
            ch->envp[e++] = environ[i];
    ch->envp[e++] = strcpy(ch->env_extra[0], "PYTHONHASHSEED=0");
    if (strcmp(c->allocator.name, "pymalloc") != 0) ch->envp[e++] = strcpy(ch->env_extra[1], "PYTHONMALLOC=malloc");
    if (preload[0]) snprintf(ch->envp[e++] = ch->env_extra[2], sizeof ch->env_extra[2], "LD_PRELOAD=%s", preload);
    return true;
}

/* A close-on-exec pipe whose ends sit at MS_HIGH_FD or above. */
static bool high_pipe(int fds[2]) {
    int raw[2];
    if (pipe2(raw, O_CLOEXEC) != 0) return false;
    for (int i = 0; i < 2; i++) {
        fds[i] = fcntl(raw[i], F_DUPFD_CLOEXEC, MS_HIGH_FD);
        close(raw[i]);
    }
    return fds[0] >= 0 && fds[1] >= 0;
}

/* fork + exec, so that the child can ask to die with us (PR_SET_PDEATHSIG, which
 * posix_spawn cannot set; it fires when the forking thread ends, and cells run
 * on the main thread) and lead its own process group (a timeout kills its
 * children too). An exec that fails says so on the child's stderr, exit 127.
 * A third pipe, closed by the exec, says when the child is the interpreter: from
 * then on its RSS is the interpreter's, not a copy of ours. */
static bool child_start(ms_child *ch, char *err, size_t errlen) {
    int res[2] = {-1, -1}, ser[2] = {-1, -1}, ex[2] = {-1, -1};
    pid_t parent = getpid();
    bool piped = high_pipe(res) && high_pipe(ser) && high_pipe(ex);
    if (piped && (ch->pid = fork()) == 0) {
        setpgid(0, 0);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(127);
        if (dup2(ser[1], 2) >= 0 && dup2(res[1], MS_RESULT_FD) >= 0) execve(ch->argv[0], ch->argv, ch->envp);
        ssize_t w = write(2, ch->exec_failed, strlen(ch->exec_failed));
        _exit(w > 0 ? 127 : 126);
    }
    int e = errno, fds[] = {res[1], ser[1], ex[1], res[0], ser[0]}, ran = piped && ch->pid > 0;
    for (int i = 0; i < (ran ? 3 : 5); i++)
        if (fds[i] >= 0) close(fds[i]);
    while (ran && read(ex[0], &e, sizeof e) < 0 && errno == EINTR) {}
    if (ex[0] >= 0) close(ex[0]);
    if (!piped || ch->pid < 0) return snprintf(err, errlen, "cannot start the interpreter: %s", strerror(e)), false;
    ch->result_fd = res[0];
    ch->err_fd = ser[0];
    return true;
}

/* Complete lines to the reader; the first bad one stops the reading. */
static void take_lines(ms_child *ch, ms_measurement *m, bool eof) {
    char *start = ch->buf, *nl, reason[400], q[4 * MS_QUOTE + 4];
    ch->buf[ch->len] = '\0';
    while (!ch->bad[0] && (nl = memchr(start, '\n', ch->len - (size_t)(start - ch->buf))) != NULL) {
        *nl = '\0';
        if (!ms_probe_line(&ch->probe_state, m, start, ms_now_ns(), reason, sizeof reason))
            snprintf(ch->bad, sizeof ch->bad, "probe line %d malformed: '%s': %s", ch->probe_state.line,
                     mm_escape(q, sizeof q, start, MS_QUOTE), reason);
        start = nl + 1;
    }
    ch->len -= (size_t)(start - ch->buf);
    memmove(ch->buf, start, ch->len);
    if (!ch->bad[0] && (ch->len >= MS_PROBE_LINE_MAX || (eof && ch->len > 0)))
        snprintf(ch->bad, sizeof ch->bad, eof ? "probe line %d malformed: cut short (no newline at the end)"
                                              : "probe line %d malformed: longer than %d bytes",
                 ch->probe_state.line + 1, MS_PROBE_LINE_MAX);
}

/* The child's stderr goes on to ours as it comes; its last line is kept for a
 * child that dies without saying why on fd 3. */
static void tee_err(ms_child *ch, const char *buf, size_t n) {
    for (ssize_t w = 0; n > 0 && (w = write(2, buf, n)) > 0; buf += w, n -= (size_t)w)
        for (ssize_t i = 0; i < w; i++) {
            if (buf[i] == '\n' && ch->err_len) memcpy(ch->err_last, ch->err_line, ch->err_len + 1);
            if (buf[i] == '\n') ch->err_len = 0;
            else if (ch->err_len < MS_QUOTE) ch->err_line[ch->err_len++] = buf[i], ch->err_line[ch->err_len] = '\0';
        }
}

/* Reads what is ready on one of the two pipes; EOF closes our end. */
static void read_ready(ms_child *ch, ms_measurement *m, int *fd) {
    char tmp[8192];
    bool result = *fd == ch->result_fd;
    ssize_t n = read(*fd, result ? ch->buf + ch->len : tmp, result ? sizeof ch->buf - 1 - ch->len : sizeof tmp);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n > 0 && !result) tee_err(ch, tmp, (size_t)n);
    if (n > 0 && result) ch->len += (size_t)n;
    if (n <= 0) {
        close(*fd);
        *fd = -1;
    }
    if (result) take_lines(ch, m, n <= 0);
    if (result && n <= 0) ms_rss_stop(m->pauses.rss); /* no samples of an exiting child */
}

/* Step 3: its lines until fd 3 is closed and it has exited; killed (with its
 * process group) at a bad line or the deadline. Returns its wait status; *timed_out. */
static int child_wait(ms_child *ch, ms_measurement *m, uint64_t deadline, bool *timed_out) {
    int wstatus = 0;
    for (;;) {
        uint64_t now = ms_now_ns();
        if (ch->bad[0] || now >= deadline) {
            *timed_out = !ch->bad[0];
            kill(-ch->pid, SIGKILL);
            kill(ch->pid, SIGKILL);
            waitpid(ch->pid, &wstatus, 0);
            return wstatus;
        }
        struct pollfd pf[2] = {{ch->result_fd, POLLIN, 0}, {ch->err_fd, POLLIN, 0}};
        uint64_t wait_ms = (deadline - now) / 1000000u + 1;
        if (ch->result_fd < 0 && wait_ms > MS_REAP_POLL_MS) wait_ms = MS_REAP_POLL_MS;
        if (poll(pf, 2, (int)(wait_ms < 1000 ? wait_ms : 1000)) > 0) /* poll skips fd -1 */
            for (int i = 0; i < 2; i++)
                if (pf[i].revents) read_ready(ch, m, i == 0 ? &ch->result_fd : &ch->err_fd);
        if (ch->result_fd < 0 && !ch->bad[0] && waitpid(ch->pid, &wstatus, WNOHANG) == ch->pid) break;
    }
    /* what it wrote on stderr before it exited (bounded: a grandchild may hold the pipe) */
    struct pollfd pf = {ch->err_fd, POLLIN, 0};
    for (int i = 0; i < MS_DRAIN_READS && ch->err_fd >= 0 && poll(&pf, 1, 0) > 0; i++) read_ready(ch, m, &ch->err_fd);
    if (ch->err_len) memcpy(ch->err_last, ch->err_line, ch->err_len + 1);
    return wstatus;
}

/* Step 4: how it ended — a bad line, the timeout, an error it reported, a death
 * without `done`, or a complete run (m->ok). why: the one line otherwise. */
static void outcome(ms_child *ch, ms_cell_run *cr, ms_measurement *m, int wstatus, bool timed_out, char *why,
                    size_t whylen) {
    const ms_cell *c = &cr->cell;
    const ms_probe *p = &ch->probe_state;
    char q[4 * sizeof p->error + 4], last[4 * MS_QUOTE + 8] = "";
    if (ch->err_last[0]) snprintf(last, sizeof last, ": %s", mm_escape(q, sizeof q, ch->err_last, MS_QUOTE));
    int code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
    if (ch->bad[0]) snprintf(why, whylen, "%s", ch->bad);
    else if (timed_out)
        snprintf(why, whylen, "killed after timeout=%lld s: the interpreter was still running",
                 (long long)mm_knob_int(&c->knobs, "timeout"));
    else if (p->failed) {
        snprintf(why, whylen, "%s", mm_escape(q, sizeof q, p->error, sizeof p->error));
        if (code == 2) cr->status = MS_EXIT_USAGE;
    } else if (code < 0) snprintf(why, whylen, "the interpreter was killed by signal %d%s", WTERMSIG(wstatus), last);
    else if (!p->done) snprintf(why, whylen, "the interpreter exited with status %d before 'done'%s", code, last);
    else if (code != 0) snprintf(why, whylen, "the interpreter exited with status %d after 'done'", code);
    else if (ms_probe_complete(p, c, m, why, whylen)) {
        m->ok = true;
        m->no_pauses = mm_knob_int(&c->knobs, "probe") == 0;
        m->before.preheader_bytes = c->reclaim.preheader;
        if (ms_rss_max_sampled(m->pauses.rss) > m->rss_peak) m->rss_peak = ms_rss_max_sampled(m->pauses.rss);
    }
}

bool ms_measure_cpython(ms_cell_run *cr, ms_measurement *m) {
    const ms_cell *c = &cr->cell;
    ms_child *ch = calloc(1, sizeof *ch);
    char why[sizeof ch->bad + 200] = "out of memory starting the interpreter";
    memset(m, 0, sizeof *m);
    /* 1. recorders, and the child's argv and environment */
    if (ch != NULL && ms_recorders_new(cr, m) && child_args(ch, c, why, sizeof why)) {
        /* 2. the child, and the RSS sampler on it */
        ch->probe_state.start_ns = ms_now_ns();
        if (child_start(ch, why, sizeof why)) {
            m->pauses.rss = ms_rss_start(ch->pid, cr->rss_period_us, ch->probe_state.start_ns, cr->sampler_cpu);
            bool timed_out = false;
            uint64_t timeout_ns = (uint64_t)mm_knob_int(&c->knobs, "timeout") * MS_NS_PER_SEC;
            /* 3. its lines until it ends, 4. how it ended */
            int wstatus = child_wait(ch, m, ch->probe_state.start_ns + timeout_ns, &timed_out);
            outcome(ch, cr, m, wstatus, timed_out, why, sizeof why);
            if (ch->result_fd >= 0) close(ch->result_fd);
            if (ch->err_fd >= 0) close(ch->err_fd);
        }
    }
    if (ch) free(ch->envp);
    free(ch);
    if (m->ok) return true;
    snprintf(cr->error, sizeof cr->error, "%s: %s", c->spec, why);
    ms_measurement_free(m);
    return false;
}
