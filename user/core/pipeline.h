/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one pipeline that live tracing and replay share:
 *	source -> filter -> (tracker) -> sinks
 * Nothing past the source knows where records came from.
 */
#ifndef TS_PIPELINE_H
#define TS_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "filter.h"
#include "record.h"

#define TS_MAX_SINKS 8

/* What every sink needs to know about the run. */
struct ts_meta {
	int64_t wall_offset_ns; /* CLOCK_MONOTONIC -> CLOCK_REALTIME */
	bool color;		/* ANSI colour on text output */
};

struct ts_totals {
	uint64_t records; /* records that passed the filter */
	uint64_t lost;	  /* ring-buffer reservations that failed */
};

struct ts_sink_ops {
	const char *name;
	int (*rec)(void *priv, const struct ts_rec *r);
	/* End of a batch: make what was written visible (fflush). */
	int (*flush)(void *priv);
	/* End of stream. */
	int (*finish)(void *priv, const struct ts_totals *t);
	void (*destroy)(void *priv);
};

struct ts_sink {
	const struct ts_sink_ops *ops;
	void *priv;
};

struct ts_pipeline {
	struct ts_filter filter;
	struct ts_meta meta;
	struct ts_sink sinks[TS_MAX_SINKS];
	int nsinks;
	struct ts_totals totals;
};

void ts_pipeline_init(struct ts_pipeline *p, const struct ts_filter *f,
		      const struct ts_meta *m);
/* Takes ownership of the sink (destroyed by ts_pipeline_free). */
int ts_pipeline_add_sink(struct ts_pipeline *p, struct ts_sink sink);
/* Returns 0 or the first sink error (negative errno). */
int ts_pipeline_push(struct ts_pipeline *p, const struct ts_rec *r);
int ts_pipeline_flush(struct ts_pipeline *p);
int ts_pipeline_finish(struct ts_pipeline *p);
void ts_pipeline_free(struct ts_pipeline *p);

#endif
