/* check.h — the few assertion macros the C tests share.
 *
 * Contract: CHECK records a failure (with file:line and the expression) and goes
 * on; check_summary prints "N passed, M failed" (a line ctest logs keep) and
 * returns the exit status: 0 only when nothing failed and something was checked.
 */
#ifndef MS_CHECK_H
#define MS_CHECK_H

#include <stdio.h>

static int check_passed, check_failed;

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (cond) {                                                            \
            check_passed++;                                                    \
        } else {                                                               \
            check_failed++;                                                    \
            fprintf(stderr, "%s:%d: FAILED: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
        }                                                                      \
    } while (0)

static inline int check_summary(void) {
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed == 0 && check_passed > 0 ? 0 : 1;
}

#endif
