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
/* Test seam (TCPSCOPE_TEST_NO_BPF_LOOP): the walk of recover_bucket() as
 * on kernels without bpf_loop(). */
const volatile bool test_no_bpf_loop = false;


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

/*
 * Socket fields are read two ways: directly from the iterator's socket (a
 * trusted pointer the verifier checks; cheap), or with
 * bpf_probe_read_kernel() from a socket found by walking a hash chain
 * (recover_bucket()).  raw is a constant at every call, so each copy of the
 * code below has one of the two.
 */
#define RD(raw, p, f) ((raw) ? BPF_CORE_READ(p, f) : (p)->f)

/* What sock_i_ino() returns: the inode of the socket's file, 0 if none. */
static __always_inline __u64 sock_inode(struct sock *sk, const bool raw)
{
	struct socket *so;

	/* Recent kernels cache it in the sock (sk_ino); before, it lives in
	 * the socket's vfs inode, next to struct socket in socket_alloc. */
	if (bpf_core_field_exists(sk->sk_ino))
		return RD(raw, sk, sk_ino);
	so = RD(raw, sk, sk_socket);
	if (!so)
		return 0;
	return BPF_CORE_READ(container_of(so, struct socket_alloc, socket),
			     vfs_inode.i_ino);
}

static __always_inline void fill_full(struct ts_snap_sock *r, struct tcp_sock *tp,
				      __u64 now, const bool raw)
{
	struct inet_connection_sock *icsk = &tp->inet_conn;
	struct sock *sk = &icsk->icsk_inet.sk;
	struct timer_list *ka;
	unsigned long expires;
	__u8 pending;
	int rq;

	if (r->state == TCP_LISTEN) {
		/* netstat: accept backlog and its limit. */
		r->recv_q = RD(raw, sk, sk_ack_backlog);
		r->send_q = RD(raw, sk, sk_max_ack_backlog);
	} else {
		rq = (int)(RD(raw, tp, rcv_nxt) - RD(raw, tp, copied_seq));
		r->recv_q = rq < 0 ? 0 : rq;
		r->send_q = RD(raw, tp, write_seq) - RD(raw, tp, snd_una);
	}
	if (want_inode)
		r->inode = sock_inode(sk, raw);
	if (!want_timers)
		return;

	pending = RD(raw, icsk, icsk_pending);
	expires = tcp_rtx_timer_expires(sk, raw);

	if (pending == ICSK_TIME_RETRANS || pending == ICSK_TIME_REO_TIMEOUT ||
	    pending == ICSK_TIME_LOSS_PROBE) {
		r->timer = TS_SNAP_TIMER_ON;
		r->timer_jiffies = left(expires, now);
	} else if (pending == ICSK_TIME_PROBE0) {
		r->timer = TS_SNAP_TIMER_PROBE;
		r->timer_jiffies = left(expires, now);
	} else {
		ka = tcp_keepalive_timer(sk);
		/* timer_pending(): the keepalive timer is armed. */
		if (RD(raw, ka, entry.pprev)) {
			r->timer = TS_SNAP_TIMER_KEEPALIVE;
			r->timer_jiffies = left(RD(raw, ka, expires), now);
		}
	}
	r->retransmits = RD(raw, icsk, icsk_retransmits);
	r->probes = RD(raw, icsk, icsk_probes_out);
}

/* A recovered request socket's uid: its listener's, as iter/tcp gives. */
static __always_inline __u32 req_uid(struct request_sock *req)
{
	struct request_sock___old *old = (void *)req;
	struct sock *l;

	if (bpf_core_field_exists(old->rsk_listener))
		l = BPF_CORE_READ(old, rsk_listener);
	else
		l = BPF_CORE_READ(req, sk);
	return l ? BPF_CORE_READ(l, sk_uid.val) : 0;
}

/*
 * One socket of the TCP hash tables into r; false if it is not IPv4 or
 * IPv6.  The casts of the trusted way check the kind of socket; should one
 * fail, the row keeps what sock_common says rather than vanishing.  The raw
 * way takes the kind from the state, as the kernel's iterator does.
 */
