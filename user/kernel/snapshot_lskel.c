// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The light skeleton loader (snapshot_load.h): kept apart from libbpf.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "kernel/snapshot_load.h"
#include "snapshot.lskel.h"

struct ts_snap_lskel {
	struct snapshot_lskel *skel;
};

int ts_snap_lskel__open(const struct ts_snap_want *w, struct ts_snap_lskel **out,
		       int *tcp_fd, int *files_fd)
{
	struct ts_snap_lskel *l;
	int err, fd;

	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->skel = snapshot_lskel__open();
	if (!l->skel) {
		err = -errno;
		free(l);
		return err ? err : -ENOMEM;
	}
	l->skel->rodata->want_cookie = w->cookies;
	l->skel->rodata->want_timers = w->timers;
	l->skel->rodata->want_inode = w->inodes;
	l->skel->rodata->test_no_bpf_loop = w->test_no_bpf_loop;
	err = snapshot_lskel__load(l->skel);
	if (err)
		goto fail;
	/* The light loader needs a kernel that has the cookie helper for
	 * tracing programs (5.12 < 5.17), so snap_tcp is the one. */
	fd = snapshot_lskel__snap_tcp__attach(l->skel);
	if (fd < 0) {
		err = -errno;
		goto fail;
	}
	*tcp_fd = fd;
	*files_fd = -1;
	if (w->files) {
		fd = snapshot_lskel__snap_files__attach(l->skel);
		if (fd < 0) {
			err = -errno;
			goto fail;
		}
		*files_fd = fd;
	}
	*out = l;
	return 0;
fail:
	snapshot_lskel__destroy(l->skel);
	free(l);
	return err < 0 ? err : -EINVAL;
}

void ts_snap_lskel__free(struct ts_snap_lskel *l)
{
	if (!l)
		return;
	snapshot_lskel__destroy(l->skel);
	free(l);
}
