/* churn_minloop.c — an independent minimal allocation loop, the witness test_churn_order.sh
 * holds the `churn` workload's allocator table against (issue 16).
 *
 * Contract: `churn_minloop ALLOC LIVE ROUNDS SEED` fills LIVE slots with blocks of 16..512
 * bytes (uniform, xorshift from SEED), then ROUNDS times frees every slot's block in a fresh
 * shuffled order and at once allocates a new one of a new size into it, writing its first word
 * (as churn stamps its blocks); prints the replacement loop's ns per pair. ALLOC is `glibc`,
 * `jemalloc`, `mimalloc` (the process malloc: the caller preloads the library) or `pymalloc`
 * (PyObject_Malloc/PyObject_Free from libpython3.11, without an interpreter). Nothing of
 * memstrat is linked: no object model, no allocator interface, no harness — so the two
 * measurements share only the shape of the work.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The size range of churn's default mix (uniform16-512). */
#define MIN_SIZE 16
#define MAX_SIZE 512
/* libpython's soname on Debian 12. */
#define LIBPYTHON "libpython3.11.so.1.0"

static uint64_t rng;
static uint64_t next_rand(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}

static void *(*alloc_fn)(size_t);
static void (*free_fn)(void *);

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: churn_minloop glibc|jemalloc|mimalloc|pymalloc LIVE ROUNDS SEED\n");
        return 2;
    }
    alloc_fn = malloc, free_fn = free;
    if (strcmp(argv[1], "pymalloc") == 0) {
        void *lib = dlopen(LIBPYTHON, RTLD_NOW | RTLD_LOCAL);
        if (lib == NULL || !(alloc_fn = (void *(*)(size_t))dlsym(lib, "PyObject_Malloc")) ||
            !(free_fn = (void (*)(void *))dlsym(lib, "PyObject_Free"))) {
            fprintf(stderr, "churn_minloop: cannot load %s's PyObject_Malloc: %s\n", LIBPYTHON, dlerror());
            return 2;
        }
    }
    size_t live = strtoul(argv[2], NULL, 10), rounds = strtoul(argv[3], NULL, 10);
    rng = strtoull(argv[4], NULL, 10) * 0x9e3779b97f4a7c15ull + 1;
    void **slot = malloc(live * sizeof *slot);
    size_t *order = malloc(live * sizeof *order);
    if (live == 0 || slot == NULL || order == NULL) return 2;
    for (size_t i = 0; i < live; i++) {
        slot[i] = alloc_fn(MIN_SIZE + next_rand() % (MAX_SIZE - MIN_SIZE + 1));
        *(uint64_t *)slot[i] = i;
        order[i] = i;
    }
    uint64_t spent = 0;
    for (size_t r = 0; r < rounds; r++) {
        for (size_t i = live - 1; i > 0; i--) { /* a fresh shuffled order, outside the timing */
            size_t j = next_rand() % (i + 1), t = order[i];
            order[i] = order[j], order[j] = t;
        }
        uint64_t t0 = now_ns();
        for (size_t i = 0; i < live; i++) {
            size_t k = order[i];
            free_fn(slot[k]);
            slot[k] = alloc_fn(MIN_SIZE + next_rand() % (MAX_SIZE - MIN_SIZE + 1));
            *(uint64_t *)slot[k] = k;
        }
        spent += now_ns() - t0;
    }
    printf("%.2f\n", (double)spent / (double)(live * rounds));
    for (size_t i = 0; i < live; i++) free_fn(slot[i]);
    free(slot), free(order);
    return 0;
}
