# tune_heatmap.gp — heatmaps of one `memstrat tune` grid: throughput, p99 pause, peak RSS.
#
# Contract: `memstrat tune` runs this from inside the run directory as
#   gnuplot -e "datafile='plots/tune_grid.tsv'; outdir='plots'; title_machine='<CPU>';
#               title_cell='<cell>'; xlabel_text='gen0 threshold (...)'; ylabel_text='...';
#               zname='gen2'; xvals='100 700 3000'; yvals='2 10 50'; zvals='-'" tune_heatmap.gp
# datafile is tab-separated with a header: xi yi zi (0-based indices into xvals, yvals,
# zvals), knobs, ops_per_s, p99_us, rss_mb (medians; NaN when the point has no result),
# on_front, recommended. Writes outdir/tune_heatmap_{throughput,p99,rss}.{png,svg}.
# Layout (chosen for readability): the first grid axis across, the second up (one row for a
# 1-D grid), and for a 3-D grid one panel per value of the third axis, side by side, all
# panels on one colour scale. Cells sit on the grid's indices, labelled with the axis values,
# so log-spaced thresholds get equal room. Colours: brighter is better for every metric
# (the palette is reversed for p99 and RSS, where lower is better). Each cell is labelled
# with its value; '*' marks the Pareto front, a thick black frame the recommended point.

if (!exists("datafile")) datafile = "plots/tune_grid.tsv"
if (!exists("outdir")) outdir = "plots"
if (!exists("title_machine")) title_machine = "unknown machine"
if (!exists("title_cell")) title_cell = ""
if (!exists("xlabel_text")) xlabel_text = "first axis"
if (!exists("ylabel_text")) ylabel_text = ""
if (!exists("zname")) zname = ""
if (!exists("xvals")) xvals = "-"
if (!exists("yvals")) yvals = "-"
if (!exists("zvals")) zvals = "-"

# Pixels per grid cell, and the least size of one panel, so labels fit.
px_cell = 110
px_min = 640

set datafile separator "\t"
set datafile columnheaders
set termoption noenhanced
nx = words(xvals)
ny = words(yvals)
nz = (zvals eq "-") ? 1 : words(zvals)
panel_w = nx * px_cell + 200 > px_min ? nx * px_cell + 200 : px_min
panel_h = ny * px_cell * 0.6 + 220 > px_min * 0.8 ? ny * px_cell * 0.6 + 220 : px_min * 0.8
width = panel_w * nz + 80
height = panel_h + 60

metrics = "ops_per_s p99_us rss_mb"
names = "throughput p99 rss"
labels = "throughput_(operations/s) p99_pause_(us) peak_RSS_(MB)"
formats = "%.3s%c %.0f %.1f"
lower_better = "0 1 1"

# Colour ranges first: stats obeys xrange/yrange, which are set to grid indices below.
array LO[3]
array HI[3]
# A column without one valid value leaves S_* undefined (and a previous metric's would linger).
do for [m=1:3] {
    undefine S_*
    stats datafile using (column(word(metrics, m))) name "S" nooutput
    ok = exists("S_records") && S_records > 0
    LO[m] = ok ? S_min : 0
    HI[m] = ok && S_max > S_min ? S_max : LO[m] + 1
}

set palette defined (0 '#440154', 0.25 '#3b528b', 0.5 '#21918c', 0.75 '#5ec962', 1 '#fde725')
set style textbox opaque noborder margins 1, 1
set xrange [-0.5:nx - 0.5]
set yrange [-0.5:ny - 0.5]
set xtics () scale 0
set for [i=1:nx] xtics add (word(xvals, i) i - 1)
set ytics () scale 0
if (yvals ne "-") {
    set for [i=1:ny] ytics add (word(yvals, i) i - 1)
} else {
    unset ytics
}
set xlabel xlabel_text
set ylabel ylabel_text
set colorbox vertical

do for [m=1:3] {
    col = word(metrics, m)
    fmt = word(formats, m)
    label_m = word(labels, m)
    label_m = system("echo '".label_m."' | tr _ ' '")
    if (word(lower_better, m) eq "1") { set palette negative } else { set palette positive }
    set cbrange [LO[m]:HI[m]]
    set cblabel label_m offset 1.5, 0
    set format cb (m == 1 ? "%.2s%c" : "%g")
    do for [fmt_out in "png svg"] {
        if (fmt_out eq "png") {
            if (strstrt(GPVAL_TERMINALS, "pngcairo")) {
                set terminal pngcairo size width, height noenhanced font ",10"
            } else {
                set terminal png size width, height noenhanced
            }
        } else {
            set terminal svg size width, height noenhanced font ",10" background "white"
        }
        set output outdir."/tune_heatmap_".word(names, m).".".fmt_out
        set multiplot layout 1, nz title sprintf("%s, median per grid point\nbrighter = better, * = on the Pareto front, black frame = recommended\n%s\n%s", \
            label_m, title_cell, title_machine)
        do for [k=1:nz] {
            if (nz > 1) { set title sprintf("%s = %s", zname, word(zvals, k)) } else { unset title }
            in(k) = column("zi") == k - 1
            plot datafile using (in(k) ? column("xi") : NaN):"yi":(0.5):(0.5):(column(col)) \
                     with boxxyerror fs solid 1.0 noborder lc palette notitle, \
                 '' using (in(k) && column(col) != column(col) ? column("xi") : NaN):"yi":(0.5):(0.5) \
                     with boxxyerror fs pattern 2 lc "grey50" notitle, \
                 '' using (in(k) && column("recommended") == 1 ? column("xi") : NaN):"yi":(0.48):(0.48) \
                     with boxxyerror fs empty border lc rgb "black" lc rgb "black" lw 5 notitle, \
                 '' using (in(k) ? column("xi") : NaN):"yi": \
                     (column(col) == column(col) ? gprintf(fmt, column(col)).(column("on_front") == 1 ? " *" : "") : "n/a") \
                     with labels boxed font ",9" notitle
        }
        unset multiplot
        unset output
    }
}
