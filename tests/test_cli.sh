#!/usr/bin/env bash
# test_cli.sh — the CLI's answers to good and bad input.
# Bad input (unknown command, strategy, workload, allocator, layout, knob; bad or
# out-of-range number; malformed cell; unknown flag) gets exactly one line on
# stderr naming the problem and exit status 2. Good cells report the counters.
# usage: test_cli.sh path/to/memstrat source_dir
set -u
MS=$1
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAILED: $*" >&2; }

# expect_bad "what must appear in the message" args...
expect_bad() {
    local want=$1; shift
    local err rc
    err=$("$MS" "$@" 2>&1 >/dev/null); rc=$?
    local lines; lines=$(printf '%s' "$err" | grep -c '')
    if [ "$rc" -ne 2 ]; then bad "'$*' exit $rc, expected 2 ($err)"; return; fi
    if [ "$lines" -ne 1 ]; then bad "'$*' printed $lines lines: $err"; return; fi
    case "$err" in *"$want"*) ok ;; *) bad "'$*' message lacks '$want': $err" ;; esac
}

expect_bad "unknown command 'frobnicate'" frobnicate
expect_bad "--n must be 1..100000000, not: 0" gcscan --n 0
expect_bad "knob 'gc': 'bogus' is not T0,T1,T2" run list/rc+gen/system/slots/gc=bogus
expect_bad "knob 'policy': 'sometimes' is not auto, manual, batch, freeze, pressure or manual+freeze" run list/rc+gen/system/slots/policy=sometimes
expect_bad "unknown shape (list, tree): ring" gcscan --shapes ring
expect_bad "unknown allocator: bogus" gcscan --alloc bogus
expect_bad "no executable interpreter (or --cpython none): /nonexistent/python" gcscan --cpython /nonexistent/python
expect_bad "missing value after: --reps" gcscan --reps
expect_bad "unknown workload 'lisst'" run lisst/rc/system/slots
expect_bad "unknown strategy 'refcount'" run list/refcount/system/slots
expect_bad "unknown allocator 'tcmalloc'" run list/rc/tcmalloc/slots
expect_bad "unknown layout 'dictt'" run list/rc/system/dictt
expect_bad "unknown knob 'depth'" run list/rc/system/slots/depth=3
expect_bad "'abc' is not a number" run list/rc/system/slots/n=abc
expect_bad "-5 is out of range" run list/rc/system/slots/n=-5
expect_bad "out of range" run list/rc/system/slots/n=99999999999999
expect_bad "is not knob=value" run list/rc/system/slots/n
expect_bad "must be workload/reclaim/allocator/layout" run list/rc
expect_bad "given twice" run list/rc/system/slots/n=5/n=6
expect_bad "unknown flag '--frob'" run list/rc/system/slots --frob
expect_bad "no cell given" run
expect_bad "knob 'n'" run list/rc/system/slots/n=1q

# `list` names every axis
out=$("$MS" list)
for word in none rc system slots list ring "n=" "rounds="; do
    case "$out" in *"$word"*) ok ;; *) bad "list lacks $word" ;; esac
done

# counters of a good cell, and the done-criteria leak figures
counter() { # cell counter
    "$MS" run "$1" --benchmark_format=json 2>/dev/null |
        python3 -c "import json,sys; print(int(json.load(sys.stdin)['benchmarks'][0]['$2']))"
}
[ "$(counter ring/rc/system/slots/n=100000 leaked_objects)" = 100000 ] && ok || bad "ring/rc leaked != 100000"
[ "$(counter list/rc/system/slots/n=100000 leaked_objects)" = 0 ] && ok || bad "list/rc leaked != 0"
[ "$(counter list/none/system/slots/n=1000 leaked_objects)" = 1000 ] && ok || bad "list/none leaked != 1000"
# rc's domino free is one release pause of the list's length (issue 16 item 5)
[ "$(counter list/rc/system/slots/n=100000 pause_release_count)" = 1 ] && ok || bad "list/rc: release pauses != 1"
[ "$(counter list/rc/system/slots/n=100000 pause_release_objects)" = 100000 ] && ok || bad "list/rc: release pause objects != 100000"
[ "$(counter list/rc/system/slots/n=100000/rounds=3/release_pause_objects=100001 pause_release_count)" = 0 ] && ok ||
    bad "list/rc: a cascade below release_pause_objects counted"

