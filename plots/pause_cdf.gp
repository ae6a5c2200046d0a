# pause_cdf.gp — one workload's pause-time distributions: a CDF per cell that paused.
#
# Contract: `memstrat bench` (and `--plots-only`) runs this from inside the run directory as
#   gnuplot -e "blockprefix='plots/data/<wl>'; outdir='plots'; outname='<wl>-pause_cdf';
#               plabels='rc+gen/pool/slots ...'; preclaims='rc+gen ...'; pdash='1 ...';
#               title_workloads='<wl>'; title_machine='<CPU model>'; title_run='<run-id>'" pause_cdf.gp
# blockprefix.pause_cdf.dat holds one index block per word of plabels (analysis/plots.py):
# "duration_us fraction" at up to 500 ranks of the sorted pauses of every repetition pooled.
# Drawn as steps on a log x axis (µs); colour = strategy (colors.gp), dash = the n-th cell of
# that strategy. Cells that never paused (none, rc) have no line. Writes outname.png and .svg.

lastslash(s, i) = i < 1 ? 0 : s[i:i] eq "/" ? i : lastslash(s, i - 1)
load (exists("ARG0") ? ARG0[1:lastslash(ARG0, strlen(ARG0))] : "")."colors.gp"

if (!exists("blockprefix")) blockprefix = "plots/data/list"
if (!exists("outdir")) outdir = "plots"
if (!exists("outname")) outname = "pause_cdf"
if (!exists("title_machine")) title_machine = "unknown machine"
if (!exists("title_workloads")) title_workloads = "workload"
if (!exists("title_run")) title_run = ""

# A pause of 0 µs (a clock too coarse) cannot sit on a log axis: drawn at this floor.
floor_us = 0.01
fmax(a, b) = a > b ? a : b
n = words(plabels)
file = blockprefix.".pause_cdf.dat"

set termoption noenhanced
set title sprintf("%s: pause-time CDF per cell, pauses of all repetitions pooled\n%s%s", \
                  title_workloads, title_machine, title_run ne "" ? "   run ".title_run : "")
set xlabel "pause duration (µs, log scale)"
set ylabel "fraction of pauses at or below x"
set logscale x
set format x "%g"
set yrange [0:1.02]
set grid
set key outside right top box

do for [fmt in "png svg"] {
    eval set_term(fmt, 1200, 650)
    set output outdir."/".outname.".".fmt
    plot for [i=1:n] file index (i - 1) using (fmax($1, floor_us)):2 with steps lw 2 \
         lc rgb color_of(word(preclaims, i)) dt int(word(pdash, i)) title word(plabels, i)
    unset output
}
