#!/usr/bin/env bash
# deps.sh — installs (or checks for) the Debian packages memstrat needs.
#   tools/deps.sh check    exit 0 if everything is present, else 1 (prints nothing)
#   tools/deps.sh install  apt-get as root, sudo otherwise, else one line naming the packages
set -u
PACKAGES="cmake make g++ libbenchmark-dev libjemalloc-dev libmimalloc-dev libgc-dev libpython3.11-dev python3 python3.11 python3-numpy python3-scipy gnuplot-nox"

missing() {
    local out=""
    for p in $PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || out="$out $p"
    done
    echo "${out# }"
}

case "${1:-install}" in
check)
    command -v dpkg-query >/dev/null 2>&1 || exit 0   # not Debian: trust the build to say what is missing
    [ -z "$(missing)" ]
    ;;
install)
    if ! command -v dpkg-query >/dev/null 2>&1; then
        echo "memstrat: not a Debian system; install: $PACKAGES" >&2
        exit 1
    fi
    need=$(missing)
    [ -z "$need" ] && exit 0
    if [ "$(id -u)" = 0 ]; then
        SUDO=""
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "memstrat: missing packages, install them as root: apt-get install $need" >&2
        exit 1
    fi
    echo "memstrat: installing $need" >&2
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq >/dev/null && $SUDO apt-get install -y -qq $need >/dev/null || {
        echo "memstrat: apt-get install failed for: $need" >&2
        exit 1
    }
    ;;
*)
    echo "usage: tools/deps.sh check|install" >&2
    exit 2
    ;;
esac
