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

static bool executable(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

static bool readable_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, R_OK) == 0;
}

/* pythonX.Y in a PATH directory, skipping `shims` directories: pyenv's and
 * asdf's shims pick an interpreter by their own settings, not by the name. */
static bool on_path(const char *name, char *out, size_t outlen) {
    const char *path = getenv("PATH");
    for (const char *p = path ? path : ""; *p;) {
        size_t len = strcspn(p, ":");
        bool shims = len >= 6 && strncmp(p + len - 6, "/shims", 6) == 0;
        if (len > 0 && !shims && (size_t)snprintf(out, outlen, "%.*s/%s", (int)len, p, name) < outlen &&
            executable(out))
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
            executable(cand) && (best[0] == '\0' || strverscmp(e->d_name, best) > 0))
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
        if ((size_t)snprintf(out, outlen, "%s", want) < outlen && executable(out)) return true;
        snprintf(err, errlen, "python=%s is not an executable file", q);
        return false;
    }
    snprintf(name, sizeof name, "python%s", want);
    if (strcmp(want, MS_PY311_VERSION) == 0) {
        if (executable(MS_PY311_PATH)) return snprintf(out, outlen, "%s", MS_PY311_PATH) > 0;
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
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, MS_PROBE_FILE) >= sizeof path || !readable_file(path)) {
        snprintf(err, errlen, "cpython cells need the probe %.*s, which is missing (%s overrides %s)", PATH_MAX, path,
                 MS_TWINS_ENV, MS_TWINS_DEFAULT);
        return false;
    }
    if (!c->workload->interpreter &&
        ((size_t)snprintf(path, sizeof path, "%s/%s.py", dir, c->workload->name) >= sizeof path || !readable_file(path))) {
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
        } else {
            if (!begun || v[0] < m->t0) return BAD("'end' before 'begin'");
            m->t1 = v[0];
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

/* What the child is started with, built before fork (nothing allocates after). */
typedef struct ms_child {
    pid_t pid;
    int result_fd, err_fd; /* our ends: its fd 3, its stderr */
    char *argv[24 + MM_MAX_KNOBS];
    char **envp;
    char opts[3][16], knobs[MM_MAX_KNOBS][64 + MM_KNOB_VALUE_MAX], probe[PATH_MAX + 16];
    char env_extra[3][4 * PATH_MAX + 16];
} ms_child;

/* argv and envp by PROTOCOL.md, "Starting the child". */
static bool child_args(ms_child *ch, const ms_cell *c, char *err, size_t errlen) {
    const mm_knobset *ks = &c->knobs;
    int n = 0;
    snprintf(ch->probe, sizeof ch->probe, "%s/%s", twins_dir(), MS_PROBE_FILE);
    snprintf(ch->opts[0], sizeof ch->opts[0], "%d", MS_RESULT_FD);
    snprintf(ch->opts[1], sizeof ch->opts[1], "%lld", (long long)mm_knob_int(ks, "probe"));
    const char *fixed[] = {c->interp, "-s", ch->probe, "--workload", c->workload->name, "--layout", c->layout.name,
                           "--gc", mm_knob_str(ks, "gc"), "--policy", mm_knob_str(ks, "policy"),
                           "--result-fd", ch->opts[0], "--probe", ch->opts[1]};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) ch->argv[n++] = (char *)fixed[i];
    int k = 0;
    for (const mm_knob_desc *d = c->workload->knobs; d && d->name && k < MM_MAX_KNOBS; d++, k++) {
        snprintf(ch->knobs[k], sizeof ch->knobs[k], "%s=%s", d->name, mm_knob_str(ks, d->name));
        ch->argv[n++] = ch->knobs[k];
    }
    ch->argv[n] = NULL;

    char preload[4 * PATH_MAX];
    bool c_malloc = strcmp(c->allocator.name, "pymalloc") != 0; /* PYTHONMALLOC=malloc */
    if (!ms_malloc_preload(c->allocator.name, c->allocator.preload_library, preload, sizeof preload, err, errlen))
        return false;
    size_t nenv = 0;
    while (environ[nenv]) nenv++;
    if ((ch->envp = calloc(nenv + 4, sizeof *ch->envp)) == NULL) return snprintf(err, errlen, "out of memory"), false;
    size_t e = 0;
    for (size_t i = 0; i < nenv; i++)
        if (strncmp(environ[i], "PYTHON", 6) != 0 && strncmp(environ[i], "LD_PRELOAD=", 11) != 0)
            ch->envp[e++] = environ[i];
    ch->envp[e++] = strcpy(ch->env_extra[0], "PYTHONHASHSEED=0");
    if (c_malloc) ch->envp[e++] = strcpy(ch->env_extra[1], "PYTHONMALLOC=malloc");
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

static void close_all(const int *fds, int n) {
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0) close(fds[i]);
}

