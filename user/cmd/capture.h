/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Recording to a capture file, shared by 'record' and 'trace -w': the
 * options, and the capture sink added to a pipeline.
 */
#ifndef TS_CAPTURE_H
#define TS_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>
#include "core/sock/sock.h"
#include "core/stream/pipeline.h"
#include "core/sinks/sink_capture.h"

struct ts_capture_opts {
	const char *path; /* NULL: no recording */
	bool force;	  /* replace an existing file */
	uint64_t max_bytes;
	uint32_t format; /* capture format version; 0: the newest (record --format) */
};

/*
 * Refuse early (before the programs load) a FILE that exists without
 * --force.  Only a courtesy: ts_capture__attach creates with O_EXCL.
 */
int ts_capture__precheck(const struct ts_capture_opts *o);

/*
 * Create the file with socks as its initial snapshot (startup.c passes
 * the startup snapshot's sockets that pass f) and add the capture sink
 * to p.  Prints one line on failure.  argv is the command's (argv[0] is
 * its name).
 */
int ts_capture__attach(const struct ts_capture_opts *o, int argc, char **argv,
		       const struct ts_filter *f, const struct ts_sock *socks,
		       size_t nsocks, struct ts_pipeline *p, struct ts_capsink **out);

#endif