# the harness's own knobs: sampler period, observer, pinning; bad values exit 2 with one line
json0=$("$MS" run list/rc/system/slots/n=20000 --ms_rss_period_us=0 --ms_observe=0 --benchmark_format=json 2>/dev/null)
case "$json0" in *'"ops_per_s"'*) ok ;; *) bad "--ms_rss_period_us=0 --ms_observe=0: no result" ;; esac
case "$json0" in *'"pause_count"'*) bad "--ms_observe=0 still reports pause times" ;; *) ok ;; esac
case "$json0" in *'"pause_release_count"'*) ok ;; *) bad "--ms_observe=0 lost the deterministic release count" ;; esac
"$MS" run list/rc/system/slots/n=1000 --ms_pin=0 >/dev/null 2>&1 && ok || bad "--ms_pin=0 refused"
for f in --ms_rss_period_us=-1 --ms_rss_period_us=1x --ms_observe=2 --ms_pin= --ms_pin=0,x --ms_pin=100000; do
    err=$("$MS" run list/rc/system/slots/n=1000 "$f" 2>&1 >/dev/null); st=$?
    [ "$st" = 2 ] && [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] && ok || bad "$f: status $st, '$err'"
done

json=$("$MS" run list/rc/system/slots/n=20000 --benchmark_format=json 2>/dev/null)
for c in ops_per_s pause_count pause_total_ms pause_p50_us pause_p90_us pause_p99_us pause_p999_us pause_max_us \
    pause_release_count pause_release_objects pause_release_total_ms pause_release_p99_us pause_release_max_us \
    rss_peak_mb rss_final_mb live_objects live_bytes leaked_objects leaked_bytes; do
    case "$json" in *"\"$c\""*) ok ;; *) bad "counter $c missing" ;; esac
done

# knob values may be paths with '/' (the cell is split on '/')
SRC=$2
"$MS" run "trace/rc/system/slots/trace=$SRC/tools/traces/mix-20k.trace" >/dev/null 2>&1 && ok || bad "absolute trace path refused"

# Google Benchmark flags pass through
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$MS" run list/rc/system/slots/n=1000 --benchmark_repetitions=3 --benchmark_out="$tmp/o.json" \
    --benchmark_out_format=json --ms_timeline="$tmp/t.csv" --ms_pauses="$tmp/p.csv" >/dev/null 2>&1
n=$(python3 -c "import json; print(sum(1 for b in json.load(open('$tmp/o.json'))['benchmarks'] if b['run_type']=='iteration'))")
[ "$n" = 3 ] && ok || bad "repetitions did not pass through ($n)"
head -1 "$tmp/t.csv" | grep -q '^t_ms,rss_mb' && ok || bad "timeline CSV missing"
head -1 "$tmp/p.csv" | grep -q '^t_ms,duration_us' && ok || bad "pause CSV missing"

# every cell of the shipped matrices is valid (a typo there would stop `make bench` at its start).
# The cells of one allocator (boehm's apart) are checked in one `memstrat run` (one process malloc each; ~290
# processes took 25 s, 4 take 1): it must list exactly one benchmark per cell. A group that fails
# is checked again cell by cell, which names each bad cell (and lets ASan's refusal of
# jemalloc/mimalloc count as valid, as before).
check_one() { # matrix cell: 0 when valid
    local out
    out=$("$MS" run "$2" --benchmark_list_tests=true 2>&1) && return 0
    case "$out" in *AddressSanitizer* | *"sanitizer build"*) return 0 ;; esac
    bad "$1: $2: $(tail -1 <<< "$out")"
    return 1
}
for m in matrix.txt matrix-quick.txt; do
    n=0
    mapfile -t cells < <(grep -E '^[a-z]' "$SRC/harness/$m")
    declare -A by_alloc=()
    # (boehm's cells apart: ASan refuses them, and would take their allocator's group along)
    for cell in "${cells[@]}"; do
        a=${cell#*/*/}; a=${a%%/*}; case "$cell" in */boehm/*) a=boehm ;; esac
        by_alloc[$a]+="$cell"$'\n'
    done
    for a in "${!by_alloc[@]}"; do
        mapfile -t group <<< "${by_alloc[$a]%$'\n'}"
        out=$("$MS" run "${group[@]}" --benchmark_list_tests=true 2>&1)
        st=$?
        if [ "$st" -eq 0 ] && [ "$(grep -c '/iterations:1/manual_time$' <<< "$out")" -eq "${#group[@]}" ]; then
            n=$((n + ${#group[@]}))
        elif [ "$st" -ne 0 ] && [ "$(grep -c . <<< "$out")" -eq 1 ] && grep -q "^memstrat run: allocator '$a' .*AddressSanitizer" <<< "$out"; then
            # ASan's refusal of jemalloc/mimalloc comes before any cell is parsed, the same for
            # each cell of the group: valid as check_one counts it
            n=$((n + ${#group[@]}))
        else
            for cell in "${group[@]}"; do check_one "$m" "$cell" && n=$((n + 1)); done
        fi
    done
    [ "$n" -eq "${#cells[@]}" ] && [ "$n" -gt 10 ] && ok || bad "$m: $n of ${#cells[@]} cells valid"
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
