/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The sink factory: what a command prints, chosen once from its options,
 * for live tracing (trace) and replay (report) alike.
 */
#ifndef TS_OUTPUT_H
#define TS_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "core/sinks/sink_report.h"
#include "core/stream/pipeline.h"

enum ts_output_kind {
	TS_OUTPUT_RECORDS = 0, /* one line (or JSON object) per record */
	TS_OUTPUT_TIMELINE,    /* one block per connection as it ends */
	TS_OUTPUT_SUMMARY,     /* counts and percentiles at the end */
	TS_OUTPUT_AT,	       /* the socket table at one moment */
};

struct ts_output_opts {
	enum ts_output_kind kind;
	bool json;
	uint32_t max_conns;	     /* tracker bound, 0 its default */
	const struct ts_at_opts *at; /* TS_OUTPUT_AT */
	/* TS_OUTPUT_RECORDS: another sink of records than text or JSON
	 * (trace --snapshot's), made by new_records(records_ctx, ...). */
	int (*new_records)(void *records_ctx, struct ts_sink *out, FILE *f,
			   const struct ts_meta *m);
	void *records_ctx;
};

/*
 * Add the connection tracker when the output needs it (timelines, close
 * kinds for the summary), then the sink writing to f.  0, or -errno after
 * one line saying what failed.
 */
int ts_output__add(struct ts_pipeline *p, const struct ts_output_opts *o, FILE *f,
		   const struct ts_meta *m);

#endif
