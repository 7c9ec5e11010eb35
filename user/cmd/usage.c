// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "cmd/usage.h"

static ssize_t discard(void *cookie, const char *buf, size_t len)
{
	(void)cookie;
	(void)buf;
	return (ssize_t)len;
}

void ts_usage_quiet_argp(struct argp_state *state)
{
	static FILE *sink;
	static const cookie_io_functions_t io = { .write = discard };

	if (!sink)
		sink = fopencookie(NULL, "w", io);
	/* Without the stream argp keeps stderr: two lines, still correct. */
	if (sink)
		state->err_stream = sink;
}

void ts_usage_error(const struct argp_state *state, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", state && state->name ? state->name : "tcpscope");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(TS_EXIT_USAGE);
}
