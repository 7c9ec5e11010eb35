// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The tracing programs' life, in phases: preflight (preflight.c), open the
 * skeleton, configure it (filters, sizes, which programs load, from the
 * probes of probe.c), load, attach, and seed the listener owners from a
 * snapshot the caller took.  In auto mode the btf variant is tried first
 * and classic follows if it does not load.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "kernel/loader.h"
#include "kernel/knames_btf.h"
#include "kernel/preflight.h"
#include "kernel/probe.h"
#include "core/sock/sock.h"
#include "core/util/cgroup.h"
#include "core/util/log.h"
#include "kernel/snapshot.h"
#include "tcpscope.skel.h"

struct ts_loader {
	struct tcpscope_bpf *skel;
	enum ts_tp_mode mode;
	int ncpu;
	enum ts_drops_state drops;
	/* Reason names from the BTF parsed here, for the live source. */
	struct ts_knames *knames;
};

/* The category of a program that is fexit on a function, not a tracepoint. */
#define FEXIT "fexit"

/* A program, the tracepoint it needs, and whether tcpscope needs it. */
struct prog_desc {
	const char *category;
	const char *tp;
	bool required;
	enum ts_tp_mode mode;
	struct bpf_program *(*get)(struct tcpscope_bpf *s);
	struct bpf_link **(*link)(struct tcpscope_bpf *s);
	/* Loaded only when this says so too (NULL: always). */
	bool (*want)(const struct ts_loader_opts *o, const struct btf *vmlinux);
};

/* Connections the btf variant can keep outside socket storage. */
#define TS_STORAGE_FALLBACK_MAX 8192

#define PROG(name)                                                            \
	static struct bpf_program *get_##name(struct tcpscope_bpf *s)         \
	{                                                                     \
		return s->progs.name;                                         \
	}                                                                     \
	static struct bpf_link **link_##name(struct tcpscope_bpf *s)          \
	{                                                                     \
		return &s->links.name;                                        \
	}
PROG(btf_state)
PROG(btf_state_nested)
PROG(btf_retrans)
PROG(btf_synack)
PROG(btf_rst_recv)
PROG(btf_rst_sent)
PROG(btf_destroy)
PROG(tp_state)
PROG(tp_retrans)
PROG(tp_synack)
PROG(tp_rst_recv)
PROG(tp_rst_sent)
PROG(tp_accept4)
PROG(tp_accept)
PROG(fx_accept4)
PROG(fx_accept2)
PROG(btf_drop)
PROG(btf_drop_rx)
PROG(tp_drop)

/*
 * skb:kfree_skb: only where it has a reason (5.17+), checked in the
 * kernel's BTF: the tp_btf prototype's arguments (skb, location, reason
 * and from 6.11 rx_sk) choose between btf_drop and btf_drop_rx; the
 * classic record's struct has a reason member.
 */
static bool drops_btf3(const struct ts_loader_opts *o, const struct btf *vmlinux)
{
	return !o->no_drops && ts_probe__tp_btf_nargs(vmlinux, "kfree_skb") == 3;
}

static bool drops_btf4(const struct ts_loader_opts *o, const struct btf *vmlinux)
{
	return !o->no_drops && ts_probe__drop_rx_sk(vmlinux);
}

static bool drops_classic(const struct ts_loader_opts *o, const struct btf *vmlinux)
{
	return !o->no_drops && ts_probe__drop_reasons(vmlinux);
}

/*
 * accept(), unless --no-accept: by fexit on inet_csk_accept() where the
 * kernel allows it, with the program that fits its arguments; else by the
 * syscalls: tracepoints (accept_plan() says which, and what that costs).
 */
static int fexit_accept(const struct btf *vmlinux, int *why)
{
	return ts_probe__fexit_accept(vmlinux, !ts_preflight__btf_path(), why);
}

/* How accept() is told: -1 not (--no-accept), 0 by the syscall
 * tracepoints, else fexit with inet_csk_accept()'s argument count. */
static int accept_way(const struct ts_loader_opts *o, const struct btf *vmlinux)
{
	int why;

	return o->no_accept ? -1 : fexit_accept(vmlinux, &why);
}

static bool accepts_fexit4(const struct ts_loader_opts *o, const struct btf *vmlinux)
{
	return accept_way(o, vmlinux) == 4;
}

static bool accepts_fexit2(const struct ts_loader_opts *o, const struct btf *vmlinux)
{
	return accept_way(o, vmlinux) == 2;
}

static bool accepts_syscalls(const struct ts_loader_opts *o, const struct btf *vmlinux)
{
	return accept_way(o, vmlinux) == 0;
}

