// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tcpscope kernel side: TCP state changes, retransmissions and resets into
 * one ring buffer.
 *
 * Two variants live in this object and user space loads one of them:
 *  - "btf":     tp_btf/ programs; the socket is read through its BTF type,
 *               the connection id is the socket cookie and per-connection
 *               data lives in a preallocated hash by socket address
 *               (deleted with the socket; socket storage beyond it).
 *  - "classic": tracepoint/ programs for kernels whose tracing programs
 *               lack socket cookies or socket storage; per-connection data
 *               lives in an LRU hash keyed by socket address and ids come
 *               from a counter.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "tcpscope.h"
#include "core_fixes.bpf.h"

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define SEND_SHUTDOWN 2

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Filters and tuning, set by user space before load. */
const volatile __u32 filter_pid = 0;
const volatile __u32 filter_netns = 0;
const volatile __u16 filter_port = 0;
const volatile __u16 filter_sport = 0;
const volatile __u16 filter_dport = 0;
const volatile __u8 filter_family = 0;
/* Wake the reader only once this much data waits (0: never, it polls). */
const volatile __u64 wakeup_bytes = 0;
/* tp_btf/tcp_retransmit_skb has a third argument, err (set from BTF). */
const volatile bool retrans_has_err = false;
/* tp_btf/tcp_send_reset has a third argument, reason (6.10+, from BTF). */
const volatile bool rst_has_reason = false;
/* The kernel's HZ (icsk_rto is in jiffies); 0 unknown: no RTO reported. */
const volatile __u32 kernel_hz = 0;

/*
 * What the kernel keeps per connection.  Socket storage puts the value
 * 8 bytes into a cache line of its own (struct bpf_local_storage_data is
 * cache-line aligned and starts with its map pointer): what every event
 * reads and writes comes first and fits in those 56 bytes; the rest is
 * touched only at a connection's birth, handshake and retransmissions.
 */
struct conn {
	__u64 id;
	__u64 last_ts;
	struct ts_owner owner;
	/*
	 * The socket's network namespace (0: not known yet).  A namespace's
	 * inode shares a cache line with its reference count, which every
	 * socket's birth and death writes, on every CPU: read it once.
	 */
	__u32 netns;
	__u8 flags;
	/* A passive child whose LISTEN -> SYN_RECV fired before its
	 * addresses and cookie were set (child_born_early()): the record
	 * is held until the next event of the connection; its time is
	 * last_ts, its flags born_flags. */
	__u8 born_held;
	__u8 born_flags;
	__u8 rtx_known; /* rtx_seen holds the socket's total_retrans */
	/* -- 56 bytes: the second cache line from here -- */
	__u32 rtx_seen;
	/* Our initial sequence number (isn_known): see note_isn(). */
	__u32 isn;
	__u8 isn_known;
	/* The last state change handled, (old << 4) | new: btf_state_nested
	 * takes over a change btf_state did not make (see there). */
	__u8 done;
	__u16 pad;
	/* Set by accept() (owners.bpf.h: on_accept()) once 'accepted' holds
	 * the accepting process; the connection's next event takes it. */
	__u32 acc_ready;
	struct ts_owner accepted;
};
_Static_assert(__builtin_offsetof(struct conn, rtx_seen) == 56,
	       "struct conn: the per-event fields must fit in one cache line");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

/*
 * Events lost, per CPU and cause: [DROP_RING] ring-buffer reservations
 * refused, [DROP_STATE] no per-connection state could be made; and
 * [RESCUED] state changes btf_state_nested handled for a skipped btf_state,
 * [TEST_SKIPPED] changes btf_state left on purpose (test_skip_state), which
 * user space counts as skipped runs.
 */
enum { DROP_RING, DROP_STATE, RESCUED, TEST_SKIPPED, DROP_CAUSES };
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DROP_CAUSES);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct conn);
} conn_store SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct conn);
} conn_lru SEC(".maps");

/*
 * Where the btf variant keeps a connection's state.  conn_hash first: a
 * preallocated hash keyed by the socket's address, an entry made on the
 * socket's first event and deleted when the socket is destroyed
 * (btf_destroy, tcp:tcp_destroy_sock) — no allocation, memory-cgroup
 * charge or RCU free per socket, which socket storage costs (about 5 % of
 * a loopback churn's connection rate: docs/BENCHMARKS.md, the floor's
 * hash and storage steps).  When it is full (TS_CONN_HASH_MAX sockets
 * traced at once), socket storage takes the rest (hash_full).  Kernels
 * since 6.15 may refuse a storage allocation rather than wait (local
 * storage uses resilient locks and allocators that give up under
 * contention); such a connection is then kept in conn_lru, by socket
 * address as in the classic variant, instead of being lost
 * (storage_fallback).  While both are 0 one hash lookup is the whole
 * cost of finding a connection.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TS_CONN_HASH_MAX);
	__type(key, __u64);
	__type(value, struct conn);
} conn_hash SEC(".maps");

__u32 hash_full = 0;
__u32 storage_fallback = 0;
/* The classic variant loaded (conn_lru is its only store; conn_hash has
 * one entry and no use there). */
const volatile bool classic_variant = false;

/*
 * Id source for the classic variant: a per-CPU sequence number with the
 * CPU in the low bits, unique across CPUs without an atomic fetch-and-add
 * (BPF_ATOMIC with BPF_FETCH is refused before 5.12, and those kernels are
 * the ones that need this variant).  A program cannot run twice at once
 * on one CPU (the kernel skips a nested tracepoint program), so the plain
 * increment is safe.
 */
#define ID_CPU_BITS 12
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} id_seq SEC(".maps");

static __always_inline __u64 classic_new_id(void)
{
	__u32 zero = 0;
	__u64 *seq = bpf_map_lookup_elem(&id_seq, &zero);
	__u32 cpu = bpf_get_smp_processor_id();

	if (!seq)
		return 0;
	*seq += 1;
	return (*seq << ID_CPU_BITS) | (cpu & ((1u << ID_CPU_BITS) - 1));
}

static __always_inline void count_drop(__u32 cause)
{
	__u64 *n = bpf_map_lookup_elem(&drops, &cause);

	if (n)
		*n += 1;
}

/*
 * Records submitted on this CPU since the ring's backlog was last checked.
 * The check reads the consumer's position, a cache line the reader writes
 * as it drains: ~130 ns per record whenever it has moved (measured with
 * scripts/bench/floor.bpf.c, 6.18).  Once in QUERY_EVERY records per CPU
 * is enough for a threshold of an eighth of the ring; the reader's poll
 * timeout bounds the delay when the rate is low.
 */
#define QUERY_EVERY 32
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} since_query SEC(".maps");

