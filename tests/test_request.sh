#!/usr/bin/env bash
# test_request.sh — the `request` workload end to end through `memstrat run`.
# Small knobs (sanitizer build too): cells under none, rc and rc+gen with
# policy=auto|manual|freeze. Checks: the req_* and req_metered_* counters exist
# and are ordered (p50 <= p90 <= p99 <= p99.9 <= max; metered >= simple at each
# percentile, which holds exactly since every request's metered latency is >= its
# simple one); rc+gen leaks nothing under auto and manual; rc leaks only with
# cycles; policy=manual runs exactly R - R/10 gen0, R/10 - R/100 gen1 and R/100
# gen2 collections for R requests (floor division); policy=freeze examines
# fewer objects than auto (the application state is frozen); a rate of 1/s
# never queues (metered = simple), an absurd rate queues everyone; the
# --ms_latency CSV is written, and `bench` keeps it in latency/ and draws
# request_latency.png; bad knobs exit 2 with one line.
# usage: test_request.sh path/to/memstrat source_dir
set -u
MS=$1
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAILED: $*" >&2; }

# R requests (W of them warm-up): R is no multiple of 10, so floor division matters.
R=455 W=50
K="requests=$R/warmup=$W/records=20/appstate=2000"

expect_bad() { # "what must appear in the message" args...
    local want=$1; shift
    local err rc
    err=$("$MS" "$@" 2>&1 >/dev/null); rc=$?
    local lines; lines=$(printf '%s' "$err" | grep -c '')
    if [ "$rc" -ne 2 ]; then bad "'$*' exit $rc, expected 2 ($err)"; return; fi
    if [ "$lines" -ne 1 ]; then bad "'$*' printed $lines lines: $err"; return; fi
    case "$err" in *"$want"*) ok ;; *) bad "'$*' message lacks '$want': $err" ;; esac
}

C=request/rc/system/slots
expect_bad "knob 'warmup' must be < requests" run $C/requests=10/warmup=10
expect_bad "knob 'cycles' must be <= records" run $C/records=5/cycles=6
expect_bad "knob 'records'" run $C/records=0
expect_bad "knob 'rate'" run $C/rate=-1
expect_bad "knob 'requests'" run $C/requests=0
expect_bad "knob 'appstate'" run $C/appstate=abc

case "$("$MS" list)" in *request*"records="*) ok ;; *) bad "list lacks request/records=" ;; esac

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cells=(
    "request/none/system/slots/$K"
    "request/rc/system/slots/$K"
    "request/rc/system/slots/$K/cycles=0"
    "request/rc+gen/system/slots/$K/policy=auto"
    "request/rc+gen/system/slots/$K/policy=manual"
    "request/rc+gen/system/slots/$K/policy=freeze"
    "request/rc+gen/system/slots/$K/rate=1"
    "request/rc+gen/system/slots/$K/rate=1000000000"
)
if ! "$MS" run "${cells[@]}" --benchmark_format=json --ms_latency="$tmp/lat.csv" >"$tmp/out.json" 2>"$tmp/err.txt"; then
    bad "run failed: $(tail -3 "$tmp/err.txt")"
    echo "$pass passed, $fail failed"; exit 1
fi
ok

