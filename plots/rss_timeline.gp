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
# Per workload the driver passes blockprefix='plots/data/<wl>' instead of files: then
# blockprefix.rss_tl.dat holds one index block "t_ms rss_mb" per word of titles (thinned by
# analysis/plots.py to the highest sample per 1/1500 of the run) and outname is <wl>-rss_timeline.
# Colour: file_reclaims (one strategy per file/title) through colors.gp; the n-th cell of a
# strategy gets dash type n (file_dash, else counted here).

lastslash(s, i) = i < 1 ? 0 : s[i:i] eq "/" ? i : lastslash(s, i - 1)
load (exists("ARG0") ? ARG0[1:lastslash(ARG0, strlen(ARG0))] : "")."colors.gp"

blocks = exists("blockprefix")
if (!blocks && !exists("files")) files = system("ls timeline/*.rep1.csv 2>/dev/null")
if (!exists("titles")) titles = files
if (!exists("file_reclaims")) file_reclaims = ""
if (!exists("outdir")) outdir = "plots"
# Output name: rss_timeline (every cell), or cache_timeline (the cache cells alone) from the driver.
if (!exists("outname")) outname = "rss_timeline"
# What is drawn: the RSS column (rss_mb) or, for cache_timeline, the heap's live bytes (live_mb).
if (!exists("ycolumn")) ycolumn = "rss_mb"
if (!exists("title_machine")) title_machine = "unknown machine"
if (!exists("title_workloads")) title_workloads = "all workloads"
if (!exists("title_run")) title_run = ""

n = words(titles)
# Strategy of line i (fallback colour when unknown) and its ordinal among that strategy's lines.
recl(i) = words(file_reclaims) == n ? word(file_reclaims, i) : "?"
same_before(i, j) = j >= i ? 0 : (recl(j) eq recl(i)) + same_before(i, j + 1)
dash(i) = exists("file_dash") && words(file_dash) == n ? int(word(file_dash, i)) : 1 + same_before(i, 1)
src(i) = blocks ? blockprefix.".rss_tl.dat" : word(files, i)

if (blocks) {
    set datafile separator whitespace
    set datafile nocolumnheaders
} else {
    set datafile separator comma
    set datafile columnheaders
}
set termoption noenhanced
set title sprintf("%s: %s over time, first repetition of each cell\n%s%s", title_workloads, \
                 ycolumn eq "live_mb" ? "live bytes" : "RSS", \
                  title_machine, title_run ne "" ? "   run ".title_run : "")
set xlabel "time (ms)"
set ylabel (ycolumn eq "live_mb" ? "live bytes held by the program (MB)" : "resident set size (MB)")
set xrange [0:*]
set yrange [0:*]
set offsets 0, 0, graph 0.05, 0
set grid
set key outside right top vertical

do for [fmt in "png svg"] {
    eval set_term(fmt, 1200, 800)
    set output outdir."/".outname.".".fmt
    if (blocks) {
        plot for [i=1:n] src(i) index (i - 1) using 1:2 \
             with lines lw 1.5 lc rgb color_of(recl(i)) dt dash(i) title word(titles, i)
    } else {
        plot for [i=1:n] src(i) using (column("t_ms")):(column(ycolumn)) \
             with lines lw 1.5 lc rgb color_of(recl(i)) dt dash(i) title word(titles, i)
    }
    unset output
}