static __always_inline __u64 submit_flags(void)
{
	__u32 zero = 0, *n;

	if (!wakeup_bytes)
		return BPF_RB_NO_WAKEUP;
	n = bpf_map_lookup_elem(&since_query, &zero);
	if (n && (*n)++ % QUERY_EVERY)
		return BPF_RB_NO_WAKEUP;
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

/* Addresses and ports of one event, host-order ports. */
struct tuple {
	__u8 saddr[TS_ADDR_LEN];
	__u8 daddr[TS_ADDR_LEN];
	__u16 sport;
	__u16 dport;
	__u8 family;
};

static __always_inline bool filter_tuple(const struct tuple *t, __u32 netns)
{
	if (filter_family && t->family != filter_family)
		return false;
	if (filter_netns && netns != filter_netns)
		return false;
	if (filter_sport && t->sport != filter_sport)
		return false;
	if (filter_dport && t->dport != filter_dport)
		return false;
	if (filter_port && t->sport != filter_port && t->dport != filter_port)
		return false;
	return true;
}

/*
 * Read a field of a kernel object: a direct (BTF-checked) load when the
 * pointer is typed (tp_btf), a probe read otherwise.  'typed' is a constant
 * in every caller, so only one branch survives compilation.
 */
#define KREAD(typed, p, field) ((typed) ? (p)->field : BPF_CORE_READ(p, field))

#include "owners.bpf.h"

static __always_inline bool filter_owner(const struct conn *c)
{
	return owner_match(c);
}

static __always_inline void take_current(struct conn *c)
{
	owner_current(&c->owner);
	c->flags &= ~TS_F_NO_OWNER;
}

/*
 * Decide who owns the connection.  Only transitions that a system call
 * drives run in the owner's context: connect() (CLOSE -> SYN_SENT) and
 * listen() (CLOSE -> LISTEN).  A passive connection is born in softirq
 * context and inherits the owner of its listener until accept() names the
 * process that holds it (owners.bpf.h).  A connection first seen mid-life
 * takes the holder the start-up snapshot saw, else the process that
 * closes it (close() runs in the owner's context).
 */
static __always_inline void assign_owner(struct conn *c, const struct sock *sk,
					 int old, int new, __u32 netns,
					 const struct tuple *t)
{
	if ((old == TS_CLOSE && new == TS_SYN_SENT) || new == TS_LISTEN) {
		take_current(c);
		if (new == TS_LISTEN)
			listener_add(sk, netns, t, &c->owner);
		return;
	}
	if (old == TS_LISTEN && new == TS_SYN_RECV) {
		owner_from_listener(c, sk, netns, t);
		return;
	}
	if (old == TS_LISTEN && new == TS_CLOSE) {
		listener_del(sk, netns, t);
		return;
	}
	if ((c->flags & TS_F_NO_OWNER) &&
	    (new == TS_FIN_WAIT1 || new == TS_LAST_ACK))
		take_current(c);
}

static __always_inline void fill_event(struct ts_event *e, __u8 type,
				       const struct tuple *t, __u32 netns,
				       const struct conn *c, __u64 id,
				       __u64 ts, __u64 in_old, int old,
				       int new, __u8 flags)
{
	e->type = type;
	e->family = t->family;
	e->old_state = old;
	e->new_state = new;
	e->sport = t->sport;
	e->dport = t->dport;
	e->netns = netns;
	e->ts_ns = ts;
	e->conn = id;
	e->ns_in_old = in_old;
	__builtin_memcpy(e->saddr, t->saddr, TS_ADDR_LEN);
	__builtin_memcpy(e->daddr, t->daddr, TS_ADDR_LEN);
	if (c) {
		e->pid = c->owner.pid;
		__builtin_memcpy(e->comm, c->owner.comm, TS_COMM_LEN);
		e->cgroup_id = c->owner.cgroup_id;
		flags |= c->flags;
	} else {
		e->cgroup_id = 0;
		e->pid = 0;
		__builtin_memset(e->comm, 0, TS_COMM_LEN);
		flags |= TS_F_NO_OWNER;
	}
	e->flags = flags;
	e->rst_reason = 0;
	e->rst_hint = 0;
	e->detail = TS_DET_NONE;
	__builtin_memset(e->pad, 0, sizeof(e->pad));
}

/*
 * The socket as a typed tcp_sock, for plain loads instead of probe-read
 * helper calls: in the BTF variant, on kernels with bpf_skc_to_tcp_sock()
 * (5.9+, checked with CO-RE at load; the helper checks that it is a full
 * TCP socket).  NULL otherwise: the caller probe-reads.
 */
static __always_inline const struct tcp_sock *typed_tcp(const struct sock *sk,
							bool typed)
{
	if (typed && bpf_core_enum_value_exists(enum bpf_func_id,
						BPF_FUNC_skc_to_tcp_sock))
		return bpf_skc_to_tcp_sock((void *)sk);
	return NULL;
}

static __always_inline void copy_stats(struct ts_tcp_stats *st,
				       const struct tcp_sock *tp)
{
	st->srtt_us = tp->srtt_us >> 3;
	st->bytes_acked = tp->bytes_acked;
	st->bytes_received = tp->bytes_received;
	st->segs_out = tp->segs_out;
	st->segs_in = tp->segs_in;
	st->total_retrans = tp->total_retrans;
	st->data_segs_out = tp->data_segs_out;
}

/*
 * Once per connection.  A typed socket becomes a typed tcp_sock through
 * bpf_skc_to_tcp_sock() (5.9+; the helper checks that it is a full TCP
 * socket), and then seven plain loads replace seven probe-read helper
 * calls.  Untyped pointers, and kernels without the helper, probe-read.
 */
static __always_inline void read_stats(struct ts_tcp_stats *st,
				       const struct sock *sk, bool typed)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;

	if (typed && bpf_core_enum_value_exists(enum bpf_func_id,
						BPF_FUNC_skc_to_tcp_sock)) {
		tp = typed_tcp(sk, typed);
		if (tp)
			copy_stats(st, tp);
		else
			__builtin_memset(st, 0, sizeof(*st));
		st->err = sk->sk_err;
		return;
	}
	st->srtt_us = BPF_CORE_READ(tp, srtt_us) >> 3;
	st->bytes_acked = BPF_CORE_READ(tp, bytes_acked);
	st->bytes_received = BPF_CORE_READ(tp, bytes_received);
	st->segs_out = BPF_CORE_READ(tp, segs_out);
	st->segs_in = BPF_CORE_READ(tp, segs_in);
	st->total_retrans = BPF_CORE_READ(tp, total_retrans);
	st->data_segs_out = BPF_CORE_READ(tp, data_segs_out);
	st->err = BPF_CORE_READ(sk, sk_err);
}

/*
 * Which tcp_retransmit_skb calls put a segment on the wire?  Recent kernels
 * fire the tracepoint for failed attempts too (with err != 0).  An attempt
 * that gave up early (-EBUSY: the first copy still sits in a queue;
 * -EAGAIN, -ENOMEM) counted nothing, but one that failed in the transmit
 * itself was already counted in total_retrans and TcpRetransSegs.  So the
 * truth is the socket's own counter: a retransmission is reported when
 * total_retrans moved.  The baseline is known from the connection's birth:
 * 0 after connect() (tcp_disconnect() clears it on reuse), the SYN-ACK
 * retransmits it inherits for a passive child.
 */
static __always_inline void rtx_baseline(struct conn *c, const struct sock *sk,
					 bool typed, int old, int new)
{
	const struct tcp_sock *tp;

	if (old == TS_CLOSE && new == TS_SYN_SENT) {
		c->rtx_seen = 0;
		c->rtx_known = 1;
	} else if (old == TS_LISTEN && new == TS_SYN_RECV) {
		tp = typed_tcp(sk, typed);
		c->rtx_seen = tp ? tp->total_retrans :
				   BPF_CORE_READ((const struct tcp_sock *)sk,
						 total_retrans);
		c->rtx_known = 1;
	}
}

/* Did this retransmit call send (and count) anything? See rtx_baseline. */
static __always_inline bool rtx_counted(struct conn *c, const struct sock *sk,
					int err)
{
	__u32 total = BPF_CORE_READ((const struct tcp_sock *)sk, total_retrans);
	bool counted;

	/* Without a baseline (a socket older than the tracer) only a
	 * successful attempt is known to count. */
	counted = c && c->rtx_known ? total != c->rtx_seen : err == 0;
	if (c) {
		c->rtx_seen = total;
		c->rtx_known = 1;
	}
	return counted;
}

/*
 * Our initial sequence number, for sequence numbers relative to it (as
 * Wireshark shows them).  No kernel keeps it in the socket; it is known
 * at the move to ESTABLISHED, when our SYN (one sequence number) is
 * acknowledged and nothing else yet: snd_una - 1.  A client that sent
 * data in its SYN (TCP Fast Open, tp->syn_data) may have had it
 * acknowledged too: no ISN then, rather than a wrong one.  A SYN sent
 * again gives it directly (retransmit_info()).
 */
static __always_inline void note_isn(struct conn *c, const struct sock *sk,
				     bool typed, int old, int new)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk, *ttp;

	if (old == TS_CLOSE && new == TS_SYN_SENT)
		c->isn_known = 0;
	if (new != TS_ESTABLISHED ||
	    (old != TS_SYN_SENT && old != TS_SYN_RECV))
		return;
	ttp = typed_tcp(sk, typed);
	if (ttp) {
		if (bpf_core_field_exists(ttp->syn_data) &&
		    BPF_CORE_READ_BITFIELD(ttp, syn_data))
			return;
		c->isn = ttp->snd_una - 1;
		c->isn_known = 1;
		return;
	}
	if (bpf_core_field_exists(tp->syn_data) &&
	    BPF_CORE_READ_BITFIELD_PROBED(tp, syn_data))
		return;
	c->isn = BPF_CORE_READ(tp, snd_una) - 1;
	c->isn_known = 1;
}

/* TCP_SKB_CB(skb)->sacked and tcp_flags: skb->cb is struct tcp_skb_cb. */
#define TCPHDR_SYN 0x02

