// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The libbpf skeleton loader of the snapshot iterators (snapshot_load.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "kernel/probe.h"
#include "kernel/snapshot_load.h"
#include "core/util/log.h"
#include "snapshot.skel.h"

struct ts_snap_libbpf {
	struct snapshot_bpf *skel;
	struct bpf_link *tcp_link;
	struct bpf_link *files_link;
};

/* Open and load, with or without the cookie helper. */
static int load(const struct ts_snap_want *w, bool cookie_helper,
		struct snapshot_bpf **out)
{
	struct snapshot_bpf *skel;
	int err;

	skel = snapshot_bpf__open();
	if (!skel)
		return -errno;
	bpf_program__set_autoload(skel->progs.snap_tcp, cookie_helper);
	bpf_program__set_autoload(skel->progs.snap_tcp_nocookie, !cookie_helper);
	bpf_program__set_autoload(skel->progs.snap_files, w->files);
	skel->rodata->want_cookie = w->cookies;
	skel->rodata->want_timers = w->timers;
	skel->rodata->want_inode = w->inodes;
	skel->rodata->test_no_bpf_loop = w->test_no_bpf_loop;
	err = snapshot_bpf__load(skel);
	if (err) {
		snapshot_bpf__destroy(skel);
		return err;
	}
	*out = skel;
	return 0;
}

static int attach(struct ts_snap_libbpf *l, const struct ts_snap_want *w,
		  bool cookie_helper)
{
	int err;

	l->tcp_link = bpf_program__attach_iter(
		cookie_helper ? l->skel->progs.snap_tcp :
				l->skel->progs.snap_tcp_nocookie, NULL);
	if (!l->tcp_link) {
		err = -errno;
		ts_err("cannot attach the iter/tcp program: %s", strerror(-err));
		return err;
	}
	if (w->files) {
		l->files_link = bpf_program__attach_iter(l->skel->progs.snap_files, NULL);
		if (!l->files_link) {
			err = -errno;
			ts_err("cannot attach the iter/task_file program: %s",
			       strerror(-err));
			return err;
		}
	}
	return 0;
}

int ts_snap_libbpf__open(const struct ts_snap_want *w, struct ts_snap_libbpf **out,
			 int *tcp_fd, int *files_fd, bool *cookie_helper)
{
	struct ts_snap_libbpf *l;
	int err;

	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	/* bpf_get_socket_cookie() in tracing programs needs 5.12+; older
	 * kernels reject the program and get the cached cookie instead. */
	*cookie_helper = true;
	err = load(w, true, &l->skel);
	if (err) {
		ts_info("iter/tcp with bpf_get_socket_cookie() did not load (%s); reading cached cookies",
			strerror(-err));
		*cookie_helper = false;
		err = load(w, false, &l->skel);
	}
	/* Say why when the kernel lacks the iterators; checked only now, as
	 * reading the kernel's BTF costs a good part of a snapshot's time. */
	if (err && !ts_probe__iterators(w->files))
		ts_err("cannot load the snapshot iterators: %s (-v says more)",
		       strerror(-err));
	if (!err)
		err = attach(l, w, *cookie_helper);
	if (err) {
		ts_snap_libbpf__free(l);
		return err;
	}
	*tcp_fd = bpf_link__fd(l->tcp_link);
	*files_fd = l->files_link ? bpf_link__fd(l->files_link) : -1;
	*out = l;
	return 0;
}

void ts_snap_libbpf__free(struct ts_snap_libbpf *l)
{
	if (!l)
		return;
	bpf_link__destroy(l->files_link);
	bpf_link__destroy(l->tcp_link);
	snapshot_bpf__destroy(l->skel);
	free(l);
}

const void *ts_snap_libbpf__elf(size_t *len)
{
	return snapshot_bpf__elf_bytes(len);
}
