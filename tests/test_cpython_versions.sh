#!/usr/bin/env bash
# test_cpython_versions.sh — `python=X.Y` resolves as tools/twins/PROTOCOL.md says, with real
# interpreters other than Debian's 3.11: python=3.12 and 3.13 run (python_version 312, 313);
# pythonX.Y on PATH comes first, but not from a `shims` directory (pyenv's shims pick a version by
# their own settings); then the highest $PYENV_ROOT/versions/X.Y* (3.12.10 over 3.12.9, never
# 3.120.x for 3.12). Runs the stand-in probe of tests/fixtures/twins. Needs python3.12 and
# python3.13 (pyenv's here): without them it exits 77 (skipped) with a line saying what is missing.
# usage: test_cpython_versions.sh path/to/memstrat source_dir
set -u
MS=$(realpath "$1")
SRC=$(realpath "$2")
PY=/usr/bin/python3
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAILED: $*" >&2; }
T=$(mktemp -d "${TMPDIR:-/tmp}/memstrat-cpyver.XXXXXX")
trap 'rm -rf "$T"' EXIT
export MEMSTRAT_TWINS_DIR=$SRC/tests/fixtures/twins
CELL=ring/cpython/pymalloc/slots/n=20000

# run_dump CELL: runs it; prints "python_version executable" (the interpreter the probe ran in)
run_dump() {
    MEMSTRAT_STANDIN=dump=$T/dump.json "$MS" run "$1" --benchmark_format=json > "$T/out.json" 2> "$T/err" || {
        echo "failed: $(tail -1 "$T/err")"; return; }
    $PY -c "import json,sys; print(int(json.load(open(sys.argv[1]))['benchmarks'][0]['python_version']), json.load(open(sys.argv[2]))['executable'])" \
        "$T/out.json" "$T/dump.json"
}

for v in 3.12 3.13; do
    got=$(run_dump "$CELL/python=$v")
    case "$got" in
    "failed: "*"no python$v on PATH"*) echo "SKIP: python$v is not installed (pyenv install $v): ${got#failed: }"; exit 77 ;;
    "${v/./} "*) ok ;;
    *) bad "python=$v: $got" ;;
    esac
done
REAL312=$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python3.12 2>/dev/null | sort -V | tail -1)
[ -n "$REAL312" ] || { echo "SKIP: python3.12 is not in pyenv's versions directory (pyenv install 3.12)"; exit 77; }

# pyenv: the highest matching version, by version order; 3.120 is not 3.12
mkdir -p "$T/pyenv/versions"
for d in 3.12.9 3.12.10 3.12; do mkdir -p "$T/pyenv/versions/$d/bin" && ln -s "$REAL312" "$T/pyenv/versions/$d/bin/python3.12"; done
mkdir -p "$T/pyenv/versions/3.120.1/bin" && ln -s /bin/false "$T/pyenv/versions/3.120.1/bin/python3.12"
mkdir -p "$T/pyenv/versions/3.12.11/bin" # no interpreter in it: not a candidate
got=$(PATH=/usr/bin:/bin PYENV_ROOT=$T/pyenv run_dump "$CELL/python=3.12")
[ "$got" = "312 $T/pyenv/versions/3.12.10/bin/python3.12" ] && ok || bad "pyenv's highest 3.12: $got"

# PATH first, but not through shims
mkdir -p "$T/shims" "$T/bin"
printf '#!/bin/sh\nexit 99\n' > "$T/shims/python3.12" && chmod +x "$T/shims/python3.12"
ln -s "$REAL312" "$T/bin/python3.12"
got=$(PATH=$T/shims:$T/bin:/usr/bin:/bin PYENV_ROOT=$T/pyenv run_dump "$CELL/python=3.12")
[ "$got" = "312 $T/bin/python3.12" ] && ok || bad "python3.12 from PATH (shims skipped): $got"
got=$(PATH=$T/shims:/usr/bin:/bin PYENV_ROOT=$T/pyenv run_dump "$CELL/python=3.12")
[ "$got" = "312 $T/pyenv/versions/3.12.10/bin/python3.12" ] && ok || bad "only a shim on PATH: $got"

# python=3.11 is Debian's, whatever PATH says; a path runs as given
got=$(PATH=$T/bin:$PATH run_dump "$CELL")
[ "$got" = "311 /usr/bin/python3.11" ] && ok || bad "python=3.11: $got"
got=$(run_dump "$CELL/python=$T/bin/python3.12")
[ "$got" = "312 $T/bin/python3.12" ] && ok || bad "python=PATH: $got"
# an interpreter that is not the version asked for is caught from its own `python` line
ln -s /usr/bin/python3.11 "$T/bin/python3.13"
got=$(PATH=$T/bin:/usr/bin:/bin run_dump "$CELL/python=3.13")
case "$got" in *"python=3.13 runs $T/bin/python3.13, which reports Python 3.11"*) ok ;; *) bad "wrong version on PATH: $got" ;; esac

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
