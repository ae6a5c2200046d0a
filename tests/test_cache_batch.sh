#!/usr/bin/env bash
# test_cache_batch.sh — the `cache` and `batch` workloads end to end through memstrat.
# cache: every variant under none, rc and rc+gen runs and checks itself (each hit's
# key); the stream is the same for every strategy (same gets, puts, hit rate for
# the strong variants); lru stays at capacity; weak stays within the callers'
# ring; unbounded holds far more at the end but leaks nothing once dropped;
# rc+gen and rc leak nothing (no cycles), none leaks everything.
# batch: policy=batch runs no gen0/gen1 collection during the batch and exactly
# one gen2 collection after it; policy=auto runs many gen0; rc+gen leaks nothing.
# Bad knobs exit 2 with one line.
# usage: test_cache_batch.sh path/to/memstrat source_dir
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

expect_bad "knob 'cache': 'fifo' is not one of lru, unbounded, weak" run cache/rc/system/slots/cache=fifo
expect_bad "window <= keys" run cache/rc/system/slots/keys=10/window=20
expect_bad "0 is out of range" run cache/rc/system/slots/hold=0
expect_bad "unknown knob 'capacity'" run batch/rc/system/slots/capacity=3
expect_bad "0 is out of range" run batch/rc/system/slots/n=0
expect_bad "knob 'policy'" run batch/rc+gen/system/slots/policy=later

# counters CELL: prints "name=value" lines of the cell's counters (integers
# stay exact; rates keep 6 decimals); fails the test when the cell fails.
counters() {
    local json
    if ! json=$("$MS" run "$1" --benchmark_format=json 2>/dev/null); then bad "$1 failed to run"; return 1; fi
    printf '%s' "$json" | python3 -c "
import json, sys
b = json.load(sys.stdin)['benchmarks'][0]
for k, v in b.items():
    if isinstance(v, (int, float)): print(f'{k}={v:.6f}' if k == 'hit_rate' or k.endswith('_mb_end') else f'{k}={int(v)}')"
}
get() { printf '%s\n' "$1" | sed -n "s/^$2=//p"; }

OPS=40000 HOLD=400 CAP=400
KN="ops=$OPS/keys=20000/window=400/capacity=$CAP/hold=$HOLD"
declare -A out
for v in lru unbounded weak; do
    for s in none rc rc+gen; do
        out[$v/$s]=$(counters "cache/$s/system/slots/cache=$v/$KN") || continue
        o=${out[$v/$s]}
        n=$(( $(get "$o" gets) + $(get "$o" puts) ))
        [ "$n" -ge "$OPS" ] && [ "$n" -le $((OPS + 1)) ] && ok || bad "$v/$s: gets+puts=$n, expected ops=$OPS"
        hr=$(get "$o" hit_rate)
        python3 -c "import sys; sys.exit(0 if 0.05 < $hr < 0.95 else 1)" && ok || bad "$v/$s: hit_rate $hr"
        leaked=$(get "$o" leaked_objects)
        if [ "$s" = none ]; then
            [ "$leaked" = "$(get "$o" live_objects_end)" ] && ok || bad "$v/none leaked $leaked, not all it made"
        else
            [ "$leaked" = 0 ] && ok || bad "$v/$s leaked $leaked objects"
        fi
    done
done
# the same stream for every strategy: the strong caches see the same hits
for v in lru unbounded; do
    for s in none rc; do
        [ "$(get "${out[$v/$s]}" hits)" = "$(get "${out[$v/rc+gen]}" hits)" ] && ok ||
            bad "$v: hits differ between $s and rc+gen"
    done
done
# lru: bounded at capacity, one eviction per put beyond it
for s in rc rc+gen; do
    o=${out[lru/$s]}
    [ "$(get "$o" cache_entries_end)" = $CAP ] && ok || bad "lru/$s entries $(get "$o" cache_entries_end) != $CAP"
    [ "$(get "$o" evictions)" = $(( $(get "$o" puts) - CAP )) ] && ok || bad "lru/$s evictions != puts - capacity"
