#!/usr/bin/env bash
# test_compare.sh — `memstrat compare RUN_A RUN_B` on two tiny real runs and on edited copies.
# A run compared with itself: ratios 1.000, nothing significant. A copy whose rc+gen cell has
# every time made slower than any of the original's (json real_time rewritten): that cell's
# time is marked '+', p = 2/252 (exact, 5 vs 5), the other cell is not marked. 2 vs 2 reps:
# one warning that p < 0.05 is unreachable, nothing marked. Cells in one run only are listed.
# A cell that failed in B and a counter missing in B are n/a, not a crash. The CSV has one
# row per cell x metric. Bad input: exactly one line on stderr and exit 2.
# usage: test_compare.sh path/to/memstrat source_dir
set -u
MS=$1
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAILED: $*" >&2; }
has() { # text word what
    case "$1" in *"$2"*) ok ;; *) bad "$3 lacks '$2'" ;; esac
}

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
NONE=list/none/system/slots/n=20000
GEN=list/rc+gen/system/slots/n=20000
printf '%s\n%s\n' "$NONE" "$GEN" >"$TMP/matrix.txt"
bench() { # reps out
    "$MS" bench --matrix "$TMP/matrix.txt" --reps "$1" --no-plots --gcscan-n 0 --out "$2" \
        >"$2.log" 2>&1 || { echo "bench failed:" >&2; cat "$2.log" >&2; exit 1; }
}
bench 5 "$TMP/r5"
bench 2 "$TMP/r2"
A=$TMP/r5/latest

# slower SRC DST SLUG...: copy run SRC to DST and multiply real_time of the named cells by
# twice SRC's max/min ratio, so every repetition of DST is above every one of SRC.
slower() {
    local src=$1 dst=$2; shift 2
    cp -rL "$src" "$dst"
    python3 - "$dst" "$@" <<'EOF' || exit 1
import glob, json, sys
d, slugs = sys.argv[1], sys.argv[2:]
for slug in slugs:
    files = sorted(glob.glob(f"{d}/json/{slug}.rep*.json"))
    docs = [json.load(open(f)) for f in files]
    t = [b["real_time"] for doc in docs for b in doc["benchmarks"]]
    factor = 2 * max(t) / min(t)
    for f, doc in zip(files, docs):
        for b in doc["benchmarks"]:
            b["real_time"] *= factor
        json.dump(doc, open(f, "w"))
EOF
}
SLUG_GEN='list__rc+gen__system__slots__n=20000'

# 1. a run against itself
out=$("$MS" compare "$A" "$A" --csv "$TMP/self.csv" 2>"$TMP/self.err"); rc=$?
[ "$rc" -eq 0 ] && ok || bad "self compare exit $rc"
has "$out" "$NONE" "self table"
has "$out" "$GEN" "self table"
has "$out" "significant changes: 0 " "self summary"
has "$out" "n/a (no pauses)" "self table (pauses under none)"
[ ! -s "$TMP/self.err" ] && ok || bad "self compare wrote to stderr: $(cat "$TMP/self.err")"
python3 - "$TMP/self.csv" <<'EOF' && ok || bad "self CSV"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 6, rows
assert list(rows[0]) == ["cell", "metric", "a_median", "b_median", "ratio", "p_value", "test",
                         "significant"], list(rows[0])
for r in rows:
    assert r["significant"] == "0", r
    if r["test"] != "none":
        assert float(r["ratio"]) == 1.0 and float(r["p_value"]) == 1.0, r
p = [r for r in rows if r["metric"] == "pause_p99_us" and "/none/" in r["cell"]][0]
assert p["test"] == "none" and p["ratio"] == "" and p["p_value"] == "", p
EOF
# the table shows B/A = 1.000 with p = 1.0000 for every metric that exists (rc+gen: all three)
n=$(printf '%s\n' "$out" | grep "^$GEN " | grep -o ' 1\.000  1\.0000 ' | grep -c '')
[ "$n" -eq 3 ] && ok || bad "self rc+gen line has $n ratios 1.000 with p 1.0000, expected 3"

