# rss_peak.gp — peak resident set size of every cell of one `memstrat bench` run.
#
# Contract: `memstrat bench` (and `--plots-only`) runs this from inside the run directory as
#   gnuplot -e "datafile='plots/summary.tsv'; outdir='plots'; title_machine='<CPU model>';
#               title_workloads='list, ring'; title_run='<run-id>'; reclaims='none rc'" rss_peak.gp
# datafile is tab-separated with summary.csv's header, one row per cell with results.
# Writes outdir/rss_peak.png and outdir/rss_peak.svg: a bar per cell at the median peak RSS
# (VmHWM of the cell's own process), the min-max over repetitions as an error bar, one colour
# per reclamation strategy (colors.gp). Every variable has a default (see throughput.gp).
# Per workload the driver passes datafile='plots/data/<wl>.tsv' (same column names),
# outname='<wl>-rss_peak' and labelcol='label' (cell names without the workload).

lastslash(s, i) = i < 1 ? 0 : s[i:i] eq "/" ? i : lastslash(s, i - 1)
load (exists("ARG0") ? ARG0[1:lastslash(ARG0, strlen(ARG0))] : "")."colors.gp"

if (!exists("datafile")) datafile = "plots/summary.tsv"
if (!exists("outname")) outname = "rss_peak"
if (!exists("labelcol")) labelcol = "cell"
if (!exists("outdir")) outdir = "plots"
if (!exists("title_machine")) title_machine = "unknown machine"
if (!exists("title_workloads")) title_workloads = "all workloads"
if (!exists("title_run")) title_run = ""
if (!exists("reclaims")) reclaims = known_strategies

# Pixels per cell along x, so that rotated cell names never overlap.
px_per_cell = 40
# Fraction of a slot a bar fills: gaps keep neighbouring cells apart.
bar_width = 0.7

set datafile separator "\t"
set datafile columnheaders
stats datafile using (column("rss_peak_mb_max")) name "HI" nooutput
ncells = HI_records
width = ncells * px_per_cell + 400 > 1000 ? ncells * px_per_cell + 400 : 1000


set termoption noenhanced
set title sprintf("%s: peak RSS per cell (VmHWM of the cell's process)\n%s%s", title_workloads, title_machine, \
                  title_run ne "" ? "   run ".title_run : "")
set xlabel "cell (workload/reclaim/allocator/layout/knobs)"
set ylabel "peak resident set size (MB)"
set xtics rotate by 30 right
set xrange [-0.6:ncells - 0.4]
set yrange [0:*]
set grid ytics
set key outside right top box
set boxwidth bar_width
set style fill solid 0.6 border -1
# Margins from the longest x label (30° rotation): its height below the axis and its reach
# left of the first cell, in character units (a character is about 0.6 of its height wide).
stats datafile using (strlen(strcol(labelcol)) + 0) name "LBL" nooutput
set bmargin LBL_max * 0.6 * 0.5 + 4
set lmargin (LBL_max * 0.6 * 0.87 > 12 ? LBL_max * 0.6 * 0.87 : 12)

do for [fmt in "png svg"] {
    eval set_term(fmt, width, 560 + LBL_max * 6)
    set output outdir."/".outname.".".fmt
    plot datafile using 0:(column("rss_peak_mb_median")):(rgb_of(strcol("reclaim"))):xtic(strcol(labelcol)) \
             with boxes lc rgb variable notitle, \
         for [i=1:words(reclaims)] NaN with boxes lc rgb color_of(word(reclaims, i)) title word(reclaims, i), \
         datafile using 0:(column("rss_peak_mb_median")):(column("rss_peak_mb_min")):(column("rss_peak_mb_max")) \
             with yerrorbars lc rgb "black" pt 7 ps 0.4 lw 1.2 title "median; bar: min-max of repetitions"
    unset output
}
