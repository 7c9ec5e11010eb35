// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tcpscope snapshot: netstat's table of TCP sockets, from BPF iterators. */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cmd/cmds.h"
#include "cmd/usage.h"
#include "cmd/filter_opts.h"
#include "core/util/signals.h"
#include "kernel/snapshot.h"
#include "kernel/snapshot_pin.h"
#include "core/util/log.h"
#include "core/util/parse.h"
#include "core/util/fmt.h"
#include "core/sinks/sinks.h"
#include "core/sock/sock_stats.h"
#include "core/sock/sock_table.h"
#include "core/stream/states.h"

#define SERVICES_PATH "/etc/services"
#define DEFAULT_TOP 10

struct snapshot_opts {
	struct ts_table_opts table;
	struct ts_snapshot_opts snap;
	bool json;
	bool stats;
	bool continuous;
	uint64_t interval_s; /* -c */
	bool interval_arg;   /* -c was given its SECONDS */
	uint64_t count;	     /* --count: iterations of -c, 0 until Ctrl-C */
	uint64_t top;	     /* -s: ports listed */
	bool unpin;
	char netns_path[300]; /* --netns, resolved to a file */
	uint8_t family;	      /* -4 / -6 */
};

enum {
	OPT_STATE = 0x3000,
	OPT_NETNS,
	OPT_COUNT,
	OPT_TOP,
	OPT_PIN,
	OPT_UNPIN,
	OPT_LOADER,
};

