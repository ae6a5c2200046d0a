#!/usr/bin/env bash
# test_cpython.sh — the harness's side of a `cpython` cell (harness/run_cpython.c,
# tools/twins/PROTOCOL.md), driven through the stand-in probe of tests/fixtures/twins/
# (MEMSTRAT_TWINS_DIR points the harness at it; it measures real gc.callbacks pauses).
# What must hold:
#   - bad input is one line and exit 2 before anything runs: a missing interpreter (with how to
#     install it), a bad version, an unsupported allocator, a workload without a twin, a missing
#     probe, a script that is missing, a directory or a FIFO, `script` outside an interpreter;
#   - while running: a script that raises ends with its exception's line and exit 2; one that
#     hangs past timeout=2 is killed (its process too), one line, exit 1; a malformed probe line,
#     a line cut short and a child that dies without `done` fail the cell (exit 1) naming the line
#     or the child's last stderr line; a child dies with its parent;
#   - the counters: pause percentiles within 1% of the exact ceil-rank percentiles of the raw
#     pause list the probe saw (and --ms_pauses is that list), collections per generation,
#     python_version, malloc_impl from the child (0, 0, 1, 2 for pymalloc, system, jemalloc,
#     mimalloc) while memstrat itself stays on glibc, the child's environment per PROTOCOL.md,
#     no heap counters; latencies and the script's units; probe=0 drops the pause counters;
#   - --ms_timeline is the child's RSS (hundreds of MB that memstrat never holds), t from `begin`.
# usage: test_cpython.sh path/to/memstrat source_dir
set -u
MS=$(realpath "$1")
SRC=$(realpath "$2")
PY=/usr/bin/python3
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAILED: $*" >&2; }
T=$(mktemp -d "${TMPDIR:-/tmp}/memstrat-cpython.XXXXXX")
trap 'rm -rf "$T"' EXIT
export MEMSTRAT_TWINS_DIR=$SRC/tests/fixtures/twins
SCRIPTS=$SRC/tests/fixtures/scripts
unset MEMSTRAT_STANDIN

# expect_bad WANT CELL...: exit 2 and exactly one line on stderr, containing WANT
expect_bad() {
    local want=$1 err rc lines; shift
    err=$("$MS" run "$@" 2>&1 >/dev/null); rc=$?
    lines=$(printf '%s' "$err" | grep -c '')
    if [ "$rc" -ne 2 ] || [ "$lines" -ne 1 ]; then bad "run $*: exit $rc, $lines lines (want 2, 1): $err"; return; fi
    case "$err" in *"$want"*) ok ;; *) bad "run $*: message lacks '$want': $err" ;; esac
}
# expect_fail RC WANT CELL... [env via ENV=...]: exit RC, one 'memstrat run:' line, the last, containing WANT
expect_fail() {
    local rc_want=$1 want=$2 rc last; shift 2
    "$MS" run "$@" > "$T/out" 2> "$T/err"; rc=$?
    last=$(tail -1 "$T/err")
    if [ "$rc" -ne "$rc_want" ]; then bad "run $*: exit $rc, want $rc_want: $last"; return; fi
    [ "$(grep -c '^memstrat run:' "$T/err")" = 1 ] || { bad "run $*: not one 'memstrat run:' line: $(cat "$T/err")"; return; }
    case "$last" in "memstrat run: "*"$want"*) ok ;; *) bad "run $*: last line lacks '$want': $last" ;; esac
}
# run_json CELL [flags]: runs it with JSON on $T/out.json; failure is reported
run_json() {
    "$MS" run "$@" --benchmark_format=json > "$T/out.json" 2> "$T/err" && return 0
    bad "run $*: exit $?: $(tail -1 "$T/err")"; return 1
}
counter() { # NAME: from $T/out.json; "" when absent
    $PY -c "import json,sys; b=json.load(open(sys.argv[1]))['benchmarks'][0]; v=b.get(sys.argv[2]); print('' if v is None else repr(v))" \
        "$T/out.json" "$1"
}
sanitized=0
"$MS" list --json | grep -q '"sanitize": true' && sanitized=1

