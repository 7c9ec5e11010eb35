/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one table of protocol-step labels.  trace, the timelines and the
 * summary all name a transition through it, so the same transition with
 * the same evidence (the record's flags, sk_err at close) carries the same
 * label everywhere.  Every transition gets a label: pairs the table does
 * not list fall back to TS_L_OTHER, never to a blank.
 */
#ifndef TS_STEP_LABEL_H
#define TS_STEP_LABEL_H

#include <stdint.h>
#include "core/stream/record.h"

enum ts_label {
	TS_L_OTHER = 0,
	TS_L_SYN_SENT,
	TS_L_CONNECTED,
	TS_L_SIMULTANEOUS_OPEN,
	TS_L_REFUSED,
	TS_L_CONNECT_TIMEOUT,
	TS_L_CONNECT_ABANDONED,
	TS_L_LISTEN,
	TS_L_LISTENER_CLOSED,
	TS_L_SYN_RECEIVED,
	TS_L_ACK_RECEIVED,
	TS_L_FIN_BEFORE_ACK,
	TS_L_HANDSHAKE_ABORTED,
	TS_L_ACTIVE_CLOSE,
	TS_L_PASSIVE_CLOSE,
	TS_L_FIN_ACKED,
	TS_L_SIMULTANEOUS_CLOSE,
	TS_L_CLOSE_AGAIN,
	TS_L_FIN_TO_TIME_WAIT,
	TS_L_CLOSING_TO_TIME_WAIT,
	TS_L_ORPHANED,
	TS_L_LAST_FIN,
	TS_L_RST_SENT,
	TS_L_RST_RECEIVED,
	TS_L_RTX_TIMEOUT,
	TS_L_TIME_WAIT_INFERRED,
	TS_L_CLOSING_TIME_WAIT_INFERRED,
	TS_L_TIME_WAIT_HANDOFF,
	TS_L_TIME_WAIT_FROM_PEER,
	TS_L_FINAL_ACK_FROM_PEER,
	TS_L_DUPLICATE_CHILD,
	TS_LABELS,
};

/* What a label means, for colour: the same class, the same colour. */
enum ts_label_class {
	TS_LC_PLAIN = 0, /* an ordinary step */
	TS_LC_OPEN,	 /* a handshake completed */
	TS_LC_CLOSE,	 /* a graceful close step */
	TS_LC_RESET,	 /* a reset, sent or received */
	TS_LC_REFUSED,	 /* connection refused */
	TS_LC_TIMEOUT,	 /* timed out or abandoned */
};

/* Longest label text, in characters (the compact layouts rely on it). */
#define TS_LABEL_MAX_LEN 42

/*
 * The label of from -> to, given what the record tells: rec_flags
 * (TS_F_FIN_RCVD, TS_F_ORPHAN) and the socket's error at close (errno
 * value, 0 when unknown).
 */
enum ts_label ts_label_classify(unsigned int from, unsigned int to, unsigned int rec_flags,
				uint32_t err);
/*
 * The label of a step of the timewait socket deduced from the paired
 * peer's records (FIN_WAIT2 -> TIME_WAIT: the peer's FIN arrived;
 * TIME_WAIT -> TIME_WAIT: our ACK of it reached the peer).
 */
enum ts_label ts_label_classify_peer(unsigned int from, unsigned int to);
/* The label's text ("SYN sent"); never NULL nor empty. */
const char *ts_label_text(enum ts_label l);
enum ts_label_class ts_label_class_of(enum ts_label l);

/* The label of a state record (TS_L_OTHER for other records). */
enum ts_label ts_rec_label(const struct ts_rec *r);
/* Its text; "" for records that are not state changes. */
const char *ts_rec_step_label(const struct ts_rec *r);

/* The label of old -> new without a record's evidence ("SYN sent"). */
const char *ts_step_label(unsigned int old_state, unsigned int new_state);

/* Iterate the table (for docs and tests): the transitions a label is
 * listed for, as "FROM -> TO" text; NULL past the end. */
const char *ts_label_transitions(enum ts_label l);

#endif