static const struct prog_desc progs[] = {
	{ "sock", "inet_sock_set_state", true, TS_TP_BTF, get_btf_state, link_btf_state },
	/* Runs only where the kernel skipped btf_state (tcpscope.bpf.c). */
	{ "sock", "inet_sock_set_state", true, TS_TP_BTF, get_btf_state_nested,
	  link_btf_state_nested },
	{ "tcp", "tcp_retransmit_skb", true, TS_TP_BTF, get_btf_retrans, link_btf_retrans },
	{ "tcp", "tcp_retransmit_synack", false, TS_TP_BTF, get_btf_synack, link_btf_synack },
	{ "tcp", "tcp_receive_reset", false, TS_TP_BTF, get_btf_rst_recv, link_btf_rst_recv },
	{ "tcp", "tcp_send_reset", false, TS_TP_BTF, get_btf_rst_sent, link_btf_rst_sent },
	/* Deletes a destroyed socket's entry of conn_hash (tcpscope.bpf.c). */
	{ "tcp", "tcp_destroy_sock", true, TS_TP_BTF, get_btf_destroy, link_btf_destroy },
	{ "sock", "inet_sock_set_state", true, TS_TP_CLASSIC, get_tp_state, link_tp_state },
	{ "tcp", "tcp_retransmit_skb", true, TS_TP_CLASSIC, get_tp_retrans, link_tp_retrans },
	{ "tcp", "tcp_retransmit_synack", false, TS_TP_CLASSIC, get_tp_synack, link_tp_synack },
	{ "tcp", "tcp_receive_reset", false, TS_TP_CLASSIC, get_tp_rst_recv, link_tp_rst_recv },
	{ "tcp", "tcp_send_reset", false, TS_TP_CLASSIC, get_tp_rst_sent, link_tp_rst_sent },
	/* accept(): both variants (TS_TP_AUTO); without them a passive
	 * connection keeps its listener's owner (docs/DESIGN.md). */
	{ "syscalls", "sys_exit_accept4", false, TS_TP_AUTO, get_tp_accept4, link_tp_accept4,
	  accepts_syscalls },
	{ "syscalls", "sys_exit_accept", false, TS_TP_AUTO, get_tp_accept, link_tp_accept,
	  accepts_syscalls },
	/* Not a tracepoint: fexit on the function (category FEXIT). */
	{ FEXIT, "inet_csk_accept", false, TS_TP_AUTO, get_fx_accept4, link_fx_accept4,
	  accepts_fexit4 },
	{ FEXIT, "inet_csk_accept", false, TS_TP_AUTO, get_fx_accept2, link_fx_accept2,
	  accepts_fexit2 },
	{ "skb", "kfree_skb", false, TS_TP_BTF, get_btf_drop, link_btf_drop, drops_btf3 },
	{ "skb", "kfree_skb", false, TS_TP_BTF, get_btf_drop_rx, link_btf_drop_rx, drops_btf4 },
	{ "skb", "kfree_skb", false, TS_TP_CLASSIC, get_tp_drop, link_tp_drop, drops_classic },
};

static bool is_fexit(const struct prog_desc *d)
{
	return !strcmp(d->category, FEXIT);
}

static bool is_drop_prog(const struct prog_desc *d)
{
	return !strcmp(d->tp, "kfree_skb");
}

#define NPROGS (sizeof(progs) / sizeof(progs[0]))

static const char *mode_name(enum ts_tp_mode m)
{
	switch (m) {
	case TS_TP_BTF:
		return "btf";
	case TS_TP_CLASSIC:
		return "classic";
	default:
		return "auto";
	}
}

static bool tp_exists(const struct btf *vmlinux, const struct prog_desc *d)
{
	if (is_fexit(d))
		return true; /* its want() probed it */
	if (d->mode == TS_TP_AUTO)
		return ts_probe__tp_classic(d->category, d->tp);
	if (d->mode == TS_TP_BTF)
		return ts_probe__tp_btf(vmlinux, d->tp);
	return ts_probe__tp_classic(d->category, d->tp);
}

/* Phase open: the skeleton, with CO-RE against the kernel's BTF. */
static int phase_open(struct tcpscope_bpf **out)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo,
		    .btf_custom_path = ts_preflight__btf_path());

	*out = tcpscope_bpf__open_opts(&oo);
	if (!*out)
		return -errno ? -errno : -EINVAL;
	return 0;
}

/* Which programs of the variant load: those whose tracepoint exists; a
 * required one missing is an error. */
static int choose_programs(struct tcpscope_bpf *skel, const struct ts_loader_opts *o,
			   enum ts_tp_mode mode, const struct btf *vmlinux)
{
	enum ts_tp_mode asked = o->mode;

