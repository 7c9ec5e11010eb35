/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One socket as a netstat-style snapshot sees it.  Produced by the BPF
 * iterators (tcpscope snapshot), stored in capture files, and rebuilt by
 * 'report --at'.  Plain data, no libbpf.
 */
#ifndef TS_SOCK_H
#define TS_SOCK_H

#include <stdint.h>
#include "core/stream/record.h"

/* netstat -o timer kinds */
enum ts_timer {
	TS_TIMER_OFF = 0,
	TS_TIMER_ON = 1,	/* retransmission timer */
	TS_TIMER_KEEPALIVE = 2,
	TS_TIMER_TIMEWAIT = 3,
	TS_TIMER_PROBE = 4,	/* zero-window probe */
};

struct ts_sock {
	uint64_t cookie; /* socket cookie: the 'conn' id of trace records */
	uint64_t inode;
	uint32_t netns;
	uint32_t uid;
	uint32_t pid; /* 0 when no process holds it (TIME_WAIT, SYN_RECV) */
	uint32_t recv_q;
	uint32_t send_q;
	int32_t timer_ms; /* time left on the timer */
	uint16_t sport;
	uint16_t dport;
	uint8_t family; /* 4 or 6 */
	uint8_t state;	/* enum ts_tcp_state; TIME_WAIT and SYN_RECV included */
	uint8_t timer;	/* enum ts_timer */
	uint8_t retransmits;
	uint8_t probes;
	uint8_t pad[3];
	uint8_t saddr[TS_ADDR_LEN];
	uint8_t daddr[TS_ADDR_LEN];
	char comm[TS_COMM_LEN + 1];
};

#endif