/*
 * What the socket says as it sends skb again.  Raw facts only: user space
 * names the kind and the reason (docs/TIMELINE.md).  icsk_pending is 0
 * while the retransmission timer's handler runs (tcp_write_timer_handler()
 * clears it before tcp_retransmit_timer()), ICSK_TIME_LOSS_PROBE during a
 * tail loss probe; icsk_backoff is raised after the timer's retransmission
 * (icsk_retransmits before it on some kernels: see user/core/stream/rtx.c).
 */
static __always_inline void retransmit_info(struct ts_rtx_info *x,
					    const struct sock *sk,
					    const struct sk_buff *skb,
					    struct conn *c)
{
	const struct inet_connection_sock *icsk = (const void *)sk;
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;
	struct tcp_skb_cb *cb;
	__u32 rto;

	__builtin_memset(x, 0, sizeof(*x));
	x->snd_una = BPF_CORE_READ(tp, snd_una);
	x->snd_nxt = BPF_CORE_READ(tp, snd_nxt);
	x->srtt_us = BPF_CORE_READ(tp, srtt_us) >> 3;
	x->total_retrans = BPF_CORE_READ(tp, total_retrans);
	x->ca_state = BPF_CORE_READ_BITFIELD_PROBED(icsk, icsk_ca_state);
	x->pending = BPF_CORE_READ(icsk, icsk_pending);
	x->retransmits = BPF_CORE_READ(icsk, icsk_retransmits);
	x->backoff = BPF_CORE_READ(icsk, icsk_backoff);
	rto = BPF_CORE_READ(icsk, icsk_rto);
	if (kernel_hz) {
		x->rto_us = (__u32)((__u64)rto * 1000000 / kernel_hz);
		x->flags |= TS_RTX_F_RTO;
	}
	if (skb) {
		/* skb->cb is an array inside the skb: TCP_SKB_CB(skb). */
		cb = (struct tcp_skb_cb *)((const char *)skb +
					   bpf_core_field_offset(skb->cb));
		x->seq = BPF_CORE_READ(cb, seq);
		x->end_seq = BPF_CORE_READ(cb, end_seq);
		/* See core_fixes.bpf.h: u8 or u16, the low byte. */
		x->tcp_flags = BPF_CORE_READ(cb, tcp_flags) & 0xff;
		x->sacked = BPF_CORE_READ(cb, sacked);
		x->segs = BPF_CORE_READ(cb, tcp_gso_segs);
		x->flags |= TS_RTX_F_SKB;
		/* A SYN's sequence number is the ISN itself. */
		if (c && (x->tcp_flags & TCPHDR_SYN)) {
			c->isn = x->seq;
			c->isn_known = 1;
		}
	}
	if (c && c->isn_known) {
		x->isn = c->isn;
		x->flags |= TS_RTX_F_ISN;
	}
}

/* A retransmission that was sent, with its detail. */
static __always_inline int emit_retrans(const struct sock *sk,
					const struct sk_buff *skb,
					const struct tuple *t, __u32 netns,
					struct conn *c, __u64 id, int state)
{
	struct ts_retrans *r;

	if (!filter_owner(c))
		return 0;
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count_drop(DROP_RING);
		return 0;
	}
	fill_event(&r->ev, TS_REC_RETRANS, t, netns, c, id, bpf_ktime_get_ns(),
		   0, state, state, 0);
	r->ev.detail = TS_DET_RTX;
	retransmit_info(&r->info, sk, skb, c);
	bpf_ringbuf_submit(r, submit_flags());
	return 0;
}

/*
 * The held LISTEN -> SYN_RECV record of a child born early, now that its
 * addresses (and, for the btf variant, its cookie) are its own.
 */
static __always_inline void emit_born(const struct sock *sk, bool typed,
				      const struct tuple *t, __u32 netns,
				      struct conn *c)
{
	struct ts_event *e;
	__u64 born = c->last_ts;

	c->born_held = 0;
	rtx_baseline(c, sk, typed, TS_LISTEN, TS_SYN_RECV);
	if (!filter_owner(c))
		return;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_drop(DROP_RING);
		return;
	}
	fill_event(e, TS_REC_STATE, t, netns, c, c->id, born, 0, TS_LISTEN,
		   TS_SYN_RECV, c->born_flags);
	bpf_ringbuf_submit(e, submit_flags());
}

/* One state change, common to both variants. */
static __always_inline int emit_state(const struct sock *sk, bool typed,
				      const struct tuple *t, __u32 netns,
				      struct conn *c, int old, int new,
				      __u8 flags)
{
	__u64 ts = bpf_ktime_get_ns();
	__u64 in_old;
	unsigned long skflags;
	__u8 shut;

	if (child_born_early(old, new, t->dport)) {
		/* Hold the record; the connection's next event sends it. */
		c->born_held = 1;
		c->born_flags = flags;
		c->last_ts = ts;
		assign_owner(c, sk, old, new, netns, t);
		/* The cookie is still the listener's: take it later. */
		if (typed)
			c->id = 0;
		return 0;
	}
	if (c->born_held)
		emit_born(sk, typed, t, netns, c);
	in_old = c->last_ts ? ts - c->last_ts : 0;
	c->last_ts = ts;
	if ((flags & TS_F_FIRST) && old != TS_CLOSE && old != TS_LISTEN)
		owner_seeded(c, sk);
	assign_owner(c, sk, old, new, netns, t);
	if (!(old == TS_LISTEN && new == TS_SYN_RECV))
		owner_settle(c, sk);
	rtx_baseline(c, sk, typed, old, new);
	note_isn(c, sk, typed, old, new);
	if (!filter_owner(c))
		return 0;

	shut = KREAD(typed, sk, sk_shutdown);
	if (shut & SEND_SHUTDOWN)
		flags |= TS_F_FIN_SENT;
	/*
	 * __tcp_close() sets sk_shutdown to SHUTDOWN_MASK before anything
	 * else, so only SOCK_DONE (set by tcp_fin()) proves the peer's FIN.
	 */
	skflags = KREAD(typed, sk, __sk_common.skc_flags);
	if (skflags & (1UL << bpf_core_enum_value(enum sock_flags, SOCK_DONE)))
		flags |= TS_F_FIN_RCVD;
	if (skflags & (1UL << bpf_core_enum_value(enum sock_flags, SOCK_DEAD)))
		flags |= TS_F_ORPHAN;

	if (new == TS_CLOSE && old != TS_LISTEN) {
		struct ts_close *r;

		r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
		if (!r) {
			count_drop(DROP_RING);
			return 0;
		}
		fill_event(&r->ev, TS_REC_STATE, t, netns, c, c->id, ts,
			   in_old, old, new, flags | TS_F_STATS);
		read_stats(&r->st, sk, typed);
		bpf_ringbuf_submit(r, submit_flags());
	} else if (old == TS_SYN_RECV && new == TS_ESTABLISHED) {
		/* A passive handshake completes: what the child knows of it. */
		const struct tcp_sock *tp = (const struct tcp_sock *)sk, *ttp;
		struct ts_state_hs *h;

		h = bpf_ringbuf_reserve(&events, sizeof(*h), 0);
		if (!h) {
			count_drop(DROP_RING);
			return 0;
		}
		fill_event(&h->ev, TS_REC_STATE, t, netns, c, c->id, ts, in_old,
			   old, new, flags);
		h->ev.detail = TS_DET_HS;
		ttp = typed_tcp(sk, typed);
		if (ttp) {
			h->hs.synack_rtt_us = ttp->srtt_us >> 3;
			h->hs.synack_retrans = ttp->total_retrans;
		} else {
			h->hs.synack_rtt_us = BPF_CORE_READ(tp, srtt_us) >> 3;
			h->hs.synack_retrans = BPF_CORE_READ(tp, total_retrans);
		}
		bpf_ringbuf_submit(h, submit_flags());
	} else {
		struct ts_event *e;

		e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
		if (!e) {
			count_drop(DROP_RING);
			return 0;
		}
		fill_event(e, TS_REC_STATE, t, netns, c, c->id, ts, in_old,
			   old, new, flags);
		bpf_ringbuf_submit(e, submit_flags());
	}
	return 0;
}

/*
 * A SYN-ACK sent again, with when the first one left: the server's
 * handshake is measured from there (the SYN arrived microseconds before).
 */
