// gbench_shim.cc — the only C++ in memstrat: wraps benchmark::RegisterBenchmark
// and benchmark::State for the C harness. See gbench_shim.h for the contract.
#include "gbench_shim.h"

#include <benchmark/benchmark.h>

#include <cstring>
#include <string>

struct ms_gb_state {
    benchmark::State *state;
    bool started;
};

extern "C" int ms_gb_init(int argc, char **argv) {
    benchmark::Initialize(&argc, argv);
    return argc;
}

extern "C" bool ms_gb_has_unknown_flag(int argc, char **argv, const char **which) {
    for (int i = 1; i < argc; i++) {
        if (std::strncmp(argv[i], "--benchmark", 11) == 0) {
            if (which) *which = argv[i];
            return true;
        }
    }
    return false;
}

// Fixed iterations: one iteration is one whole workload on a fresh heap, so
// every per-cell counter describes exactly one run; repetitions give spread.
extern "C" void ms_gb_register(const char *name, ms_gb_fn fn, void *arg) {
    benchmark::RegisterBenchmark(name, [fn, arg](benchmark::State &st) {
        ms_gb_state s{&st, false};
        fn(&s, arg);
    })
        ->UseManualTime()
        ->Iterations(1)
        ->Unit(benchmark::kMillisecond);
}

// State's range-for protocol (StartKeepRunning/KeepRunning) spelled out for C.
extern "C" bool ms_gb_keep_running(ms_gb_state *st) { return st->state->KeepRunning(); }

extern "C" void ms_gb_set_iteration_time(ms_gb_state *st, double seconds) { st->state->SetIterationTime(seconds); }

extern "C" void ms_gb_counter(ms_gb_state *st, const char *name, double value) {
    st->state->counters[name] = benchmark::Counter(value);
}

extern "C" void ms_gb_skip_with_error(ms_gb_state *st, const char *message) { st->state->SkipWithError(message); }

extern "C" size_t ms_gb_run(void) { return benchmark::RunSpecifiedBenchmarks(); }

extern "C" void ms_gb_shutdown(void) { benchmark::Shutdown(); }
