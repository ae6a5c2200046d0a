#!/usr/bin/env bash
# test_bench_hostile.sh — `memstrat bench` used as a hostile or careless user would (issue 12, item 5).
# Contract checked, each a defect of the C driver:
#  a. results/latest that is a regular file or a directory is left alone: the run is published,
#     one warning line says so, and no "latest:" line claims it moved;
#  b. --out naming an existing run directory, a directory inside one, or latest (a symlink to
#     one) is refused: exit 2, one line, nothing written into the run;
#  c. a SIGKILLed driver takes its running cell along, and the next driver removes the .tmp
#     directory it left (one line saying so) and runs; the .tmp directory of a live driver, or one
#     without an owner record, is never removed;
#  d. a run where every repetition failed (--memstrat /bin/true) is kept but not made latest: exit 1;
#  e. the pre-run cell check is bounded by --timeout: a FIFO as a trace file does not hang bench.
# usage: test_bench_hostile.sh path/to/memstrat source_dir
set -u
MS=$(realpath "$1")
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAILED: $*" >&2; }
check() { # description command...
    local what=$1; shift
    if "$@"; then ok; else bad "$what"; fi
}
T=$(mktemp -d "${TMPDIR:-/tmp}/memstrat-bench-hostile.XXXXXX")
bg=()
cleanup() { for p in "${bg[@]}"; do kill -KILL "$p" 2> /dev/null; done; rm -rf "$T"; }
trap cleanup EXIT
cd "$T" || exit 1
printf 'list/rc/system/slots/n=1000\n' > good.txt
B=(--reps 1 --no-plots --gcscan-n 0)
# alive PID: the process exists and is not a zombie (a killed child may wait for init to reap it)
alive() { [ -r "/proc/$1/stat" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2> /dev/null)" != Z ]; }
# wait_for FILE: up to 20 s for FILE to be non-empty
wait_for() { for _ in $(seq 200); do [ -s "$1" ] && return 0; sleep 0.1; done; return 1; }

# --- a. latest that is not a symlink is the user's -----------------------------------------
for kind in file dir; do
    R=$T/ra-$kind
    mkdir -p "$R"
    if [ $kind = file ]; then echo mine > "$R/latest"; else mkdir "$R/latest"; echo mine > "$R/latest/keep"; fi
    "$MS" bench --matrix good.txt "${B[@]}" --out "$R" --run-id a1 > out 2> err
    rc=$?
    check "a/$kind: run exits 0 (got $rc): $(tail -2 err)" test $rc -eq 0
    check "a/$kind: run published" test -f "$R/a1/results.csv"
    if [ $kind = file ]; then
        check "a/file: latest still the user's file" test ! -L "$R/latest" -a "$(cat "$R/latest" 2> /dev/null)" = mine
    else
        check "a/dir: latest still the user's directory" test ! -L "$R/latest" -a "$(cat "$R/latest/keep" 2> /dev/null)" = mine
    fi
    n=$(grep -c latest err)
    check "a/$kind: one warning line about latest (got $n): $(cat err)" test "$n" -eq 1
    check "a/$kind: no 'latest:' line on stdout" test -z "$(grep '^latest:' out)"
    check "a/$kind: 'run:' line on stdout" grep -q "^run: *$R/a1$" out
done

# --- b. --out inside an existing run ----------------------------------------------------
R=$T/rb
"$MS" bench --matrix good.txt "${B[@]}" --out "$R" --run-id g1 > /dev/null 2> err
check "b: good run exits 0: $(tail -2 err)" test $? -eq 0
before=$(cd "$R" && find . | sort | cksum)
for out in "$R/g1" "$R/g1/" "$R/g1/json" "$R/g1/new/deeper" "$R/latest"; do
    err=$("$MS" bench --matrix good.txt "${B[@]}" --out "$out" --run-id b1 2>&1 > /dev/null); rc=$?
    check "b: --out $out: exit 2 (got $rc): $err" test $rc -eq 2
    check "b: --out $out: one line (got $(printf '%s\n' "$err" | grep -c '')): $err" test "$(printf '%s\n' "$err" | grep -c '')" -eq 1
    check "b: --out $out: names the run directory: $err" grep -q "inside the run directory" <<< "$err"
done
check "b: nothing written into the results" test "$(cd "$R" && find . | sort | cksum)" = "$before"

# --- c. SIGKILLed driver: its cell dies with it, its .tmp goes at the next start -------------
cat > wrap.sh << EOF
#!/usr/bin/env bash
# stand-in runner: the real one, except that a cell with n=12 records its pid and hangs
for a in "\$@"; do case \$a in --benchmark_list_tests=true) exec "$MS" "\$@";; esac; done
case \$2 in */n=12) echo \$\$ > "\$PIDFILE"; exec sleep 120;; esac
exec "$MS" "\$@"
EOF
chmod +x wrap.sh
printf 'list/none/system/slots/n=12\n' > hang.txt
R=$T/rc
mkdir -p "$R/.tmp-old" # an owner-less .tmp dir (a C driver's leftover): never ours to remove
PIDFILE=$T/k1.pid "$MS" bench --matrix hang.txt "${B[@]}" --out "$R" --run-id k1 --memstrat ./wrap.sh \
    > /dev/null 2> errk &
