// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include "core/stream/states.h"
#include "core/stream/step_label.h"

struct label {
	const char *text;
	enum ts_label_class cls;
	const char *when; /* the transitions it names, for the docs */
};

/* The man page's STEP LABELS table is this table; a unit test keeps them equal. */
static const struct label labels[TS_LABELS] = {
	[TS_L_OTHER] = { "unusual transition", TS_LC_PLAIN, "any pair not listed" },
	[TS_L_SYN_SENT] = { "SYN sent", TS_LC_PLAIN, "CLOSE -> SYN_SENT" },
	[TS_L_CONNECTED] = { "SYN-ACK received, ACK sent", TS_LC_OPEN,
			     "SYN_SENT -> ESTABLISHED" },
	[TS_L_SIMULTANEOUS_OPEN] = { "SYN received in SYN_SENT (simultaneous)", TS_LC_PLAIN,
				     "SYN_SENT -> SYN_RECV (also a self-connect)" },
	[TS_L_REFUSED] = { "RST received: connection refused", TS_LC_REFUSED,
			   "SYN_SENT -> CLOSE, ECONNREFUSED" },
	[TS_L_CONNECT_TIMEOUT] = { "SYN never answered: connect timed out", TS_LC_TIMEOUT,
				   "SYN_SENT -> CLOSE, ETIMEDOUT" },
	[TS_L_CONNECT_ABANDONED] = { "connect abandoned before an answer", TS_LC_TIMEOUT,
				     "SYN_SENT -> CLOSE, no error" },
	[TS_L_LISTEN] = { "listen()", TS_LC_PLAIN, "CLOSE -> LISTEN" },
	[TS_L_LISTENER_CLOSED] = { "listener closed", TS_LC_CLOSE, "LISTEN -> CLOSE" },
	[TS_L_SYN_RECEIVED] = { "SYN received, SYN-ACK sent", TS_LC_PLAIN,
				"LISTEN -> SYN_RECV" },
	[TS_L_ACK_RECEIVED] = { "ACK received", TS_LC_OPEN, "SYN_RECV -> ESTABLISHED" },
	[TS_L_FIN_BEFORE_ACK] = { "FIN sent before ACK", TS_LC_CLOSE, "SYN_RECV -> FIN_WAIT1" },
	[TS_L_HANDSHAKE_ABORTED] = { "handshake aborted", TS_LC_TIMEOUT, "SYN_RECV -> CLOSE" },
	[TS_L_ACTIVE_CLOSE] = { "FIN sent (active close)", TS_LC_CLOSE,
				"ESTABLISHED -> FIN_WAIT1" },
	[TS_L_PASSIVE_CLOSE] = { "FIN received (passive close)", TS_LC_CLOSE,
				 "ESTABLISHED or SYN_RECV -> CLOSE_WAIT" },
	[TS_L_FIN_ACKED] = { "ACK of FIN received", TS_LC_CLOSE,
			     "FIN_WAIT1 -> FIN_WAIT2, LAST_ACK -> CLOSE" },
	[TS_L_SIMULTANEOUS_CLOSE] = { "FIN received before ACK (simultaneous)", TS_LC_CLOSE,
				      "FIN_WAIT1 -> CLOSING" },
	[TS_L_CLOSE_AGAIN] = { "close() after shutdown(): FIN already sent", TS_LC_CLOSE,
			       "FIN_WAIT1, FIN_WAIT2, CLOSING or LAST_ACK to itself" },
	[TS_L_FIN_TO_TIME_WAIT] = { "FIN received, ACK sent (to TIME_WAIT)", TS_LC_CLOSE,
				    "FIN_WAIT2 -> CLOSE" },
	[TS_L_CLOSING_TO_TIME_WAIT] = { "ACK of FIN received (to TIME_WAIT)", TS_LC_CLOSE,
					"CLOSING -> CLOSE" },
	[TS_L_ORPHANED] = { "orphaned: FIN_WAIT2 in a timewait socket", TS_LC_CLOSE,
			    "FIN_WAIT2 -> CLOSE, socket orphaned, no FIN yet" },
	[TS_L_LAST_FIN] = { "FIN sent", TS_LC_CLOSE, "CLOSE_WAIT -> LAST_ACK" },
	[TS_L_RST_SENT] = { "RST sent (abortive close)", TS_LC_RESET,
			    "ESTABLISHED, CLOSE_WAIT or FIN_WAIT1 -> CLOSE, no error" },
	[TS_L_RST_RECEIVED] = { "RST received", TS_LC_RESET,
				"any -> CLOSE, ECONNRESET or EPIPE" },
	[TS_L_RTX_TIMEOUT] = { "retransmissions timed out", TS_LC_TIMEOUT,
			       "any -> CLOSE, ETIMEDOUT" },
	[TS_L_TIME_WAIT_INFERRED] = { "FIN received, ACK sent (inferred)", TS_LC_CLOSE,
				      "FIN_WAIT2 -> TIME_WAIT (timelines)" },
	[TS_L_CLOSING_TIME_WAIT_INFERRED] = { "ACK of FIN received (inferred)", TS_LC_CLOSE,
					      "CLOSING -> TIME_WAIT (timelines)" },
	[TS_L_TIME_WAIT_HANDOFF] = { "handed to a timewait socket (not traced)", TS_LC_CLOSE,
				     "TIME_WAIT -> CLOSE (timelines)" },
	[TS_L_TIME_WAIT_FROM_PEER] = { "FIN received, ACK sent (seen at the peer)", TS_LC_CLOSE,
				       "FIN_WAIT2 -> TIME_WAIT (timelines, paired peer)" },
	[TS_L_FINAL_ACK_FROM_PEER] = { "final ACK arrived (seen at the peer)", TS_LC_CLOSE,
				       "TIME_WAIT -> TIME_WAIT (timelines, paired peer)" },
	[TS_L_DUPLICATE_CHILD] = { "duplicate child discarded by the kernel", TS_LC_PLAIN,
				   "SYN_RECV -> CLOSE, a sibling took the request (timelines)" },
};

