# churn.gp — the allocator plot: churn's time per allocation+free pair for every allocator.
#
# Contract: `memstrat bench` runs this from inside the run directory when the run had churn
# cells, as
#   gnuplot -e "outdir='plots'; title_machine='<CPU model>'; title_run='<run-id>'" churn.gp
# It reads churn_allocators.csv (written by analysis/tables.py: knobs, allocator, median,
# min and max ns per pair over the repetitions, ratios to mimalloc and pymalloc) and writes
# outdir/churn.png and outdir/churn.svg: one point per allocator and knob set at the median,
# the min-max over repetitions as an error bar, one colour per allocator kept across groups.

if (!exists("churnfile")) churnfile = "churn_allocators.csv"
if (!exists("outdir")) outdir = "plots"
if (!exists("title_machine")) title_machine = "unknown machine"
if (!exists("title_run")) title_run = ""

# Allocators in the registry's order: each keeps its colour in every group.
allocs = "system pool pymalloc jemalloc mimalloc bump"
# Pixels per point along x, so that rotated labels never overlap.
px_per_row = 45

set datafile separator ","
set datafile columnheaders
stats churnfile using 3 name "NS" nooutput
nrows = NS_records
width = nrows * px_per_row + 400 > 900 ? nrows * px_per_row + 400 : 900

sel(i, col) = strcol("allocator") eq word(allocs, i) ? column(col) : NaN
label(s, k) = sprintf("%s  %s", strcol("allocator"), strcol("knobs"))

set termoption noenhanced
set title sprintf("churn: time per allocation + free pair, per allocator\n%s%s", title_machine, \
                  title_run ne "" ? "   run ".title_run : "")
set xlabel "allocator and churn knobs (sizes, free order, live set)"
set ylabel "time per pair (ns, median; bar: min-max of repetitions)"
set xtics rotate by 45 right
set xrange [-0.6:nrows - 0.4]
set yrange [0:*]
set grid ytics
set key outside right top box

do for [fmt in "png svg"] {
    if (fmt eq "png") {
        if (strstrt(GPVAL_TERMINALS, "pngcairo")) {
            set terminal pngcairo size width, 650 noenhanced font ",10"
        } else {
            set terminal png size width, 650 noenhanced
        }
    } else {
        set terminal svg size width, 650 noenhanced font ",10" background "white"
    }
    set output outdir."/churn.".fmt
    plot for [i=1:words(allocs)] churnfile using 0:(sel(i, 3)):(sel(i, 4)):(sel(i, 5)):xtic(label(0, 0)) \
         with yerrorbars lc i pt 7 ps 1.3 lw 1.5 title word(allocs, i)
    unset output
}