static __always_inline int emit_synack(const struct tuple *t, __u32 netns,
				       const struct conn *c,
				       const struct request_sock *req)
{
	const struct tcp_request_sock *treq = (const void *)req;
	struct ts_synack_retrans *r;

	if (!filter_owner(c))
		return 0;
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count_drop(DROP_RING);
		return 0;
	}
	fill_event(&r->ev, TS_REC_SYNACK_RETRANS, t, netns, c, 0,
		   bpf_ktime_get_ns(), 0, TS_SYN_RECV, TS_SYN_RECV, 0);
	r->ev.detail = TS_DET_SYNACK;
	r->info.first_synack_ns = BPF_CORE_READ(treq, snt_synack) * 1000;
	r->info.num_retrans = BPF_CORE_READ(req, num_retrans);
	r->info.pad = 0;
	bpf_ringbuf_submit(r, submit_flags());
	return 0;
}

static __always_inline int emit_rec(__u8 type, const struct tuple *t,
				    __u32 netns, const struct conn *c, __u64 id,
				    int state, __u8 rst_reason, __u8 rst_hint)
{
	struct ts_event *e;

	if (!filter_owner(c))
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_drop(DROP_RING);
		return 0;
	}
	fill_event(e, type, t, netns, c, id, bpf_ktime_get_ns(), 0, state,
		   state, 0);
	e->rst_reason = rst_reason;
	e->rst_hint = rst_hint;
	bpf_ringbuf_submit(e, submit_flags());
	return 0;
}

static __always_inline int emit_simple(__u8 type, const struct tuple *t,
				       __u32 netns, const struct conn *c,
				       __u64 id, int state)
{
	return emit_rec(type, t, netns, c, id, state, 0, 0);
}

/*
 * What the socket says when it sends a reset, for kernels that give no
 * reason (and as a check where they do): __tcp_close() purges unread data
 * without moving copied_seq, so rcv_nxt != copied_seq; SO_LINGER with a
 * zero time aborts through tcp_disconnect().  Only a full socket has
 * these fields (not a timewait or request socket).
 */
static __always_inline __u8 rst_hint_of(const struct sock *sk, int state)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;
	unsigned long skflags;
	__u8 hint = 0;

	if (!sk)
		return TS_RST_NO_SOCKET;
	if (state == TS_TIME_WAIT || state == TS_NEW_SYN_RECV)
		return 0;
	if (BPF_CORE_READ(tp, rcv_nxt) != BPF_CORE_READ(tp, copied_seq))
		hint |= TS_RST_UNREAD;
	skflags = BPF_CORE_READ(sk, __sk_common.skc_flags);
	if ((skflags & (1UL << bpf_core_enum_value(enum sock_flags, SOCK_LINGER))) &&
	    !BPF_CORE_READ(sk, sk_lingertime))
		hint |= TS_RST_LINGER0;
	return hint;
}

/* ---- BTF variant: the socket is a typed, trusted pointer. ---- */

static __always_inline __u32 sk_netns(const struct sock *sk, bool typed)
{
	struct net *net = KREAD(typed, sk, __sk_common.skc_net.net);

	return KREAD(typed, net, ns.inum);
}

static __always_inline void sk_tuple(const struct sock *sk, bool typed,
				     struct tuple *t)
{
	const struct sock_common *skc = &sk->__sk_common;
	__u16 family = KREAD(typed, skc, skc_family);

	t->sport = KREAD(typed, skc, skc_num);
	/*
	 * On the way to CLOSE the kernel releases the local port (zeroing
	 * skc_num) before it stores the new state; inet_sport still holds
	 * it.  A connect()ing socket has no port yet and reads 0 in both.
	 */
	if (!t->sport) {
		const struct tcp_sock *tp = typed_tcp(sk, typed);

		t->sport = bpf_ntohs(tp ? tp->inet_conn.icsk_inet.inet_sport :
				     BPF_CORE_READ((struct inet_sock *)sk,
						   inet_sport));
	}
	t->dport = bpf_ntohs(KREAD(typed, skc, skc_dport));
	if (family == AF_INET6) {
		t->family = 6;
		if (typed) {
			__builtin_memcpy(t->saddr, &skc->skc_v6_rcv_saddr, 16);
			__builtin_memcpy(t->daddr, &skc->skc_v6_daddr, 16);
		} else {
			BPF_CORE_READ_INTO(t->saddr, skc, skc_v6_rcv_saddr);
			BPF_CORE_READ_INTO(t->daddr, skc, skc_v6_daddr);
		}
	} else {
		__u32 s4 = KREAD(typed, skc, skc_rcv_saddr);
		__u32 d4 = KREAD(typed, skc, skc_daddr);

		t->family = 4;
		__builtin_memset(t->saddr, 0, TS_ADDR_LEN);
		__builtin_memset(t->daddr, 0, TS_ADDR_LEN);
		__builtin_memcpy(t->saddr, &s4, 4);
		__builtin_memcpy(t->daddr, &d4, 4);
	}
}

/* Tests only (TCPSCOPE_TEST_HASH_FULL): conn_hash takes nothing. */
const volatile bool test_hash_full = false;
/* Tests only (TCPSCOPE_TEST_NO_STORAGE): conn_hash takes nothing and
 * every storage allocation "fails". */
const volatile bool test_no_storage = false;
/* Tests only (TCPSCOPE_TEST_SKIP_STATE): btf_state leaves about half the
 * state changes, at random, as if the kernel had skipped it. */
const volatile bool test_skip_state = false;

/* The state kept for sk, wherever it is (never made here). */
static __always_inline struct conn *btf_conn_find(const struct sock *sk)
{
	__u64 key = (__u64)sk;
	struct conn *c;

	c = bpf_map_lookup_elem(&conn_hash, &key);
	if (!c && (hash_full || test_hash_full) && !test_no_storage)
		c = bpf_sk_storage_get(&conn_store, (struct sock *)sk, 0, 0);
	if (!c && (storage_fallback || test_no_storage))
		c = bpf_map_lookup_elem(&conn_lru, &key);
	return c;
}

/*
 * Made for a state change where none was found.  fresh says the socket
 * starts a new life (it leaves CLOSE, or is a passive child), so that an
 * entry a freed socket left at the same address (in conn_lru, or in
 * conn_hash when btf_destroy was skipped) is not taken for it.
 */
static __always_inline struct conn *btf_conn_make(const struct sock *sk,
						  bool fresh)
{
	__u64 key = (__u64)sk;
	struct conn *c, zero = {};

	if (!test_hash_full && !test_no_storage) {
		/* Fails when full, or (not fresh) when another CPU just
		 * made it: the lookup tells. */
		bpf_map_update_elem(&conn_hash, &key, &zero,
				    fresh ? BPF_ANY : BPF_NOEXIST);
		c = bpf_map_lookup_elem(&conn_hash, &key);
		if (c)
			return c;
	}
	if (!test_no_storage) {
		hash_full = 1;
		c = bpf_sk_storage_get(&conn_store, (struct sock *)sk, 0,
				       BPF_SK_STORAGE_GET_F_CREATE);
		if (c)
			return c;
	}
	storage_fallback = 1;
	if (fresh)
		bpf_map_delete_elem(&conn_lru, &key);
	bpf_map_update_elem(&conn_lru, &key, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&conn_lru, &key);
}

/*
 * Whether the state found for a socket starting a new life is a freed
 * socket's: a passive child is always new; a socket leaving CLOSE again
 * (a second connect()) keeps its cookie, and so its state.
 */
static __always_inline bool btf_conn_stale(const struct sock *sk,
					   const struct conn *c, int oldstate)
{
	if (oldstate != TS_CLOSE)
		return true;
	return c->id != bpf_get_socket_cookie((struct sock *)sk);
}

/* The socket is destroyed: its conn_hash entry goes (storage goes by
 * itself; conn_lru's entries are dropped by the LRU). */
SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(btf_destroy, const struct sock *sk)
{
	__u64 key = (__u64)sk;

	bpf_map_delete_elem(&conn_hash, &key);
	return 0;
}

/* A connection's state, new or found, gets its id on its first event. */
static __always_inline void btf_conn_init(const struct sock *sk,
					  struct conn *c, __u8 *flags)
{
	if (c->id)
		return;
	c->id = bpf_get_socket_cookie((struct sock *)sk);
	/* A child born early already has its owner and first record. */
	if (!c->born_held) {
		c->flags = TS_F_NO_OWNER;
		*flags |= TS_F_FIRST;
	}
}

