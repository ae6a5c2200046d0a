/* run.h — `memstrat run`: see run.c for the contract. */
#ifndef MS_RUN_H
#define MS_RUN_H

/* argv[0] is "run"; returns the process exit status (0, 1 failed cell, 2 bad input). */
int ms_run_main(int argc, char **argv);

#endif
