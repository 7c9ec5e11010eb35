// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "kernel/preflight.h"
#include "core/util/log.h"

#define KERNEL_BTF "/sys/kernel/btf/vmlinux"

#define NEED_PRIV "not allowed to %s: run as root (needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN)"

/* While probing, the verifier's last words, to say why a variant failed. */
static char *verifier_why;
static size_t verifier_why_len;

void ts_preflight__verifier_reason(char *why, size_t len)
{
	verifier_why = why;
	verifier_why_len = len;
}

static void keep_verifier_reason(const char *fmt, va_list ap)
{
	char buf[8192], *end, *line, *best = NULL, *save = NULL;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	end = strstr(buf, "-- END PROG LOAD LOG --");
	if (!end)
		return;
	*end = '\0';
	/* The last line that is not the instruction count. */
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (*line && strncmp(line, "processed ", 10) &&
		    strncmp(line, "-- BEGIN", 8) && strncmp(line, "libbpf:", 7))
			best = line;
	}
	if (best)
		snprintf(verifier_why, verifier_why_len, "%s", best);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (verifier_why && level == LIBBPF_WARN) {
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

void ts_preflight__libbpf_log(void)
{
	libbpf_set_print(libbpf_print);
}

int ts_preflight__privileges(const char *what)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2] = {};
	bool admin, bpf, perfmon;

	if (syscall(SYS_capget, &hdr, data)) {
		if (geteuid() == 0)
			return 0;
		ts_err(NEED_PRIV, what);
		return -EPERM;
	}
#define HAS(c) (data[(c) / 32].effective & (1u << ((c) % 32)))
	admin = HAS(CAP_SYS_ADMIN);
	bpf = HAS(39);	   /* CAP_BPF, 5.8+ */
	perfmon = HAS(38); /* CAP_PERFMON, 5.8+ */
#undef HAS
	if (admin || (bpf && perfmon))
		return 0;
	ts_err(NEED_PRIV, what);
	return -EPERM;
}

const char *ts_preflight__btf_path(void)
{
	const char *p = getenv("TCPSCOPE_BTF_PATH");

	return p && *p ? p : NULL;
}

int ts_preflight__btf(void)
{
	const char *path = ts_preflight__btf_path();

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

int ts_preflight__kernel_btf(struct btf **out)
{
	const char *path = ts_preflight__btf_path();
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

int ts_preflight__tracefs(void)
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

void ts_preflight__memlock(void)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };

	/* Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK; later
	 * ones charge the memory cgroup, and raising the limit may be
	 * refused.  Either way, try and go on. */
	if (setrlimit(RLIMIT_MEMLOCK, &rl))
		ts_info("cannot raise RLIMIT_MEMLOCK (%s): going on",
			strerror(errno));
}
