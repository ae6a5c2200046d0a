#!/usr/bin/env bash
# test_churn_order.sh — the churn table against an independent witness (issue 16): for glibc,
# jemalloc, mimalloc and pymalloc, churn's ns per pair net of the `void` floor must order the
# allocators as tests/churn_minloop.c (a bare malloc/free loop of the same shape, nothing of
# memstrat linked) does, for every pair the witness separates by more than 20%. Best of 3 runs
# each, and up to 3 attempts, so a neighbour's burst does not decide it; skipped (77) when the
# load average exceeds the CPUs. Timings are compared only as an order, never
# against a number. Skipped (77) in the sanitizer build, where jemalloc and mimalloc cannot run.
# usage: test_churn_order.sh path/to/memstrat source_dir
set -u
MS=$1
WITNESS=$(dirname "$MS")/tests/churn_minloop
# Pairs the witness separates by less than this are not compared: their order is noise.
MARGIN=1.2
LIVE=200000 ROUNDS=3
if "$MS" list --json | grep -q '"sanitize": true'; then
    echo "skipped: jemalloc and mimalloc cannot run beside ASan"; exit 77
fi
[ -x "$WITNESS" ] || { echo "FAILED: $WITNESS not built"; exit 1; }
# An order of timings means nothing on a machine busier than its CPUs: skipped, said in one line.
if awk -v l="$(cut -d' ' -f1 /proc/loadavg)" -v n="$(nproc)" 'BEGIN { exit !(l > n) }'; then
    echo "skipped: a timing order needs a quiet machine (load average $(cut -d' ' -f1 /proc/loadavg) on $(nproc) CPUs)"
    exit 77
fi
lib() { # the library file of a malloc, as the loader finds it
    ldconfig -p | awk -v n="$1" '$1 == n { print $NF; exit }'
}
best() { sort -g | head -1; }
churn() { # allocator -> best ns_per_pair of 3
    for _ in 1 2 3; do
        "$MS" run "churn/none/$1/slots/live=$LIVE/rounds=$ROUNDS" --benchmark_format=json 2>/dev/null |
            /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['benchmarks'][0]['ns_per_pair'])"
    done | best
}
witness() { # allocator preload -> best ns per pair of 3
    for _ in 1 2 3; do LD_PRELOAD=$2 "$WITNESS" "$1" $LIVE $ROUNDS 1; done | best
}
# One attempt: measure, compare; sets pass and fail. A disagreement is measured again (up to
# ATTEMPTS times) before it counts: a neighbour's burst can reorder one attempt, not three.
ATTEMPTS=3
attempt() {
floor=$(churn void)
declare -gA net wit
for a in system jemalloc mimalloc pymalloc; do
    case $a in
    system) w=$(witness glibc "") ;;
    pymalloc) w=$(witness pymalloc "") ;;
    *) w=$(witness "$a" "$(lib lib$a.so.2)") ;;
    esac
    c=$(churn "$a")
    net[$a]=$(awk -v c="$c" -v f="$floor" 'BEGIN { print c - f }')
    wit[$a]=$w
    printf '%-9s witness %8.1f ns/pair   churn %8.1f - void %6.1f = net %8.1f\n' "$a" "$w" "$c" "$floor" "${net[$a]}"
done
pass=0 fail=0
for a in system jemalloc mimalloc pymalloc; do
    for b in system jemalloc mimalloc pymalloc; do
        [ "$a" \< "$b" ] || continue
        verdict=$(awk -v wa="${wit[$a]}" -v wb="${wit[$b]}" -v na="${net[$a]}" -v nb="${net[$b]}" -v m=$MARGIN '
            BEGIN { if (wa > wb * m) w = 1; else if (wb > wa * m) w = -1; else { print "skip"; exit }
                    n = na > nb ? 1 : -1; print (w == n ? "ok" : "bad") }')
        case $verdict in
        ok) pass=$((pass + 1)) ;;
        bad) fail=$((fail + 1)); echo "FAILED: $a vs $b: witness ${wit[$a]} vs ${wit[$b]}, churn net ${net[$a]} vs ${net[$b]}" ;;
        esac
    done
done
echo "$pass pairs ordered alike, $fail not (pairs within ${MARGIN}x in the witness not compared)"
}
for k in $(seq 1 $ATTEMPTS); do
    attempt
    [ "$pass" -gt 0 ] && [ "$fail" -eq 0 ] && exit 0
    [ "$k" -lt $ATTEMPTS ] && echo "attempt $k disagreed: measuring again"
done
exit 1
