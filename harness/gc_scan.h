/* gc_scan.h — `memstrat gcscan-measure`: see gc_scan.c for the contract. */
#ifndef MS_GC_SCAN_H
#define MS_GC_SCAN_H

/* argv[0] is "gcscan-measure"; returns 0, 1 (a measurement failed) or 2 (bad input). */
int ms_gcscan_measure_main(int argc, char **argv);

#endif