#define STATE_DONE(old, new) ((__u8)((((old) & 15) << 4) | ((new) & 15)))

/*
 * The last change on this CPU that found no state to keep (DROP_STATE):
 * btf_state_nested, which finds no state either, leaves it rather than
 * count the loss twice.  Another task's change in between (a preemption
 * between the two programs) only makes the second count, never a silence.
 */
/* A change of a socket, as the two per-CPU marks below keep it. */
struct state_mark {
	__u64 sk;
	__u8 done;
};

static __always_inline bool mark_is(const struct state_mark *m,
				    const struct sock *sk, __u8 done)
{
	return m && m->sk == (__u64)sk && m->done == done;
}

static __always_inline void mark_set(struct state_mark *m,
				     const struct sock *sk, __u8 done)
{
	if (m) {
		m->sk = (__u64)sk;
		m->done = done;
	}
}

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct state_mark);
} state_refused SEC(".maps");

/*
 * The last change btf_state ran for on this CPU.  btf_state_nested runs
 * right after it, on the same CPU: when the mark names its change it
 * returns at once, without the socket's storage (80 -> ~60 ns a change, an
 * empty program's cost).  Anything else (a task preempted between the two
 * programs, a run of btf_state the kernel skipped) finds another change
 * here and takes the exact way, the storage's 'done'.  A match is cleared,
 * so that a mark outlives its change only when btf_state_nested was
 * skipped too; a change taken for handled then is still counted lost
 * (btf_state's recursion misses less the takeovers), never silent.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct state_mark);
} state_marks SEC(".maps");

/* btf_state_event(): the change left on purpose (test_skip_state). */
#define STATE_TEST_SKIPPED (-1)

/* 1 when the change passed the filters and was handled (sent, or held,
 * or lost and counted), 0 when it was filtered out or, for the second
 * program (nested), already counted lost by the first;
 * STATE_TEST_SKIPPED when the tests' stand-in for a skipped run left it. */
static __always_inline int btf_state_event(const struct sock *sk,
					   int oldstate, int newstate,
					   bool nested)
{
	bool fresh = oldstate == TS_CLOSE ||
		     (oldstate == TS_LISTEN && newstate == TS_SYN_RECV);
	struct conn *c = NULL;
	struct tuple t;
	__u8 flags = 0;
	__u32 netns;

	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	sk_tuple(sk, true, &t);
	/*
	 * The state is looked up first (never created: filtered sockets get
	 * none) for the namespace it remembers; a socket starting a new life
	 * does not take a freed socket's (btf_conn_stale()).
	 */
	c = btf_conn_find(sk);
	if (c && fresh && btf_conn_stale(sk, c, oldstate))
		c = NULL;
	netns = c && c->netns ? c->netns : sk_netns(sk, true);
	/* A child born early has no peer yet: filter its held record later. */
	if (!filter_tuple(&t, netns) &&
	    !child_born_early(oldstate, newstate, t.dport))
		return 0;
	/*
	 * The tests' stand-in for a skipped run, on changes in scope only (a
	 * skipped change out of scope would be reported lost: see
	 * ts_loader__losses()).
	 */
	if (test_skip_state && !nested && (bpf_get_prandom_u32() & 1)) {
		count_drop(TEST_SKIPPED);
		return STATE_TEST_SKIPPED;
	}
	if (!c)
		c = btf_conn_make(sk, fresh);
	if (!c) {
		/* No storage and no room in conn_lru: lost, say so, once. */
		__u32 zero = 0;
		struct state_mark *r = bpf_map_lookup_elem(&state_refused, &zero);

		if (nested && mark_is(r, sk, STATE_DONE(oldstate, newstate)))
			return 0;
		mark_set(r, sk, STATE_DONE(oldstate, newstate));
		count_drop(DROP_STATE);
		return 1;
	}
	btf_conn_init(sk, c, &flags);
	c->netns = netns;
	c->done = STATE_DONE(oldstate, newstate);
	emit_state(sk, true, &t, netns, c, oldstate, newstate, flags);
	return 1;
}

