/* malloc_select.h — `memstrat run` makes sure its process runs on the malloc its cells need.
 *
 * Contract: ms_malloc_select(argc, argv) takes main's argv of a `run` command
 * (argv[1] == "run"). If every cell names a known allocator and they agree on
 * a process malloc (an allocator's preload_library, or glibc when it has none)
 * that the process is not running on, it re-executes /proc/self/exe with the
 * same argv and LD_PRELOAD fixed, and does not return. It returns -1 to go on
 * (nothing to do, or a cell whose allocator part is unknown: run reports that),
 * 2 after one line on stderr for bad input (cells needing different mallocs, a
 * library not installed, a preload in a sanitizer build, a re-exec that did not
 * take), 1 if exec failed.
 */
#ifndef MS_MALLOC_SELECT_H
#define MS_MALLOC_SELECT_H

int ms_malloc_select(int argc, char **argv);

#endif
