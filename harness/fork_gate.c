/* fork_gate.c — contract in fork_gate.h. */
#include "fork_gate.h"

#include <signal.h>
#include <stdbool.h>

static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t registered = PTHREAD_ONCE_INIT;

/* pthread_atfork's three handlers: the forking thread holds the gate across fork(). */
static void gate_lock(void) { pthread_mutex_lock(&gate); }
static void gate_unlock(void) { pthread_mutex_unlock(&gate); }

/* Once per process, on the first sampler's first enter. A failed registration
 * (out of memory) leaves fork unguarded, as it was before the gate. */
static void gate_register(void) { (void)pthread_atfork(gate_lock, gate_unlock, gate_unlock); }

void ms_fork_gate_enter(void) {
    pthread_once(&registered, gate_register);
    pthread_mutex_lock(&gate);
}

void ms_fork_gate_leave(void) { pthread_mutex_unlock(&gate); }

/* The hand-over between ms_fork_gate_thread and its thread; lives on the
 * creator's stack until the thread has said it runs. */
typedef struct gate_start {
    void *(*fn)(void *);
    void *arg;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool running;
} gate_start;

/* The new thread's first code: the C library's and the sanitizer's start-up are
 * behind it. It copies what it needs before it signals, since the creator's
 * frame may be gone the moment it has. */
static void *gate_trampoline(void *p) {
    gate_start *st = p;
    void *(*fn)(void *) = st->fn;
    void *arg = st->arg;
    pthread_mutex_lock(&st->mu);
    st->running = true;
    pthread_cond_signal(&st->cv);
    pthread_mutex_unlock(&st->mu);
    return fn(arg);
}

int ms_fork_gate_thread(pthread_t *t, void *(*fn)(void *), void *arg) {
    gate_start st = {.fn = fn, .arg = arg, .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(t, NULL, gate_trampoline, &st);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc == 0) {
        pthread_mutex_lock(&st.mu);
        while (!st.running) pthread_cond_wait(&st.cv, &st.mu);
        pthread_mutex_unlock(&st.mu);
    }
    pthread_mutex_destroy(&st.mu);
    pthread_cond_destroy(&st.cv);
    return rc;
}
