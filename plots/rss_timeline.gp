# rss_timeline.gp — resident set size over time, one line per cell (its first repetition).
#
# Contract: `memstrat bench` (and `--plots-only`) runs this from inside the run directory as
#   gnuplot -e "files='timeline/a.rep1.csv timeline/b.rep1.csv'; titles='cellA cellB';
#               outdir='plots'; title_machine='<CPU model>'; title_workloads='list, ring';
#               title_run='<run-id>'" rss_timeline.gp
# files and titles are space-separated lists of equal length (cell names hold no blanks); each
# file is the runner's --ms_timeline CSV "t_ms,rss_mb". Writes outdir/rss_timeline.png and
# outdir/rss_timeline.svg. Without `files` it plots every timeline/*.rep1.csv of the current
# directory, titled by file name.

if (!exists("files")) files = system("ls timeline/*.rep1.csv 2>/dev/null")
if (!exists("titles")) titles = files
if (!exists("outdir")) outdir = "plots"
# Output name: rss_timeline (every cell), or cache_timeline (the cache cells alone) from the driver.
if (!exists("outname")) outname = "rss_timeline"
# What is drawn: the RSS column (rss_mb) or, for cache_timeline, the heap's live bytes (live_mb).
if (!exists("ycolumn")) ycolumn = "rss_mb"
if (!exists("title_machine")) title_machine = "unknown machine"
if (!exists("title_workloads")) title_workloads = "all workloads"
if (!exists("title_run")) title_run = ""

# Distinct colours in gnuplot's default cycle; past it lines are dashed to stay apart.
ncolours = 8

set datafile separator comma
set datafile columnheaders
set termoption noenhanced
set title sprintf("%s over time, first repetition of each cell: %s\n%s%s", \
                 ycolumn eq "live_mb" ? "Live bytes" : "RSS", title_workloads, \
                  title_machine, title_run ne "" ? "   run ".title_run : "")
set xlabel "time (ms)"
set ylabel (ycolumn eq "live_mb" ? "live bytes held by the program (MB)" : "resident set size (MB)")
set xrange [0:*]
set yrange [0:*]
set offsets 0, 0, graph 0.05, 0
set grid
set key outside right top vertical

do for [fmt in "png svg"] {
    if (fmt eq "png") {
        if (strstrt(GPVAL_TERMINALS, "pngcairo")) {
            set terminal pngcairo size 1200, 800 noenhanced font ",10"
        } else {
            set terminal png size 1200, 800 noenhanced
        }
    } else {
        set terminal svg size 1200, 800 noenhanced font ",10" background "white"
    }
    set output outdir."/".outname.".".fmt
    plot for [i=1:words(files)] word(files, i) using (column("t_ms")):(column(ycolumn)) \
         with lines lw 1.5 lc 1 + (i - 1) % ncolours dt 1 + (i - 1) / ncolours title word(titles, i)
    unset output
}
