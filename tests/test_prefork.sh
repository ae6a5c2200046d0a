#!/usr/bin/env bash
# test_prefork.sh — the `prefork` workload and the `immortal` knob end to end.
# Small knobs (sanitizer build too): one `memstrat run` of several prefork cells
# (the same run, so the same machine state). Checks: every cell reports the cow
# counters for both workers and serves workers x requests; under rc+gen a
# worker's private memory with policy=freeze is below auto's (the full
# collections of auto rewrite every inherited pre-header; frozen objects are
# never examined); freeze + immortal=1 is no higher than freeze (refcount
# writes to the state are skipped) and reports the immortal objects; the
# workers' memory timeline (X.cow.csv) has both workers; the interpreter's twin
# (os.fork, python3.11) reports the same counters and freeze below auto too; bad
# knobs exit 2 with one line.
# usage: test_prefork.sh path/to/memstrat source_dir
set -u
MS=$1
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAILED: $*" >&2; }

expect_bad() { # "what must appear in the message" args...
    local want=$1; shift
    local err rc
    err=$("$MS" "$@" 2>&1 >/dev/null); rc=$?
    local lines; lines=$(printf '%s' "$err" | grep -c '')
    if [ "$rc" -ne 2 ]; then bad "'$*' exit $rc, expected 2 ($err)"; return; fi
    if [ "$lines" -ne 1 ]; then bad "'$*' printed $lines lines: $err"; return; fi
    case "$err" in *"$want"*) ok ;; *) bad "'$*' message lacks '$want': $err" ;; esac
}

C=prefork/rc+gen/system/slots
expect_bad "knob 'workers'" run $C/workers=0
expect_bad "knob 'workers'" run $C/workers=65
expect_bad "knob 'cache'" run $C/cache=-1
expect_bad "knob 'appstate'" run $C/appstate=0
expect_bad "knob 'cycles' must be <= records" run $C/records=5/cycles=6
expect_bad "knob 'immortal'" run $C/immortal=2
expect_bad "knob 'immortal'" run $C/immortal=on
expect_bad "knob 'immortal'" run prefork/boehm/system/slots/immortal=1
expect_bad "knob 'immortal'" run request/rc/system/slots/immortal=-1

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
K="appstate=100k/requests=200/workers=2"
cells=("$C/$K" "$C/$K/policy=freeze" "$C/$K/policy=freeze/immortal=1" "prefork/none/system/slots/$K")
if ! "$MS" run "${cells[@]}" --benchmark_format=json --ms_timeline="$tmp/tl.csv" >"$tmp/out.json" 2>"$tmp/err.txt"; then
    bad "memstrat run failed: $(tail -1 "$tmp/err.txt")"
else
    read -r p f < <(python3 - "$tmp/out.json" <<'PY'
import json, sys
bench = {b["run_name"].split("/iterations")[0]: b for b in json.load(open(sys.argv[1]))["benchmarks"]}
p = f = 0
def check(cond, msg):
    global p, f
    if cond: p += 1
    else:
        f += 1
        print("FAILED:", msg, file=sys.stderr)
cells = list(bench)
for name, b in bench.items():
    for k in ("cow_private_mb_end", "cow_shared_mb_end", "cow_pss_mb_end", "cow_private_mb_per_1k_requests"):
        check(k in b and b[k] > 0, f"{name}: {k} missing or 0")
    check(b.get("cow_workers") == 2, f"{name}: cow_workers {b.get('cow_workers')}")
    check(b.get("requests_total") == 400, f"{name}: requests_total {b.get('requests_total')}")
auto, freeze, both, none = (bench[c] for c in cells)
check(freeze["cow_private_mb_end"] < auto["cow_private_mb_end"],
      f"freeze private {freeze['cow_private_mb_end']:.2f} MB not below auto {auto['cow_private_mb_end']:.2f} MB")
check(auto["worker_gc_gen2"] > 0, "auto: the workers ran no full collection")
check(both["cow_private_mb_end"] <= freeze["cow_private_mb_end"] * 1.02,
      f"freeze+immortal private {both['cow_private_mb_end']:.2f} MB above freeze {freeze['cow_private_mb_end']:.2f} MB")
check(both.get("immortal_objects", 0) >= 200000, f"immortal_objects {both.get('immortal_objects')}")
check("immortal_objects" not in auto, "auto reports immortal objects")
print(p, f)
PY
)
    pass=$((pass + p)) fail=$((fail + f))
    for k in 0 3; do
        tl="$tmp/tl.$k.cow.csv"
        if [ -s "$tl" ] && head -1 "$tl" | grep -q '^t_ms,worker,private_mb,shared_mb,pss_mb$' \
            && [ "$(cut -d, -f2 "$tl" | sed 1d | sort -u | tr '\n' ' ')" = "0 1 " ]; then ok
        else bad "workers' timeline $tl missing or lacks a worker"; fi
    done
fi
# The interpreter's twin (os.fork): the same counters, freeze below auto (python3.11, which
# `make deps` installs; without it this part is skipped with a line saying so).
if [ -x /usr/bin/python3.11 ]; then
    P=prefork/cpython/system/slots/appstate=50k/requests=100/python=3.11
    if "$MS" run "$P" "$P/policy=freeze" --benchmark_format=json >"$tmp/py.json" 2>"$tmp/pyerr.txt"; then
        read -r p f < <(python3 - "$tmp/py.json" <<'PY'
import json, sys
b = [x for x in json.load(open(sys.argv[1]))["benchmarks"]]
p = f = 0
def check(cond, msg):
    global p, f
    if cond: p += 1
    else:
        f += 1
        print("FAILED:", msg, file=sys.stderr)
for x in b:
    check(x.get("cow_workers") == 2 and x.get("requests_total") == 200 and x.get("cow_private_mb_end", 0) > 0,
          f"{x['run_name']}: cow counters {x.get('cow_workers')} {x.get('requests_total')} {x.get('cow_private_mb_end')}")
check(len(b) == 2 and b[1]["cow_private_mb_end"] < b[0]["cow_private_mb_end"],
      "cpython: freeze private not below auto: " + " ".join(str(x.get("cow_private_mb_end")) for x in b))
print(p, f)
PY
)
        pass=$((pass + p)) fail=$((fail + f))
    else
        bad "cpython prefork cells failed: $(tail -1 "$tmp/pyerr.txt")"
    fi
else
    echo "test_prefork: /usr/bin/python3.11 missing: the cpython twin was not run"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