/*
 * The kernel never runs a tracing program on a CPU where that program is
 * already running: that run is skipped and only counted (recursion
 * misses).  A softirq interrupting it does that; so does a task that was
 * preempted inside the probe and holds it for as long as it waits to run
 * again, while every other task's change on that CPU is skipped (seen on
 * 6.18 under load: tens of milliseconds of closes in a row, the ones made
 * with bottom halves off in __tcp_close()).  btf_state_nested, a second
 * program on the tracepoint, attached after btf_state so that it runs
 * after it, takes over every change btf_state did not handle: the
 * connection's state says which change btf_state handled last (a change
 * never follows itself), so the test holds whoever preempted whom.  A
 * change btf_state missed is taken over (RESCUED) unless the second
 * program was skipped too: user space reports btf_state's misses less the
 * takeovers as lost.
 */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(btf_state, const struct sock *sk, const int oldstate,
	     const int newstate)
{
	__u32 zero = 0;
	struct state_mark *m;

	if (btf_state_event(sk, oldstate, newstate, false) == STATE_TEST_SKIPPED)
		return 0;
	m = bpf_map_lookup_elem(&state_marks, &zero);
	mark_set(m, sk, STATE_DONE(oldstate, newstate));
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(btf_state_nested, const struct sock *sk, const int oldstate,
	     const int newstate)
{
	const struct conn *c = NULL;
	struct state_mark *m;
	__u32 zero = 0;

	m = bpf_map_lookup_elem(&state_marks, &zero);
	if (mark_is(m, sk, STATE_DONE(oldstate, newstate))) {
		m->sk = 0;
		return 0;
	}
	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	c = btf_conn_find(sk);
	if (c && c->done == STATE_DONE(oldstate, newstate))
		return 0;
	/* Not handled by btf_state (or filtered out: no state then). */
	if (btf_state_event(sk, oldstate, newstate, true))
		count_drop(RESCUED);
	return 0;
}

/*
 * Newer kernels fire tcp_retransmit_skb for failed attempts too, with
 * err != 0 (e.g. -EBUSY while the first copy still sits in a queue).
 * Nothing went on the wire then, and older kernels fired only on success:
 * report retransmissions that were sent, as TcpRetransSegs counts them.
 * The test of a constant removes the ctx[2] read where err is absent.
 */
SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(btf_retrans, const struct sock *sk, const struct sk_buff *skb)
{
	struct tuple t;
	struct conn *c;
	__u8 flags = 0;
	__u32 netns;

	sk_tuple(sk, true, &t);
	netns = sk_netns(sk, true);
	if (!filter_tuple(&t, netns))
		return 0;
	c = btf_conn_find(sk);
	if (c)
		btf_conn_init(sk, c, &flags);
	owner_settle(c, sk);
	if (!rtx_counted(c, sk, retrans_has_err ? (int)ctx[2] : 0))
		return 0;
	return emit_retrans(sk, skb, &t, netns, c,
			    bpf_get_socket_cookie((struct sock *)sk),
			    sk->__sk_common.skc_state);
}

/*
 * SYN-ACK retransmits happen on a request socket, before the connection's
 * own socket exists; the listener gives the owner and user space joins the
 * record to the connection by its addresses.
 */
SEC("tp_btf/tcp_retransmit_synack")
int BPF_PROG(btf_synack, const struct sock *sk, const struct request_sock *req)
{
	struct conn tmp;
	struct tuple t;
	struct conn *c;
	__u8 flags = 0;
	__u32 netns;

	sk_tuple((const struct sock *)req, true, &t);
	netns = sk_netns(sk, true);
	if (!filter_tuple(&t, netns))
		return 0;
	c = btf_conn_find(sk);
	if (c)
		btf_conn_init(sk, c, &flags);
	return emit_synack(&t, netns, synack_owner(c, netns, &t, &tmp), req);
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(btf_rst_recv, struct sock *sk)
{
	struct tuple t;
	struct conn *c;
	__u8 flags = 0;
	__u32 netns;

	sk_tuple(sk, true, &t);
	netns = sk_netns(sk, true);
	if (!filter_tuple(&t, netns))
		return 0;
	c = btf_conn_find(sk);
	if (c)
		btf_conn_init(sk, c, &flags);
	owner_settle(c, sk);
	return emit_simple(TS_REC_RESET_RECV, &t, netns, c,
			   bpf_get_socket_cookie(sk), sk->__sk_common.skc_state);
}

/* A reset answering a segment that found no socket: read the segment. */
static __always_inline int skb_tuple(const struct sk_buff *skb,
				     struct tuple *t)
{
	unsigned char *head = BPF_CORE_READ(skb, head);
	__u16 nh = BPF_CORE_READ(skb, network_header);
	__u16 th = BPF_CORE_READ(skb, transport_header);
	struct tcphdr tcp;
	__u8 ver;

	if (bpf_probe_read_kernel(&ver, 1, head + nh))
		return -1;
	if (bpf_probe_read_kernel(&tcp, sizeof(tcp), head + th))
		return -1;
	/* The segment came in: its destination is our local end. */
	t->sport = bpf_ntohs(tcp.dest);
	t->dport = bpf_ntohs(tcp.source);
	__builtin_memset(t->saddr, 0, TS_ADDR_LEN);
	__builtin_memset(t->daddr, 0, TS_ADDR_LEN);
	if ((ver >> 4) == 6) {
		struct ipv6hdr ip6;

		if (bpf_probe_read_kernel(&ip6, sizeof(ip6), head + nh))
			return -1;
		t->family = 6;
		__builtin_memcpy(t->saddr, &ip6.daddr, TS_ADDR_LEN);
		__builtin_memcpy(t->daddr, &ip6.saddr, TS_ADDR_LEN);
	} else {
		struct iphdr ip;

		if (bpf_probe_read_kernel(&ip, sizeof(ip), head + nh))
			return -1;
		t->family = 4;
		__builtin_memcpy(t->saddr, &ip.daddr, 4);
		__builtin_memcpy(t->daddr, &ip.saddr, 4);
	}
	return 0;
}

/* sk_rst_reason + 1 (0: none) from the third argument, 6.10+. */
SEC("tp_btf/tcp_send_reset")
int BPF_PROG(btf_rst_sent, const struct sock *sk, const struct sk_buff *skb)
{
	__u8 reason = rst_has_reason ? (__u8)((int)ctx[2] + 1) : 0;
	struct conn *c = NULL;
	struct tuple t;
	__u8 flags = 0;
	__u32 netns = 0;
	__u64 id = 0;
	int state = TS_CLOSE;

	if (sk) {
		sk_tuple(sk, true, &t);
		netns = sk_netns(sk, true);
		state = sk->__sk_common.skc_state;
		id = bpf_get_socket_cookie((struct sock *)sk);
		c = btf_conn_find(sk);
		if (c)
			btf_conn_init(sk, c, &flags);
		owner_settle(c, sk);
	} else {
		struct net_device *dev;

		if (!skb || skb_tuple(skb, &t))
			return 0;
		dev = BPF_CORE_READ(skb, dev);
		if (dev)
			netns = BPF_CORE_READ(dev, nd_net.net, ns.inum);
	}
	if (!filter_tuple(&t, netns))
		return 0;
	return emit_rec(TS_REC_RESET_SENT, &t, netns, c, id, state, reason,
			rst_hint_of(sk, state));
}

/* ---- Classic variant: untyped tracepoint records. ---- */

static __always_inline void copy_tp_addrs(struct tuple *t, __u16 family,
					  const __u8 *s4, const __u8 *d4,
					  const __u8 *s6, const __u8 *d6)
{
	__builtin_memset(t->saddr, 0, TS_ADDR_LEN);
	__builtin_memset(t->daddr, 0, TS_ADDR_LEN);
	if (family == AF_INET6) {
		t->family = 6;
		__builtin_memcpy(t->saddr, s6, TS_ADDR_LEN);
		__builtin_memcpy(t->daddr, d6, TS_ADDR_LEN);
	} else {
		t->family = 4;
		__builtin_memcpy(t->saddr, s4, 4);
		__builtin_memcpy(t->daddr, d4, 4);
	}
}

SEC("tracepoint/sock/inet_sock_set_state")
int tp_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	/* Read the record once, by probe: the fallback favours simplicity. */
	struct trace_event_raw_inet_sock_set_state r;
	struct conn zero = {}, *c;
	const struct sock *sk;
	struct tuple t;
	__u8 flags = 0;
	__u32 netns;
	__u64 key;

	if (bpf_probe_read_kernel(&r, sizeof(r), ctx))
		return 0;
	if (r.protocol != IPPROTO_TCP)
		return 0;
	sk = r.skaddr;
	key = (__u64)sk;
	t.sport = r.sport;
	t.dport = r.dport;
	copy_tp_addrs(&t, r.family, r.saddr, r.daddr, r.saddr_v6, r.daddr_v6);
	netns = sk_netns(sk, false);
	if (!filter_tuple(&t, netns) &&
	    !child_born_early(r.oldstate, r.newstate, t.dport))
		return 0;

	c = bpf_map_lookup_elem(&conn_lru, &key);
	/*
	 * A socket leaving CLOSE, or a passive child (whose memory may be
	 * that of a freed socket), starts a new life: new id.  Entries stay
	 * after CLOSE, so that the reset sent right after it (an abortive
	 * close sets CLOSE first) still finds the connection; the LRU map
	 * drops them.
	 */
	if (c && (r.oldstate == TS_CLOSE ||
		  (r.oldstate == TS_LISTEN && r.newstate == TS_SYN_RECV))) {
		bpf_map_delete_elem(&conn_lru, &key);
		c = NULL;
	}
	if (!c) {
		zero.id = classic_new_id();
		zero.flags = TS_F_NO_OWNER;
		bpf_map_update_elem(&conn_lru, &key, &zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&conn_lru, &key);
		if (!c) {
			count_drop(DROP_STATE);
			return 0;
		}
		flags |= TS_F_FIRST;
	}
	return emit_state(sk, false, &t, netns, c, r.oldstate, r.newstate,
			  flags);
}

SEC("tracepoint/tcp/tcp_retransmit_skb")
int tp_retrans(void *ctx)
{
	const struct sk_buff *skb;
	const struct sock *sk;
	struct tuple t;
	struct conn *c;
	__u32 netns;
	__u64 key;
	int state, err = 0;

	if (bpf_core_type_exists(struct trace_event_raw_tcp_retransmit_skb___new)) {
		struct trace_event_raw_tcp_retransmit_skb___new *r = ctx;

		if (bpf_core_field_exists(r->err))
			err = BPF_CORE_READ(r, err);
		sk = BPF_CORE_READ(r, skaddr);
		skb = BPF_CORE_READ(r, skbaddr);
		state = BPF_CORE_READ(r, state);
	} else {
		struct trace_event_raw_tcp_event_sk_skb___old *r = ctx;

		sk = BPF_CORE_READ(r, skaddr);
		skb = BPF_CORE_READ(r, skbaddr);
		state = BPF_CORE_READ(r, state);
	}
	sk_tuple(sk, false, &t);
	netns = sk_netns(sk, false);
	if (!filter_tuple(&t, netns))
		return 0;
	key = (__u64)sk;
	c = bpf_map_lookup_elem(&conn_lru, &key);
	owner_settle(c, sk);
	if (!rtx_counted(c, sk, err))
		return 0;
	return emit_retrans(sk, skb, &t, netns, c, c ? c->id : 0, state);
}

/*
 * Resets and SYN-ACK retransmits from the classic tracepoints: each record
 * holds the socket's address (and the segment's, or the request socket's),
 * and the rest is read from them as in the btf variant.
 */
static __always_inline struct conn *classic_conn(const struct sock *sk)
{
	__u64 key = (__u64)sk;

	return bpf_map_lookup_elem(&conn_lru, &key);
}

SEC("tracepoint/tcp/tcp_send_reset")
int tp_rst_sent(void *ctx)
{
	const struct sk_buff *skb;
	const struct sock *sk;
	struct conn *c = NULL;
	struct tuple t;
	__u32 netns = 0;
	int state = TS_CLOSE;
	__u8 reason = 0;

	if (bpf_core_type_exists(struct trace_event_raw_tcp_send_reset)) {
		struct trace_event_raw_tcp_send_reset *r = ctx;

		sk = BPF_CORE_READ(r, skaddr);
		skb = BPF_CORE_READ(r, skbaddr);
		if (bpf_core_field_exists(r->reason))
			reason = (__u8)(BPF_CORE_READ(r, reason) + 1);
	} else {
		struct trace_event_raw_tcp_event_sk_skb___old *r = ctx;

		sk = BPF_CORE_READ(r, skaddr);
		skb = BPF_CORE_READ(r, skbaddr);
	}
	if (sk) {
		sk_tuple(sk, false, &t);
		netns = sk_netns(sk, false);
		state = BPF_CORE_READ(sk, __sk_common.skc_state);
		c = classic_conn(sk);
	} else {
		struct net_device *dev;

		if (!skb || skb_tuple(skb, &t))
			return 0;
		dev = BPF_CORE_READ(skb, dev);
		if (dev)
			netns = BPF_CORE_READ(dev, nd_net.net, ns.inum);
	}
	if (!filter_tuple(&t, netns))
		return 0;
	return emit_rec(TS_REC_RESET_SENT, &t, netns, c, c ? c->id : 0, state,
			reason, rst_hint_of(sk, state));
}

SEC("tracepoint/tcp/tcp_receive_reset")
int tp_rst_recv(struct trace_event_raw_tcp_event_sk *ctx)
{
	const struct sock *sk = BPF_CORE_READ(ctx, skaddr);
	struct tuple t;
	struct conn *c;
	__u32 netns;

	if (!sk)
		return 0;
	sk_tuple(sk, false, &t);
	netns = sk_netns(sk, false);
	if (!filter_tuple(&t, netns))
		return 0;
	c = classic_conn(sk);
	return emit_simple(TS_REC_RESET_RECV, &t, netns, c, c ? c->id : 0,
			   BPF_CORE_READ(sk, __sk_common.skc_state));
}

SEC("tracepoint/tcp/tcp_retransmit_synack")
int tp_synack(struct trace_event_raw_tcp_retransmit_synack *ctx)
{
	const struct sock *sk = BPF_CORE_READ(ctx, skaddr);
	const struct sock *req = BPF_CORE_READ(ctx, req);
	struct conn tmp;
	struct tuple t;
	__u32 netns;

	if (!sk || !req)
		return 0;
	sk_tuple(req, false, &t);
	netns = sk_netns(sk, false);
	if (!filter_tuple(&t, netns))
		return 0;
	return emit_synack(&t, netns, synack_owner(classic_conn(sk), netns, &t, &tmp),
			   (const struct request_sock *)req);
}


/* ---- Drops: skb:kfree_skb with a reason (5.17+), both variants. ---- */

struct drop_bucket {
	__u64 credit_ns; /* time credit: one record costs DROP_COST_NS */
	__u64 last_ns;
};

#define DROP_COST_NS (1000000000ull / TS_DROP_PER_SEC)

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct drop_bucket);
} drop_bucket SEC(".maps");

