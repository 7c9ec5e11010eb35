/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The ABI between the snapshot iterators (snapshot.bpf.c) and user space
 * (user/snapshot.c): fixed-size binary records written with bpf_seq_write
 * and read back from the iterator's file descriptor.
 *
 * The iter/tcp stream is one socket record per socket, then one end record
 * (written when the iterator stops, so its presence proves the stream
 * complete), all TS_SNAP_REC_SIZE bytes.  The iter/task_file stream is one
 * struct ts_snap_file per open socket file
 * descriptor (of any protocol: user space joins them by inode).
 * Ports are in host byte order, addresses raw network-order bytes (IPv4 in
 * the first four), like bpf/tcpscope.h.
 */
#ifndef TCPSCOPE_SNAPSHOT_H
#define TCPSCOPE_SNAPSHOT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define TS_SNAP_VERSION 1

enum ts_snap_type {
	TS_SNAP_END = 1,
	TS_SNAP_SOCK = 2,
};

/* Kinds of timer, as netstat -o names them (same values as enum ts_timer). */
enum ts_snap_timer {
	TS_SNAP_TIMER_OFF = 0,
	TS_SNAP_TIMER_ON = 1,
	TS_SNAP_TIMER_KEEPALIVE = 2,
	TS_SNAP_TIMER_TIMEWAIT = 3,
	TS_SNAP_TIMER_PROBE = 4,
};

/* ts_snap_sock.flags */
enum ts_snap_flags {
	TS_SNAP_F_COOKIE = 1 << 0, /* cookie is set (helper or cached value) */
	/* Read from a hash chain: the kernel's iterator skipped it (see
	 * check_skipped() in snapshot.bpf.c); the cookie is the cached one. */
	TS_SNAP_F_RECOVERED = 1 << 1,
};

/* ts_snap_end.flags */
enum ts_snap_end_flags {
	/* The kernel's iterator has the skip of check_skipped(), and the
	 * bucket it may skip was looked at. */
	TS_SNAP_END_F_CHECKED = 1 << 0,
	/* That bucket's chain was longer than this program reads: sockets
	 * of the namespace may be missing. */
	TS_SNAP_END_F_INCOMPLETE = 1 << 1,
};

/* Last record of every iter/tcp stream. */
struct ts_snap_end {
	__u8 type; /* TS_SNAP_END */
	__u8 version;
	__u16 rec_size;
	__u16 flags;	/* enum ts_snap_end_flags */
	__u16 recovered; /* sockets with TS_SNAP_F_RECOVERED in the stream */
	/* The same instant on two clocks: user space infers HZ from them, so
	 * that timer deltas (in jiffies) can be turned into time. */
	__u64 jiffies;
	__u64 mono_ns;
	__u8 pad[56];
};

struct ts_snap_sock {
	__u8 type;	/* TS_SNAP_SOCK */
	__u8 family;	/* 4 or 6 */
	__u8 state;	/* kernel TCP state; request sockets as SYN_RECV (3) */
	__u8 timer;	/* enum ts_snap_timer */
	__u16 sport;
	__u16 dport;
	__u32 recv_q;	/* LISTEN: accept backlog; else unread bytes */
	__u32 send_q;	/* LISTEN: max backlog; else unacknowledged bytes */
	__u32 uid;
	__u32 reserved; /* the namespace is the iterator's: user space knows it */
	__u8 retransmits;
	__u8 probes;
	__u16 flags;	/* enum ts_snap_flags */
	__s32 timer_jiffies; /* time left on the timer, never negative */
	__u64 inode;
	__u64 cookie;
	__u8 saddr[16];
	__u8 daddr[16];
};

#define TS_SNAP_REC_SIZE 80

/* One open socket file of a process (iter/task_file). */
struct ts_snap_file {
	__u64 inode;
	__u32 pid; /* tgid */
	__u32 fd;
	char comm[16];
};

#endif /* TCPSCOPE_SNAPSHOT_H */
