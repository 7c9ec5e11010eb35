// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "loader.h"
#include "snapshot.h"
#include "core/log.h"
#include "tcpscope.skel.h"

struct ts_loader {
	struct tcpscope_bpf *skel;
	enum ts_tp_mode mode;
	int ncpu;
};

/* A program, the tracepoint it needs, and whether tcpscope needs it. */
struct prog_desc {
	const char *category;
	const char *tp;
	bool required;
	enum ts_tp_mode mode;
	struct bpf_program *(*get)(struct tcpscope_bpf *s);
	struct bpf_link **(*link)(struct tcpscope_bpf *s);
};

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
PROG(btf_retrans)
PROG(btf_synack)
PROG(btf_rst_recv)
PROG(btf_rst_sent)
PROG(tp_state)
PROG(tp_retrans)
PROG(tp_synack)
PROG(tp_rst_recv)
PROG(tp_rst_sent)

static const struct prog_desc progs[] = {
	{ "sock", "inet_sock_set_state", true, TS_TP_BTF, get_btf_state, link_btf_state },
	{ "tcp", "tcp_retransmit_skb", true, TS_TP_BTF, get_btf_retrans, link_btf_retrans },
	{ "tcp", "tcp_retransmit_synack", false, TS_TP_BTF, get_btf_synack, link_btf_synack },
	{ "tcp", "tcp_receive_reset", false, TS_TP_BTF, get_btf_rst_recv, link_btf_rst_recv },
	{ "tcp", "tcp_send_reset", false, TS_TP_BTF, get_btf_rst_sent, link_btf_rst_sent },
	{ "sock", "inet_sock_set_state", true, TS_TP_CLASSIC, get_tp_state, link_tp_state },
	{ "tcp", "tcp_retransmit_skb", true, TS_TP_CLASSIC, get_tp_retrans, link_tp_retrans },
	{ "tcp", "tcp_retransmit_synack", false, TS_TP_CLASSIC, get_tp_synack, link_tp_synack },
	{ "tcp", "tcp_receive_reset", false, TS_TP_CLASSIC, get_tp_rst_recv, link_tp_rst_recv },
	{ "tcp", "tcp_send_reset", false, TS_TP_CLASSIC, get_tp_rst_sent, link_tp_rst_sent },
};

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

/* While probing, the verifier's last words, to say why a variant failed. */
static char *probe_why;
static size_t probe_why_len;

static void keep_verifier_reason(const char *fmt, va_list ap)
{
	char buf[8192], *end, *line, *best = NULL;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	end = strstr(buf, "-- END PROG LOAD LOG --");
	if (!end)
		return;
	*end = '\0';
	/* The last line that is not the instruction count. */
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		if (*line && strncmp(line, "processed ", 10) &&
		    strncmp(line, "-- BEGIN", 8) && strncmp(line, "libbpf:", 7))
			best = line;
	}
	if (best)
		snprintf(probe_why, probe_why_len, "%s", best);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (probe_why && level == LIBBPF_WARN) {
		va_list copy;

		va_copy(copy, ap);
		keep_verifier_reason(fmt, copy);
		va_end(copy);
	}
	/* Failures are reported in one line by the caller; libbpf's own
	 * words (verifier logs included) are for -v and -vv. */
	if (ts_log_verbose() < (level == LIBBPF_DEBUG ? 2 : 1))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

#define NEED_PRIV                                                             \
	"not allowed to trace: run as root (needs CAP_BPF and CAP_PERFMON, "  \
	"or CAP_SYS_ADMIN)"

int ts_check_privileges(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2] = {};
	bool admin, bpf, perfmon;

	if (syscall(SYS_capget, &hdr, data)) {
		if (geteuid() == 0)
			return 0;
		ts_err(NEED_PRIV);
		return -EPERM;
	}
