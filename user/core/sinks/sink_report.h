/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Sinks that print one report at the end instead of one line per record:
 * 'report --summary' and 'report --at TIME'.  Like every sink they work on
 * records from any source.
 */
#ifndef TS_SINK_REPORT_H
#define TS_SINK_REPORT_H

#include "core/stream/pipeline.h"
#include "core/sock/sock.h"
#include <stdbool.h>
#include <stdio.h>

#define TS_SUMMARY_TOP 10

/* Counts per state change and record kind, handshake-time percentiles,
 * retransmitted/sent segments, top connections by retransmissions. */
int ts_sink_summary__new(struct ts_sink *out, FILE *f, const struct ts_meta *m, bool json);

struct ts_at_opts {
	uint64_t at_mono_ns;	     /* the moment to rebuild */
	uint64_t start_ns;	     /* when the capture (and its snapshot) began */
	const struct ts_sock *socks; /* the capture's initial snapshot */
	size_t nsocks;
	bool json;
};

/* The netstat-style table of sockets as they were at at_mono_ns.  The
 * snapshot is copied: the caller may free it once this returns. */
int ts_sink_at__new(struct ts_sink *out, FILE *f, const struct ts_meta *m,
		   const struct ts_at_opts *o);

#endif
