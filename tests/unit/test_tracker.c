// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The connection tracker fed with recorded record sequences, one per
 * timeline shape, plus out-of-order, missing and lost records, id reuse,
 * the eviction bound over a large synthetic run, and golden text/JSON
 * output (tests/data/timeline.txt, timeline.jsonl; TS_UPDATE_GOLDEN=1
 * rewrites them).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include "check.h"
#include "core/sinks/sinks.h"
#include "core/stream/states.h"
#include "core/stream/step_label.h"
#include "core/stream/tracker.h"
#include "collect.h"

static struct ts_tracker *tracker(uint32_t max)
{
	struct ts_tracker_opts o = { .max_conns = max };
	struct ts_tracker *t = NULL;

	nout = 0;
	CHECK_INT(ts_tracker__new(&o, collect, NULL, &t), 0);
	return t;
}

/* A record of the client (198.18.0.1:40000 -> 198.18.0.2:80). */
static struct ts_rec rec(enum ts_rec_type type, uint64_t conn, uint64_t ts,
			 int from, int to, uint8_t flags)
{
	struct ts_rec r;

	memset(&r, 0, sizeof(r));
	r.type = type;
	r.family = 4;
	r.conn = conn;
	r.ts_ns = ts;
	r.old_state = (uint8_t)from;
	r.new_state = (uint8_t)to;
	r.flags = flags;
	r.sport = 40000;
	r.dport = 80;
	r.pid = 1234;
	r.netns = 4026531840u;
	inet_pton(AF_INET, "198.18.0.1", r.saddr);
	inet_pton(AF_INET, "198.18.0.2", r.daddr);
	strcpy(r.comm, "curl");
	return r;
}

static struct ts_rec state(uint64_t conn, uint64_t ts, int from, int to,
			   uint8_t flags)
{
	return rec(TS_REC_STATE, conn, ts, from, to, flags);
}

/* The closing record, with the socket's counters. */
static struct ts_rec closing(uint64_t conn, uint64_t ts, int from,
			     uint8_t flags, uint32_t err)
{
	struct ts_rec r = state(conn, ts, from, TS_CLOSE, flags | TS_F_STATS);

	r.has_stats = true;
	r.st.segs_out = 10;
	r.st.segs_in = 8;
	r.st.data_segs_out = 4;
	r.st.bytes_acked = 100;
	r.st.bytes_received = 200;
	r.st.srtt_us = 150;
	r.st.err = err;
	return r;
}

static void push(struct ts_tracker *t, struct ts_rec r)
{
	CHECK_INT(ts_tracker__push(t, &r), 0);
}

static void push_all(struct ts_tracker *t, const struct ts_rec *r, int n)
{
	for (int i = 0; i < n; i++)
		push(t, r[i]);
}

/* Steps as "FROM>TO,FROM>TO" for compact comparison. */
static const char *steps_str(const struct ts_conn *c)
{
	static char buf[512];
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; i < c->nsteps && n < sizeof(buf); i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s>%s",
				      i ? "," : "", ts_state_name(c->steps[i].from),
				      ts_state_name(c->steps[i].to));
	return buf;
}

static void finish(struct ts_tracker *t)
{
	CHECK_INT(ts_tracker__finish(t), 0);
	ts_tracker__free(t);
}

/* CLOSE>SYN_SENT (port 0) .. active close, peer's FIN received. */
static int client_active(struct ts_rec *r, uint64_t id, uint64_t t0)
{
	int n = 0;

	r[n] = state(id, t0, TS_CLOSE, TS_SYN_SENT, TS_F_FIRST);
	r[n++].sport = 0;
	r[n++] = state(id, t0 + 100 * US, TS_SYN_SENT, TS_ESTABLISHED, 0);
	r[n++] = state(id, t0 + 2 * MS, TS_ESTABLISHED, TS_FIN_WAIT1,
		       TS_F_FIN_SENT | TS_F_ORPHAN);
	r[n++] = state(id, t0 + 2 * MS + 80 * US, TS_FIN_WAIT1, TS_FIN_WAIT2,
		       TS_F_FIN_SENT | TS_F_ORPHAN);
	r[n++] = closing(id, t0 + 2 * MS + 90 * US, TS_FIN_WAIT2,
			 TS_F_FIN_SENT | TS_F_FIN_RCVD | TS_F_ORPHAN, 0);
	return n;
}

static void test_client_active(void)
{
	struct ts_tracker *t = tracker(0);
	struct ts_rec r[8];
	int n = client_active(r, 7, 10 * MS);

	push_all(t, r, n);
	/* Closed, but it lingers for trailing records. */
	CHECK_INT(nout, 0);
	CHECK_INT(ts_tracker__advance(t, 10 * MS + 2 * MS + 90 * US +
					       TS_TRACKER_DEFAULT_LINGER_NS), 0);
	CHECK_INT(nout, 1);
	CHECK_STR(steps_str(&out[0]),
		  "CLOSE>SYN_SENT,SYN_SENT>ESTABLISHED,ESTABLISHED>FIN_WAIT1,"
		  "FIN_WAIT1>FIN_WAIT2,FIN_WAIT2>TIME_WAIT,TIME_WAIT>CLOSE");
	CHECK_INT(out[0].role, TS_ROLE_CLIENT);
	CHECK_INT(out[0].close, TS_CLOSE_ACTIVE);
	CHECK_INT(out[0].sport, 40000); /* taken from a later record */
	CHECK_INT(out[0].handshake_ns, 100 * US);
	CHECK_INT(out[0].lifetime_ns, 2 * MS + 90 * US);
	CHECK_INT(out[0].steps[4].flags & TS_STEP_INFERRED, TS_STEP_INFERRED);
	CHECK_STR(out[0].steps[4].label, "FIN received, ACK sent (inferred)");
	CHECK_INT(out[0].steps[3].ns_in_old, 80 * US);
	CHECK(!out[0].joined_late && !out[0].gaps);
	CHECK(out[0].has_stats && out[0].st.segs_out == 10);
	finish(t);
	CHECK_INT(nout, 1);
}