/*
 * Transitions whose label does not depend on the evidence, by (from, to):
 * a lookup, not a search (the tracker labels every step it emits).  Any
 * pair not listed is TS_L_OTHER (0).
 */
static const uint8_t pair_label[TS_STATE_MAX][TS_STATE_MAX] = {
	[TS_CLOSE][TS_SYN_SENT] = TS_L_SYN_SENT,
	[TS_SYN_SENT][TS_ESTABLISHED] = TS_L_CONNECTED,
	[TS_SYN_SENT][TS_SYN_RECV] = TS_L_SIMULTANEOUS_OPEN,
	[TS_CLOSE][TS_LISTEN] = TS_L_LISTEN,
	[TS_LISTEN][TS_CLOSE] = TS_L_LISTENER_CLOSED,
	[TS_LISTEN][TS_SYN_RECV] = TS_L_SYN_RECEIVED,
	[TS_SYN_RECV][TS_ESTABLISHED] = TS_L_ACK_RECEIVED,
	[TS_SYN_RECV][TS_FIN_WAIT1] = TS_L_FIN_BEFORE_ACK,
	[TS_ESTABLISHED][TS_FIN_WAIT1] = TS_L_ACTIVE_CLOSE,
	[TS_ESTABLISHED][TS_CLOSE_WAIT] = TS_L_PASSIVE_CLOSE,
	/* tcp_fin() in SYN_RECV: a simultaneous open, or a Fast Open child. */
	[TS_SYN_RECV][TS_CLOSE_WAIT] = TS_L_PASSIVE_CLOSE,
	[TS_FIN_WAIT1][TS_FIN_WAIT2] = TS_L_FIN_ACKED,
	[TS_FIN_WAIT1][TS_CLOSING] = TS_L_SIMULTANEOUS_CLOSE,
	[TS_CLOSE_WAIT][TS_LAST_ACK] = TS_L_LAST_FIN,
	[TS_FIN_WAIT2][TS_TIME_WAIT] = TS_L_TIME_WAIT_INFERRED,
	[TS_CLOSING][TS_TIME_WAIT] = TS_L_CLOSING_TIME_WAIT_INFERRED,
	[TS_TIME_WAIT][TS_CLOSE] = TS_L_TIME_WAIT_HANDOFF,
};

/*
 * Into CLOSE the pair says little: the kernel reports FIN_WAIT2 -> CLOSE
 * both when the peer's FIN moves the connection to TIME_WAIT and when an
 * orphaned socket is handed to a timewait socket still in FIN_WAIT2, and
 * SYN_SENT -> CLOSE for a refused, a timed-out and an abandoned connect().
 * sk_err and the record's flags tell them apart.
 */
