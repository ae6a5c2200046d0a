#!/usr/bin/env bash
# test_malloc_identity.sh — every cell runs on the malloc its allocator names, and says so.
# What must hold: a `system` (and `pymalloc`) cell runs on glibc's malloc — even when started
# with LD_PRELOAD of jemalloc or mimalloc, which `memstrat run` drops by re-executing itself;
# a `jemalloc` cell runs on libjemalloc.so.2 and a `mimalloc` cell on libmimalloc.so.2 (the
# re-exec preloads them), also when another one was inherited. Both the stderr line
# `memstrat: process malloc: LIB` and the `malloc_impl` counter (0 glibc, 1 jemalloc,
# 2 mimalloc) say it. Conformance through whole cells: list/rc and tree/rc+gen leak nothing,
# ring/rc leaks exactly n, on every allocator. Cells needing different mallocs in one
# invocation, and a re-exec marker inherited from elsewhere, get one line and exit 2.
# `memstrat bench` runs jemalloc/mimalloc cells end to end (results, timelines, pauses).
# In a sanitizer build jemalloc/mimalloc cells are refused (one line, exit 2) and the rest
# of their checks is skipped with a note: ASan's malloc must stay the process malloc.
# usage: test_malloc_identity.sh path/to/memstrat source_dir
set -u
MS=$(realpath "$1")
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAILED: $*" >&2; }
T=$(mktemp -d "${TMPDIR:-/tmp}/memstrat-malloc-id.XXXXXX")
trap 'rm -rf "$T"' EXIT

libpath() { # where the dynamic linker finds a library (for LD_PRELOAD in the tests)
    for d in /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu /usr/lib64 /usr/lib /usr/local/lib; do
        [ -r "$d/$1" ] && { echo "$d/$1"; return 0; }
    done
    return 1
}
JE=$(libpath libjemalloc.so.2) || JE=""
MI=$(libpath libmimalloc.so.2) || MI=""

# run_cell CELL [env assignments...]: runs it, leaves $T/out.json and $T/err; returns its status
run_cell() {
    local cell=$1; shift
    env "$@" "$MS" run "$cell" --benchmark_format=json > "$T/out.json" 2> "$T/err"
}
counter() { # NAME: from $T/out.json, as an integer; "" if absent
    python3 -c "import json,sys; b=json.load(open(sys.argv[1]))['benchmarks'][0]; v=b.get(sys.argv[2]); print('' if v is None else int(v))" \
        "$T/out.json" "$1" 2>/dev/null
}
identity() { sed -n 's/^memstrat: process malloc: //p' "$T/err" | head -1; }

# expect_malloc CELL LIB CODE [env...]: the cell succeeds on LIB and says so both ways
expect_malloc() {
    local cell=$1 lib=$2 code=$3; shift 3
    if ! run_cell "$cell" "$@"; then bad "$cell ($*) failed: $(tail -1 "$T/err")"; return; fi
    [ "$(identity)" = "$lib" ] && ok || bad "$cell ($*): process malloc '$(identity)', expected $lib"
    [ "$(counter malloc_impl)" = "$code" ] && ok || bad "$cell ($*): malloc_impl '$(counter malloc_impl)', expected $code"
}
# expect_leaks CELL N: leaked_objects of the cell is N
expect_leaks() {
    if ! run_cell "$1"; then bad "$1 failed: $(tail -1 "$T/err")"; return; fi
    [ "$(counter leaked_objects)" = "$2" ] && ok || bad "$1: leaked_objects '$(counter leaked_objects)', expected $2"
}
# expect_bad WANT ARGS...: exit 2, exactly one line on stderr, containing WANT
expect_bad() {
    local want=$1; shift
    local err rc lines
    err=$("$@" 2>&1 >/dev/null); rc=$?
    lines=$(printf '%s' "$err" | grep -c '')
    if [ "$rc" -ne 2 ]; then bad "'$*' exit $rc, expected 2 ($err)"; return; fi
    if [ "$lines" -ne 1 ]; then bad "'$*' printed $lines lines: $err"; return; fi
    case "$err" in *"$want"*) ok ;; *) bad "'$*' message lacks '$want': $err" ;; esac
}

SMALL_TREE="stretch=10/longlived=8/min=4/max=8/array=1000"
N=100000

# --- sanitizer build? it refuses preloads ------------------------------------------------
sanitized=0
out=$("$MS" run list/rc/jemalloc/slots/n=10 2>&1 >/dev/null)
case "$out" in *AddressSanitizer*) sanitized=1 ;; esac

# pymalloc lives beside glibc's malloc in every build
expect_leaks list/rc/pymalloc/slots/n=$N 0
expect_leaks ring/rc/pymalloc/slots/n=$N $N
[ -n "$(counter alloc_arenas)" ] && [ "$(counter alloc_pools_in_use)" -gt 0 ] && ok ||
    bad "ring/rc/pymalloc: no arenas/pools reported while $N objects leak"
expect_leaks tree/rc+gen/pymalloc/slots/$SMALL_TREE 0

if [ "$sanitized" = 1 ]; then
    expect_bad "conflicts with AddressSanitizer" "$MS" run list/rc/jemalloc/slots/n=10
    expect_bad "conflicts with AddressSanitizer" "$MS" run list/rc/mimalloc/slots/n=10
    # ASan's interceptor is the malloc here; `system` must not try to replace it
    run_cell list/rc/system/slots/n=1000 && ok || bad "system cell failed under ASan: $(tail -1 "$T/err")"
    echo "SKIP: jemalloc/mimalloc identity, conformance and bench checks (sanitizer build: ASan owns malloc)"
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
    exit
