/* cli.h — what every `memstrat` subcommand written in C shares on its command line.
 *
 * Contract: bad input gets ONE line on stderr, "memstrat CMD: <why>", and exit
 * status MS_EXIT_USAGE (ms_usage_error prints it and returns that status, so a
 * parser ends with `return ms_usage_error(...)`); numbers are read strictly
 * (ms_parse_long). Options are parsed with getopt_long (gcscan-measure); `run` only
 * takes its own --ms_* flags out of argv, since the rest belongs to Google
 * Benchmark. The analysis package (Python) follows the same rules with argparse.
 */
#ifndef MS_CLI_H
#define MS_CLI_H

/* Exit statuses of every subcommand: success, a measurement or cell failed, bad input. */
#define MS_EXIT_OK 0
#define MS_EXIT_FAILED 1
#define MS_EXIT_USAGE 2

/* Prints "memstrat CMD: <formatted>" as one line on stderr; returns MS_EXIT_USAGE. */
int ms_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Strict integer: the whole string, decimal, in [lo, hi]; "5x", "" or " 5" is an
 * error (-1), never 5 or 0. 0 with the value in *out. */
int ms_parse_long(const char *s, long lo, long hi, long *out);

#endif
