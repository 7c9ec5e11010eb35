/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The snapshot iterators through their light skeleton: a loader program
 * creates the maps and loads the programs with CO-RE done by the kernel
 * (Linux 5.17+), so user space never parses the kernel's BTF, the largest
 * part of starting a snapshot with libbpf.  Older kernels refuse it; the
 * caller then falls back to the libbpf skeleton.
 */
#ifndef TS_SNAPSHOT_LSKEL_H
#define TS_SNAPSHOT_LSKEL_H

#include <stdbool.h>

struct ts_snap_lskel;

/* What the iterators read (rodata of snapshot.bpf.c). */
struct ts_snap_want {
	bool cookies;
	bool timers;
	bool inodes;
	bool files; /* load and attach iter/task_file too */
};

/*
 * Load and create the iterator links; the link fds stay owned by *out.
 * *files_fd is -1 unless w->files.  0 or -errno.
 */
int ts_snap_lskel__open(const struct ts_snap_want *w, struct ts_snap_lskel **out,
		       int *tcp_fd, int *files_fd);
void ts_snap_lskel__free(struct ts_snap_lskel *l);

#endif
