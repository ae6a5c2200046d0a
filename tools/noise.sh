#!/usr/bin/env bash
# noise.sh — which noise sources move the time CV on this machine (issue 16 item 2).
#
# Usage: tools/noise.sh [--reps N] [--memstrat PATH] [--only NAME,...] [--keep DIR]
#
# Contract: runs `memstrat bench` on a small fixed matrix (list, tree parent=1, request, churn on
# mimalloc: the cells the issue found noisiest; and the noise floor, a deterministic cache-resident
# loop, churn on the `void` allocator with 10,000 live slots) once per configuration below, all else equal,
# and prints a markdown table of each cell's time CV (%) per configuration, then the median CV
# and how many cells stayed at or under 5%. Each configuration changes one thing against the
# baseline (the bench defaults: interleaved repetitions, 1 warm-up, no pinning, ASLR on, THP as
# found); `remedies` changes all that helped in principle at once.
#
#   baseline     memstrat bench defaults
#   warmups-0    no warm-up repetition (what the first pass costs the CV)
#   blocked      --order blocked: a cell's repetitions in a row instead of interleaved passes
#   pin          --pin A,B: the cell on CPU A, its RSS sampler thread on CPU B
#   aslr-off     --aslr off: every cell without address-space randomisation
#   thp-MODE     transparent huge pages set to MODE (never, madvise, always: each one that is
#                not the mode found) for that configuration only
#   remedies     pin + aslr-off + 2 warm-ups
#
# THP needs root (writes /sys/kernel/mm/transparent_hugepage/enabled); without it the thp-*
# rows are skipped with a line. The mode found is restored on every exit: normal end, error,
# Ctrl-C (SIGINT), SIGTERM, SIGHUP. Runtime: about 40 s per configuration with the default 5
# repetitions on a quiet 2-core machine (9 configurations: about 6 minutes; 7.5 minutes under a
# load average of 14 at --reps 2); --reps 2 checks it works.
# The runs go to a temporary directory, removed at the end unless --keep DIR keeps them there.
# Exit status: 0; 1 when a bench failed; 2 on bad options.
set -u

REPS=5                                   # repetitions per cell: a CV from 5 values (bench's default), ~6 min in all
CV_OK=5                                  # the suite's CV warning threshold (analysis/core.py)
THP=/sys/kernel/mm/transparent_hugepage/enabled
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MS=${MEMSTRAT:-$ROOT/build/memstrat}
PY=/usr/bin/python3
ONLY="" KEEP=""

