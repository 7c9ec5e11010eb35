// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The benchmark floor: empty programs on the tracepoints tcpscope uses, in
 * the same form (tp_btf).  What they cost is what any tracer on these
 * tracepoints pays before doing any work; tcpscope's cost is compared with
 * it.  Kept out of bpf/ so that it is not linked into tcpscope.
 *
 * Two steps above the floor split tcpscope's cost into what every design
 * that reports each state change pays and what is tcpscope's own
 * (tcpscope-floor --ring N, --storage): ring_state reserves, stamps and
 * submits one ring-buffer record of N bytes per state change; store_state
 * does that and also keeps a small per-socket value in socket storage
 * (allocated on a socket's first event, freed with it); lru_state keeps
 * it in a preallocated LRU hash by socket address instead (made when the
 * socket starts a life, deleted when it reaches CLOSE); hash_state in a
 * plain preallocated hash.
 *
 * A step beside those (--lean N): what a tcpscope without any per-socket
 * state in the kernel would do per state change at least (issue 17).
 * lean_state reads the tuple, the socket cookie, the network namespace
 * (on a socket's birth only: user space would join it to the later
 * events), the owner (on the transitions a system call drives only), the
 * listener's owner for a passive child (a hash lookup keyed as tcpscope's
 * 'listeners'), the shutdown and flag bits, and sends one record; a
 * per-CPU marker then tells lean_check, the second program, that the
 * change was handled (tcpscope's btf_state_nested reads the socket's
 * storage for that).  lean_skip leaves parts out, to split the cost.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Record size (32, 64, 96 or 128 bytes) and the reader's wakeup threshold. */
const volatile __u32 rec_size = 96;
const volatile __u64 wakeup_bytes = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} ring SEC(".maps");

struct sval {
	__u64 id;
	__u64 last_ts;
	__u64 pad[6];
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sval);
} store SEC(".maps");

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(floor_state)
{
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(floor_retrans)
{
	return 0;
}

/*
 * --percpu: a ring for each CPU (ring_state's record, each CPU reserving
 * in its own ring: no lock or producer position shared between CPUs).
 */
struct ring_inner {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 256);
	__type(key, __u32);
	__array(values, struct ring_inner);
} rings SEC(".maps");

/* One record: the time, the socket, the states; the rest zeroed. */
#define FILL(n) FILL_ON(&ring, n)
#define FILL_ON(rb, n)                                                    \
	do {                                                              \
		__u64 *w = bpf_ringbuf_reserve(rb, n, 0);                 \
		if (!w)                                                   \
			return 0;                                         \
		w[0] = ts;                                                \
		w[1] = id;                                                \
		w[2] = ((__u64)old << 32) | (__u32)new;                   \
		w[3] = in_old;                                            \
		for (int i = 4; i < (n) / 8; i++)                         \
			w[i] = 0;                                         \
		bpf_ringbuf_submit(w, flags);                             \
	} while (0)

/* The backlog is checked once in 32 records per CPU, as tcpscope does. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} since_query SEC(".maps");

static __always_inline __u64 submit_flags_on(void *rb)
{
	__u32 zero = 0, *n = bpf_map_lookup_elem(&since_query, &zero);

	if (wakeup_bytes && n && !((*n)++ % 32) &&
	    bpf_ringbuf_query(rb, BPF_RB_AVAIL_DATA) >= wakeup_bytes)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

static __always_inline __u64 submit_flags(void)
{
	return submit_flags_on(&ring);
}

static __always_inline int emit(__u64 ts, __u64 id, int old, int new,
				__u64 in_old)
{
	__u64 flags = submit_flags();

	switch (rec_size) {
	case 32:
		FILL(32);
		break;
	case 64:
		FILL(64);
		break;
	case 128:
		FILL(128);
		break;
	default:
		FILL(96);
		break;
	}
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(ring_state, struct sock *sk, int old, int new)
{
	return emit(bpf_ktime_get_ns(), (__u64)sk, old, new, 0);
}

/* ring_state's 96-byte record in this CPU's own ring (--percpu 96). */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(pcpu_state, struct sock *sk, int old, int new)
{
	__u32 cpu = bpf_get_smp_processor_id();
	__u64 ts = bpf_ktime_get_ns(), id = (__u64)sk, in_old = 0, flags;
	void *rb = bpf_map_lookup_elem(&rings, &cpu);

	if (!rb)
		return 0;
	flags = submit_flags_on(rb);
	FILL_ON(rb, 96);
	return 0;
}

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf SEC(".maps");

