"""core.py — what every analysis command shares, one of each.

Contract: bad input anywhere raises Fail(EXIT_USAGE, one line); the entry point
(analysis/__main__.py) prints it as "memstrat CMD: <line>" and exits with its status, so no
command prints a traceback or a two-line usage error. Everything else here is the single
copy of its kind: the option parser, the statistics (median, min/max, CV, bootstrap CI),
the cell and knob parser, the component registry (`memstrat list --json`), file writes that
refuse anything but a regular file, the publish routine for run directories, and the
gnuplot runner.
"""
import argparse, contextlib, ctypes, errno, functools, json, os, re, shutil, stat  # noqa: E401
import subprocess, sys  # noqa: E401

import numpy as np

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# Relative time CV (sample stddev / mean) above which a cell is noisy; pyperf warns at 10%,
# the design asks for 5% because strategies often differ by a few percent.
CV_WARN_PCT = 5.0
# Most repetitions per cell: 100 already takes 20x the default's time.
MAX_REPS = 100
# Longest run id: it becomes a directory name.
MAX_RUN_ID = 100
# A gnuplot script that runs longer than this is stuck.
GNUPLOT_TIMEOUT_S = 120
# Resamples of the bootstrap CI of a median: the CI's ends move < 1% between seeds at this count.
BOOTSTRAP_RESAMPLES = 2000

