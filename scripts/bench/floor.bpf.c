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
 * socket starts a life, deleted when it reaches CLOSE).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

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

/* One record: the time, the socket, the states; the rest zeroed. */
#define FILL(n)                                                           \
	do {                                                              \
		__u64 *w = bpf_ringbuf_reserve(&ring, n, 0);              \
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

static __always_inline int emit(__u64 ts, __u64 id, int old, int new,
				__u64 in_old)
{
	__u64 flags = BPF_RB_NO_WAKEUP;
	__u32 zero = 0, *n = bpf_map_lookup_elem(&since_query, &zero);

	if (wakeup_bytes && n && !((*n)++ % 32) &&
	    bpf_ringbuf_query(&ring, BPF_RB_AVAIL_DATA) >= wakeup_bytes)
		flags = BPF_RB_FORCE_WAKEUP;
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

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(lru_state, struct sock *sk, int old, int new)
{
	__u64 ts = bpf_ktime_get_ns(), in_old, key = (__u64)sk;
	struct sval *v, zero = {};

	if (old == BPF_TCP_CLOSE || (old == BPF_TCP_LISTEN && new == BPF_TCP_SYN_RECV))
		bpf_map_update_elem(&lru, &key, &zero, BPF_ANY);
	v = bpf_map_lookup_elem(&lru, &key);
	if (!v)
		return 0;
	in_old = stamp(v, sk, ts);
	emit(ts, v->id, old, new, in_old);
	if (new == BPF_TCP_CLOSE)
		bpf_map_delete_elem(&lru, &key);
	return 0;
}