/* The same record through a per-CPU perf buffer (what libbpf-tools use). */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(perf_state, struct sock *sk, int old, int new)
{
	__u64 w[12] = {};

	w[0] = bpf_ktime_get_ns();
	w[1] = (__u64)sk;
	w[2] = ((__u64)old << 32) | (__u32)new;
	bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, w, sizeof(w));
	return 0;
}

/* The per-socket value's id and time of the last event; the time since. */
static __always_inline __u64 stamp(struct sval *v, struct sock *sk, __u64 ts)
{
	__u64 in_old = v->last_ts ? ts - v->last_ts : 0;

	if (!v->id)
		v->id = bpf_get_socket_cookie(sk);
	v->last_ts = ts;
	return in_old;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(store_state, struct sock *sk, int old, int new)
{
	__u64 ts = bpf_ktime_get_ns(), in_old;
	struct sval *v;

	v = bpf_sk_storage_get(&store, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!v)
		return 0;
	in_old = stamp(v, sk, ts);
	return emit(ts, v->id, old, new, in_old);
}

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct sval);
} lru SEC(".maps");

/*
 * The value in a hash by socket address (map: lru or hash below): made
 * when the socket starts a life, deleted when it reaches CLOSE.
 */
static __always_inline int keyed_state(void *map, struct sock *sk, int old, int new)
{
	__u64 ts = bpf_ktime_get_ns(), in_old, key = (__u64)sk;
	struct sval *v, zero = {};

	if (old == BPF_TCP_CLOSE || (old == BPF_TCP_LISTEN && new == BPF_TCP_SYN_RECV))
		bpf_map_update_elem(map, &key, &zero, BPF_ANY);
	v = bpf_map_lookup_elem(map, &key);
	if (!v)
		return 0;
	in_old = stamp(v, sk, ts);
	emit(ts, v->id, old, new, in_old);
	if (new == BPF_TCP_CLOSE)
		bpf_map_delete_elem(map, &key);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(lru_state, struct sock *sk, int old, int new)
{
	return keyed_state(&lru, sk, old, new);
}

/* The same in a preallocated plain hash (per-CPU free lists, no LRU
 * lists to keep). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct sval);
} hash SEC(".maps");

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(hash_state, struct sock *sk, int old, int new)
{
	return keyed_state(&hash, sk, old, new);
}

/* ---- --lean: no per-socket state in the kernel ---- */

#define AF_INET6 10
#define IPPROTO_TCP 6
#define SEND_SHUTDOWN 2

/* What lean_state leaves out (tcpscope-floor --lean N without ...). */
enum {
	LEAN_NO_OWNER = 1 << 0,    /* pid, comm, cgroup on syscall transitions */
	LEAN_NO_LISTENER = 1 << 1, /* the listeners hash (add, find, delete) */
	LEAN_NO_NETNS = 1 << 2,    /* the namespace inode on births */
	LEAN_NO_COOKIE = 1 << 3,   /* bpf_get_socket_cookie() */
	LEAN_NO_FLAGS = 1 << 4,    /* sk_shutdown and skc_flags */
};
const volatile __u32 lean_skip = 0;

struct lean_tuple {
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
	__u8 family;
};

/* The record: 96 bytes, the fields of tcpscope's but the time in the old
 * state (which needs the previous event's time: user space would join). */
struct lean_rec {
	__u64 ts;
	__u64 cookie;
	__u8 old;
	__u8 new;
	__u8 family;
	__u8 flags;
	__u16 sport;
	__u16 dport;
	__u32 netns; /* 0 but on births */
	__u32 pid;   /* 0 but on syscall transitions and passive births */
	__u8 saddr[16];
	__u8 daddr[16];
	char comm[16];
	__u64 cgroup_id;
	__u64 pad;
};
_Static_assert(sizeof(struct lean_rec) == 96, "struct lean_rec: 96 bytes");

/* Keyed as tcpscope's 'listeners' (struct ts_listen_key). */
struct lean_lkey {
	__u32 netns;
	__u16 port;
	__u8 family;
	__u8 pad;
	__u8 addr[16];
};

struct lean_owner {
	__u32 pid;
	__u32 pad;
	char comm[16];
	__u64 cgroup_id;
	__u64 sk;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct lean_lkey);
	__type(value, struct lean_owner);
} lean_listeners SEC(".maps");

