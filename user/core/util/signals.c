// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <signal.h>
#include <string.h>
#include "core/util/signals.h"

static volatile sig_atomic_t stop_sig;

static void on_signal(int sig)
{
	stop_sig = sig;
}

void ts_signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	/*
	 * Restart interrupted writes: a signal arriving while a write to a
	 * full pipe (trace | less) blocks must not turn into a write error
	 * (stdio would keep EINTR as its error, and the command end with
	 * "Input/output error"); the main loop's waits (epoll_wait, poll,
	 * nanosleep) still return EINTR whatever this says, so stopping stays
	 * prompt.
	 */
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A dropped SSH session: end the recording as Ctrl-C would. */
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

bool ts_stop_requested(void)
{
	return stop_sig != 0;
}

int ts_stop_signal(void)
{
	return stop_sig;
}