static enum ts_label close_label(unsigned int from, unsigned int flags, uint32_t err)
{
	bool reset = err == ECONNRESET || err == EPIPE || err == ECONNREFUSED;

	switch (from) {
	case TS_SYN_SENT:
		if (err == ECONNREFUSED || err == ECONNRESET)
			return TS_L_REFUSED;
		if (err == ETIMEDOUT)
			return TS_L_CONNECT_TIMEOUT;
		return TS_L_CONNECT_ABANDONED;
	case TS_SYN_RECV:
		return TS_L_HANDSHAKE_ABORTED;
	case TS_LISTEN:
		return TS_L_LISTENER_CLOSED;
	case TS_TIME_WAIT:
		return TS_L_TIME_WAIT_HANDOFF;
	default:
		break;
	}
	if (from == TS_FIN_WAIT2 && (flags & TS_F_FIN_RCVD))
		return TS_L_FIN_TO_TIME_WAIT;
	if (reset)
		return TS_L_RST_RECEIVED;
	if (err == ETIMEDOUT)
		return TS_L_RTX_TIMEOUT;
	switch (from) {
	case TS_FIN_WAIT2:
		return (flags & TS_F_ORPHAN) ? TS_L_ORPHANED : TS_L_FIN_TO_TIME_WAIT;
	case TS_CLOSING:
		return TS_L_CLOSING_TO_TIME_WAIT;
	case TS_LAST_ACK:
		return TS_L_FIN_ACKED;
	case TS_ESTABLISHED:
	case TS_CLOSE_WAIT:
	case TS_FIN_WAIT1:
		return TS_L_RST_SENT;
	default:
		return TS_L_OTHER;
	}
}

enum ts_label ts_label_classify(unsigned int from, unsigned int to, unsigned int rec_flags,
				uint32_t err)
{
	if (to == TS_CLOSE)
		return close_label(from, rec_flags, err);
	/*
	 * close() runs tcp_close_state() in every state: after shutdown(SHUT_WR)
	 * (FIN_WAIT1, FIN_WAIT2; LAST_ACK from CLOSE_WAIT; CLOSING) the table
	 * keeps the state and sends nothing, and tcp_set_state() still
	 * reports it: python's http.server shuts down, then closes.
	 */
	if (from == to)
		return from == TS_FIN_WAIT1 || from == TS_FIN_WAIT2 || from == TS_CLOSING ||
				       from == TS_LAST_ACK ?
			       TS_L_CLOSE_AGAIN :
			       TS_L_OTHER;
	if (from >= TS_STATE_MAX || to >= TS_STATE_MAX)
		return TS_L_OTHER;
	return (enum ts_label)pair_label[from][to];
}

enum ts_label ts_label_classify_peer(unsigned int from, unsigned int to)
{
	if (from == TS_FIN_WAIT2 && to == TS_TIME_WAIT)
		return TS_L_TIME_WAIT_FROM_PEER;
	if (from == TS_TIME_WAIT && to == TS_TIME_WAIT)
		return TS_L_FINAL_ACK_FROM_PEER;
	return TS_L_OTHER;
}

const char *ts_label_text(enum ts_label l)
{
	return (unsigned int)l < TS_LABELS ? labels[l].text : labels[TS_L_OTHER].text;
}

enum ts_label_class ts_label_class_of(enum ts_label l)
{
	return (unsigned int)l < TS_LABELS ? labels[l].cls : TS_LC_PLAIN;
}

const char *ts_label_transitions(enum ts_label l)
{
	return (unsigned int)l < TS_LABELS ? labels[l].when : NULL;
}

enum ts_label ts_rec_label(const struct ts_rec *r)
{
	if (r->type != TS_REC_STATE)
		return TS_L_OTHER;
	return ts_label_classify(r->old_state, r->new_state, r->flags,
				 r->has_stats ? r->st.err : 0);
}

const char *ts_rec_step_label(const struct ts_rec *r)
{
	return r->type == TS_REC_STATE ? ts_label_text(ts_rec_label(r)) : "";
}

/* The pair alone, without a record's evidence. */
const char *ts_step_label(unsigned int old_state, unsigned int new_state)
{
	return ts_label_text(ts_label_classify(old_state, new_state, 0, 0));
}
