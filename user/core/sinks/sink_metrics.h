/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Counters for 'tcpscope serve', rendered in the Prometheus text exposition
 * format (version 0.0.4).  A sink fills them from the tracing loop; another
 * thread renders them: every update and every render holds the object's
 * mutex, and a render only writes into memory, so a slow HTTP client never
 * holds it.
 *
 * Label cardinality is bounded: each label (process name, listener port)
 * has at most max_label_values values of its own, the first ones seen;
 * later values share "other".  A series, once exposed, is never taken
 * away, because Prometheus counters must not move between series.
 */
#ifndef TS_SINK_METRICS_H
#define TS_SINK_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "core/stream/pipeline.h"
#include "core/stream/tracker.h"
#include "core/util/procstat.h"

#define TS_METRICS_DEFAULT_LABEL_VALUES 20
#define TS_METRICS_MAX_LABEL_VALUES 256

struct ts_metrics_opts {
	uint32_t max_label_values; /* 0: TS_METRICS_DEFAULT_LABEL_VALUES */
	const char *version;	   /* tcpscope_build_info{version} */
	const char *tp_mode;	   /* tcpscope_build_info{tp_mode}: "btf", "classic" */
};

struct ts_metrics;

int ts_metrics__new(const struct ts_metrics_opts *o, struct ts_metrics **out);
void ts_metrics__free(struct ts_metrics *m);

/*
 * A sink that counts records (transitions, opens, retransmissions, resets,
 * losses) and finished connections (closes, handshake and lifetime
 * histograms; needs ts_pipeline__track).  The sink does not own m, which
 * must outlive the pipeline.
 */
int ts_sink_metrics__new(struct ts_sink *out, struct ts_metrics *m);

/* The tracker's figures (connections held now, evicted so far). */
void ts_metrics__set_tracker(struct ts_metrics *m,
			     const struct ts_tracker_stats *st);
/* Sockets per state now (indexes are enum ts_tcp_state; 1..12 used). */
void ts_metrics__set_sockets(struct ts_metrics *m,
			     const uint32_t by_state[TS_STATE_MAX]);

/*
 * Write every metric family to f; ps (may be NULL) adds the process_*
 * families.  Returns 0 or -EIO.
 */
int ts_metrics__render(struct ts_metrics *m, const struct ts_proc_stats *ps,
		       FILE *f);

#endif
