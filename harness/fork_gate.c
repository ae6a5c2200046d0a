/* fork_gate.c — contract in fork_gate.h. */
#include "fork_gate.h"

#include <pthread.h>

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
