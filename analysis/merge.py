"""merge.py — `memstrat merge RUN_DIR... [--out DIR] [--run-id ID] [--no-plots]`.

Contract (harness/merge.c's): joins published runs into a new run DIR/<run-id>/. 1. All is checked
before anything is written: plain run id, DIR/<id> and DIR/.tmp-<id> absent, DIR neither a run
directory nor inside one, every input read by runs.load_run (damaged: one line, exit 2), none twice,
same reps. 2. Cells: the union in input order, a cell in several inputs taken whole from the first
(one warning). 3. Files copied into DIR/.tmp-<id>/ (bench.make_tmp: removed by a later bench if this
merge is killed), report.write_run writes the CSVs, meta.json with every cell and merged_from, and
draws; core.publish renames it (never over anything, DIR/latest untouched); on failure or signal it
is removed. Exit 0; 1 write or plots failed; 2 bad input.
"""
import itertools, os, shutil, signal, time  # noqa: E401

from . import bench, core, report, runs

# The per-repetition files of a cell as bench names them: (subdirectory, suffix after <slug>.rep<r>).
FILES = bench.OUTPUTS + (("logs", ".stdout"), ("logs", ".stderr"))
# meta.json fields taken from the first input: where (and by what build) its cells were measured.
FROM_FIRST = ("git", "build", "libraries", "machine", "gbench_context", "timeout_s")

def load_sources(dirs):
    """Step 1 for the inputs: each through the one loader, same reps, none twice."""
    src = []
    for d in dirs:
        run = runs.load_run(d)
        run.real = os.path.realpath(d)
        if (twin := next((s for s in src if s.real == run.real), None)) is not None:
            raise core.usage(f"{run.real} is given twice (as {core.printable(twin.dir)} and {core.printable(d)})")
        if src and run.reps != src[0].reps:
            raise core.usage(f"{core.printable(src[0].dir)} has {src[0].reps} repetitions per cell, "
                             f"{core.printable(d)} has {run.reps}: merge runs made with the same --reps")
        src.append(run)
    return src

def union(src):
    """Step 2: the kept [(cell, source run, index in it)] and the warnings due; the first input wins."""
    picks, by_name, by_slug, warned = [], {}, {}, []
    for run in src:
        for i, c in enumerate(run.cells):
            if c.name in by_name:
                warned.append(f"warning: {c.name} is in {by_name[c.name].dir} and {run.dir}; kept the first")
            elif c.slug in by_slug:
                raise core.usage(f"{c.name} ({core.printable(run.dir)}) would share file names with "
                                 f"{by_slug[c.slug]}: rename one")
            else:
                by_name[c.name], by_slug[c.slug] = run, c.name
                picks.append((c, run, i))
    warned += [f"warning: {src[0].dir} ran on '{runs.cpu_model(src[0].meta)}', {r.dir} on "
               f"'{runs.cpu_model(r.meta)}': cells from different machines are compared in one table"
               for r in src[1:] if runs.cpu_model(r.meta) != runs.cpu_model(src[0].meta)]
    return picks, warned

def files(picks, reps):
    """Step 3's copies, checked first: [(source file, name in the merged run)] of every kept cell."""
    todo = []
    for (c, run, _), r, (sub, suffix) in itertools.product(picks, range(1, reps + 1), FILES):
        name = os.path.join(sub, f"{c.slug}.rep{r}{suffix}")
        if os.path.exists(a := os.path.join(run.dir, name)):
            if not os.path.isfile(a):  # a FIFO would hang the copy, a device never end it
                raise core.usage(f"{core.printable(a)} is not a regular file")
            todo.append((a, name))
    return todo

def merged_meta(run, src, final):
    """meta.json: the first input's machine and build, this run's cells and warnings, every source."""
    started = [s for s in (runs.meta_get(r.meta, "started_utc") for r in src) if s]
    return {"run_id": run.run_id, "started_utc": min(started, default=""),
            "finished_utc": max((runs.meta_get(r.meta, "finished_utc", str, "") for r in src), default=""),
            **{k: src[0].meta[k] for k in FROM_FIRST if k in src[0].meta},
            "matrix": {"path": os.path.join(os.path.abspath(final), "matrix.txt"),
                       "cells": [c.name for c in run.cells]}, "reps": run.reps,
            "merged_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "merged_from": [{"run_id": r.run_id, "dir": r.real, "cells": len(r.cells),
                             "started_utc": runs.meta_get(r.meta, "started_utc", str, ""),
                             "git_commit": runs.meta_get(r.meta, "git.commit", str, ""),
                             "machine": r.meta.get("machine")} for r in src]}

def main(argv):
    ap = core.ArgParser("merge", usage="memstrat merge RUN_DIR... [--out DIR] [--run-id ID] [--no-plots]",
                        description="Joins runs of the same --reps into DIR/<run-id>/ (inputs are never modified).")
    ap.add_argument("dirs", nargs="*", metavar="RUN_DIR")
    ap.add_argument("--out", default="results", metavar="DIR")
    ap.add_argument("--run-id", metavar="ID")
    ap.add_argument("--no-plots", action="store_true")
    o = ap.parse_intermixed_args(argv)
    if not o.dirs or not o.out:
        raise core.usage("option '--out' needs a value" if o.dirs else "no run directory given")
    run_id = time.strftime("merged-%Y%m%d-%H%M%S", time.gmtime()) if o.run_id is None else o.run_id
    final, tmp = core.new_run(o.out, run_id), os.path.join(o.out, f".tmp-{run_id}")
    if os.path.lexists(tmp):
        raise core.usage(f"{tmp} exists: another merge with this id, or a crashed one (remove it)")
    src = load_sources(o.dirs)
    (picks, warned), reps, reg = union(src), src[0].reps, core.registry()
    todo = files(picks, reps)  # bad input is found before anything is written or said
    for w in warned:
        core.warn("merge", w)
    run = runs.Run(run_id, tmp, [c for c, _, _ in picks], reps)
    run.rep = [r.rep[i] for _, r, i in picks]
    run.summarize(reg)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM too removes the .tmp directory
    bench.make_tmp(o.out, tmp)  # with its owner record: bench removes it if this merge is killed
    try:
        for a, name in todo:
            shutil.copyfile(a, os.path.join(tmp, name))
        core.write_atomic(os.path.join(tmp, "matrix.txt"), f"# memstrat merge of {len(src)} runs\n"
                          + "".join(f"{c.name}\n" for c in run.cells))
        run.meta = merged_meta(run, src, final)
        report.write_run(run, reg, not o.no_plots, "merge")
        bench.disown(tmp)
        core.publish(tmp, o.out, run_id, move_latest=False)
    except BaseException as e:
        core.remove_tree(tmp)
        if isinstance(e, OSError):
            raise core.Fail(core.EXIT_FAILED, f"cannot write {e.filename or tmp}: {e.strerror}; nothing was merged")
        raise
    run.print_table()
    print(f"merged: {len(src)} runs, {len(run.cells)} cells x {reps} reps, {len(todo)} files copied -> {final}")
    return core.EXIT_FAILED if run.plots_status == 1 else core.EXIT_OK
