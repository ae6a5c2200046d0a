#!/usr/bin/env bash
# test_tune.sh — `memstrat tune` and `memstrat merge` end to end, on a tiny fast grid.
# Contract checked: tune on a 2x2 grid (--reps 2) publishes a run with tune.csv (one row per
# point), prints a Pareto front and a recommendation naming a gc= string of the grid with its
# gc.set_threshold() spelling; a constraint no point meets says so; --from on the run rewrites
# the same tune.csv byte for byte; merging a run and analysing the copy gives the same front;
# --emit-jobs prints exactly points + 2 commands (default and none cells; no none cell beside a
# cpython cell), two of them run with
# sh and merged give a run whose summary.csv has those cells; all jobs merged give a front that
# matches one computed independently (awk) from the merged summary.csv; merge refuses
# different reps, a non-run, a taken run id, and never changes its inputs; every bad grid or
# goal gives exactly one stderr line and exit 2 and runs nothing.
# usage: test_tune.sh path/to/memstrat source_dir
set -u
MS=$(realpath "$1")
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAILED: $*" >&2; }
check() { # description command...
    local what=$1; shift
    if "$@"; then ok; else bad "$what"; fi
}

T=$(mktemp -d "${TMPDIR:-/tmp}/memstrat-tune.XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
CELL=list/rc+gen/system/slots/n=20000
GRID=(--grid gen0=100..10000 gen1=2,50 --points 2)
R=$T/results

# front LISTING: the knob strings of the front lines, sorted
front_of() { grep '^  front: ' "$1" | awk '{print $2}' | sort; }

# --- a local tune run -----------------------------------------------------------------------
mkdir -p "$R/bench-run" && ln -s bench-run "$R/latest"  # a bench run's latest must stay put
"$MS" tune "$CELL" "${GRID[@]}" --reps 2 --out "$R" --run-id t1 --goal max-throughput \
    > out1 2> err1
rc=$?
check "tune exits 0 (got $rc): $(tail -3 err1)" test "$rc" -eq 0
D=$R/t1
rows=$(tail -n +2 "$D/tune.csv" 2>/dev/null | grep -c .)
check "tune.csv has 4 rows (got $rows)" test "$rows" -eq 4
check "tune.csv has the axis and metric columns" \
    grep -q '^point,knobs,cell,gen0,gen1,status,reps,time_median_ms,ops_per_s_median,pause_p99_us_median,pause_max_us_median,pause_max_us_max,rss_peak_mb_median,time_cv_pct,.*,on_front,' "$D/tune.csv"
check "tune.txt written" test -s "$D/tune.txt"
check "tune leaves results/latest alone (-> $(readlink "$R/latest"))" test "$(readlink "$R/latest")" = bench-run
check "summary.csv has 4 points + default + none" test "$(tail -n +2 "$D/summary.csv" | grep -c .)" -eq 6
check "the none cell ran" grep -q '^list/none/system/slots/n=20000,' "$D/summary.csv"
check "a front is printed" grep -q '^Pareto front (max throughput, min p99 pause, min peak RSS): [1-4] of 4 points' out1
nf=$(front_of out1 | grep -c .)
check "front lists 1..4 points (got $nf)" test "$nf" -ge 1 -a "$nf" -le 4
flags=$(python3 -c "
import csv, sys
print(' '.join(sorted(r['knobs'] for r in csv.DictReader(open(sys.argv[1])) if r['on_front'] == '1')))" "$D/tune.csv")
check "front flags in tune.csv match the printed front: $flags" test "$flags" = "$(front_of out1 | tr '\n' ' ' | sed 's/ $//')"
rec=$(sed -n 's/^recommend: \(gc=[0-9,]*\)  ->  gc.set_threshold(\([0-9, ]*\)).*/\1 \2/p' out1)
check "recommendation names a gc= string and gc.set_threshold: '$rec'" test -n "$rec"
case "${rec%% *}" in
gc=100,2,10 | gc=100,50,10 | gc=10000,2,10 | gc=10000,50,10) ok ;;
*) bad "recommended '${rec%% *}' is not a grid point" ;;
esac
check "Python spelling matches the knob" test "$(echo "$rec" | awk '{print $2$3$4}')" = "$(echo "${rec%% *}" | sed 's/gc=//')"
check "heatmaps or a gnuplot-skip line" \
    bash -c "test -f '$D/plots/tune_heatmap_throughput.png' -a -f '$D/plots/tune_pareto.svg' || grep -q 'gnuplot not found' err1"

cp "$D/tune.csv" tune1.csv

# --- a goal no point meets --------------------------------------------------------------------
"$MS" tune "$CELL" "${GRID[@]}" --from "$D" --goal 'p99<=1ns' --no-plots > out2 2> err2
rc=$?
check "unmeetable goal still exits 0 (got $rc): $(cat err2)" test "$rc" -eq 0
check "unmeetable goal says none meets it" grep -q '^recommend: none: no grid point meets p99<=1ns' out2