#define HAS(c) (data[(c) / 32].effective & (1u << ((c) % 32)))
	admin = HAS(CAP_SYS_ADMIN);
	bpf = HAS(39);	   /* CAP_BPF, 5.8+ */
	perfmon = HAS(38); /* CAP_PERFMON, 5.8+ */
#undef HAS
	if (admin || (bpf && perfmon))
		return 0;
	ts_err(NEED_PRIV);
	return -EPERM;
}

#define KERNEL_BTF "/sys/kernel/btf/vmlinux"

/*
 * Test seams, documented in docs/DESIGN.md and tcpscope(8):
 * TCPSCOPE_BTF_PATH reads the kernel's types from another BTF file (also
 * used for CO-RE relocations), and TCPSCOPE_HIDE_TP=a,btf:b treats the
 * named tracepoints as absent (in both forms, or in the one named).  Both drive the real code paths for a kernel
 * without BTF or without a tracepoint.
 */
static const char *btf_path(void)
{
	const char *p = getenv("TCPSCOPE_BTF_PATH");

	return p && *p ? p : NULL;
}

static bool tp_hidden(const char *tp, enum ts_tp_mode form)
{
	const char *list = getenv("TCPSCOPE_HIDE_TP");
	const char *prefix = form == TS_TP_BTF ? "btf:" : "classic:";
	size_t n = strlen(tp), np = strlen(prefix);

	/* Entries are NAME (both forms) or btf:NAME / classic:NAME. */
	for (const char *p = list; p && *p;) {
		size_t len = strcspn(p, ",");
		const char *name = p;
		size_t nlen = len;

		if (len > np && !strncmp(p, prefix, np)) {
			name += np;
			nlen -= np;
		}
		if (nlen == n && !strncmp(name, tp, n))
			return true;
		p += len;
		p += *p == ',';
	}
	return false;
}

int ts_check_btf(void)
{
	const char *path = btf_path();

	if (!path && access(KERNEL_BTF, R_OK)) {
		ts_err("needs BTF: " KERNEL_BTF " is missing (kernel built without CONFIG_DEBUG_INFO_BTF)");
		return -ENOENT;
	}
	if (path && access(path, R_OK)) {
		int err = -errno;

		ts_err("needs BTF: TCPSCOPE_BTF_PATH=%s: %s", path, strerror(-err));
		return err;
	}
	return 0;
}

/* The kernel's types, from sysfs or TCPSCOPE_BTF_PATH. */
static int load_kernel_btf(struct btf **out)
{
	const char *path = btf_path();
	struct btf *btf;
	int err;

	btf = path ? btf__parse(path, NULL) : btf__load_vmlinux_btf();
	err = libbpf_get_error(btf);
	if (err || !btf) {
		err = err ? err : -ENOENT;
		/* libbpf's own codes (<= -4000) and EINVAL/EPROTO: bad data. */
		ts_err("needs BTF: cannot read %s: %s", path ? path : KERNEL_BTF,
		       err == -ENOENT || err == -EACCES || err == -ENOMEM ?
			       strerror(-err) : "not a BTF file");
		*out = NULL;
		return err;
	}
	*out = btf;
	return 0;
}

static bool tracefs_has(const char *root, const char *cat, const char *tp)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/events/%s/%s", root, cat, tp);
	return access(path, F_OK) == 0;
}

int ts_ensure_tracefs(void)
{
	if (!access("/sys/kernel/tracing/events", F_OK) ||
	    !access("/sys/kernel/debug/tracing/events", F_OK))
		return 0;
	if (mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL)) {
		int err = -errno;

		ts_info("mounting tracefs at /sys/kernel/tracing failed: %s",
			strerror(errno));
		return err;
	}
	ts_info("mounted tracefs at /sys/kernel/tracing");
	return 0;
}

static bool classic_tp_exists(const char *cat, const char *tp)
{
	if (tp_hidden(tp, TS_TP_CLASSIC))
		return false;
	return tracefs_has("/sys/kernel/tracing", cat, tp) ||
	       tracefs_has("/sys/kernel/debug/tracing", cat, tp);
}

