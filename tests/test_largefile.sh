#!/usr/bin/env bash
# test_largefile.sh — policy=pressure on the `largefile` workload, end to end.
# In one test run, largefile (2 files of 64 MiB, 1 MiB chunks) under rc+gen:
#   - policy=pressure with rss_limit=48m and a check on every allocation keeps the
#     peak RSS at or under the limit plus one chunk (49 MiB), on system and on
#     pymalloc, and every event leaves RSS under the limit;
#   - policy=auto, same files, peaks above that (gen0 waits for ~140 chunks of
#     garbage rings holding their 1 MiB copies);
#   - the counts are exact: one RSS check per object allocation
#     (files x (1 list + file_mb x (2 bytes + records + 1 result))), the
#     X.pressure.csv file has one row per event, nothing leaks.
# In a sanitizer build the RSS bounds do not apply (ASan's shadow and quarantine
# are RSS the heap cannot give back): the counts are still checked.
# Every new knob's bad values: one line, exit 2.
# usage: test_largefile.sh path/to/memstrat source_dir
set -u
MS=$1
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAILED: $*" >&2; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# expect_bad "what must appear in the message" cell
expect_bad() {
    local want=$1 err rc lines
    err=$("$MS" run "$2" 2>&1 >/dev/null); rc=$?
    lines=$(printf '%s' "$err" | grep -c '')
    if [ "$rc" -ne 2 ]; then bad "'$2' exit $rc, expected 2 ($err)"; return; fi
    if [ "$lines" -ne 1 ]; then bad "'$2' printed $lines lines: $err"; return; fi
    case "$err" in *"$want"*) ok ;; *) bad "'$2' message lacks '$want': $err" ;; esac
}

L=largefile/rc+gen/system/slots
expect_bad "knob 'rss_limit': policy=pressure needs a limit above 0" "$L/policy=pressure"
expect_bad "knob 'rss_limit': policy=pressure needs a limit above 0" "$L/policy=pressure/rss_limit=0"
expect_bad "knob 'rss_limit' applies only with policy=pressure" "$L/rss_limit=64m"
expect_bad "knob 'rss_limit' applies only with policy=pressure" "largefile/rc+incr/pool/slots/policy=freeze/rss_limit=1g"
expect_bad "knob 'pressure_check' applies only with policy=pressure" "$L/pressure_check=100"
expect_bad "knob 'rss_limit' must be digits with an optional k, m or g: '64x'" "$L/policy=pressure/rss_limit=64x"
expect_bad "knob 'rss_limit' must be in [0, 1099511627776]: -1 is out of range" "$L/policy=pressure/rss_limit=-1"
expect_bad "knob 'rss_limit' must be in [0, 1099511627776]: 2048g is out of range" "$L/policy=pressure/rss_limit=2048g"
expect_bad "knob 'pressure_check' must be digits" "$L/policy=pressure/rss_limit=1m/pressure_check=often"
expect_bad "knob 'pressure_check' must be in [0, 1000000000]: 2g is out of range" "$L/policy=pressure/rss_limit=1m/pressure_check=2g"
expect_bad "knob 'policy': 'presure' is not auto, manual, batch, freeze, pressure or manual+freeze" "$L/policy=presure"
expect_bad "unknown knob 'rss_limit'" "largefile/rc/system/slots/rss_limit=1m"
expect_bad "knob 'policy': pressure is not available under cpython" "list/cpython/pymalloc/slots/policy=pressure"
expect_bad "unknown knob 'rss_limit'" "list/cpython/pymalloc/slots/rss_limit=1m"
expect_bad "knob 'files' must be in [1, 1048576]: 0 is out of range" "$L/files=0"
expect_bad "knob 'file_mb' must be digits" "$L/file_mb=big"
expect_bad "knob 'records' must be in [2, 1024]: 1 is out of range" "$L/records=1"

