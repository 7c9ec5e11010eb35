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
#include "core/stream/filter.h"
#include "core/stream/record.h"
#include "core/stream/tracker.h"

#define TS_MAX_SINKS 8

/* What every sink needs to know about the run. */
struct ts_meta {
	int64_t wall_offset_ns; /* CLOCK_MONOTONIC -> CLOCK_REALTIME */
	bool color;		/* ANSI colour on text output */
	bool compact;		/* text: the 80-column layout (--wide: off) */
	uint16_t columns;	/* the reader's width when known, else 0 */
	bool wide;		/* --wide: text also shows the owner's cgroup */
	/* --cgroup: text shows the cgroup once more than one appears. */
	bool cgroup_filtered;
};

struct ts_totals {
	uint64_t records; /* records that passed the filter */
	uint64_t lost;	  /* ring-buffer reservations that failed */
	uint64_t end_ns;  /* the source's end (a capture's trailer), 0: unknown */
	uint64_t drops;	  /* drop records (TS_REC_DROP) */
	/* Drops the kernel's bucket only counted (TS_REC_DROP_SUPPRESSED). */
	uint64_t drops_suppressed;
	/*
	 * -p: records of connections waiting for accept() that were not
	 * kept (the hold's bounds: HOLD_SLOTS connections, HOLD_WAYS a hash
	 * window, HOLD_RECS records each): never shown, even if the -p
	 * process accepts the connection later.
	 */
	uint64_t held_forgotten;
	/* With the tracker stage (ts_pipeline__track): */
	bool tracking;
	uint64_t conns;	       /* connections emitted */
	uint64_t conns_evicted; /* of which evicted by --max-conns */
	/* Retransmissions the sockets counted that no record showed, summed
	 * over the connections emitted (ts_conn.rtx_untraced). */
	uint64_t rtx_untraced;
	uint32_t max_conns;
};

struct ts_sink_ops {
	const char *name;
	/* One record (optional: a sink may want connections only). */
	int (*rec)(void *priv, const struct ts_rec *r);
	/* End of a batch: make what was written visible (fflush). */
	int (*flush)(void *priv);
	/* End of stream. */
	int (*finish)(void *priv, const struct ts_totals *t);
	void (*destroy)(void *priv);
	/* A finished connection, from the tracker stage (optional). */
	int (*conn_end)(void *priv, const struct ts_conn *c);
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
	struct ts_tracker *tracker; /* NULL unless ts_pipeline__track() */
	uint64_t clock_ns;	    /* source's clock, 0 if it has none */
	/* -p: records of passive connections before accept(), held until
	 * the accepting process is known (NULL without -p). */
	struct ts_hold_slot *hold;
	uint64_t hold_seq; /* the last slot taken, for the oldest's eviction */
};

void ts_pipeline__init(struct ts_pipeline *p, const struct ts_filter *f,
		      const struct ts_meta *m);
/* Takes ownership of the sink (destroyed by ts_pipeline__free). */
int ts_pipeline__add_sink(struct ts_pipeline *p, struct ts_sink sink);
/* Returns 0 or the first sink error (negative errno). */
int ts_pipeline__push(struct ts_pipeline *p, const struct ts_rec *r);
/*
 * Add the tracker stage: records are joined into connections and each
 * finished one goes to the sinks' conn_end.  Records still reach rec.
 */
int ts_pipeline__track(struct ts_pipeline *p, const struct ts_tracker_opts *o);
/*
 * A live source says what time it is (CLOCK_MONOTONIC) before a batch, so
 * that closed connections are emitted even when no later record comes.
 */
void ts_pipeline__set_clock(struct ts_pipeline *p, uint64_t now_ns);
int ts_pipeline__flush(struct ts_pipeline *p);
int ts_pipeline__finish(struct ts_pipeline *p);
/* Warn (stderr) of what the -p hold forgot, if anything. */
void ts_pipeline__warn_forgotten(const struct ts_pipeline *p);
void ts_pipeline__free(struct ts_pipeline *p);

#endif
