/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Recording to a capture file, shared by 'record' and 'trace -w': the
 * options, the initial socket snapshot, and the capture sink added to a
 * pipeline.
 */
#ifndef TS_CAPTURE_H
#define TS_CAPTURE_H

#include "core/stream/pipeline.h"
#include "core/sinks/sink_capture.h"
#include <stdbool.h>
#include <stdint.h>

struct ts_capture_opts {
	const char *path; /* NULL: no recording */
	bool force;	  /* replace an existing file */
	uint64_t max_bytes;
};

/*
 * Refuse early (before the programs load) a FILE that exists without
 * --force.  Only a courtesy: ts_capture__attach creates with O_EXCL.
 */
int ts_capture__precheck(const struct ts_capture_opts *o);

/*
 * Take the initial snapshot, create the file and add the capture sink to
 * p.  Call it after the programs are attached, so that nothing happens
 * between the snapshot and the first recorded event unseen.  Prints one
 * line on failure.  argv is the command's (argv[0] is its name).
 */
int ts_capture__attach(const struct ts_capture_opts *o, int argc, char **argv,
		      const struct ts_filter *f, struct ts_pipeline *p, struct ts_capsink **out);

/*
 * The sockets that exist when recording begins, for the capture's
 * snapshot section.  For now this collects nothing: the lead wires the
 * BPF iterator collector (issue 5's ts_snapshot__collect) in here at merge.
 */
int ts_capture__initial_snapshot(const struct ts_filter *f, struct ts_sock **out, size_t *n);

#endif