static void test_server_passive(void)
{
	struct ts_tracker *t = tracker(0);
	/* The kernel reports LISTEN -> SYN_RECV before the child has the
	 * remote end: the tuple is completed by the next record. */
	struct ts_rec r[] = {
		state(9, 1 * MS, TS_LISTEN, TS_SYN_RECV, TS_F_FIRST | TS_F_OWNER_LISTENER),
		state(9, 1 * MS + 20 * US, TS_SYN_RECV, TS_ESTABLISHED, TS_F_OWNER_LISTENER),
		state(9, 3 * MS, TS_ESTABLISHED, TS_CLOSE_WAIT, TS_F_FIN_RCVD),
		state(9, 4 * MS, TS_CLOSE_WAIT, TS_LAST_ACK, TS_F_FIN_RCVD | TS_F_ORPHAN),
		closing(9, 4 * MS + 50 * US, TS_LAST_ACK, TS_F_FIN_RCVD | TS_F_ORPHAN, 0),
	};

	r[0].dport = 0;
	memset(r[0].daddr, 0, sizeof(r[0].daddr));
	push_all(t, r, 5);
	finish(t);
	CHECK_INT(nout, 1);
	CHECK_STR(steps_str(&out[0]),
		  "LISTEN>SYN_RECV,SYN_RECV>ESTABLISHED,ESTABLISHED>CLOSE_WAIT,"
		  "CLOSE_WAIT>LAST_ACK,LAST_ACK>CLOSE");
	CHECK_INT(out[0].role, TS_ROLE_SERVER);
	CHECK_INT(out[0].close, TS_CLOSE_PASSIVE);
	CHECK_INT(out[0].dport, 80);
	/* The child's 20 us are kernel work, not the handshake: without what
	 * the kernel says of the SYN-ACK (an older capture), unknown. */
	CHECK_INT(out[0].handshake_ns, -1);
	CHECK_INT(out[0].hs_basis, TS_HS_UNKNOWN_NO_DETAIL);

	/* The child's SYN-ACK round trip, its one SYN-ACK: that. */
	t = tracker(0);
	r[1].has_hs = true;
	r[1].hs.synack_rtt_us = 150;
	push_all(t, r, 5);
	finish(t);
	CHECK_INT(out[0].handshake_ns, 150 * US);
	CHECK_INT(out[0].hs_basis, TS_HS_SYNACK_RTT);

	/* SYN-ACK sent again (no round trip taken) and no record said when
	 * the first left: unknown, never the 20 us. */
	t = tracker(0);
	r[1].hs.synack_rtt_us = 0;
	r[1].hs.synack_retrans = 1;
	push_all(t, r, 5);
	finish(t);
	CHECK_INT(out[0].handshake_ns, -1);
	CHECK_INT(out[0].hs_basis, TS_HS_UNKNOWN_RETRANS);
	CHECK(ts_hs_basis_why(out[0].hs_basis) != NULL);

	/* The SYN-ACK retransmission's record tells when the first left
	 * (900 us before the final ACK): the handshake counts from there. */
	t = tracker(0);
	{
		struct ts_rec sa = rec(TS_REC_SYNACK_RETRANS, 0, 1 * MS - 10 * US, TS_SYN_RECV,
				       TS_SYN_RECV, 0);

		sa.has_synack = true;
		sa.synack.first_synack_ns = 1 * MS + 20 * US - 900 * US;
		CHECK_INT(ts_tracker__push(t, &sa), 0);
	}
	push_all(t, r, 5);
	finish(t);
	CHECK_INT(out[0].rtx[TS_RTX_SYNACK], 1);
	CHECK_INT(out[0].handshake_ns, 900 * US);
	CHECK_INT(out[0].hs_basis, TS_HS_FIRST_SYNACK);
}

static void test_client_passive_server_active(void)
{
	struct ts_tracker *t = tracker(0);
	struct ts_rec r[] = {
		state(1, 1 * MS, TS_CLOSE, TS_SYN_SENT, 0),
		state(1, 2 * MS, TS_SYN_SENT, TS_ESTABLISHED, 0),
		state(1, 3 * MS, TS_ESTABLISHED, TS_CLOSE_WAIT, TS_F_FIN_RCVD),
		state(1, 4 * MS, TS_CLOSE_WAIT, TS_LAST_ACK, TS_F_FIN_RCVD),
		closing(1, 5 * MS, TS_LAST_ACK, TS_F_FIN_RCVD, 0),
		state(2, 1 * MS, TS_LISTEN, TS_SYN_RECV, 0),
		state(2, 2 * MS, TS_SYN_RECV, TS_ESTABLISHED, 0),
		state(2, 3 * MS, TS_ESTABLISHED, TS_FIN_WAIT1, TS_F_FIN_SENT),
		state(2, 4 * MS, TS_FIN_WAIT1, TS_FIN_WAIT2, TS_F_FIN_SENT),
		/* shutdown() then close() in FIN_WAIT2 is reported X -> X. */
		state(2, 4 * MS + 1, TS_FIN_WAIT2, TS_FIN_WAIT2, TS_F_ORPHAN),
		closing(2, 5 * MS, TS_FIN_WAIT2, TS_F_FIN_RCVD, 0),
	};

	push_all(t, r, 11);
	finish(t);
	CHECK_INT(nout, 2);
	CHECK_INT(out[0].close, TS_CLOSE_PASSIVE);
	CHECK_INT(out[0].role, TS_ROLE_CLIENT);
	CHECK_INT(out[1].close, TS_CLOSE_ACTIVE);
	CHECK_INT(out[1].role, TS_ROLE_SERVER);
	CHECK_STR(steps_str(&out[1]),
		  "LISTEN>SYN_RECV,SYN_RECV>ESTABLISHED,ESTABLISHED>FIN_WAIT1,"
		  "FIN_WAIT1>FIN_WAIT2,FIN_WAIT2>TIME_WAIT,TIME_WAIT>CLOSE");
}

