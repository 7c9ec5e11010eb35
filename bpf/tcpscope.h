/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one ABI shared by the BPF programs and user space.
 *
 * Every ring-buffer record starts with a one-byte type.  Fields are
 * fixed-width, ports are in host byte order, addresses are raw network-order
 * bytes (IPv4 in the first four bytes), times are CLOCK_MONOTONIC
 * nanoseconds as bpf_ktime_get_ns() returns them.
 */
#ifndef TCPSCOPE_H
#define TCPSCOPE_H

#ifndef __VMLINUX_H__ /* user space; BPF code gets the types from vmlinux.h */
#include <linux/types.h>
#endif

#define TS_COMM_LEN 16
#define TS_ADDR_LEN 16

/* Kernel TCP states (include/net/tcp_states.h); values are kernel ABI. */
enum ts_tcp_state {
	TS_ESTABLISHED = 1,
	TS_SYN_SENT = 2,
	TS_SYN_RECV = 3,
	TS_FIN_WAIT1 = 4,
	TS_FIN_WAIT2 = 5,
	TS_TIME_WAIT = 6,
	TS_CLOSE = 7,
	TS_CLOSE_WAIT = 8,
	TS_LAST_ACK = 9,
	TS_LISTEN = 10,
	TS_CLOSING = 11,
	TS_NEW_SYN_RECV = 12,
	TS_STATE_MAX = 13,
};

enum ts_rec_type {
	TS_REC_STATE = 1,	  /* sock:inet_sock_set_state */
	TS_REC_RETRANS = 2,	  /* tcp:tcp_retransmit_skb */
	TS_REC_SYNACK_RETRANS = 3, /* tcp:tcp_retransmit_synack (request sock) */
	TS_REC_RESET_SENT = 4,	  /* tcp:tcp_send_reset */
	TS_REC_RESET_RECV = 5,	  /* tcp:tcp_receive_reset */
	TS_REC_DROP = 6,	  /* skb:kfree_skb of a TCP segment (struct ts_drop) */
	/* Records below are made in user space, never by BPF. */
	TS_REC_LOST = 64, /* ring-buffer reservations that failed */
	/* Drop records the kernel's bucket held back (TS_DROP_BURST). */
	TS_REC_DROP_SUPPRESSED = 65,
};

/* ts_event.flags */
enum ts_event_flags {
	/* The owner was inherited from the listening socket (passive open). */
	TS_F_OWNER_LISTENER = 1 << 0,
	/* First event of this connection seen by the tracer. */
	TS_F_FIRST = 1 << 1,
	/* No owner is known (socket predates tracing, or sk is NULL). */
	TS_F_NO_OWNER = 1 << 2,
	/*
	 * The peer's FIN has been received (SOCK_DONE, which only tcp_fin()
	 * sets; RCV_SHUTDOWN is no proof: close() sets it on every socket).
	 */
	TS_F_FIN_RCVD = 1 << 3,
	/* sk_shutdown had SEND_SHUTDOWN: our FIN has been queued. */
	TS_F_FIN_SENT = 1 << 4,
	/* The record is a struct ts_close (a ts_event then ts_tcp_stats). */
	TS_F_STATS = 1 << 5,
	/* SOCK_DEAD: the application has closed the socket (orphaned). */
	TS_F_ORPHAN = 1 << 6,
	/*
	 * The owner is the process that accept()ed this passive connection
	 * (records before it carry the listener's owner, TS_F_OWNER_LISTENER).
	 */
	TS_F_ACCEPTED = 1 << 7,
};

/*
 * One record for state changes, retransmissions, resets and destroy.
 * For TS_REC_STATE old_state -> new_state; for the others both hold the
 * state the socket was in.  ns_in_old is the time since the previous state
 * change of this connection (0 when unknown).
 */
struct ts_event {
	__u8 type;
	__u8 family; /* 4 or 6 */
	__u8 old_state;
	__u8 new_state;
	__u16 sport; /* local port */
	__u16 dport; /* remote port */
	__u32 pid;   /* owner process (tgid), 0 unknown */
	__u32 netns; /* network namespace inode number */
	__u64 ts_ns;
	__u64 conn; /* connection id: socket cookie, or kernel-assigned */
	__u64 ns_in_old;
	__u8 saddr[TS_ADDR_LEN];
	__u8 daddr[TS_ADDR_LEN];
	char comm[TS_COMM_LEN];
	__u8 flags;
	/*
	 * What follows the event (enum ts_detail): flags had no bit left, so
	 * the kind of the tail is named here; TS_F_STATS stays as it was.
	 */
	__u8 detail;
	/*
	 * TS_REC_RESET_SENT: the kernel's enum sk_rst_reason + 1 (6.10+), 0
	 * when the kernel gives none; rst_hint what the socket said then.
	 */
	__u8 rst_reason;
	__u8 rst_hint; /* enum ts_rst_hint */
	__u8 pad[4];
	/* The owner's cgroup (v2 id, bpf_get_current_cgroup_id()); 0 unknown. */
	__u64 cgroup_id;
};

