/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The snapshot alongside the timeline (tcpscope trace --snapshot and
 * --interval): the table of sockets when tracing starts, events of the
 * connections it listed marked as known, and a summary of counts every
 * few seconds.
 */
#ifndef TS_TRACE_SNAPSHOT_H
#define TS_TRACE_SNAPSHOT_H

#include <stdbool.h>
#include <stdio.h>
#include "core/stream/filter.h"
#include "core/stream/pipeline.h"
#include "core/sock/sock.h"
#include "kernel/snapshot.h"

struct ts_trace_snap;

/* The namespace is the trace filter's (netns inode, 0 for ours); the
 * filter also selects the rows.  0 or -errno after one line. */
int ts_trace_snap__new(const struct ts_filter *f, bool json,
		       struct ts_trace_snap **out);
void ts_trace_snap__free(struct ts_trace_snap *t);

/*
 * A sink like the text or JSON one, which marks records of connections
 * listed by ts_trace_snap__print_initial (text: "[known]" at the end of
 * the line; JSON: "known":true) and gives them the owner the snapshot saw
 * when the tracer knows none.  Owned by the pipeline; t must outlive it.
 */
int ts_trace_snap__sink_new(struct ts_trace_snap *t, struct ts_sink *out,
			    FILE *f, const struct ts_meta *m);

/* Its snapshotter, to take the startup snapshot with (startup.h). */
struct ts_snapshotter *ts_trace_snap__snapshotter(struct ts_trace_snap *t);

/*
 * Print the startup snapshot's sockets that pass the filter (text: the
 * netstat table; JSON: one "sock" object per socket), remembering the
 * connections' cookies.  can_match: the tracer's connection ids are
 * socket cookies (btf mode).
 */
int ts_trace_snap__print_initial(struct ts_trace_snap *t, FILE *f, bool can_match,
				 const struct ts_sock *socks, size_t nsocks);

/* A fresh snapshot's counts per state and hints, as one line of text or a
 * JSON "stats" object. */
int ts_trace_snap__print_summary(struct ts_trace_snap *t, FILE *f,
				 int64_t wall_offset_ns);

#endif
