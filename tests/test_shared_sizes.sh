#!/usr/bin/env bash
# test_shared_sizes.sh — the `shared` layout's bytes per instance equal the interpreter's:
# for k = 2, 4, 8 names set in __init__, the mean bytes of 20,000 instances of a fresh class
# (tracemalloc in the interpreter; `instances/rc+gen/pool/shared/attrs=k/n=20000/gc=cpython3XY/
# instance=3.XY` here) agree to 0.001 B. The mean includes a class's
# large first instances (the usable countdown), so it checks the whole sizing rule, not only the
# steady k + 1 values. python3.11 is Debian's (make deps); 3.12 and 3.13 are checked where
# installed (PATH, then pyenv's versions directory) and skipped with a line where not.
# usage: test_shared_sizes.sh path/to/memstrat source_dir
set -u
MS=$(realpath "$1")
pass=0 fail=0
bad() { fail=$((fail + 1)); echo "FAILED: $*" >&2; }
T=$(mktemp -d "${TMPDIR:-/tmp}/memstrat-shared.XXXXXX")
trap 'rm -rf "$T"' EXIT
N=20000
cat > "$T/sizes.py" <<'PY'
import gc, sys, tracemalloc
gc.disable()
k, n = int(sys.argv[1]), int(sys.argv[2])
ns = {}
exec("class C:\n    def __init__(self):\n" + "".join(f"        self.a{i} = None\n" for i in range(k)), ns)
C, objs = ns["C"], [None] * n
tracemalloc.start()
before = tracemalloc.get_traced_memory()[0]
for i in range(n):
    objs[i] = C()
del i  # the loop's last int is no instance's
print(f"{(tracemalloc.get_traced_memory()[0] - before) / n:.4f}")
PY

# find_python X.Y: the interpreter's path, or nothing (pyenv's shims are not interpreters)
find_python() {
    local p
    p=$(command -v "python$1" 2>/dev/null)
    if [ -n "$p" ] && [[ "$p" != */shims/* ]]; then echo "$p"; return; fi
    ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$1".*/bin/python"$1" 2>/dev/null | sort -V | tail -1
}

checked=0
for v in 3.11 3.12 3.13; do
    py=$(find_python $v)
    if [ -z "$py" ]; then echo "SKIP: python$v is not installed"; continue; fi
    checked=$((checked + 1))
    for k in 2 4 8; do
        real=$("$py" "$T/sizes.py" $k $N) || { bad "python$v k=$k: the measurement failed"; continue; }
        cell=instances/rc+gen/pool/shared/attrs=$k/n=$N/gc=cpython${v/./}/instance=$v
        model=$("$MS" run "$cell" 2>&1 | grep -o 'bytes_per_instance_alloc=[0-9.]*' | cut -d= -f2)
        if [ -z "$model" ]; then bad "$cell: no bytes_per_instance_alloc"; continue; fi
        if /usr/bin/python3 -c "import sys; sys.exit(abs(float(sys.argv[1]) - float(sys.argv[2])) > 1e-3)" "$real" "$model"; then
            pass=$((pass + 1))
            echo "python$v k=$k: $real B per instance, model $model"
        else
            bad "python$v k=$k: $real B per instance, model $model ($cell)"
        fi
    done
done
[ $checked -gt 0 ] || { echo "SKIP: no python3.11, 3.12 or 3.13 (make deps installs python3.11)"; exit 77; }
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
