/* test_request_meter.c — the metered-latency schedule of workloads/meter.h.
 *
 * Contract checked: on an idle server metered = simple; a pause delays every
 * request queued behind it until the queue drains; an overloaded server's queue
 * grows by (service − interval) per request; busy < response counts as
 * response; and on random inputs every metered latency is >= its simple
 * latency and equals the unrolled form of Lindley's recursion,
 *   start_k = max over j <= k of (arrival_j + busy_j + ... + busy_{k-1}),
 * computed here independently of the meter's own step.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "meter.h"

/* Random cases: enough to cover idle, queued and overloaded stretches. */
#define T_RANDOM_CASES 200
#define T_RANDOM_LEN 64

/* An idle server: nobody waits, so the schedule adds nothing. */
static void test_idle(void) {
    wl_meter m;
    wl_meter_init(&m, 1000);
    for (int k = 0; k < 10; k++) CHECK(wl_meter_next(&m, 100, 150) == 100, "request %d", k);
}

/* One long stay of the server (a collection after request 2's answer): the
 * requests behind it queue, each waiting less, until the queue drains. */
static void test_pause_delays_queue(void) {
    wl_meter m;
    wl_meter_init(&m, 1000);
    const uint64_t want[] = {100, 100, 100, 4100, 3200, 2300, 1400, 500, 100, 100};
    for (int k = 0; k < 10; k++) {
        uint64_t got = wl_meter_next(&m, 100, k == 2 ? 5000 : 100);
        CHECK(got == want[k], "request %d: metered %llu, want %llu", k, (unsigned long long)got,
              (unsigned long long)want[k]);
    }
}

/* Service longer than the interval: each request waits 1000 ns more than the last. */
static void test_overload(void) {
    wl_meter m;
    wl_meter_init(&m, 1000);
    for (uint64_t k = 0; k < 10; k++) CHECK(wl_meter_next(&m, 2000, 2000) == 2000 + 1000 * k, "request %llu", (unsigned long long)k);
}

/* A busy time below the response time is read as the response time. */
static void test_busy_below_response(void) {
    wl_meter m;
    wl_meter_init(&m, 100);
    CHECK(wl_meter_next(&m, 300, 0) == 300, "first");
    CHECK(wl_meter_next(&m, 300, 0) == 500, "second waits for the first's 300 ns");
}

/* Random inputs against the unrolled recursion, and metered >= simple. */
static void test_random(void) {
    srand(12345);
    for (int c = 0; c < T_RANDOM_CASES; c++) {
        const double interval = 1 + rand() % 2000;
        uint64_t resp[T_RANDOM_LEN], busy[T_RANDOM_LEN];
        wl_meter m;
        wl_meter_init(&m, interval);
        for (int k = 0; k < T_RANDOM_LEN; k++) {
            resp[k] = (uint64_t)(rand() % 1500);
            busy[k] = resp[k] + (uint64_t)(rand() % 10 == 0 ? rand() % 20000 : rand() % 100);
            const uint64_t got = wl_meter_next(&m, resp[k], busy[k]);
            uint64_t start = 0;
            for (int j = 0; j <= k; j++) {
                uint64_t s = (uint64_t)llround(j * interval);
                for (int i = j; i < k; i++) s += busy[i];
                if (s > start) start = s;
            }
            const uint64_t want = start + resp[k] - (uint64_t)llround(k * interval);
            CHECK(got == want, "case %d request %d: %llu != %llu", c, k, (unsigned long long)got,
                  (unsigned long long)want);
            CHECK(got >= resp[k], "case %d request %d: metered below simple", c, k);
        }
    }
}

int main(void) {
    test_idle();
    test_pause_delays_queue();
    test_overload();
    test_busy_below_response();
    test_random();
    return check_summary();
}