static __always_inline bool fill_sock(struct ts_snap_sock *r, struct sock_common *skc,
				      __u64 now, const bool raw)
{
	__u16 family = RD(raw, skc, skc_family);

	if (family == AF_INET)
		r->family = 4;
	else if (family == AF_INET6)
		r->family = 6;
	else
		return false;

	r->type = TS_SNAP_SOCK;
	r->state = RD(raw, skc, skc_state);
	r->sport = RD(raw, skc, skc_num);
	r->dport = bpf_ntohs(RD(raw, skc, skc_dport));
	if (raw && r->family == 4) {
		bpf_core_read(r->saddr, 4, &skc->skc_rcv_saddr);
		bpf_core_read(r->daddr, 4, &skc->skc_daddr);
	} else if (raw) {
		bpf_core_read(r->saddr, 16, &skc->skc_v6_rcv_saddr);
		bpf_core_read(r->daddr, 16, &skc->skc_v6_daddr);
	} else if (r->family == 4) {
		__builtin_memcpy(r->saddr, &skc->skc_rcv_saddr, 4);
		__builtin_memcpy(r->daddr, &skc->skc_daddr, 4);
	} else {
		__builtin_memcpy(r->saddr, &skc->skc_v6_rcv_saddr, 16);
		__builtin_memcpy(r->daddr, &skc->skc_v6_daddr, 16);
	}

	if (r->state == TCP_TIME_WAIT) {
		struct tcp_timewait_sock *tw = raw ? (void *)skc :
						     bpf_skc_to_tcp_timewait_sock(skc);

		r->timer = TS_SNAP_TIMER_TIMEWAIT;
		if (tw) {
			/* An orphan closed in FIN_WAIT2 waits in a timewait
			 * socket too; its substate says which (ss shows it,
			 * /proc does not). */
			r->state = RD(raw, tw, tw_sk.tw_substate);
			r->timer_jiffies = left(RD(raw, tw, tw_sk.tw_timer.expires), now);
		}
	} else if (r->state == TCP_NEW_SYN_RECV) {
		struct tcp_request_sock *treq = raw ? (void *)skc :
						      bpf_skc_to_tcp_request_sock(skc);

		/* netstat and ss show request sockets as SYN_RECV. */
		r->state = TCP_SYN_RECV;
		r->timer = TS_SNAP_TIMER_ON;
		if (treq) {
			struct request_sock *req = &treq->req.req;

			r->timer_jiffies = left(RD(raw, req, rsk_timer.expires), now);
			r->retransmits = raw ? BPF_CORE_READ_BITFIELD_PROBED(req, num_timeout) :
					       BPF_CORE_READ_BITFIELD(req, num_timeout);
			if (raw)
				r->uid = req_uid(req);
		}
	} else {
		struct tcp_sock *tp = raw ? (void *)skc : bpf_skc_to_tcp_sock(skc);

		if (tp)
			fill_full(r, tp, now, raw);
		if (raw)
			r->uid = BPF_CORE_READ((struct sock *)skc, sk_uid.val);
	}
	return true;
}

/*
 * What iter/tcp skips, and taking it back.
 *
 * On kernels whose iter/tcp reads the hash tables in batches (5.15) until
 * it resumed by socket cookies (6.16; 6.12.y has it too), tcp_seek_last_pos()
 * leaves the listening table with its offset counter at -1 when no
 * listener is left after the bucket it was asked for: its established walk
 * then skips every socket of the namespace in the first bucket it finds,
 * when that bucket's index equals the listening bucket it was asked for,
 * the last listener's bucket + 1, or 0 in a namespace without listeners
 * (where it happens whenever bucket 0 holds one of its sockets).
 *
 * So the first time the iterator is past the listeners, this program
 * compares the bucket it is in with the one that may have been skipped:
 * if that one comes earlier, its sockets of the namespace were skipped
 * (the walk starts at the first that has any), and are read from its
 * chain here, before the socket the iterator gave.  The kind of kernel is
 * told by its types (bpf_tcp_iter_state: batches; bpf_tcp_iter_batch_item:
 * cookies), not by its version.
 */
#define TCP_SEQ_STATE_LISTENING 0
/* Sockets of one chain looked at (every namespace's: chains are short). */
#define RECOVER_MAX_CHAIN 1024
#define RECOVER_MAX_UNROLLED 32

struct iter_pos {
	__s32 last_listen;	/* listening bucket of the last listener, -1 */
	__u32 checked;		/* the skipped bucket was looked at */
	__u32 recovered;	/* sockets taken back from it */
	__u32 incomplete;	/* its chain was longer than RECOVER_MAX_CHAIN */
};

/* Per iterator (its seq_file): readers of a pinned iterator run at once. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 64);
	__type(key, __u64);
	__type(value, struct iter_pos);
} iter_pos SEC(".maps");

static __always_inline struct iter_pos *iter_pos_of(struct seq_file *seq)
{
	__u64 key = (__u64)seq;

	return bpf_map_lookup_elem(&iter_pos, &key);
}

static __always_inline bool iter_skips_bucket(void)
{
	return bpf_core_type_exists(struct bpf_tcp_iter_state) &&
	       !bpf_core_type_exists(union bpf_tcp_iter_batch_item);
}

static __always_inline struct inet_hashinfo *tcp_hashinfo_of(struct net *net)
{
	struct net___dr_ptr *n = (void *)net;

	if (bpf_core_field_exists(net->ipv4.tcp_death_row.hashinfo))
		return BPF_CORE_READ(net, ipv4.tcp_death_row.hashinfo);
	if (bpf_core_field_exists(n->ipv4.tcp_death_row))
		return BPF_CORE_READ(n, ipv4.tcp_death_row, hashinfo);
	return NULL;
}

/* Sockets taken back at most, from one bucket. */
#define RECOVER_MAX 64

