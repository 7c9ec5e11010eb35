// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Every transition the kernel can report has a label of its own (never
 * "unusual transition", never empty), and every label fits the compact
 * layouts.  The list is read from the callers of tcp_set_state() and
 * inet_sk_set_state() (net/ipv4/tcp.c, tcp_input.c, tcp_ipv4.c,
 * tcp_ipv6.c, tcp_minisocks.c, inet_connection_sock.c,
 * inet_hashtables.c; read in 5.10.44, 6.1 and 6.18), with the
 * evidence each can carry: sk_err at close and the record's flags.
 */
#include <errno.h>
#include <string.h>
#include "check.h"
#include "core/stream/states.h"
#include "core/stream/step_label.h"

struct kpair {
	int from, to;
	unsigned int flags;
	uint32_t err;
	const char *where; /* the kernel path that reports it */
};

static const struct kpair kernel_pairs[] = {
	{ TS_CLOSE, TS_SYN_SENT, 0, 0, "tcp_v4_connect/tcp_v6_connect" },
	{ TS_SYN_SENT, TS_ESTABLISHED, 0, 0, "tcp_finish_connect" },
	{ TS_SYN_SENT, TS_SYN_RECV, 0, 0, "tcp_rcv_synsent_state_process: crossed SYNs" },
	{ TS_SYN_SENT, TS_CLOSE, 0, ECONNREFUSED, "tcp_reset in SYN_SENT" },
	{ TS_SYN_SENT, TS_CLOSE, 0, ETIMEDOUT, "tcp_write_timeout: SYN retries" },
	{ TS_SYN_SENT, TS_CLOSE, 0, 0, "connect failure, close() in SYN_SENT" },
	{ TS_SYN_SENT, TS_CLOSE, 0, ECONNRESET, "tcp_disconnect in SYN_SENT" },
	{ TS_CLOSE, TS_LISTEN, 0, 0, "inet_csk_listen_start" },
	{ TS_LISTEN, TS_CLOSE, 0, 0, "tcp_close/tcp_disconnect/listen_start failure" },
	{ TS_LISTEN, TS_SYN_RECV, 0, 0, "inet_csk_clone_lock: the child" },
	{ TS_SYN_RECV, TS_ESTABLISHED, 0, 0, "tcp_rcv_state_process" },
	{ TS_SYN_RECV, TS_FIN_WAIT1, 0, 0, "close()/shutdown() in SYN_RECV" },
	{ TS_SYN_RECV, TS_CLOSE_WAIT, TS_F_FIN_RCVD, 0, "tcp_fin in SYN_RECV" },
	{ TS_SYN_RECV, TS_CLOSE, 0, 0, "tcp_done, inet_ehash_nolisten failure" },
	{ TS_SYN_RECV, TS_CLOSE, 0, ECONNRESET, "tcp_reset in SYN_RECV" },
	{ TS_ESTABLISHED, TS_FIN_WAIT1, 0, 0, "close()/shutdown()" },
	{ TS_ESTABLISHED, TS_CLOSE_WAIT, TS_F_FIN_RCVD, 0, "tcp_fin" },
	{ TS_ESTABLISHED, TS_CLOSE, 0, ECONNRESET, "tcp_reset" },
	{ TS_ESTABLISHED, TS_CLOSE, 0, ETIMEDOUT, "tcp_write_timeout" },
	{ TS_ESTABLISHED, TS_CLOSE, 0, 0, "tcp_disconnect, close() with unread data" },
	{ TS_FIN_WAIT1, TS_FIN_WAIT2, 0, 0, "tcp_rcv_state_process: our FIN acked" },
	{ TS_FIN_WAIT1, TS_CLOSING, TS_F_FIN_RCVD, 0, "tcp_fin in FIN_WAIT1" },
	{ TS_FIN_WAIT1, TS_FIN_WAIT1, 0, 0, "close() after shutdown(SHUT_WR)" },
	{ TS_FIN_WAIT1, TS_CLOSE, 0, ECONNRESET, "tcp_reset" },
	{ TS_FIN_WAIT1, TS_CLOSE, 0, ETIMEDOUT, "orphan retries exhausted" },
	{ TS_FIN_WAIT1, TS_CLOSE, 0, 0, "close() with unread data" },
	{ TS_FIN_WAIT2, TS_CLOSE, TS_F_FIN_RCVD, 0, "tcp_fin -> tcp_time_wait(TIME_WAIT)" },
	{ TS_FIN_WAIT2, TS_CLOSE, TS_F_ORPHAN, 0, "orphan -> tcp_time_wait(FIN_WAIT2)" },
	{ TS_FIN_WAIT2, TS_CLOSE, 0, ECONNRESET, "tcp_reset" },
	{ TS_FIN_WAIT2, TS_FIN_WAIT2, 0, 0, "close() after shutdown(SHUT_WR)" },
	{ TS_CLOSE_WAIT, TS_LAST_ACK, TS_F_FIN_RCVD, 0, "close()/shutdown()" },
	{ TS_CLOSE_WAIT, TS_CLOSE, 0, EPIPE, "tcp_reset in CLOSE_WAIT" },
	{ TS_CLOSE_WAIT, TS_CLOSE, 0, 0, "close() with unread data, tcp_disconnect" },
	{ TS_LAST_ACK, TS_CLOSE, 0, 0, "tcp_rcv_state_process: our FIN acked" },
	{ TS_LAST_ACK, TS_CLOSE, 0, ECONNRESET, "tcp_reset" },
	{ TS_LAST_ACK, TS_CLOSE, 0, ETIMEDOUT, "retries exhausted" },
	{ TS_LAST_ACK, TS_LAST_ACK, 0, 0, "close() after shutdown() in CLOSE_WAIT" },
	{ TS_CLOSING, TS_CLOSE, TS_F_FIN_RCVD, 0, "tcp_rcv_state_process -> tcp_time_wait" },
	{ TS_CLOSING, TS_CLOSE, 0, ECONNRESET, "tcp_reset" },
	{ TS_CLOSING, TS_CLOSING, 0, 0, "close() after shutdown(SHUT_WR)" },
};