/* ts_event.rst_hint: the socket's fields when it sent a reset. */
enum ts_rst_hint {
	TS_RST_NO_SOCKET = 1 << 0,   /* the segment found no full socket */
	TS_RST_UNREAD = 1 << 1,      /* received data the application never read */
	TS_RST_LINGER0 = 1 << 2,     /* SO_LINGER with a zero timeout */
};

/* ts_drop.dir */
enum ts_drop_dir {
	TS_DROP_IN = 1,	 /* the segment was received (skb->skb_iif set) */
	TS_DROP_OUT = 2, /* the segment was being sent by this host */
};

/*
 * A TCP segment the kernel dropped (skb:kfree_skb with a reason).  The
 * tuple is seen from this host's end: saddr/sport local, as in ts_event.
 * conn is the id of the socket the kernel gave (0: none known); user space
 * then joins by addresses.
 */
struct ts_drop {
	__u8 type; /* TS_REC_DROP */
	__u8 family;
	__u8 dir;	/* enum ts_drop_dir */
	__u8 tcp_flags; /* the segment's flags byte (FIN 0x01 ... CWR 0x80) */
	__u16 sport;
	__u16 dport;
	__u32 netns;
	__u32 reason; /* enum skb_drop_reason of the running kernel */
	__u64 ts_ns;
	__u64 conn;
	__u64 location; /* kernel address that dropped it */
	__u32 seq;	/* the segment's sequence number (host order) */
	__u32 ack;
	__u32 len; /* payload bytes */
	__u8 state; /* the socket's state, 0 when no socket was known */
	/* seq_base holds the peer's initial sequence number (an incoming
	 * segment of a full socket): seq - seq_base is Wireshark's relative
	 * sequence number. */
	__u8 has_base;
	__u8 pad[2];
	__u32 seq_base;
	__u32 pad2;
	__u8 saddr[TS_ADDR_LEN];
	__u8 daddr[TS_ADDR_LEN];
};

/*
 * Drop records are bounded in the kernel by a per-CPU token bucket: at
 * most TS_DROP_BURST at once and TS_DROP_PER_SEC a second per CPU; those
 * beyond it are only counted (drop_stats[TS_DSTAT_SUPPRESSED]).
 */
#define TS_DROP_BURST 256
#define TS_DROP_PER_SEC 1000

/* Indexes of the per-CPU drop_stats array. */
enum ts_drop_stat {
	TS_DSTAT_SEEN = 0,	 /* TCP drops that passed the filters */
	TS_DSTAT_SUPPRESSED = 1, /* of which over the bucket: counted only */
	TS_DSTAT_NR = 2,
};

/* Counters read from struct tcp_sock when a connection enters CLOSE. */
struct ts_tcp_stats {
	__u64 bytes_acked;
	__u64 bytes_received;
	__u32 segs_out;
	__u32 segs_in;
	__u32 total_retrans;
	__u32 data_segs_out;
	__u32 srtt_us; /* smoothed RTT in microseconds */
	/*
	 * sk_err when the socket closed: ECONNREFUSED or ECONNRESET/EPIPE
	 * (tcp_reset), ETIMEDOUT (retries exhausted), 0 for a clean close.
	 */
	__u32 err;
};

/* A state change into CLOSE carries the connection's final counters. */
struct ts_close {
	struct ts_event ev; /* ev.flags has TS_F_STATS */
	struct ts_tcp_stats st;
};

/* ts_event.detail: which structure follows the event in the record. */
enum ts_detail {
	TS_DET_NONE = 0,
	TS_DET_RTX = 1, /* struct ts_retrans: ts_rtx_info follows */
	TS_DET_SYNACK = 2, /* struct ts_synack_retrans: ts_synack_info follows */
	TS_DET_HS = 3,	   /* struct ts_state_hs: ts_hs_info follows */
};

/* What the request socket says as a SYN-ACK is sent again. */
struct ts_synack_info {
	/* tcp_rsk(req)->snt_synack: when the first SYN-ACK left, in ns of
	 * CLOCK_MONOTONIC (the kernel keeps microseconds); 0 unknown. */
	__u64 first_synack_ns;
	__u32 num_retrans; /* req->num_retrans: SYN-ACKs sent again before */
	__u32 pad;
};

struct ts_synack_retrans {
	struct ts_event ev; /* TS_REC_SYNACK_RETRANS */
	struct ts_synack_info info;
};

/*
 * A passive connection's SYN_RECV -> ESTABLISHED: what the child socket
 * says of its handshake.  The request socket is gone by then; the child
 * keeps the SYN-ACK's round trip (tcp_synack_rtt_meas(), taken only when
 * no SYN-ACK was sent again) and, in total_retrans, how many were.
 */