/* The last change lean_state handled on this CPU: (sk, (old << 4) | new). */
struct lean_mark {
	__u64 sk;
	__u8 done;
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lean_mark);
} lean_marks SEC(".maps");

/* Changes lean_check would have rescued (lean_state skipped), per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lean_rescues SEC(".maps");

#define LEAN_DONE(old, new) ((__u8)((((old) & 15) << 4) | ((new) & 15)))

/* Family, ports and addresses, as tcpscope's sk_tuple() reads them. */
static __always_inline void lean_tuple(struct sock *sk, struct lean_tuple *t)
{
	const struct sock_common *skc = &sk->__sk_common;

	t->sport = skc->skc_num;
	/* Released on the way to CLOSE (and none yet before connect()). */
	if (!t->sport) {
		struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);

		if (tp)
			t->sport = bpf_ntohs(tp->inet_conn.icsk_inet.inet_sport);
	}
	t->dport = bpf_ntohs(skc->skc_dport);
	if (skc->skc_family == AF_INET6) {
		t->family = 6;
		__builtin_memcpy(t->saddr, &skc->skc_v6_rcv_saddr, 16);
		__builtin_memcpy(t->daddr, &skc->skc_v6_daddr, 16);
	} else {
		__u32 s4 = skc->skc_rcv_saddr, d4 = skc->skc_daddr;

		t->family = 4;
		__builtin_memset(t->saddr, 0, 16);
		__builtin_memset(t->daddr, 0, 16);
		__builtin_memcpy(t->saddr, &s4, 4);
		__builtin_memcpy(t->daddr, &d4, 4);
	}
}

static __always_inline void lean_key(struct lean_lkey *k, __u32 netns,
				     const struct lean_tuple *t)
{
	k->netns = netns;
	k->port = t->sport;
	k->family = t->family;
	k->pad = 0;
	__builtin_memcpy(k->addr, t->saddr, 16);
}

