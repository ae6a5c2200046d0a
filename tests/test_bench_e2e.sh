#!/usr/bin/env bash
# test_bench_e2e.sh — `memstrat bench` end to end, against the real cell runner.
# Contract checked: a good run exits 0 and publishes results/<run-id>/ (results.csv with one
# row per cell x rep and every required counter, summary.csv with one row per cell, meta.json,
# per-rep json/timeline/pauses files, PNG plots when gnuplot exists) and repoints latest; the
# leak figures are right (list/rc leaks 0, ring/rc and ring/none leak every node); reusing a
# run id, an unknown option, a missing or malformed matrix, an unknown cell all exit 2 with one
# line on stderr and write nothing; a failed or stuck cell fails the run (exit 1) but the run is
# still published; SIGTERM mid-run removes only that run's .tmp dir.
# usage: test_bench_e2e.sh path/to/memstrat source_dir
set -u
MS=$(realpath "$1")
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAILED: $*" >&2; }
check() { # description command...
    local what=$1; shift
    if "$@"; then ok; else bad "$what"; fi
}

T=$(mktemp -d "${TMPDIR:-/tmp}/memstrat-bench-e2e.XXXXXX")
trap 'rm -rf "$T"' EXIT
N=10000
cat > "$T/matrix.txt" <<EOF
# tiny matrix for the end-to-end test
list/rc/system/slots/n=$N
ring/rc/system/slots/n=$N   # cycles: rc leaks them
ring/none/system/slots/n=$N
EOF
R=$T/results

# column NAME FILE: "cell=value" of a CSV column picked by header name (these cells hold no
# commas or quotes, so plain -F, splitting is exact)
column() {
    awk -F, -v want="$1" 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == want) c = i
                                                               if ($i == "cell") k = i }
                                    next }
                          c && k { print $k "=" $c }' "$2"
}

# --- a good run ---------------------------------------------------------------------------
"$MS" bench --matrix "$T/matrix.txt" --reps 2 --out "$R" --run-id t1 --gcscan-n 20000 > "$T/out1" 2> "$T/err1"
rc=$?
check "good run exits 0 (got $rc): $(tail -3 "$T/err1")" test "$rc" -eq 0
D=$R/t1
check "results.csv exists" test -f "$D/results.csv"
# the gc-scan table: rc+gen and CPython side by side, 2 shapes x 2 sides x 2 reps
check "gc_scan.csv has rc+gen rows" test "$(grep -c '^list,memstrat-rc+gen-system,20000,' "$D/gc_scan.csv")" -eq 2
check "gc_scan.csv has CPython rows" test "$(grep -c '^tree,cpython-3\.11' "$D/gc_scan.csv")" -eq 2
check "gc-scan table printed with its ratio" grep -qE '^tree +[0-9.]+ \[.*\] +[0-9.]+ \[.*3\.11.* [0-9.]+x' "$T/out1"
header=$(head -1 "$D/results.csv" 2>/dev/null)
for c in run_id cell workload reclaim allocator layout knobs rep real_time_ms cpu_time_ms \
    ops_per_s pause_count pause_total_ms pause_p50_us pause_p90_us pause_p99_us pause_p999_us \
    pause_max_us rss_peak_mb rss_final_mb live_objects live_bytes leaked_objects leaked_bytes; do
    case ",$header," in *",$c,"*) ok ;; *) bad "results.csv header lacks $c" ;; esac
done
rows=$(tail -n +2 "$D/results.csv" 2>/dev/null | grep -c .)
check "results.csv has 6 data rows (got $rows)" test "$rows" -eq 6
leaks=$(column leaked_objects "$D/results.csv" 2>/dev/null)
check "list/rc leaks 0 in both reps: $leaks" \
    test "$(grep -c "^list/rc/system/slots/n=$N=0$" <<< "$leaks")" -eq 2
