// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tcpscope snapshot: a netstat-style picture of the TCP sockets, taken with
 * BPF iterators instead of /proc/net/tcp or sock_diag.
 *
 *  - iter/tcp (Linux 5.9+) walks the listening and established hash tables
 *    of the network namespace the iterator was created in; every socket
 *    becomes one fixed-size struct ts_snap_sock.  The three kinds of entry
 *    (full socket, TIME_WAIT, request socket) are told apart by state and
 *    cast with the bpf_skc_to_*() helpers, which check the cast.
 *  - iter/task_file (Linux 5.8+) walks every process's open files and emits
 *    the inode of each socket with the owning pid and command, so user
 *    space can fill netstat's PID/Program name column without /proc.
 *
 * Two iter/tcp programs exist: snap_tcp asks bpf_get_socket_cookie() for the
 * cookie (tracing programs have it since Linux 5.12), snap_tcp_nocookie reads
 * the cached cookie for older kernels (0 when nobody asked for it yet).
 * User space loads the first one that the kernel accepts.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "snapshot.h"
#include "core_fixes.bpf.h"

#define AF_INET 2
#define AF_INET6 10
#define S_IFMT 00170000
#define S_IFSOCK 0140000

/* include/net/tcp_states.h */
#define TCP_TIME_WAIT 6
#define TCP_SYN_RECV 3
#define TCP_LISTEN 10
#define TCP_NEW_SYN_RECV 12

/* include/net/inet_connection_sock.h: what icsk_pending holds. */
#define ICSK_TIME_RETRANS 1
#define ICSK_TIME_PROBE0 3
#define ICSK_TIME_LOSS_PROBE 5
#define ICSK_TIME_REO_TIMEOUT 6

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Ask for socket cookies (they cost an atomic operation on sockets that
 * have none yet); the text table does not show them.  Set before load. */
const volatile bool want_cookie = true;
/* Timers and the inode cost cache misses on every socket: read them only
 * when they are shown (-o, -e, -p, --json). */
const volatile bool want_timers = true;
const volatile bool want_inode = true;


/* Jiffies left until expires, never negative (as /proc/net/tcp shows). */
static __always_inline __s32 left(unsigned long expires, __u64 now)
{
	long d = (long)(expires - (unsigned long)now);

	if (d < 0)
		return 0;
	if (d > 0x7fffffff)
		return 0x7fffffff;
	return (__s32)d;
}

/* What sock_i_ino() returns: the inode of the socket's file, 0 if none. */
static __always_inline __u64 sock_inode(struct sock *sk)
{
	struct socket *so;

	/* Recent kernels cache it in the sock (sk_ino); before, it lives in
	 * the socket's vfs inode, next to struct socket in socket_alloc. */
	if (bpf_core_field_exists(sk->sk_ino))
		return sk->sk_ino;
	so = sk->sk_socket;
	if (!so)
		return 0;
	return BPF_CORE_READ(container_of(so, struct socket_alloc, socket),
			     vfs_inode.i_ino);
}

static __always_inline void fill_full(struct ts_snap_sock *r,
				      struct tcp_sock *tp, __u64 now)
{
	struct inet_connection_sock *icsk = &tp->inet_conn;
	struct sock *sk = &icsk->icsk_inet.sk;
	unsigned long expires;
	__u8 pending;
	int rq;

	if (r->state == TCP_LISTEN) {
		/* netstat: accept backlog and its limit. */
		r->recv_q = sk->sk_ack_backlog;
		r->send_q = sk->sk_max_ack_backlog;
	} else {
		rq = (int)(tp->rcv_nxt - tp->copied_seq);
		r->recv_q = rq < 0 ? 0 : rq;
		r->send_q = tp->write_seq - tp->snd_una;
	}
	if (want_inode)
		r->inode = sock_inode(sk);
	if (!want_timers)
		return;

	pending = icsk->icsk_pending;
	expires = tcp_rtx_timer_expires(sk);

	if (pending == ICSK_TIME_RETRANS || pending == ICSK_TIME_REO_TIMEOUT ||
	    pending == ICSK_TIME_LOSS_PROBE) {
		r->timer = TS_SNAP_TIMER_ON;
		r->timer_jiffies = left(expires, now);
	} else if (pending == ICSK_TIME_PROBE0) {
		r->timer = TS_SNAP_TIMER_PROBE;
		r->timer_jiffies = left(expires, now);
	} else {
		struct timer_list *ka = tcp_keepalive_timer(sk);

		/* timer_pending(): the keepalive timer is armed. */
		if (ka->entry.pprev) {
			r->timer = TS_SNAP_TIMER_KEEPALIVE;
			r->timer_jiffies = left(ka->expires, now);
		}
	}
	r->retransmits = icsk->icsk_retransmits;
	r->probes = icsk->icsk_probes_out;
}

