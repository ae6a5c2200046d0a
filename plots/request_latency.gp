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

lastslash(s, i) = i < 1 ? 0 : s[i:i] eq "/" ? i : lastslash(s, i - 1)
load (exists("ARG0") ? ARG0[1:lastslash(ARG0, strlen(ARG0))] : "")."colors.gp"

if (!exists("files")) files = system("ls latency/*.rep1.csv 2>/dev/null")
if (!exists("titles")) titles = files
if (!exists("file_reclaims")) file_reclaims = ""
if (!exists("outdir")) outdir = "plots"
if (!exists("title_machine")) title_machine = "unknown machine"
if (!exists("title_workloads")) title_workloads = "request"
if (!exists("title_run")) title_run = ""

# Colour = strategy of each file (file_reclaims, colors.gp); dash = n-th cell of that strategy.
n = words(files)
recl(i) = words(file_reclaims) == n ? word(file_reclaims, i) : "?"
same_before(i, j) = j >= i ? 0 : (recl(j) eq recl(i)) + same_before(i, j + 1)
dash(i) = 1 + same_before(i, 1)
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
    eval set_term(fmt, 1600, 700)
    set output outdir."/request_latency.".fmt
    set multiplot layout 1, 2 title sprintf("Request latency CDF: %s\n%s%s", title_workloads, \
        title_machine, title_run ne "" ? "   run ".title_run : "")
    do for [panel in "simple metered"] {
        set title panel eq "simple" ? "simple (service time)" : "metered (fixed-rate arrivals: queueing behind pauses)"
        set xlabel panel." latency (µs, log)"
        plot for [i=1:words(files)] word(files, i) \
             using (fmax(column(panel."_us"), floor_us)):(column("percentile") / 100.0) \
             with lines lw 1.5 lc rgb color_of(recl(i)) dt dash(i) title word(titles, i)
    }
    unset multiplot
    unset output
}
