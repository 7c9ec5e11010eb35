/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Open, configure, load and attach the tracing programs, choosing the
 * variant the running kernel can take, then seed what they cannot see
 * (the owners of listeners older than the tracer).  The only file that
 * knows the skeleton of tcpscope.bpf.c.
 */
#ifndef TS_LOADER_H
#define TS_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/stream/filter.h"

enum ts_tp_mode {
	TS_TP_AUTO = 0,
	TS_TP_BTF,	/* tp_btf/: typed socket, cookies, socket storage */
	TS_TP_CLASSIC, /* tracepoint/: for kernels without the above */
};

struct ts_loader_opts {
	struct ts_filter filter;
	uint64_t ring_bytes;   /* power of two, multiple of the page size */
	uint64_t wakeup_bytes; /* wake the reader past this backlog; 0 never */
	enum ts_tp_mode mode;
	bool no_drops; /* --no-drops: skb:kfree_skb is not loaded */
	/* --no-accept: the accept() syscall tracepoints are not loaded */
	bool no_accept;
};

struct ts_knames;
struct ts_loader;
struct ts_sock;

/*
 * Preflight, then open, configure, load and attach (falling back from
 * btf to classic in auto mode).  Returns 0, or a negative errno after
 * printing one line saying why.
 */
int ts_loader__open(const struct ts_loader_opts *o, struct ts_loader **out);
/*
 * Seed the owners of sockets older than the tracer: listeners and the
 * holders of other sockets among socks (a snapshot taken after
 * ts_loader__open, so that nothing falls in between; NULL if none), and,
 * without a --netns filter, of every other network namespace.  Owners
 * the programs recorded live win.  Says with -v how many were seeded.
 */
void ts_loader__seed(struct ts_loader *l, const struct ts_filter *f,
		     const struct ts_sock *socks, size_t n);
int ts_loader__ring_fd(const struct ts_loader *l);
/* The ring buffer's size in bytes, as loaded. */
uint64_t ts_loader__ring_bytes(const struct ts_loader *l);
/* Whether drops are traced, and if not, why (docs/TIMELINE.md). */
enum ts_drops_state {
	TS_DROPS_ON = 0,
	TS_DROPS_OFF,	     /* --no-drops */
	TS_DROPS_NO_REASONS, /* skb:kfree_skb has no reason (before 5.17) */
	TS_DROPS_NOT_LOADED, /* it has, but the program could not attach */
};
enum ts_drops_state ts_loader__drops_state(const struct ts_loader *l);
/* Drops seen (past the filters) and suppressed by the kernel's bucket. */
int ts_loader__drop_stats(const struct ts_loader *l, uint64_t *seen,
			  uint64_t *suppressed);
/* Events lost, by cause (their sum is what is lost). */
struct ts_losses {
	uint64_t ring;	 /* ring-buffer reservations refused */
	uint64_t state;	 /* no per-connection state could be made */
	uint64_t nested; /* runs the kernel skipped: a program already ran
			  * on that CPU (recursion misses), none taking over */
	uint64_t rescued; /* state changes btf_state_nested made for btf_state */
};
int ts_loader__losses(const struct ts_loader *l, struct ts_losses *out);
/* The programs the kernel skipped runs of, "name count, ...", in buf; ""
 * when none. */
void ts_loader__skipped(const struct ts_loader *l, char *buf, size_t len);
/* The variant loaded (never TS_TP_AUTO), and its name for messages. */
enum ts_tp_mode ts_loader__mode(const struct ts_loader *l);
const char *ts_loader__mode_name(const struct ts_loader *l);
/* The drop and reset reason names of this kernel (read from the BTF the
 * load used), now the caller's to free; NULL when already taken. */
struct ts_knames *ts_loader__take_knames(struct ts_loader *l);
void ts_loader__free(struct ts_loader *l);

/* Optional tracepoints, in the order of ts_kernel_probe's arrays. */
enum { TS_PROBE_SEND_RESET, TS_PROBE_RECV_RESET, TS_PROBE_SYNACK, TS_PROBE_NTP };
extern const char *const ts_probe_tp_names[TS_PROBE_NTP];

/*
 * What the running kernel offers, found by the probes that choose what
 * 'trace' loads: both variants are loaded (and dropped) for real.
 */
struct ts_kernel_probe {
	bool btf;		 /* kernel BTF readable */
	int btf_err;		 /* 0: the btf variant loads; else -errno */
	int classic_err;	 /* 0: the classic variant loads; else -errno */
	char btf_why[160];	 /* the verifier's last word when it refused */
	char classic_why[160];
	enum ts_tp_mode chosen;	 /* what --tp-mode auto loads (AUTO: none) */
	bool tp_btf[TS_PROBE_NTP];
	bool tp_classic[TS_PROBE_NTP];
	/* tcp_send_reset fires without a full socket (its own record class,
	 * trace_event_raw_tcp_send_reset, came with that: 19822a980e19). */
	bool socketless_resets;
	/* BPF memory is charged to the memory cgroup, not RLIMIT_MEMLOCK
	 * (5.11; probed as libbpf does, by a helper of the same release):
	 * without it CAP_BPF alone cannot create the maps. */
	bool memcg_accounting;
	/* skb:kfree_skb has a drop reason (5.17+); and the receiving socket
	 * (6.11+); tcp_send_reset has a reset reason (6.10+). */
	bool drop_reasons;
	bool drops_refused; /* the chosen variant loads only without drops */
	bool drop_rx_sk;
	bool reset_reasons;
	/* tcp_retransmit_skb has err and fires for failed attempts too; before
	 * (success only) a failed transmit the socket counts has no record. */
	bool retransmit_err;
	/* accept()'s owner by fexit on inet_csk_accept(): its arguments (4,
	 * 2), or 0 when refused, with why (ts_probe__fexit_why()): then the
	 * syscalls: tracepoints. */
	int accept_fexit;
	int accept_fexit_why;
};

/* Fills p; 0, or a negative errno when nothing can be probed (no
 * privileges, no BTF) after one line saying why. */
int ts_loader__probe(struct ts_kernel_probe *p);

#endif
