# tune_pareto.gp — the Pareto view of one `memstrat tune` grid: throughput against p99 pause.
#
# Contract: run by `memstrat tune` from inside the run directory with the same variables as
# tune_heatmap.gp (datafile, outdir, title_machine, title_cell); reads plots/tune_grid.tsv.
# Writes outdir/tune_pareto.{png,svg}: every grid point in grey, the points on the front
# (max throughput, min p99 pause, min peak RSS) in red and labelled with their knobs, the
# recommended point as a large star. The front is over three metrics, so a red point can sit
# below and right of another one here when it needs less memory. The p99 axis turns
# logarithmic when it spans more than log_ratio.

if (!exists("datafile")) datafile = "plots/tune_grid.tsv"
if (!exists("outdir")) outdir = "plots"
if (!exists("title_machine")) title_machine = "unknown machine"
if (!exists("title_cell")) title_cell = ""

# Above this max/min ratio the p99 axis is logarithmic, or the fast points crowd at zero.
log_ratio = 30.0

set datafile separator "\t"
set datafile columnheaders
set termoption noenhanced
# No positive p99 (no collection ran) leaves P_* undefined: the axis stays linear.
stats datafile using (column("p99_us") > 0 ? column("p99_us") : NaN) name "P" nooutput
set title sprintf("Grid points: throughput vs p99 pause (medians)\n%s\n%s", title_cell, title_machine)
set xlabel "p99 pause (us, median over repetitions)"
set ylabel "throughput (operations/s, median)"
set format y "%.2s%c"
set grid
set key bottom right box opaque
if (exists("P_records") && P_records > 0 && P_min > 0 && P_max / P_min > log_ratio) {
    set logscale x
    set xlabel "p99 pause (us, median over repetitions, log scale)"
}
front(c) = column("on_front") == 1 ? column(c) : NaN
rec(c) = column("recommended") == 1 ? column(c) : NaN

do for [fmt in "png svg"] {
    if (fmt eq "png") {
        if (strstrt(GPVAL_TERMINALS, "pngcairo")) {
            set terminal pngcairo size 1000, 700 noenhanced font ",10"
        } else {
            set terminal png size 1000, 700 noenhanced
        }
    } else {
        set terminal svg size 1000, 700 noenhanced font ",10" background "white"
    }
    set output outdir."/tune_pareto.".fmt
    plot datafile using "p99_us":"ops_per_s" with points pt 7 ps 1.2 lc "grey60" title "grid point", \
         '' using (front("p99_us")):(front("ops_per_s")) with points pt 7 ps 1.6 lc "red" title "Pareto front (throughput, p99, RSS)", \
         '' using (front("p99_us")):(front("ops_per_s")):(strcol("knobs")) with labels offset 1, 0.8 left font ",8" tc "red" notitle, \
         '' using (rec("p99_us")):(rec("ops_per_s")) with points pt 3 ps 3.5 lw 2 lc "black" title "recommended"
    unset output
}
