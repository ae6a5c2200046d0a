# colors.gp — the one strategy → colour map every plot uses (loaded by each script).
#
# Contract: `load "colors.gp"` (the driver runs gnuplot with the script directory on
# GNUPLOT_LIB's search path via `loadpath`) defines
#   known_strategies   the reclamation strategies with a colour of their own, in legend order
#   rgb_of(s)          the colour of strategy s as an integer 0xRRGGBB (for `lc rgb variable`)
#   color_of(s)        the same colour as a "#rrggbb" string (for `lc rgb color_of(s)`)
# A strategy not listed gets fallback_rgb (black), so a new strategy is visible at once and
# obviously unassigned; give it a colour here, nowhere else.
# The palette is Okabe and Ito's (2008), distinguishable under the common colour-vision
# deficiencies; `none` is grey because it is the baseline, not a contender; `cpython` (the real
# interpreter, not a model) is sky blue; rc+ft takes the palette's yellow, darkened to show on white;
# rc+pep848 a dark violet outside the palette (it has no ninth colour).

known_strategies = "none rc rc+gen rc+incr rc+pep848 rc+ft rc+trial boehm cpython"

fallback_rgb = 0x000000
rgb_of(s) = s eq "none"     ? 0x999999 : \
            s eq "rc"       ? 0x0072B2 : \
            s eq "rc+gen"   ? 0xD55E00 : \
            s eq "rc+incr"  ? 0x009E73 : \
            s eq "rc+pep848" ? 0x5D3A9B : \
            s eq "rc+ft"    ? 0xB8A000 : \
            s eq "rc+trial" ? 0xCC79A7 : \
            s eq "boehm"    ? 0xE69F00 : \
            s eq "cpython"  ? 0x56B4E9 : fallback_rgb
color_of(s) = sprintf("#%06x", rgb_of(s))

# Point types of pause kinds (pause_timeline): CPython's three generations, then one type for
# everything that is not a generational collection (rc+incr increments, rc+trial, boehm), then
# release cascades (kind 5: refcounting freeing a whole structure at once).
pt_of_kind(k) = k == 1 ? 7 : k == 2 ? 5 : k == 3 ? 9 : k == 5 ? 13 : 3
kind_names = "gen0 gen1 gen2 increment/other release"

# The PNG/SVG terminal pair, one place: w x h pixels, fonts legible at that size.
# Usage: eval set_term("png", 1200, 700)
set_term(fmt, w, h) = fmt eq "png" ? \
    (strstrt(GPVAL_TERMINALS, "pngcairo") ? \
        sprintf("set terminal pngcairo size %d,%d noenhanced font ',10'", w, h) : \
        sprintf("set terminal png size %d,%d noenhanced", w, h)) : \
    sprintf("set terminal svg size %d,%d noenhanced font ',10' background 'white'", w, h)