/* Steps timelines add, never reported by the kernel for a full socket. */
static const struct kpair timeline_pairs[] = {
	{ TS_FIN_WAIT2, TS_TIME_WAIT, 0, 0, "inferred from FIN_WAIT2 -> CLOSE + FIN" },
	{ TS_CLOSING, TS_TIME_WAIT, 0, 0, "inferred from CLOSING -> CLOSE" },
	{ TS_TIME_WAIT, TS_CLOSE, 0, 0, "the handoff to a timewait socket" },
};

static void check_label(enum ts_label l, const char *where)
{
	const char *text = ts_label_text(l);

	if (l == TS_L_OTHER || !text || !*text)
		fprintf(stderr, "no label of its own: %s\n", where);
	CHECK(l != TS_L_OTHER);
	CHECK(text && *text);
	CHECK(strlen(text) <= TS_LABEL_MAX_LEN);
}

static void test_kernel_pairs(void)
{
	for (size_t i = 0; i < sizeof(kernel_pairs) / sizeof(kernel_pairs[0]); i++) {
		const struct kpair *k = &kernel_pairs[i];

		check_label(ts_label_classify(k->from, k->to, k->flags, k->err), k->where);
		/* Without the evidence (trace of a capture with no counters). */
		check_label(ts_label_classify(k->from, k->to, 0, 0), k->where);
	}
	for (size_t i = 0; i < sizeof(timeline_pairs) / sizeof(timeline_pairs[0]); i++)
		check_label(ts_label_classify(timeline_pairs[i].from, timeline_pairs[i].to, 0, 0),
			    timeline_pairs[i].where);
	check_label(ts_label_classify_peer(TS_FIN_WAIT2, TS_TIME_WAIT), "peer: TIME_WAIT");
	check_label(ts_label_classify_peer(TS_TIME_WAIT, TS_TIME_WAIT), "peer: final ACK");
}

/* What the labels say where the evidence decides. */
static void test_named_truly(void)
{
	CHECK_STR(ts_step_label(TS_FIN_WAIT1, TS_FIN_WAIT1),
		  "close() after shutdown(): FIN already sent");
	CHECK_STR(ts_step_label(TS_LAST_ACK, TS_LAST_ACK),
		  "close() after shutdown(): FIN already sent");
	/* A state to itself the kernel never reports is not dressed up. */
	CHECK_STR(ts_step_label(TS_ESTABLISHED, TS_ESTABLISHED), "unusual transition");
	CHECK_STR(ts_step_label(TS_SYN_SENT, TS_SYN_RECV),
		  "SYN received in SYN_SENT (simultaneous)");
	CHECK_STR(ts_step_label(TS_SYN_RECV, TS_CLOSE_WAIT), "FIN received (passive close)");
	CHECK_STR(ts_label_text(ts_label_classify(TS_FIN_WAIT2, TS_CLOSE, TS_F_ORPHAN, 0)),
		  "orphaned: FIN_WAIT2 in a timewait socket");
	CHECK_STR(ts_label_text(ts_label_classify(TS_FIN_WAIT2, TS_CLOSE,
						  TS_F_ORPHAN | TS_F_FIN_RCVD, 0)),
		  "FIN received, ACK sent (to TIME_WAIT)");
}

/* Every label of the table has text, a class and the transitions it names. */
static void test_table(void)
{
	for (int l = 0; l < TS_LABELS; l++) {
		CHECK(ts_label_text(l) && *ts_label_text(l));
		CHECK(strlen(ts_label_text(l)) <= TS_LABEL_MAX_LEN);
		CHECK(ts_label_transitions(l) && *ts_label_transitions(l));
	}
}

int main(void)
{
	test_kernel_pairs();
	test_named_truly();
	test_table();
	return check_report();
}
