#!/usr/bin/env bash
# test_fidelity_presets.sh — rc+gen's version presets against the real interpreter of that version.
# usage: test_fidelity_presets.sh path/to/memstrat source_dir VERSION   (VERSION: 3.11, 3.12 or 3.13)
# For gc=cpython311/312/313 beside python3.11/3.12/3.13: (1) the request, batch and cache models
# against their Python twins (`cpython` cells), collections of each generation within 2% (and
# objects collected within 2% where the layout's dicts are not involved: CPython untracks dicts of
# atomic values, which the model does not); (2) traces replayed by tools/cpython_replay.py and by
# the `trace` workload — a single burst of 100,000 objects made in one call (3.11: 142 collections,
# 3.12+: 1), 40 bursts mixed with cyclic garbage, a generated `mix` trace — collections and
# objects collected within 2%. Prints a table; exit 77 with a line when the interpreter is missing.
set -u
MS=$1 SRC=$2 VER=$3
case "$VER" in
    3.11) GC=cpython311 PY=$( { [ -x /usr/bin/python3.11 ] && echo /usr/bin/python3.11; } || command -v python3.11 || true) ;;
    3.12) GC=cpython312 ;;
    3.13) GC=cpython313 ;;
    *) echo "unknown version $VER"; exit 2 ;;
esac
if [ "$VER" != 3.11 ]; then
    PY=$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$VER".*/bin/python3 2>/dev/null | head -1)
    [ -n "$PY" ] || PY=$(command -v "python$VER" 2>/dev/null | grep -v shims || true)
fi
if [ -z "$PY" ] || ! "$PY" -c 'pass' 2>/dev/null; then
    echo "skipped: python$VER not installed"
    exit 77
fi
PYA=/usr/bin/python3 # the analysis interpreter parses the JSON
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

# within A B [collected?]: "g0 g1 g2 collected" each; every figure within 2% (collected only if asked)
within() {
    "$PYA" - "$1" "$2" "$3" <<'PYEOF'
import sys
a = [int(x) for x in sys.argv[1].split()]; b = [int(x) for x in sys.argv[2].split()]
n = 4 if sys.argv[3] == "yes" else 3
ok = len(a) == 4 == len(b) and sum(a[:3]) > 0 and all(abs(x - y) <= 0.02 * max(x, y) for x, y in zip(a[:n], b[:n]))
print("ok" if ok else "MISMATCH")
PYEOF
}
cell_figures() {
    "$MS" run "$1" --benchmark_format=json 2>"$tmp/err" | "$PYA" -c 'import json,sys; b=json.load(sys.stdin)["benchmarks"][0]; print(*(int(b[k]) for k in ("gc_collections_gen0","gc_collections_gen1","gc_collections_gen2","gc_collected")))' ||
        { cat "$tmp/err" >&2; echo "x x x x"; }
}
report() { # name real model collected?
    v=$(within "$2" "$3" "$4")
    printf '%-44s %-28s %-28s %s\n' "$1" "$2" "$3" "$v"
    [ "$v" = ok ] && pass=$((pass+1)) || fail=$((fail+1))
}

printf '%-44s %-28s %-28s %s\n' "python$VER vs gc=$GC" "real g0 g1 g2 collected" "model g0 g1 g2 collected" verdict
# (1) the workload models against their twins
for spec in "request/%s/pymalloc/dict/cycles=0/requests=400/warmup=50 yes" \
            "request/%s/pymalloc/shared/requests=400/warmup=50 yes" \
            "request/%s/pymalloc/dict/requests=400/warmup=50 no" \
            "batch/%s/pymalloc/dict/n=40000 yes" \
            "batch/%s/pymalloc/slots/n=40000 yes" \
            "cache/%s/pymalloc/dict/ops=100000 yes"; do
    set -- $spec
    real=$(cell_figures "$(printf "$1" cpython)/python=$PY")
    model=$(cell_figures "$(printf "$1" rc+gen)/gc=$GC")
    report "$(printf "$1" X | cut -d/ -f1,3-)" "$real" "$model" "$2"
done

# (2) traces, both replayers
printf '# memstrat-trace v1\nburst 0 100000\ndrop 0\n' >"$tmp/burst1.trace"
"$PYA" - "$tmp/bursts.trace" <<'PYEOF'
import random, sys
r = random.Random(5)
out = ["# memstrat-trace v1"]
for i in range(40):  # a burst, then n self-cycles made and dropped (cyclic garbage)
    out.append("burst %d %d" % (i % 4, r.randint(100, 30000)))
    n = r.randint(0, 1500)
    out += ["new %d 1\nset %d 0 %d" % (10 + j, 10 + j, 10 + j) for j in range(n)]
    out += ["drop %d" % (10 + j) for j in range(n)]
    if i % 4 == 3:
        out += ["drop %d" % k for k in range(4)]
open(sys.argv[1], "w").write("\n".join(out) + "\n")
PYEOF
"$PYA" "$SRC/tools/tracegen.py" --seed 3 --ops 100000 --shape mix -o "$tmp/mix.trace"
for f in burst1 bursts mix; do
    real=$("$PY" "$SRC/tools/cpython_replay.py" "$tmp/$f.trace" --source stats |
        "$PYA" -c 'import json,sys; d=json.load(sys.stdin); print(*d["collections"], d["collected"])')
    model=$(cell_figures "trace/rc+gen/system/slots/gc=$GC/trace=$tmp/$f.trace")
    report "trace $f" "$real" "$model" yes
done
real=$(cell_figures "trace/cpython/system/slots/python=$PY/trace=$tmp/burst1.trace")
case "$VER" in 3.11) want="130 11 1 0" ;; *) want="1 0 0 0" ;; esac
report "trace burst1 (twin) vs python$VER's known figures" "$real" "$want" yes
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
