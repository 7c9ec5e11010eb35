/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The finished-connection callback the tracker tests share: the first
 * MAXOUT connections are kept in out[], nout counts them all.
 */
#ifndef TS_TEST_COLLECT_H
#define TS_TEST_COLLECT_H

#include "core/stream/tracker.h"

#define US 1000ull
#define MS 1000000ull
#define MAXOUT 16

static struct ts_conn out[MAXOUT];
static int nout;

static int collect(void *ctx, const struct ts_conn *c)
{
	(void)ctx;
	if (nout < MAXOUT)
		out[nout] = *c;
	nout++;
	return 0;
}

#endif
