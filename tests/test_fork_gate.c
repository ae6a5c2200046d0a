/* test_fork_gate.c — a fork never meets a sampler thread inside the allocator.
 *
 * Each round starts a thread with ms_fork_gate_thread whose body allocates and
 * frees without pause, inside the gate, and forks at once from the main thread
 * (the moment prefork forks a worker right after the CoW sampler started). The
 * child then takes every small size class's lock (enough allocations of each
 * size to empty its inherited cache) and exits. A lock the thread held at the
 * fork, in its start-up or in its loop, would be held forever in the child: the
 * round would hang, and is reported after ROUND_DEADLINE_S. Meaningful where
 * the allocator does not guard fork itself (ASan's, gcc 12: the sanitizer
 * build); it hung 1 round in 3-16 there with a bare pthread_create and no gate
 * for the start-up. glibc's malloc passes it either way.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "fork_gate.h"

/* Rounds: each is a fresh thread start racing one fork. */
#define ROUNDS 60
/* The fork comes (round % DELAY_STEPS) * DELAY_STEP_NS after the start returns:
 * a sweep across the thread's start-up (tens of microseconds under ASan). */
#define DELAY_STEPS 20
#define DELAY_STEP_NS 10000L
/* A child that has not exited by then is stuck on a lock (it needs ~50 ms). */
#define ROUND_DEADLINE_S 20
/* Allocations per size in the child: more than a thread cache holds of one class. */
#define CHILD_PER_SIZE 300
/* Sizes the child allocates: every 16-byte class to 1 KiB, and two big ones. */
#define CHILD_MAX_SMALL 1024

static atomic_int stop;

/* The sampler's stand-in: allocates inside the gate until told to stop. */
static void *busy_sampler(void *arg) {
    (void)arg;
    unsigned k = 0;
    while (!atomic_load(&stop)) {
        ms_fork_gate_enter();
        void *p = malloc(16 + (k++ % 64) * 16);
        free(p);
        ms_fork_gate_leave();
    }
    return NULL;
}

/* A busy wait (a sleep would let the new thread finish whatever it is in). */
static void spin_ns(long ns) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    do clock_gettime(CLOCK_MONOTONIC, &b);
    while ((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) < ns);
}

/* In the child: every class's lock, taken (refills) and given back. */
static void child_allocate(void) {
    static void *ptrs[CHILD_PER_SIZE];
    for (size_t size = 16; size <= CHILD_MAX_SMALL + 2 * 4096; size += size < CHILD_MAX_SMALL ? 16 : 4096) {
        for (int i = 0; i < CHILD_PER_SIZE; i++) ptrs[i] = malloc(size);
        for (int i = 0; i < CHILD_PER_SIZE; i++) free(ptrs[i]);
    }
    _exit(0);
}

/* Waits for the child up to the deadline; true when it exited 0. A hung one is killed. */
static bool child_finished(pid_t pid) {
    struct timespec nap = {0, 1000000};
    for (long waited_ms = 0; waited_ms < ROUND_DEADLINE_S * 1000L; waited_ms++) {
        int status;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) return WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (r < 0 && errno != EINTR) return false;
        nanosleep(&nap, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return false;
}

int main(void) {
    int hung = 0;
    for (int round = 0; round < ROUNDS; round++) {
        atomic_store(&stop, 0);
        pthread_t t;
        int rc = ms_fork_gate_thread(&t, busy_sampler, NULL);
        CHECK(rc == 0, "round %d: the thread did not start (%d)", round, rc);
        if (rc != 0) break;
        spin_ns((round % DELAY_STEPS) * DELAY_STEP_NS);
        pid_t pid = fork();
        if (pid == 0) child_allocate();
        CHECK(pid > 0, "round %d: fork failed", round);
        if (pid > 0 && !child_finished(pid)) hung++;
        atomic_store(&stop, 1);
        pthread_join(t, NULL);
    }
    CHECK(hung == 0, "%d of %d children hung on an allocator lock held at fork", hung, ROUNDS);
    return check_summary();
}
