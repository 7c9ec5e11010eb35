/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Command-line errors in one line.  argp follows each error with a second
 * "Try `... --help'" line; tcpscope promises exactly one line naming the
 * problem and exit status 2, so argp's own error stream is silenced and
 * value errors go through ts_usage_error().
 */
#ifndef TS_USAGE_H
#define TS_USAGE_H

#include <argp.h>

/* Exit status for bad command lines. */
#define TS_EXIT_USAGE 2

/*
 * Call from the top parser's ARGP_KEY_INIT: argp's hint line goes nowhere;
 * getopt still prints its one line ("unrecognized option '--x'") on stderr.
 */
void ts_usage_quiet_argp(struct argp_state *state);

/* "PROGRAM: MESSAGE" on stderr, then exit(TS_EXIT_USAGE). */
void ts_usage_error(const struct argp_state *state, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

#endif