/* fork + exec, so that the child can ask to die with us (PR_SET_PDEATHSIG, which
 * posix_spawn cannot set; it fires when the forking thread ends, and cells run
 * on the main thread) and lead its own process group (a timeout kills its
 * children too). A third pipe reports a failed exec's errno; its EOF means the
 * interpreter runs, and only then does the RSS sampler start on it. */
static bool child_start(ms_child *ch, char *err, size_t errlen) {
    int res[2] = {-1, -1}, ser[2] = {-1, -1}, ex[2] = {-1, -1};
    if (!high_pipe(res) || !high_pipe(ser) || !high_pipe(ex)) {
        int fds[] = {res[0], res[1], ser[0], ser[1], ex[0], ex[1]};
        close_all(fds, 6);
        return snprintf(err, errlen, "cannot make pipes for the interpreter: %s", strerror(errno)), false;
    }
    pid_t parent = getpid();
    ch->pid = fork();
    if (ch->pid == 0) {
        int e = 0;
        setpgid(0, 0);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(127);
        if (dup2(ser[1], 2) < 0 || dup2(res[1], MS_RESULT_FD) < 0) e = errno;
        else execve(ch->argv[0], ch->argv, ch->envp);
        e = e ? e : errno;
        ssize_t w = write(ex[1], &e, sizeof e);
        _exit(w == (ssize_t)sizeof e ? 127 : 126);
    }
    int ours[] = {res[1], ser[1], ex[1]};
    close_all(ours, 3);
    int e = errno;
    ssize_t n = -1;
    if (ch->pid > 0)
        while ((n = read(ex[0], &e, sizeof e)) < 0 && errno == EINTR) {}
    close(ex[0]);
    if (ch->pid < 0 || n != 0) {
        if (ch->pid > 0) waitpid(ch->pid, NULL, 0);
        int fds[] = {res[0], ser[0]};
        close_all(fds, 2);
        return snprintf(err, errlen, "cannot start %s: %s", ch->argv[0], strerror(n > 0 ? e : errno)), false;
    }
    ch->result_fd = res[0];
    ch->err_fd = ser[0];
    return true;
}

/* The child's stderr goes on to ours as it comes; its last line is kept for a
 * child that dies without saying why on fd 3. */
typedef struct ms_tee {
    char cur[MS_QUOTE + 1], last[MS_QUOTE + 1];
    size_t len;
} ms_tee;

static void tee_write(ms_tee *t, const char *buf, size_t n) {
    for (size_t off = 0; off < n;) {
        ssize_t w = write(2, buf + off, n - off);
        if (w <= 0) break;
        off += (size_t)w;
    }
    for (size_t i = 0; i < n; i++) {
        if (buf[i] == '\n') {
            if (t->len) memcpy(t->last, t->cur, t->len + 1);
            t->len = 0;
        } else if (t->len < MS_QUOTE) {
            t->cur[t->len++] = buf[i];
            t->cur[t->len] = '\0';
        }
    }
}

