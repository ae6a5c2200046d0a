# pause_timeline.gp — one workload's pauses over time: a panel per cell that paused.
#
# Contract: `memstrat bench` (and `--plots-only`) runs this from inside the run directory as
#   gnuplot -e "blockprefix='plots/data/<wl>'; outdir='plots'; outname='<wl>-pause_timeline';
#               plabels='...'; preclaims='...'; title_workloads='<wl>';
#               title_machine='<CPU model>'; title_run='<run-id>'" pause_timeline.gp
# blockprefix.pause_tl.dat holds one index block per word of plabels: "t_ms duration_us kind"
# of the cell's first repetition with pauses; kind 1-3 = rc+gen's (and rc+incr's young/full)
# generation 0-2, 4 = an rc+incr increment or a pause of a non-generational collector, 5 = a
# release cascade (generation -2 in the pause CSV)
# (colors.gp: pt_of_kind, kind_names). Long runs are thinned by analysis/plots.py to the
# longest pause of each kind per time bucket (1500 buckets), said in the title.
# Colour = strategy; log y (µs). Writes outname.png and .svg.

lastslash(s, i) = i < 1 ? 0 : s[i:i] eq "/" ? i : lastslash(s, i - 1)
load (exists("ARG0") ? ARG0[1:lastslash(ARG0, strlen(ARG0))] : "")."colors.gp"

if (!exists("blockprefix")) blockprefix = "plots/data/list"
if (!exists("outdir")) outdir = "plots"
if (!exists("outname")) outname = "pause_timeline"
if (!exists("title_machine")) title_machine = "unknown machine"
if (!exists("title_workloads")) title_workloads = "workload"
if (!exists("title_run")) title_run = ""

# Layout: panels side by side up to this many columns; each row this many pixels high.
max_cols = 2
row_px = 300
floor_us = 0.01
fmax(a, b) = a > b ? a : b
n = words(plabels)
ncols = n < max_cols ? n : max_cols
nrows = (n + ncols - 1) / ncols
file = blockprefix.".pause_tl.dat"

set termoption noenhanced
set logscale y
set format y "%g"
set grid
set key outside right top box font ",8"
set xlabel "time since the cell started (ms)"
set ylabel "pause (µs, log scale)"

do for [fmt in "png svg"] {
    eval set_term(fmt, ncols * 780, nrows * row_px + 90)
    set output outdir."/".outname.".".fmt
    set multiplot layout nrows, ncols title sprintf("%s: pauses over time, first repetition (long runs: longest pause per kind per 1/1500 of the run)\n%s%s", \
        title_workloads, title_machine, title_run ne "" ? "   run ".title_run : "")
    do for [i=1:n] {
        set title word(plabels, i)
        plot for [k=1:5] file index (i - 1) using 1:($3 == k ? fmax($2, floor_us) : NaN) \
             with points pt pt_of_kind(k) ps 0.7 lc rgb color_of(word(preclaims, i)) title word(kind_names, k)
    }
    unset multiplot
    unset output
}
