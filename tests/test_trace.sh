#!/usr/bin/env bash
# test_trace.sh — the `trace` workload, tools/tracegen.py and tools/cpython_replay.py.
#
# Exact outcomes: a list trace leaks 0 under rc, a ring of n leaks n, `none` keeps
# every object, trace_ops/trace_news count the op lines; for generated traces of
# every shape, what `rc` leaks equals what the Python model of the same trace
# leaves alive with the collector off (C and Python replay the same graph); when
# `rc+gen` is registered, its collections and collected totals equal those of the
# model and of real CPython 3.11. Bad traces: exit 2, one line on stderr naming
# FILE:LINE, in C and in the Python replayer alike. Python: tracegen is
# deterministic and bounded; cpython_replay runs and its audit passes.
# usage: test_trace.sh path/to/memstrat source_dir
set -u
MS=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") # absolute: the test works in a temporary directory
SRC=$(cd "$2" && pwd)
GEN="$SRC/tools/tracegen.py"
REPLAY="$SRC/tools/cpython_replay.py"
pass=0 fail=0 skip=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAILED: $*" >&2; }
PY3=$(command -v python3 || true)
# Debian's python3.11 first: the 3.11 the harness runs (PROTOCOL.md), and no pyenv shim (~0.6 s a start).
PY311=$( { [ -x /usr/bin/python3.11 ] && echo /usr/bin/python3.11; } || command -v python3.11 || true)
# The sanitizer build leaves real CPython's side (Python only) to the Release build.
[ "${MS_SANITIZED:-0}" = 1 ] && { PY311=; echo "note: sanitizer build: real-CPython comparisons left to Release"; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Most traces are named relative to the working directory (a knob value may also be a path).
cd "$tmp" || exit 1

# counters CELL NAME... — prints the named counters of one run, space-separated (integers).
counters() {
    local cell=$1; shift
    "$MS" run "$cell" --benchmark_format=json 2>/dev/null |
        python3 -c "
import json, sys
try:
    b = json.load(sys.stdin)['benchmarks'][0]
    print(' '.join(str(int(b[k])) if k in b else 'missing' for k in sys.argv[1:]))
except Exception as e:
    print('error')" "$@"
}
# ops FILE — op lines of a trace (not comments, not blank, not the version line).
ops() { grep -cvE '^[[:space:]]*(#|$)' "$1"; }
news() { grep -cE '^[[:space:]]*new[[:space:]]' "$1"; }
expect_eq() { # what got want
    if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', expected '$3'"; fi
}

if [ -z "$PY3" ]; then
    echo "test_trace.sh: python3 not found; cannot generate traces" >&2
    exit 1
fi

# ---- exact outcomes on hand-made traces --------------------------------------------

# A list of n nodes built by prepending, then dropped: a domino free.
# A ring of n: the same with the first node's next set to the head: n leaked under rc.
python3 - <<'EOF'
n = 5000
for name, ring in (("list.trace", False), ("ring.trace", True)):
    out = ["# memstrat-trace v1", "new 0 1"]  # handle 0: the first node (the ring's tail)
    head = 0
    for i in range(1, n):
        h = 2 if head == 1 else 1  # the head alternates between handles 1 and 2
        out += [f"new {h} 1", f"set {h} 0 {head}"]
        if head != 0 or not ring:
            out.append(f"drop {head}")
        head = h
    if ring:
        out += [f"set 0 0 {head}", "drop 0"]
    out += [f"hold 3 {head} 0", f"drop {head}", "drop 3"]
    open(name, "w").write("\n".join(out) + "\n")
EOF
expect_eq "list/rc leaked, trace_ops, trace_news" "$(counters trace/rc/system/slots/trace=list.trace leaked_objects trace_ops trace_news)" \
    "0 $(ops list.trace) 5000"
expect_eq "ring/rc leaked" "$(counters trace/rc/system/slots/trace=ring.trace leaked_objects)" 5000
expect_eq "list/none leaked" "$(counters trace/none/system/slots/trace=list.trace leaked_objects)" 5000
# the example of TRACE_FORMAT.md: a ring of two, walked, dropped
printf '# memstrat-trace v1\n# a ring of two\nnew 0 1\nnew 1 1\nset 0 0 1\nset 1 0 0\ndrop 1\nhold 2 0 0\ndrop 0\ndrop 2\ncollect 0\n' >two.trace
expect_eq "doc example rc leaked/ops/peak" "$(counters trace/rc/system/slots/trace=two.trace leaked_objects trace_ops trace_held_peak)" "2 9 2"
# holds left at the end are dropped by the workload: nothing leaks under rc
printf '# memstrat-trace v1\nnew 7 2\nnew 3 0\nset 7 1 3\nnew 9 16\nset 9 15 7\n' >held.trace
expect_eq "held at end, rc leaked" "$(counters trace/rc/system/slots/trace=held.trace leaked_objects)" 0
# an absolute path; and one followed by another knob
expect_eq "absolute path" "$(counters "trace/rc/system/slots/trace=$tmp/ring.trace" leaked_objects)" 5000
if "$MS" list 2>/dev/null | grep -qE '^  rc\+gen '; then
    expect_eq "absolute path, then a knob" "$(counters "trace/rc+gen/system/slots/trace=$tmp/ring.trace/gc=700,10,10" \
        trace_ops leaked_objects)" "$(ops ring.trace) 0"
fi
# the shipped default trace runs without a knob, from any directory
expect_eq "default trace ops" "$(counters trace/rc/system/slots trace_ops)" 20000

# ---- generated traces: C and the Python model replay the same graph ------------------

for shape in list ring tree tree-parent graph mix; do
    "$GEN" --seed 11 --ops 20000 --shape "$shape" --max-held 64 --collect-every 3000 -o "g-$shape.trace" ||
        bad "tracegen --shape $shape failed"
    read -r leaked tops tnews peak <<<"$(counters "trace/rc/system/slots/trace=g-$shape.trace" \
        leaked_objects trace_ops trace_news trace_held_peak)"
    expect_eq "$shape trace_ops" "$tops" 20000
    expect_eq "$shape trace_news" "$tnews" "$(news "g-$shape.trace")"
    [ "${peak:-999}" -le 64 ] 2>/dev/null && ok || bad "$shape trace_held_peak $peak > --max-held 64"
    alive=$(python3 "$REPLAY" --engine rc "g-$shape.trace" |
        python3 -c "import json,sys; print(json.load(sys.stdin)['alive_end'])")
    expect_eq "$shape rc leaked vs model alive_end" "$leaked" "$alive"
    expect_eq "$shape none leaked = news" "$(counters "trace/none/system/slots/trace=g-$shape.trace" leaked_objects)" "$tnews"
done

# rc+gen against CPython 3.11's rules, once the strategy exists.
if "$MS" list 2>/dev/null | grep -qE '^  rc\+gen '; then
    for shape in ring tree-parent graph mix; do
        "$GEN" --seed 5 --ops 60000 --shape "$shape" -o "c-$shape.trace"
        got=$(counters "trace/rc+gen/system/slots/trace=c-$shape.trace" \
            gc_collections_gen0 gc_collections_gen1 gc_collections_gen2 gc_collected leaked_objects)
        want=$(python3 "$REPLAY" --engine model "c-$shape.trace" |
            python3 -c "import json,sys; r=json.load(sys.stdin); print(*r['collections'], r['collected'], 0)")
        expect_eq "rc+gen $shape collections/collected/leaked vs model" "$got" "$want"
        if [ -n "$PY311" ]; then
            real=$("$PY311" "$REPLAY" --source stats "c-$shape.trace" |
                python3 -c "import json,sys; r=json.load(sys.stdin); print(*r['collections'], r['collected'], 0)")
            expect_eq "rc+gen $shape vs real CPython" "$got" "$real"
        fi
    done
else
    echo "note: strategy rc+gen not registered: its CPython comparison skipped" >&2
    skip=$((skip + 1))
fi

# ---- bad traces: exit 2, one line, FILE:LINE -----------------------------------------

# expect_bad_trace NAME CONTENT WANT — WANT is the text the line must contain.
expect_bad_trace() {
    local name=$1 content=$2 want=$3 err rc lines
    [ "$content" = "<missing>" ] || printf "$content" >"$name"
    err=$("$MS" run "trace/rc/system/slots/trace=$name" 2>&1 >/dev/null); rc=$?
    lines=$(printf '%s' "$err" | grep -c '')
    if [ "$rc" -ne 2 ]; then bad "memstrat on $name: exit $rc, expected 2 ($(printf '%s' "$err" | tail -1))"
    elif [ "$lines" -ne 1 ]; then bad "memstrat on $name: $lines lines on stderr: $err"
    else case "$err" in *"$want"*) ok ;; *) bad "memstrat on $name: message lacks '$want': $err" ;; esac
    fi
    if [ -n "$PY311" ]; then
        err=$("$PY311" "$REPLAY" --source stats "$name" 2>&1 >/dev/null); rc=$?
        lines=$(printf '%s' "$err" | grep -c '')
        if [ "$rc" -ne 2 ] || [ "$lines" -ne 1 ]; then bad "cpython_replay on $name: exit $rc, $lines lines: $err"
        else case "$err" in *"$want"*) ok ;; *) bad "cpython_replay on $name: message lacks '$want': $err" ;; esac
        fi
    fi
}
V='# memstrat-trace v1\n'
expect_bad_trace bad-version.trace '# memstrat-trace v2\nnew 0 1\n' "bad-version.trace:1: expected '# memstrat-trace v1'"
expect_bad_trace bad-empty.trace '' "bad-empty.trace:1: expected '# memstrat-trace v1' as the first line, got an empty file"
expect_bad_trace bad-op.trace "${V}new 0 1\n\n# fine\nfrob 0\n" "bad-op.trace:5: expected an op"
expect_bad_trace bad-arity.trace "${V}new 0 1\nset 0 0\n" "bad-arity.trace:3: expected 'set ID SLOT ID2|-', got 3 fields"
expect_bad_trace bad-number.trace "${V}new 0x1 1\n" "bad-number.trace:2: expected ID as a handle"
expect_bad_trace bad-sign.trace "${V}new -1 1\n" "bad-sign.trace:2: expected ID as a handle"
expect_bad_trace bad-big.trace "${V}new 16777216 1\n" "bad-big.trace:2: expected ID as a handle in 0..16777215"
expect_bad_trace bad-k.trace "${V}new 0 17\n" "bad-k.trace:2: expected K as a slot count in 0..16"
expect_bad_trace bad-unheld.trace "${V}new 0 1\ndrop 0\ndrop 0\n" "bad-unheld.trace:4: expected handle 0 to be held"
expect_bad_trace bad-unheld2.trace "${V}new 0 1\nset 0 0 5\n" "bad-unheld2.trace:3: expected handle 5 to be held"
expect_bad_trace bad-twice.trace "${V}new 0 1\nnew 0 1\n" "bad-twice.trace:3: expected handle 0 to be free"
expect_bad_trace bad-slot.trace "${V}new 0 2\nset 0 2 -\n" "bad-slot.trace:3: expected SLOT below 2"
expect_bad_trace bad-slot0.trace "${V}new 0 0\nset 0 0 0\n" "bad-slot0.trace:3: expected SLOT below 0"
expect_bad_trace bad-hold.trace "${V}new 0 1\nhold 1 0 0\n" "bad-hold.trace:3: expected slot 0 of the object held by handle 0"
expect_bad_trace bad-gen.trace "${V}collect 3\n" "bad-gen.trace:2: expected G as a generation in 0..2"
expect_bad_trace bad-missing.trace '<missing>' "bad-missing.trace: expected a readable trace file"