# 2. rc+gen made slower in B: time marked '+', exact p = 2/252, none's time unmarked
slower "$A" "$TMP/slow" "$SLUG_GEN"
out=$("$MS" compare "$A" "$TMP/slow" --csv "$TMP/slow.csv" 2>"$TMP/slow.err"); rc=$?
[ "$rc" -eq 0 ] && ok || bad "slow compare exit $rc"
has "$out" "significant changes: 1 (1 higher, 0 lower)" "slow summary"
line=$(printf '%s\n' "$out" | grep "^$GEN ")
has "$line" "0.0079 +" "slow rc+gen line"
python3 - "$TMP/slow.csv" "$GEN" <<'EOF' && ok || bad "slow CSV"
import csv, sys
rows = {(r["cell"], r["metric"]): r for r in csv.DictReader(open(sys.argv[1]))}
t = rows[(sys.argv[2], "time_ms")]
assert t["significant"] == "1" and t["test"] == "exact", t
assert abs(float(t["p_value"]) - 2 / 252) < 1e-9 and float(t["ratio"]) > 2, t
n = rows[("list/none/system/slots/n=20000", "time_ms")]
assert n["significant"] == "0" and float(n["ratio"]) == 1.0, n
EOF
# the other way round: lower, marked '-'
out=$("$MS" compare "$TMP/slow" "$A" 2>/dev/null)
has "$(printf '%s\n' "$out" | grep "^$GEN ")" "0.0079 -" "reverse rc+gen line"

# 3. 2 vs 2: one warning, nothing marked even when every rep is slower
slower "$TMP/r2/latest" "$TMP/slow2" "$SLUG_GEN"
out=$("$MS" compare "$TMP/r2/latest" "$TMP/slow2" 2>"$TMP/two.err"); rc=$?
[ "$rc" -eq 0 ] && ok || bad "2v2 exit $rc"
has "$out" "significant changes: 0 " "2v2 summary"
has "$(cat "$TMP/two.err")" "with 2 vs 2 repetitions no difference can reach p < 0.05" "2v2 warning"
[ "$(grep -c 'no difference can reach' "$TMP/two.err")" -eq 1 ] && ok || bad "2v2 warned more than once"
# and a 5-rep run against a 2-rep one still compares (5 vs 2: smallest p 2/21 = 0.095)
"$MS" compare "$A" "$TMP/r2/latest" >/dev/null 2>"$TMP/52.err" && ok || bad "5v2 exit"
has "$(cat "$TMP/52.err")" "5 vs 2 repetitions" "5v2 warning"

# 4. cells in one run only; --alpha and --noise-floor are honoured
cp -rL "$A" "$TMP/onlya"
python3 - "$TMP/onlya/meta.json" "$NONE" <<'EOF' || exit 1
import json, sys
m = json.load(open(sys.argv[1]))
m["matrix"]["cells"] = [c for c in m["matrix"]["cells"] if c != sys.argv[2]]
json.dump(m, open(sys.argv[1], "w"))
EOF
out=$("$MS" compare "$A" "$TMP/onlya" 2>/dev/null); rc=$?
[ "$rc" -eq 0 ] && ok || bad "only-in-A exit $rc"
has "$out" "only in A: $NONE" "only-in-A listing"
[ "$(printf '%s\n' "$out" | grep -c "$NONE")" -eq 1 ] && ok || bad "only-in-A cell listed more than once"
out=$("$MS" compare "$TMP/onlya" "$A" 2>/dev/null)
has "$out" "only in B: $NONE" "only-in-B listing"
out=$("$MS" compare "$A" "$TMP/slow" --alpha 0.001 2>/dev/null)
has "$out" "significant changes: 0 " "--alpha 0.001 (5v5 cannot reach it)"
out=$("$MS" compare "$A" "$TMP/slow" --noise-floor=1000 2>/dev/null)
has "$out" "significant changes: 0 " "--noise-floor 1000"
has "$out" "1 more with p < 0.05 within the 1000% noise floor" "--noise-floor 1000"

