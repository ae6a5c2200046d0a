#!/usr/bin/env bash
# test_churn.sh — the `churn` workload end to end through `memstrat run`.
# Every sizes × free combination runs (small live set) on every allocator that
# `memstrat list` names: exit 0, ns_per_pair > 0, pairs = live·rounds, the
# other churn counters present, no leaked objects (raw blocks are not objects),
# and on `system` the allocator's live bytes back to 0 (every block freed).
# An allocator whose cells fail with an "unavailable"/preload message (a
# library missing, or one that cannot be preloaded in this build) is skipped,
# and said so. Bad knobs get exactly one line naming the knob and exit 2.
# usage: test_churn.sh path/to/memstrat source_dir
set -u
MS=$1
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAILED: $*" >&2; }

# Small enough for the sanitizer build, large enough for several pages of blocks.
LIVE=3000 ROUNDS=2
SIZES="uniform16-512 cpython fixed32"
ORDERS="lifo fifo shuffled"

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

C=churn/none/system/slots
expect_bad "knob 'sizes'" run $C/sizes=bogus
expect_bad "knob 'free'" run $C/free=bogus
expect_bad "knob 'live'" run $C/live=0
expect_bad "knob 'live'" run $C/live=101m
expect_bad "knob 'rounds'" run $C/rounds=-1
expect_bad "knob 'rounds'" run $C/rounds=0
expect_bad "knob 'seed'" run $C/seed=abc

list=$("$MS" list)
for word in churn "live=1000000" "rounds=3" "sizes=uniform16-512" "free=shuffled" "seed="; do
    case "$list" in *"$word"*) ok ;; *) bad "list lacks $word" ;; esac
done
# The allocator names: the indented lines between "allocators:" and "layouts:".
allocators=$(printf '%s\n' "$list" | sed -n '/^allocators:/,/^layouts:/p' | sed -n 's/^  \([a-z0-9_+-]\{1,\}\) .*/\1/p')
case " $(echo $allocators) " in *" system "*) ok ;; *) bad "list names no system allocator ($allocators)" ;; esac

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for alloc in $allocators; do
    cells=()
    for s in $SIZES; do for f in $ORDERS; do
        cells+=("churn/none/$alloc/slots/live=$LIVE/rounds=$ROUNDS/sizes=$s/free=$f")
    done; done
    "$MS" run "${cells[@]}" --benchmark_format=json >"$tmp/out.json" 2>"$tmp/err.txt"; rc=$?
    if [ "$rc" -ne 0 ] && grep -qiE 'unavailable|preload|does not come first' "$tmp/err.txt"; then
        echo "SKIP: allocator $alloc: $(head -1 "$tmp/err.txt")"
        continue
    fi
    [ "$rc" -eq 0 ] && ok || bad "$alloc: exit $rc: $(head -3 "$tmp/err.txt")"
    # One line per cell that is wrong; nothing when all nine are right.
    problems=$(python3 - "$tmp/out.json" "$alloc" "$LIVE" "$ROUNDS" "${cells[@]}" <<'EOF'
import json, sys
path, alloc, live, rounds, cells = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5:]
try:
    runs = {b["name"].split("/iterations:")[0]: b for b in json.load(open(path))["benchmarks"]}
except Exception as e:
    print("%s: no JSON (%s)" % (alloc, e)); sys.exit()
for cell in cells:
    b = runs.get(cell)
    if b is None:
        print("%s: no result" % cell); continue
    if b.get("error_occurred"):
        print("%s: %s" % (cell, b.get("error_message"))); continue
    for c in ("ns_per_pair", "pairs", "fill_ns_per_alloc", "free_all_ns_per_free", "mean_block_bytes",
              "live_payload_mb", "table_mb", "leaked_objects", "rss_peak_mb"):
        if c not in b: print("%s: counter %s missing" % (cell, c))
    if not b.get("ns_per_pair", 0) > 0: print("%s: ns_per_pair %s" % (cell, b.get("ns_per_pair")))
    if b.get("pairs") != live * rounds: print("%s: pairs %s, expected %d" % (cell, b.get("pairs"), live * rounds))
    if b.get("leaked_objects") != 0: print("%s: leaked_objects %s" % (cell, b.get("leaked_objects")))
    if alloc == "system" and b.get("alloc_live_mb") != 0:
        print("%s: alloc_live_mb %s after the teardown" % (cell, b.get("alloc_live_mb")))
    if "fixed32" in cell and b.get("mean_block_bytes") != 32: print("%s: mean_block_bytes %s" % (cell, b.get("mean_block_bytes")))
EOF
)
    if [ -z "$problems" ]; then ok; else bad "$problems"; fi
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
