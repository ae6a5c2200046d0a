#!/usr/bin/env bash
# immortal_cost.sh — what PEP 683's check costs on the refcount hot path.
# Runs the same `rc` cells (list, tree) on two builds, interleaved in one run so
# both see the same machine: WITH the immortal check compiled into incref/decref
# (the default build) and WITHOUT it (cmake -DMS_IMMORTAL_CHECK=OFF, the pre-3.12
# hot path). Both run immortal=0: the cost measured is the branch every incref
# and decref pays, not any effect of immortality. Prints the median ops/s of
# each build per cell and the ratio with/without (below 1: the check costs).
# usage: tools/immortal_cost.sh [REPS] [WITH_BIN] [WITHOUT_BIN]
#   defaults: 5, build/memstrat, build-noimm/memstrat
#   make the second with: cmake -S . -B build-noimm -DCMAKE_BUILD_TYPE=Release -DMS_IMMORTAL_CHECK=OFF
#                         cmake --build build-noimm --target memstrat
set -u
REPS=${1:-5} WITH=${2:-build/memstrat} WITHOUT=${3:-build-noimm/memstrat}
for b in "$WITH" "$WITHOUT"; do
    [ -x "$b" ] || { echo "immortal_cost: no binary $b (see the usage in this file)" >&2; exit 2; }
done
CELLS=(list/rc/system/slots "tree/rc/system/slots/stretch=16/longlived=16/max=14")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for ((r = 0; r < REPS; r++)); do
    for c in "${!CELLS[@]}"; do
        for side in with without; do
            bin=$WITH; [ $side = without ] && bin=$WITHOUT
            "$bin" run "${CELLS[$c]}" --benchmark_format=json >"$tmp/$c.$side.$r.json" 2>/dev/null ||
                { echo "immortal_cost: $bin run ${CELLS[$c]} failed" >&2; exit 1; }
        done
    done
done
/usr/bin/python3 - "$tmp" "$REPS" "${CELLS[@]}" <<'PY'
import json, statistics, sys
d, reps, cells = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def ops(c, side):
    return [json.load(open(f"{d}/{c}.{side}.{r}.json"))["benchmarks"][0]["ops_per_s"] for r in range(reps)]
print(f"{'cell':52} {'with check':>14} {'without':>14} {'with/without':>13}   ({reps} reps, medians, ops/s)")
for i, cell in enumerate(cells):
    w, wo = statistics.median(ops(i, "with")), statistics.median(ops(i, "without"))
    print(f"{cell:52} {w:14.4g} {wo:14.4g} {w / wo:13.3f}")
PY