/* The listener of a passive child: its own address, then the wildcard. */
static __always_inline struct lean_owner *lean_listener(__u32 netns,
							 const struct lean_tuple *t)
{
	struct lean_owner *o;
	struct lean_lkey k;

	lean_key(&k, netns, t);
	o = bpf_map_lookup_elem(&lean_listeners, &k);
	if (o)
		return o;
	__builtin_memset(k.addr, 0, 16);
	return bpf_map_lookup_elem(&lean_listeners, &k);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(lean_state, struct sock *sk, int old, int new)
{
	bool born = old == BPF_TCP_CLOSE ||
		    (old == BPF_TCP_LISTEN && new == BPF_TCP_SYN_RECV);
	bool syscall = (old == BPF_TCP_CLOSE && new == BPF_TCP_SYN_SENT) ||
		       new == BPF_TCP_LISTEN || new == BPF_TCP_FIN_WAIT1 ||
		       new == BPF_TCP_LAST_ACK;
	__u32 zero = 0, netns = 0;
	struct lean_owner *lo;
	struct lean_mark *m;
	struct lean_tuple t;
	struct lean_rec *r;
	__u8 flags = 0;

	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	lean_tuple(sk, &t);
	if (born && !(lean_skip & LEAN_NO_NETNS))
		netns = sk->__sk_common.skc_net.net->ns.inum;
	if (!(lean_skip & LEAN_NO_FLAGS)) {
		unsigned long skf = sk->__sk_common.skc_flags;

		if (sk->sk_shutdown & SEND_SHUTDOWN)
			flags |= 1;
		if (skf & (1UL << bpf_core_enum_value(enum sock_flags, SOCK_DONE)))
			flags |= 2;
		if (skf & (1UL << bpf_core_enum_value(enum sock_flags, SOCK_DEAD)))
			flags |= 4;
	}
	r = bpf_ringbuf_reserve(&ring, sizeof(*r), 0);
	if (!r)
		return 0;
	r->ts = bpf_ktime_get_ns();
	r->cookie = lean_skip & LEAN_NO_COOKIE ? (__u64)sk :
		    bpf_get_socket_cookie(sk);
	r->old = old;
	r->new = new;
	r->family = t.family;
	r->flags = flags;
	r->sport = t.sport;
	r->dport = t.dport;
	r->netns = netns;
	__builtin_memcpy(r->saddr, t.saddr, 16);
	__builtin_memcpy(r->daddr, t.daddr, 16);
	r->pad = 0;
	if (syscall && !(lean_skip & LEAN_NO_OWNER)) {
		r->pid = bpf_get_current_pid_tgid() >> 32;
		bpf_get_current_comm(r->comm, sizeof(r->comm));
		r->cgroup_id = bpf_get_current_cgroup_id();
	} else if (old == BPF_TCP_LISTEN && new == BPF_TCP_SYN_RECV &&
		   !(lean_skip & LEAN_NO_LISTENER) &&
		   (lo = lean_listener(netns, &t))) {
		r->pid = lo->pid;
		__builtin_memcpy(r->comm, lo->comm, 16);
		r->cgroup_id = lo->cgroup_id;
	} else {
		r->pid = 0;
		__builtin_memset(r->comm, 0, 16);
		r->cgroup_id = 0;
	}
	if (!(lean_skip & LEAN_NO_LISTENER) &&
	    (new == BPF_TCP_LISTEN || old == BPF_TCP_LISTEN)) {
		struct lean_lkey k;

		lean_key(&k, netns, &t);
		if (new == BPF_TCP_LISTEN) {
			struct lean_owner o = {
				.pid = r->pid,
				.cgroup_id = r->cgroup_id,
				.sk = (__u64)sk,
			};

			__builtin_memcpy(o.comm, r->comm, 16);
			bpf_map_update_elem(&lean_listeners, &k, &o, BPF_ANY);
		} else if (new == BPF_TCP_CLOSE) {
			/* The listener's namespace: not a birth, read it. */
			k.netns = sk->__sk_common.skc_net.net->ns.inum;
			lo = bpf_map_lookup_elem(&lean_listeners, &k);
			if (lo && lo->sk == (__u64)sk)
				bpf_map_delete_elem(&lean_listeners, &k);
		}
	}
	bpf_ringbuf_submit(r, submit_flags());
	m = bpf_map_lookup_elem(&lean_marks, &zero);
	if (m) {
		m->sk = (__u64)sk;
		m->done = LEAN_DONE(old, new);
	}
	return 0;
}

/* Attached after lean_state: did it handle this change? */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(lean_check, struct sock *sk, int old, int new)
{
	__u32 zero = 0;
	struct lean_mark *m;
	__u64 *n;

	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	m = bpf_map_lookup_elem(&lean_marks, &zero);
	if (m && m->sk == (__u64)sk && m->done == LEAN_DONE(old, new))
		return 0;
	/* lean_state was skipped: tcpscope would make the record here. */
	n = bpf_map_lookup_elem(&lean_rescues, &zero);
	if (n)
		*n += 1;
	return 0;
}
