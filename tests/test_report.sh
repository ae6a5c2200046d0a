#!/usr/bin/env bash
# test_report.sh — report.md and the per-workload plots of a tiny `memstrat bench` run.
# Contract checked: a run writes report.md with the machine/build section, one section per
# workload of the matrix, one table row per cell, a conclusions list, and links that all
# point to files of the run; with gnuplot, every per-workload plot exists as PNG and SVG, the
# data files under plots/data/ exist, the rc+gen/pool reference normalises to 1, rc+incr's
# increments get their own pause kind, and `--plots-only` redraws and rewrites report.md.
# usage: test_report.sh path/to/memstrat source_dir
set -u
MS=$(realpath "$1")
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAILED: $*" >&2; }
check() { # description command...
    local what=$1; shift
    if "$@"; then ok; else bad "$what"; fi
}

T=$(mktemp -d "${TMPDIR:-/tmp}/memstrat-report.XXXXXX")
trap 'rm -rf "$T"' EXIT
# two workloads; ring has every collector beside rc+gen/pool (its normalisation reference)
cat > "$T/matrix.txt" <<MATRIX
list/none/system/slots/n=2000
list/rc+gen/system/slots/n=2000
ring/none/pool/slots/n=20000
ring/rc+gen/pool/slots/n=20000
ring/rc+incr/pool/slots/n=20000
ring/rc+trial/pool/slots/n=20000
MATRIX
"$MS" bench --matrix "$T/matrix.txt" --reps 2 --out "$T/res" --run-id r1 --gcscan-n 0 > "$T/out" 2> "$T/err"
rc=$?
check "bench exits 0 (got $rc): $(tail -2 "$T/err")" test "$rc" -eq 0
D=$T/res/r1
R=$D/report.md
check "report.md exists" test -s "$R"
check "metadata section" grep -q '^## Machine and build' "$R"
for k in CPU cores kernel compiler flags 'git commit' repetitions started finished; do
    check "metadata has $k" grep -q "^| $k |" "$R"
done
check "CV warnings line" grep -q '^\*\*CV warnings\*\*' "$R"
for w in list ring; do
    check "one section for $w" test "$(grep -c "^## Workload \`$w\`" "$R")" -eq 1
done
check "exactly two workload sections" test "$(grep -c '^## Workload' "$R")" -eq 2
while read -r cell; do
    check "one table row for $cell" test "$(grep -cF "| \`$cell\` |" "$R")" -eq 1
done < "$T/matrix.txt"
check "conclusions generated" test "$(grep -c '^- time, ' "$R")" -ge 4
check "conclusions state the rule" grep -q 'min–max' "$R"
check "collectors table included" grep -q '^## Collectors beside rc+gen' "$R"

# every link of the report points to a file of the run
links=$(grep -o '](\([^)]*\))' "$R" | sed 's/^](//; s/)$//')
check "report has links" test -n "$links"
for l in $links; do
    check "link $l resolves" test -e "$D/$l"
done

if command -v gnuplot > /dev/null; then
    check "report links plots" grep -qF '![list throughput](plots/list-throughput.png)' "$R"
    for w in list ring; do
        for p in throughput pause_cdf pause_timeline rss_timeline rss_peak pareto; do
            check "plots/$w-$p.png and .svg" test -s "$D/plots/$w-$p.png" -a -s "$D/plots/$w-$p.svg"
        done
        check "plots/data/$w.tsv" test -s "$D/plots/data/$w.tsv"
    done
    ref=$(awk -F'\t' '$1 == "ring/rc+gen/pool/slots/n=20000" { print $11 }' "$D/plots/data/ring.tsv")
    check "rc+gen/pool normalised to 1 (got $ref)" test "$ref" = 1
    check "rc+incr increments are pause kind 4" grep -q ' 4$' "$D/plots/data/ring.pause_tl.dat"
    check "colour map applied (rc+incr green in SVG)" grep -qE 'rgb\( *0, *158, *115\)|#009e73' "$D/plots/ring-pareto.svg"
    rm -f "$D"/plots/*.png "$D"/plots/*.svg "$R"
    "$MS" bench --plots-only "$D" > /dev/null 2> "$T/errp"
    rc=$?
    check "--plots-only exits 0 (got $rc): $(cat "$T/errp")" test "$rc" -eq 0
    check "--plots-only redraws per-workload plots" test -s "$D/plots/ring-pause_cdf.svg"
    check "--plots-only rewrites report.md" grep -q '^## Workload `ring`' "$R"
    check "no .tmp dir left in plots/" test -z "$(ls -A "$D/plots" | grep '^\.tmp')"
else
    echo "note: gnuplot not installed; plot checks skipped" >&2
    check "report says plots are missing" grep -q 'No plots for this workload' "$R"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
