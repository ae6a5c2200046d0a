# throughput.gp — operations per second of every cell of one `memstrat bench` run.
#
# Contract: `memstrat bench` (and `memstrat bench --plots-only RUN_DIR`) runs this from inside
# the run directory as
#   gnuplot -e "datafile='plots/summary.tsv'; outdir='plots'; title_machine='<CPU model>';
#               title_workloads='list, ring'; title_run='<run-id>'; reclaims='none rc'" throughput.gp
# datafile is tab-separated, its header row is summary.csv's, one row per cell with results.
# Writes outdir/throughput.png and outdir/throughput.svg: each cell's median as a point and the
# min-max over its repetitions as an error bar, one colour per reclamation strategy (colors.gp); the y axis
# turns logarithmic when the values span more than log_ratio. Every variable has a default, so
# `cd results/latest && gnuplot /path/to/plots/throughput.gp` works too.

lastslash(s, i) = i < 1 ? 0 : s[i:i] eq "/" ? i : lastslash(s, i - 1)
load (exists("ARG0") ? ARG0[1:lastslash(ARG0, strlen(ARG0))] : "")."colors.gp"

if (!exists("datafile")) datafile = "plots/summary.tsv"
if (!exists("outdir")) outdir = "plots"
if (!exists("title_machine")) title_machine = "unknown machine"
if (!exists("title_workloads")) title_workloads = "all workloads"
if (!exists("title_run")) title_run = ""
if (!exists("reclaims")) reclaims = known_strategies

# Above this max/min ratio the slower cells would lie flat on a linear axis.
log_ratio = 30.0
# Pixels per cell along x, so that rotated cell names never overlap.
px_per_cell = 40

set datafile separator "\t"
set datafile columnheaders
stats datafile using (column("ops_per_s_min")) name "LO" nooutput
stats datafile using (column("ops_per_s_max")) name "HI" nooutput
ncells = LO_records
width = ncells * px_per_cell + 400 > 1000 ? ncells * px_per_cell + 400 : 1000


set termoption noenhanced
set title sprintf("Throughput per cell: %s\n%s%s", title_workloads, title_machine, \
                  title_run ne "" ? "   run ".title_run : "")
set xlabel "cell (workload/reclaim/allocator/layout/knobs)"
set ylabel "throughput (operations/s)"
set xtics rotate by 45 right
set xrange [-0.6:ncells - 0.4]
set grid ytics
set format y "%.1s%c"
set key top right box opaque
if (LO_min > 0 && HI_max / LO_min > log_ratio) {
    set logscale y
    set ylabel "throughput (operations/s, log scale)"
} else {
    set yrange [0:*]
}

do for [fmt in "png svg"] {
    eval set_term(fmt, width, 700)
    set output outdir."/throughput.".fmt
    plot datafile using 0:(column("ops_per_s_median")):(column("ops_per_s_min")):(column("ops_per_s_max")):(rgb_of(strcol("reclaim"))):xtic(strcol("cell")) \
         with yerrorbars lc rgb variable pt 7 ps 1.3 lw 1.5 notitle, \
         for [i=1:words(reclaims)] NaN with points pt 7 ps 1.3 lc rgb color_of(word(reclaims, i)) \
         title word(reclaims, i).(i == 1 ? " (median; bar: min-max of repetitions)" : "")
    unset output
}