/* enum ts_drop_stat, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TS_DSTAT_NR);
	__type(key, __u32);
	__type(value, __u64);
} drop_stats SEC(".maps");

static __always_inline void drop_count(__u32 which)
{
	__u64 *n = bpf_map_lookup_elem(&drop_stats, &which);

	if (n)
		*n += 1;
}

/*
 * A token bucket per CPU, kept as time credit: it fills at one record per
 * DROP_COST_NS up to TS_DROP_BURST records.  A SYN flood or a port scan
 * (NO_SOCKET drops by the thousand) then costs at most TS_DROP_PER_SEC
 * records a second per CPU; the rest is counted.  Per CPU, so no atomics.
 */
static __always_inline bool drop_take(__u64 now)
{
	__u32 zero = 0;
	struct drop_bucket *b = bpf_map_lookup_elem(&drop_bucket, &zero);
	__u64 credit, max = TS_DROP_BURST * DROP_COST_NS;

	if (!b)
		return false;
	credit = b->credit_ns + (now - b->last_ns);
	if (credit > max || now < b->last_ns)
		credit = max;
	b->last_ns = now;
	if (credit < DROP_COST_NS) {
		b->credit_ns = credit;
		return false;
	}
	b->credit_ns = credit - DROP_COST_NS;
	return true;
}

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD

/* A segment as the drop program reads it, before filters decide. */
struct seg {
	struct tuple t;
	__u32 seq;
	__u32 ack;
	__u32 len;
	__u8 flags;
	__u8 dir;
};

/*
 * Read the IP and TCP headers of a dropped skb (CO-RE, by probe: the skb
 * may be anywhere on its path).  Only IPv4/IPv6 carrying TCP directly
 * (no IPv6 extension header, no IPv4 fragment) with both headers set.
 * The direction: skb_iif is set when a device received the skb (also
 * loopback's receive half) and 0 on a locally made skb on its way out.
 */
static __always_inline int drop_seg(const struct sk_buff *skb, struct seg *g)
{
	unsigned char *head = BPF_CORE_READ(skb, head);
	__u16 proto = bpf_ntohs(BPF_CORE_READ(skb, protocol));
	__u16 nh = BPF_CORE_READ(skb, network_header);
	__u16 th = BPF_CORE_READ(skb, transport_header);
	struct tcphdr tcp;
	__u8 src[TS_ADDR_LEN] = {}, dst[TS_ADDR_LEN] = {};
	__u32 iplen;
	bool in;

	if (proto != ETH_P_IP && proto != ETH_P_IPV6)
		return -1;
	if (th == (__u16)~0U || nh == (__u16)~0U || th <= nh)
		return -1;
	if (proto == ETH_P_IP) {
		struct iphdr ip;

		if (bpf_probe_read_kernel(&ip, sizeof(ip), head + nh))
			return -1;
		if (ip.version != 4 || ip.protocol != IPPROTO_TCP ||
		    (bpf_ntohs(ip.frag_off) & 0x1fff))
			return -1;
		g->t.family = 4;
		__builtin_memcpy(src, &ip.saddr, 4);
		__builtin_memcpy(dst, &ip.daddr, 4);
		iplen = bpf_ntohs(ip.tot_len);
		iplen = iplen > ip.ihl * 4u ? iplen - ip.ihl * 4u : 0;
	} else {
		struct ipv6hdr ip6;

		if (bpf_probe_read_kernel(&ip6, sizeof(ip6), head + nh))
			return -1;
		if (ip6.nexthdr != IPPROTO_TCP)
			return -1;
		g->t.family = 6;
		__builtin_memcpy(src, &ip6.saddr, TS_ADDR_LEN);
		__builtin_memcpy(dst, &ip6.daddr, TS_ADDR_LEN);
		iplen = bpf_ntohs(ip6.payload_len);
	}
	if (bpf_probe_read_kernel(&tcp, sizeof(tcp), head + th))
		return -1;
	in = BPF_CORE_READ(skb, skb_iif) != 0;
	g->dir = in ? TS_DROP_IN : TS_DROP_OUT;
	if (in) {
		__builtin_memcpy(g->t.saddr, dst, TS_ADDR_LEN);
		__builtin_memcpy(g->t.daddr, src, TS_ADDR_LEN);
		g->t.sport = bpf_ntohs(tcp.dest);
		g->t.dport = bpf_ntohs(tcp.source);
	} else {
		__builtin_memcpy(g->t.saddr, src, TS_ADDR_LEN);
		__builtin_memcpy(g->t.daddr, dst, TS_ADDR_LEN);
		g->t.sport = bpf_ntohs(tcp.source);
		g->t.dport = bpf_ntohs(tcp.dest);
	}
	g->seq = bpf_ntohl(tcp.seq);
	g->ack = bpf_ntohl(tcp.ack_seq);
	g->flags = ((__u8 *)&tcp)[13];
	iplen = iplen > tcp.doff * 4u ? iplen - tcp.doff * 4u : 0;
	g->len = iplen;
	return 0;
}

/*
 * Reasons that are not drops: SKB_CONSUMED (6.0+; later kernels send it
 * to consume_skb instead) and SKB_NOT_DROPPED_YET.  Values differ between
 * kernels: CO-RE gives this kernel's.
 */
static __always_inline bool not_a_drop(__u32 reason)
{
	if (bpf_core_enum_value_exists(enum skb_drop_reason, SKB_CONSUMED) &&
	    reason == bpf_core_enum_value(enum skb_drop_reason, SKB_CONSUMED))
		return true;
	if (bpf_core_enum_value_exists(enum skb_drop_reason, SKB_NOT_DROPPED_YET) &&
	    reason == bpf_core_enum_value(enum skb_drop_reason, SKB_NOT_DROPPED_YET))
		return true;
	return false;
}