class Fail(Exception):
    """A command's end: one line for stderr and an exit status."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status

def usage(message):
    """Bad input: one line, exit 2."""
    return Fail(EXIT_USAGE, message)

def warn(cmd, message):
    print(f"memstrat {cmd}: {message}", file=sys.stderr, flush=True)

def printable(text, limit=200):
    """Text from a file or the command line, safe to echo: control bytes escaped, cut at limit."""
    out = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))
    return out if len(out) <= limit else out[:limit] + "..."

class ArgParser(argparse.ArgumentParser):
    """argparse with one-line errors (Fail) instead of usage + message + exit."""

    def __init__(self, cmd, **kw):
        super().__init__(prog=f"memstrat {cmd}", allow_abbrev=False, **kw)
        self.cmd = cmd

    def error(self, message):
        # argparse's two commonest phrasings in the words the C commands used (tests grep them)
        m = re.fullmatch(r"unrecognized arguments: (-\S*).*|argument (\S+): expected one argument", message)
        if m and m[2]:
            raise usage(f"option '{printable(m[2])}' needs a value")
        message = f"unknown option '{m[1]}'" if m else message
        raise usage(f"{printable(message)} (see memstrat {self.cmd} --help)")

def int_in(lo, hi, what=None):
    """argparse type: a strict integer in [lo, hi] ('5x', '2.5', '+5' and ' 5' refused)."""

    def parse(text):
        if not re.fullmatch(r"-?[0-9]+", text) or not lo <= int(text) <= hi:
            raise argparse.ArgumentTypeError(
                f"{what or 'value'} must be an integer from {lo} to {hi}, not '{printable(text)}'")
        return int(text)

    return parse

def run_id_ok(run_id):
    """Run ids become directory names beside `latest` and the .tmp dirs: plain names only."""
    return (0 < len(run_id) <= MAX_RUN_ID and run_id[0] not in ".-" and run_id != "latest"
            and re.fullmatch(r"[A-Za-z0-9._-]+", run_id) is not None)

# ---- statistics -----------------------------------------------------------------------------

def finite(values):
    """The finite values, as a float array (NaN marks a failed repetition or absent counter)."""
    v = np.asarray(values, dtype=float)
    return v[np.isfinite(v)]

def median(values):
    v = finite(values)
    return float(np.median(v)) if v.size else float("nan")

def spread(values):
    """(median, min, max) of the finite values; NaNs when there are none."""
    v = finite(values)
    if not v.size:
        return (float("nan"),) * 3
    return float(np.median(v)), float(v.min()), float(v.max())

def cv_pct(values):
    """Sample CV in percent; needs two values and a nonzero mean to mean anything."""
    v = finite(values)
    if v.size < 2 or v.mean() == 0:
        return float("nan")
    return float(v.std(ddof=1) / abs(v.mean()) * 100.0)

def bootstrap_ci(values, level=0.95, seed=0, over=None):
    """Percentile bootstrap CI (scipy.stats.bootstrap, fixed seed: the same run gives the same
    interval) of the median of values, or with `over` of the ratio median(values) / median(over),
    the two resampled independently; (nan, nan) with fewer than 2 values on a side or a zero
    median below. Percentile, not BCa: with 3-5 repetitions, many of them tied, BCa degenerates."""
    samples = (finite(values),) if over is None else (finite(values), finite(over))
    if min(x.size for x in samples) < 2 or (over is not None and np.median(samples[1]) == 0):
        return float("nan"), float("nan")
    if all(np.ptp(x) == 0 for x in samples):  # no spread: the interval is the point
        m = float(np.median(samples[0]) / (np.median(samples[1]) if over is not None else 1.0))
        return m, m
    stat = (lambda x, axis: np.median(x, axis=axis)) if over is None else (
        lambda x, y, axis: np.median(x, axis=axis) / np.median(y, axis=axis))
    import scipy.stats  # here, not at the top: ~1 s that only the commands drawing intervals pay
    with np.errstate(all="ignore"):
        ci = scipy.stats.bootstrap(samples, stat, confidence_level=level, n_resamples=BOOTSTRAP_RESAMPLES,
                                   method="percentile", vectorized=True, random_state=seed).confidence_interval
    return float(ci.low), float(ci.high)

def fmt_num(v):
    """CSV numbers: plain decimals (no exponent) so spreadsheets, awk and gnuplot read them
    alike; integers exactly, others to 10 significant digits; NaN is an empty field."""
    if v is None or not np.isfinite(v):
        return ""
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    decimals = min(30, max(0, 9 - int(np.floor(np.log10(abs(v))))))
    s = f"{v:.{decimals}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s == "-0" else s

# ---- cells ----------------------------------------------------------------------------------

# Characters a cell may contain besides letters, digits and '/': enough for knob values such as
# gc=700,10,10 or paths, and nothing that needs quoting in a shell, a file name or gnuplot.
CELL_PUNCT = "_.+-=,:@%"
# Kept as they are in a slug; everything else becomes '_' ('/' becomes "__").
SLUG_PUNCT = "_.+-=,"
# A part that starts a knob: NAME= with NAME as knob names are spelled (knobs.h). Any other part
# continues the previous knob's value after a '/', so a value may be a path.
KNOB_START = re.compile(r"[a-z][a-z0-9_]*=")
AXES = ("workload", "reclaim", "allocator", "layout")

class Cell:
    """`workload/reclaim/allocator/layout[/knob=value...]`, split by the one rule (knobs.h)."""

    __slots__ = ("name", "workload", "reclaim", "allocator", "layout", "knobs", "line")

    def __init__(self, text, line=0, reg=None):
        bad = next((c for c in text if not (c.isascii() and c.isalnum()) and c != "/"
                    and c not in CELL_PUNCT), None)
        if not text:
            raise ValueError("empty cell")
        if bad is not None:
            raise ValueError(f"cell '{printable(text)}': character {printable(repr(bad))} is not allowed")
        parts = text.split("/")
        if len(parts) < 4:
            raise ValueError(f"cell '{text}': needs workload/reclaim/allocator/layout")
        if any(not p for p in parts[:4]):
            raise ValueError(f"cell '{text}': has an empty part")
        # knobs.h rule 3: a part starts a knob when its name is one the cell's components declare
        # (without a registry, or for a component it does not know: when it is spelt like a knob)
        declared = reg.knob_names(parts[:4]) if reg is not None else None
        knobs = []
        for p in parts[4:]:
            if KNOB_START.match(p) and (declared is None or p.split("=", 1)[0] in declared):
                k, v = p.split("=", 1)
                if any(k == k2 for k2, _ in knobs):
                    raise ValueError(f"cell '{text}': sets the same knob twice")
                knobs.append((k, v))
            elif knobs:
                knobs[-1] = (knobs[-1][0], knobs[-1][1] + "/" + p)
            else:
                raise ValueError(f"cell '{text}': knobs must be key=value")
        if any(not v or v.endswith("/") for _, v in knobs):
            raise ValueError(f"cell '{text}': a knob has no value, or an empty part")
        self.name, self.line = text, line
        self.workload, self.reclaim, self.allocator, self.layout = parts[:4]
        self.knobs = tuple(knobs)

    @property
    def knob_text(self):
        """The knob part joined with ';' (results.csv's knobs column), '' when none."""
        return ";".join(f"{k}={v}" for k, v in self.knobs)

    @property
    def slug(self):
        """File-name form: '/' -> '__', unsafe characters -> '_'."""
        return "".join("__" if c == "/" else c if (c.isascii() and c.isalnum()) or c in SLUG_PUNCT
                       else "_" for c in self.name)

    @property
    def canonical(self):
        """The same cell whatever the order of its knobs."""
        return "/".join([self.workload, self.reclaim, self.allocator, self.layout]
                        + sorted(f"{k}={v}" for k, v in self.knobs))

    def __repr__(self):
        return f"Cell({self.name!r})"

def load_matrix(path, reg=None):
    """The cells of a matrix file (one per line, '#' comments); Fail(2) naming file:line for a
    malformed line, a duplicate (also in another knob order) or two cells sharing file names.
    A pipe is read too (`... | memstrat bench --matrix /dev/stdin`, tune --emit-jobs' lines);
    a FIFO nobody writes to reads as empty instead of hanging the open."""
    try:
        with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as f:
            mode = os.fstat(f.fileno()).st_mode
            if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
                raise usage(f"matrix file '{printable(path)}' is not a regular file or a pipe")
            os.set_blocking(f.fileno(), True)
            data = f.read()
    except OSError as e:
        raise usage(f"cannot read matrix file '{printable(path)}': {e.strerror}")
    if b"\0" in data:
        raise usage(f"matrix file '{printable(path)}' contains a NUL byte")
    text = data.decode("utf-8", "replace")
    cells, canon, slugs = [], {}, {}
    for n, raw in enumerate(text.split("\n"), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if any(c.isspace() for c in line):
            raise usage(f"{path}:{n}: one cell per line; found blank inside '{printable(line)}'")
        try:
            c = Cell(line, n, reg)
        except ValueError as e:
            raise usage(f"{path}:{n}: {e}")
        if c.canonical in canon:
            o = canon[c.canonical]
            raise usage(f"{path}:{n}: duplicate cell '{c.name}'" + (
                f" (first on line {o.line})" if o.name == c.name else f": same as '{o.name}' on line {o.line}"))
        if c.slug in slugs:
            o = slugs[c.slug]
            raise usage(f"{path}:{n}: cell '{c.name}' would share file names with '{o.name}' (line {o.line})")
        canon[c.canonical] = slugs[c.slug] = c
        cells.append(c)
    if not cells:
        raise usage(f"matrix file '{printable(path)}' has no cells")
    return cells

# ---- the component registry -----------------------------------------------------------------

def memstrat_binary():
    """The measuring binary: $MEMSTRAT (set by memstrat itself), else build/memstrat here."""
    env = os.environ.get("MEMSTRAT")
    if env:
        return env
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build", "memstrat")

class Registry:
    """What `memstrat list --json` says of strategies, allocators, layouts and workloads:
    the only source of facts about components (never their names' spelling)."""

    def __init__(self, doc):
        self.build = doc["build"]
        self.axes = {ax: {c["name"]: c for c in doc[key]} for ax, key in
                     (("reclaim", "strategies"), ("allocator", "allocators"),
                      ("layout", "layouts"), ("workload", "workloads"))}

    def strategy(self, name):
        return self.axes["reclaim"].get(name, {"name": name, "has_collector": False,
                                               "generations": 0, "knobs": [], "preheader": 0})

    def has_collector(self, reclaim):
        return bool(self.strategy(reclaim)["has_collector"])

    def generations(self, reclaim):
        return int(self.strategy(reclaim)["generations"])

    def knob(self, axis, name, key):
        comp = self.axes[axis].get(name)
        return next((k for k in comp["knobs"] if k["name"] == key), None) if comp else None

    def knob_names(self, names):
        """Knob names the four components (workload, reclaim, allocator, layout) declare; None
        when one of them is unknown here (a run made by another build)."""
        comps = [self.axes[ax].get(n) for ax, n in zip(("workload", "reclaim", "allocator", "layout"), names)]
        return None if None in comps else {k["name"] for c in comps for k in c["knobs"]}

    def baseline_key(self, cell):
        """The knobs a `none` cell can share with `cell`: those of its workload, allocator and
        layout, sorted, without the ones set to their default; its strategy's own knobs
        (thresholds) left out. A knob nothing declares is kept as written."""
        kept = []
        for k, v in cell.knobs:
            if self.knob("reclaim", cell.reclaim, k):
                continue
            d = next((d for d in (self.knob(ax, getattr(cell, ax), k)
                                  for ax in ("workload", "allocator", "layout")) if d), None)
            if d is None or d["default"] != v:
                kept.append(f"{k}={v}")
        return ";".join(sorted(kept))

@functools.lru_cache(maxsize=None)
def registry(binary=None):
    """The registry of `binary` (default memstrat_binary()); Fail(2) when it cannot be read."""
    binary = binary or memstrat_binary()
    try:
        out = subprocess.run([binary, "list", "--json"], capture_output=True, timeout=60, check=True)
        return Registry(json.loads(out.stdout))
    except (OSError, subprocess.SubprocessError, ValueError, KeyError) as e:
        raise usage(f"cannot read the components from '{printable(binary)} list --json': {printable(e)}")

# ---- files ----------------------------------------------------------------------------------

def check_output_path(path, what="output"):
    """Before anything runs: a path we will write must be a regular file or a new name in an
    existing directory (a FIFO, device, symlink or directory is refused: writing would replace
    it, and as root `/dev/null` would become a file)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        parent = os.path.dirname(path) or "."
        if not os.path.isdir(parent):
            raise usage(f"{what} '{printable(path)}': directory '{printable(parent)}' does not exist")
        return
    except OSError as e:
        raise usage(f"{what} '{printable(path)}': {e.strerror}")
    if not stat.S_ISREG(st.st_mode):
        kind = ("a symbolic link" if stat.S_ISLNK(st.st_mode) else "a directory" if stat.S_ISDIR(st.st_mode)
                else "a FIFO" if stat.S_ISFIFO(st.st_mode) else "a device" if stat.S_ISCHR(st.st_mode)
                or stat.S_ISBLK(st.st_mode) else "not a regular file")
        raise usage(f"{what} '{printable(path)}' is {kind}; give a regular file or a new path")

def read_text(path):
    """A text file's contents; "" when absent, unreadable or not a regular file (a FIFO would hang)."""
    if os.path.isfile(path):
        with contextlib.suppress(OSError), open(path, encoding="utf-8", errors="replace", newline="") as f:
            return f.read()
    return ""

def write_atomic(path, text):
    """Whole file or nothing: write PATH.tmp, fsync, rename over PATH (checked first)."""
    check_output_path(path)
    tmp = f"{path}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise

def write_csv(path, header, rows):
    """CSV with RFC 4180 quoting where needed and numbers through fmt_num."""

    def field(x):
        s = x if isinstance(x, str) else fmt_num(x)
        return '"' + s.replace('"', '""') + '"' if any(c in s for c in ',"\n\r') else s

    write_atomic(path, "".join(",".join(field(x) for x in r) + "\n" for r in [header, *rows]))

_RENAME_NOREPLACE = 1

def _rename_noreplace(src, dst):
    libc = ctypes.CDLL(None, use_errno=True)
    fn = getattr(libc, "renameat2", None)
    AT_FDCWD = -100
    if fn is not None:
        if fn(AT_FDCWD, os.fsencode(src), AT_FDCWD, os.fsencode(dst), _RENAME_NOREPLACE) == 0:
            return
        e = ctypes.get_errno()
        if e not in (errno.EINVAL, errno.ENOSYS):
            raise OSError(e, os.strerror(e), dst)
    if os.path.lexists(dst):
        raise OSError(errno.EEXIST, os.strerror(errno.EEXIST), dst)
    os.rename(src, dst)

def publish(tmp, out, run_id, move_latest):
    """Rename the finished tmp directory to OUT/RUN_ID (never over anything), then, if asked,
    repoint OUT/latest by symlink + rename. latest is only ever replaced when it is a symlink
    (or absent): a file or directory there is the user's, and is left alone with a warning.
    Returns (final, latest_moved)."""
    final = os.path.join(out, run_id)
    _rename_noreplace(tmp, final)
    if not move_latest:
        return final, False
    latest = os.path.join(out, "latest")
    if os.path.lexists(latest) and not os.path.islink(latest):
        return final, f"{latest} is not a symbolic link (left alone)"
    link = os.path.join(out, f".latest.tmp-{run_id}")
    try:
        with contextlib.suppress(OSError):
            os.unlink(link)
        os.symlink(run_id, link)
        os.rename(link, latest)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.unlink(link)
        return final, f"cannot point {latest} at {run_id}: {e.strerror}"
    return final, True

def new_run(out, run_id):
    """DIR/<run-id> of a run about to be made, checked before anything is written: a plain run
    id, DIR not inside a run (runs are written beside runs), nothing there yet; Fail(2) naming it."""
    final, inside = os.path.join(out, run_id), enclosing_run(out)
    for bad, why in ((not run_id_ok(run_id), f"bad run id '{printable(run_id)}': use letters, digits, '-', '_', '.' "
                      "(not leading '.' or '-', not 'latest')"),
                     (inside, f"--out '{printable(out)}' is inside the run directory {inside}; give the directory "
                      "that holds runs (default results)"),
                     (os.path.lexists(final), f"{final} already exists; refusing to overwrite it (choose another "
                      "--run-id)")):
        if bad:
            raise usage(why)
    return final

def enclosing_run(path):
    """The run directory (meta.json beside json/) that path is or lies inside, else None:
    commands that publish runs into a directory refuse one inside an existing run."""
    d = os.path.realpath(path)
    while True:
        if os.path.isfile(os.path.join(d, "meta.json")) and os.path.isdir(os.path.join(d, "json")):
            return d
        if os.path.dirname(d) == d:
            return None
        d = os.path.dirname(d)

def remove_tree(path):
    shutil.rmtree(path, ignore_errors=True)

# ---- gnuplot --------------------------------------------------------------------------------

def plots_dir():
    """The committed gnuplot scripts (plots/ of the source tree)."""
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "plots")

def gp_string(text):
    """Text for a single-quoted gnuplot string: quotes and line breaks out."""
    return re.sub(r"['\r\n]", " ", str(text))

def gnuplot(script, variables, cwd, cmd="bench", name=None):
    """Run plots/SCRIPT with `variables` set (strings quoted, numbers as they are) in cwd.
    True when drawn; None when gnuplot is not installed (said once); False when it failed
    (said in one line with gnuplot's last stderr line). name: the plot, when one script draws many."""
    exe = shutil.which("gnuplot")
    if exe is None:
        if not getattr(gnuplot, "said", False):
            warn(cmd, "gnuplot not found on PATH; skipping plots")
            gnuplot.said = True
        return None
    expr = "; ".join(f"{k}='{gp_string(v)}'" if isinstance(v, str) else f"{k}={v}" for k, v in variables.items())
    path = os.path.join(plots_dir(), script)
    try:
        p = subprocess.run([exe, "-e", expr, path], cwd=cwd, capture_output=True, text=True,
                           errors="replace", timeout=GNUPLOT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        warn(cmd, f"plot {name or script} failed (timed out after {GNUPLOT_TIMEOUT_S} s)")
        return False
    if p.returncode != 0:
        last = next((ln for ln in reversed(p.stderr.splitlines()) if ln.strip()), "")
        warn(cmd, f"plot {name or script} failed (exit {p.returncode}){': ' + last.strip() if last else ''}")
        return False
    return True
