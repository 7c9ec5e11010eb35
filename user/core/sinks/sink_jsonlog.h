/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The per-connection JSON objects of 'trace --timeline --json', written to
 * a file for log pipelines (Vector, Fluent Bit, Loki): size-based rotation
 * (FILE -> FILE.1 -> ... FILE.keep) at object boundaries, and reopening
 * on request (SIGHUP, after logrotate moved the file away).
 */
#ifndef TS_SINK_JSONLOG_H
#define TS_SINK_JSONLOG_H

#include <stdbool.h>
#include <stdint.h>
#include "core/stream/pipeline.h"

struct ts_jsonlog_opts {
	const char *path;  /* "-": stdout, never rotated */
	uint64_t max_size; /* bytes; 0: no rotation by size */
	uint32_t keep;	   /* rotated files kept (FILE.1 ... FILE.keep) */
};

struct ts_jsonlog;

/* Opens the file (appending, mode 0640, no symlink followed); 0 or -errno. */
int ts_jsonlog__new(const struct ts_jsonlog_opts *o, const struct ts_meta *m,
		    struct ts_jsonlog **out);
/* A sink writing to l (needs ts_pipeline__track); once added, the
 * pipeline owns l. */
int ts_sink_jsonlog__new(struct ts_sink *out, struct ts_jsonlog *l);
/* Close and open the path again.  0 or -errno (the objects that follow
 * are dropped and counted until a reopen succeeds). */
int ts_jsonlog__reopen(struct ts_jsonlog *l);
/* Objects not written because the file could not be opened or written. */
uint64_t ts_jsonlog__dropped(const struct ts_jsonlog *l);
uint64_t ts_jsonlog__rotations(const struct ts_jsonlog *l);
/* Close and free l (one that no pipeline owns). */
void ts_jsonlog__free(struct ts_jsonlog *l);

#endif