# The checks on the JSON, one line per failure; prints "<passed> <failed>".
read -r p f < <(python3 - "$tmp/out.json" "$R" "$W" <<'PY'
import json, sys
bench = {b["run_name"].split("/iterations")[0]: b for b in json.load(open(sys.argv[1]))["benchmarks"]}
R, W = int(sys.argv[2]), int(sys.argv[3])
passed = failed = 0
def check(cond, msg):
    global passed, failed
    if cond: passed += 1
    else:
        failed += 1
        print("FAILED:", msg, file=sys.stderr)
def cell(suffix):
    for name, b in bench.items():
        if name.endswith(suffix): return b
    raise SystemExit("no cell " + suffix)
P = ["p50", "p90", "p99", "p999", "max"]
for name, b in bench.items():
    for kind in ("req", "req_metered"):
        vals = [b.get(f"{kind}_{p}_us") for p in P]
        check(None not in vals, f"{name}: {kind}_* counters missing")
        if None in vals: continue
        check(all(x <= y for x, y in zip(vals, vals[1:])), f"{name}: {kind} percentiles out of order {vals}")
        check(vals[0] > 0, f"{name}: {kind}_p50_us is 0")
    for p in P:
        s, m = b.get(f"req_{p}_us", 0), b.get(f"req_metered_{p}_us", 0)
        check(m >= s, f"{name}: metered {p} {m} < simple {s}")
    check(b.get("requests_per_s", 0) > 0 and b.get("req_rate_per_s", 0) > 0, f"{name}: requests_per_s/req_rate_per_s")
    check(b.get("ops_per_s", 0) > 0, f"{name}: ops_per_s")
auto, manual, freeze = cell("policy=auto"), cell("policy=manual"), cell("policy=freeze")
for n, b in (("auto", auto), ("manual", manual)):
    check(b["leaked_objects"] == 0, f"rc+gen {n} leaked {b['leaked_objects']}")
check(cell("cycles=0")["leaked_objects"] == 0, "rc cycles=0 leaks")
rc = [b for n, b in bench.items() if "/rc/" in n and "cycles=0" not in n][0]
check(rc["leaked_objects"] > 0, "rc with cycles leaks nothing")
want = (R - R // 10, R // 10 - R // 100, R // 100)
got = tuple(int(manual[f"gc_collections_gen{g}"]) for g in range(3))
check(got == want, f"policy=manual collections {got}, want {want}")
check(freeze["gc_examined"] < auto["gc_examined"], f"freeze examined {freeze['gc_examined']} >= auto {auto['gc_examined']}")
idle, flood = cell("rate=1"), cell("rate=1000000000")
for p in P:
    check(idle[f"req_metered_{p}_us"] == idle[f"req_{p}_us"], f"rate=1: metered {p} differs from simple")
check(flood["req_metered_p50_us"] > 10 * flood["req_p50_us"], "rate=1e9: the queue did not grow")
check(abs(idle["req_rate_per_s"] - 1) < 1e-9, "rate=1 not reported as req_rate_per_s")
print(passed, failed)
PY
)
pass=$((pass + ${p:-0})); fail=$((fail + ${f:-1}))

# --ms_latency: one CSV per cell (".k" before the extension), percentiles up to 100.
for k in 0 3 7; do
    file="$tmp/lat.$k.csv"
    if [ ! -f "$file" ]; then bad "latency CSV $file missing"; continue; fi
    head -1 "$file" | grep -qx 'percentile,simple_us,metered_us' && ok || bad "$file header: $(head -1 "$file")"
    tail -1 "$file" | grep -q '^100,' && ok || bad "$file does not end at percentile 100"
    awk -F, 'NR > 1 && ($3 + 0 < $2 + 0) { exit 1 }' "$file" && ok || bad "$file: metered below simple"
done

# `bench` passes --ms_latency to request cells: latency/ files, and the CDF plot when gnuplot exists.
printf '%s\n' "request/rc+gen/system/slots/requests=120/warmup=20/records=10/appstate=200" >"$tmp/m.txt"
if "$MS" bench --matrix "$tmp/m.txt" --reps 1 --out "$tmp/res" --gcscan-n 0 >/dev/null 2>"$tmp/bench.err"; then
    ok
    ls "$tmp"/res/latest/latency/*.rep1.csv >/dev/null 2>&1 && ok || bad "bench wrote no latency/ file"
    if command -v gnuplot >/dev/null; then
        [ -s "$tmp/res/latest/plots/request_latency.png" ] && ok || bad "bench drew no request_latency.png"
    fi
else
    bad "bench failed: $(tail -2 "$tmp/bench.err")"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