static void test_simultaneous(void)
{
	struct ts_tracker *t = tracker(0);
	struct ts_rec r[] = {
		state(3, 1 * MS, TS_CLOSE, TS_SYN_SENT, 0),
		state(3, 2 * MS, TS_SYN_SENT, TS_ESTABLISHED, 0),
		state(3, 3 * MS, TS_ESTABLISHED, TS_FIN_WAIT1, TS_F_FIN_SENT),
		state(3, 4 * MS, TS_FIN_WAIT1, TS_CLOSING, TS_F_FIN_SENT | TS_F_FIN_RCVD),
		state(3, 4 * MS + 5, TS_CLOSING, TS_CLOSING, TS_F_ORPHAN),
		closing(3, 5 * MS, TS_CLOSING, TS_F_FIN_RCVD, 0),
	};

	push_all(t, r, 6);
	finish(t);
	CHECK_INT(nout, 1);
	CHECK_INT(out[0].close, TS_CLOSE_SIMULTANEOUS);
	CHECK_STR(steps_str(&out[0]),
		  "CLOSE>SYN_SENT,SYN_SENT>ESTABLISHED,ESTABLISHED>FIN_WAIT1,"
		  "FIN_WAIT1>CLOSING,CLOSING>TIME_WAIT,TIME_WAIT>CLOSE");
	CHECK_STR(out[0].steps[4].label, "ACK of FIN received (inferred)");
}

/* FIN_WAIT1 -> CLOSING lost: still simultaneous, with the gap flagged. */
static void test_simultaneous_gap(void)
{
	struct ts_tracker *t = tracker(0);
	struct ts_rec r[] = {
		state(3, 1 * MS, TS_CLOSE, TS_SYN_SENT, 0),
		state(3, 2 * MS, TS_SYN_SENT, TS_ESTABLISHED, 0),
		state(3, 3 * MS, TS_ESTABLISHED, TS_FIN_WAIT1, TS_F_FIN_SENT),
		closing(3, 5 * MS, TS_CLOSING, TS_F_FIN_RCVD, 0),
	};

	push_all(t, r, 4);
	finish(t);
	CHECK_INT(nout, 1);
	CHECK_INT(out[0].close, TS_CLOSE_SIMULTANEOUS);
	CHECK_INT(out[0].gaps, 1);
	CHECK_STR(steps_str(&out[0]),
		  "CLOSE>SYN_SENT,SYN_SENT>ESTABLISHED,ESTABLISHED>FIN_WAIT1,"
		  "CLOSING>TIME_WAIT,TIME_WAIT>CLOSE");
}

static void test_refused_and_timeout(void)
{
	struct ts_tracker *t = tracker(0);
	struct ts_rec r[] = {
		state(4, 1 * MS, TS_CLOSE, TS_SYN_SENT, 0),
		rec(TS_REC_RESET_RECV, 4, 1 * MS + 30 * US, TS_SYN_SENT, TS_SYN_SENT, 0),
		closing(4, 1 * MS + 31 * US, TS_SYN_SENT, 0, ECONNREFUSED),
		state(5, 1 * MS, TS_CLOSE, TS_SYN_SENT, 0),
		rec(TS_REC_RETRANS, 5, 1001 * MS, TS_SYN_SENT, TS_SYN_SENT, 0),
		rec(TS_REC_RETRANS, 5, 3001 * MS, TS_SYN_SENT, TS_SYN_SENT, 0),
		closing(5, 7001 * MS, TS_SYN_SENT, 0, ETIMEDOUT),
		/* Abandoned by the application: no error, no reset. */
		state(6, 1 * MS, TS_CLOSE, TS_SYN_SENT, 0),
		closing(6, 500 * MS, TS_SYN_SENT, TS_F_ORPHAN, 0),
	};

	push_all(t, r, 9);
	finish(t);
	CHECK_INT(nout, 3);
	CHECK_INT(out[0].close, TS_CLOSE_REFUSED);
	CHECK_STR(out[0].steps[1].label, "RST received: connection refused");
	CHECK_INT(out[0].resets_received, 1);
	CHECK_INT(out[0].handshake_ns, -1);
	CHECK_INT(out[1].close, TS_CLOSE_TIMEOUT);
	CHECK_INT(out[1].rtx[TS_RTX_SYN], 2);
	CHECK_INT(out[1].rtx_total, 2);
	CHECK_STR(out[1].steps[1].label, "SYN never answered: connect timed out");
	CHECK_INT(out[2].close, TS_CLOSE_TIMEOUT);
	CHECK_STR(out[2].steps[1].label, "connect abandoned before an answer");
}

static void test_resets(void)
{
	struct ts_tracker *t = tracker(0);
	struct ts_rec r[] = {
		/* SO_LINGER 0: tcp_disconnect() reports CLOSE, then the RST. */
		state(10, 1 * MS, TS_CLOSE, TS_SYN_SENT, 0),
		state(10, 2 * MS, TS_SYN_SENT, TS_ESTABLISHED, 0),
		closing(10, 3 * MS, TS_ESTABLISHED, TS_F_FIN_SENT | TS_F_FIN_RCVD, 0),
		rec(TS_REC_RESET_SENT, 10, 3 * MS + 2 * US, TS_CLOSE, TS_CLOSE, 0),
		/* The peer's RST: tcp_reset() reports it, then CLOSE. */
		state(11, 1 * MS, TS_LISTEN, TS_SYN_RECV, 0),
		state(11, 2 * MS, TS_SYN_RECV, TS_ESTABLISHED, 0),
		rec(TS_REC_RESET_RECV, 11, 3 * MS, TS_ESTABLISHED, TS_ESTABLISHED, 0),
		closing(11, 3 * MS + 1 * US, TS_ESTABLISHED, 0, ECONNRESET),
		/* A reset to a segment that found no socket: no connection. */
		rec(TS_REC_RESET_SENT, 0, 4 * MS, TS_CLOSE, TS_CLOSE, 0),
	};
	struct ts_tracker_stats st;

	push_all(t, r, 9);
	ts_tracker__get_stats(t, &st);
	CHECK_INT(st.unattributed, 1);
	finish(t);
	CHECK_INT(nout, 2);
	CHECK_INT(out[0].close, TS_CLOSE_RESET_SENT);
	CHECK_INT(out[0].resets_sent, 1);
	CHECK_STR(out[0].steps[2].label, "RST sent (abortive close)");
	CHECK_INT(out[1].close, TS_CLOSE_RESET_RECEIVED);
	CHECK_STR(out[1].steps[2].label, "RST received");
}

