/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The two loaders of the snapshot iterators (snapshot.bpf.c); snapshot.c
 * chooses between them and bpffs pins (snapshot_pin.c).
 *
 * - The light skeleton (snapshot_lskel.c): a loader program creates the
 *   maps and loads the programs with CO-RE done by the kernel (Linux
 *   5.17+), so user space never parses the kernel's BTF, the largest part
 *   of starting a snapshot with libbpf.  Older kernels refuse it.
 * - libbpf's skeleton (snapshot_libbpf.c): CO-RE in user space; on kernels
 *   without bpf_get_socket_cookie() in tracing programs (before 5.12) it
 *   falls back to the program that reads cached cookies.
 *
 * Both leave the iterator link fds owned by their handle.  The light
 * skeleton and libbpf.h do not mix, hence two files.
 */
#ifndef TS_SNAPSHOT_LOAD_H
#define TS_SNAPSHOT_LOAD_H

#include <stdbool.h>
#include <stddef.h>

/* What the iterators read (rodata of snapshot.bpf.c). */
struct ts_snap_want {
	bool cookies;
	bool timers;
	bool inodes;
	bool files; /* load and attach iter/task_file too */
	bool test_no_bpf_loop; /* TCPSCOPE_TEST_NO_BPF_LOOP (docs/DESIGN.md) */
};

struct ts_snap_lskel;
struct ts_snap_libbpf;

/* Load and create the iterator links: 0 with *tcp_fd set, and *files_fd
 * (-1 unless w->files); or -errno, printing nothing. */
int ts_snap_lskel__open(const struct ts_snap_want *w, struct ts_snap_lskel **out,
			int *tcp_fd, int *files_fd);
void ts_snap_lskel__free(struct ts_snap_lskel *l);

/* The same with libbpf, printing one line on failure; *cookie_helper
 * says which iter/tcp program loaded. */
int ts_snap_libbpf__open(const struct ts_snap_want *w, struct ts_snap_libbpf **out,
			 int *tcp_fd, int *files_fd, bool *cookie_helper);
void ts_snap_libbpf__free(struct ts_snap_libbpf *l);
/* The BPF object's bytes (to name the pin directory of this build). */
const void *ts_snap_libbpf__elf(size_t *len);

#endif