# --- --from on the same run reproduces tune.csv --------------------------------------------------
"$MS" tune "$CELL" "${GRID[@]}" --from "$D" --goal max-throughput --no-plots > out3 2> err3
check "--from exits 0: $(cat err3)" test $? -eq 0
check "--from rewrites the same tune.csv" cmp -s tune1.csv "$D/tune.csv"
check "--from prints the same front" test "$(front_of out3)" = "$(front_of out1)"

# --- merge of the local run: the copy gives the same front ------------------------------------
# what a merge must never change in its inputs
inputs_sum() { (cd "$D" && find json pauses timeline logs meta.json results.csv summary.csv -type f -exec md5sum {} + | sort | md5sum); }
sum_before=$(inputs_sum)
"$MS" merge "$D" --out "$R" --run-id m1 --no-plots > /dev/null 2> errm1
check "merge of one run exits 0: $(cat errm1)" test $? -eq 0
"$MS" tune "$CELL" "${GRID[@]}" --from "$R/m1" --goal max-throughput --no-plots > out4 2> err4
check "front from the merged copy equals the local front" test "$(front_of out4)" = "$(front_of out1)"
check "same recommendation from the merged copy" \
    test "$(grep '^recommend:' out4)" = "$(grep '^recommend:' out1)"
check "merged meta.json names its source" grep -q '"merged_from"' "$R/m1/meta.json"

# --- --emit-jobs -------------------------------------------------------------------------------
"$MS" tune "$CELL" "${GRID[@]}" --reps 2 --out "$R" --run-id e --emit-jobs > jobs.txt 2> errj
rc=$?
check "--emit-jobs exits 0 (got $rc)" test "$rc" -eq 0
check "--emit-jobs prints 6 commands (4 points + default + none), got $(grep -c . jobs.txt)" \
    test "$(grep -c . jobs.txt)" -eq 6
check "jobs name the binary by absolute path" test "$(grep -c "'$MS' bench " jobs.txt)" -eq 6
check "no job ran yet" test ! -e "$R/e-jobs"
check "emit-jobs says how to finish (merge, --from)" grep -q 'merge .* --from ' errj
# an interpreter cell has no none cell: 2 points + the default, and no job names reclaim none
"$MS" tune request/cpython/pymalloc/shared/requests=50/warmup=10 --grid gen0=700,5000 --reps 1 --out "$R" \
    --run-id ei --emit-jobs > jobsi.txt 2> erri
rc=$?
check "--emit-jobs on a cpython cell exits 0 (got $rc): $(tail -1 erri)" test "$rc" -eq 0
check "cpython --emit-jobs prints 3 commands (2 points + default), got $(grep -c . jobsi.txt)" \
    test "$(grep -c . jobsi.txt)" -eq 3
