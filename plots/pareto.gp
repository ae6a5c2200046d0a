# pareto.gp — one workload's trade-off: throughput against p99 pause, peak RSS as bubble area.
#
# Contract: `memstrat bench` (and `--plots-only`) runs this from inside the run directory as
#   gnuplot -e "datafile='plots/data/<wl>.tsv'; outdir='plots'; outname='<wl>-pareto';
#               reclaims='none rc rc+gen'; title_workloads='<wl>';
#               title_machine='<CPU model>'; title_run='<run-id>'" pareto.gp
# One bubble per cell at (median p99 pause, median throughput), area proportional to the
# median peak RSS, colour = strategy (colors.gp), labelled with the cell (without the
# workload). Cells that never paused (p99 = 0) sit at the left edge, at no_pause_us, marked
# "no pauses". Better is up and to the left, and smaller. Writes outname.png and .svg.

lastslash(s, i) = i < 1 ? 0 : s[i:i] eq "/" ? i : lastslash(s, i - 1)
load (exists("ARG0") ? ARG0[1:lastslash(ARG0, strlen(ARG0))] : "")."colors.gp"

if (!exists("datafile")) datafile = "plots/data/list.tsv"
if (!exists("outdir")) outdir = "plots"
if (!exists("outname")) outname = "pareto"
if (!exists("title_machine")) title_machine = "unknown machine"
if (!exists("title_workloads")) title_workloads = "workload"
if (!exists("title_run")) title_run = ""
if (!exists("reclaims")) reclaims = known_strategies

# Where cells without pauses are drawn on the log x axis (µs), below any real p99 pause.
no_pause_us = 0.1
# Point size of the largest bubble; the others scale with the square root (area ∝ RSS).
max_ps = 7.0
min_ps = 0.8
# Bubbles are translucent so that overlapping cells stay visible (alpha byte of ARGB).
alpha = 0x50000000

set datafile separator "\t"
set datafile columnheaders
stats datafile using (column("rss_peak_mb_median")) name "RSS" nooutput
stats datafile using (column("pause_p99_us_median")) name "P" nooutput
rss_max = RSS_max > 0 ? RSS_max : 1
xpos(p) = p > no_pause_us ? p : no_pause_us
psize(r) = r > 0 ? (sqrt(r / rss_max) * max_ps > min_ps ? sqrt(r / rss_max) * max_ps : min_ps) : min_ps

set termoption noenhanced
set title sprintf("%s: throughput vs p99 pause (better: up and left); bubble area ∝ peak RSS (largest %.0f MB)\n%s%s", \
                  title_workloads, RSS_max, title_machine, title_run ne "" ? "   run ".title_run : "")
set xlabel "p99 pause (µs, log scale; median over repetitions)"
set ylabel "throughput (operations/s, median)"
set logscale x
set format x "%g"
set format y "%.1s%c"
set xrange [no_pause_us / 3 : (P_max > no_pause_us ? P_max * 5 : 10)]
set yrange [0:*]
set offsets 0, 0, graph 0.12, 0
set xtics add ("no pauses" no_pause_us)
set grid
set key outside right top box width 2 title "strategy"

do for [fmt in "png svg"] {
    eval set_term(fmt, 1200, 750)
    set output outdir."/".outname.".".fmt
    plot datafile using (xpos(column("pause_p99_us_median"))):(column("ops_per_s_median")):(psize(column("rss_peak_mb_median"))):(rgb_of(strcol("reclaim")) + alpha) \
             with points pt 7 ps variable lc rgb variable notitle, \
         datafile using (xpos(column("pause_p99_us_median"))):(column("ops_per_s_median")):(psize(column("rss_peak_mb_median"))):(rgb_of(strcol("reclaim"))) \
             with points pt 6 ps variable lc rgb variable notitle, \
         datafile using (xpos(column("pause_p99_us_median"))):(column("ops_per_s_median")):(strcol("label")) \
             with labels offset char 0, 1.6 font ",8" notitle, \
         for [i=1:words(reclaims)] NaN with points pt 7 ps 2 lc rgb color_of(word(reclaims, i)) title word(reclaims, i)
    unset output
}
