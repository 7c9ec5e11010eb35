// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tcpscope: every TCP connection's handshake, teardown and retransmits. */
#include <argp.h>
#include <stdio.h>
#include <string.h>
#include "cmd/cmds.h"

#ifndef TCPSCOPE_VERSION
#define TCPSCOPE_VERSION "0.1.0"
#endif

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct cmd cmds[] = {
	{ "trace", cmd_trace, "stream TCP state changes, resets and retransmissions live (--timeline: per connection)" },
	{ "record", cmd_record, "record them to a capture file (-w FILE)" },
	{ "report", cmd_report, "report from a capture file: records, --timeline, --summary, --at TIME" },
	{ "snapshot", cmd_snapshot, "netstat-style table of TCP sockets (BPF iterators)" },
	{ "serve", cmd_serve, "run as a service: Prometheus metrics on /metrics, JSON log of connections" },
	{ "probe", cmd_probe, "what this kernel offers and which programs tcpscope loads on it (--json)" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: tcpscope COMMAND [OPTIONS]\n\n"
		   "Shows what every TCP connection on this host goes through:\n"
		   "handshakes, teardowns, resets and retransmissions.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].help);
	fprintf(f, "\n'tcpscope COMMAND --help' (or 'tcpscope help COMMAND') describes a command's\n"
		   "options. Exit status: 0 success, 1 failure at run time, 2 bad usage, 3 damaged\n"
		   "capture file (report).\n");
}

int main(int argc, char **argv)
{
	/* Usage errors exit with 2, like most command-line tools. */
	argp_err_exit_status = 2;

	if (argc < 2) {
		fprintf(stderr, "tcpscope: no command given (try 'tcpscope --help')\n");
		return 2;
	}
	/* "tcpscope help trace" is "tcpscope trace --help". */
	if (!strcmp(argv[1], "help") && argc > 2) {
		static char help_opt[] = "--help";
		char *hargv[] = { argv[0], argv[2], help_opt, NULL };

		for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
			if (!strcmp(argv[2], cmds[i].name))
				return main(3, hargv);
		fprintf(stderr, "tcpscope: unknown command '%s' (try 'tcpscope --help')\n", argv[2]);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("tcpscope %s\n", TCPSCOPE_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		/* argp and getopt name the program after argv[0]. */
		static char name[64];

		if (strcmp(argv[1], cmds[i].name))
			continue;
		snprintf(name, sizeof(name), "tcpscope %s", cmds[i].name);
		argv[1] = name;
		return cmds[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "tcpscope: unknown command '%s' (try 'tcpscope --help')\n",
		argv[1]);
	return 2;
}
