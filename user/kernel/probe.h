/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Feature probes: what the running kernel has, asked before anything is
 * loaded (from tracefs and the kernel's BTF, never from version numbers).
 * The loader and the snapshot iterators choose their variant from these.
 */
#ifndef TS_PROBE_H
#define TS_PROBE_H

#include <stdbool.h>
#include <stdint.h>

struct btf;

/*
 * Test seam (docs/DESIGN.md): TCPSCOPE_HIDE_TP=a,btf:b,classic:c makes
 * the named tracepoints look absent, in both forms or in the one named.
 * The probes below honour it.
 */

/* The classic tracepoint CAT:TP exists (tracefs events directory). */
bool ts_probe__tp_classic(const char *cat, const char *tp);
/* The tp_btf/ form of TP exists (its btf_trace_TP typedef in vmlinux). */
bool ts_probe__tp_btf(const struct btf *vmlinux, const char *tp);
/* Arguments of BTF tracepoint TP (without its data pointer); -1 if unknown. */
int ts_probe__tp_btf_nargs(const struct btf *vmlinux, const char *tp);
/*
 * skb:kfree_skb carries enum skb_drop_reason (5.17+): its classic record
 * has a reason member (the tp_btf form then has it as third argument).
 */
bool ts_probe__drop_reasons(const struct btf *vmlinux);
/*
 * tcp_retransmit_skb has err (and fires for a failed attempt too; before,
 * on success only); tcp_send_reset has the kernel's reset reason (6.10+).
 */
bool ts_probe__retransmit_err(const struct btf *vmlinux);
bool ts_probe__reset_reasons(const struct btf *vmlinux);
/* skb:kfree_skb has the receiving socket (rx_sk, 6.11+): btf_drop_rx. */
bool ts_probe__drop_rx_sk(const struct btf *vmlinux);

/*
 * accept()'s owner by fexit on inet_csk_accept(): the number of its
 * arguments (4 before 6.10, then 2) when a trivial fexit program on it
 * loads and attaches here, else 0 with *why a -errno that
 * ts_probe__fexit_why() tells (-ENOENT: not in BTF, or own_btf false:
 * BTF that is not the running kernel's own has no ids to attach to).
 * Asked once: the answer is kept.  Test seam: TCPSCOPE_TEST_NO_FEXIT
 * makes it refused.
 */
int ts_probe__fexit_accept(const struct btf *vmlinux, bool own_btf, int *why);
const char *ts_probe__fexit_why(int why);

/*
 * The BPF iterators the snapshot needs: iter/tcp, and iter/task_file when
 * pids.  0, or -EOPNOTSUPP (or the BTF read's -errno) after an error line
 * naming the kernel needed.
 */
int ts_probe__iterators(bool pids);
/*
 * How this kernel's iter/tcp walks the established table (what
 * check_skipped() in bpf/snapshot.bpf.c answers), from its BTF.
 */
enum ts_iter_walk {
	TS_ITER_WALK_UNKNOWN = -1,	/* no BTF */
	TS_ITER_WALK_SOCKETS = 0,	/* socket by socket (before 5.15) */
	TS_ITER_WALK_COOKIES = 1,	/* batches resumed by cookie (6.16, 6.12.y) */
	/* batches resumed by an offset, which can skip a whole hash bucket:
	 * the snapshot reads that bucket itself */
	TS_ITER_WALK_OFFSETS = 2,
};
enum ts_iter_walk ts_probe__iter_walk(void);
/* The kernel's HZ (for icsk_rto, in jiffies), 0 when it cannot be told. */
uint32_t ts_probe__kernel_hz(void);

#endif
