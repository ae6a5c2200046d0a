// gbench_shim.cc — the only C++ in memstrat: wraps benchmark::RegisterBenchmark
// and benchmark::State for the C harness. See gbench_shim.h for the contract.
#include "gbench_shim.h"

#include <benchmark/benchmark.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
// GCC 12 with -O2 -fsanitize=address reports a false -Wmaybe-uninitialized
// inside libstdc++'s <regex> (std::function in its compiler's state): silenced
// for that header only, where the warning is located.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <regex>
#pragma GCC diagnostic pop
#include <string>
#include <strings.h>

#include "atomic_file.h"
extern "C" {
#include "knobs.h" // C declarations without their own extern "C"
}
#include "oom.h"

struct ms_gb_state {
    benchmark::State *state;
    bool started;
};

// Most repetitions accepted: each one runs a whole workload in this process, and
// Google Benchmark reserves its result vector up front (-1 threw length_error).
#define MS_GB_MAX_REPETITIONS 100000
// Bytes of a bad flag value quoted back in an error line (then "...").
#define MS_GB_QUOTE 80

// operator new failed (Google Benchmark's bookkeeping, after a cell used up the
// address space): the emergency reserve once, then one line and exit 1 (oom.h).
static void on_new_failure() {
    if (!ms_oom_release()) ms_oom_stop("memory for Google Benchmark's results");
}

extern "C" int ms_gb_init(int argc, char **argv) {
    std::set_new_handler(on_new_failure);
    benchmark::Initialize(&argc, argv);
    return argc;
}

// ---- the values of Google Benchmark 1.7's flags, checked before Initialize ----------

enum flag_kind { FLAG_BOOL, FLAG_CHOICE, FLAG_SECONDS, FLAG_REPETITIONS, FLAG_VERBOSITY, FLAG_CONTEXT, FLAG_FILTER, FLAG_OUT };

struct flag_rule {
    const char *name;
    flag_kind kind;
    const char *choices; // FLAG_CHOICE: '|'-separated, compared without case
};

// Every flag `--help` lists; a name not here is left to Initialize (and then to
// the caller's unknown-flag line). Bool flags may stand alone (= true).
static const flag_rule flag_rules[] = {
    {"benchmark_list_tests", FLAG_BOOL, nullptr},
    {"benchmark_filter", FLAG_FILTER, nullptr},
    {"benchmark_min_time", FLAG_SECONDS, nullptr},
    {"benchmark_min_warmup_time", FLAG_SECONDS, nullptr},
    {"benchmark_repetitions", FLAG_REPETITIONS, nullptr},
    {"benchmark_enable_random_interleaving", FLAG_BOOL, nullptr},
    {"benchmark_report_aggregates_only", FLAG_BOOL, nullptr},
    {"benchmark_display_aggregates_only", FLAG_BOOL, nullptr},
    {"benchmark_format", FLAG_CHOICE, "console|json|csv"},
    {"benchmark_out", FLAG_OUT, nullptr},
    {"benchmark_out_format", FLAG_CHOICE, "console|json|csv"},
    {"benchmark_color", FLAG_CHOICE, "auto|true|false|yes|no|on|off|1|0"},
    {"benchmark_counters_tabular", FLAG_BOOL, nullptr},
    {"benchmark_context", FLAG_CONTEXT, nullptr},
    {"benchmark_time_unit", FLAG_CHOICE, "ns|us|ms|s"},
    {"v", FLAG_VERBOSITY, nullptr},
};

static bool in_choices(const char *v, const char *choices) {
    for (const char *c = choices; *c;) {
        size_t n = std::strcspn(c, "|");
        if (std::strlen(v) == n && strncasecmp(v, c, n) == 0) return true;
        c += n + (c[n] == '|');
    }
    return false;
}

// Strict decimal integer in [lo, hi].
static bool int_in(const char *v, long lo, long hi) {
    if (*v == '\0' || std::strspn(v, "0123456789") != std::strlen(v) || std::strlen(v) > 9) return false;
    long x = std::strtol(v, nullptr, 10);
    return x >= lo && x <= hi;
}

// key=value[,key=value...], as Google Benchmark's --benchmark_context parses it.
static bool context_ok(const char *v) {
    std::string s(v);
    size_t start = 0;
    for (;;) {
        size_t comma = s.find(',', start), eq = s.find('=', start);
        size_t end = comma == std::string::npos ? s.size() : comma;
        if (eq == std::string::npos || eq >= end || eq == start) return false;
        if (comma == std::string::npos) return true;
        start = comma + 1;
    }
}

// Google Benchmark's filter: a POSIX extended regular expression, searched in each
// benchmark's name; a leading '-' negates it; "" and "all" mean every benchmark.
static bool compile_filter(const std::string &spec, std::regex *re, bool *negative, std::string *why) {
    std::string s = spec.empty() || spec == "all" ? "." : spec;
    *negative = s[0] == '-';
    if (*negative) s.erase(0, 1);
    try {
        *re = std::regex(s, std::regex::extended);
    } catch (const std::regex_error &e) {
        *why = e.what();
        return false;
    }
    return true;
}

