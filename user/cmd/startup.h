/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * How live tracing starts (trace, record): the programs are loaded and
 * attached, then one snapshot of the sockets that already exist is taken,
 * so that nothing happens unseen between the two.  That one snapshot
 * seeds the owners of older listeners, becomes the capture's initial
 * snapshot (-w) and the table of trace --snapshot.
 */
#ifndef TS_STARTUP_H
#define TS_STARTUP_H

#include <stddef.h>
#include "core/sock/sock.h"
#include "kernel/loader.h"
#include "kernel/snapshot.h"

struct ts_startup {
	struct ts_loader *loader;
	struct ts_sock *socks; /* the startup snapshot, not filtered */
	size_t nsocks;
	/* Why there is no snapshot: -ENOENT when no file names the
	 * filter's namespace, another -errno after an error line. */
	int snap_err;
};

/*
 * Open the loader, take the snapshot (with snap, when the caller keeps
 * one, else a one-shot snapshotter of the filter's namespace) and seed the
 * listener owners.  0, or -errno when the programs could not be loaded
 * (one line said why); a failed snapshot is only remembered.
 */
int ts_startup__begin(struct ts_startup *st, const struct ts_loader_opts *lo,
		      struct ts_snapshotter *snap);
void ts_startup__end(struct ts_startup *st);

#endif
