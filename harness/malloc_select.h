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
 * take), 1 if exec failed. A cell that runs in an interpreter needs glibc here
 * (its allocator is the child's: ms_malloc_preload).
 */
#ifndef MS_MALLOC_SELECT_H
#define MS_MALLOC_SELECT_H

#include <stdbool.h>
#include <stddef.h>

int ms_malloc_select(int argc, char **argv);

/* The LD_PRELOAD of a process that must run on `lib` (an allocator's
 * preload_library base name; NULL: glibc's malloc): the library's absolute path
 * first, then the inherited entries that are no malloc. For the re-exec above
 * and for an interpreter's child. false with one line in err (the library is
 * not installed, the value too long); alloc_name names the allocator in it. */
bool ms_malloc_preload(const char *alloc_name, const char *lib, char *out, size_t outlen, char *err, size_t errlen);

#endif