/* ---- the measure ----------------------------------------------------------------- */

/* Everything the reading loop keeps. */
typedef struct ms_reading {
    ms_probe probe;
    char buf[MS_PROBE_LINE_MAX + 1];
    size_t len;
    bool result_open, err_open, bad;
    char why[MS_PROBE_LINE_MAX / 2 + 400];
    ms_tee tee;
} ms_reading;

/* Complete lines of buf go to the reader; the first bad one stops the reading. */
static void take_lines(ms_reading *rd, ms_measurement *m, bool eof) {
    char *start = rd->buf, *nl;
    rd->buf[rd->len] = '\0';
    while (!rd->bad && (nl = memchr(start, '\n', rd->len - (size_t)(start - rd->buf))) != NULL) {
        *nl = '\0';
        char reason[400], q[4 * MS_QUOTE + 4];
        if (!ms_probe_line(&rd->probe, m, start, ms_now_ns(), reason, sizeof reason)) {
            snprintf(rd->why, sizeof rd->why, "probe line %d malformed: '%s': %s", rd->probe.line,
                     mm_escape(q, sizeof q, start, MS_QUOTE), reason);
            rd->bad = true;
        }
        start = nl + 1;
    }
    rd->len -= (size_t)(start - rd->buf);
    memmove(rd->buf, start, rd->len);
    if (!rd->bad && rd->len >= MS_PROBE_LINE_MAX)
        snprintf(rd->why, sizeof rd->why, "probe line %d malformed: longer than %d bytes", rd->probe.line + 1,
                 MS_PROBE_LINE_MAX), rd->bad = true;
    if (!rd->bad && eof && rd->len > 0)
        snprintf(rd->why, sizeof rd->why, "probe line %d malformed: cut short (no newline at the end of fd %d)",
                 rd->probe.line + 1, MS_RESULT_FD), rd->bad = true;
}

/* Reads what is ready on one of the two pipes. */
static void read_ready(ms_reading *rd, ms_measurement *m, const ms_child *ch, int fd) {
    char tmp[8192];
    bool result = fd == ch->result_fd;
    size_t room = result ? sizeof rd->buf - 1 - rd->len : sizeof tmp;
    ssize_t n = read(fd, result ? rd->buf + rd->len : tmp, room);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (!result) {
        if (n > 0) tee_write(&rd->tee, tmp, (size_t)n);
        else rd->err_open = false;
        return;
    }
    if (n > 0) rd->len += (size_t)n;
    else rd->result_open = false;
    take_lines(rd, m, n <= 0);
    if (!rd->result_open) ms_rss_stop(m->pauses.rss); /* no samples of an exiting child */
}

