/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Decoded records: what every source (ring buffer, capture file) yields and
 * what the tracker and the sinks consume.  No libbpf here.
 */
#ifndef TS_RECORD_H
#define TS_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "bpf/tcpscope.h"

struct ts_rec {
	enum ts_rec_type type;
	uint8_t family; /* 4 or 6 */
	uint8_t old_state;
	uint8_t new_state;
	uint8_t flags; /* enum ts_event_flags */
	uint16_t sport;
	uint16_t dport;
	uint32_t pid;
	uint32_t netns;
	uint64_t ts_ns; /* CLOCK_MONOTONIC */
	uint64_t conn;
	uint64_t ns_in_old;
	uint8_t saddr[TS_ADDR_LEN];
	uint8_t daddr[TS_ADDR_LEN];
	char comm[TS_COMM_LEN + 1]; /* always NUL-terminated */
	bool has_stats;
	struct ts_tcp_stats st;
	uint64_t lost; /* TS_REC_LOST: reservations that failed */
	uint64_t cgroup_id; /* the owner's cgroup v2 id, 0 unknown */
	/* Its path under the cgroup2 mount, when the source could name it;
	 * owned by the source (live: the name cache, replay: the reader). */
	const char *cgroup;
	/* TS_REC_RESET_SENT: the kernel's sk_rst_reason + 1 (0: none given)
	 * and what the socket said (enum ts_rst_hint). */
	uint8_t rst_reason;
	uint8_t rst_hint;
	/* TS_REC_DROP (old_state = new_state: the socket's state, 0 none). */
	struct ts_rec_drop {
		uint32_t reason; /* the recording kernel's enum skb_drop_reason */
		uint8_t dir;	 /* enum ts_drop_dir */
		uint8_t tcp_flags;
		uint32_t seq;
		uint32_t ack;
		uint32_t len;
		uint64_t location; /* kernel address */
		bool has_base;	   /* seq_base is the peer's initial sequence */
		uint32_t seq_base;
	} drop;
	/*
	 * Names of the kernel's values, set by the source from its name
	 * tables (ts_knames__name) and owned by it; NULL when unknown:
	 * the drop's or the reset's reason, the drop location's function.
	 */
	const char *reason_name;
	const char *where;
	uint32_t where_off; /* offset of location into 'where' */
	/* TS_REC_RETRANS with what the socket said (struct ts_retrans). */
	bool has_rtx;
	struct ts_rtx_info rtx;
	/* TS_REC_SYNACK_RETRANS: when the first SYN-ACK left. */
	bool has_synack;
	struct ts_synack_info synack;
	/* SYN_RECV -> ESTABLISHED: the child's SYN-ACK round trip. */
	bool has_hs;
	struct ts_hs_info hs;
};

/*
 * Decode one ring-buffer record.  Returns 0, or -EINVAL for a record of an
 * unknown type, a wrong size, or out-of-range states or family.
 */
int ts_rec_decode(const void *data, size_t len, struct ts_rec *out);

/* Build a loss record. */
void ts_rec_lost(struct ts_rec *out, uint64_t ts_ns, uint64_t count);

/* Name of a record type as JSON and text show it ("state", "retransmit"). */
const char *ts_rec_type_name(enum ts_rec_type type);

#endif