fi

if [ -z "$JE" ] || [ -z "$MI" ]; then
    bad "libjemalloc.so.2 or libmimalloc.so.2 not installed (tools/deps.sh install)"
    echo "$pass passed, $fail failed"
    exit 1
fi

# --- identity -------------------------------------------------------------------------------
expect_malloc list/rc/system/slots/n=1000 libc.so.6 0
expect_malloc list/rc/pymalloc/slots/n=1000 libc.so.6 0
expect_malloc list/rc/jemalloc/slots/n=1000 libjemalloc.so.2 1
expect_malloc list/rc/mimalloc/slots/n=1000 libmimalloc.so.2 2
# an inherited preload does not decide: the cell does
expect_malloc list/rc/system/slots/n=1000 libc.so.6 0 LD_PRELOAD="$JE"
expect_malloc list/rc/system/slots/n=1000 libc.so.6 0 LD_PRELOAD="$MI"
expect_malloc list/rc/pymalloc/slots/n=1000 libc.so.6 0 LD_PRELOAD="$JE"
expect_malloc list/rc/jemalloc/slots/n=1000 libjemalloc.so.2 1 LD_PRELOAD="$MI"
expect_malloc list/rc/mimalloc/slots/n=1000 libmimalloc.so.2 2 LD_PRELOAD="$JE"
expect_malloc list/rc/jemalloc/slots/n=1000 libjemalloc.so.2 1 LD_PRELOAD="$JE"
# two cells on one malloc share a process
if "$MS" run list/rc/jemalloc/slots/n=1000 ring/rc/jemalloc/slots/n=1000 --benchmark_format=json \
    > "$T/out.json" 2> "$T/err"; then
    n=$(python3 -c "import json,sys; print(sum(1 for b in json.load(open(sys.argv[1]))['benchmarks'] if b['malloc_impl'] == 1))" "$T/out.json")
    [ "$n" = 2 ] && ok || bad "two jemalloc cells: $n ran on jemalloc"
else
    bad "two jemalloc cells in one run failed: $(tail -1 "$T/err")"
fi
# the allocators' own statistics come from the library that is the process malloc
run_cell list/none/jemalloc/slots/n=$N
[ -n "$(counter alloc_lib_allocated_mb)" ] && [ -n "$(counter alloc_lib_resident_mb)" ] && ok ||
    bad "jemalloc cell lacks stats.allocated/resident counters"
run_cell list/none/mimalloc/slots/n=$N
[ "$(counter alloc_reserved_mb)" -gt 0 ] 2>/dev/null && ok || bad "mimalloc cell reports no committed bytes"

# --- conformance through whole cells ---------------------------------------------------------
for a in jemalloc mimalloc; do
    expect_leaks list/rc/$a/slots/n=$N 0
    expect_leaks ring/rc/$a/slots/n=$N $N
    expect_leaks list/none/$a/slots/n=1000 1000
    expect_leaks tree/rc+gen/$a/slots/$SMALL_TREE 0
    expect_leaks tree/rc+gen/$a/slots/$SMALL_TREE/parent=1 0
done

# --- bad input --------------------------------------------------------------------------------
expect_bad "run them in separate invocations" "$MS" run list/rc/system/slots/n=10 list/rc/jemalloc/slots/n=10
expect_bad "run them in separate invocations" "$MS" run list/rc/jemalloc/slots/n=10 list/rc/mimalloc/slots/n=10
expect_bad "run them in separate invocations" "$MS" run list/rc/mimalloc/slots/n=10 list/rc/pymalloc/slots/n=10
expect_bad "malloc still comes from" env MEMSTRAT_MALLOC_REEXEC=1 "$MS" run list/rc/jemalloc/slots/n=10
expect_bad "unknown allocator 'jemaloc'" "$MS" run list/rc/jemaloc/slots

# --- bench end to end, through the re-exec ---------------------------------------------------
cat > "$T/matrix.txt" <<M
list/rc+gen/system/slots/n=20000
list/rc+gen/jemalloc/slots/n=20000
list/rc+gen/mimalloc/slots/n=20000
list/rc+gen/pymalloc/slots/n=20000
M
if "$MS" bench --matrix "$T/matrix.txt" --reps 1 --out "$T/results" --run-id m1 --no-plots --no-floating > "$T/bout" 2> "$T/berr"; then
    ok
    D=$T/results/m1
    got=$(python3 -c "
import csv, sys
for r in csv.DictReader(open(sys.argv[1])):
    print(r['allocator'], int(float(r['malloc_impl'])), int(float(r['leaked_objects'])))" "$D/results.csv" | sort | tr '\n' ' ')
    [ "$got" = "jemalloc 1 0 mimalloc 2 0 pymalloc 0 0 system 0 0 " ] && ok || bad "bench results.csv: $got"
    for kind in json timeline pauses; do
        n=$(find "$D/$kind" -type f | grep -c .)
        [ "$n" = 4 ] && ok || bad "bench: $n files in $kind/, expected 4"
    done
    grep -q 'libjemalloc.so.2' "$D"/logs/*jemalloc*.stderr && ok || bad "bench: jemalloc cell's log lacks its malloc"
else
    bad "bench with jemalloc/mimalloc cells failed: $(tail -3 "$T/berr")"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
