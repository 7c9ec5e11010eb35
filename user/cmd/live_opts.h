/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The options of the commands that trace live (trace, record): one argp
 * child, next to the filter child (filter_opts.h), parsing --ring-size,
 * --tp-mode, --flush-ms, --no-drops, -d, -v, -w and --force into one struct.
 */
#ifndef TS_LIVE_OPTS_H
#define TS_LIVE_OPTS_H

#include <argp.h>
#include <stdint.h>
#include "cmd/capture.h"
#include "kernel/loader.h"

struct ts_live_opts {
	uint64_t ring_bytes;
	uint64_t flush_ms;	/* longest wait between two drains */
	uint64_t duration_ns;	/* 0: until Ctrl-C */
	enum ts_tp_mode mode;
	bool no_drops; /* --no-drops */
	bool no_accept; /* --no-accept */
	struct ts_capture_opts cap; /* -w, --force (record adds --max-size) */
};

/* The defaults (16M ring, 100 ms flush). */
void ts_live_opts__init(struct ts_live_opts *o);
/* What the loader needs from them and the filters. */
void ts_live_opts__loader(const struct ts_live_opts *o, const struct ts_filter *f,
			  struct ts_loader_opts *out);

/* An argp child; its input must point at a struct ts_live_opts. */
extern const struct argp ts_live_argp;

#endif
