// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <string.h>
#include "kernel/snapshot.h"
#include "core/util/log.h"
#include "cmd/filter_opts.h"
#include "core/util/cgroup.h"
#include "core/util/parse.h"
#include "cmd/usage.h"

enum {
	OPT_PORT = 0x1000,
	OPT_SPORT,
	OPT_DPORT,
	OPT_NETNS,
	OPT_CGROUP,
};

static const struct argp_option options[] = {
	{ "pid", 'p', "PID", 0, "Only connections owned by process PID", 1 },
	{ "port", OPT_PORT, "PORT", 0, "Only connections with PORT at either end", 1 },
	{ "sport", OPT_SPORT, "PORT", 0, "Only connections whose local port is PORT", 1 },
	{ "dport", OPT_DPORT, "PORT", 0, "Only connections whose remote port is PORT", 1 },
	{ "ipv4", '4', NULL, 0, "Only IPv4", 1 },
	{ "ipv6", '6', NULL, 0, "Only IPv6", 1 },
	{ "netns", OPT_NETNS, "NS", 0,
	  "Only network namespace NS: an 'ip netns' name, a path (/run/netns/NAME, "
	  "/proc/PID/ns/net) or an inode number", 1 },
	{ "cgroup", OPT_CGROUP, "PATH", 0,
	  "Only connections whose owner's cgroup (v2) is PATH or below it: a path under the cgroup2 mount, absolute or relative to it", 1 },
	{},
};

/* The --cgroup path: parsed once, it lives as long as the command. */
static char cgroup_rel[4096];

/* --cgroup: "/sys/fs/cgroup/a/b", "/a/b" or "a/b" all name /a/b. */
static int parse_cgroup(const char *arg, struct ts_filter *f)
{
	const char *root = ts_cgroup_root();
	char rel[sizeof(cgroup_rel)], dir[4200];
	struct statfs sfs;
	struct stat st;
	size_t n, rl;

	if (!root || statfs(root, &sfs) || sfs.f_type != CGROUP2_SUPER_MAGIC)
		return -EMEDIUMTYPE;
	rl = strlen(root);
	if (!strncmp(arg, root, rl) && (arg[rl] == '/' || !arg[rl]))
		arg += rl;
	snprintf(rel, sizeof(rel), "%s%s", arg[0] == '/' ? "" : "/", arg);
	n = strlen(rel);
	while (n > 1 && rel[n - 1] == '/')
		rel[--n] = '\0';
	if (strstr(rel, "/../") || (n >= 3 && !strcmp(rel + n - 3, "/..")))
		return -EINVAL;
	snprintf(dir, sizeof(dir), "%s%s", root, strcmp(rel, "/") ? rel : "");
	if (stat(dir, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode) || statfs(dir, &sfs) || sfs.f_type != CGROUP2_SUPER_MAGIC)
		return -ENOTDIR;
	memcpy(cgroup_rel, rel, n + 1);
	f->cgroup = cgroup_rel;
	f->cgroup_id = st.st_ino;
	return 0;
}


void ts_opt_netns(const struct argp_state *state, const char *arg, uint32_t *ino, char *path,
		  size_t len)
{
	int err = ts_netns_resolve(arg, ino, path, len);

	if (err)
		ts_usage_error(state, "invalid --netns '%s': %s", arg,
			       err == -EINVAL ? "not a network namespace file, name or inode number" :
			       err == -ENOENT ? "no such network namespace" :
			       err == -ERANGE ? "an inode number is 1..4294967295 (leave --netns out to trace every namespace)" :
						strerror(-err));
}

void ts_opt_family(const struct argp_state *state, int key, uint8_t *family)
{
	uint8_t want = key == '4' ? 4 : 6;

	if (*family && *family != want)
		ts_usage_error(state, "-4 and -6 exclude each other");
	*family = want;
}

void ts_filter_opts__check_live(const struct ts_filter *f)
{
	char path[300];

	if (f->netns && ts_netns_path(f->netns, path, sizeof(path)) == -ENOENT)
		ts_warn("no network namespace with inode %u is known now: nothing will match "
			"until one exists", f->netns);
	if (f->pid && kill((pid_t)f->pid, 0) && errno == ESRCH)
		ts_warn("no process %u exists now: nothing will match until one does", f->pid);
}

static error_t parse(int key, char *arg, struct argp_state *state)
{
	struct ts_filter *f = state->input;
	uint64_t v;
	int err;

	switch (key) {
	case 'p':
		if (ts_parse_u64(arg, 1, 0x7fffffff, &v))
			ts_usage_error(state, "invalid --pid '%s': expected 1..2147483647", arg);
		f->pid = (uint32_t)v;
		break;
	case OPT_PORT:
	case OPT_SPORT:
	case OPT_DPORT: {
		uint16_t port;

		if (ts_parse_port(arg, &port))
			ts_usage_error(state, "invalid --%s '%s': expected a port 1..65535",
				       key == OPT_PORT ? "port" :
				       key == OPT_SPORT ? "sport" : "dport", arg);
		if (key == OPT_PORT)
			f->port = port;
		else if (key == OPT_SPORT)
			f->sport = port;
		else
			f->dport = port;
		break;
	}
	case '4':
	case '6':
		ts_opt_family(state, key, &f->family);
		break;
	case OPT_CGROUP:
		err = parse_cgroup(arg, f);
		if (err == -EMEDIUMTYPE)
			ts_usage_error(state, "--cgroup needs cgroup v2, and no cgroup2 file system is mounted (cgroup v1 only)");
		else if (err)
			ts_usage_error(state, "invalid --cgroup '%s': %s", arg,
				       err == -ENOTDIR ? "not a cgroup directory" : strerror(-err));
		break;
	case OPT_NETNS:
		ts_opt_netns(state, arg, &f->netns, NULL, 0);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp ts_filter_argp = {
	.options = options,
	.parser = parse,
};