static struct ts_rec synack(uint64_t ts)
{
	/* Reported on the listener's request: no conn id, the server's view
	 * of the tuple (local 198.18.0.2:80, remote 198.18.0.1:40000). */
	struct ts_rec r = rec(TS_REC_SYNACK_RETRANS, 0, ts, TS_SYN_RECV, TS_SYN_RECV, 0);

	r.sport = 80;
	r.dport = 40000;
	inet_pton(AF_INET, "198.18.0.2", r.saddr);
	inet_pton(AF_INET, "198.18.0.1", r.daddr);
	return r;
}

static struct ts_rec server_rec(uint64_t conn, uint64_t ts, int from, int to)
{
	struct ts_rec r = state(conn, ts, from, to, 0);

	r.sport = 80;
	r.dport = 40000;
	inet_pton(AF_INET, "198.18.0.2", r.saddr);
	inet_pton(AF_INET, "198.18.0.1", r.daddr);
	return r;
}

static void test_synack_join(void)
{
	struct ts_tracker *t = tracker(0);
	struct ts_rec r[] = {
		synack(1000 * MS),
		synack(3000 * MS),
		server_rec(20, 3100 * MS, TS_LISTEN, TS_SYN_RECV),
		server_rec(20, 3100 * MS + 10, TS_SYN_RECV, TS_ESTABLISHED),
		/* Another request: its SYN-ACK retransmit record comes after
		 * the connection (from another CPU) but is older. */
		server_rec(21, 5000 * MS, TS_LISTEN, TS_SYN_RECV),
		server_rec(21, 5000 * MS + 10, TS_SYN_RECV, TS_ESTABLISHED),
		synack(4000 * MS),
		/* One whose connection never comes. */
		synack(6000 * MS),
	};
	struct ts_tracker_stats st;

	r[4].dport = r[5].dport = r[6].dport = 40001;
	r[7].dport = 40002;
	push_all(t, r, 8);
	CHECK_INT(ts_tracker__finish(t), 0);
	ts_tracker__get_stats(t, &st);
	ts_tracker__free(t);
	CHECK_INT(st.synack_unjoined, 1);
	CHECK_INT(nout, 2);
	CHECK_INT(out[0].rtx[TS_RTX_SYNACK], 2);
	CHECK_INT(out[0].rtx_total, 2);
	CHECK_INT(out[1].rtx[TS_RTX_SYNACK], 1);
	CHECK_INT(out[0].close, TS_CLOSE_OPEN);
}

static void test_data_retransmits_and_pct(void)
{
	struct ts_tracker *t = tracker(0);
	struct ts_rec r[] = {
		state(30, 1 * MS, TS_CLOSE, TS_SYN_SENT, 0),
		state(30, 2 * MS, TS_SYN_SENT, TS_ESTABLISHED, 0),
		rec(TS_REC_RETRANS, 30, 3 * MS, TS_ESTABLISHED, TS_ESTABLISHED, 0),
		rec(TS_REC_RETRANS, 30, 4 * MS, TS_ESTABLISHED, TS_ESTABLISHED, 0),
		rec(TS_REC_RETRANS, 30, 5 * MS, TS_ESTABLISHED, TS_ESTABLISHED, 0),
		state(30, 6 * MS, TS_ESTABLISHED, TS_FIN_WAIT1, 0),
		rec(TS_REC_RETRANS, 30, 7 * MS, TS_FIN_WAIT1, TS_FIN_WAIT1, 0),
		state(30, 8 * MS, TS_FIN_WAIT1, TS_FIN_WAIT2, 0),
		closing(30, 9 * MS, TS_FIN_WAIT2, TS_F_FIN_RCVD, 0),
	};

	r[8].st.total_retrans = 4;
	r[8].st.segs_out = 100;
	push_all(t, r, 9);
	finish(t);
	CHECK_INT(nout, 1);
	CHECK_INT(out[0].rtx[TS_RTX_DATA], 3);
	CHECK_INT(out[0].rtx[TS_RTX_FIN], 1);
	CHECK_INT(out[0].rtx_total, 4);
	CHECK_INT(out[0].st.total_retrans, 4);
}

static void test_listener(void)
{
	struct ts_tracker *t = tracker(0);
	struct ts_rec r[] = {
		state(40, 1 * MS, TS_CLOSE, TS_LISTEN, 0),
		state(40, 9 * MS, TS_LISTEN, TS_CLOSE, 0),
	};

	r[0].dport = r[1].dport = 0;
	push_all(t, r, 2);
	finish(t);
	CHECK_INT(nout, 1);
	CHECK_INT(out[0].role, TS_ROLE_LISTENER);
	CHECK_INT(out[0].close, TS_CLOSE_ACTIVE);
	CHECK_INT(out[0].handshake_ns, -1);
	CHECK_INT(out[0].lifetime_ns, 8 * MS);
	CHECK_STR(out[0].steps[1].label, "listener closed");
}

