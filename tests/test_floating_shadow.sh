#!/usr/bin/env bash
# test_floating_shadow.sh — `memstrat run --ms_floating=N`, the shadow run, end to end: its
# collections are the timed run's (the census takes no malloc memory, so even rc+ft memgate=on,
# which reads malloc's figures, decides the same); the floating_* counters and the timeline
# (a point every N allocations plus the last); n/a for boehm (one line, no counters); bad
# flags exit 2 with one line.
# usage: test_floating_shadow.sh path/to/memstrat source_dir
set -u
MS=$1
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAILED: $*" >&2; }
T=$(mktemp -d "${TMPDIR:-/tmp}/memstrat-floating.XXXXXX")
trap 'rm -rf "$T"' EXIT
counters() { grep -oE '(gc_collections_gen[0-2]|gc_collected|leaked_objects)=[^ ]+' | sort | tr '\n' ' '; }

for cell in "cycles/rc+ft/system/slots/cycles=40000/live=20000/memgate=on" \
    "cycles/rc+gen/system/slots/cycles=40000/live=20000/gc=cpython313" "cycles/rc+incr/system/slots/cycles=40000/live=20000" \
    "request/rc+trial/system/shared/requests=200/warmup=20"; do
    timed=$("$MS" run "$cell" 2>/dev/null | counters)
    out=$("$MS" run "$cell" --ms_floating=1000 --ms_floating_timeline="$T/fl.csv" 2>/dev/null)
    shadow=$(counters <<< "$out")
    [ -n "$timed" ] && [ "$timed" = "$shadow" ] && ok || bad "$cell: shadow collections differ: '$timed' vs '$shadow'"
    grep -qE "floating_peak_objects=[0-9]" <<< "$out" && grep -qE "floating_mean_mb=[0-9]" <<< "$out" && ok \
        || bad "$cell: no floating counters"
    alloc=$(grep -oE 'objects_allocated=[0-9.k]+' <<< "$out" | head -1 | cut -d= -f2)
    rows=$(($(wc -l < "$T/fl.csv") - 1))
    passes=$(grep -oE 'floating_passes=[0-9]+' <<< "$out" | cut -d= -f2)
    [ "$rows" -eq "$passes" ] && [ "$rows" -ge 2 ] && ok || bad "$cell: $rows timeline rows, $passes passes ($alloc allocated)"
    head -1 "$T/fl.csv" | grep -qx 't_ms,allocations,floating_objects,floating_mb,live_mb' && ok || bad "$cell: timeline header"
done
# the timeline: allocations 1000, 2000, ... then the last pass
awk -F, 'NR > 1 && NR < 5 && $2 != (NR - 1) * 1000 { exit 1 }' "$T/fl.csv" && ok || bad "points not every 1000 allocations"

if out=$("$MS" run ring/boehm/system/slots/n=1000 --ms_floating=100 2>&1); then
    grep -q "floating garbage is not measured" <<< "$out" && ! grep -q "floating_peak" <<< "$out" && ok \
        || bad "boehm: no n/a line, or counters: $(grep -oE 'floating[^ ]+' <<< "$out")"
else
    grep -q "AddressSanitizer" <<< "$out" && echo "SKIP: boehm (sanitizer build)" || bad "boehm shadow failed: $(tail -1 <<< "$out")"
fi
for args in "--ms_floating=0" "--ms_floating=x" "--ms_floating_timeline=$T/x.csv"; do
    err=$("$MS" run list/rc/system/slots/n=100 $args 2>&1 >/dev/null); rc=$?
    [ $rc -eq 2 ] && [ "$(grep -c '' <<< "$err")" -eq 1 ] && ok || bad "$args: exit $rc: $err"
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
