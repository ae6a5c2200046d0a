"""`python3 -m analysis CMD ARGS...`: the commands `memstrat` hands over (bench, compare,
tune, merge, gcscan). Every failure ends as one line on stderr and the command's exit status."""
import importlib
import importlib.util
import sys

COMMANDS = ("bench", "compare", "tune", "merge", "system", "gcscan")

def main(argv):
    if not argv or argv[0] not in COMMANDS:
        print(f"memstrat analysis: expected one of {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    cmd = argv[0]
    # numpy is imported now; scipy is only looked for (importing scipy.stats costs ~1 s, paid by
    # the code that uses it: core.bootstrap_ci, compare.u_test), so bad input is refused at once.
    try:
        import numpy  # noqa: F401  (Debian's python3-numpy / python3-scipy)
        if importlib.util.find_spec("scipy") is None:
            raise ImportError(name="scipy")
    except ImportError as e:
        print(f"memstrat {cmd}: {sys.executable} cannot import {e.name} (apt-get install python3-numpy "
              f"python3-scipy, or set MEMSTRAT_PYTHON to an interpreter that has them)", file=sys.stderr)
        return 2
    from . import core
    try:
        return importlib.import_module(f"analysis.{cmd}").main(argv[1:])
    except core.Fail as f:
        print(f"memstrat {cmd}: {f}", file=sys.stderr)
        return f.status
    except KeyboardInterrupt:
        print(f"memstrat {cmd}: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        print(f"memstrat {cmd}: out of memory", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 1

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