# ---- 1. the registry -----------------------------------------------------------------------
$PY - "$MS" <<'EOF' && ok || bad "list --json: cpython/script facts"
import json, subprocess, sys
d = json.loads(subprocess.run([sys.argv[1], "list", "--json"], capture_output=True, check=True).stdout)
s = {c["name"]: c for c in d["strategies"]}
w = {c["name"]: c for c in d["workloads"]}
c = s["cpython"]
assert c["interpreter"] is True and c["preheader"] == 16 and c["has_collector"] and c["generations"] == 3, c
assert c["pause_kinds"] == ["gen0", "gen1", "gen2"], c
assert {k["name"]: k["default"] for k in c["knobs"]} == {"python": "3.11", "gc": "default", "policy": "auto",
                                                          "probe": "1", "timeout": "600"}, c["knobs"]
assert all(v["interpreter"] is False for k, v in s.items() if k != "cpython")
assert w["script"]["interpreter"] is True and not w["ring"]["interpreter"]
assert [k["name"] for k in w["script"]["knobs"]] == ["script", "args"]
EOF
"$MS" list | grep -q "^  cpython .*runs in an interpreter" && ok || bad "memstrat list lacks cpython's flag"

# ---- 2. bad input, before anything runs ----------------------------------------------------
expect_bad "python=3.99: no python3.99 on PATH" ring/cpython/pymalloc/slots/python=3.99
expect_bad "apt-get install python3.99, or pyenv install 3.99" ring/cpython/pymalloc/slots/python=3.99
expect_bad "python=$T/nope/python3 is not an executable file" ring/cpython/pymalloc/slots/python=$T/nope/python3
expect_bad "python=/etc/passwd is not an executable file" ring/cpython/pymalloc/slots/python=/etc/passwd
expect_bad "knob 'python': '3' is not a version X.Y" ring/cpython/pymalloc/slots/python=3
expect_bad "knob 'python': '3.11.2' is not a version X.Y" ring/cpython/pymalloc/slots/python=3.11.2
expect_bad "knob 'python': 'latest' is not a version X.Y" ring/cpython/pymalloc/slots/python=latest
expect_bad "knob 'python': 2.7 is older than the probe supports" ring/cpython/pymalloc/slots/python=2.7
for a in pool bump; do
    expect_bad "allocator '$a' cannot run in an interpreter (cpython runs on pymalloc, system, jemalloc or mimalloc)" \
        ring/cpython/$a/slots
done
expect_bad "workload 'churn' has no Python twin" churn/cpython/pymalloc/slots
expect_bad "knob 'gc': '700,10' is not T0,T1,T2" ring/cpython/pymalloc/slots/gc=700,10
expect_bad "knob 'gc': 'cpython311' is not T0,T1,T2" ring/cpython/pymalloc/slots/gc=cpython311
expect_bad "knob 'policy': 'never' is not auto, manual" ring/cpython/pymalloc/slots/policy=never
expect_bad "knob 'probe' must be in [0, 1]" ring/cpython/pymalloc/slots/probe=2
expect_bad "knob 'timeout' must be in [1, 86400]" ring/cpython/pymalloc/slots/timeout=0
expect_bad "workload 'script' runs only in an interpreter (reclaim cpython)" script/rc+gen/system/slots/script=$SCRIPTS/units.py
expect_bad "workload 'script' needs script=PATH" script/cpython/pymalloc/shared
expect_bad "script '$T/none.py': No such file or directory" script/cpython/pymalloc/shared/script=$T/none.py
expect_bad "script '$T' is not a regular file" script/cpython/pymalloc/shared/script=$T
mkfifo "$T/fifo.py"
expect_bad "script '$T/fifo.py' is not a regular file" script/cpython/pymalloc/shared/script=$T/fifo.py
mkdir "$T/empty"
MEMSTRAT_TWINS_DIR=$T/empty expect_bad "cpython cells need the probe $T/empty/probe.py, which is missing" ring/cpython/pymalloc/slots
expect_bad "knob 'args' needs a value" "script/cpython/pymalloc/shared/script=$SCRIPTS/units.py/args="