static void test_late_join_and_gaps(void)
{
	struct ts_tracker *t = tracker(0);
	struct ts_rec r[] = {
		/* Began before tracing: first seen closing. */
		state(50, 1 * MS, TS_ESTABLISHED, TS_FIN_WAIT1, TS_F_FIRST),
		state(50, 2 * MS, TS_FIN_WAIT1, TS_FIN_WAIT2, 0),
		closing(50, 3 * MS, TS_FIN_WAIT2, TS_F_ORPHAN, 0),
		/* SYN_SENT -> ESTABLISHED lost. */
		state(51, 1 * MS, TS_CLOSE, TS_SYN_SENT, 0),
		state(51, 3 * MS, TS_ESTABLISHED, TS_CLOSE_WAIT, 0),
		state(51, 4 * MS, TS_CLOSE_WAIT, TS_LAST_ACK, 0),
		closing(51, 5 * MS, TS_LAST_ACK, 0, 0),
		/* A retransmit of a connection never seen changing state. */
		rec(TS_REC_RETRANS, 52, 6 * MS, TS_ESTABLISHED, TS_ESTABLISHED, 0),
		/* ... and one of a connection already in TIME_WAIT: dropped. */
		rec(TS_REC_RESET_SENT, 53, 6 * MS, TS_TIME_WAIT, TS_TIME_WAIT, 0),
	};

	push_all(t, r, 9);
	finish(t);
	CHECK_INT(nout, 3);
	CHECK(out[0].joined_late);
	CHECK_INT(out[0].role, TS_ROLE_UNKNOWN);
	CHECK_INT(out[0].close, TS_CLOSE_ACTIVE);
	/* Orphaned FIN_WAIT2 without the peer's FIN: no TIME_WAIT claimed. */
	CHECK_STR(steps_str(&out[0]),
		  "ESTABLISHED>FIN_WAIT1,FIN_WAIT1>FIN_WAIT2,FIN_WAIT2>CLOSE");
	CHECK_STR(out[0].steps[2].label,
		  "orphaned: FIN_WAIT2 in a timewait socket");
	CHECK(!out[1].joined_late);
	CHECK_INT(out[1].gaps, 1);
	CHECK_INT(out[1].steps[1].flags & TS_STEP_GAP, TS_STEP_GAP);
	CHECK_INT(out[1].close, TS_CLOSE_PASSIVE);
	CHECK(out[2].joined_late);
	CHECK_INT(out[2].close, TS_CLOSE_OPEN);
	CHECK_INT(out[2].rtx[TS_RTX_DATA], 1);
}

static void test_out_of_order(void)
{
	struct ts_rec r[8], shuffled[8];
	struct ts_conn first;
	static const int order[] = { 1, 0, 3, 4, 2 };
	struct ts_tracker *t = tracker(0);
	int n = client_active(r, 60, 1 * MS);

	push_all(t, r, n);
	finish(t);
	first = out[0];
	t = tracker(0);
	for (int i = 0; i < n; i++)
		shuffled[i] = r[order[i]];
	push_all(t, shuffled, n);
	finish(t);
	CHECK_INT(nout, 1);
	CHECK_STR(steps_str(&out[0]), steps_str(&first));
	CHECK_INT(out[0].close, first.close);
	CHECK_INT(out[0].handshake_ns, first.handshake_ns);
	CHECK_INT(out[0].lifetime_ns, first.lifetime_ns);
	CHECK(!out[0].joined_late && !out[0].gaps);
}

static void test_id_reuse_and_open(void)
{
	struct ts_tracker *t = tracker(0);
	struct ts_rec r[] = {
		/* connect() refused, then connect() again on the same socket. */
		state(70, 1 * MS, TS_CLOSE, TS_SYN_SENT, 0),
		rec(TS_REC_RESET_RECV, 70, 2 * MS, TS_SYN_SENT, TS_SYN_SENT, 0),
		closing(70, 2 * MS + 1, TS_SYN_SENT, 0, ECONNREFUSED),
		state(70, 3 * MS, TS_CLOSE, TS_SYN_SENT, 0),
		state(70, 4 * MS, TS_SYN_SENT, TS_ESTABLISHED, 0),
	};

	push_all(t, r, 5);
	/* The first life ended when the second began. */
	CHECK_INT(nout, 1);
	CHECK_INT(out[0].close, TS_CLOSE_REFUSED);
	CHECK_INT(ts_tracker__advance(t, 50 * MS), 0);
	finish(t);
	CHECK_INT(nout, 2);
	CHECK_INT(out[1].close, TS_CLOSE_OPEN);
	CHECK_INT(out[1].resets_received, 0);
	CHECK_INT(out[1].lifetime_ns, 47 * MS);
	CHECK_STR(steps_str(&out[1]), "CLOSE>SYN_SENT,SYN_SENT>ESTABLISHED");
}

static void test_lost_marks_open(void)
{
	struct ts_tracker *t = tracker(0);
	struct ts_rec lost;

	push(t, state(80, 1 * MS, TS_CLOSE, TS_SYN_SENT, 0));
	ts_rec_lost(&lost, 2 * MS, 5);
	push(t, lost);
	push(t, state(81, 3 * MS, TS_CLOSE, TS_SYN_SENT, 0));
	finish(t);
	CHECK_INT(nout, 2);
	CHECK(out[0].lost_events);
	CHECK(!out[1].lost_events);
}

static int count_only(void *ctx, const struct ts_conn *c)
{
	uint64_t *n = ctx;

	n[0]++;
	if (c->evicted)
		n[1]++;
	if (c->close == TS_CLOSE_ACTIVE && c->nsteps == 6)
		n[2]++;
	return 0;
}

/*
 * A million complete connections interleaved with never-ending ones: the
 * tracker holds at most max_conns, evicts only the never-ending, and every
 * complete one comes out whole.
 */
/*
 * Thousands of connections held at once: the tables by id, by tuple and
 * by addresses grow from their first size while connections come and go.
 * Each end is found again by id (a retransmission), paired with its own
 * other end, and emitted once.
 */
#define GROW_PAIRS 3000