/*
 * The peer's initial sequence number, from a full socket that received
 * the segment: rcv_nxt starts at irs + 1 (both ends set it so at the
 * handshake) and bytes_received counts every advance of rcv_nxt since
 * (tcp_rcv_nxt_update(), FIN included), so irs = rcv_nxt - bytes_received
 * - 1.  Not for a listener, a SYN_SENT socket (no irs yet), or a timewait
 * or request socket (no tcp_sock fields).
 */
static __always_inline bool peer_isn(const struct sock *sk, int state, __u32 *irs)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;

	if (!sk || state == TS_LISTEN || state == TS_SYN_SENT || state == TS_TIME_WAIT ||
	    state == TS_NEW_SYN_RECV || state == TS_CLOSE || !state)
		return false;
	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return false;
	*irs = BPF_CORE_READ(tp, rcv_nxt) - (__u32)BPF_CORE_READ(tp, bytes_received) - 1;
	return true;
}

/*
 * A socket's queues purged when it is destroyed: a FIN (or ACK) still
 * queued there was received and acknowledged, not lost.  One per closed
 * connection, so it is decided before any other read: in a socket's
 * queue the headers are pulled and skb->len is the payload.  Data purged
 * unread is kept (the reset that follows says so too).
 *
 * The purge has its own reason, SKB_DROP_REASON_QUEUE_PURGE, only in later
 * kernels; before it (6.1: sk_stream_kill_queues(), NOT_SPECIFIED, one
 * for every connection whose FIN was still queued) it is told by what it
 * frees: a received skb with its headers pulled (len 0), still owned by
 * its socket (skb->sk: set when it was queued), which is closed.
 */
static __always_inline bool purged_empty(const struct sk_buff *skb, __u32 reason)
{
	const struct sock *sk;

	if (bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_QUEUE_PURGE))
		return reason == bpf_core_enum_value(enum skb_drop_reason,
						     SKB_DROP_REASON_QUEUE_PURGE) &&
		       BPF_CORE_READ(skb, len) == 0;
	if (!bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_NOT_SPECIFIED) ||
	    reason != bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_NOT_SPECIFIED) ||
	    BPF_CORE_READ(skb, len) != 0 || !BPF_CORE_READ(skb, skb_iif))
		return false;
	sk = BPF_CORE_READ(skb, sk);
	return sk && BPF_CORE_READ(sk, __sk_common.skc_state) == TS_CLOSE;
}

static __always_inline int emit_drop(const struct sk_buff *skb, __u64 location,
				     __u32 reason, const struct conn *c,
				     __u64 id, __u32 sk_netns_ino, int state,
				     const struct sock *sk)
{
	__u32 irs = 0;
	bool base;
	struct net_device *dev;
	struct ts_drop *d;
	struct seg g;
	__u32 netns = sk_netns_ino;
	__u64 now;

	dev = BPF_CORE_READ(skb, dev);
	if (dev)
		netns = BPF_CORE_READ(dev, nd_net.net, ns.inum);
	/* Other namespaces' drops cost no header reads. */
	if (filter_netns && netns != filter_netns)
		return 0;
	if (drop_seg(skb, &g))
		return 0;
	/*
	 * A socket's queues purged when it is destroyed: a FIN (or ACK)
	 * still queued there was received and acknowledged, not lost.  Data
	 * purged unread is kept (the reset that follows says so too).
	 */
	if (!g.len && bpf_core_enum_value_exists(enum skb_drop_reason,
						 SKB_DROP_REASON_QUEUE_PURGE) &&
	    reason == bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_QUEUE_PURGE))
		return 0;
	if (!filter_tuple(&g.t, netns) || !filter_owner(c))
		return 0;
	drop_count(TS_DSTAT_SEEN);
	now = bpf_ktime_get_ns();
	if (!drop_take(now)) {
		drop_count(TS_DSTAT_SUPPRESSED);
		return 0;
	}
	d = bpf_ringbuf_reserve(&events, sizeof(*d), 0);
	if (!d) {
		count_drop(DROP_RING);
		return 0;
	}
	d->type = TS_REC_DROP;
	d->family = g.t.family;
	d->dir = g.dir;
	d->tcp_flags = g.flags;
	d->sport = g.t.sport;
	d->dport = g.t.dport;
	d->netns = netns;
	d->reason = reason;
	d->ts_ns = now;
	d->conn = id;
	d->location = location;
	d->seq = g.seq;
	d->ack = g.ack;
	d->len = g.len;
	d->state = state;
	base = g.dir == TS_DROP_IN && peer_isn(sk, state, &irs);
	d->has_base = base;
	d->seq_base = irs;
	d->pad2 = 0;
	__builtin_memset(d->pad, 0, sizeof(d->pad));
	__builtin_memcpy(d->saddr, g.t.saddr, TS_ADDR_LEN);
	__builtin_memcpy(d->daddr, g.t.daddr, TS_ADDR_LEN);
	bpf_ringbuf_submit(d, submit_flags());
	return 0;
}

/*
 * A dropped segment's socket: its state and namespace; non-zero when it
 * is not an inet socket (the drop is not ours).
 */
static __always_inline int drop_sock_of(const struct sock *sk, int *state, __u32 *netns)
{
	__u16 fam = BPF_CORE_READ(sk, __sk_common.skc_family);

	if (fam != AF_INET && fam != AF_INET6)
		return -1;
	*state = BPF_CORE_READ(sk, __sk_common.skc_state);
	*netns = sk_netns(sk, false);
	return 0;
}

/*
 * The btf variant: the socket the kernel names (rx_sk, 6.11+, on the
 * receive path once a socket was found) is a trusted pointer and gives
 * the cookie and the owner.  skb->sk (the sender's socket on the way out,
 * the early-demuxed one on the way in) is an RCU pointer that the cookie
 * and storage helpers refuse: only its state and namespace are read, and
 * user space joins such drops by addresses.
 */
static __always_inline int btf_drop_common(struct sk_buff *skb, void *location,
					   __u32 reason, struct sock *rx_sk)
{
	const struct sock *sk = rx_sk;
	struct conn *c = NULL;
	__u32 netns = 0;
	__u64 id = 0;
	int state = 0;

	if (not_a_drop(reason) || purged_empty(skb, reason))
		return 0;
	if (rx_sk) {
		if (rx_sk->__sk_common.skc_family != AF_INET &&
		    rx_sk->__sk_common.skc_family != AF_INET6)
			return 0;
		id = bpf_get_socket_cookie(rx_sk);
		c = btf_conn_find(rx_sk);
	} else {
		sk = BPF_CORE_READ(skb, sk);
	}
	if (sk && drop_sock_of(sk, &state, &netns))
		return 0;
	return emit_drop(skb, (__u64)location, reason, c, id, netns, state, sk);
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(btf_drop, struct sk_buff *skb, void *location,
	     enum skb_drop_reason reason)
{
	return btf_drop_common(skb, location, reason, NULL);
}

/* 6.11+ ("net: add rx_sk to trace_kfree_skb"): the receiving socket. */
SEC("tp_btf/kfree_skb")
int BPF_PROG(btf_drop_rx, struct sk_buff *skb, void *location,
	     enum skb_drop_reason reason, struct sock *rx_sk)
{
	return btf_drop_common(skb, location, reason, rx_sk);
}

SEC("tracepoint/skb/kfree_skb")
int tp_drop(struct trace_event_raw_kfree_skb___rx *ctx)
{
	const struct sk_buff *skb = BPF_CORE_READ(ctx, skbaddr);
	const struct sock *sk = NULL;
	struct conn *c = NULL;
	__u32 reason = 0, netns = 0;
	__u64 key, id = 0;
	int state = 0;

	if (!bpf_core_field_exists(ctx->reason))
		return 0;
	reason = BPF_CORE_READ(ctx, reason);
	if (not_a_drop(reason) || !skb || purged_empty(skb, reason))
		return 0;
	if (bpf_core_field_exists(ctx->rx_sk))
		sk = BPF_CORE_READ(ctx, rx_sk);
	if (!sk)
		sk = BPF_CORE_READ(skb, sk);
	if (sk) {
		if (drop_sock_of(sk, &state, &netns))
			return 0;
		key = (__u64)sk;
		c = bpf_map_lookup_elem(&conn_lru, &key);
		if (c)
			id = c->id;
	}
	return emit_drop(skb, (__u64)BPF_CORE_READ(ctx, location), reason, c,
			 id, netns, state, sk);
}