die() { echo "noise.sh: $1" >&2; exit "${2:-2}"; }
while [ $# -gt 0 ]; do
    case "$1" in
        --reps) [ $# -ge 2 ] && [[ "$2" =~ ^[0-9]+$ ]] && [ "$2" -ge 2 ] && [ "$2" -le 100 ] ||
                    die "--reps needs a number 2..100"; REPS=$2; shift 2 ;;
        --memstrat) [ $# -ge 2 ] || die "--memstrat needs a path"; MS=$2; shift 2 ;;
        --only) [ $# -ge 2 ] || die "--only needs names"; ONLY=",$2,"; shift 2 ;;
        --keep) [ $# -ge 2 ] || die "--keep needs a directory"; KEEP=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown option '$1' (--reps N, --memstrat PATH, --only NAME,..., --keep DIR)" ;;
    esac
done
[ -x "$MS" ] || die "cannot execute $MS (build first: cmake --build build, or --memstrat PATH)"

# Where the runs go, and what to put back on the way out (whatever way out it is).
WORK=$(mktemp -d /tmp/memstrat-noise.XXXXXX) || die "cannot make a temporary directory" 1
THP_FOUND=""
[ -r "$THP" ] && THP_FOUND=$(sed -n 's/.*\[\(.*\)\].*/\1/p' "$THP")
restore() {
    if [ -n "$THP_FOUND" ] && [ -w "$THP" ] && ! grep -q "\[$THP_FOUND\]" "$THP"; then
        echo "$THP_FOUND" > "$THP" && echo "noise.sh: transparent huge pages restored to $THP_FOUND" >&2
    fi
    if [ -n "$KEEP" ]; then mkdir -p "$KEEP" && cp -r "$WORK"/. "$KEEP"/; fi
    rm -rf "$WORK"
}
# A signal ends the running bench too (it runs in the background so that `wait` returns at
# once; bench removes its unfinished run on SIGTERM), then the EXIT trap restores THP.
CHILD=""
stop() { [ -n "$CHILD" ] && kill -TERM "$CHILD" 2>/dev/null && wait "$CHILD" 2>/dev/null; exit "$1"; }
trap restore EXIT
trap 'stop 130' INT
trap 'stop 143' TERM
trap 'stop 129' HUP

cat > "$WORK/matrix.txt" <<'EOF'
list/rc+gen/system/slots
tree/rc+gen/system/slots/stretch=16/longlived=16/max=14/parent=1
request/rc+gen/system/shared/requests=3000
churn/none/mimalloc/slots
churn/none/void/slots/live=10k/rounds=100
EOF

# Two CPUs this process may use, for --pin (the cell on the first, the sampler on the second).
CPUS=$($PY -c 'import os; c = sorted(os.sched_getaffinity(0)); print(f"{c[0]},{c[1]}" if len(c) > 1 else "")')

# name|bench options|THP mode ("" = as found)
CONFIGS=("baseline||" "warmups-0|--warmups 0|" "blocked|--order blocked|")
if [ -n "$CPUS" ]; then CONFIGS+=("pin|--pin $CPUS|"); else echo "noise.sh: one CPU only: no pin row" >&2; fi
CONFIGS+=("aslr-off|--aslr off|")
if [ -n "$THP_FOUND" ] && [ -w "$THP" ]; then
    for mode in never madvise always; do
        [ "$mode" != "$THP_FOUND" ] && CONFIGS+=("thp-$mode||$mode")
    done
else
    echo "noise.sh: cannot write $THP (not root?): no thp rows" >&2
fi
CONFIGS+=("remedies|--warmups 2 --aslr off${CPUS:+ --pin $CPUS}|")

set_thp() { # mode ("": the one found)
    local want=${1:-$THP_FOUND}
    [ -n "$want" ] && [ -w "$THP" ] && ! grep -q "\[$want\]" "$THP" && echo "$want" > "$THP"
    return 0
}

names=() status=0 t0=$(date +%s)
for cfg in "${CONFIGS[@]}"; do
    IFS='|' read -r name opts thp <<< "$cfg"
    if [ -n "$ONLY" ] && [[ "$ONLY" != *",$name,"* ]]; then continue; fi
    set_thp "$thp"
    echo "noise.sh: $name (thp $(sed -n 's/.*\[\(.*\)\].*/\1/p' "$THP" 2>/dev/null || echo '?'))" >&2
    # shellcheck disable=SC2086  # opts is a list of options
    "$MS" bench --matrix "$WORK/matrix.txt" --reps "$REPS" $opts --out "$WORK/runs" --run-id "$name" \
        --no-plots --no-latest --gcscan-n 0 > "$WORK/$name.out" 2> "$WORK/$name.err" &
    CHILD=$!
    wait "$CHILD"
    rc=$?
    CHILD=""
    if [ "$rc" = 0 ]; then
        names+=("$name")
    else
        echo "noise.sh: $name failed: $(tail -1 "$WORK/$name.err")" >&2
        status=1
    fi
    set_thp ""
done
[ ${#names[@]} -gt 0 ] || exit 1

echo
echo "Time CV (%) per cell and configuration: $REPS repetitions each, $(nproc) CPUs," \
     "load average at the end $(cut -d' ' -f1-3 /proc/loadavg), $(( $(date +%s) - t0 )) s in all."
echo
$PY - "$WORK/runs" "$CV_OK" "${names[@]}" <<'EOF'
import csv, os, statistics, sys
runs, ok, names = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
cv = {}
for n in names:
    with open(os.path.join(runs, n, "summary.csv")) as f:
        cv[n] = {r["cell"]: float(r["time_cv_pct"]) if r["time_cv_pct"] else float("nan") for r in csv.DictReader(f)}
cells = list(cv[names[0]])
print("| cell | " + " | ".join(names) + " |")
print("|---|" + "---:|" * len(names))
for c in cells:
    print(f"| {c} | " + " | ".join(f"{cv[n].get(c, float('nan')):.1f}" for n in names) + " |")
print("| **median CV** | " + " | ".join(f"{statistics.median(cv[n].values()):.1f}" for n in names) + " |")
print(f"| **cells ≤ {ok:g}%** | " + " | ".join(f"{sum(v <= ok for v in cv[n].values())}/{len(cv[n])}"
                                              for n in names) + " |")
EOF
exit $status