bp=$!
bg+=("$bp")
check "c: the hanging cell started" wait_for k1.pid
kill -KILL "$bp"
wait "$bp" 2> /dev/null
cp=$(cat k1.pid 2> /dev/null)
for _ in $(seq 50); do alive "${cp:-0}" || break; sleep 0.1; done
if [ -n "$cp" ] && ! alive "$cp"; then ok; else bad "c: the cell process (pid $cp) outlived its driver"; kill -KILL "$cp"; fi
check "c: the killed driver left its .tmp dir" test -d "$R/.tmp-k1"
"$MS" bench --matrix good.txt "${B[@]}" --out "$R" --run-id k1 > /dev/null 2> err2
rc=$?
check "c: the same run id runs again after the crash (exit $rc): $(tail -2 err2)" test $rc -eq 0
check "c: one line says the dead driver's .tmp dir was removed: $(cat err2)" \
    test "$(grep -c "removed $R/.tmp-k1" err2)" -eq 1
check "c: the run is published" test -f "$R/k1/results.csv"
check "c: no owner record in the published run" test ! -e "$R/k1/.owner"
check "c: the owner-less .tmp dir is kept" test -d "$R/.tmp-old"
# a live driver's .tmp directory is never removed, nor reused
PIDFILE=$T/l1.pid "$MS" bench --matrix hang.txt "${B[@]}" --out "$R" --run-id l1 --memstrat ./wrap.sh \
    > /dev/null 2> errl &
lp=$!
bg+=("$lp")
check "c: a second hanging driver started" wait_for l1.pid
"$MS" bench --matrix good.txt "${B[@]}" --out "$R" --run-id k2 > /dev/null 2> err3
check "c: a run beside a live driver exits 0: $(tail -2 err3)" test $? -eq 0
check "c: the live driver's .tmp dir is kept" test -d "$R/.tmp-l1"
check "c: nothing said removed: $(cat err3)" test -z "$(grep removed err3)"
err=$("$MS" bench --matrix good.txt "${B[@]}" --out "$R" --run-id l1 2>&1 > /dev/null); rc=$?
check "c: a live driver's run id is refused (exit $rc): $err" test $rc -eq 2
check "c: ... in one line: $err" test "$(printf '%s\n' "$err" | grep -c '')" -eq 1
check "c: ... and its .tmp dir kept" test -d "$R/.tmp-l1"
kill -TERM "$lp"
wait "$lp"
rc=$?
check "c: SIGTERM ends the live driver with 143 (got $rc)" test $rc -eq 143
check "c: ... which removes its own .tmp dir" test ! -e "$R/.tmp-l1"
lc=$(cat l1.pid 2> /dev/null)
if [ -n "$lc" ] && ! alive "$lc"; then ok; else bad "c: the interrupted driver's cell (pid $lc) still runs"; fi

# --- d. every repetition failed: kept, not latest, exit 1 ----------------------------------
R=$T/rd
mkdir -p "$R"
ln -s prev "$R/latest"
"$MS" bench --matrix good.txt --reps 2 --no-plots --out "$R" --run-id d1 --memstrat /bin/true > out 2> err
rc=$?
check "d: exit 1 (got $rc): $(tail -2 err)" test $rc -eq 1
check "d: the run directory is kept" test -f "$R/d1/meta.json" -a -d "$R/d1/logs"
check "d: latest is left where it was ($(readlink "$R/latest"))" test "$(readlink "$R/latest")" = prev
check "d: no 'latest:' line" test -z "$(grep '^latest:' out)"
check "d: stderr says where the run is: $(tail -1 err)" grep -q "every repetition failed.*$R/d1" err
check "d: the failures are in meta.json" python3 -c "
import json, sys
assert len(json.load(open(sys.argv[1]))['failures']) == 2" "$R/d1/meta.json"

# --- e. the cell check is bounded by --timeout: a FIFO as the trace ---------------------------
mkfifo hang.trace
printf 'list/rc/system/slots/n=100\ntrace/rc/system/slots/trace=hang.trace\n' > fifo.txt
start=$(date +%s)
err=$(timeout 40 "$MS" bench --matrix fifo.txt "${B[@]}" --out "$T/re" --timeout 2 2>&1 > /dev/null); rc=$?
took=$(($(date +%s) - start))
check "e: FIFO trace refused with exit 2 (got $rc after $took s): $err" test $rc -eq 2
check "e: one line naming matrix:line: $err" test "$(printf '%s\n' "$err" | grep -c '')" -eq 1 -a \
    "$(grep -c '^memstrat bench: fifo.txt:2: ' <<< "$err")" -eq 1
check "e: nothing created" test ! -e "$T/re"
check "e: no cell check left running" test -z "$(pgrep -f 'trace=hang.trace' 2> /dev/null)"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