check "ring/rc leaks $N in both reps: $leaks" \
    test "$(grep -c "^ring/rc/system/slots/n=$N=$N$" <<< "$leaks")" -eq 2
check "ring/none leaks $N in both reps: $leaks" \
    test "$(grep -c "^ring/none/system/slots/n=$N=$N$" <<< "$leaks")" -eq 2
knobs=$(column knobs "$D/results.csv" | sort -u | tr '\n' ' ')
check "knobs column holds n=$N: $knobs" test "$(column knobs "$D/results.csv" | grep -vc "=n=$N$")" -eq 0
srows=$(tail -n +2 "$D/summary.csv" 2>/dev/null | grep -c .)
check "summary.csv has 3 rows (got $srows)" test "$srows" -eq 3
shead=$(head -1 "$D/summary.csv" 2>/dev/null)
for c in time_median_ms time_cv_pct ops_per_s_median rss_peak_mb_max pause_p99_us_median \
    leaked_objects_median overhead_vs_none_pct; do
    case ",$shead," in *",$c,"*) ok ;; *) bad "summary.csv header lacks $c" ;; esac
done
ovh=$(column overhead_vs_none_pct "$D/summary.csv")
check "ring/none overhead over itself is 0: $ovh" grep -qx "ring/none/system/slots/n=$N=0" <<< "$ovh"
check "ring/rc has an overhead over ring/none: $ovh" grep -qx "ring/rc/system/slots/n=$N=-\?[0-9.]\+" <<< "$ovh"
check "list/rc has no none cell to compare with: $ovh" grep -qx "list/rc/system/slots/n=$N=" <<< "$ovh"
check "meta.json parses and names the run" python3 -c "
import json, sys
m = json.load(open(sys.argv[1]))
assert m['run_id'] == 't1' and m['reps'] == 2, m
assert len(m['matrix']['cells']) == 3
for k in ('started_utc', 'finished_utc', 'git', 'build', 'libraries', 'machine'):
    assert k in m, k
assert m['build']['compiler'] and m['machine']['cpu_model']
assert m['failures'] == []
" "$D/meta.json"
for sub in json timeline pauses; do
    n=$(ls "$D/$sub" 2>/dev/null | grep -c '\.rep[12]\.')
    check "$sub/ has 6 files (got $n)" test "$n" -eq 6
done
# floating garbage: one shadow run per cell of a shadowed workload (ring, not list: bench.py's
# SHADOW_WORKLOADS), its counters beside every repetition; list's cell reports none (n/a)
fl=$(column floating_peak_objects "$D/results.csv" 2>/dev/null)
check "list/rc: not shadowed, no figure: $fl" \
    test "$(grep -c "^list/rc/system/slots/n=$N=$" <<< "$fl")" -eq 2
check "ring/rc: the dropped ring floats, $N nodes: $fl" \
    test "$(grep -c "^ring/rc/system/slots/n=$N=$N$" <<< "$fl")" -eq 2