static __always_inline int dump_tcp(struct bpf_iter__tcp *ctx, bool helper_cookie)
{
	struct sock_common *skc = ctx->sk_common;
	struct seq_file *seq = ctx->meta->seq;
	struct ts_snap_sock r = {};
	__u64 now = bpf_jiffies64();

	if (!skc) {
		/* The iterator stops: end the stream. */
		struct ts_snap_end e = {};

		e.type = TS_SNAP_END;
		e.version = TS_SNAP_VERSION;
		e.rec_size = sizeof(r);
		e.jiffies = now;
		e.mono_ns = bpf_ktime_get_ns();
		bpf_seq_write(seq, &e, sizeof(e));
		return 0;
	}
	if (skc->skc_family == AF_INET)
		r.family = 4;
	else if (skc->skc_family == AF_INET6)
		r.family = 6;
	else
		return 0;

	r.type = TS_SNAP_SOCK;
	r.state = skc->skc_state;
	r.sport = skc->skc_num;
	r.dport = bpf_ntohs(skc->skc_dport);
	r.uid = ctx->uid;
	/* Direct loads from the iterator's socket pointer: much cheaper
	 * than bpf_probe_read_kernel() calls, and checked by the verifier. */
	if (r.family == 4) {
		__builtin_memcpy(r.saddr, &skc->skc_rcv_saddr, 4);
		__builtin_memcpy(r.daddr, &skc->skc_daddr, 4);
	} else {
		__builtin_memcpy(r.saddr, &skc->skc_v6_rcv_saddr, 16);
		__builtin_memcpy(r.daddr, &skc->skc_v6_daddr, 16);
	}

	/*
	 * The casts check the kind of socket; should one fail, the row keeps
	 * what sock_common says rather than vanishing from the table.
	 */
	if (r.state == TCP_TIME_WAIT) {
		struct tcp_timewait_sock *tw = bpf_skc_to_tcp_timewait_sock(skc);

		r.timer = TS_SNAP_TIMER_TIMEWAIT;
		if (tw) {
			/* An orphan closed in FIN_WAIT2 waits in a timewait
			 * socket too; its substate says which (ss shows it,
			 * /proc does not). */
			r.state = tw->tw_sk.tw_substate;
			r.timer_jiffies = left(tw->tw_sk.tw_timer.expires, now);
		}
	} else if (r.state == TCP_NEW_SYN_RECV) {
		struct tcp_request_sock *treq = bpf_skc_to_tcp_request_sock(skc);

		/* netstat and ss show request sockets as SYN_RECV. */
		r.state = TCP_SYN_RECV;
		r.timer = TS_SNAP_TIMER_ON;
		if (treq) {
			struct request_sock *req = &treq->req.req;

			r.timer_jiffies = left(req->rsk_timer.expires, now);
			r.retransmits = BPF_CORE_READ_BITFIELD(req, num_timeout);
		}
	} else {
		struct tcp_sock *tp = bpf_skc_to_tcp_sock(skc);

		if (tp)
			fill_full(&r, tp, now);
	}

	if (!want_cookie) {
		r.cookie = 0;
	} else if (helper_cookie) {
		r.cookie = bpf_get_socket_cookie(skc);
	} else {
		/* Set once someone asked for it (the tracer does). */
		r.cookie = BPF_CORE_READ(skc, skc_cookie.counter);
	}
	if (r.cookie)
		r.flags |= TS_SNAP_F_COOKIE;
	bpf_seq_write(seq, &r, sizeof(r));
	return 0;
}

SEC("iter/tcp")
int snap_tcp(struct bpf_iter__tcp *ctx)
{
	return dump_tcp(ctx, true);
}

SEC("iter/tcp")
int snap_tcp_nocookie(struct bpf_iter__tcp *ctx)
{
	return dump_tcp(ctx, false);
}

SEC("iter/task_file")
int snap_files(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct ts_snap_file r;
	struct inode *inode;

	if (!task || !file)
		return 0;
	/*
	 * Every socket file, TCP or not: user space joins them with the
	 * snapshot by inode, so checking the protocol here would only cost
	 * pointer chasing through private_data (bpf_probe_read_kernel, the
	 * main cost of this program when it was done).
	 */
	inode = file->f_inode;
	if (!inode || (inode->i_mode & S_IFMT) != S_IFSOCK)
		return 0;
	r.inode = inode->i_ino;
	r.pid = task->tgid;
	r.fd = ctx->fd;
	__builtin_memcpy(r.comm, task->comm, sizeof(r.comm));
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}