	for (size_t i = 0; i < NPROGS; i++) {
		const struct prog_desc *d = &progs[i];
		bool mine = d->mode == mode || d->mode == TS_TP_AUTO;
		bool on = mine && tp_exists(vmlinux, d);

		if (d->want && !d->want(o, vmlinux)) {
			/* Left out by choice or by a probe: said once, in
			 * drops_plan() or accept_plan(). */
			bpf_program__set_autoload(d->get(skel), false);
			continue;
		}

		if (mine && !on && d->required) {
			if (asked == TS_TP_AUTO)
				ts_err("kernel lacks tracepoint %s:%s, which tcpscope needs (in neither tp_btf nor classic form)",
				       d->category, d->tp);
			else
				ts_err("kernel lacks tracepoint %s:%s in %s form, which tcpscope needs (try --tp-mode auto)",
				       d->category, d->tp, mode_name(mode));
			return -ENOENT;
		}
		if (mine && !on)
			ts_info("tracepoint %s:%s not in this kernel: skipped%s",
				d->category, d->tp,
				d->mode == TS_TP_AUTO ?
					" (accepted connections keep their listener's owner)" : "");
		bpf_program__set_autoload(d->get(skel), on);
	}
	return 0;
}

/* Phase configure: filters and settings, map sizes, programs. */
static int phase_configure(struct tcpscope_bpf *skel, const struct ts_loader_opts *o,
			   enum ts_tp_mode mode, const struct btf *vmlinux)
{
	int err;

	skel->rodata->filter_pid = o->filter.pid;
	skel->rodata->filter_netns = o->filter.netns;
	skel->rodata->filter_port = o->filter.port;
	skel->rodata->filter_sport = o->filter.sport;
	skel->rodata->filter_dport = o->filter.dport;
	skel->rodata->filter_family = o->filter.family;
	skel->rodata->filter_cgroup = o->filter.cgroup != NULL;
	skel->rodata->wakeup_bytes = o->wakeup_bytes;
	skel->rodata->classic_variant = mode != TS_TP_BTF;
	skel->rodata->retrans_has_err = ts_probe__retransmit_err(vmlinux);
	skel->rodata->rst_has_reason = ts_probe__reset_reasons(vmlinux);
	skel->rodata->kernel_hz = ts_probe__kernel_hz();
	ts_info("kernel HZ %u%s", skel->rodata->kernel_hz,
		skel->rodata->kernel_hz ? "" : " (unknown: retransmission timeouts not shown)");

	/* Tests only: the btf variant as if its hash were full, or as if
	 * socket storage were refused too. */
	skel->rodata->test_hash_full = getenv("TCPSCOPE_TEST_HASH_FULL") != NULL;
	skel->rodata->test_no_storage = getenv("TCPSCOPE_TEST_NO_STORAGE") != NULL;
	skel->rodata->test_skip_state = getenv("TCPSCOPE_TEST_SKIP_STATE") != NULL;

	err = bpf_map__set_max_entries(skel->maps.events, (__u32)o->ring_bytes);
	/*
	 * The btf variant keeps connections in conn_hash, then socket
	 * storage; conn_lru holds only those whose storage the kernel
	 * refused (btf_conn_make()).
	 */
	if (!err && mode == TS_TP_BTF)
		err = bpf_map__set_max_entries(skel->maps.conn_lru, TS_STORAGE_FALLBACK_MAX);
	/* The classic variant does not use conn_hash: no memory for it. */
	if (!err && mode != TS_TP_BTF)
		err = bpf_map__set_max_entries(skel->maps.conn_hash, 1);
	if (err)
		return err;
	return choose_programs(skel, o, mode, vmlinux);
}

/* Open, configure and load one variant; on failure nothing is left. */
static int load_once(const struct ts_loader_opts *o, enum ts_tp_mode mode,
		     const struct btf *vmlinux, struct tcpscope_bpf **out)
{
	struct tcpscope_bpf *skel = NULL;
	int err;

	err = phase_open(&skel);
	if (err)
		return err;
	err = phase_configure(skel, o, mode, vmlinux);
	if (!err)
		err = tcpscope_bpf__load(skel); /* phase load */
	if (err) {
		tcpscope_bpf__destroy(skel);
		return err;
	}
	*out = skel;
	return 0;
}

/*
 * The drop program is optional: a kernel whose verifier refuses it (a
 * variant of skb:kfree_skb not seen here) still gets everything else of
 * the variant, without drops (*no_drops set, -v says why).
 */
static int load_variant(const struct ts_loader_opts *o, enum ts_tp_mode mode,
			const struct btf *vmlinux, struct tcpscope_bpf **out, bool *no_drops)
{
	struct ts_loader_opts without = *o;
	int err = load_once(o, mode, vmlinux, out);

	if (no_drops)
		*no_drops = o->no_drops;
	if (!err || o->no_drops || err == -ENOENT || !ts_probe__drop_reasons(vmlinux))
		return err;
	without.no_drops = true;
	if (load_once(&without, mode, vmlinux, out))
		return err;
	ts_info("the %s variant loads only without its drop program (%s): drops are off",
		mode_name(mode), strerror(-err));
	if (no_drops)
		*no_drops = true;
	return 0;
}

