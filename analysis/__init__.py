"""memstrat's analysis package: drives `memstrat bench`, reads the run directories the
measuring binary writes, summarises, reports, plots, compares, tunes and merges.
Entry point: `python3 -m analysis CMD ...` (what `memstrat CMD` execs)."""
