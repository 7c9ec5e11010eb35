/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The live source: drains the ring buffer in batches, decodes records and
 * feeds them to a pipeline, then reports losses and flushes the sinks.
 */
#ifndef TS_SOURCE_LIVE_H
#define TS_SOURCE_LIVE_H

#include <stdbool.h>
#include <stdint.h>
#include "core/stream/pipeline.h"
#include "kernel/loader.h"

struct ts_live;

int ts_live__new(struct ts_loader *l, struct ts_pipeline *p,
		 struct ts_live **out);
/*
 * Wait up to timeout_ms for the BPF side's wakeup (it wakes us only when a
 * backlog builds up; records already waiting do not end the wait), then
 * drain the ring until it is empty or DRAIN_BATCHES batches were taken
 * (the next call then does not wait), push loss records and flush.
 * Returns the number of records pushed, or a negative errno.
 */
int ts_live__poll(struct ts_live *lv, int timeout_ms);
/* How ts_live__run() goes on. */
struct ts_live_run_opts {
	int poll_ms;		/* longest wait between two drains */
	uint64_t duration_ns;	/* 0: until Ctrl-C or SIGTERM */
	uint64_t tick_ns;	/* 0: no tick */
	/* Called every tick_ns (trace --interval); an error ends the run. */
	int (*tick)(void *ctx);
	/* Asked after every poll; true ends the run (a capture that stopped). */
	bool (*stop)(void *ctx);
	void *ctx;
};

/*
 * Drain the ring buffer into the pipeline until Ctrl-C or SIGTERM, the
 * duration, or o->stop; then drain what is left, which belongs to this run.
 * Returns 0, or a negative errno after one line saying what failed.
 */
int ts_live__run(struct ts_live *lv, const struct ts_live_run_opts *o);

/* Records that failed to decode (counted, never shown as events). */
uint64_t ts_live__bad_records(const struct ts_live *lv);
/* The losses by cause as counted in the stream (a skipped run counts once
 * it was still not taken over at the next look). */
int ts_live__losses(const struct ts_live *lv, struct ts_losses *out);
void ts_live__free(struct ts_live *lv);

#endif