check "ring/none: $N floating: $fl" test "$(grep -c "^ring/none/system/slots/n=$N=$N$" <<< "$fl")" -eq 2
sfl=$(column floating_peak_mb_median "$D/summary.csv" 2>/dev/null)
check "summary.csv has floating_peak_mb_median: $sfl" grep -qx "ring/rc/system/slots/n=$N=[0-9.]\+" <<< "$sfl"
n=$(ls "$D/timeline" 2>/dev/null | grep -c '\.floating\.csv$')
check "timeline/ has 2 floating-garbage timelines (got $n)" test "$n" -eq 2
n=$(ls "$D/json" 2>/dev/null | grep -c '\.shadow\.json$')
check "json/ has 2 shadow runs (got $n)" test "$n" -eq 2
check "no .part or .tmp files left" test -z "$(find "$D" -name '*.part' -o -name '*.tmp')"
check "latest points to t1" test "$(readlink "$R/latest")" = t1
check "no .tmp run dir left" test -z "$(ls -A "$R" | grep '^\.tmp-')"
check "summary table on stdout" grep -q "ring/none/system/slots/n=$N" "$T/out1"
check "progress lines on stderr" grep -q "^\[6/6\] .* rep 2/2 " "$T/err1"
if command -v gnuplot > /dev/null; then
    png=$(ls "$D"/plots/*.png 2>/dev/null | head -1)
    check "a PNG exists under plots/" test -n "$png"
    magic=$(head -c 8 "${png:-/dev/null}" | od -An -tx1 | tr -d ' \n')
    check "PNG magic bytes ($magic)" test "$magic" = 89504e470d0a1a0a
    for p in throughput rss_peak rss_timeline; do
        check "plots/$p.png and .svg exist" test -s "$D/plots/$p.png" -a -s "$D/plots/$p.svg"
    done
    rm -f "$D"/plots/*.png "$D"/plots/*.svg
    "$MS" bench --plots-only "$D" > /dev/null 2> "$T/errp"
    check "--plots-only redraws (exit $?): $(cat "$T/errp")" test -s "$D/plots/throughput.png"
else
    echo "note: gnuplot not installed; plot checks skipped" >&2
fi

# --- refusals: exit 2, one line on stderr, nothing written ---------------------------------
sum_before=$(cat "$D/results.csv" "$D/meta.json" | cksum)
expect_refusal() { # what out_dir args...
    local what=$1 out=$2; shift 2
    local err rc lines
    err=$("$MS" bench "$@" 2>&1 > /dev/null); rc=$?
    lines=$(printf '%s' "$err" | grep -c '')
    check "$what: exit 2 (got $rc): $err" test "$rc" -eq 2
    check "$what: one line on stderr (got $lines): $err" test "$lines" -eq 1
    if [ "$out" != "$R" ]; then
        check "$what: nothing created" test ! -e "$out"
    fi
}
expect_refusal "same run id" "$R" --matrix "$T/matrix.txt" --reps 2 --out "$R" --run-id t1
check "t1 intact after refusal" test "$(cat "$D/results.csv" "$D/meta.json" | cksum)" = "$sum_before"
check "latest still t1" test "$(readlink "$R/latest")" = t1
expect_refusal "unknown option" "$T/r2" --matrix "$T/matrix.txt" --out "$T/r2" --frobnicate
expect_refusal "bad --reps" "$T/r2" --matrix "$T/matrix.txt" --out "$T/r2" --reps 0
expect_refusal "bad --gcscan-n" "$T/r2" --matrix "$T/matrix.txt" --out "$T/r2" --gcscan-n -5
expect_refusal "missing matrix" "$T/r2" --matrix "$T/nope.txt" --out "$T/r2"
printf 'list/rc/system/slots/n=10\nlist/rc\n' > "$T/bad.txt"
expect_refusal "malformed matrix" "$T/r2" --matrix "$T/bad.txt" --out "$T/r2"
printf 'list/rc/system/slots/n=10\n\nlist/rc/system/slots/n=10\n' > "$T/dup.txt"
expect_refusal "duplicate cell" "$T/r2" --matrix "$T/dup.txt" --out "$T/r2"
err=$("$MS" bench --matrix "$T/dup.txt" --out "$T/r2" 2>&1)
check "duplicate names file:line: $err" grep -q "dup.txt:3:" <<< "$err"
printf 'list/rc/system/slots/n=10\nlisst/rc/system/slots\n' > "$T/unknown.txt"
expect_refusal "unknown workload" "$T/r2" --matrix "$T/unknown.txt" --out "$T/r2"
err=$("$MS" bench --matrix "$T/unknown.txt" --out "$T/r2" 2>&1)
check "unknown workload named with file:line: $err" grep -q "unknown.txt:2:.*lisst" <<< "$err"

# --- failures: a crashing and a stuck cell fail the run, which is still published ---------
cat > "$T/wrap.sh" <<EOF
#!/usr/bin/env bash
# stand-in runner: the real one, except for two cells that crash or hang
for a in "\$@"; do case \$a in --benchmark_list_tests=true) exec "$MS" "\$@";; esac; done
case \$2 in
  */n=11) echo "simulated crash in workload" >&2; exit 3;;
  */n=12) [ -n "\${PIDFILE:-}" ] && echo \$\$ > "\$PIDFILE"; exec sleep 60;;
