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
 * err field).  Only skbaddr, skaddr and state are read, and they exist
 * in both.
 */
struct trace_event_raw_tcp_event_sk_skb___old {
	const void *skbaddr;
	const void *skaddr;
	int state;
} __attribute__((preserve_access_index));

struct trace_event_raw_tcp_retransmit_skb___new {
	const void *skbaddr;
	const void *skaddr;
	int state;
	int err; /* not in every kernel of this class: check it exists */
} __attribute__((preserve_access_index));

/*
 * TCP_SKB_CB(skb)->tcp_flags is a u8 in 5.10 and 6.1 and a u16 in the
 * kernels of vmlinux.h (6.18: the AccECN work made room for the AE bit).
 * BPF_CORE_READ relocates the offset but reads vmlinux.h's two bytes; on a
 * kernel with the u8 the second byte is 'sacked'.  The bits tcpscope uses
 * (FIN, SYN, ACK) are in the low byte (little-endian) either way, so the
 * read is masked rather than flavoured.
 */

/*
 * tcp_send_reset had the tcp_event_sk_skb class (above) until commit
 * 19822a980e19 ("trace: tcp: fully support trace_tcp_send_reset", 6.10)
 * gave it a class of its own, trace_event_raw_tcp_send_reset (skaddr and
 * skbaddr are in both: the classic variant reads whichever the kernel has,
 * by bpf_core_type_exists()).  The same commit made the tracepoint fire for
 * resets sent without a full socket (no socket: a refused connection; a
 * timewait socket); before 6.10 only resets of full sockets are seen, in
 * both variants.
 */

/*
 * A passive connection's LISTEN -> SYN_RECV, fired by inet_csk_clone_lock()
 * on the child socket.  Until commit a3a128f611a9 ("inet: consolidate
 * inet_csk_clone_lock()", 6.15) the kernel changed the state right after
 * sk_clone_lock() copied the listener, before it set the child's peer port,
 * its addresses (tcp_v4/v6_syn_recv_sock() did that afterwards) and its
 * socket cookie (from the request socket): the event showed 0.0.0.0:0 as
 * the peer and the listener's cookie as the connection id.  Such a child
 * is recognised by its data, not by the kernel's version: its peer port is
 * still the listener's 0, which no connected socket has.  tcpscope then
 * holds the record until the connection's next event (SYN_RECV ->
 * ESTABLISHED or -> CLOSE), when the fields are the child's own.
 */
static __always_inline bool child_born_early(int old, int new, __u16 dport)
{
	return old == TCP_LISTEN && new == TCP_SYN_RECV && dport == 0;
}

/*
 * Atomic read-modify-write instructions that return the old value
 * (BPF_ATOMIC | BPF_FETCH, what clang emits for a used
 * __sync_fetch_and_add()) are accepted from 5.12 (commit 5ca419f2864a,
 * "bpf: Add BPF_FETCH field / create atomic_fetch_add instruction"); older
 * verifiers refuse them with "BPF_STX uses reserved fields".  The classic
 * variant, which exists for older kernels, uses none: see classic_new_id()
 * in tcpscope.bpf.c.
 */

/*
 * Where a TCP socket's timers live (snapshot -o).
 *  - The expiry of the pending retransmit/probe event: the icsk_timeout
 *    field in older kernels, icsk_retransmit_timer.expires in later ones
 *    (6.18), and from 6.19 (commit 9a5e5334adc0, "tcp: remove
 *    icsk->icsk_retransmit_timer") sk->tcp_retransmit_timer, which shares
 *    its storage with sk_timer.
 *  - The keepalive timer: sk->sk_timer until 6.19 (commit 08dfe370239e,
 *    "tcp: introduce icsk->icsk_keepalive_timer"), then
 *    icsk->icsk_keepalive_timer.  Reading sk_timer there would show the
 *    retransmit timer as keepalive.
 * vmlinux.h (6.18) has icsk_retransmit_timer and sk_timer; the others are
 * flavours, each read only where bpf_core_field_exists() says it is.
 */
struct inet_connection_sock___old {
	unsigned long icsk_timeout;
} __attribute__((preserve_access_index));

struct inet_connection_sock___619 {
	struct timer_list icsk_keepalive_timer;
} __attribute__((preserve_access_index));

struct sock___619 {
	struct timer_list tcp_retransmit_timer;
} __attribute__((preserve_access_index));

/*
 * sk is a full TCP socket.  raw (a constant at every call) says how it is
 * read: false, directly (a trusted, BTF-typed pointer); true, with
 * bpf_probe_read_kernel() (a pointer found in a hash chain).
 */
static __always_inline unsigned long tcp_rtx_timer_expires(struct sock *sk, const bool raw)
{
	struct inet_connection_sock *icsk = (struct inet_connection_sock *)sk;
	struct inet_connection_sock___old *old = (void *)sk;
	struct sock___619 *s619 = (void *)sk;

	if (bpf_core_field_exists(s619->tcp_retransmit_timer))
		return raw ? BPF_CORE_READ(s619, tcp_retransmit_timer.expires) :
			     s619->tcp_retransmit_timer.expires;
	if (bpf_core_field_exists(old->icsk_timeout))
		return raw ? BPF_CORE_READ(old, icsk_timeout) : old->icsk_timeout;
	return raw ? BPF_CORE_READ(icsk, icsk_retransmit_timer.expires) :
		     icsk->icsk_retransmit_timer.expires;
}

/* Where the keepalive timer is (an address: nothing is read). */
static __always_inline struct timer_list *tcp_keepalive_timer(struct sock *sk)
{
	struct inet_connection_sock___619 *icsk = (void *)sk;

	if (bpf_core_field_exists(icsk->icsk_keepalive_timer))
		return &icsk->icsk_keepalive_timer;
	return &sk->sk_timer;
}

/*
 * For recovering what iter/tcp skipped (snapshot.bpf.c):
 *  - the TCP hash tables are found through the namespace's
 *    tcp_death_row.hashinfo, a member of an embedded struct in 5.15 and
 *    from 6.1, behind a pointer in 5.19 and 6.0;
 *  - a request socket's listener is request_sock.rsk_listener until it
 *    became .sk (vmlinux.h's name).
 */
struct netns_ipv4___dr_ptr {
	struct inet_timewait_death_row *tcp_death_row;
} __attribute__((preserve_access_index));

struct net___dr_ptr {
	struct netns_ipv4___dr_ptr ipv4;
} __attribute__((preserve_access_index));

struct request_sock___old {
	struct sock *rsk_listener;
} __attribute__((preserve_access_index));

/*
 * skb:kfree_skb's record: reason came with "net: skb: introduce
 * kfree_skb_reason()" (5.17), rx_sk with "net: add rx_sk to
 * trace_kfree_skb" (6.11).  Read each only where
 * bpf_core_field_exists() finds it; without reason the program is not
 * loaded at all (user/kernel/loader.c).
 */
struct trace_event_raw_kfree_skb___rx {
	void *skbaddr;
	void *location;
	void *rx_sk;
	enum skb_drop_reason reason;
} __attribute__((preserve_access_index));

#endif /* TCPSCOPE_CORE_FIXES_BPF_H */