static const struct argp_option options[] = {
	{ "all", 'a', NULL, 0, "Show listening and non-listening sockets", 0 },
	{ "listening", 'l', NULL, 0, "Show only listening sockets", 0 },
	{ "numeric", 'n', NULL, 0,
	  "Show port numbers and user ids instead of names (addresses are always numeric)", 0 },
	{ "programs", 'p', NULL, 0, "Show the PID/Program name holding each socket", 0 },
	{ "timers", 'o', NULL, 0,
	  "Show the timer: on, keepalive, timewait, probe or off (seconds/retransmits/probes)", 0 },
	{ "extend", 'e', NULL, 0, "Show the user and the socket inode", 0 },
	{ "state", OPT_STATE, "NAME", 0,
	  "Show only sockets in this state (netstat name, e.g. TIME_WAIT; repeatable)", 0 },
	{ "inet", '4', NULL, 0, "IPv4 sockets only", 0 },
	{ "inet6", '6', NULL, 0, "IPv6 sockets only", 0 },
	{ "statistics", 's', NULL, 0,
	  "Counts per state, ESTABLISHED per local port, and hints", 0 },
	{ "top", OPT_TOP, "N", 0, "With -s: list N ports (default 10)", 0 },
	{ "continuous", 'c', "SECONDS", OPTION_ARG_OPTIONAL,
	  "Repeat every SECONDS (default 1; '-c 2' or '-c2') until Ctrl-C", 0 },
	{ "count", OPT_COUNT, "N", 0, "With -c: stop after N snapshots", 0 },
	{ "json", 'j', NULL, 0, "One JSON object per socket (per summary with -s)", 0 },
	{ "netns", OPT_NETNS, "NS", 0,
	  "Snapshot network namespace NS: an 'ip netns' name, a path (/run/netns/NAME, "
	  "/proc/PID/ns/net) or an inode number", 0 },
	{ "pin", OPT_PIN, NULL, 0,
	  "Keep the iterators loaded (pinned in " TS_PIN_ROOT ") so later snapshots start faster", 0 },
	{ "unpin", OPT_UNPIN, NULL, 0, "Remove the pinned iterators and exit", 0 },
	{ "loader", OPT_LOADER, "HOW", 0,
	  "auto (default): light skeleton (CO-RE in the kernel, Linux 5.17+), else libbpf; or light, libbpf", 0 },
	{ "verbose", 'v', NULL, 0, "Say what was loaded and why (-vv: libbpf debug output)", 0 },
	{},
};

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct snapshot_opts *o = state->input;
	int st;

	switch (key) {
	case ARGP_KEY_INIT:
		ts_usage_quiet_argp(state);
		break;
	case 'a':
		o->table.all = true;
		break;
	case 'l':
		o->table.listening = true;
		break;
	case 'n':
		o->table.numeric = true;
		break;
	case 'p':
		o->table.pids = true;
		break;
	case 'o':
		o->table.timers = true;
		break;
	case 'e':
		o->table.extend = true;
		break;
	case OPT_STATE:
		st = ts_state_parse(arg);
		if (st <= 0 || st > TS_CLOSING)
			ts_usage_error(state, "unknown state '%s' (ESTABLISHED, SYN_SENT, SYN_RECV, FIN_WAIT1, FIN_WAIT2, TIME_WAIT, CLOSE, CLOSE_WAIT, LAST_ACK, LISTEN, CLOSING)", arg);
		o->table.states |= 1u << st;
		break;
	case '4':
	case '6':
		ts_opt_family(state, key, &o->family);
		o->table.family = o->family;
		break;
	case 's':
		o->stats = true;
		break;
	case OPT_TOP:
		if (ts_parse_u64(arg, 1, 65535, &o->top))
			ts_usage_error(state, "invalid --top '%s': expected 1..65535", arg);
		break;
	case 'c':
		o->continuous = true;
		if (arg && ts_parse_u64(arg, 1, 86400, &o->interval_s))
			ts_usage_error(state, "invalid -c '%s': expected 1..86400 seconds", arg);
		o->interval_arg = arg != NULL;
		break;
	case OPT_COUNT:
		if (ts_parse_u64(arg, 1, 1000000, &o->count))
			ts_usage_error(state, "invalid --count '%s': expected 1..1000000", arg);
		break;
	case 'j':
		o->json = true;
		break;
	case OPT_NETNS: {
		uint32_t ino;

		ts_opt_netns(state, arg, &ino, o->netns_path, sizeof(o->netns_path));
		/* An inode names no file: find one that opens it. */
		if (!o->netns_path[0] && ts_netns_path(ino, o->netns_path, sizeof(o->netns_path)))
			ts_usage_error(state, "invalid --netns '%s': no such network namespace", arg);
		o->snap.netns_path = o->netns_path;
		break;
	}
	case OPT_PIN:
		o->snap.pin = true;
		break;
	case OPT_UNPIN:
		o->unpin = true;
		break;
	case OPT_LOADER:
		if (!strcmp(arg, "auto"))
			o->snap.loader = TS_SNAP_LOADER_AUTO;
		else if (!strcmp(arg, "light"))
			o->snap.loader = TS_SNAP_LOADER_LIGHT;
		else if (!strcmp(arg, "libbpf"))
			o->snap.loader = TS_SNAP_LOADER_LIBBPF;
		else
			ts_usage_error(state, "invalid --loader '%s': auto, light or libbpf", arg);
		break;
	case 'v':
		ts_log_set_verbose(ts_log_verbose() + 1);
		break;
	case ARGP_KEY_ARG:
		/* "-c 2" as well as "-c2": argp leaves the 2 as an argument. */
		if (!o->continuous || o->interval_arg)
			ts_usage_error(state, "unexpected argument '%s'", arg);
		if (ts_parse_u64(arg, 1, 86400, &o->interval_s))
			ts_usage_error(state, "invalid -c '%s': expected 1..86400 seconds", arg);
		o->interval_arg = true;
		break;
	case ARGP_KEY_END:
		if (o->table.all && o->table.listening)
			ts_usage_error(state, "-a and -l contradict each other");
		if (o->count && !o->continuous)
			ts_usage_error(state, "--count goes with -c");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp argp = {
	.options = options,
	.parser = parse_opt,
	.args_doc = "[SECONDS]",
	.doc = "List TCP sockets (IPv4 and IPv6) with netstat's columns, taken with "
	       "BPF iterators (iter/tcp; iter/task_file for -p).\v"
	       "Without -a or -l, listening sockets are left out, as netstat does; "
	       "TIME_WAIT and SYN_RECV (request) sockets are included. Addresses "
	       "are always numeric: tcpscope never makes DNS lookups; without -n "
	       "ports are named from /etc/services and users from the password "
	       "database. For LISTEN sockets Recv-Q is the accept backlog and "
	       "Send-Q its limit.\n\n"
	       "-s hints: SYN_RECV >= 100 (possible SYN flood); TIME_WAIT >= 10000 "
	       "(many short connections closed here first); CLOSE_WAIT >= 100 or "
	       "growing at each of the last 2 intervals of -c (an application not "
	       "closing its sockets).\n\n"
	       "Closed sockets still waiting for the peer's FIN show as "
	       "FIN_WAIT2, as ss shows them (netstat says TIME_WAIT).\n\n"
	       "Loading: on Linux 5.17+ the light skeleton loads the iterators "
	       "in a few milliseconds (CO-RE done by the kernel); older kernels "
	       "load them with libbpf, which parses the kernel's BTF (about 30 ms). "
	       "--pin keeps them loaded in bpffs (a directory per build of "
	       "tcpscope, gone at reboot or with --unpin).\n\n"
	       "Needs Linux 5.9+ with BTF (5.12+ for socket cookies of sockets "
	       "never traced). JSON field 'conn' is the socket cookie, the "
	       "connection id of 'tcpscope trace'.",
};

/* Sleep up to secs, waking early when asked to stop. */
static void nap(uint64_t secs)
{
	uint64_t steps = secs * 10;

	for (uint64_t i = 0; i < steps && !ts_stop_requested(); i++)
		nanosleep(&(struct timespec){ .tv_nsec = 100000000 }, NULL);
}

static int show(const struct snapshot_opts *o, const struct ts_portnames *names,
		struct ts_stats_history *hist, const struct ts_sock *socks,
		size_t n)
{
	struct ts_hint_limits lim = TS_HINT_LIMITS_DEFAULT;
	struct ts_sock_stats st;
	int err;

	if (!o->stats) {
		err = o->json ? ts_table__print_json(stdout, &o->table, socks, n, ts_now_mono_ns(),
						     ts_mono_to_wall_offset()) :
				ts_table__print(stdout, &o->table, names, socks, n);
		return err < 0 ? err : 0;
	}
	err = ts_stats__compute(&o->table, socks, n, &lim, hist, &st);
	if (err)
		return err;
	err = o->json ? ts_stats__print_json(stdout, &st, o->top, ts_now_mono_ns(),
					     ts_mono_to_wall_offset()) :
			ts_stats__print(stdout, &st, o->top,
				       o->table.numeric ? NULL : names);
	ts_stats__free(&st);
	return err;
}

int cmd_snapshot(int argc, char **argv)
{
	struct snapshot_opts o = {
		.table.title = true,
		.interval_s = 1,
		.top = DEFAULT_TOP,
	};
	struct ts_stats_history hist = {};
	struct ts_snapshotter *snap = NULL;
	struct ts_portnames *names = NULL;
	int err, ret = 1;

	argp_parse(&argp, argc, argv, 0, NULL, &o);
	if (o.unpin) {
		err = ts_pin__remove_all();
		if (err < 0) {
			ts_err("cannot remove the pins in %s: %s", TS_PIN_ROOT,
			       strerror(-err));
			return 1;
		}
		ts_info("%d pinned iterators removed", err);
		return 0;
	}
	o.snap.pids = o.table.pids || o.json || o.stats;
	/* Cookies join JSON rows with trace's connection ids; the table and
	 * the summary do not show them. */
	o.snap.skip_cookies = !o.json || o.stats;
	o.snap.skip_timers = !o.json && !o.table.timers;
	o.snap.skip_inodes = !o.json && !o.table.extend;

	if (!o.table.numeric && !o.json) {
		err = ts_portnames__load(SERVICES_PATH, &names);
		if (err) {
			ts_err("cannot read %s: %s", SERVICES_PATH, strerror(-err));
			goto cleanup;
		}
	}
	if (ts_snapshotter__new(&o.snap, &snap))
		goto cleanup;
	ts_signals_install();
	if (o.json)
		ts_json_write_header(stdout, "snapshot", o.stats ? "stats" : "sockets",
				     ts_now_mono_ns(),
				     &(struct ts_meta){ .wall_offset_ns = ts_mono_to_wall_offset() });
	for (uint64_t i = 0;; i++) {
		struct ts_sock *socks = NULL;
		size_t n = 0;

		if (ts_snapshotter__collect(snap, &socks, &n))
			goto cleanup;
		err = show(&o, names, &hist, socks, n);
		free(socks);
		if (!err && fflush(stdout))
			err = -errno;
		if (err && errno == EPIPE) {
			/* The reader went away (| head): stop quietly. */
			ret = 0;
			goto cleanup;
		}
		if (err) {
			ts_err("writing output failed: %s", strerror(-err));
			goto cleanup;
		}
		if (!o.continuous || ts_stop_requested() ||
		    (o.count && i + 1 >= o.count))
			break;
		nap(o.interval_s);
		if (ts_stop_requested())
			break;
		if (!o.json)
			putchar('\n');
	}
	ret = 0;
cleanup:
	ts_snapshotter__free(snap);
	ts_portnames__free(names);
	return ret;
}
