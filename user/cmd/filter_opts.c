// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <string.h>
#include "cmd/filter_opts.h"
#include "core/util/parse.h"
#include "cmd/usage.h"

enum {
	OPT_PORT = 0x1000,
	OPT_SPORT,
	OPT_DPORT,
	OPT_NETNS,
};

static const struct argp_option options[] = {
	{ "pid", 'p', "PID", 0, "Only connections owned by process PID", 1 },
	{ "port", OPT_PORT, "PORT", 0, "Only connections with PORT at either end", 1 },
	{ "sport", OPT_SPORT, "PORT", 0, "Only connections whose local port is PORT", 1 },
	{ "dport", OPT_DPORT, "PORT", 0, "Only connections whose remote port is PORT", 1 },
	{ "ipv4", '4', NULL, 0, "Only IPv4", 1 },
	{ "ipv6", '6', NULL, 0, "Only IPv6", 1 },
	{ "netns", OPT_NETNS, "NS", 0,
	  "Only network namespace NS: an inode number or a path such as /run/netns/NAME", 1 },
	{},
};

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
		if (f->family && f->family != (key == '4' ? 4 : 6))
			ts_usage_error(state, "-4 and -6 exclude each other");
		f->family = key == '4' ? 4 : 6;
		break;
	case OPT_NETNS:
		err = ts_parse_netns(arg, &f->netns);
		if (err)
			ts_usage_error(state, "invalid --netns '%s': %s", arg,
				   err == -EINVAL ? "not a network namespace file nor an inode number" :
				   err == -ERANGE ? "an inode number is 1..4294967295 (leave --netns out to trace every namespace)" :
						    strerror(-err));
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