# ---- Python: tracegen and cpython_replay ---------------------------------------------

"$GEN" --seed 42 --ops 30000 --shape mix -o d1.trace && "$GEN" --seed 42 --ops 30000 --shape mix >d2.trace &&
    "$GEN" --seed 43 --ops 30000 --shape mix -o d3.trace || bad "tracegen failed"
cmp -s d1.trace d2.trace && ok || bad "tracegen: same seed, different bytes"
cmp -s d1.trace d3.trace && bad "tracegen: different seeds, same bytes" || ok
expect_eq "tracegen op count" "$(ops d1.trace)" 30000
err=$("$GEN" --ops -5 2>&1 >/dev/null); rc=$?
[ "$rc" -eq 2 ] && [ "$(printf '%s' "$err" | grep -c '')" -eq 1 ] && ok || bad "tracegen --ops -5: exit $rc: $err"
err=$("$GEN" --shape blob 2>&1 >/dev/null); rc=$?
[ "$rc" -eq 2 ] && [ "$(printf '%s' "$err" | grep -c '')" -eq 1 ] && ok || bad "tracegen --shape blob: exit $rc: $err"

if [ -n "$PY311" ]; then
    "$GEN" --seed 3 --ops 20000 --shape mix --collect-every 2500 -o r.trace
    out=$("$PY311" "$REPLAY" r.trace)
    summary=$(printf '%s' "$out" | python3 -c "
import json, sys
r = json.load(sys.stdin)
keys = ('python', 'collections', 'collected', 'uncollectable', 'ops', 'seconds', 'callbacks')
print('keys-ok' if all(k in r for k in keys) else 'keys-missing', r['ops'], r['python'][:4])" 2>&1)
    expect_eq "cpython_replay JSON" "$summary" "keys-ok 20000 3.11"
    model=$(python3 "$REPLAY" --engine model r.trace | python3 -c "import json,sys; r=json.load(sys.stdin); print(r['collections'], r['collected'])")
    real=$(printf '%s' "$out" | python3 -c "import json,sys; r=json.load(sys.stdin); print(r['collections'], r['collected'])")
    expect_eq "cpython_replay real vs model" "$real" "$model"
    audit=$("$PY311" "$REPLAY" --audit r.trace | python3 -c "import json,sys; print(json.load(sys.stdin)['audit'])")
    expect_eq "cpython_replay --audit" "$audit" ok
    [ "$("$PY311" "$REPLAY" --table r.trace | grep -c '^collections')" = 1 ] && ok || bad "cpython_replay --table"
else
    echo "note: python3.11 not found: cpython_replay checks skipped" >&2
    skip=$((skip + 1))
fi

[ "$skip" -eq 0 ] || echo "($skip groups of checks skipped, see the notes above)" >&2
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
