// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>
#include "cmd/startup.h"
#include "core/util/log.h"

int ts_startup__begin(struct ts_startup *st, const struct ts_loader_opts *lo,
		      struct ts_snapshotter *snap)
{
	int err;

	*st = (struct ts_startup){};
	err = ts_loader__open(lo, &st->loader);
	if (err)
		return err;
	/* After the attach: an event from now on is traced, an older socket
	 * is in the snapshot. */
	st->snap_err = snap ? ts_snapshotter__collect(snap, &st->socks, &st->nsocks) :
			      ts_snapshot__collect_in(lo->filter.netns, true, &st->socks,
						      &st->nsocks);
	/* Best effort: without a snapshot, such passive connections get
	 * their owner when the server closes them. */
	if (st->snap_err)
		ts_info("owners of existing listeners not known (%s)",
			strerror(-st->snap_err));
	else
		ts_loader__seed(st->loader, st->socks, st->nsocks);
	return 0;
}

void ts_startup__end(struct ts_startup *st)
{
	ts_loader__free(st->loader);
	free(st->socks);
	*st = (struct ts_startup){};
}