struct grow_seen {
	uint64_t peer[2 * GROW_PAIRS + 1];
	uint32_t times[2 * GROW_PAIRS + 1];
	uint32_t rtx[2 * GROW_PAIRS + 1];
	uint32_t drops[2 * GROW_PAIRS + 1];
	uint32_t bad;
};

static int grow_collect(void *ctx, const struct ts_conn *c)
{
	struct grow_seen *g = ctx;

	if (!c->id || c->id > 2 * GROW_PAIRS) {
		g->bad++;
		return 0;
	}
	g->times[c->id]++;
	g->peer[c->id] = c->peer;
	g->rtx[c->id] = c->rtx_total;
	g->drops[c->id] = c->drops_total;
	return 0;
}

static struct ts_rec grow_rec(uint64_t id, uint64_t ts, int from, int to, uint8_t flags)
{
	struct ts_rec r = state(id, ts, from, to, flags);
	uint16_t cport = (uint16_t)(20000 + (id - 1) / 2);

	if (id % 2) { /* the client, 198.18.0.1:cport -> 198.18.0.2:80 */
		r.sport = cport;
	} else { /* the server's child: the same, reversed */
		memcpy(r.saddr, r.daddr, TS_ADDR_LEN);
		inet_pton(AF_INET, "198.18.0.1", r.daddr);
		r.sport = 80;
		r.dport = cport;
	}
	return r;
}

static void test_tables_grow(void)
{
	static struct grow_seen g;
	struct ts_tracker_stats st;
	struct ts_tracker *t = NULL;
	uint64_t ts = 1000 * MS;
	struct ts_rec r;
	uint32_t bad = 0;

	memset(&g, 0, sizeof(g));
	CHECK_INT(ts_tracker__new(NULL, grow_collect, &g, &t), 0);
	for (uint64_t i = 0; i < GROW_PAIRS; i++) {
		uint64_t c = 2 * i + 1, s = 2 * i + 2;

		push(t, grow_rec(c, ts++, TS_CLOSE, TS_SYN_SENT, TS_F_FIRST));
		push(t, grow_rec(s, ts++, TS_LISTEN, TS_SYN_RECV, 0));
		push(t, grow_rec(c, ts++, TS_SYN_SENT, TS_ESTABLISHED, 0));
		push(t, grow_rec(s, ts++, TS_SYN_RECV, TS_ESTABLISHED, 0));
	}
	ts_tracker__get_stats(t, &st);
	CHECK_INT(st.live, 2 * GROW_PAIRS);
	CHECK_INT(st.paired, 2 * GROW_PAIRS);
	CHECK_INT(st.pair_ambiguous, 0);
	/* Found by id after the growth: one data retransmission each client. */
	for (uint64_t i = 0; i < GROW_PAIRS; i++) {
		r = grow_rec(2 * i + 1, ts++, TS_ESTABLISHED, TS_ESTABLISHED, 0);
		r.type = TS_REC_RETRANS;
		push(t, r);
	}
	/* Found by tuple: a segment dropped with no socket, every tenth client. */
	for (uint64_t i = 0; i < GROW_PAIRS; i += 10) {
		r = grow_rec(2 * i + 1, ts++, TS_ESTABLISHED, TS_ESTABLISHED, 0);
		r.type = TS_REC_DROP;
		r.conn = 0;
		push(t, r);
	}
	ts_tracker__get_stats(t, &st);
	CHECK_INT(st.live, 2 * GROW_PAIRS);
	CHECK_INT(st.drops_unattributed, 0);
	for (uint64_t i = 0; i < GROW_PAIRS; i++) {
		uint64_t c = 2 * i + 1, s = 2 * i + 2;

		push(t, grow_rec(c, ts++, TS_ESTABLISHED, TS_FIN_WAIT1, TS_F_FIN_SENT));
		push(t, grow_rec(s, ts++, TS_ESTABLISHED, TS_CLOSE_WAIT, TS_F_FIN_RCVD));
		push(t, grow_rec(c, ts++, TS_FIN_WAIT1, TS_FIN_WAIT2, TS_F_FIN_SENT));
		push(t, grow_rec(s, ts++, TS_CLOSE_WAIT, TS_LAST_ACK, TS_F_FIN_SENT));
		r = grow_rec(c, ts++, TS_FIN_WAIT2, TS_CLOSE, TS_F_FIN_SENT | TS_F_FIN_RCVD);
		push(t, r);
		push(t, grow_rec(s, ts++, TS_LAST_ACK, TS_CLOSE, TS_F_FIN_SENT));
	}
	CHECK_INT(ts_tracker__finish(t), 0);
	ts_tracker__get_stats(t, &st);
	CHECK_INT(st.conns, 2 * GROW_PAIRS);
	CHECK_INT(st.live, 0);
	CHECK_INT(g.bad, 0);
	for (uint64_t id = 1; id <= 2 * GROW_PAIRS; id++) {
		uint64_t other = id % 2 ? id + 1 : id - 1;

		if (g.times[id] != 1 || g.peer[id] != other || g.rtx[id] != (id % 2 ? 1u : 0u) ||
		    g.drops[id] != (id % 20 == 1 ? 1u : 0u))
			bad++;
	}
	CHECK_INT(bad, 0);
	ts_tracker__free(t);
}