bool ms_measure_cpython(ms_cell_run *cr, ms_measurement *m) {
    const ms_cell *c = &cr->cell;
    ms_child *ch = calloc(1, sizeof *ch);
    ms_reading *rd = calloc(1, sizeof *rd);
    char why[sizeof rd->why + 200] = "";
    int wstatus = 0;
    bool timed_out = false, started = false;
    memset(m, 0, sizeof *m);
    /* 1. recorders, and the child's argv and environment (PROTOCOL.md) */
    if (ch == NULL || rd == NULL || !ms_recorders_new(cr, m)) {
        if (ch == NULL || rd == NULL) snprintf(why, sizeof why, "out of memory starting the interpreter");
        goto out;
    }
    if (!child_args(ch, c, why, sizeof why)) goto out;
    /* 2. the child, and the RSS sampler on it once it is the interpreter */
    rd->probe.start_ns = ms_now_ns();
    if (!(started = child_start(ch, why, sizeof why))) goto out;
    m->pauses.rss = ms_rss_start(ch->pid, MS_RSS_PERIOD_US, rd->probe.start_ns);
    rd->result_open = rd->err_open = true;
    /* 3. its lines until fd 3 closes and it has exited, or the deadline */
    const uint64_t deadline = rd->probe.start_ns + (uint64_t)mm_knob_int(&c->knobs, "timeout") * MS_NS_PER_SEC;
    for (bool reaped = false; !reaped;) {
        uint64_t now = ms_now_ns();
        if (rd->bad || now >= deadline) {
            timed_out = !rd->bad;
            kill(-ch->pid, SIGKILL);
            kill(ch->pid, SIGKILL);
            waitpid(ch->pid, &wstatus, 0);
            break;
        }
        struct pollfd pf[2];
        int nfds = 0;
        if (rd->result_open) pf[nfds++] = (struct pollfd){.fd = ch->result_fd, .events = POLLIN};
        if (rd->err_open) pf[nfds++] = (struct pollfd){.fd = ch->err_fd, .events = POLLIN};
        uint64_t wait_ms = (deadline - now) / 1000000u + 1;
        if (!rd->result_open && wait_ms > MS_REAP_POLL_MS) wait_ms = MS_REAP_POLL_MS;
        if (poll(pf, (nfds_t)nfds, (int)(wait_ms < 1000 ? wait_ms : 1000)) > 0)
            for (int i = 0; i < nfds; i++)
                if (pf[i].revents) read_ready(rd, m, ch, pf[i].fd);
        if (!rd->result_open && !rd->bad) reaped = waitpid(ch->pid, &wstatus, WNOHANG) == ch->pid;
    }
    for (struct pollfd pf = {ch->err_fd, POLLIN, 0}; rd->err_open && poll(&pf, 1, 0) > 0;) read_ready(rd, m, ch, ch->err_fd);
    if (rd->tee.len) memcpy(rd->tee.last, rd->tee.cur, rd->tee.len + 1);
    /* 4. how it ended: a bad line, the timeout, an error it reported, a death
     *    without `done`, or a complete run */
    char q[4 * sizeof rd->probe.error + 4], last[4 * MS_QUOTE + 4];
    mm_escape(last, sizeof last, rd->tee.last, MS_QUOTE);
    int code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
    if (rd->bad) snprintf(why, sizeof why, "%s", rd->why);
    else if (timed_out)
        snprintf(why, sizeof why, "killed after timeout=%lld s: the interpreter was still running",
                 (long long)mm_knob_int(&c->knobs, "timeout"));
    else if (rd->probe.failed) {
        snprintf(why, sizeof why, "%s", mm_escape(q, sizeof q, rd->probe.error, sizeof rd->probe.error));
        if (code == 2) cr->status = MS_EXIT_USAGE;
    } else if (code < 0)
        snprintf(why, sizeof why, "the interpreter was killed by signal %d%s%s", WTERMSIG(wstatus), last[0] ? ": " : "",
                 last);
    else if (!rd->probe.done)
        snprintf(why, sizeof why, "the interpreter exited with status %d before 'done'%s%s", code, last[0] ? ": " : "",
                 last);
    else if (code != 0) snprintf(why, sizeof why, "the interpreter exited with status %d after 'done'", code);
    else if (ms_probe_complete(&rd->probe, c, m, why, sizeof why)) {
        m->ok = true;
        m->no_pauses = mm_knob_int(&c->knobs, "probe") == 0;
        m->before.preheader_bytes = c->reclaim.preheader;
        if (ms_rss_max_sampled(m->pauses.rss) > m->rss_peak) m->rss_peak = ms_rss_max_sampled(m->pauses.rss);
    }
out:
    if (started) {
        close(ch->result_fd);
        close(ch->err_fd);
    }
    if (ch) free(ch->envp);
    free(ch);
    free(rd);
    if (m->ok) return true;
    snprintf(cr->error, sizeof cr->error, "%s: %s", c->spec, why[0] ? why : "out of memory");
    ms_measurement_free(m);
    return false;
}