# ---- 3. failures while running -------------------------------------------------------------
expect_fail 2 "ZeroDivisionError: division by zero" script/cpython/pymalloc/shared/script=$SCRIPTS/raises.py
grep -q "raises.py: about to fail" "$T/err" && ok || bad "the script's own stderr was not passed on"
start=$(date +%s)
expect_fail 1 "killed after timeout=2 s: the interpreter was still running" \
    script/cpython/pymalloc/shared/script=$SCRIPTS/hangs.py/timeout=2
[ $(( $(date +%s) - start )) -lt 20 ] && ok || bad "timeout=2 took $(( $(date +%s) - start )) s"
pgrep -f "$SCRIPTS/hangs.py" > /dev/null && bad "the hanging script still runs after the timeout" || ok
MEMSTRAT_STANDIN="line=pause 1 2 3" expect_fail 1 "probe line 5 malformed: 'pause 1 2 3': expected pause T D G C U" \
    ring/cpython/pymalloc/slots/n=1000
MEMSTRAT_STANDIN="line=gc 7 1 1 1" expect_fail 1 "probe line 5 malformed: 'gc 7 1 1 1': generation 7 (0..2)" \
    ring/cpython/pymalloc/slots/n=1000
MEMSTRAT_STANDIN="line=$(printf 'esc\033[2J')" expect_fail 1 "probe line 5 malformed: 'esc\\x1b[2J': not a record" \
    ring/cpython/pymalloc/slots/n=1000
MEMSTRAT_STANDIN="line=counter $(printf '%05000d' 0)" expect_fail 1 "probe line 5 malformed: longer than 4096 bytes" \
    ring/cpython/pymalloc/slots/n=1000
MEMSTRAT_STANDIN=clock expect_fail 1 "probe line 4 malformed: 'begin " ring/cpython/pymalloc/slots/n=1000
MEMSTRAT_STANDIN=cut expect_fail 1 "malformed: cut short (no newline at the end)" ring/cpython/pymalloc/slots/n=1000
MEMSTRAT_STANDIN=nodone expect_fail 1 "the interpreter exited with status 0 before 'done'" ring/cpython/pymalloc/slots/n=1000
MEMSTRAT_STANDIN=crash expect_fail 1 "exited with status 3 before 'done': standin: crashing on purpose" \
    ring/cpython/pymalloc/slots/n=1000
printf '#!/nonexistent/interpreter\n' > "$T/python3.11" && chmod +x "$T/python3.11"
expect_fail 1 "exited with status 127 before 'done': cannot start $T/python3.11" ring/cpython/pymalloc/slots/python=$T/python3.11
# the child dies with its parent (PR_SET_PDEATHSIG)
"$MS" run "script/cpython/pymalloc/shared/script=$SCRIPTS/hangs.py" > /dev/null 2>&1 &
parent=$!
child=""
for _ in $(seq 100); do child=$(pgrep -P "$parent" | head -1); [ -n "$child" ] && break; sleep 0.05; done
kill -9 "$parent"; wait "$parent" 2>/dev/null
for _ in $(seq 100); do kill -0 "$child" 2>/dev/null || break; sleep 0.05; done
[ -n "$child" ] && ! kill -0 "$child" 2>/dev/null && ok || bad "the interpreter ($child) outlived memstrat"

# ---- 4. pauses: the histogram against the raw list the probe saw ---------------------------
if MEMSTRAT_STANDIN=dump=$T/dump.json run_json ring/cpython/pymalloc/slots/n=100000/rounds=3/gc=100,5,5 \
    --ms_pauses="$T/pauses.csv"; then
    $PY - "$T/out.json" "$T/dump.json" "$T/pauses.csv" <<'EOF' && ok || bad "pause percentiles / pause log"
