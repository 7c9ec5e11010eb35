// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <linux/bpf.h>
#include "kernel/probe.h"
#include "core/util/log.h"
#include "core/util/hz.h"

/* Entries are NAME (both forms) or btf:NAME / classic:NAME. */
static bool tp_hidden(const char *tp, bool btf_form)
{
	const char *list = getenv("TCPSCOPE_HIDE_TP");
	const char *prefix = btf_form ? "btf:" : "classic:";
	size_t n = strlen(tp), np = strlen(prefix);

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

static bool tracefs_has(const char *root, const char *cat, const char *tp)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/events/%s/%s", root, cat, tp);
	/* AT_EACCESS: with the effective ids and capabilities, as the open()
	 * of the tracepoint's id will be (access() would drop the
	 * capabilities of a non-root user, e.g. a service's CAP_DAC_READ_SEARCH). */
	return faccessat(AT_FDCWD, path, F_OK, AT_EACCESS) == 0;
}

bool ts_probe__tp_classic(const char *cat, const char *tp)
{
	if (tp_hidden(tp, false))
		return false;
	return tracefs_has("/sys/kernel/tracing", cat, tp) ||
	       tracefs_has("/sys/kernel/debug/tracing", cat, tp);
}

static int tp_btf_typedef(const struct btf *vmlinux, const char *tp)
{
	char name[128];

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	return vmlinux ? btf__find_by_name_kind(vmlinux, name, BTF_KIND_TYPEDEF) : -1;
}

bool ts_probe__tp_btf(const struct btf *vmlinux, const char *tp)
{
	if (tp_hidden(tp, true))
		return false;
	return tp_btf_typedef(vmlinux, tp) > 0;
}

/* The typedef points at a prototype whose first parameter is the
 * tracepoint's own data pointer. */
int ts_probe__tp_btf_nargs(const struct btf *vmlinux, const char *tp)
{
	const struct btf_type *t;
	int id = tp_btf_typedef(vmlinux, tp);

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

bool ts_probe__retransmit_err(const struct btf *vmlinux)
{
	return ts_probe__tp_btf_nargs(vmlinux, "tcp_retransmit_skb") >= 3;
}

bool ts_probe__reset_reasons(const struct btf *vmlinux)
{
	return ts_probe__tp_btf_nargs(vmlinux, "tcp_send_reset") >= 3;
}

bool ts_probe__drop_rx_sk(const struct btf *vmlinux)
{
	return ts_probe__tp_btf_nargs(vmlinux, "kfree_skb") >= 4;
}

bool ts_probe__drop_reasons(const struct btf *vmlinux)
{
	const struct btf_type *t;
	const struct btf_member *m;
	int id;

	if (!vmlinux || tp_hidden("kfree_skb", false) || tp_hidden("kfree_skb", true))
		return false;
	id = btf__find_by_name_kind(vmlinux, "trace_event_raw_kfree_skb", BTF_KIND_STRUCT);
	t = id > 0 ? btf__type_by_id(vmlinux, id) : NULL;
	if (!t)
		return false;
	m = btf_members(t);
	for (int i = 0; i < btf_vlen(t); i++, m++) {
		const char *name = btf__name_by_offset(vmlinux, m->name_off);

		if (name && !strcmp(name, "reason"))
			return true;
	}
	return false;
}

/*
 * A program that returns 0, loaded as fexit on function id and attached:
 * the kernel's answer, 0 or -errno (a kernel without trampolines, a
 * lockdown, a policy: EPERM or EOPNOTSUPP, ENOTSUPP).
 */
static int fexit_try(int id)
{
	const struct bpf_insn ret0[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, lo, .expected_attach_type = BPF_TRACE_FEXIT,
		    .attach_btf_id = id);
	int fd, link, err = 0;

	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "ts_fexit_probe", "GPL", ret0, 2, &lo);
	if (fd < 0)
		return -errno ? -errno : -EINVAL;
	link = bpf_raw_tracepoint_open(NULL, fd);
	if (link < 0)
		err = -errno ? -errno : -EINVAL;
	else
		close(link);
	close(fd);
	return err;
}