static bool btf_tp_exists(const struct btf *vmlinux, const char *tp)
{
	char name[128];

	if (tp_hidden(tp, TS_TP_BTF))
		return false;
	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	return vmlinux && btf__find_by_name_kind(vmlinux, name, BTF_KIND_TYPEDEF) > 0;
}

/* Arguments of a BTF tracepoint (its typedef points at a prototype whose
 * first parameter is the tracepoint's own data pointer); -1 if unknown. */
static int btf_tp_nargs(const struct btf *vmlinux, const char *tp)
{
	const struct btf_type *t;
	char name[128];
	int id;

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	id = vmlinux ? btf__find_by_name_kind(vmlinux, name, BTF_KIND_TYPEDEF) : -1;
	if (id <= 0)
		return -1;
	t = btf__type_by_id(vmlinux, btf__resolve_type(vmlinux, id));
	if (!t || !btf_is_ptr(t))
		return -1;
	t = btf__type_by_id(vmlinux, t->type);
	if (!t || !btf_is_func_proto(t))
		return -1;
	return btf_vlen(t) - 1;
}

static bool tp_exists(const struct btf *vmlinux, const struct prog_desc *d)
{
	if (d->mode == TS_TP_BTF)
		return btf_tp_exists(vmlinux, d->tp);
	return classic_tp_exists(d->category, d->tp);
}

/* Open and load one variant; on failure the skeleton is destroyed. */
static int load_variant(const struct ts_loader_opts *o, enum ts_tp_mode mode,
			const struct btf *vmlinux, struct tcpscope_bpf **out)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = btf_path());
	struct tcpscope_bpf *skel;
	int err;

	skel = tcpscope_bpf__open_opts(&oo);
	if (!skel)
		return -errno ? -errno : -EINVAL;

	skel->rodata->filter_pid = o->filter.pid;
	skel->rodata->filter_netns = o->filter.netns;
	skel->rodata->filter_port = o->filter.port;
	skel->rodata->filter_sport = o->filter.sport;
	skel->rodata->filter_dport = o->filter.dport;
	skel->rodata->filter_family = o->filter.family;
	skel->rodata->wakeup_bytes = o->wakeup_bytes;
	skel->rodata->retrans_has_err =
		btf_tp_nargs(vmlinux, "tcp_retransmit_skb") >= 3;

	err = bpf_map__set_max_entries(skel->maps.events, (__u32)o->ring_bytes);
	/* The per-socket map of the other variant is not used: keep it tiny. */
	if (!err && mode == TS_TP_BTF)
		err = bpf_map__set_max_entries(skel->maps.conn_lru, 1);
	if (err)
		goto fail;

	for (size_t i = 0; i < NPROGS; i++) {
		const struct prog_desc *d = &progs[i];
		bool on = d->mode == mode && tp_exists(vmlinux, d);

		if (d->mode == mode && !on && d->required) {
			if (o->mode == TS_TP_AUTO)
				ts_err("kernel lacks tracepoint %s:%s, which tcpscope needs (in neither tp_btf nor classic form)",
				       d->category, d->tp);
			else
				ts_err("kernel lacks tracepoint %s:%s in %s form, which tcpscope needs (try --tp-mode auto)",
				       d->category, d->tp, mode_name(mode));
			err = -ENOENT;
			goto fail;
		}
		if (d->mode == mode && !on)
			ts_info("tracepoint %s:%s not in this kernel: skipped",
				d->category, d->tp);
		bpf_program__set_autoload(d->get(skel), on);
	}

	err = tcpscope_bpf__load(skel);
	if (err)
		goto fail;
	*out = skel;
	return 0;
fail:
	tcpscope_bpf__destroy(skel);
	return err;
}

