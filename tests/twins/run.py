"""run.py — runs the twin tests (tests/twins/test_*.py) against one interpreter.

    /usr/bin/python3 tests/twins/run.py --python 3.11|3.12|3.13|3.10|PATH [--memstrat build/memstrat]

The interpreter is found as the harness finds it (PROTOCOL.md): 3.11 is
Debian's /usr/bin/python3.11; another X.Y is `pythonX.Y` on PATH, then the
highest ~/.pyenv/versions/X.Y*/bin/pythonX.Y. A missing one: one line saying
what is missing, exit 77 (ctest counts it as skipped). The tests themselves run
in this process (any python3 with the standard library); they start the
interpreter under test for the probe and the helpers.
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = 77


def version_key(path):
    m = re.search(r"/(\d+)\.(\d+)\.(\d+)[^/]*/bin/", path)
    return tuple(int(x) for x in m.groups()) if m else (0, 0, 0)


def resolve(want):
    """(path, X.Y) of the interpreter, or (None, why)."""
    if os.sep in want:
        path = want
    elif want == "3.11":
        path = "/usr/bin/python3.11"
    else:
        path = shutil.which("python" + want)
        if path is None or "/.pyenv/shims/" in path:
            found = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/%s*/bin/python%s" % (want, want))),
                           key=version_key)
            path = found[-1] if found else None
    if path is None or not os.access(path, os.X_OK):
        return None, ("python%s not found (PATH, ~/.pyenv/versions/%s*); install it (e.g. pyenv install %s) "
                      "to run the twin tests under it" % (want, want, want))
    p = subprocess.run([path, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True,
                       text=True)
    if p.returncode != 0:
        return None, "%s does not run: %s" % (path, p.stderr.strip()[-200:])
    return path, p.stdout.strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--python", default="3.11", help="3.11 (default), 3.12, 3.13, 3.10 or a path")
    ap.add_argument("--memstrat", default=os.path.join(os.path.dirname(os.path.dirname(HERE)), "build", "memstrat"))
    ap.add_argument("-k", dest="pattern", action="append", help="only tests matching this (unittest -k)")
    args = ap.parse_args()
    path, version = resolve(args.python)
    if path is None:
        print("test_twins: %s" % version)
        return SKIP
    os.environ.update(TWIN_PYTHON=path, TWIN_VERSION=version, MEMSTRAT=os.path.abspath(args.memstrat))
    print("test_twins: interpreter %s (%s), memstrat %s" % (path, version, args.memstrat), flush=True)
    sys.path.insert(0, HERE)
    loader = unittest.TestLoader()
    if args.pattern:
        loader.testNamePatterns = ["*%s*" % p if "*" not in p else p for p in args.pattern]
    suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
