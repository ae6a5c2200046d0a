# floating_timeline.gp — floating garbage over time per workload: objects unreachable but not
# yet freed (MB, pre-headers included), one line per cell, from its untimed shadow run.
#
# Contract: `memstrat bench` (and `--plots-only`) runs this from inside the run directory with
#   blockprefix='plots/data/<wl>' titles='label ...' file_reclaims='rc+gen ...' file_dash='1 ...'
#   outdir='plots' outname='<wl>-floating_timeline' title_machine=... title_workloads='<wl>'
#   title_run=...
# blockprefix.floating_tl.dat holds one index block "t_ms floating_mb" per word of titles, from
# timeline/<slug>.floating.csv (harness/floating.c; t_ms is the workload's clock with the
# passes taken out, so it lines up with the RSS timeline beside it). Writes outdir/outname.png
# and .svg. Cells without a shadow run (boehm, interpreter cells: n/a) have no line.
# Colour: file_reclaims through colors.gp; the n-th cell of a strategy gets dash type file_dash.

lastslash(s, i) = i < 1 ? 0 : s[i:i] eq "/" ? i : lastslash(s, i - 1)
load (exists("ARG0") ? ARG0[1:lastslash(ARG0, strlen(ARG0))] : "")."colors.gp"

if (!exists("file_reclaims")) file_reclaims = ""
if (!exists("outdir")) outdir = "plots"
if (!exists("outname")) outname = "floating_timeline"
if (!exists("title_machine")) title_machine = "unknown machine"
if (!exists("title_workloads")) title_workloads = "all workloads"
if (!exists("title_run")) title_run = ""

n = words(titles)
recl(i) = words(file_reclaims) == n ? word(file_reclaims, i) : "?"
same_before(i, j) = j >= i ? 0 : (recl(j) eq recl(i)) + same_before(i, j + 1)
dash(i) = exists("file_dash") && words(file_dash) == n ? int(word(file_dash, i)) : 1 + same_before(i, 1)

set datafile separator whitespace
set datafile nocolumnheaders
set termoption noenhanced
set title sprintf("%s: floating garbage over time (unreachable, not yet freed), shadow run of each cell\n%s%s", \
                  title_workloads, title_machine, title_run ne "" ? "   run ".title_run : "")
set xlabel "time (ms, passes taken out)"
set ylabel "floating garbage (MB)"
set xrange [0:*]
set yrange [0:*]
set offsets 0, 0, graph 0.05, 0
set grid
set key outside right top vertical

do for [fmt in "png svg"] {
    eval set_term(fmt, 1200, 800)
    set output outdir."/".outname.".".fmt
    plot for [i=1:n] blockprefix.".floating_tl.dat" index (i - 1) using 1:2 \
         with steps lw 1.5 lc rgb color_of(recl(i)) dt dash(i) title word(titles, i)
    unset output
}