/* The records of the sockets read the raw way (per CPU: no sleeping). */
struct recovered {
	struct ts_snap_sock r[RECOVER_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct recovered);
} recovered SEC(".maps");

/*
 * The socket at addr into record slot of recovered; 1 if it is IPv4 or
 * IPv6.  A global function: the verifier checks it once, not once per
 * socket of the loop in recover_bucket().
 */
__noinline int fill_raw(__u64 addr, __u64 now, __u64 slot)
{
	struct recovered *rv;
	struct ts_snap_sock *r;
	__u32 k = 0;

	rv = bpf_map_lookup_elem(&recovered, &k);
	if (!rv || slot >= RECOVER_MAX)
		return 0;
	r = &rv->r[slot];
	__builtin_memset(r, 0, sizeof(*r));
	if (!fill_sock(r, (struct sock_common *)addr, now, true))
		return 0;
	/* The cached cookie: the helper needs the iterator's pointer. */
	r->cookie = BPF_CORE_READ((struct sock_common *)addr, skc_cookie.counter);
	r->flags = TS_SNAP_F_RECOVERED | (r->cookie ? TS_SNAP_F_COOKIE : 0);
	return 1;
}

/* What recover_one() works on, from one call to the next. */
struct chain_walk {
	struct hlist_nulls_node *node;	/* next to look at */
	struct net *net;
	__u64 now;
	__u64 n;			/* records filled */
};

/*
 * One socket of the chain: a bpf_loop() callback, so the verifier checks
 * it once however long the chain.  1 at the chain's end.
 */
static int recover_one(__u32 i, void *ctx)
{
	struct chain_walk *w = ctx;
	struct hlist_nulls_node *node = w->node;
	struct sock_common *skc;

	/* is_a_nulls(): the chain's end marker has its low bit set.  With
	 * every record taken, node is left where the walk stopped. */
	if (!node || ((unsigned long)node & 1) || w->n >= RECOVER_MAX)
		return 1;
	skc = (void *)node - bpf_core_field_offset(struct sock_common, skc_nulls_node);
	w->node = BPF_CORE_READ(node, next);
	/* fill_raw() says 0 or 1: the verifier does not know which, so it
	 * does not follow each count apart. */
	if (BPF_CORE_READ(skc, skc_net.net) == w->net)
		w->n += fill_raw((__u64)skc, w->now, w->n);
	return 0;
}

/*
 * The sockets of net in established bucket b, written to seq before
 * anything else of this call.  0 if all were written, else < 0 (the
 * seq_file is full: the kernel shows this object again, and this runs
 * again).  bpf_loop() (5.17+) walks up to RECOVER_MAX_CHAIN sockets of the
 * chain; before it, a loop the verifier unrolls, RECOVER_MAX_UNROLLED.
 */
static __always_inline int recover_bucket(struct seq_file *seq, struct net *net,
					   struct inet_hashinfo *hi, __u32 b,
					   struct iter_pos *pos, __u64 now)
{
	struct inet_ehash_bucket *eb = BPF_CORE_READ(hi, ehash);
	struct chain_walk w = { .net = net, .now = now };
	struct recovered *rv;
	__u64 n;
	__u32 i, k = 0;

	w.node = BPF_CORE_READ(eb + b, chain.first);
	if (!test_no_bpf_loop && bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_loop)) {
		bpf_loop(RECOVER_MAX_CHAIN, recover_one, &w, 0);
	} else {
		for (i = 0; i < RECOVER_MAX_UNROLLED; i++)
			if (recover_one(i, &w))
				break;
	}
	n = w.n;
	pos->recovered = n;
	/* Chain not walked to its end. */
	pos->incomplete = w.node && !((unsigned long)w.node & 1);
	rv = bpf_map_lookup_elem(&recovered, &k);
	if (!n || !rv)
		return 0;
	/* Bounded where the verifier sees it (clang would drop the test). */
	asm volatile("" : "+r"(n));
	if (n > RECOVER_MAX)
		n = RECOVER_MAX;
	return bpf_seq_write(seq, rv, n * sizeof(struct ts_snap_sock)) ? -1 : 0;
}

