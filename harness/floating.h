/* floating.h — `memstrat run --ms_floating=N`: the untimed shadow run's record of
 * floating garbage (see floating.c). Private to run.c. */
#ifndef MS_FLOATING_H
#define MS_FLOATING_H

#include <stdbool.h>
#include <stdint.h>

#include "gbench_shim.h"
#include "mm.h"

typedef struct ms_floating_rec ms_floating_rec;

/* Starts counting on a heap that has allocated nothing: a pass every `every`
 * allocations. NULL with one line in err when the strategy cannot be measured
 * (boehm) or memory ran out. t0: the start of the workload's span. */
ms_floating_rec *ms_floating_begin(mm_heap *h, uint64_t every, uint64_t t0, char *err, size_t errlen);
/* The last pass, at the end of the workload's span. */
void ms_floating_end(ms_floating_rec *f, mm_heap *h);
/* floating_peak_objects, floating_peak_mb, floating_mean_mb (+ floating_passes). */
void ms_floating_report(ms_gb_state *st, const ms_floating_rec *f);
/* The timeline CSV (t_ms,allocations,floating_objects,floating_mb,live_mb); 0 or -1. */
int ms_floating_write_csv(const ms_floating_rec *f, const char *path);
void ms_floating_free(ms_floating_rec *f);

#endif
