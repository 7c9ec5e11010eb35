/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * tcpscope snapshot -s: sockets counted per state and ESTABLISHED
 * connections per local port, with the hints the trade uses.
 *
 * Hints and their thresholds (kept in struct ts_hint_limits):
 *  - SYN_RECV >= 100: possible SYN flood (or a listener that stalls the
 *    handshake: an accept queue full, or SYN cookies off under load);
 *  - TIME_WAIT >= 10000: this host closes many short connections first;
 *    ephemeral ports may run out for one destination;
 *  - CLOSE_WAIT >= 100, or growing at each of the last 2 intervals of -c:
 *    an application not closing its sockets (the top holder is named when
 *    PIDs are known).
 */
#ifndef TS_SOCK_STATS_H
#define TS_SOCK_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "core/sock/sock.h"
#include "core/sock/sock_table.h"

#define TS_STATS_STATES 12 /* indexes 1..11: the netstat states */
#define TS_STATS_MAX_HINTS 4

struct ts_hint_limits {
	uint32_t syn_recv;
	uint32_t time_wait;
	uint32_t close_wait;
	unsigned int close_wait_growth; /* intervals of growth in a row */
};

#define TS_HINT_LIMITS_DEFAULT                                                \
	((struct ts_hint_limits){ .syn_recv = 100, .time_wait = 10000,        \
				  .close_wait = 100, .close_wait_growth = 2 })

struct ts_port_count {
	uint16_t port;
	uint32_t count;
};

struct ts_hint {
	const char *kind; /* "syn_flood", "time_wait", "close_wait" */
	char text[240];
};

struct ts_sock_stats {
	uint32_t total;
	uint32_t v4, v6;
	uint32_t by_state[TS_STATS_STATES];
	/* ESTABLISHED per local port, most first, then by port. */
	struct ts_port_count *ports;
	size_t nports;
	/* Holder of the most CLOSE_WAIT sockets, when PIDs are known. */
	uint32_t cw_pid;
	uint32_t cw_count;
	char cw_comm[TS_COMM_LEN + 1];
	struct ts_hint hints[TS_STATS_MAX_HINTS];
	size_t nhints;
};

/* CLOSE_WAIT counts of the previous -c iterations, newest last. */
struct ts_stats_history {
	uint32_t close_wait[8];
	unsigned int n;
};

/*
 * Count the sockets that the family and --state options of o select (-a
 * and -l do not apply: the summary covers every state), then add the
 * hints; hist (may be NULL) carries CLOSE_WAIT counts across -c
 * iterations and is updated.  0 or -ENOMEM.
 */
int ts_stats__compute(const struct ts_table_opts *o, const struct ts_sock *s,
		     size_t n, const struct ts_hint_limits *lim,
		     struct ts_stats_history *hist, struct ts_sock_stats *out);
void ts_stats__free(struct ts_sock_stats *st);

/* Text, with at most top ports listed (names from names unless NULL). */
int ts_stats__print(FILE *f, const struct ts_sock_stats *st, size_t top,
		   const struct ts_portnames *names);
/* One JSON line: {"event":"stats","states":{...},"ports":[...],"hints":[...]} */
/* One "stats" object, taken at ts_ns (CLOCK_MONOTONIC). */
int ts_stats__print_json(FILE *f, const struct ts_sock_stats *st, size_t top, uint64_t ts_ns,
			 int64_t wall_offset_ns);

#endif