import csv, json, math, sys
b = json.load(open(sys.argv[1]))["benchmarks"][0]
d = json.load(open(sys.argv[2]))
rows = list(csv.DictReader(open(sys.argv[3])))
raw = d["pauses"]  # (start, duration, generation, collected, uncollectable), as the probe saw them
assert len(raw) > 1000, len(raw)
assert len(rows) == len(raw) == b["pause_count"], (len(rows), len(raw), b["pause_count"])
for r, p in zip(rows, raw):  # --ms_pauses is the probe's list, t from `begin`
    assert round(float(r["duration_us"]) * 1000) == p[1] and int(r["generation"]) == p[2], (r, p)
    assert int(r["collected"]) == p[3] and abs(float(r["t_ms"]) - (p[0] - d["begin"]) / 1e6) < 1e-5, (r, p)

def pct(xs, q):  # exact ceil-rank percentile
    xs = sorted(xs)
    return xs[max(1, math.ceil(round(q / 100 * len(xs), 9))) - 1]

def near(got, want, what):
    assert abs(got - want) <= 0.01 * want + 1e-9, (what, got, want)

for prefix, sel in [("pause", lambda p: True)] + [(f"pause_gen{g}", lambda p, g=g: p[2] == g) for g in range(3)]:
    xs = [p[1] for p in raw if sel(p)]
    assert xs, prefix
    for name, q in (("p50", 50), ("p90", 90), ("p99", 99), ("p999", 99.9)):
        near(b[f"{prefix}_{name}_us"] * 1000, pct(xs, q), f"{prefix}_{name}")
    assert round(b[f"{prefix}_max_us"] * 1000) == max(xs), prefix
for g in range(3):
    assert b[f"gc_collections_gen{g}"] == sum(1 for p in raw if p[2] == g), g
near(b["pause_total_ms"] * 1e6, sum(p[1] for p in raw), "total")
assert b["gc_collected"] == sum(p[3] for p in raw), b["gc_collected"]
assert b["ops_per_s"] > 0 and b["nodes"] == 300000 and b["python_version"] == 311 and b["preheader_bytes"] == 16
assert b["time_unit"] == "ms" and abs(b["real_time"] * 1e6 - (d["end"] - d["begin"])) <= 1e-3 * (d["end"] - d["begin"]), "iteration time"
for absent in ("live_objects", "leaked_objects", "alloc_live_mb", "gc_examined", "req_p50_us"):
    assert absent not in b, absent
EOF
fi

# ---- 5. the timeline is the child's RSS, from `begin` --------------------------------------
if run_json list/cpython/pymalloc/slots/n=1000000 --ms_timeline="$T/rss.csv"; then
    $PY - "$T/out.json" "$T/rss.csv" <<'EOF' && ok || bad "the RSS timeline is not the child's"
import csv, json, sys
b = json.load(open(sys.argv[1]))["benchmarks"][0]
rows = [(float(r["t_ms"]), float(r["rss_mb"])) for r in csv.DictReader(open(sys.argv[2]))]
top = max(mb for _, mb in rows)
assert top > 60, f"child RSS peaked at {top} MB"            # 1M bytearrays: memstrat never holds that
assert sum(1 for t, _ in rows if t < 0) == 1, rows[:3]     # before begin: the last sample only
assert rows == sorted(rows, key=lambda r: r[0]) and len(rows) > 10
assert b["rss_peak_mb"] + 1 >= top and b["rss_final_mb"] > 0, (b["rss_peak_mb"], top)
EOF
fi
"$MS" run list/cpython/pymalloc/slots/n=1000 --benchmark_repetitions=2 --benchmark_format=json 2>/dev/null |
    $PY -c "import json,sys; r=[b for b in json.load(sys.stdin)['benchmarks'] if b.get('run_type')=='iteration']; assert len(r)==2 and all(b['python_version']==311 for b in r)" \
    && ok || bad "two repetitions of a cpython cell"

# ---- 6. the child's malloc and environment; memstrat stays on glibc ------------------------
for spec in "pymalloc 0" "system 0" "jemalloc 1" "mimalloc 2"; do
    set -- $spec
    if MEMSTRAT_STANDIN=dump=$T/env.json PYTHONPATH=/nowhere PYTHONDONTWRITEBYTECODE=1 \
        run_json ring/cpython/$1/slots/n=1000; then
        [ "$(counter malloc_impl)" = "$2.0" ] && ok || bad "$1: malloc_impl $(counter malloc_impl), want $2"
        grep -q "process malloc" "$T/err" && bad "$1: memstrat printed its own process malloc for a cpython cell" || ok
        $PY - "$T/env.json" "$1" <<'EOF' && ok || bad "$1: the child's environment"
