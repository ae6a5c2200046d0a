#!/usr/bin/env bash
# test_layering.sh — the build enforces the three floors (object model → workloads →
# measuring binary): a layering violation does not compile.
# With the real include directories of the targets (CMake evaluates them, link closure
# included, and passes them joined with ':'):
#   - a harness source (memstrat_harness, and memstrat's main.c) that includes any
#     private header of strategies/ (registry.h, strategy.h, alloc.h, ...) or of
#     workloads/ fails to compile, naming that header;
#   - a workload source (mm_workloads) that includes any private header of strategies/
#     fails the same way;
#   - a correct source of each compiles (so the failures above are the layering, not
#     a broken command line).
# usage: test_layering.sh CC HARNESS_DIRS MEMSTRAT_DIRS WORKLOAD_DIRS SOURCE_DIR
set -u
CC=$1 HARNESS=$2 MAIN=$3 WORKLOADS=$4 SRC=$5
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAILED: $*" >&2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# compile DIRS FILE: syntax check with the build's language and defines; stderr to $tmp/err
compile() {
    local args=() d
    IFS=: read -r -a dirs <<<"$1"
    for d in "${dirs[@]}"; do [ -n "$d" ] && args+=(-I "$d"); done
    "$CC" -std=c11 -D_GNU_SOURCE -fsyntax-only "${args[@]}" "$2" 2>"$tmp/err"
}

# must_fail WHAT DIRS HEADER: a source including HEADER (plus the public ones) is refused
must_fail() {
    printf '#include "mm.h"\n#include "%s"\nint layering_probe;\n' "$3" >"$tmp/probe.c"
    if compile "$2" "$tmp/probe.c"; then
        bad "$1 compiled with #include \"$3\" (a private header of a lower floor)"
    elif grep -q "$3: No such file" "$tmp/err"; then
        ok
    else
        bad "$1 with #include \"$3\" failed, but not for the header: $(head -3 "$tmp/err")"
    fi
}

# must_compile WHAT DIRS HEADERS...: a correct source of that floor compiles
must_compile() {
    local what=$1 dirs=$2 h; shift 2
    : >"$tmp/good.c"
    for h in "$@"; do printf '#include "%s"\n' "$h" >>"$tmp/good.c"; done
    printf 'int layering_probe;\n' >>"$tmp/good.c"
    compile "$dirs" "$tmp/good.c" && ok || bad "$what: a correct source does not compile: $(head -3 "$tmp/err")"
}

n_model=0 n_wl=0
for h in "$SRC"/strategies/*.h; do
    h=${h##*/}
    n_model=$((n_model + 1))
    must_fail "a harness source" "$HARNESS" "$h"
    must_fail "memstrat's main.c" "$MAIN" "$h"
    must_fail "a workload source" "$WORKLOADS" "$h"
done
for h in "$SRC"/workloads/*.h; do
    h=${h##*/}
    n_wl=$((n_wl + 1))
    must_fail "a harness source" "$HARNESS" "$h"
done
# the two violations the floors exist for, named even if the globs above change
[ -f "$SRC/strategies/registry.h" ] && [ -f "$SRC/strategies/strategy.h" ] && ok ||
    bad "strategies/registry.h or strategy.h moved: update this test"
[ "$n_model" -ge 5 ] && [ "$n_wl" -ge 1 ] && ok || bad "found only $n_model model and $n_wl workload private headers"

# public headers sit only in the include/ directories
for h in mm.h knobs.h; do [ -f "$SRC/strategies/include/$h" ] && ok || bad "strategies/include/$h missing"; done
[ -f "$SRC/workloads/include/workload.h" ] && ok || bad "workloads/include/workload.h missing"
extra=$(ls "$SRC/strategies/include" "$SRC/workloads/include" | grep -vxE 'mm\.h|knobs\.h|workload\.h|.*:|')
[ -z "$extra" ] && ok || bad "unexpected public headers: $extra"

must_compile "harness" "$HARNESS" mm.h knobs.h workload.h cell.h run.h
must_compile "memstrat main.c" "$MAIN" mm.h workload.h run.h gc_scan.h malloc_select.h cli.h
must_compile "workloads" "$WORKLOADS" mm.h knobs.h workload.h

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
