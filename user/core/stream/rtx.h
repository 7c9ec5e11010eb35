/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Retransmissions explained: the kind, the reason, the segment and the
 * timer of a retransmission record, from the raw facts the kernel side
 * sends (struct ts_rtx_info).  One place for every view: live text and
 * JSON, the timeline, the summary.
 */
#ifndef TS_RTX_H
#define TS_RTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/stream/record.h"

enum ts_rtx_kind {
	TS_RTX_SYN = 0, /* in SYN_SENT */
	TS_RTX_SYNACK,	/* SYN-ACK from the listener's request (or SYN_RECV) */
	TS_RTX_DATA,	/* in ESTABLISHED or CLOSE_WAIT */
	TS_RTX_FIN,	/* in FIN_WAIT1, CLOSING or LAST_ACK */
	TS_RTX_KINDS,
};

/* A retransmission kept as a step of its connection's timeline. */
struct ts_rtx_step {
	uint64_t ts_ns;
	uint8_t state; /* the socket's state */
	struct ts_rtx_info info;
};

const char *ts_rtx_name(enum ts_rtx_kind k);
/* The kind of a retransmission made in state (the record's state). */
enum ts_rtx_kind ts_rtx_kind_of(unsigned int state);

enum ts_rtx_reason {
	TS_RTXR_UNKNOWN = 0, /* no detail (an old capture, a SYN-ACK) */
	TS_RTXR_RTO,	     /* the retransmission timer expired */
	TS_RTXR_FAST,	     /* fast retransmit: dup ACKs/SACK (Recovery) */
	TS_RTXR_TLP,	     /* tail loss probe */
	TS_RTXR_AFTER_RTO,   /* in Loss state after a timeout, driven by ACKs */
	TS_RTXR_OTHER,	     /* none of those (e.g. a path MTU drop) */
	TS_RTXR_COUNT,
};

/* Timer values of icsk_pending (include/net/inet_connection_sock.h). */
#define TS_ICSK_TIME_RETRANS 1
#define TS_ICSK_TIME_REO_TIMEOUT 4
#define TS_ICSK_TIME_LOSS_PROBE 5
/* icsk_ca_state (include/net/tcp.h, enum tcp_ca_state). */
#define TS_CA_RECOVERY 3
#define TS_CA_LOSS 4

enum ts_rtx_reason ts_rtx__reason(const struct ts_rec *r);
const char *ts_rtx__reason_name(enum ts_rtx_reason x); /* JSON: "rto" */
const char *ts_rtx__reason_text(enum ts_rtx_reason x); /* text: "timeout" */
/* SYN, SYN-ACK, data or FIN: from the segment's flags when the record
 * has them, else from the socket's state. */
enum ts_rtx_kind ts_rtx__kind(const struct ts_rec *r);
/* Payload bytes (the sequence space less SYN and FIN). */
uint32_t ts_rtx__len(const struct ts_rtx_info *x);
/* The how-manieth timeout of the segment this retransmission answers
 * (1, 2, ...: icsk_backoff + 1); 0 when it is no timeout. */
unsigned int ts_rtx__timeout_nr(const struct ts_rec *r);
/* Name of icsk_ca_state and of icsk_pending. */
const char *ts_rtx__ca_name(unsigned int ca_state);
const char *ts_rtx__timer_name(unsigned int pending);
/*
 * One line of text: "data 1:1001 (600 B) timeout #2, RTO 408 ms, backoff 1,
 * srtt 0.053 ms".  Sequence numbers are relative to the ISN
 * when it is known (as Wireshark shows them), else absolute and marked
 * "abs".  Returns the length; "" when the record has no detail.
 */
size_t ts_rtx__describe(char *buf, size_t n, const struct ts_rec *r);

/* The record a timeline's retransmission step was made from. */
void ts_rtx__rec(struct ts_rec *out, const struct ts_rtx_step *s);

struct ts_jsonw;
/* "retransmit": {...} of a retransmission record with its detail. */
void ts_rtx__json(struct ts_jsonw *w, const struct ts_rec *r);

#endif