/*
 * Called for every socket and at the end (end): < 0 if what was written
 * did not fit (the kernel calls again for the same object), 1 if the
 * bucket was looked at in this call (see skipped_undo()), else 0.
 */
static __always_inline int check_skipped(struct bpf_iter_meta *meta, bool end,
					 __u64 now)
{
	struct seq_file *seq = meta->seq;
	struct tcp_iter_state *st = seq->private;
	struct iter_pos fresh = { .last_listen = -1 }, *pos;
	struct inet_hashinfo *hi;
	__u64 key = (__u64)seq;
	struct net *net;
	__u32 skipped;
	__s32 bucket;

	if (!iter_skips_bucket())
		return 0;
	if (meta->seq_num == 0)
		bpf_map_update_elem(&iter_pos, &key, &fresh, BPF_ANY);
	pos = iter_pos_of(seq);
	if (!pos || pos->checked)
		return 0;
	bucket = end ? -1 : BPF_CORE_READ(st, bucket);
	if (!end && BPF_CORE_READ(st, state) == TCP_SEQ_STATE_LISTENING) {
		pos->last_listen = bucket;
		return 0;
	}
	net = BPF_CORE_READ(st, p.net);
	hi = tcp_hashinfo_of(net);
	if (!hi)
		return 0;
	skipped = pos->last_listen + 1;
	/* Past the last listening bucket the iterator changes tables by
	 * itself, without the seek that skips. */
	if (pos->last_listen >= 0 && skipped > BPF_CORE_READ(hi, lhash2_mask))
		skipped = ~0U;
	if (skipped <= BPF_CORE_READ(hi, ehash_mask) &&
	    (bucket < 0 || skipped < (__u32)bucket) &&
	    recover_bucket(seq, net, hi, skipped, pos, now))
		return -1;
	pos->checked = 1;
	return 1;
}

/* What the end record says of the skipped bucket. */
static __always_inline void skipped_report(struct seq_file *seq, struct ts_snap_end *e)
{
	struct iter_pos *pos = iter_skips_bucket() ? iter_pos_of(seq) : NULL;

	if (!pos)
		return;
	e->recovered = pos->recovered;
	e->flags = TS_SNAP_END_F_CHECKED | (pos->incomplete ? TS_SNAP_END_F_INCOMPLETE : 0);
}

/*
 * The call's own record did not fit: the kernel discards all the call
 * wrote and calls again for the same object, so a bucket looked at in
 * this call (check_skipped() said 1) is looked at again.
 */
static __always_inline void skipped_undo(struct seq_file *seq, int checked)
{
	struct iter_pos *pos = checked == 1 ? iter_pos_of(seq) : NULL;

	if (pos)
		pos->checked = 0;
}

/* The end record is written: the iterator's entry goes. */
static __always_inline void skipped_forget(struct seq_file *seq)
{
	__u64 key = (__u64)seq;

	if (iter_skips_bucket())
		bpf_map_delete_elem(&iter_pos, &key);
}

/*
 * helper_cookie: snap_tcp (5.12+), which also takes back what iter/tcp
 * skips (check_skipped(): 5.15+); snap_tcp_nocookie has neither, nor
 * bpf_loop() (5.10 refuses its instruction).
 */
static __always_inline int dump_tcp(struct bpf_iter__tcp *ctx, bool helper_cookie)
{
	struct sock_common *skc = ctx->sk_common;
	struct seq_file *seq = ctx->meta->seq;
	struct ts_snap_sock r = {};
	__u64 now = bpf_jiffies64();
	int checked = 0;
	bool written;

	if (!skc) {
		/* The iterator stops: end the stream. */
		struct ts_snap_end e = {};

		e.type = TS_SNAP_END;
		e.version = TS_SNAP_VERSION;
		e.rec_size = sizeof(r);
		e.jiffies = now;
		e.mono_ns = bpf_ktime_get_ns();
		if (helper_cookie) {
			checked = check_skipped(ctx->meta, true, now);
			if (checked < 0)
				return 0;
			skipped_report(seq, &e);
		}
		written = !bpf_seq_write(seq, &e, sizeof(e));
		if (helper_cookie && written)
			skipped_forget(seq);
		else if (helper_cookie)
			skipped_undo(seq, checked);
		return 0;
	}
	if (helper_cookie) {
		checked = check_skipped(ctx->meta, false, now);
		if (checked < 0)
			return 0;
	}
	r.uid = ctx->uid;
	if (!fill_sock(&r, skc, now, false))
		return 0;

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
	written = !bpf_seq_write(seq, &r, sizeof(r));
	if (helper_cookie && !written)
		skipped_undo(seq, checked);
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