import json, sys
d, alloc = json.load(open(sys.argv[1])), sys.argv[2]
env = d["env"]
want = {"PYTHONHASHSEED": "0"}
if alloc != "pymalloc":
    want["PYTHONMALLOC"] = "malloc"
got = {k: v for k, v in env.items() if k.startswith("PYTHON")}
assert got == want, got
lib = {"jemalloc": "libjemalloc.so.2", "mimalloc": "libmimalloc.so.2"}.get(alloc)
pre = env.get("LD_PRELOAD", "")
assert (lib is None and "malloc" not in pre) or pre.split(":")[0].endswith("/" + lib), pre
assert "libjemalloc" not in d["parent_maps"] and "libmimalloc" not in d["parent_maps"], "memstrat re-executed"
EOF
    fi
done
# an inherited preload of another malloc reaches no child (not in the sanitizer build: ASan must load first)
JE=$(ls /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 /usr/lib/libjemalloc.so.2 2>/dev/null | head -1)
if [ "$sanitized" = 0 ] && [ -n "$JE" ]; then
    LD_PRELOAD=$JE run_json ring/cpython/system/slots/n=1000 && [ "$(counter malloc_impl)" = "0.0" ] && ok ||
        bad "system cell with an inherited jemalloc preload: malloc_impl $(counter malloc_impl)"
fi
# a model's cell and an interpreter's in one run: the model on glibc (ASan's malloc in the
# sanitizer build, code 3), the interpreter on jemalloc
if run_json list/rc/system/slots/n=1000 ring/cpython/jemalloc/slots/n=1000; then
    $PY -c "import json,sys; b=json.load(open(sys.argv[1]))['benchmarks']; assert [x['malloc_impl'] for x in b]==[int(sys.argv[2]),1], b" \
        "$T/out.json" $((sanitized * 3)) && ok || bad "mixed run: malloc_impl per cell"
fi

# ---- 7. latencies, the script's units and args, probe=0 ------------------------------------
if run_json request/cpython/pymalloc/slots/requests=300/warmup=50/records=20 --ms_latency="$T/lat.csv"; then
    [ -n "$(counter req_p99_us)" ] && [ -n "$(counter req_metered_max_us)" ] && ok || bad "request: no req_* counters"
    head -1 "$T/lat.csv" | grep -qx "percentile,simple_us,metered_us" && ok || bad "request: no latency CSV"
fi
if MEMSTRAT_STANDIN=dump=$T/units.json run_json "script/cpython/pymalloc/shared/script=$SCRIPTS/units.py/args=--port 8000 'a b'"; then
    grep -qF "ARGS ['--port', '8000', 'a b']" "$T/err" && ok || bad "script args: $(grep ARGS "$T/err")"
    $PY - "$T/out.json" "$T/units.json" <<'EOF' && ok || bad "script units"
import json, math, sys
b = json.load(open(sys.argv[1]))["benchmarks"][0]
units = sorted(json.load(open(sys.argv[2]))["units"])
assert b["time_unit"] == "ms" and len(units) == 200, b["time_unit"]
assert abs(b["ops_per_s"] * b["real_time"] / 1e3 - 200) < 1e-6 * 200, b["ops_per_s"]
assert abs(b["req_p50_us"] * 1000 - units[99]) <= 0.01 * units[99], (b["req_p50_us"], units[99])
EOF
fi
if run_json ring/cpython/pymalloc/slots/n=100000/gc=100,5,5/probe=0; then
    [ -z "$(counter pause_count)" ] && [ -z "$(counter pause_gen0_p50_us)" ] && ok || bad "probe=0 still reports pauses"
    [ "$(counter gc_collections_gen0)" != "" ] && [ "$(counter gc_collections_gen0)" != "0.0" ] && ok ||
        bad "probe=0: no collections counted"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