# 5. a cell whose repetitions all failed in B, and a counter missing in B: n/a, exit 0
cp -rL "$A" "$TMP/holes"
rm "$TMP/holes/json/list__none__system__slots__n=20000".rep*.json
python3 - "$TMP/holes" "$SLUG_GEN" <<'EOF' || exit 1
import glob, json, sys
for f in glob.glob(f"{sys.argv[1]}/json/{sys.argv[2]}.rep*.json"):
    doc = json.load(open(f))
    for b in doc["benchmarks"]:
        del b["pause_p99_us"]
    json.dump(doc, open(f, "w"))
EOF
out=$("$MS" compare "$A" "$TMP/holes" --csv "$TMP/holes.csv" 2>/dev/null); rc=$?
[ "$rc" -eq 0 ] && ok || bad "holes exit $rc"
n=$(printf '%s\n' "$out" | grep "^$NONE " | grep -o 'n/a (failed in B)' | grep -c '')
[ "$n" -eq 3 ] && ok || bad "failed cell shows $n x 'n/a (failed in B)', expected 3"
has "$(printf '%s\n' "$out" | grep "^$GEN ")" "n/a (absent in B)" "missing counter"
[ "$(grep -c ',none,0$' "$TMP/holes.csv")" -eq 4 ] && ok || bad "holes CSV: $(cat "$TMP/holes.csv")"

# 6. bad input: one line on stderr, exit 2
expect_bad() { # "message part" args...
    local want=$1; shift
    local err rc lines
    err=$("$MS" compare "$@" 2>&1 >/dev/null); rc=$?
    lines=$(printf '%s' "$err" | grep -c '')
    if [ "$rc" -ne 2 ]; then bad "compare $* exit $rc, expected 2 ($err)"; return; fi
    if [ "$lines" -ne 1 ]; then bad "compare $* printed $lines lines: $err"; return; fi
    case "$err" in *"$want"*) ok ;; *) bad "compare $* message lacks '$want': $err" ;; esac
}
mkdir -p "$TMP/empty" "$TMP/badmeta" "$TMP/nocommon"
echo '{ "run_id": ' >"$TMP/badmeta/meta.json"
echo '{"run_id":"x","reps":5,"matrix":{"cells":["list/rc/system/slots/n=7"]}}' >"$TMP/nocommon/meta.json"
expect_bad "cannot open run directory $TMP/missing" "$TMP/missing" "$A"
expect_bad "cannot open run directory $TMP/missing" "$A" "$TMP/missing"
expect_bad "is not a directory" "$TMP/matrix.txt" "$A"
expect_bad "is not a run directory" "$TMP/empty" "$A"
expect_bad "meta.json" "$A" "$TMP/badmeta"
expect_bad "no cells in common" "$A" "$TMP/nocommon"
expect_bad "--alpha must be a number between 0 and 1, not '0'" "$A" "$A" --alpha 0
expect_bad "--alpha must be a number between 0 and 1, not '1.5'" "$A" "$A" --alpha 1.5
expect_bad "--alpha must be a number between 0 and 1, not 'abc'" "$A" "$A" --alpha=abc
expect_bad "needs a value" "$A" "$A" --alpha
expect_bad "--noise-floor must be a percentage" "$A" "$A" --noise-floor -1
expect_bad "unknown option '--frob'" "$A" "$A" --frob
expect_bad "unknown option '-x'" "$A" "$A" -x
expect_bad "expected two run directories (RUN_A RUN_B), got 1" "$A"
expect_bad "expected two run directories (RUN_A RUN_B), got 0"
expect_bad "got a third" "$A" "$A" "$A"
expect_bad "cannot write $TMP/no/such/dir/x.csv" "$A" "$A" --csv "$TMP/no/such/dir/x.csv"
"$MS" compare --help | grep -q 'usage: memstrat compare' && ok || bad "--help"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