static int attach_all(struct ts_loader *l)
{
	for (size_t i = 0; i < NPROGS; i++) {
		const struct prog_desc *d = &progs[i];
		struct bpf_program *p = d->get(l->skel);
		struct bpf_link *link;

		if (!bpf_program__autoload(p))
			continue;
		link = bpf_program__attach(p);
		if (!link) {
			int err = -errno;

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
		ts_info("attached %s:%s (%s)", d->category, d->tp,
			mode_name(d->mode));
	}
	return 0;
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

/*
 * A listener opened before tracing started never showed its CLOSE ->
 * LISTEN, so its passive connections would have no owner, and -p PID
 * would hide a long-running server's connections.  Once the programs are
 * attached (so that nothing falls between the two), a snapshot taken with
 * the iterators names the owner of every listening port; entries made live
 * by listen() win (BPF_NOEXIST).  Best effort: without iterators such
 * connections get their owner when the server closes them.
 */
static void seed_listeners(struct ts_loader *l, const struct ts_filter *f)
{
	int fd = bpf_map__fd(l->skel->maps.listeners);
	struct ts_sock *socks = NULL;
	size_t n = 0, seeded = 0;
	int err;

	err = ts_snapshot_collect_in(f->netns, true, &socks, &n);
	if (err) {
		ts_info("owners of existing listeners not known (%s)", strerror(-err));
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct ts_listen_key k = { .netns = socks[i].netns, .port = socks[i].sport };
		struct ts_owner v = { .pid = socks[i].pid };

		if (socks[i].state != TS_LISTEN || !socks[i].pid)
			continue;
		memcpy(v.comm, socks[i].comm, sizeof(v.comm));
		if (!bpf_map_update_elem(fd, &k, &v, BPF_NOEXIST))
			seeded++;
	}
	free(socks);
	ts_info("owners of %zu existing listening sockets seeded", seeded);
}

int ts_loader__open(const struct ts_loader_opts *o, struct ts_loader **out)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	struct ts_loader *l = NULL;
	struct btf *vmlinux = NULL;
	enum ts_tp_mode mode = o->mode;
	int err;

	*out = NULL;
	libbpf_set_print(libbpf_print);
	err = ts_check_privileges();
	if (err)
		return err;
	err = ts_check_btf();
	if (err)
		return err;
	/* Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK; later
	 * ones charge the memory cgroup, and raising the limit may be
	 * refused.  Either way, try and go on. */
	if (setrlimit(RLIMIT_MEMLOCK, &rl))
		ts_info("cannot raise RLIMIT_MEMLOCK (%s): going on",
			strerror(errno));

	err = load_kernel_btf(&vmlinux);
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

	if (mode == TS_TP_AUTO) {
		if (btf_tp_exists(vmlinux, "inet_sock_set_state") &&
		    btf_tp_exists(vmlinux, "tcp_retransmit_skb")) {
			err = load_variant(o, TS_TP_BTF, vmlinux, &l->skel);
			if (!err) {
				mode = TS_TP_BTF;
				ts_info("using tp_btf programs (typed socket, socket cookies, socket storage)");
			} else {
				/* E.g. 5.8-5.11: no socket cookie or socket
				 * storage in tracing programs.  A refusal for
				 * want of privilege fails again below. */
				ts_info("tp_btf programs did not load (%s): falling back to classic tracepoints",
					strerror(-err));
			}
		} else {
			ts_info("kernel BTF has no tp_btf tracepoint types: using classic tracepoints");
		}
		if (!l->skel)
			mode = TS_TP_CLASSIC;
	}
	if (mode == TS_TP_CLASSIC)
		ts_ensure_tracefs();
	if (!l->skel) {
		err = load_variant(o, mode, vmlinux, &l->skel);
		if (err) {
			if (err != -ENOENT)
				report_load_error(err);
			goto cleanup;
		}
		ts_info("using %s tracepoint programs", mode_name(mode));
	}
	l->mode = mode;
	err = attach_all(l);
	if (err)
		goto cleanup;
	if (mode == TS_TP_BTF)
		ts_info("connection ids: socket cookies; per-connection data in socket-local storage");
	else
		ts_info("connection ids: a per-CPU counter (classic tracepoint programs have no socket cookies); per-connection data in an LRU hash by socket address");
	seed_listeners(l, &o->filter);
	*out = l;
	l = NULL;
cleanup:
	btf__free(vmlinux);
	ts_loader__free(l);
	return err;
}

const char *const ts_probe_tp_names[TS_PROBE_NTP] = {
	[TS_PROBE_SEND_RESET] = "tcp_send_reset",
	[TS_PROBE_RECV_RESET] = "tcp_receive_reset",
	[TS_PROBE_SYNACK] = "tcp_retransmit_synack",
};

static int probe_variant(enum ts_tp_mode mode, const struct btf *vmlinux,
			 char *why, size_t len)
{
	struct ts_loader_opts o = { .ring_bytes = 1 << 16, .mode = mode };
	struct tcpscope_bpf *skel = NULL;
	int err;

	why[0] = '\0';
	probe_why = why;
	probe_why_len = len;
	err = load_variant(&o, mode, vmlinux, &skel);
	probe_why = NULL;
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
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	struct btf *vmlinux = NULL;
	int err;

	memset(p, 0, sizeof(*p));
	libbpf_set_print(libbpf_print);
	err = ts_check_privileges();
	if (!err)
		err = ts_check_btf();
	if (!err)
		err = load_kernel_btf(&vmlinux);
	if (err)
		return err;
	p->btf = true;
	setrlimit(RLIMIT_MEMLOCK, &rl);
	ts_ensure_tracefs();
	for (int i = 0; i < TS_PROBE_NTP; i++) {
		p->tp_btf[i] = btf_tp_exists(vmlinux, ts_probe_tp_names[i]);
		p->tp_classic[i] = classic_tp_exists("tcp", ts_probe_tp_names[i]);
	}
	p->btf_err = probe_variant(TS_TP_BTF, vmlinux, p->btf_why,
				   sizeof(p->btf_why));
	p->classic_err = probe_variant(TS_TP_CLASSIC, vmlinux, p->classic_why,
				       sizeof(p->classic_why));
	/* The same order as ts_loader__open() with --tp-mode auto. */
	p->chosen = !p->btf_err	    ? TS_TP_BTF :
		    !p->classic_err ? TS_TP_CLASSIC :
				      TS_TP_AUTO;
	btf__free(vmlinux);
	return 0;
}

int ts_loader__ring_fd(const struct ts_loader *l)
{
	return bpf_map__fd(l->skel->maps.events);
}

/*
 * A tracing program that fires while the same program already runs on this
 * CPU (a softirq interrupting it in process context) is skipped by the
 * kernel and only counted in recursion_misses: those events are lost too.
 */
static uint64_t recursion_misses(const struct ts_loader *l)
{
	struct bpf_program *p;
	uint64_t sum = 0;

	bpf_object__for_each_program(p, l->skel->obj) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(p);

		memset(&info, 0, sizeof(info));
		if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len))
			sum += info.recursion_misses;
	}
	return sum;
}

int ts_loader__drops(const struct ts_loader *l, uint64_t *out)
{
	uint64_t vals[l->ncpu];
	__u32 zero = 0;
	uint64_t sum = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(l->skel->maps.drops), &zero, vals))
		return -errno;
	for (int i = 0; i < l->ncpu; i++)
		sum += vals[i];
	*out = sum + recursion_misses(l);
	return 0;
}

const char *ts_loader__mode_name(const struct ts_loader *l)
{
	return mode_name(l->mode);
}

void ts_loader__free(struct ts_loader *l)
{
	if (!l)
		return;
	tcpscope_bpf__destroy(l->skel);
	free(l);
}
