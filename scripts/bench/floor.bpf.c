// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The benchmark floor: empty programs on the tracepoints tcpscope uses, in
 * the same form (tp_btf).  What they cost is what any tracer on these
 * tracepoints pays before doing any work; tcpscope's cost is compared with
 * it.  Kept out of bpf/ so that it is not linked into tcpscope.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

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
