#!/bin/bash
# test_every_cell.sh — every workload runs under every reclaim strategy, layout and allocator
# that applies, with small knobs: exit 0, and under rc+gen, rc+trial, rc+incr, rc+ft and rc+pep848
# nothing leaks.
#
# Usage: test_every_cell.sh MEMSTRAT SOURCE_DIR
# Workloads × {none, rc, rc+gen, rc+trial, rc+incr, rc+ft, rc+pep848} × {slots, dict, shared} on system and pool
# (every combination; fewer pairs in the sanitizer build, below),
# boehm × every layout on system (exit status only),
# then every workload on each other allocator under rc+gen with one layout. Cells whose allocator
# cannot run in this build (jemalloc/mimalloc under ASan) are skipped with a note.
MS=$1
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAILED: $*" >&2; }

# Small knobs per workload: each cell runs in well under a second.
declare -A K=(
    [list]="n=20000" [ring]="n=20000" [tree]="stretch=10/longlived=8/max=8/array=1000" [trace]=""
    [churn]="live=5000/rounds=1" [instances]="n=20000"
    [cache]="ops=50000/keys=5000/window=500/capacity=200/hold=100" [batch]="n=5000"
    [request]="requests=300/warmup=50/appstate=200" [largefile]="files=1/file_mb=4/records=2"
    [cycles]="cycles=5000/live=2000" [prefork]="appstate=200/requests=20/records=10/cycles=2/cache=5")
# (not the user's script: it runs only in an interpreter, tests/test_cpython.sh)
workloads=$("$MS" list | sed -n '/^workloads:/,/^$/p' | awk '/^  [a-z]/ && !/\(interpreter only\)$/ {print $1}')
[ -n "$workloads" ] && ok || bad "memstrat list shows no workloads"
for w in $workloads; do
    [ -n "${K[$w]+x}" ] || { bad "workload $w has no small knobs in this test: add it"; continue; }
done

# run_cell CELL: exit status 0, and no leak under a cycle collector (none and rc leak by design)
run_cell() {
    local cell=$1 out rc
    out=$(timeout 60 "$MS" run "$cell" 2>&1); rc=$?
    [ $rc -eq 124 ] && { bad "$cell did not finish within 60 s"; return; }
    if [ $rc -ne 0 ]; then
        case "$out" in *"conflicts with AddressSanitizer"*) echo "SKIP: $cell (sanitizer build)"; return ;; esac
        bad "$cell exit $rc: $(tail -1 <<< "$out")"; return
    fi
    ok
    case "$cell" in
    */rc+gen/* | */rc+trial/* | */rc+incr/* | */rc+ft/* | */rc+pep848/*)
        grep -q "leaked_objects=0 " <<< "$out " && ok || bad "$cell leaks: $(grep -oE 'leaked_objects=[^ ]+' <<< "$out")" ;;
    esac
}

# run_group CELL...: the cells in one `memstrat run` (one process start, not one per cell: ~600
# starts were most of this test's time, ASan's start-up and exit-time leak scan above all),
# each cell's counters read from the JSON. Exit 0 and one record per cell count as each cell's
# exit 0; its leaked_objects is checked as run_cell does. A group that fails in any way (a cell
# failing, a sanitizer report, a record missing) is run again cell by cell with run_cell, which
# names the cell. Cells of one process malloc only (jemalloc and mimalloc cells go alone);
# boehm's never share a process (libgc is set up once per process), nor prefork's (each forks its
# workers: after other cells in the same process, a forked worker hung under ASan).
run_group() {
    local out rc
    out=$(timeout $((30 + 5 * $#)) "$MS" run "$@" --benchmark_format=json 2> /dev/null); rc=$?
    local verdicts
    verdicts=$([ $rc -eq 0 ] && /usr/bin/python3 -c '
import json, sys
b = {x["name"]: x for x in json.load(open(sys.argv[1]))["benchmarks"]}
for c in sys.argv[2:]:
    r = b.get(c + "/iterations:1/manual_time")
    print("missing" if r is None else int(r["leaked_objects"]))' /dev/stdin "$@" <<< "$out")
    if [ $rc -ne 0 ] || [ "$(grep -c '^[0-9][0-9]*$' <<< "$verdicts")" -ne $# ]; then
        echo "note: a group of $# cells failed (exit $rc): each runs alone" >&2
        for c in "$@"; do run_cell "$c"; done
        return
    fi
    local i=0 cell leaked
    while read -r leaked; do
        i=$((i + 1)); cell=${!i}
        ok
        case "$cell" in
        */rc+gen/* | */rc+trial/* | */rc+incr/* | */rc+ft/* | */rc+pep848/*)
            [ "$leaked" = 0 ] && ok || bad "$cell leaks: leaked_objects=$leaked" ;;
        esac
    done <<< "$verdicts"
}

# Layout x allocator pairs: all six; in the sanitizer build (MS_SANITIZED=1, set by CMake) the
# three layouts on system and dict (the most allocation) on pool: ASan's start-up per cell made
# the full set 2 minutes there, and the Release build runs all six.
pairs="system:slots system:dict system:shared pool:slots pool:dict pool:shared"
[ "${MS_SANITIZED:-0}" = 1 ] && pairs="system:slots system:dict system:shared pool:dict"
for w in $workloads; do
    group=() # every cell on glibc's process malloc (system, pool; pymalloc and bump below)
    for r in none rc rc+gen rc+trial rc+incr rc+ft rc+pep848; do
        for p in $pairs; do
            group+=("$w/$r/${p%%:*}/${p##*:}${K[$w]:+/${K[$w]}}")
        done
    done
    # boehm takes objects from libgc whatever the allocator axis: one allocator is enough.
    # Exit status only: libgc is conservative, a stale stack word may retain garbage.
    for l in slots dict shared; do
        run_cell "$w/boehm/system/$l${K[$w]:+/${K[$w]}}"
    done
    # the weak-value cache: weakrefs dropped before their referents (no late callbacks)
    [ "$w" = cache ] && for r in rc rc+gen rc+trial rc+incr; do group+=("$w/$r/system/slots/${K[$w]}/cache=weak"); done
    [ "$w" = cache ] && run_cell "$w/boehm/system/slots/${K[$w]}/cache=weak"
    # policy=pressure with a limit always exceeded: a full collection and a trim every 3 allocations
    [ "$w" = largefile ] && for r in rc+gen rc+trial rc+incr boehm; do
        for a in system pool; do
            c="$w/$r/$a/dict/${K[$w]}/policy=pressure/rss_limit=1k/pressure_check=3"
            if [ "$r" = boehm ]; then run_cell "$c"; else group+=("$c"); fi
        done
    done
    for a in pymalloc bump; do
        group+=("$w/rc+gen/$a/shared${K[$w]:+/${K[$w]}}")
    done
    if [ "$w" = prefork ]; then for c in "${group[@]}"; do run_cell "$c"; done; else run_group "${group[@]}"; fi
    for a in jemalloc mimalloc; do
        run_cell "$w/rc+gen/$a/shared${K[$w]:+/${K[$w]}}"
    done
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