check "no none cell beside an interpreter" test "$(grep -c '/none/' jobsi.txt)" -eq 0
sed -n 2p jobs.txt | sh > /dev/null 2>&1
sed -n 3p jobs.txt | sh > /dev/null 2>&1
"$MS" merge "$R"/e-jobs/j-p002 "$R"/e-jobs/j-p003 --out "$R" --run-id two --no-plots > /dev/null 2> errm2
check "merge of two jobs exits 0: $(cat errm2)" test $? -eq 0
cells2=$(python3 -c "
import csv, sys
print(' '.join(sorted(r['cell'] for r in csv.DictReader(open(sys.argv[1])))))" "$R/two/summary.csv")
check "merged summary.csv has exactly those two cells: $cells2" \
    test "$cells2" = "$CELL/gc=100,50,10 $CELL/gc=10000,2,10"
"$MS" tune "$CELL" "${GRID[@]}" --from "$R/two" --no-plots > out5 2> err5
check "--from on a partial run warns about the missing points" grep -q '2 of 4 grid points are missing' err5
check "--from on a partial run marks them in tune.csv" test "$(grep -c ',missing,' "$R/two/tune.csv")" -eq 2
for n in 1 4 5 6; do sed -n ${n}p jobs.txt | sh > /dev/null 2>&1; done
"$MS" merge "$R"/e-jobs/j-* --out "$R" --run-id all --no-plots > /dev/null 2> errm3
check "merge of all jobs exits 0: $(cat errm3)" test $? -eq 0
"$MS" tune "$CELL" "${GRID[@]}" --from "$R/all" --no-plots > out6 2> err6
check "--from on the merged jobs exits 0: $(cat err6)" test $? -eq 0
# the front, computed independently from summary.csv (columns by header name)
awk_front=$(python3 -c "
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r['cell'].startswith(sys.argv[2] + '/')]
m = [(r['cell'][len(sys.argv[2]) + 1:], float(r['ops_per_s_median']), float(r['pause_p99_us_median']),
      float(r['rss_peak_mb_median'])) for r in rows]
dom = lambda b, a: b[1] >= a[1] and b[2] <= a[2] and b[3] <= a[3] and (b[1] > a[1] or b[2] < a[2] or b[3] < a[3])
print('\\n'.join(sorted(a[0] for a in m if not any(dom(b, a) for b in m if b is not a))))" "$R/all/summary.csv" "$CELL")
check "front from merged jobs = front computed from summary.csv: '$(front_of out6 | tr '\n' ' ')' vs '$(echo $awk_front)'" \
    test "$(front_of out6)" = "$awk_front"

# --- merge refuses, and leaves its inputs alone -------------------------------------------------
"$MS" tune "$CELL" --grid gen0=100,200 --reps 1 --out "$R" --run-id r1 --no-plots > /dev/null 2>&1
"$MS" merge "$D" "$R/r1" --out "$R" --run-id bad1 > /dev/null 2> errb
rc=$?
check "merge of different reps: exit 2 (got $rc)" test "$rc" -eq 2
check "merge of different reps: one stderr line ($(wc -l < errb))" test "$(wc -l < errb)" -eq 1
check "merge of different reps wrote nothing" test ! -e "$R/bad1" -a ! -e "$R/.tmp-bad1"
"$MS" merge "$T" --out "$R" --run-id bad2 > /dev/null 2> errb
check "merge of a non-run: exit 2, one line" test $? -eq 2 -a "$(wc -l < errb)" -eq 1
"$MS" merge "$D" --out "$R" --run-id m1 > /dev/null 2> errb
check "merge onto a taken run id: exit 2, one line" test $? -eq 2 -a "$(wc -l < errb)" -eq 1
"$MS" merge "$D" "$D" --out "$R" --run-id bad3 > /dev/null 2> errb
check "merge of a run given twice: exit 2, one line" test $? -eq 2 -a "$(wc -l < errb)" -eq 1
check "merge never changed its input" test "$(inputs_sum)" = "$sum_before"

# --- bad input: one line, exit 2, nothing run ------------------------------------------------------
mkdir -p "$T/badcwd"
bad_input() { # description args...  (run in an empty directory that must stay empty)
    local what=$1; shift
    (cd "$T/badcwd" && "$MS" tune "$@" > ../badout 2> ../baderr)
    local rc=$? lines
    lines=$(wc -l < baderr)
    if [ "$rc" -eq 2 ] && [ "$lines" -eq 1 ] && [ -z "$(ls -A "$T/badcwd")" ]; then ok
    else bad "$what: rc=$rc, $lines stderr lines: $(head -3 baderr)"; fi
}
bad_input "unknown axis" "$CELL" --grid foo=1..5
bad_input "LO > HI" "$CELL" --grid gen0=500..100
bad_input "non-numeric bound" "$CELL" --grid gen0=100..lots
bad_input "non-numeric list value" "$CELL" --grid gen1=2,x
bad_input "LO = 0 in a log range" "$CELL" --grid gen0=0..100
bad_input "K < 2" "$CELL" --grid gen0=100..200 --points 1
bad_input "K absurd" "$CELL" --grid gen0=100..200 --points 50
bad_input "over the grid cap" "$CELL" --grid gen0=1..1000 gen1=1..1000 gen2=1..1000 --points 8
bad_input "axis twice" "$CELL" --grid gen0=1,2 gen0=3,4
bad_input "no axis" "$CELL" --grid
bad_input "four axes" "$CELL" --grid gen0=1,2 gen1=1,2 gen2=1,2 policy=auto,manual
bad_input "gen axes on none" list/none/system/slots --grid gen0=100..200
bad_input "gen axes on rc+incr" list/rc+incr/system/slots --grid gen0=100..200
bad_input "knob out of range (strategy check)" list/rc+incr/system/slots --grid scale=0,2
bad_input "cell already sets gc" "$CELL/gc=1,2,3" --grid gen0=100..200
bad_input "unknown strategy" list/rc+nope/system/slots --grid gen0=100..200
bad_input "bad goal syntax" "$CELL" --grid gen0=100..200 --goal 'p99<='
bad_input "goal without unit" "$CELL" --grid gen0=100..200 --goal 'p99<=2'
bad_input "unknown goal metric" "$CELL" --grid gen0=100..200 --goal 'latency<=2ms'
bad_input "unknown goal" "$CELL" --grid gen0=100..200 --goal fastest
bad_input "unsigned relative bound" "$CELL" --grid gen0=100..200 --goal 'rss<=10%'
bad_input "two objectives" "$CELL" --grid gen0=100..200 --goal min-p99,min-rss
bad_input "bad run id" "$CELL" --grid gen0=100..200 --run-id ../x
bad_input "--from with --reps" "$CELL" --grid gen0=100..200 --from "$D" --reps 3
bad_input "--from a non-run" "$CELL" --grid gen0=100..200 --from "$T"
bad_input "--from a run of another grid" "$CELL" --grid gen0=1,2 --from "$D"

echo "test_tune: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
