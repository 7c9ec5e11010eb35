/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Take a netstat-style snapshot of the TCP sockets with the BPF iterators
 * of snapshot.bpf.c, loaded by the light skeleton (snapshot_lskel.c) or
 * libbpf's (snapshot_libbpf.c, the only file that knows it), or opened from
 * bpffs pins (snapshot_pin.c).
 */
#ifndef TS_SNAPSHOT_H
#define TS_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/sock/sock.h"

/* How the iterators are loaded. */
enum ts_snap_loader {
	TS_SNAP_LOADER_AUTO = 0, /* light, else libbpf */
	TS_SNAP_LOADER_LIGHT,	 /* light skeleton: CO-RE in the kernel, 5.17+ */
	TS_SNAP_LOADER_LIBBPF,	 /* libbpf skeleton: CO-RE in user space */
};

struct ts_snapshot_opts {
	/* A network namespace file (/run/netns/x, /proc/PID/ns/net); NULL
	 * for the namespace tcpscope runs in. */
	const char *netns_path;
	/* Fill pid and comm from the iter/task_file iterator. */
	bool pids;
	/* Leave cookies 0 (saves generating one for every socket that has
	 * none yet; the text table does not show them). */
	bool skip_cookies;
	/* Leave timers (and retransmits, probes) or inodes out: each costs
	 * cache misses on every socket.  Inodes are read anyway with pids. */
	bool skip_timers;
	bool skip_inodes;
	/* Reuse the iterators pinned in bpffs, or pin them (snapshot_pin.h). */
	bool pin;
	enum ts_snap_loader loader;
};

struct ts_snapshotter;

/* Load and attach the iterators once; collect as often as needed.  All
 * return 0 or a negative errno after printing one line saying why. */
int ts_snapshotter__new(const struct ts_snapshot_opts *o,
			struct ts_snapshotter **out);
/* A fresh array of sockets in *out (free() it), in iterator order. */
int ts_snapshotter__collect(struct ts_snapshotter *s, struct ts_sock **out,
			    size_t *n);
void ts_snapshotter__free(struct ts_snapshotter *s);
/* How the iterators were loaded: "light skeleton", "libbpf" or "pinned". */
const char *ts_snapshotter__loader_name(const struct ts_snapshotter *s);
/* Socket cookies from bpf_get_socket_cookie() (else the cached ones). */
bool ts_snapshotter__cookie_helper(const struct ts_snapshotter *s);

/* One-shot: new, collect, free. */
int ts_snapshot__collect(const struct ts_snapshot_opts *o, struct ts_sock **out,
			size_t *n);

/*
 * The iterators see the namespace of the process that creates them, so a
 * filter's namespace (an inode) needs a file naming it: an entry of
 * /run/netns, else /proc/PID/ns/net of a process living in it.  -ENOENT
 * when none does.
 */
int ts_netns_path(uint32_t ino, char *buf, size_t len);
/* One-shot snapshot of namespace netns (0: ours); -ENOENT as above. */
int ts_snapshot__collect_in(uint32_t netns, bool pids, struct ts_sock **out,
			   size_t *n);

#endif
