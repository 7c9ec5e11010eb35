/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * How live tracing starts and ends (trace, record).  The programs are
 * loaded and attached, then one snapshot of the sockets that already exist
 * is taken, so that nothing happens unseen between the two.  That one
 * snapshot seeds the owners of older listeners, becomes the capture's
 * initial snapshot (-w) and the table of trace --snapshot.  Then the
 * capture sink (-w) joins the pipeline and the live source opens.
 */
#ifndef TS_STARTUP_H
#define TS_STARTUP_H

#include <stddef.h>
#include "cmd/live_opts.h"
#include "core/sinks/sink_capture.h"
#include "core/sock/sock.h"
#include "core/stream/pipeline.h"
#include "kernel/loader.h"
#include "kernel/snapshot.h"
#include "kernel/source_live.h"

struct ts_startup {
	struct ts_loader *loader;
	struct ts_sock *socks; /* the startup snapshot, not filtered */
	size_t nsocks;
	/* Why there is no snapshot: -ENOENT when no file names the
	 * filter's namespace, another -errno after an error line. */
	int snap_err;
	struct ts_capsink *cap; /* with -w */
	struct ts_live *live;
};

/*
 * Open the loader, take the snapshot (with snap, when the caller keeps
 * one, else a one-shot snapshotter of the filter's namespace), seed the
 * listener owners, add the capture sink to p (o->cap.path set) and open
 * the live source on p.  argv is the command's, for the capture header.
 * 0, or -errno after one line saying what failed; what was set up is in
 * *st either way, for ts_startup__end().
 */
int ts_startup__begin(struct ts_startup *st, const struct ts_live_opts *o,
		      const struct ts_filter *f, int argc, char **argv,
		      struct ts_pipeline *p, struct ts_snapshotter *snap);
/* Warn about malformed records, close the live source and the loader. */
void ts_startup__end(struct ts_startup *st);

#endif