/* Auto mode: btf when the kernel has its tracepoints and it loads. */
static void try_btf(struct ts_loader *l, const struct ts_loader_opts *o,
		    const struct btf *vmlinux)
{
	int err;

	if (!ts_probe__tp_btf(vmlinux, "inet_sock_set_state") ||
	    !ts_probe__tp_btf(vmlinux, "tcp_retransmit_skb")) {
		ts_info("kernel BTF has no tp_btf tracepoint types: using classic tracepoints");
		return;
	}
	err = load_variant(o, TS_TP_BTF, vmlinux, &l->skel, NULL);
	if (err) {
		/* E.g. 5.8-5.11: no socket cookie or socket storage in
		 * tracing programs.  A refusal for want of privilege fails
		 * again with classic. */
		ts_info("tp_btf programs did not load (%s): falling back to classic tracepoints",
			strerror(-err));
		return;
	}
	l->mode = TS_TP_BTF;
	ts_info("using tp_btf programs (typed socket, socket cookies, socket storage)");
}

static void report_load_error(int err)
{
	/* The privilege check has passed by now: EPERM means a policy
	 * (lockdown, or RLIMIT_MEMLOCK before 5.11), EACCES the verifier. */
	if (err == -EPERM)
		ts_err("loading BPF programs was refused (%s): needs CAP_BPF and CAP_PERFMON; kernel lockdown or a low RLIMIT_MEMLOCK can also refuse it",
		       strerror(-err));
	else if (err == -EACCES)
		ts_err("the kernel's verifier rejected the BPF programs (%s); run with -v for its log",
		       strerror(-err));
	else
		ts_err("loading BPF programs failed: %s (run with -v for the verifier log)",
		       strerror(-err));
}

/* Phases open to load, for the variant asked or the one auto finds. */
static int load_programs(struct ts_loader *l, const struct ts_loader_opts *o,
			 const struct btf *vmlinux)
{
	int err;

	l->mode = o->mode;
	if (l->mode == TS_TP_AUTO) {
		try_btf(l, o, vmlinux);
		if (l->skel)
			return 0;
		l->mode = TS_TP_CLASSIC;
	}
	if (l->mode == TS_TP_CLASSIC)
		ts_preflight__tracefs();
	err = load_variant(o, l->mode, vmlinux, &l->skel, NULL);
	if (err) {
		if (err != -ENOENT)
			report_load_error(err);
		return err;
	}
	ts_info("using %s tracepoint programs", mode_name(l->mode));
	return 0;
}

/* Phase attach: every program that loaded; an optional one may fail. */
static int phase_attach(struct ts_loader *l)
{
	bool drops = false;

	for (size_t i = 0; i < NPROGS; i++) {
		const struct prog_desc *d = &progs[i];
		struct bpf_program *p = d->get(l->skel);
		struct bpf_link *link;

		if (!bpf_program__autoload(p))
			continue;
		link = bpf_program__attach(p);
		drops |= link && is_drop_prog(d);
		if (!link) {
			int err = -errno;

			if (is_fexit(d)) {
				ts_info("attaching fexit %s() failed (%s): accepted connections keep their listener's owner",
					d->tp, strerror(-err));
				continue;
			}
			if (!d->required) {
				ts_info("attaching %s:%s failed (%s): skipped",
					d->category, d->tp, strerror(-err));
				continue;
			}
			ts_err("cannot attach to tracepoint %s:%s: %s",
			       d->category, d->tp, strerror(-err));
			return err;
		}
		*d->link(l->skel) = link;
		if (is_fexit(d))
			ts_info("attached fexit %s()", d->tp);
		else
			ts_info("attached %s:%s (%s)", d->category, d->tp,
				mode_name(d->mode == TS_TP_AUTO ? TS_TP_CLASSIC : d->mode));
	}
	if (!drops && l->drops == TS_DROPS_ON)
		l->drops = TS_DROPS_NOT_LOADED;
	return 0;
}

/* Before attach: why drops will not be seen, said once with -v. */
static void drops_plan(struct ts_loader *l, const struct ts_loader_opts *o,
		       const struct btf *vmlinux)
{
	if (o->no_drops) {
		l->drops = TS_DROPS_OFF;
		ts_info("drops: off (--no-drops)");
	} else if (!ts_probe__drop_reasons(vmlinux)) {
		l->drops = TS_DROPS_NO_REASONS;
		ts_info("drops: not observable on this kernel (skb:kfree_skb has no drop reason before 5.17)");
	} else {
		l->drops = TS_DROPS_ON;
		ts_info("drops: skb:kfree_skb with reasons%s",
			ts_probe__drop_rx_sk(vmlinux) ?
				" and the receiving socket" : "");
	}
}

