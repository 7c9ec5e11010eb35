// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cmd/startup.h"
#include "core/util/log.h"

/* After the attach: an event from now on is traced, an older socket is
 * in the snapshot. */
static void take_snapshot(struct ts_startup *st, const struct ts_filter *f,
			  struct ts_snapshotter *snap)
{
	st->snap_err = snap ? ts_snapshotter__collect(snap, &st->socks, &st->nsocks) :
			      ts_snapshot__collect_in(f->netns, true, &st->socks,
						      &st->nsocks);
	/* Best effort: without a snapshot, such passive connections get
	 * their owner when the server closes them. */
	if (st->snap_err)
		ts_info("owners of existing listeners not known (%s)",
			strerror(-st->snap_err));
	else
		ts_loader__seed(st->loader, st->socks, st->nsocks);
}

/* -w: the capture starts with the snapshot's sockets that pass f. */
static int start_capture(struct ts_startup *st, const struct ts_live_opts *o,
			 const struct ts_filter *f, int argc, char **argv,
			 struct ts_pipeline *p)
{
	struct ts_sock *socks = NULL;
	size_t n = 0;
	int err = 0;

	if (st->snap_err == -ENOENT) {
		ts_warn("no file names network namespace %u: the capture starts without a snapshot",
			f->netns);
	} else if (st->snap_err) {
		err = st->snap_err;
	} else {
		err = ts_filter_socks_copy(f, st->socks, st->nsocks, &socks, &n);
	}
	if (err) {
		ts_err("cannot take the initial socket snapshot: %s", strerror(-err));
		return err;
	}
	err = ts_capture__attach(&o->cap, argc, argv, f, socks, n, p, &st->cap);
	free(socks);
	return err;
}

int ts_startup__begin(struct ts_startup *st, const struct ts_live_opts *o,
		      const struct ts_filter *f, int argc, char **argv,
		      struct ts_pipeline *p, struct ts_snapshotter *snap)
{
	struct ts_loader_opts lo;
	int err;

	*st = (struct ts_startup){};
	ts_live_opts__loader(o, f, &lo);
	err = ts_loader__open(&lo, &st->loader);
	if (err)
		return err;
	take_snapshot(st, f, snap);
	if (o->cap.path) {
		err = start_capture(st, o, f, argc, argv, p);
		if (err)
			return err;
	}
	return ts_live__new(st->loader, p, &st->live);
}

void ts_startup__end(struct ts_startup *st)
{
	if (st->live && ts_live__bad_records(st->live))
		ts_warn("%llu malformed records skipped",
			(unsigned long long)ts_live__bad_records(st->live));
	ts_live__free(st->live);
	ts_loader__free(st->loader);
	free(st->socks);
	*st = (struct ts_startup){};
}
