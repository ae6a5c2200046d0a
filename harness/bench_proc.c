/* bench_proc.c — child processes of the bench driver: spawn, wait with a timeout, interrupt.
 *
 * Contract: between ms_bench_signals_begin() and ms_bench_signals_end() the driver keeps
 * SIGCHLD, SIGINT, SIGTERM and SIGHUP blocked and takes them synchronously (sigtimedwait), so
 * there is no handler and no race: the driver either waits for its one child or notices an
 * interrupt at its next checkpoint (ms_bench_interrupted). Children start with an empty signal
 * mask and default dispositions, stdin on /dev/null, stdout/stderr where the caller says.
 * Each child leads a process group of its own, so that what it starts goes with it: a child
 * past its timeout, or running when the driver is interrupted, has its group sent SIGTERM and,
 * after MS_KILL_GRACE_S, SIGKILL (Ctrl-C reaches only the driver, which passes it on). The
 * child is always reaped before ms_bench_spawn_wait returns.
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* Time a child gets between SIGTERM and SIGKILL: enough to flush its files, short enough
 * that Ctrl-C feels immediate. */
#define MS_KILL_GRACE_S 2.0
/* Longest single sleep in sigtimedwait; only bounds the arithmetic, a signal wakes it. */
#define MS_WAIT_SLICE_S 3600.0

static sigset_t ms_saved_mask;
static struct sigaction ms_saved_chld;
static int ms_pending_sig;

/* The signals the driver takes synchronously while it runs. */
static void ms_watch_set(sigset_t *s, int with_chld)
{
    sigemptyset(s);
    sigaddset(s, SIGINT);
    sigaddset(s, SIGTERM);
    sigaddset(s, SIGHUP);
    if (with_chld)
        sigaddset(s, SIGCHLD);
}

/* Monotonic seconds: wall-clock jumps must not fire timeouts or distort progress times. */
double ms_bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Block the watched signals for the duration of a run; SIGCHLD must not be ignored, or
 * children would be reaped behind our back. */
void ms_bench_signals_begin(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, &ms_saved_chld);
    sigset_t s;
    ms_watch_set(&s, 1);
    sigprocmask(SIG_BLOCK, &s, &ms_saved_mask);
    ms_pending_sig = 0;
}

/* Give the caller (harness/main.c) back the signal state it had; pending SIGCHLDs from our
 * children and an interrupt already acted upon are consumed first. */
void ms_bench_signals_end(void)
{
    ms_bench_interrupted();
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGCHLD);
    struct timespec zero = {0, 0};
    while (sigtimedwait(&s, NULL, &zero) > 0) {
    }
    sigprocmask(SIG_SETMASK, &ms_saved_mask, NULL);
    sigaction(SIGCHLD, &ms_saved_chld, NULL);
}

/* Checkpoint: the first interrupt signal received so far (0 if none). */
int ms_bench_interrupted(void)
{
    sigset_t s;
    ms_watch_set(&s, 0);
    struct timespec zero = {0, 0};
    int sig;
    while ((sig = sigtimedwait(&s, NULL, &zero)) > 0)
        if (!ms_pending_sig)
            ms_pending_sig = sig;
    return ms_pending_sig;
}

/* Run argv (in cwd, when given) to completion, timeout or interrupt, and say how it ended.
 * Returns -1 only when the child could not be started (res->spawn_errno). */
