# rss_peak.gp — peak resident set size of every cell of one `memstrat bench` run.
#
# Contract: `memstrat bench` (and `--plots-only`) runs this from inside the run directory as
#   gnuplot -e "datafile='plots/summary.tsv'; outdir='plots'; title_machine='<CPU model>';
#               title_workloads='list, ring'; title_run='<run-id>'; reclaims='none rc'" rss_peak.gp
# datafile is tab-separated with summary.csv's header, one row per cell with results.
# Writes outdir/rss_peak.png and outdir/rss_peak.svg: a bar per cell at the median peak RSS
# (VmHWM of the cell's own process), the min-max over repetitions as an error bar, one colour
# per reclamation strategy. Every variable has a default (see throughput.gp).

if (!exists("datafile")) datafile = "plots/summary.tsv"
if (!exists("outdir")) outdir = "plots"
if (!exists("title_machine")) title_machine = "unknown machine"
if (!exists("title_workloads")) title_workloads = "all workloads"
if (!exists("title_run")) title_run = ""
if (!exists("reclaims")) reclaims = ""

# Pixels per cell along x, so that rotated cell names never overlap.
px_per_cell = 40
# Fraction of a slot a bar fills: gaps keep neighbouring cells apart.
bar_width = 0.7

set datafile separator "\t"
set datafile columnheaders
stats datafile using (column("rss_peak_mb_max")) name "HI" nooutput
ncells = HI_records
width = ncells * px_per_cell + 400 > 1000 ? ncells * px_per_cell + 400 : 1000

sel(i, col) = (words(reclaims) == 0 || strcol("reclaim") eq word(reclaims, i)) ? column(col) : NaN

set termoption noenhanced
set title sprintf("Peak RSS per cell: %s\n%s%s", title_workloads, title_machine, \
                  title_run ne "" ? "   run ".title_run : "")
set xlabel "cell (workload/reclaim/allocator/layout/knobs)"
set ylabel "peak resident set size (MB)"
set xtics rotate by 45 right
set xrange [-0.6:ncells - 0.4]
set yrange [0:*]
set grid ytics
set key outside right top box
set boxwidth bar_width
set style fill solid 0.6 border -1
nser = words(reclaims) > 0 ? words(reclaims) : 1

do for [fmt in "png svg"] {
    if (fmt eq "png") {
        if (strstrt(GPVAL_TERMINALS, "pngcairo")) {
            set terminal pngcairo size width, 700 noenhanced font ",10"
        } else {
            set terminal png size width, 700 noenhanced
        }
    } else {
        set terminal svg size width, 700 noenhanced font ",10" background "white"
    }
    set output outdir."/rss_peak.".fmt
    plot for [i=1:nser] datafile using 0:(sel(i, "rss_peak_mb_median")):xtic(strcol("cell")) \
             with boxes lc i title (words(reclaims) ? "reclaim ".word(reclaims, i) : "median"), \
         for [i=1:nser] datafile using 0:(sel(i, "rss_peak_mb_median")):(sel(i, "rss_peak_mb_min")):(sel(i, "rss_peak_mb_max")) \
             with yerrorbars lc rgb "black" pt 7 ps 0.4 lw 1.2 title (i == 1 ? "median; bar: min-max of repetitions" : "")
    unset output
}