// One flag's value v (NULL: the flag stood alone); `what` names it in the line.
static bool check_flag(const flag_rule &r, const char *what, const char *v, char *err, size_t errlen) {
    char q[4 * MS_GB_QUOTE + 4];
    mm_escape(q, sizeof q, v ? v : "", MS_GB_QUOTE);
    if (v == nullptr) {
        if (r.kind == FLAG_BOOL) return true;
        std::snprintf(err, errlen, "%s needs a value (--%s=VALUE)", what, r.name);
        return false;
    }
    errno = 0;
    char *end = nullptr;
    double secs = 0;
    std::regex re;
    bool negative;
    std::string why;
    switch (r.kind) {
    case FLAG_BOOL:
        if (in_choices(v, "true|false|yes|no|on|off|1|0")) return true;
        std::snprintf(err, errlen, "%s takes true or false, not '%s'", what, q);
        return false;
    case FLAG_CHOICE:
        if (in_choices(v, r.choices)) return true;
        std::snprintf(err, errlen, "%s takes one of %s, not '%s'", what, r.choices, q);
        return false;
    case FLAG_SECONDS:
        secs = std::strtod(v, &end);
        if (end != v && *end == '\0' && errno == 0 && std::isfinite(secs) && secs >= 0) return true;
        std::snprintf(err, errlen, "%s takes seconds as a number >= 0, not '%s'", what, q);
        return false;
    case FLAG_REPETITIONS:
        if (int_in(v, 1, MS_GB_MAX_REPETITIONS)) return true;
        std::snprintf(err, errlen, "%s takes an integer in 1..%d, not '%s'", what, MS_GB_MAX_REPETITIONS, q);
        return false;
    case FLAG_VERBOSITY:
        if (int_in(v, 0, 1000000)) return true;
        std::snprintf(err, errlen, "%s takes an integer >= 0, not '%s'", what, q);
        return false;
    case FLAG_CONTEXT:
        if (context_ok(v)) return true;
        std::snprintf(err, errlen, "%s takes key=value[,key=value...], not '%s'", what, q);
        return false;
    case FLAG_FILTER:
        if (compile_filter(v, &re, &negative, &why)) return true;
        std::snprintf(err, errlen, "%s is not a regular expression (%s): '%s'", what, why.c_str(), q);
        return false;
    case FLAG_OUT:
        return *v == '\0' || ms_output_target_ok(v, what, err, errlen); // "": Google Benchmark writes no file
    }
    return true;
}

// Google Benchmark also takes each flag's default from the environment
// (BENCHMARK_REPETITIONS=-1 aborted the same way), so those are checked too.
extern "C" bool ms_gb_check_flags(int argc, char **argv, char *err, size_t errlen) {
    for (const flag_rule &r : flag_rules) {
        char env[64];
        size_t n = std::strlen(r.name);
        for (size_t i = 0; i <= n; i++) env[i] = (char)std::toupper((unsigned char)r.name[i]);
        const char *v = r.kind == FLAG_VERBOSITY ? nullptr : std::getenv(env);
        char what[96];
        std::snprintf(what, sizeof what, "environment variable %s", env);
        if (v != nullptr && !check_flag(r, what, v, err, errlen)) return false;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (std::strncmp(a, "--", 2) != 0) continue;
        for (const flag_rule &r : flag_rules) {
            size_t n = std::strlen(r.name);
            if (std::strncmp(a + 2, r.name, n) == 0 && (a[2 + n] == '=' || a[2 + n] == '\0')) {
                char what[96];
                std::snprintf(what, sizeof what, "--%s", r.name);
                if (!check_flag(r, what, a[2 + n] == '=' ? a + 3 + n : nullptr, err, errlen)) return false;
                break;
            }
        }
    }
    return true;
}

// The name Google Benchmark gives a benchmark registered by ms_gb_register.
#define MS_GB_NAME_SUFFIX "/iterations:1/manual_time"

extern "C" bool ms_gb_filter_matches(const char *const *names, int n) {
    std::regex re;
    bool negative;
    std::string why;
    if (!compile_filter(benchmark::GetBenchmarkFilter(), &re, &negative, &why)) return false;
    for (int i = 0; i < n; i++)
        if (std::regex_search(std::string(names[i]) + MS_GB_NAME_SUFFIX, re) != negative) return true;
    return false;
}

extern "C" const char *ms_gb_filter(void) {
    static std::string f;
    f = benchmark::GetBenchmarkFilter();
    return f.c_str();
}

// Fixed iterations: one iteration is one whole workload on a fresh heap, so
// every per-cell counter describes exactly one run; repetitions give spread.
// Each repetition takes the emergency reserve again and names its cell (oom.h).
extern "C" void ms_gb_register(const char *name, ms_gb_fn fn, void *arg) {
    benchmark::RegisterBenchmark(name, [name, fn, arg](benchmark::State &st) {
        ms_oom_arm(name);
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
