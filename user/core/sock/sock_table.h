/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The netstat-style table of sockets (tcpscope snapshot): which rows are
 * shown (-a, -l, --state, -4/-6), and how (text columns or JSON lines).
 * Addresses are always numeric: no DNS lookups, ever.  Port names come
 * from a services file unless numeric output is asked for.
 */
#ifndef TS_SOCK_TABLE_H
#define TS_SOCK_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "core/sock/sock.h"

struct ts_table_opts {
	bool all;	/* -a: listening and the rest */
	bool listening; /* -l: listening only */
	bool numeric;	/* -n: port numbers and uids, not names */
	bool pids;	/* -p: PID/Program name column */
	bool timers;	/* -o: Timer column */
	bool extend;	/* -e: User and Inode columns */
	bool title;	/* the "Active Internet connections" line */
	uint8_t family; /* 0 both, 4 or 6 */
	uint32_t states; /* 1 << state for each --state; 0: by -a/-l */
};

/* Port names for TCP from a services(5) file. */
struct ts_portnames;

/* Load path (usually /etc/services).  A missing file gives an empty table
 * (ports stay numeric); 0 or -errno. */
int ts_portnames__load(const char *path, struct ts_portnames **out);
void ts_portnames__free(struct ts_portnames *p);
/* The name of a TCP port, NULL if none. */
const char *ts_portname(const struct ts_portnames *p, uint16_t port);

/* Whether a socket is shown under these options. */
bool ts_table_selected(const struct ts_table_opts *o, const struct ts_sock *s);

/* netstat -o's name of a timer kind: off, on, keepalive, timewait, probe. */
const char *ts_timer_name(unsigned int timer);

/*
 * Print the selected sockets as aligned columns (names may be NULL with
 * numeric output).  Returns the number of rows, or -EIO on a write error.
 */
int ts_table__print(FILE *f, const struct ts_table_opts *o,
		   const struct ts_portnames *names, const struct ts_sock *s,
		   size_t n);

/* A "snapshot" object (taken at ts_ns, how many sockets follow), then one
 * "socket" object per selected socket.  Rows or -EIO. */
int ts_table__print_json(FILE *f, const struct ts_table_opts *o, const struct ts_sock *s,
			 size_t n, uint64_t ts_ns, int64_t wall_offset_ns);
/* One socket as a JSON line, for other views (trace --snapshot). */
void ts_sock_json(FILE *f, const struct ts_sock *s);

#endif