/*
 * accept(): a program on a syscalls: tracepoint puts every task of the
 * machine on the system-call slow path while it is attached (~55 ns more
 * per system call here: docs/BENCHMARKS.md); fexit costs only accept()
 * itself; --no-accept leaves both out.
 */
static void accept_plan(const struct ts_loader_opts *o, const struct btf *vmlinux)
{
	int why;

	if (o->no_accept)
		ts_info("accept(): not traced (--no-accept): passive connections keep their listener's owner");
	else if (fexit_accept(vmlinux, &why))
		ts_info("accept(): fexit on inet_csk_accept() (only accepts pay; io_uring's and the kernel's count too)");
	else
		ts_info("accept(): syscalls:sys_exit_accept4 and sys_exit_accept, as fexit on inet_csk_accept() is not possible here (%s): while they are attached, every system call of the machine takes the tracing path",
			ts_probe__fexit_why(why));
}

/* --cgroup: the kernel side tests bpf_current_task_under_cgroup(). */
static int set_cgroup_filter(struct ts_loader *l, const struct ts_filter *f)
{
	char dir[4200];
	__u32 zero = 0;
	int fd, err = 0;

	if (!f->cgroup)
		return 0;
	snprintf(dir, sizeof(dir), "%s%s", ts_cgroup_root() ? ts_cgroup_root() : TS_CGROUP_ROOT,
		 strcmp(f->cgroup, "/") ? f->cgroup : "");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || bpf_map_update_elem(bpf_map__fd(l->skel->maps.cg_filter), &zero, &fd, BPF_ANY))
		err = -errno;
	if (err)
		ts_err("cannot filter by cgroup %s: %s", dir, strerror(-err));
	if (fd >= 0)
		close(fd);
	return err;
}

int ts_loader__open(const struct ts_loader_opts *o, struct ts_loader **out)
{
	struct ts_loader *l = NULL;
	struct btf *vmlinux = NULL;
	int err;

	*out = NULL;
	ts_preflight__libbpf_log();
	err = ts_preflight__privileges("trace");
	if (!err)
		err = ts_preflight__btf();
	if (err)
		return err;
	ts_preflight__memlock();
	err = ts_preflight__kernel_btf(&vmlinux);
	if (err)
		return err;

	l = calloc(1, sizeof(*l));
	if (!l) {
		err = -ENOMEM;
		goto cleanup;
	}
	l->ncpu = libbpf_num_possible_cpus();
	if (l->ncpu <= 0) {
		err = l->ncpu ? l->ncpu : -EINVAL;
		ts_err("cannot count CPUs: %s", strerror(-err));
		goto cleanup;
	}
	drops_plan(l, o, vmlinux);
	accept_plan(o, vmlinux);
	err = load_programs(l, o, vmlinux);
	if (!err)
		err = set_cgroup_filter(l, &o->filter);
	/* While the BTF is here: parsing it again costs as much as libbpf's
	 * CO-RE pass (some 15 ms). */
	if (!err)
		err = ts_knames__from_btf(vmlinux, &l->knames);
	if (!err)
		err = phase_attach(l);
	if (err)
		goto cleanup;
	if (l->mode == TS_TP_BTF)
		ts_info("connection ids: socket cookies; per-connection data in a preallocated hash (%d sockets), socket-local storage beyond",
			TS_CONN_HASH_MAX);
	else
		ts_info("connection ids: a per-CPU counter (classic tracepoint programs have no socket cookies); per-connection data in an LRU hash by socket address");
	*out = l;
	l = NULL;
cleanup:
	btf__free(vmlinux);
	ts_loader__free(l);
	return err;
}

/*
 * Sockets opened before tracing started never showed the transition that
 * names their owner (CLOSE -> LISTEN, connect(), accept()), so their
 * connections would have no owner and -p PID would hide a long-running
 * server.  Once the programs are attached (so that nothing falls between
 * the two), the iterator snapshot of every network namespace (iter/tcp
 * sees only the namespace it is created in) names the holder of each
 * socket: listeners go into 'listeners' (entries made live by listen()
 * win: BPF_NOEXIST), other sockets into 'seeded' by inode, which their
 * next event takes.  Best effort: without iterators such connections get
 * their owner when the process closes them.
 */