done
# weak: entries only for objects some caller holds; under none nothing dies
for s in rc rc+gen; do
    e=$(get "${out[weak/$s]}" cache_entries_end)
    [ "$e" -le $HOLD ] && [ "$e" -gt 0 ] && ok || bad "weak/$s entries $e, expected 1..$HOLD"
done
[ "$(get "${out[weak/none]}" cache_entries_end)" = "$(get "${out[weak/none]}" puts)" ] && ok ||
    bad "weak/none: entries should equal puts (no value ever dies)"
# unbounded: the leak pattern — far more alive at the end, nothing leaked after the drop
for s in rc rc+gen; do
    u=$(get "${out[unbounded/$s]}" live_mb_end) l=$(get "${out[lru/$s]}" live_mb_end) w=$(get "${out[weak/$s]}" live_mb_end)
    python3 -c "import sys; sys.exit(0 if $u > 10 * $l and $u > 10 * $w else 1)" && ok ||
        bad "unbounded/$s live_mb_end $u not ≫ lru $l, weak $w"
done

# the live-bytes timeline written beside the RSS one (plots/cache_timeline): unbounded grows
TL=$(mktemp -d)
"$MS" run cache/rc+gen/system/slots/cache=unbounded/ops=50000/keys=5000/window=500 --ms_timeline="$TL/t.csv" \
    > /dev/null 2>&1 && ok || bad "cache run with --ms_timeline failed"
if [ -f "$TL/t.live.csv" ]; then
    rows=$(tail -n +2 "$TL/t.live.csv" | grep -c .)
    [ "$(head -1 "$TL/t.live.csv")" = "t_ms,live_mb" ] && [ "$rows" -gt 500 ] && ok ||
        bad "live timeline: header $(head -1 "$TL/t.live.csv"), $rows rows (expected > 500)"
    python3 - "$TL/t.live.csv" <<'PY' && ok || bad "live timeline of cache=unbounded does not grow"
import csv, sys
rows = [(float(r["t_ms"]), float(r["live_mb"])) for r in csv.DictReader(open(sys.argv[1]))]
assert all(b[0] >= a[0] for a, b in zip(rows, rows[1:])), "time goes back"
assert rows[-1][1] > 10 * max(rows[1][1], 0.01), rows[:2] + rows[-1:]
PY
else
    bad "no live timeline $TL/t.live.csv"
fi
rm -rf "$TL"

# batch: collections per policy
N=20000
a=$(counters "batch/rc+gen/system/slots/n=$N") && b=$(counters "batch/rc+gen/system/slots/n=$N/policy=batch")
[ "$(get "$b" gc_collections_gen0)" = 0 ] && [ "$(get "$b" gc_collections_gen1)" = 0 ] && ok ||
    bad "policy=batch ran gen0/gen1 collections during the batch"
[ "$(get "$b" gc_collections_gen2)" = 1 ] && ok || bad "policy=batch: $(get "$b" gc_collections_gen2) gen2 collections, expected 1"
[ "$(get "$a" gc_collections_gen0)" -gt 100 ] && ok || bad "policy=auto: only $(get "$a" gc_collections_gen0) gen0 collections"
for o in "$a" "$b"; do
    [ "$(get "$o" records)" = $N ] && ok || bad "batch built $(get "$o" records) records"
    [ "$(get "$o" leaked_objects)" = 0 ] && ok || bad "batch/rc+gen leaked $(get "$o" leaked_objects)"
done
# policy=batch's one collection frees every temporary ring (4 per record by default)
[ "$(get "$b" gc_collected)" = $((4 * N)) ] && ok || bad "policy=batch collected $(get "$b" gc_collected), expected $((4 * N))"
# pure refcounting leaks every record (fields point back) and every temporary ring
o=$(counters "batch/rc/system/slots/n=1000") && [ "$(get "$o" leaked_objects)" = $((1000 * 8)) ] && ok ||
    bad "batch/rc leaked $(get "$o" leaked_objects), expected 8000"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