esac
exec "$MS" "\$@"
EOF
chmod +x "$T/wrap.sh"
printf 'list/rc/system/slots/n=100\nlist/rc/system/slots/n=11\nlist/none/system/slots/n=12\n' > "$T/fail.txt"
"$MS" bench --matrix "$T/fail.txt" --reps 1 --out "$R" --run-id f1 --memstrat "$T/wrap.sh" \
    --timeout 2 --no-plots --gcscan-n 0 > /dev/null 2> "$T/errf"
rc=$?
check "failed cells: exit 1 (got $rc)" test "$rc" -eq 1
check "crash shown with the child's last stderr line" grep -q "FAILED.*simulated crash in workload" "$T/errf"
check "stuck cell timed out" grep -q "FAILED.*timed out after 2 s" "$T/errf"
check "failed run still published" test -f "$R/f1/results.csv"
frows=$(tail -n +2 "$R/f1/results.csv" 2>/dev/null | grep -c .)
check "only the good rep in results.csv (got $frows)" test "$frows" -eq 1
check "failures listed in meta.json" python3 -c "
import json, sys
assert len(json.load(open(sys.argv[1]))['failures']) == 2" "$R/f1/meta.json"
check "latest points to f1" test "$(readlink "$R/latest")" = f1

# --- SIGTERM mid-run: only the run's own .tmp dir goes -------------------------------------
printf 'list/none/system/slots/n=12\n' > "$T/hang.txt"
PIDFILE=$T/int1.pid "$MS" bench --matrix "$T/hang.txt" --reps 1 --out "$R" --run-id int1 --memstrat "$T/wrap.sh" \
    --no-plots --gcscan-n 0 > /dev/null 2> "$T/erri" &
bp=$!
# until the hanging cell runs (its pid written). Waiting for the "rep 1/1" line took the full 10 s
# every time: the cell's warm-up, which comes first, is what hangs.
for _ in $(seq 100); do [ -s "$T/int1.pid" ] && break; sleep 0.1; done
check "the hanging cell started" test -s "$T/int1.pid"
check ".tmp dir exists while running" test -d "$R/.tmp-int1"
kill -TERM "$bp"
wait "$bp"
rc=$?
check "SIGTERM: exit 143 (got $rc)" test "$rc" -eq 143
check "SIGTERM: .tmp dir removed" test ! -e "$R/.tmp-int1"
check "SIGTERM: no run dir" test ! -e "$R/int1"
check "SIGTERM: latest untouched" test "$(readlink "$R/latest")" = f1
check "SIGTERM: t1 untouched" test "$(cat "$D/results.csv" "$D/meta.json" | cksum)" = "$sum_before"

# --- the collector table: rc+trial beside rc+gen, same workload, ratios in collectors.csv ---
printf 'ring/rc+gen/system/slots/n=2000\nring/rc+trial/system/slots/n=2000/policy=auto\n' > "$T/coll.txt"
"$MS" bench --matrix "$T/coll.txt" --reps 1 --out "$R" --run-id coll1 --no-plots --gcscan-n 0 > "$T/outc" 2> /dev/null
check "collector bench exits 0" test $? -eq 0
check "collectors.csv pairs rc+trial with rc+gen" \
    grep -q '^ring/rc+trial/system/slots/n=2000/policy=auto,ring/rc+gen/system/slots/n=2000,' "$R/coll1/collectors.csv"
check "collector table printed" grep -q 'collectors beside rc+gen' "$T/outc"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