struct seed {
	struct ts_loader *l;
	const struct ts_filter *f;
	uint64_t *held; /* socket inodes the -p process holds, sorted */
	size_t nheld;
	size_t nns, listeners, conns, refused;
	uint32_t uid_of[64]; /* non-root budget while seeding (few uids) */
	uint32_t uid_n[64];
	uint32_t nonroot;
	/* The last process looked up (sockets come grouped by holder). */
	uint32_t cg_pid;
	uint64_t cg_id;
	bool cg_in;
	uint32_t done_ns; /* the namespace the startup snapshot covered */
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The socket inodes process pid holds, from /proc/PID/fd. */
static void held_inodes(struct seed *sd, uint32_t pid)
{
	char dirpath[64], link[128], target[64];
	struct dirent *e;
	size_t cap = 0;
	DIR *d;

	snprintf(dirpath, sizeof(dirpath), "/proc/%u/fd", pid);
	d = opendir(dirpath);
	if (!d)
		return;
	while ((e = readdir(d))) {
		unsigned long long ino;
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%.20s", dirpath, e->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (sscanf(target, "socket:[%llu]", &ino) != 1)
			continue;
		if (sd->nheld == cap) {
			uint64_t *v = realloc(sd->held, (cap ? cap * 2 : 64) * sizeof(*v));

			if (!v)
				break;
			sd->held = v;
			cap = cap ? cap * 2 : 64;
		}
		sd->held[sd->nheld++] = ino;
	}
	closedir(d);
	if (sd->nheld)
		qsort(sd->held, sd->nheld, sizeof(*sd->held), cmp_u64);
}

/* The same budget the kernel side applies to listen() (tcpscope.h). */
static bool seed_charge(struct seed *sd, uint32_t uid)
{
	size_t i;

	if (!uid)
		return true;
	if (sd->nonroot >= TS_LISTEN_NONROOT)
		return false;
	for (i = 0; i < 64 && sd->uid_n[i] && sd->uid_of[i] != uid; i++)
		;
	if (i == 64)
		return false;
	if (sd->uid_n[i] >= TS_LISTEN_PER_UID)
		return false;
	sd->uid_of[i] = uid;
	sd->uid_n[i]++;
	sd->nonroot++;
	return true;
}

static void seed_cgroup(struct seed *sd, uint32_t pid, struct ts_owner *o)
{
	char path[4096], dir[4200];

	if (pid != sd->cg_pid) {
		sd->cg_pid = pid;
		sd->cg_id = 0;
		sd->cg_in = !sd->f->cgroup;
		if (!ts_cgroup_of_pid(pid, path, sizeof(path))) {
			snprintf(dir, sizeof(dir), "%s%s", ts_cgroup_root() ? ts_cgroup_root() : TS_CGROUP_ROOT, path);
			ts_cgroup_id(dir, &sd->cg_id);
			if (sd->f->cgroup)
				sd->cg_in = ts_cgroup_under(path, sd->f->cgroup);
		}
	}
	o->cgroup_id = sd->cg_id;
	o->cg_in = sd->cg_in;
}

static void seed_socks(struct seed *sd, const struct ts_sock *socks, size_t n)
{
	int lfd = bpf_map__fd(sd->l->skel->maps.listeners);
	int sfd = bpf_map__fd(sd->l->skel->maps.seeded);

	sd->nns++;
	/* Root's listeners first: a flood cannot crowd them out. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n; i++) {
			const struct ts_sock *k = &socks[i];
			struct ts_owner o = { .pid = k->pid, .cg_in = 1 };
			uint64_t inode = k->inode;

			if (!k->pid || (pass == 0) != (k->uid == 0))
				continue;
			memcpy(o.comm, k->comm, sizeof(o.comm));
			seed_cgroup(sd, k->pid, &o);
			if (k->state != TS_LISTEN) {
				if (!bpf_map_update_elem(sfd, &inode, &o, BPF_NOEXIST))
					sd->conns++;
				continue;
			}
			struct ts_listen_key lk = {
				.netns = k->netns, .port = k->sport, .family = k->family,
			};
			struct ts_listener v = { .owner = o, .ino = inode };

			memcpy(lk.addr, k->saddr, sizeof(lk.addr));
			v.owner.held = sd->nheld &&
				       bsearch(&inode, sd->held, sd->nheld, sizeof(inode), cmp_u64);
			if (!seed_charge(sd, k->uid)) {
				sd->refused++;
				continue;
			}
			if (!bpf_map_update_elem(lfd, &lk, &v, BPF_NOEXIST))
				sd->listeners++;
		}
	}
}

static int seed_ns(const char *path, uint32_t ino, void *ctx)
{
	struct ts_snapshot_opts so = {
		.netns_path = path, .pids = true, .skip_cookies = true, .skip_timers = true,
	};
	struct seed *sd = ctx;
	struct ts_sock *socks = NULL;
	size_t n = 0;

	if (ino == sd->done_ns)
		return 0;
	if (ts_snapshot__collect(&so, &socks, &n))
		return 0; /* that namespace is gone, or no iterators: go on */
	seed_socks(sd, socks, n);
	free(socks);
	return 0;
}

void ts_loader__seed(struct ts_loader *l, const struct ts_filter *f,
		     const struct ts_sock *socks, size_t n)
{
	struct seed sd = { .l = l, .f = f, .cg_pid = 0 };

	if (f->pid)
		held_inodes(&sd, f->pid);
	/* The startup snapshot covers its namespace (the filter's, or
	 * ours); host-wide, every other one is walked too. */
	if (socks) {
		seed_socks(&sd, socks, n);
		sd.done_ns = n ? socks[0].netns : 0;
	}
	if (!f->netns)
		ts_netns__each(seed_ns, &sd);
	free(sd.held);
	ts_info("owners of %zu existing listening sockets and %zu connections seeded from %zu network namespaces%s",
		sd.listeners, sd.conns, sd.nns,
		sd.refused ? " (some left out: a user's listener budget is spent)" : "");
}

const char *const ts_probe_tp_names[TS_PROBE_NTP] = {
	[TS_PROBE_SEND_RESET] = "tcp_send_reset",
	[TS_PROBE_RECV_RESET] = "tcp_receive_reset",
	[TS_PROBE_SYNACK] = "tcp_retransmit_synack",
};

static int probe_variant(enum ts_tp_mode mode, const struct btf *vmlinux,
			 char *why, size_t len, bool *no_drops)
{
	struct ts_loader_opts o = { .ring_bytes = 1 << 16, .mode = mode };
	struct tcpscope_bpf *skel = NULL;
	int err;

	why[0] = '\0';
	ts_preflight__verifier_reason(why, len);
	err = load_variant(&o, mode, vmlinux, &skel, no_drops);
	ts_preflight__verifier_reason(NULL, 0);
	if (err == -ENOENT && !why[0])
		snprintf(why, len, "kernel lacks a required tracepoint in %s form",
			 mode_name(mode));
	else if (err && !why[0])
		snprintf(why, len, "%s", strerror(-err));
	tcpscope_bpf__destroy(skel);
	return err;
}

int ts_loader__probe(struct ts_kernel_probe *p)
{
	struct btf *vmlinux = NULL;
	bool nd_btf = false, nd_classic = false;
	int err;

	memset(p, 0, sizeof(*p));
	ts_preflight__libbpf_log();
	err = ts_preflight__privileges("probe the kernel");
	if (!err)
		err = ts_preflight__btf();
	if (!err)
		err = ts_preflight__kernel_btf(&vmlinux);
	if (err)
		return err;
	p->btf = true;
	ts_preflight__memlock();
	ts_preflight__tracefs();
	for (int i = 0; i < TS_PROBE_NTP; i++) {
		p->tp_btf[i] = ts_probe__tp_btf(vmlinux, ts_probe_tp_names[i]);
		p->tp_classic[i] = ts_probe__tp_classic("tcp", ts_probe_tp_names[i]);
	}
	p->socketless_resets = btf__find_by_name_kind(vmlinux, "trace_event_raw_tcp_send_reset",
						      BTF_KIND_STRUCT) > 0;
	p->drop_reasons = ts_probe__drop_reasons(vmlinux);
	p->drop_rx_sk = ts_probe__drop_rx_sk(vmlinux);
	p->reset_reasons = ts_probe__reset_reasons(vmlinux);
	p->retransmit_err = ts_probe__retransmit_err(vmlinux);
	p->accept_fexit = fexit_accept(vmlinux, &p->accept_fexit_why);
	p->memcg_accounting = libbpf_probe_bpf_helper(BPF_PROG_TYPE_SOCKET_FILTER,
						      BPF_FUNC_ktime_get_coarse_ns, NULL) == 1;
	p->btf_err = probe_variant(TS_TP_BTF, vmlinux, p->btf_why,
				   sizeof(p->btf_why), &nd_btf);
	p->classic_err = probe_variant(TS_TP_CLASSIC, vmlinux, p->classic_why,
				       sizeof(p->classic_why), &nd_classic);
	/* The same order as ts_loader__open() with --tp-mode auto. */
	p->chosen = !p->btf_err	    ? TS_TP_BTF :
		    !p->classic_err ? TS_TP_CLASSIC :
				      TS_TP_AUTO;
	/* Reasons in the record, but the chosen variant's drop program
	 * refused: drops are off there. */
	p->drops_refused = p->drop_reasons &&
			   (p->chosen == TS_TP_BTF ? nd_btf : p->chosen == TS_TP_CLASSIC && nd_classic);
	btf__free(vmlinux);
	return 0;
}

int ts_loader__ring_fd(const struct ts_loader *l)
{
	return bpf_map__fd(l->skel->maps.events);
}

uint64_t ts_loader__ring_bytes(const struct ts_loader *l)
{
	return bpf_map__max_entries(l->skel->maps.events);
}

/* The runs of p the kernel skipped; 0 when its information is not there. */
static uint64_t prog_misses(const struct bpf_program *p)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	int fd = bpf_program__fd(p);