static void test_eviction_bound(void)
{
	struct ts_tracker_opts o = { .max_conns = 1000 };
	struct ts_tracker_stats st;
	struct ts_tracker *t = NULL;
	uint64_t counts[3] = { 0 };
	const uint64_t n = 1000000;
	struct ts_rec r[8];

	CHECK_INT(ts_tracker__new(&o, count_only, counts, &t), 0);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t t0 = i * 10 * US;
		int k = client_active(r, 2 * i + 1, t0);

		for (int j = 0; j < k; j++)
			if (ts_tracker__push(t, &r[j]))
				break;
		if (i % 100 == 0) {
			struct ts_rec lone = state(2 * i + 2, t0, TS_CLOSE,
						   TS_SYN_SENT, 0);
			ts_tracker__push(t, &lone);
		}
		ts_tracker__get_stats(t, &st);
		if (st.live > 1000)
			break;
	}
	ts_tracker__get_stats(t, &st);
	CHECK(st.peak <= 1000);
	CHECK(st.live <= 1000);
	CHECK_INT(ts_tracker__finish(t), 0);
	ts_tracker__get_stats(t, &st);
	CHECK_INT(counts[0], n + n / 100);
	CHECK_INT(counts[2], n);
	/* Never-ending ones are the least recently active: they go first. */
	CHECK_INT(st.evicted, counts[1]);
	CHECK(counts[1] > 0 && counts[1] <= n / 100);
	CHECK_INT(st.live, 0);
	ts_tracker__free(t);
}

/*
 * The tracker keeps the entries of emitted connections for the next ones:
 * a connection made in a kept entry starts from nothing, whatever the one
 * before held (resets, retransmissions, its peer, its steps).
 */
static void test_entry_reuse(void)
{
	struct ts_tracker *t = tracker(0);
	struct ts_rec r[8];
	uint64_t t0 = 1 * MS;

	/* Both ends, paired, with a reset and retransmissions. */
	push(t, state(20, t0, TS_CLOSE, TS_SYN_SENT, 0));
	push(t, state(20, t0 + 1 * MS, TS_SYN_SENT, TS_ESTABLISHED, 0));
	push(t, rec(TS_REC_RETRANS, 20, t0 + 2 * MS, TS_ESTABLISHED, TS_ESTABLISHED, 0));
	push(t, rec(TS_REC_RETRANS, 20, t0 + 3 * MS, TS_ESTABLISHED, TS_ESTABLISHED, 0));
	push(t, rec(TS_REC_RESET_RECV, 20, t0 + 4 * MS, TS_ESTABLISHED, TS_ESTABLISHED, 0));
	push(t, closing(20, t0 + 4 * MS + 1 * US, TS_ESTABLISHED, 0, ECONNRESET));
	/* Ten plain ones, a second apart: each is made after the one before
	 * was emitted, in its entry. */
	for (int i = 0; i < 10; i++) {
		int n = client_active(r, 100 + (uint64_t)i, (uint64_t)(i + 1) * 1000 * MS);

		push_all(t, r, n);
	}
	finish(t);
	CHECK_INT(nout, 11);
	CHECK_INT(out[0].close, TS_CLOSE_RESET_RECEIVED);
	CHECK_INT(out[0].rtx_total, 2);
	for (int i = 1; i < 11; i++) {
		CHECK_INT(out[i].id, 100 + (uint64_t)i - 1);
		CHECK_INT(out[i].close, TS_CLOSE_ACTIVE);
		CHECK_STR(steps_str(&out[i]), "CLOSE>SYN_SENT,SYN_SENT>ESTABLISHED,"
					      "ESTABLISHED>FIN_WAIT1,FIN_WAIT1>FIN_WAIT2,"
					      "FIN_WAIT2>TIME_WAIT,TIME_WAIT>CLOSE");
		CHECK_INT(out[i].resets_received, 0);
		CHECK_INT(out[i].rtx_total, 0);
		CHECK_INT(out[i].nrtx, 0);
		CHECK_INT(out[i].ndrops, 0);
		CHECK_INT(out[i].peer, 0);
		CHECK(!out[i].lost_events && !out[i].evicted && !out[i].joined_late);
	}
}

/* ---- golden output ---- */

struct golden {
	FILE *text, *json;
	struct ts_sink ts, js;
};

static int to_sinks(void *ctx, const struct ts_conn *c)
{
	struct golden *g = ctx;

	g->ts.ops->conn_end(g->ts.priv, c);
	g->js.ops->conn_end(g->js.priv, c);
	return 0;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	if (buf)
		buf[n] = '\0';
	*len = (size_t)n;
	fclose(f);
	return buf;
}

static void compare_golden(const char *name, const char *got, size_t len)
{
	char path[512];
	size_t wlen = 0;
	char *want;

	snprintf(path, sizeof(path), "%s/%s", TS_TEST_DATA, name);
	if (getenv("TS_UPDATE_GOLDEN")) {
		FILE *f = fopen(path, "w");

		CHECK(f != NULL);
		if (f) {
			fwrite(got, 1, len, f);
			fclose(f);
		}
		return;
	}
	want = slurp(path, &wlen);
	CHECK(want != NULL);
	if (want && (wlen != len || memcmp(want, got, len))) {
		fprintf(stderr, "%s differs; got:\n%s\n", path, got);
		CHECK(0);
	}
	free(want);
}

/* Lines of text no wider than cols (escape sequences not counted). */
static bool fits(const char *s, int cols)
{
	int w = 0;

	for (; *s; s++) {
		if (*s == '\033') {
			while (*s && *s != 'm')
				s++;
			continue;
		}
		if (*s == '\n') {
			w = 0;
			continue;
		}
		if (++w > cols)
			return false;
	}
	return true;
}