# counters CELL [FLAGS]: "name=value" lines of the cell's counters; fails the test when the cell fails.
counters() {
    local cell=$1 json; shift
    if ! json=$("$MS" run "$cell" "$@" --benchmark_format=json 2>"$TMP/err"); then
        bad "$cell failed to run: $(tail -1 "$TMP/err")"; return 1
    fi
    printf '%s' "$json" | /usr/bin/python3 -c "
import json, sys
b = json.load(sys.stdin)['benchmarks'][0]
for k, v in b.items():
    if isinstance(v, (int, float)): print(f'{k}={v:.3f}' if k.endswith('_mb') else f'{k}={int(v)}')"
}
get() { printf '%s\n' "$1" | sed -n "s/^$2=//p"; }
le() { /usr/bin/python3 -c "import sys; sys.exit(0 if $1 <= $2 else 1)"; }

SAN=0
"$MS" list --json | grep -q '"sanitize": true' && SAN=1
[ $SAN = 1 ] && echo "note: sanitizer build: RSS bounds not checked, counts are" >&2

FILES=2 MB=64 REC=4 LIMIT_MB=48
declare -A pressure_peak
KN="files=$FILES/file_mb=$MB/records=$REC"
ALLOCS=$((FILES * (1 + MB * (REC + 3))))
for a in system pymalloc; do
    cell="largefile/rc+gen/$a/slots/$KN/policy=pressure/rss_limit=${LIMIT_MB}m/pressure_check=1"
    o=$(counters "$cell" --ms_timeline="$TMP/$a.csv") || continue
    [ "$(get "$o" chunks)" = $((FILES * MB)) ] && ok || bad "$a: chunks $(get "$o" chunks)"
    [ "$(get "$o" leaked_objects)" = 0 ] && ok || bad "$a: leaked $(get "$o" leaked_objects)"
    [ "$(get "$o" pressure_checks)" = "$ALLOCS" ] && ok || bad "$a: pressure_checks $(get "$o" pressure_checks), expected $ALLOCS"
    ev=$(get "$o" pressure_events)
    [ "$ev" -ge 1 ] && ok || bad "$a: no pressure event"
    [ "$(get "$o" gc_collections_gen2)" = "$ev" ] && ok || bad "$a: $ev events but $(get "$o" gc_collections_gen2) full collections"
    rows=$(($(grep -c '' "$TMP/$a.pressure.csv" 2>/dev/null || echo 0) - 1))
    [ "$rows" = "$ev" ] && ok || bad "$a: $TMP/$a.pressure.csv has $rows rows for $ev events"
    if [ $SAN = 0 ]; then
        peak=$(get "$o" rss_peak_mb)
        le "$peak" $((LIMIT_MB + 1)) && ok || bad "$a pressure: rss_peak_mb $peak over the limit plus one chunk ($((LIMIT_MB + 1)))"
        after=$(get "$o" pressure_rss_after_max_mb)
        le "$after" $LIMIT_MB && ok || bad "$a pressure: an event left RSS at $after MiB, over the limit"
        /usr/bin/python3 -c "
import csv, sys
rows = list(csv.DictReader(open('$TMP/$a.pressure.csv')))
sys.exit(0 if rows and all(float(r['rss_before_mb']) > $LIMIT_MB >= float(r['rss_after_mb']) for r in rows) else 1)" \
            && ok || bad "$a: a row of $a.pressure.csv is not over the limit before and under it after"
        pressure_peak[$a]=$peak
    fi
done
o=$(counters "largefile/rc+gen/system/slots/$KN")
if [ -n "$o" ] && [ $SAN = 0 ]; then
    peak=$(get "$o" rss_peak_mb)
    le $((LIMIT_MB + 1)) "$peak" && ok || bad "auto: rss_peak_mb $peak is not above the limit plus one chunk: the test shows nothing"
    echo "largefile $KN: peak RSS auto $peak MiB; pressure (rss_limit=${LIMIT_MB}m) system ${pressure_peak[system]:-?}, pymalloc ${pressure_peak[pymalloc]:-?} MiB"
fi
[ -n "$o" ] && { [ "$(get "$o" leaked_objects)" = 0 ] && ok || bad "auto: leaked"; }

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
