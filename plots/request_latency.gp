# request_latency.gp — request latency CDFs, simple and metered, one pair of lines per cell.
#
# Contract: `memstrat bench` (and `--plots-only`) runs this from inside the run directory as
#   gnuplot -e "files='latency/a.rep1.csv latency/b.rep1.csv'; titles='cellA cellB';
#               outdir='plots'; title_machine='<CPU model>'; title_workloads='request';
#               title_run='<run-id>'" request_latency.gp
# only when some cell wrote a latency file (request-style workloads, --ms_latency). files and
# titles are space-separated lists of equal length; each file is "percentile,simple_us,
# metered_us" (percentile points of the two histograms). Left panel: simple latency; right:
# metered. x is log-scaled latency, y the fraction of requests at or below it. Writes
# outdir/request_latency.png and .svg. Without `files` it plots every latency/*.rep1.csv here.

if (!exists("files")) files = system("ls latency/*.rep1.csv 2>/dev/null")
if (!exists("titles")) titles = files
if (!exists("outdir")) outdir = "plots"
if (!exists("title_machine")) title_machine = "unknown machine"
if (!exists("title_workloads")) title_workloads = "request"
if (!exists("title_run")) title_run = ""

# Distinct colours in gnuplot's default cycle; past it lines are dashed to stay apart.
ncolours = 8
# Latencies of 0 µs (a clock too coarse) cannot sit on a log axis: drawn at this floor.
floor_us = 0.01
fmax(a, b) = a > b ? a : b

set datafile separator comma
set datafile columnheaders
set termoption noenhanced
set logscale x
set yrange [0:1.0]
set ylabel "fraction of requests"
set grid
set key bottom right

do for [fmt in "png svg"] {
    if (fmt eq "png") {
        if (strstrt(GPVAL_TERMINALS, "pngcairo")) {
            set terminal pngcairo size 1600, 700 noenhanced font ",10"
        } else {
            set terminal png size 1600, 700 noenhanced
        }
    } else {
        set terminal svg size 1600, 700 noenhanced font ",10" background "white"
    }
    set output outdir."/request_latency.".fmt
    set multiplot layout 1, 2 title sprintf("Request latency CDF: %s\n%s%s", title_workloads, \
        title_machine, title_run ne "" ? "   run ".title_run : "")
    do for [panel in "simple metered"] {
        set title panel eq "simple" ? "simple (service time)" : "metered (fixed-rate arrivals: queueing behind pauses)"
        set xlabel panel." latency (µs, log)"
        plot for [i=1:words(files)] word(files, i) \
             using (fmax(column(panel."_us"), floor_us)):(column("percentile") / 100.0) \
             with lines lw 1.5 lc 1 + (i - 1) % ncolours dt 1 + (i - 1) / ncolours title word(titles, i)
    }
    unset multiplot
    unset output
}