	memset(&info, 0, sizeof(info));
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.recursion_misses;
}

/*
 * A tracing program that fires while the same program already runs on this
 * CPU (a softirq interrupting it, a task preempted inside it) is skipped by
 * the kernel and only counted in recursion_misses: those events are lost,
 * except btf_state's that btf_state_nested took over.  Every change
 * btf_state missed is either taken over (counted: RESCUED) or was missed
 * by btf_state_nested too, so btf_state's misses less the takeovers are
 * exactly those lost; btf_state_nested's own misses lose nothing (btf_state
 * ran for those changes).
 */
static uint64_t recursion_misses(const struct ts_loader *l)
{
	struct bpf_program *p;
	uint64_t sum = 0;

	bpf_object__for_each_program(p, l->skel->obj)
		if (p != l->skel->progs.btf_state_nested)
			sum += prog_misses(p);
	return sum;
}

void ts_loader__skipped(const struct ts_loader *l, char *buf, size_t len)
{
	struct bpf_program *p;
	size_t n = 0;

	if (len)
		buf[0] = '\0';
	bpf_object__for_each_program(p, l->skel->obj) {
		uint64_t misses = prog_misses(p);
		int w;

		if (!misses || n >= len)
			continue;
		w = snprintf(buf + n, len - n, "%s%s %llu", n ? ", " : "",
			     bpf_program__name(p), (unsigned long long)misses);
		if (w > 0)
			n += (size_t)w < len - n ? (size_t)w : len - n - 1;
	}
}