int ts_probe__fexit_accept(const struct btf *vmlinux, bool own_btf, int *why)
{
	static int cached_nargs = -1, cached_why;
	const struct btf_type *t;
	int id, nargs, err;

	if (cached_nargs >= 0) {
		*why = cached_why;
		return cached_nargs;
	}
	nargs = 0;
	if (getenv("TCPSCOPE_TEST_NO_FEXIT")) {
		err = -EPERM;
	} else if (!vmlinux || !own_btf) {
		err = -ENOENT;
	} else {
		id = btf__find_by_name_kind(vmlinux, "inet_csk_accept", BTF_KIND_FUNC);
		t = id > 0 ? btf__type_by_id(vmlinux, id) : NULL;
		t = t ? btf__type_by_id(vmlinux, t->type) : NULL;
		if (!t || !btf_is_func_proto(t))
			err = -ENOENT;
		else if (btf_vlen(t) != 2 && btf_vlen(t) != 4)
			err = -E2BIG;
		else
			err = fexit_try(id);
		if (!err)
			nargs = btf_vlen(t);
	}
	cached_nargs = nargs;
	cached_why = *why = err;
	return nargs;
}

const char *ts_probe__fexit_why(int why)
{
	static char buf[96];

	switch (why) {
	case -ENOENT:
		return "impossible: inet_csk_accept() is not in the kernel's own BTF";
	case -E2BIG:
		return "impossible: inet_csk_accept() has arguments tcpscope does not know";
	case -EPERM:
		return getenv("TCPSCOPE_TEST_NO_FEXIT") ? "refused: TCPSCOPE_TEST_NO_FEXIT" :
			"refused: EPERM";
	default:
		snprintf(buf, sizeof(buf), "refused: %s", strerror(-why));
		return buf;
	}
}

/* The iterator targets exist in the kernel's BTF exactly when the kernel
 * has them (DEFINE_BPF_ITER_FUNC defines struct bpf_iter__<target>). */
int ts_probe__iterators(bool pids)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	int err = 0;

	if (!vmlinux) {
		err = -errno;
		ts_err("cannot read kernel BTF: %s", strerror(-err));
		return err;
	}
	if (btf__find_by_name_kind(vmlinux, "bpf_iter__tcp", BTF_KIND_STRUCT) < 0) {
		ts_err("the kernel has no BPF iterator for TCP sockets: 'snapshot' needs Linux 5.9+ (iter/tcp)");
		err = -EOPNOTSUPP;
	} else if (pids && btf__find_by_name_kind(vmlinux, "bpf_iter__task_file",
						  BTF_KIND_STRUCT) < 0) {
		ts_err("the kernel has no BPF iterator for open files: -p needs Linux 5.8+ (iter/task_file)");
		err = -EOPNOTSUPP;
	}
	btf__free(vmlinux);
	return err;
}

enum ts_iter_walk ts_probe__iter_walk(void)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	enum ts_iter_walk r;

	if (!vmlinux)
		return TS_ITER_WALK_UNKNOWN;
	if (btf__find_by_name_kind(vmlinux, "bpf_tcp_iter_state", BTF_KIND_STRUCT) < 0)
		r = TS_ITER_WALK_SOCKETS;
	else if (btf__find_by_name_kind(vmlinux, "bpf_tcp_iter_batch_item", BTF_KIND_UNION) > 0)
		r = TS_ITER_WALK_COOKIES;
	else
		r = TS_ITER_WALK_OFFSETS;
	btf__free(vmlinux);
	return r;
}

/* /proc/timer_list prints the clock and jiffies (read as root). */
static int read_timer_list(uint64_t *now, uint64_t *jiffies)
{
	static char buf[65536];
	ssize_t n;
	int fd = open("/proc/timer_list", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	/* A seq_file hands out a page or so a read(): read to the end. */
	size_t len = 0;

	while (len < sizeof(buf) - 1) {
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return ts_hz__parse_timer_list(buf, now, jiffies);
}

uint32_t ts_probe__kernel_hz(void)
{
	struct timespec pause = { 0, 200 * 1000 * 1000 };
	uint64_t now, jiffies, now2, jiffies2;
	uint32_t hz;

	if (read_timer_list(&now, &jiffies))
		return 0;
	hz = ts_hz__guess(now, jiffies);
	/*
	 * Near five minutes of uptime (jiffies' wrap) one reading fits every
	 * HZ: a second one 0.2 s later measures the rate.  Rare (20 s of a
	 * machine's life), so the pause is too.
	 */
	if (hz || nanosleep(&pause, NULL) || read_timer_list(&now2, &jiffies2) ||
	    now2 <= now)
		return hz;
	return ts_hz__from_rate(now2 - now, jiffies2 - jiffies);
}
