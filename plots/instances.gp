# instances.gp — bytes per instance for each layout (slots, dict, shared), from `instances` cells.
#
# Contract: `memstrat bench` runs this from inside the run directory when the run had
# `instances` cells, as
#   gnuplot -e "outdir='plots'; title_machine='<CPU model>'; title_run='<run-id>'" instances.gp
# It reads results.csv (one row per cell x repetition, every counter a column) and writes
# outdir/instances.png and outdir/instances.svg: for every instances cell, the heap's live
# bytes per instance (pre-headers included: what the allocator was asked for) as a bar and the
# RSS growth per instance as a point, one colour per layout; CPython's figures (slots: 48 B with
# 2 attributes, 64 B with 4; plain instance with 2 attributes: 152 B in 3.10, 88 B in 3.11)
# are drawn as labelled lines for reference.

if (!exists("resultsfile")) resultsfile = "results.csv"
if (!exists("outdir")) outdir = "plots"
if (!exists("title_machine")) title_machine = "unknown machine"
if (!exists("title_run")) title_run = ""

layouts = "slots dict shared"
# Pixels per row along x, so that rotated cell names never overlap.
px_per_row = 30

set datafile separator ","
set datafile columnheaders
isinst(col) = strcol("workload") eq "instances" ? column(col) : NaN
stats resultsfile using (isinst("bytes_per_instance_alloc")) name "B" nooutput
nrows = B_records + B_invalid
width = B_records * px_per_row + 500 > 1000 ? B_records * px_per_row + 500 : 1000
sel(i, col) = (strcol("workload") eq "instances" && strcol("layout") eq word(layouts, i)) ? column(col) : NaN

set termoption noenhanced
set title sprintf("Bytes per instance by layout (instances workload, every repetition)\n%s%s", \
                  title_machine, title_run ne "" ? "   run ".title_run : "")
set xlabel "row of results.csv (cell and repetition; see the x labels)"
set ylabel "bytes per instance"
set xtics rotate by 45 right
# rotated cell names reach left of the first bar
set lmargin 16
set yrange [0:*]
set grid ytics
set key outside right top box
set style fill solid 0.6
set boxwidth 0.7
# CPython 3.10/3.11 reference figures (sys.getsizeof + GC head + __dict__, measured).
set arrow 1 from graph 0, first 48 to graph 1, first 48 nohead dt 2 lc rgb "gray40"
set label 1 "CPython __slots__, 2 attrs: 48 B" at graph 0.01, first 50 font ",8"
set arrow 2 from graph 0, first 88 to graph 1, first 88 nohead dt 2 lc rgb "gray40"
set label 2 "CPython 3.11 instance, 2 attrs: 88 B" at graph 0.01, first 90 font ",8"
set arrow 3 from graph 0, first 152 to graph 1, first 152 nohead dt 2 lc rgb "gray40"
set label 3 "CPython 3.10 instance + dict, 2 attrs: 152 B" at graph 0.01, first 154 font ",8"

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
    set output outdir."/instances.".fmt
    plot for [i=1:3] resultsfile using 0:(sel(i, "bytes_per_instance_alloc")):xtic(strcol("workload") eq "instances" ? strcol("cell") : "") \
             with boxes lc i title word(layouts, i)." (heap bytes)", \
         for [i=1:3] resultsfile using 0:(sel(i, "bytes_per_instance_rss")) \
             with points lc i pt 7 ps 1.2 title word(layouts, i)." (RSS growth)"
    unset output
}
