// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>
#include "core/util/log.h"

static int verbose;

void ts_log_set_verbose(int level)
{
	verbose = level;
}

int ts_log_verbose(void)
{
	return verbose;
}

static void vlog(const char *prefix, const char *fmt, va_list ap)
{
	fprintf(stderr, "tcpscope: %s", prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void ts_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void ts_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}

void ts_info(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void ts_note(const char *fmt, ...)
{
	va_list ap;

	if (!verbose && !isatty(STDERR_FILENO))
		return;
	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}
