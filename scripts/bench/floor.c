// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tcpscope-floor: load and attach the empty floor programs, then wait for
 * SIGINT or SIGTERM.  "attached" on stdout tells the benchmark that the
 * programs are in place.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "floor.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block, old;
	struct floor_bpf *skel;
	int err;

	libbpf_set_print(quiet);
	/* Blocked until sigsuspend(): a signal cannot slip in before the wait. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	skel = floor_bpf__open_and_load();
	if (!skel) {
		err = -errno;
		fprintf(stderr, "tcpscope-floor: loading failed: %s (run as root)\n",
			strerror(-err));
		return 1;
	}
	err = floor_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "tcpscope-floor: attaching failed: %s\n",
			strerror(-err));
		goto cleanup;
	}
	printf("attached\n");
	fflush(stdout);
	while (!stop)
		sigsuspend(&old);
cleanup:
	floor_bpf__destroy(skel);
	return err ? 1 : 0;
}