/* The wide layout (with JSON), the 80-column one, and colour. */
static void golden_run(bool compact, bool color, const char *txt, const char *json)
{
	struct ts_meta m = { .wall_offset_ns = 1700000000ll * 1000000000ll,
			     .compact = compact,
			     .color = color };
	struct ts_totals tot = { .records = 20, .tracking = true, .conns = 4,
				 .conns_evicted = 1, .max_conns = 1000 };
	struct ts_tracker_opts o = { 0 };
	struct ts_tracker *t = NULL;
	char *tb = NULL, *jb = NULL;
	size_t tl = 0, jl = 0;
	struct golden g;
	struct ts_rec r[8];
	int n;

	g.text = open_memstream(&tb, &tl);
	g.json = open_memstream(&jb, &jl);
	CHECK_INT(ts_sink_timeline_text__new(&g.ts, g.text, &m), 0);
	CHECK_INT(ts_sink_timeline_json__new(&g.js, g.json, &m), 0);
	CHECK_INT(ts_tracker__new(&o, to_sinks, &g, &t), 0);

	n = client_active(r, 7, 10 * MS);
	r[n - 1].st.total_retrans = 1;
	push_all(t, r, n);
	push(t, rec(TS_REC_RETRANS, 7, 10 * MS + 50 * US, TS_SYN_SENT, TS_SYN_SENT, 0));
	push(t, state(8, 20 * MS, TS_CLOSE, TS_SYN_SENT, 0));
	push(t, rec(TS_REC_RESET_RECV, 8, 20 * MS + 40 * US, TS_SYN_SENT, TS_SYN_SENT, 0));
	push(t, closing(8, 20 * MS + 41 * US, TS_SYN_SENT, 0, ECONNREFUSED));
	push(t, state(9, 30 * MS, TS_CLOSE, TS_LISTEN, 0));
	push(t, state(10, 31 * MS, TS_ESTABLISHED, TS_CLOSE_WAIT, TS_F_FIN_RCVD));
	CHECK_INT(ts_tracker__finish(t), 0);

	g.ts.ops->finish(g.ts.priv, &tot);
	g.js.ops->finish(g.js.priv, &tot);
	fclose(g.text);
	fclose(g.json);
	compare_golden(txt, tb, tl);
	if (json)
		compare_golden(json, jb, jl);
	if (compact)
		CHECK(fits(tb, 80));
	g.ts.ops->destroy(g.ts.priv);
	g.js.ops->destroy(g.js.priv);
	ts_tracker__free(t);
	free(tb);
	free(jb);
}

/*
 * The timeline sinks make each kind of step's text once and copy it after
 * (a direct-mapped cache, slots shared by kinds that collide).  Every
 * kind of step (all state pairs, with and without flags), rendered by one
 * sink for all connections, must come out as a fresh sink per connection
 * (nothing cached) writes it: in each layout and in JSON.
 */
static size_t render(const struct ts_meta *m, bool json, const struct ts_conn *c, int n,
		     bool fresh, char **buf)
{
	struct ts_sink sk = { 0 };
	size_t len = 0;
	FILE *f = open_memstream(buf, &len);

	CHECK(f != NULL);
	for (int i = 0; i < n; i++) {
		if (!sk.ops || fresh) {
			if (sk.ops) {
				sk.ops->flush(sk.priv);
				sk.ops->destroy(sk.priv);
			}
			CHECK_INT(json ? ts_sink_timeline_json__new(&sk, f, m) :
					 ts_sink_timeline_text__new(&sk, f, m),
				  0);
		}
		CHECK_INT(sk.ops->conn_end(sk.priv, &c[i]), 0);
	}
	sk.ops->flush(sk.priv);
	sk.ops->destroy(sk.priv);
	fclose(f);
	return len;
}

static void test_step_cache(void)
{
	enum { NC = TS_STATE_MAX * TS_STATE_MAX };
	static struct ts_conn c[NC];
	const struct {
		bool compact, color, json;
	} modes[] = { { false, false, false }, { true, false, false }, { false, true, false },
		      { true, true, false },   { false, false, true } };

	for (int i = 0; i < NC; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		c[i].id = 1000 + (uint64_t)i;
		c[i].family = 4;
		c[i].handshake_ns = -1;
		/* This pair, then it again with each flag and a record flag. */
		for (int k = 0; k < 4; k++) {
			struct ts_step *st = &c[i].steps[c[i].nsteps++];
			enum ts_label l = ts_label_classify(i / TS_STATE_MAX, i % TS_STATE_MAX,
							    k == 3 ? TS_F_FIN_RCVD : 0, 0);

			st->ts_ns = (uint64_t)(i * 10 + k) * US;
			st->ns_in_old = k ? 7 * US : 0;
			st->from = (uint8_t)(i / TS_STATE_MAX);
			st->to = (uint8_t)(i % TS_STATE_MAX);
			st->flags = k == 1 ? TS_STEP_GAP : k == 2 ? TS_STEP_INFERRED | TS_STEP_PEER : 0;
			st->label_id = (uint8_t)l;
			st->label = ts_label_text(l);
		}
	}
	for (size_t k = 0; k < sizeof(modes) / sizeof(modes[0]); k++) {
		struct ts_meta m = { .compact = modes[k].compact, .color = modes[k].color };
		char *a = NULL, *b = NULL;
		size_t la, lb;

		la = render(&m, modes[k].json, c, NC, true, &a);
		lb = render(&m, modes[k].json, c, NC, false, &b);
		CHECK(la > 0 && la == lb && !memcmp(a, b, la));
		free(a);
		free(b);
		b = NULL;
		{
			/* The same sink again over every connection: all hits. */
			static struct ts_conn twice[2 * NC];

			memcpy(twice, c, sizeof(c));
			memcpy(twice + NC, c, sizeof(c));
			la = render(&m, modes[k].json, twice, 2 * NC, true, &a);
			lb = render(&m, modes[k].json, twice, 2 * NC, false, &b);
			CHECK(la == lb && !memcmp(a, b, la));
			free(a);
			free(b);
		}
	}
}

static void test_golden(void)
{
	golden_run(false, false, "timeline.txt", "timeline.jsonl");
	golden_run(true, false, "timeline_compact.txt", NULL);
	golden_run(false, true, "timeline_color.txt", NULL);
}

int main(void)
{
	test_client_active();
	test_server_passive();
	test_client_passive_server_active();
	test_simultaneous();
	test_simultaneous_gap();
	test_refused_and_timeout();
	test_resets();
	test_synack_join();
	test_data_retransmits_and_pct();
	test_listener();
	test_late_join_and_gaps();
	test_out_of_order();
	test_id_reuse_and_open();
	test_lost_marks_open();
	test_eviction_bound();
	test_tables_grow();
	test_entry_reuse();
	test_step_cache();
	test_golden();
	return check_report();
}