int ts_loader__losses(const struct ts_loader *l, struct ts_losses *out)
{
	int fd = bpf_map__fd(l->skel->maps.drops);
	uint64_t vals[l->ncpu];
	uint64_t test_skipped = 0;
	uint64_t *slot[] = { &out->ring, &out->state, &out->rescued,
			     &test_skipped };
	uint64_t misses;

	memset(out, 0, sizeof(*out));
	for (__u32 k = 0; k < sizeof(slot) / sizeof(slot[0]); k++) {
		if (bpf_map_lookup_elem(fd, &k, vals))
			return -errno;
		for (int i = 0; i < l->ncpu; i++)
			*slot[k] += vals[i];
	}
	/* The tests' skipped runs (TCPSCOPE_TEST_SKIP_STATE) count as the
	 * kernel's. */
	misses = recursion_misses(l) + test_skipped;
	out->nested = misses > out->rescued ? misses - out->rescued : 0;
	return 0;
}

enum ts_drops_state ts_loader__drops_state(const struct ts_loader *l)
{
	return l->drops;
}

int ts_loader__drop_stats(const struct ts_loader *l, uint64_t *seen,
			  uint64_t *suppressed)
{
	uint64_t vals[l->ncpu];
	int fd = bpf_map__fd(l->skel->maps.drop_stats);
	uint64_t sum[TS_DSTAT_NR] = {};

	for (__u32 k = 0; k < TS_DSTAT_NR; k++) {
		if (bpf_map_lookup_elem(fd, &k, vals))
			return -errno;
		for (int i = 0; i < l->ncpu; i++)
			sum[k] += vals[i];
	}
	*seen = sum[TS_DSTAT_SEEN];
	*suppressed = sum[TS_DSTAT_SUPPRESSED];
	return 0;
}

enum ts_tp_mode ts_loader__mode(const struct ts_loader *l)
{
	return l->mode;
}

const char *ts_loader__mode_name(const struct ts_loader *l)
{
	return mode_name(l->mode);
}

void ts_loader__free(struct ts_loader *l)
{
	if (!l)
		return;
	if (l->skel && l->skel->bss->listen_refused)
		ts_info("%llu listen() calls got no owner entry (a user's listener budget was spent, docs/DESIGN.md)",
			(unsigned long long)l->skel->bss->listen_refused);
	if (l->skel && l->mode == TS_TP_BTF && l->skel->bss->hash_full)
		ts_info("more than %d sockets were traced at once: the others' state was kept in socket storage",
			TS_CONN_HASH_MAX);
	if (l->skel && l->mode == TS_TP_BTF && l->skel->bss->storage_fallback)
		ts_info("the kernel refused socket storage for some connections: kept in the fallback map (%d)",
			TS_STORAGE_FALLBACK_MAX);
	tcpscope_bpf__destroy(l->skel);
	ts_knames__free(l->knames);
	free(l);
}

struct ts_knames *ts_loader__take_knames(struct ts_loader *l)
{
	struct ts_knames *k = l->knames;

	l->knames = NULL;
	return k;
}
