// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <stddef.h>
#include "core/stream/states.h"
#include "bpf/tcpscope.h"

static const char *const names[TS_STATE_MAX] = {
	[TS_ESTABLISHED] = "ESTABLISHED",
	[TS_SYN_SENT] = "SYN_SENT",
	[TS_SYN_RECV] = "SYN_RECV",
	[TS_FIN_WAIT1] = "FIN_WAIT1",
	[TS_FIN_WAIT2] = "FIN_WAIT2",
	[TS_TIME_WAIT] = "TIME_WAIT",
	[TS_CLOSE] = "CLOSE",
	[TS_CLOSE_WAIT] = "CLOSE_WAIT",
	[TS_LAST_ACK] = "LAST_ACK",
	[TS_LISTEN] = "LISTEN",
	[TS_CLOSING] = "CLOSING",
	[TS_NEW_SYN_RECV] = "NEW_SYN_RECV",
};

bool ts_state_valid(unsigned int state)
{
	return state > 0 && state < TS_STATE_MAX;
}

const char *ts_state_name(unsigned int state)
{
	return ts_state_valid(state) ? names[state] : "UNKNOWN";
}

static int same_name(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char ca = *a == '-' ? '_' : (char)toupper((unsigned char)*a);

		if (ca != *b)
			return 0;
	}
	return *a == *b;
}

int ts_state_parse(const char *name)
{
	for (unsigned int s = 1; s < TS_STATE_MAX; s++)
		if (same_name(name, names[s]))
			return (int)s;
	return -1;
}

struct step {
	uint8_t from, to;
	const char *label;
};

/* What each transition means on the wire. */
static const struct step steps[] = {
	{ TS_CLOSE, TS_SYN_SENT, "SYN sent" },
	{ TS_SYN_SENT, TS_ESTABLISHED, "SYN-ACK received, ACK sent" },
	{ TS_SYN_SENT, TS_CLOSE, "connect failed" },
	{ TS_CLOSE, TS_LISTEN, "listen()" },
	{ TS_LISTEN, TS_CLOSE, "listener closed" },
	{ TS_LISTEN, TS_SYN_RECV, "SYN received, SYN-ACK sent" },
	{ TS_SYN_RECV, TS_ESTABLISHED, "ACK received" },
	{ TS_SYN_RECV, TS_FIN_WAIT1, "FIN sent before ACK" },
	{ TS_SYN_RECV, TS_CLOSE, "handshake aborted" },
	{ TS_ESTABLISHED, TS_FIN_WAIT1, "FIN sent (active close)" },
	{ TS_ESTABLISHED, TS_CLOSE_WAIT, "FIN received (passive close)" },
	{ TS_ESTABLISHED, TS_CLOSE, "aborted" },
	{ TS_FIN_WAIT1, TS_FIN_WAIT2, "ACK of FIN received" },
	{ TS_FIN_WAIT1, TS_CLOSING, "FIN received before ACK (simultaneous close)" },
	{ TS_FIN_WAIT1, TS_CLOSE, "closed in FIN_WAIT1" },
	{ TS_FIN_WAIT2, TS_CLOSE, "FIN received, ACK sent" },
	{ TS_CLOSING, TS_CLOSE, "ACK of FIN received" },
	{ TS_CLOSE_WAIT, TS_LAST_ACK, "FIN sent" },
	{ TS_CLOSE_WAIT, TS_CLOSE, "aborted in CLOSE_WAIT" },
	{ TS_LAST_ACK, TS_CLOSE, "ACK of FIN received" },
};

const char *ts_step_label(unsigned int old_state, unsigned int new_state)
{
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (steps[i].from == old_state && steps[i].to == new_state)
			return steps[i].label;
	return "";
}
