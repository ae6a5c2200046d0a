# cow_timeline.gp — private memory of each forked worker over time (copy-on-write), one line
# per worker of each cell that forks (`prefork`): what its own writes made private of the heap
# it inherited, plus what it allocated itself.
#
# Contract: `memstrat bench` (and `--plots-only`) runs this from inside the run directory as
#   gnuplot -e "blockfile='plots/data/cow_tl.dat'; titles='cellA#w0 cellA#w1 ...';
#               file_reclaims='rc+gen rc+gen ...'; file_dash='1 1 ...'; outdir='plots';
#               outname='cow_timeline'; title_machine='<CPU>'; title_run='<run-id>'" cow_timeline.gp
# blockfile holds one index block "t_ms private_mb" per word of titles (analysis/plots.py
# write_cow, from the runner's X.cow.csv: /proc/PID/smaps_rollup's Private_Dirty, sampled by
# the harness). Colour: the cell's strategy (colors.gp); dash type: the cell's ordinal among
# the cells of that strategy (so freeze, immortal and auto of one strategy differ by dash).
# Writes outdir/outname.png and .svg.

lastslash(s, i) = i < 1 ? 0 : s[i:i] eq "/" ? i : lastslash(s, i - 1)
load (exists("ARG0") ? ARG0[1:lastslash(ARG0, strlen(ARG0))] : "")."colors.gp"

if (!exists("outdir")) outdir = "plots"
if (!exists("outname")) outname = "cow_timeline"
if (!exists("title_machine")) title_machine = "unknown machine"
if (!exists("title_run")) title_run = ""
n = words(titles)
recl(i) = words(file_reclaims) == n ? word(file_reclaims, i) : "?"
dash(i) = words(file_dash) == n ? int(word(file_dash, i)) : 1

set datafile separator whitespace
set termoption noenhanced
set title sprintf("forked workers: private memory (Private_Dirty) over time, first repetition\n%s%s", \
                  title_machine, title_run ne "" ? "   run ".title_run : "")
set xlabel "time since the cell started (ms)"
set ylabel "private memory per worker (MB)"
set xrange [0:*]
set yrange [0:*]
set grid
set key inside left top vertical font ",9" box opaque

do for [fmt in "png svg"] {
    eval set_term(fmt, 1200, 800)
    set output outdir."/".outname.".".fmt
    plot for [i=1:n] blockfile index (i - 1) using 1:2 \
         with lines lw 1.5 lc rgb color_of(recl(i)) dt dash(i) title word(titles, i)
    unset output
}