struct ts_hs_info {
	__u32 synack_rtt_us;  /* srtt at ESTABLISHED: the SYN-ACK's RTT; 0 none */
	__u32 synack_retrans; /* total_retrans at ESTABLISHED: req->num_retrans */
};

struct ts_state_hs {
	struct ts_event ev; /* SYN_RECV -> ESTABLISHED */
	struct ts_hs_info hs;
};

/* ts_rtx_info.flags */
enum ts_rtx_flags {
	/* isn holds our initial sequence number (seen at the SYN or at
	 * the move to ESTABLISHED, before any data could be acknowledged). */
	TS_RTX_F_ISN = 1 << 0,
	/* rto_us holds the retransmission timeout (the kernel's HZ known). */
	TS_RTX_F_RTO = 1 << 1,
	/* seq/end_seq/tcp_flags/sacked/segs were read from the segment. */
	TS_RTX_F_SKB = 1 << 2,
};

/*
 * What the socket and the segment said when a segment was sent again
 * (tcp:tcp_retransmit_skb).  Raw facts: user space derives the kind
 * (SYN, SYN-ACK, data, FIN) from tcp_flags and the reason (timeout, fast
 * retransmit, tail loss probe) from ca_state and pending.
 */
struct ts_rtx_info {
	__u32 seq;	/* TCP_SKB_CB(skb)->seq: first sequence number */
	__u32 end_seq;	/* ... one past the last (SYN and FIN count one) */
	__u32 isn;	/* our initial sequence number (TS_RTX_F_ISN) */
	__u32 snd_una;	/* oldest unacknowledged sequence number */
	__u32 snd_nxt;	/* next sequence number to send */
	__u32 rto_us;	/* icsk_rto in force, microseconds (TS_RTX_F_RTO) */
	__u32 srtt_us;	/* smoothed RTT, microseconds (0: no sample yet) */
	__u32 total_retrans; /* the socket's count, this one included */
	__u16 segs;	/* segments the skb holds (tcp_skb_pcount) */
	__u8 tcp_flags; /* TCP_SKB_CB(skb)->tcp_flags: FIN 0x01, SYN 0x02, ACK 0x10 */
	__u8 ca_state;	/* icsk_ca_state: 0 Open .. 3 Recovery, 4 Loss */
	__u8 pending;	/* icsk_pending: the timer armed, 0 in the RTO handler */
	__u8 retransmits; /* icsk_retransmits: timeouts of this segment before */
	__u8 backoff;	/* icsk_backoff: doublings of the RTO so far */
	__u8 sacked;	/* TCP_SKB_CB(skb)->sacked (0x10: sent again before) */
	__u8 flags;	/* enum ts_rtx_flags */
	__u8 pad[3];
};

/* A retransmission with its detail (ev.detail == TS_DET_RTX). */
struct ts_retrans {
	struct ts_event ev;
	struct ts_rtx_info info;
};

/*
 * Map of listening sockets: who owns ADDR:PORT in namespace N.  A wildcard
 * listener has an all-zero addr; lookups try the exact address, then the
 * wildcard of the same family (an IPv6 listener's IPv4 clients have
 * v4-mapped addresses, so they find it the same way).
 */
struct ts_listen_key {
	__u32 netns;
	__u16 port;
	__u8 family; /* 4 or 6 */
	__u8 pad;
	__u8 addr[TS_ADDR_LEN];
};

/* A process that holds a socket, as the kernel side records it. */
struct ts_owner {
	__u32 pid;
	__u8 cg_in; /* under the --cgroup filter (1 when there is none) */
	__u8 held;  /* a listener that the -p process holds too */
	__u16 pad;
	char comm[TS_COMM_LEN];
	__u64 cgroup_id;
};

struct ts_listener {
	struct ts_owner owner;
	__u64 sk;  /* the listening socket: only its own close removes it */
	__u64 ino; /* its inode (entries seeded from a snapshot have no sk) */
	__u32 uid; /* the budget this entry is charged to (0: root's) */
	__u32 pad;
};

/*
 * Bounds of the listeners map (a plain hash: nothing is ever evicted).
 * Non-root users together hold at most TS_LISTEN_NONROOT entries and one
 * uid at most TS_LISTEN_PER_UID, so root's servers always find room.
 */
#define TS_LISTEN_MAX 65536
#define TS_LISTEN_NONROOT 32768
#define TS_LISTEN_PER_UID 4096

/*
 * Sockets whose state the btf variant keeps in its preallocated hash
 * (conn_hash, about 170 bytes each); beyond it, socket storage.
 */
#define TS_CONN_HASH_MAX 65536

#endif /* TCPSCOPE_H */