int ms_bench_spawn_wait(char *const argv[], int search_path, const char *cwd, int out_fd,
                        int err_fd, double timeout_s, ms_bench_child *res)
{
    memset(res, 0, sizeof *res);
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0) {
        res->spawn_errno = errno;
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, devnull, 0);
    posix_spawn_file_actions_adddup2(&fa, out_fd >= 0 ? out_fd : devnull, 1);
    posix_spawn_file_actions_adddup2(&fa, err_fd >= 0 ? err_fd : devnull, 2);
    if (cwd)
        posix_spawn_file_actions_addchdir_np(&fa, cwd);
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                       POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&at, 0);
    sigset_t empty, deflt;
    sigemptyset(&empty);
    posix_spawnattr_setsigmask(&at, &empty);
    ms_watch_set(&deflt, 1);
    sigaddset(&deflt, SIGPIPE);
    sigaddset(&deflt, SIGQUIT);
    posix_spawnattr_setsigdefault(&at, &deflt);

    double t0 = ms_bench_now();
    pid_t pid;
    int e = search_path ? posix_spawnp(&pid, argv[0], &fa, &at, argv, environ)
                        : posix_spawn(&pid, argv[0], &fa, &at, argv, environ);
    posix_spawnattr_destroy(&at);
    posix_spawn_file_actions_destroy(&fa);
    close(devnull);
    if (e != 0) {
        res->spawn_errno = e;
        return -1;
    }

    enum { RUNNING, TERMINATING, KILLED } phase = RUNNING;
    double deadline = timeout_s > 0 ? t0 + timeout_s : INFINITY;
    sigset_t watch;
    ms_watch_set(&watch, 1);
    int st = 0;
    for (;;) {
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            st = -1; /* reaped by someone else: nothing more to learn */
            break;
        }
        double now = ms_bench_now();
        if (ms_pending_sig && phase == RUNNING) {
            res->interrupted = 1;
            kill(-pid, SIGTERM);
            phase = TERMINATING;
            deadline = now + MS_KILL_GRACE_S;
            continue;
        }
        if (now >= deadline) {
            if (phase == RUNNING) {
                res->timed_out = 1;
                kill(-pid, SIGTERM);
                phase = TERMINATING;
                deadline = now + MS_KILL_GRACE_S;
            } else if (phase == TERMINATING) {
                kill(-pid, SIGKILL);
                phase = KILLED;
                deadline = INFINITY;
            }
            continue;
        }
        double rem = deadline - now;
        if (rem > MS_WAIT_SLICE_S)
            rem = MS_WAIT_SLICE_S;
        struct timespec ts;
        ts.tv_sec = (time_t)rem;
        ts.tv_nsec = (long)((rem - (double)ts.tv_sec) * 1e9);
        int sig = sigtimedwait(&watch, NULL, &ts);
        if ((sig == SIGINT || sig == SIGTERM || sig == SIGHUP) && !ms_pending_sig)
            ms_pending_sig = sig;
    }
    res->wall_s = ms_bench_now() - t0;
    if (st != -1 && WIFEXITED(st)) {
        res->exited = 1;
        res->exit_status = WEXITSTATUS(st);
    } else if (st != -1 && WIFSIGNALED(st)) {
        res->term_signal = WTERMSIG(st);
    }
    return 0;
}

/* One phrase for progress lines and meta.json: why a child did not succeed. */
char *ms_bench_child_describe(const ms_bench_child *res, double timeout_s)
{
    if (res->spawn_errno)
        return ms_bench_xprintf("could not start: %s", strerror(res->spawn_errno));
    if (res->interrupted)
        return ms_bench_xstrdup("interrupted");
    if (res->timed_out)
        return ms_bench_xprintf("timed out after %g s", timeout_s);
    if (res->term_signal)
        return ms_bench_xprintf("killed by signal %d (%s)", res->term_signal,
                                strsignal(res->term_signal));
    if (res->exited)
        return ms_bench_xprintf("exit status %d", res->exit_status);
    return ms_bench_xstrdup("vanished (reaped elsewhere)");
}

/* An anonymous in-memory file for a child's stderr: the driver wants its last line for a
 * message without writing anything to disk (a rejected matrix must leave nothing behind). */
int ms_bench_capture_open(void)
{
    return memfd_create("memstrat-bench-capture", MFD_CLOEXEC);
}

/* Last non-empty line written to a capture file, or NULL. */
char *ms_bench_capture_last_line(int fd)
{
    ms_sbuf b = {0};
    char chunk[4096];
    ssize_t n;
    off_t off = 0;
    while ((n = pread(fd, chunk, sizeof chunk, off)) > 0) {
        off += n;
        for (ssize_t i = 0; i < n; i++)
            ms_sbuf_putc(&b, chunk[i]);
    }
    char *line = b.p ? ms_bench_last_line(b.p, b.len) : NULL;
    ms_sbuf_free(&b);
    return line;
}
