// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include "core/stream/states.h"
#include "core/stream/step_label.h"

/*
 * Transitions into CLOSE say little by themselves: the kernel reports
 * FIN_WAIT2 -> CLOSE both when the peer's FIN moves the connection to
 * TIME_WAIT (tcp_fin -> tcp_time_wait) and when an orphaned socket is handed
 * to a timewait socket that still waits in FIN_WAIT2; and SYN_SENT -> CLOSE
 * for a refused, a timed-out and an abandoned connect().  The record's flags
 * and sk_err tell them apart.
 */
static const char *close_label(const struct ts_rec *r)
{
	uint32_t err = r->has_stats ? r->st.err : 0;

	switch (r->old_state) {
	case TS_SYN_SENT:
		if (err == ECONNREFUSED)
			return "RST received: connection refused";
		if (err == ETIMEDOUT)
			return "SYN never answered: connect timed out";
		return "connect abandoned before an answer";
	case TS_FIN_WAIT2:
		if (r->flags & TS_F_FIN_RCVD)
			return "FIN received, ACK sent (to TIME_WAIT)";
		if (err == ECONNRESET)
			return "RST received";
		if (r->flags & TS_F_ORPHAN)
			return "orphaned: FIN_WAIT2 continues in a timewait socket";
		break;
	case TS_CLOSING:
		if (!err)
			return "ACK of FIN received (to TIME_WAIT)";
		break;
	default:
		break;
	}
	if (err == ECONNRESET || err == EPIPE)
		return "aborted (RST)";
	if (err == ETIMEDOUT)
		return "retransmissions timed out";
	return NULL;
}

const char *ts_rec_step_label(const struct ts_rec *r)
{
	const char *l;

	if (r->type != TS_REC_STATE)
		return "";
	if (r->new_state == TS_CLOSE && r->old_state != TS_LISTEN) {
		l = close_label(r);
		if (l)
			return l;
	}
	return ts_step_label(r->old_state, r->new_state);
}
