/* run_paths.c — the paths of `memstrat run`'s outputs; see run_paths.h. */
#include "run_paths.h"

#include <stdio.h>
#include <string.h>

#include "atomic_file.h"

/* Longest output path built (the user's path plus ".k" or ".live"). */
#define MS_RUN_PATH_MAX 1200

void ms_run_output_path(char *out, size_t outlen, const char *path, int index, bool several) {
    if (!several) {
        snprintf(out, outlen, "%s", path);
        return;
    }
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    if (dot == NULL || (slash && dot < slash)) dot = path + strlen(path);
    snprintf(out, outlen, "%.*s.%d%s", (int)(dot - path), path, index, dot);
}

void ms_run_twin_path(char *out, size_t outlen, const char *path, const char *kind) {
    size_t n = strlen(path);
    const char *part = n > 9 && strcmp(path + n - 9, ".csv.part") == 0 ? ".part" : "";
    size_t stem = n - strlen(part);
    if (stem > 4 && strncmp(path + stem - 4, ".csv", 4) == 0) stem -= 4;
    snprintf(out, outlen, "%.*s.%s.csv%s", (int)stem, path, kind, part);
}

void ms_run_live_path(char *out, size_t outlen, const char *path) { ms_run_twin_path(out, outlen, path, "live"); }

bool ms_run_check_outputs(const char *timeline, const char *pauses, const char *latency, int ncells, char *err,
                          size_t errlen) {
    const char *paths[] = {timeline, pauses, latency};
    const char *flags[] = {"--ms_timeline", "--ms_pauses", "--ms_latency"};
    char path[MS_RUN_PATH_MAX], live[MS_RUN_PATH_MAX + 16];
    for (int k = 0; k < ncells; k++) {
        for (int i = 0; i < 3; i++) {
            if (paths[i] == NULL) continue;
            ms_run_output_path(path, sizeof path, paths[i], k, ncells > 1);
            if (!ms_output_target_ok(path, flags[i], err, errlen)) return false;
        }
        if (timeline != NULL) {
            ms_run_output_path(path, sizeof path, timeline, k, ncells > 1);
            ms_run_live_path(live, sizeof live, path);
            if (!ms_output_target_ok(live, "--ms_timeline (its live-bytes timeline)", err, errlen)) return false;
            ms_run_twin_path(live, sizeof live, path, "pressure");
            if (!ms_output_target_ok(live, "--ms_timeline (its pressure events)", err, errlen)) return false;
            ms_run_twin_path(live, sizeof live, path, "cow");
            if (!ms_output_target_ok(live, "--ms_timeline (its workers' memory timeline)", err, errlen)) return false;
        }
    }
    return true;
}
