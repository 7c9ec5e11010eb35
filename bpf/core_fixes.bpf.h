/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * CO-RE "flavors" of kernel types whose layout changed across the kernels
 * tcpscope supports (5.8 and later).  libbpf strips the ___suffix when it
 * matches against the running kernel's BTF.
 */
#ifndef TCPSCOPE_CORE_FIXES_BPF_H
#define TCPSCOPE_CORE_FIXES_BPF_H

#include <bpf/bpf_core_read.h>

/*
 * tcp_retransmit_skb used to share the tcp_event_sk_skb event class with
 * tcp_send_reset; recent kernels give it a class of its own (which added an
 * err field).  Only skaddr and state are read, and they exist in both.
 */
struct trace_event_raw_tcp_event_sk_skb___old {
	const void *skaddr;
	int state;
} __attribute__((preserve_access_index));

struct trace_event_raw_tcp_retransmit_skb___new {
	const void *skaddr;
	int state;
	int err; /* the attempt failed: nothing was sent (6.x and later) */
} __attribute__((preserve_access_index));

#endif /* TCPSCOPE_CORE_FIXES_BPF_H */
