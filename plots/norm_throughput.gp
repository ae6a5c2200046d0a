# norm_throughput.gp — one workload's throughput, each cell relative to its rc+gen reference.
#
# Contract: `memstrat bench` (and `--plots-only`) runs this from inside the run directory as
#   gnuplot -e "datafile='plots/data/<wl>.tsv'; outdir='plots'; outname='<wl>-throughput';
#               title_workloads='<wl>'; title_machine='<CPU model>'; title_run='<run-id>';
#               reclaims='none rc rc+gen'; ref_kind='pool|system|mixed|none'" norm_throughput.gp
# datafile is analysis/plots.py's per-workload table: norm_median/min/max are the cell's median,
# min and max throughput over its repetitions, each divided by the median of its reference
# cell (rc+gen/pool of the same layout and knobs, else rc+gen/system; column `ref`). The
# reference's own spread shows as its bar around 1. ref_kind says what the workload has:
# pool, system (no rc+gen/pool cell: said in the title), mixed (x labels say [vs system] or
# [no ref]), none (no rc+gen cell: absolute ops/s instead, said in the title).
# Writes outdir/outname.png and .svg. Colours: colors.gp, one per strategy.

lastslash(s, i) = i < 1 ? 0 : s[i:i] eq "/" ? i : lastslash(s, i - 1)
load (exists("ARG0") ? ARG0[1:lastslash(ARG0, strlen(ARG0))] : "")."colors.gp"

if (!exists("datafile")) datafile = "plots/data/list.tsv"
if (!exists("outdir")) outdir = "plots"
if (!exists("outname")) outname = "throughput_norm"
if (!exists("title_machine")) title_machine = "unknown machine"
if (!exists("title_workloads")) title_workloads = "workload"
if (!exists("title_run")) title_run = ""
if (!exists("reclaims")) reclaims = known_strategies
if (!exists("ref_kind")) ref_kind = "pool"

# Above this max/min ratio the slow cells would lie flat on a linear axis.
log_ratio = 30.0
# Pixels per cell along x, so that rotated cell labels never overlap.
px_per_cell = 55

absolute = ref_kind eq "none"
ymed = absolute ? "ops_per_s_median" : "norm_median"
ylo = absolute ? "ops_per_s_min" : "norm_min"
yhi = absolute ? "ops_per_s_max" : "norm_max"

set datafile separator "\t"
set datafile columnheaders
stats datafile using (column(ylo)) name "LO" nooutput
stats datafile using (column(yhi)) name "HI" nooutput
ncells = LO_records + LO_invalid
width = ncells * px_per_cell + 450 > 1000 ? ncells * px_per_cell + 450 : 1000

lbl(x) = strcol("label") . (ref_kind eq "mixed" ? (strcol("ref") eq "system" ? " [vs system]" : strcol("ref") eq "-" ? " [no ref]" : "") : "")

what = absolute ? "throughput (no rc+gen cell to normalise to: absolute)" : \
       ref_kind eq "pool" ? "throughput relative to rc+gen/pool (same layout and knobs)" : \
       ref_kind eq "system" ? "throughput relative to rc+gen/system (this workload has no rc+gen/pool cell)" : \
       "throughput relative to rc+gen/pool, or to rc+gen/system where marked [vs system]"
set termoption noenhanced
set title sprintf("%s: %s\n%s%s", title_workloads, what, title_machine, \
                  title_run ne "" ? "   run ".title_run : "")
set xlabel "cell (reclaim/allocator/layout/knobs)"
set ylabel absolute ? "throughput (operations/s)" : "throughput / reference median (ratio, higher is better)"
set xtics rotate by 30 right
set xrange [-0.6:ncells - 0.4]
set grid ytics
set key outside right top box title "point: median\nbar: min-max of reps" . (absolute ? "" : "\n(both / reference median)")
if (absolute) { set format y "%.1s%c" }
if (LO_min > 0 && HI_max / LO_min > log_ratio) {
    set logscale y
    set ylabel (absolute ? "throughput (operations/s, log scale)" : "throughput / reference median (ratio, log scale)")
} else {
    set yrange [0:*]
}
# Margins from the longest x label (30° rotation): its height below the axis and its reach
# left of the first cell, in character units (a character is about 0.6 of its height wide).
stats datafile using (strlen(strcol("label")) + 0) name "LBL" nooutput
set bmargin LBL_max * 0.6 * 0.5 + 4
set lmargin (LBL_max * 0.6 * 0.87 > 12 ? LBL_max * 0.6 * 0.87 : 12)

do for [fmt in "png svg"] {
    eval set_term(fmt, width, 560 + LBL_max * 6)
    set output outdir."/".outname.".".fmt
    plot datafile using 0:(column(ymed)):(column(ylo)):(column(yhi)):(rgb_of(strcol("reclaim"))):xtic(lbl(0)) \
             with yerrorbars lc rgb variable pt 7 ps 1.4 lw 1.5 notitle, \
         for [i=1:words(reclaims)] NaN with points pt 7 ps 1.4 lc rgb color_of(word(reclaims, i)) title word(reclaims, i), \
         (absolute ? NaN : 1) with lines dt 2 lw 1.2 lc rgb "gray40" title (absolute ? "" : "reference = 1")
    unset output
}
