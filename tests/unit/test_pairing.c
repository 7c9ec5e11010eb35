// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Both ends of a connection traced on this host: the tracker pairs them
 * (reversed addresses, lived at the same time, exactly one candidate) and
 * tells an orphaned FIN_WAIT2's TIME_WAIT from the peer's FIN and its
 * ACK; unpaired ones say why TIME_WAIT is not known.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include "check.h"
#include "core/stream/peer_index.h"
#include "core/stream/states.h"
#include "core/stream/step_label.h"
#include "core/stream/tracker.h"
#include "collect.h"

static struct ts_tracker *tracker(uint64_t peer_wait_ns)
{
	struct ts_tracker_opts o = { .max_conns = 64, .peer_wait_ns = peer_wait_ns };
	struct ts_tracker *t = NULL;

	nout = 0;
	CHECK_INT(ts_tracker__new(&o, collect, NULL, &t), 0);
	return t;
}

struct end {
	int family;
	const char *l, *r;
	uint16_t lport, rport;
	uint32_t netns;
};

static const struct end CLI = { 4, "198.18.0.1", "198.18.0.2", 40000, 80, 1001 };
static const struct end SRV = { 4, "198.18.0.2", "198.18.0.1", 80, 40000, 1002 };

static void push(struct ts_tracker *t, const struct end *e, uint64_t id, uint64_t ts, int from,
		 int to, uint8_t flags, uint32_t err)
{
	struct ts_rec r;

	memset(&r, 0, sizeof(r));
	r.type = TS_REC_STATE;
	r.family = (uint8_t)e->family;
	r.conn = id;
	r.ts_ns = ts;
	r.old_state = (uint8_t)from;
	r.new_state = (uint8_t)to;
	r.flags = flags;
	r.sport = from == TS_CLOSE && to == TS_SYN_SENT ? 0 : e->lport;
	r.dport = e->rport;
	r.netns = e->netns;
	r.pid = 7;
	strcpy(r.comm, "t");
	inet_pton(e->family == 6 ? AF_INET6 : AF_INET, e->l, r.saddr);
	inet_pton(e->family == 6 ? AF_INET6 : AF_INET, e->r, r.daddr);
	if (to == TS_CLOSE) {
		r.flags |= TS_F_STATS;
		r.has_stats = true;
		r.st.segs_out = 5;
		r.st.err = err;
	}
	CHECK_INT(ts_tracker__push(t, &r), 0);
}

/* The client opens at t0 and closes with close(): orphaned in FIN_WAIT2. */
static void client_orphaned(struct ts_tracker *t, const struct end *e, uint64_t id,
			    uint64_t t0)
{
	push(t, e, id, t0, TS_CLOSE, TS_SYN_SENT, TS_F_FIRST, 0);
	push(t, e, id, t0 + 100 * US, TS_SYN_SENT, TS_ESTABLISHED, 0, 0);
	push(t, e, id, t0 + 1 * MS, TS_ESTABLISHED, TS_FIN_WAIT1, TS_F_FIN_SENT | TS_F_ORPHAN, 0);
	push(t, e, id, t0 + 1 * MS + 50 * US, TS_FIN_WAIT1, TS_FIN_WAIT2,
	     TS_F_FIN_SENT | TS_F_ORPHAN, 0);
	push(t, e, id, t0 + 1 * MS + 60 * US, TS_FIN_WAIT2, TS_CLOSE, TS_F_FIN_SENT | TS_F_ORPHAN,
	     0);
}

static void server_open(struct ts_tracker *t, const struct end *e, uint64_t id, uint64_t t0)
{
	push(t, e, id, t0 + 150 * US, TS_LISTEN, TS_SYN_RECV, TS_F_FIRST | TS_F_OWNER_LISTENER, 0);
	push(t, e, id, t0 + 160 * US, TS_SYN_RECV, TS_ESTABLISHED, TS_F_OWNER_LISTENER, 0);
	push(t, e, id, t0 + 1 * MS + 40 * US, TS_ESTABLISHED, TS_CLOSE_WAIT, TS_F_FIN_RCVD, 0);
}

static const struct ts_conn *by_id(uint64_t id)
{
	for (int i = 0; i < nout && i < MAXOUT; i++)
		if (out[i].id == id)
			return &out[i];
	CHECK(0);
	return &out[0];
}

static void finish(struct ts_tracker *t)
{
	CHECK_INT(ts_tracker__finish(t), 0);
	ts_tracker__free(t);
}

/* veth between two namespaces: the server closes 300 ms after the client. */
static void test_orphan_from_peer(void)
{
	struct ts_tracker *t = tracker(0);
	uint64_t t0 = 10 * MS, fin = t0 + 301 * MS;
	const struct ts_conn *c, *s;
	struct ts_tracker_stats st;

	client_orphaned(t, &CLI, 1, t0);
	server_open(t, &SRV, 2, t0);
	/* Far past the linger: the client waits for its peer. */
	CHECK_INT(ts_tracker__advance(t, t0 + 250 * MS), 0);
	CHECK_INT(nout, 0);
	push(t, &SRV, 2, fin, TS_CLOSE_WAIT, TS_LAST_ACK, TS_F_FIN_RCVD | TS_F_FIN_SENT, 0);
	push(t, &SRV, 2, fin + 30 * US, TS_LAST_ACK, TS_CLOSE, TS_F_FIN_RCVD | TS_F_ORPHAN, 0);
	CHECK_INT(ts_tracker__advance(t, fin + 200 * MS), 0);
	CHECK_INT(nout, 2);
	c = by_id(1);
	s = by_id(2);
	CHECK_INT(c->peer, 2);
	CHECK_INT(s->peer, 1);
	CHECK_INT(c->tw, TS_TW_FROM_PEER);
	CHECK_INT(c->tw_why, TS_TWW_NONE);
	CHECK_INT(s->tw, TS_TW_NONE);
	CHECK_INT(c->nsteps, 7);
	CHECK_INT(c->steps[4].from, TS_FIN_WAIT2);
	CHECK_INT(c->steps[4].to, TS_CLOSE);
	CHECK_STR(c->steps[4].label, "orphaned: FIN_WAIT2 in a timewait socket");
	CHECK_INT(c->steps[5].from, TS_FIN_WAIT2);
	CHECK_INT(c->steps[5].to, TS_TIME_WAIT);
	CHECK_INT(c->steps[5].ts_ns, fin);
	CHECK_INT(c->steps[5].flags, TS_STEP_PEER);
	CHECK_INT(c->steps[5].ns_in_old, fin - (t0 + 1 * MS + 50 * US));
	CHECK_STR(c->steps[5].label, "FIN received, ACK sent (seen at the peer)");
	CHECK_INT(c->steps[6].from, TS_TIME_WAIT);
	CHECK_INT(c->steps[6].to, TS_TIME_WAIT);
	CHECK_INT(c->steps[6].ts_ns, fin + 30 * US);
	CHECK_STR(c->steps[6].label, "final ACK arrived (seen at the peer)");
	CHECK_INT(ts_conn_close_step(c), 4);
	/* The full socket ended at its CLOSE; the connection at its last step. */
	CHECK_INT(c->end_ns, t0 + 1 * MS + 60 * US);
	CHECK_INT(c->lifetime_ns, fin + 30 * US - t0);
	CHECK_INT(c->gaps, 0);
	ts_tracker__get_stats(t, &st);
	CHECK_INT(st.paired, 2);
	finish(t);
}

/* The peer's ACK of its FIN never came (it reset): no TIME_WAIT. */
static void test_peer_reset(void)
{
	struct ts_tracker *t = tracker(0);

	client_orphaned(t, &CLI, 1, 10 * MS);
	server_open(t, &SRV, 2, 10 * MS);
	push(t, &SRV, 2, 50 * MS, TS_CLOSE_WAIT, TS_CLOSE, 0, 0);
	finish(t);
	CHECK_INT(nout, 2);
	CHECK_INT(by_id(1)->tw, TS_TW_UNKNOWN);
	CHECK_INT(by_id(1)->tw_why, TS_TWW_PEER_NO_ACK);
	CHECK_INT(by_id(1)->nsteps, 5);
}

/* The peer is elsewhere: said, no step invented. */
static void test_unpaired(void)
{
	struct ts_tracker *t = tracker(0);

	client_orphaned(t, &CLI, 1, 10 * MS);
	CHECK_INT(ts_tracker__advance(t, 10 * MS + 200 * MS), 0);
	CHECK_INT(nout, 1);
	CHECK_INT(out[0].peer, 0);
	CHECK_INT(out[0].tw, TS_TW_UNKNOWN);
	CHECK_INT(out[0].tw_why, TS_TWW_NO_PEER);
	CHECK_STR(ts_tw_why_name(out[0].tw_why), "peer_not_traced");
	CHECK_INT(out[0].nsteps, 5);
	finish(t);
}

/* Paired, but the peer never closes: the wait is bounded. */
static void test_wait_bound(void)
{
	struct ts_tracker *t = tracker(2000 * MS);

	client_orphaned(t, &CLI, 1, 10 * MS);
	server_open(t, &SRV, 2, 10 * MS);
	CHECK_INT(ts_tracker__advance(t, 1500 * MS), 0);
	CHECK_INT(nout, 0);
	CHECK_INT(ts_tracker__advance(t, 2100 * MS), 0);
	CHECK_INT(nout, 1);
	CHECK_INT(out[0].id, 1);
	CHECK_INT(out[0].peer, 2);
	CHECK_INT(out[0].tw_why, TS_TWW_PEER_OPEN);
	finish(t);
	CHECK_INT(nout, 2);
	CHECK_INT(out[1].close, TS_CLOSE_OPEN);
}

/* A record that comes late for a connection already waiting for its
 * peer leaves it waiting, on one list. */
static void test_late_record_while_waiting(void)
{
	struct ts_tracker *t = tracker(0);

	uint64_t t0 = 10 * MS;

	push(t, &CLI, 1, t0, TS_CLOSE, TS_SYN_SENT, TS_F_FIRST, 0);
	push(t, &CLI, 1, t0 + 100 * US, TS_SYN_SENT, TS_ESTABLISHED, 0, 0);
	push(t, &CLI, 1, t0 + 1 * MS, TS_ESTABLISHED, TS_FIN_WAIT1, TS_F_FIN_SENT | TS_F_ORPHAN, 0);
	push(t, &CLI, 1, t0 + 1 * MS + 60 * US, TS_FIN_WAIT2, TS_CLOSE, TS_F_FIN_SENT | TS_F_ORPHAN,
	     0);
	server_open(t, &SRV, 2, t0);
	CHECK_INT(ts_tracker__advance(t, 500 * MS), 0);
	CHECK_INT(nout, 0);
	/* Out of order: the step before the close, pushed now. */
	push(t, &CLI, 1, t0 + 1 * MS + 50 * US, TS_FIN_WAIT1, TS_FIN_WAIT2,
	     TS_F_FIN_SENT | TS_F_ORPHAN, 0);
	CHECK_INT(ts_tracker__advance(t, 600 * MS), 0);
	CHECK_INT(nout, 0);
	push(t, &SRV, 2, 700 * MS, TS_CLOSE_WAIT, TS_LAST_ACK, TS_F_FIN_RCVD, 0);
	push(t, &SRV, 2, 700 * MS + 10 * US, TS_LAST_ACK, TS_CLOSE, TS_F_FIN_RCVD, 0);
	CHECK_INT(ts_tracker__advance(t, 900 * MS), 0);
	CHECK_INT(nout, 2);
	CHECK_INT(by_id(1)->tw, TS_TW_FROM_PEER);
	CHECK_INT(by_id(1)->gaps, 0);
	CHECK_INT(by_id(1)->nsteps, 7);
	finish(t);
	CHECK_INT(nout, 2);
}

/* Two servers in two namespaces with the client's reversed tuple. */
static void test_ambiguous(void)
{
	struct ts_tracker *t = tracker(0);
	struct end other = SRV;
	struct ts_tracker_stats st;

	other.netns = 1003;
	server_open(t, &SRV, 2, 10 * MS);
	server_open(t, &other, 3, 10 * MS);
	client_orphaned(t, &CLI, 1, 10 * MS);
	ts_tracker__get_stats(t, &st);
	CHECK_INT(st.pair_ambiguous, 1);
	CHECK_INT(st.paired, 0);
	finish(t);
	CHECK_INT(by_id(1)->peer, 0);
	CHECK_INT(by_id(1)->tw_why, TS_TWW_AMBIGUOUS);
}

/* A connection that ended before the other began is not its peer, and a
 * server child made before the client's SYN is not either. */
static void test_not_together(void)
{
	struct ts_tracker *t = tracker(0);

	push(t, &SRV, 2, 1 * MS, TS_LISTEN, TS_SYN_RECV, TS_F_FIRST, 0);
	push(t, &SRV, 2, 2 * MS, TS_SYN_RECV, TS_CLOSE, 0, 0);
	client_orphaned(t, &CLI, 1, 10 * MS);
	push(t, &SRV, 3, 9 * MS, TS_LISTEN, TS_SYN_RECV, TS_F_FIRST, 0);
	finish(t);
	CHECK_INT(by_id(1)->peer, 0);
	CHECK_INT(by_id(2)->peer, 0);
	CHECK_INT(by_id(3)->peer, 0);
}

/* Loopback, one namespace; the server an IPv6 socket with the client's
 * IPv4 address mapped: the same wire tuple. */
static void test_loopback_mapped(void)
{
	struct ts_tracker *t = tracker(0);
	const struct end cli = { 4, "127.0.0.1", "127.0.0.1", 40000, 8080, 5 };
	const struct end srv = { 6, "::ffff:127.0.0.1", "::ffff:127.0.0.1", 8080, 40000, 5 };

	client_orphaned(t, &cli, 1, 10 * MS);
	server_open(t, &srv, 2, 10 * MS);
	push(t, &srv, 2, 20 * MS, TS_CLOSE_WAIT, TS_LAST_ACK, TS_F_FIN_RCVD, 0);
	push(t, &srv, 2, 20 * MS + 10 * US, TS_LAST_ACK, TS_CLOSE, TS_F_FIN_RCVD, 0);
	finish(t);
	CHECK_INT(by_id(1)->peer, 2);
	CHECK_INT(by_id(2)->peer, 1);
	CHECK_INT(by_id(1)->tw, TS_TW_FROM_PEER);
}

/* A self-connect has its own tuple reversed: it is not its own peer. */
static void test_self_connect(void)
{
	struct ts_tracker *t = tracker(0);
	const struct end self = { 4, "127.0.0.1", "127.0.0.1", 40000, 40000, 5 };

	push(t, &self, 1, 1 * MS, TS_CLOSE, TS_SYN_SENT, TS_F_FIRST, 0);
	push(t, &self, 1, 2 * MS, TS_SYN_SENT, TS_SYN_RECV, 0, 0);
	push(t, &self, 1, 3 * MS, TS_SYN_RECV, TS_ESTABLISHED, 0, 0);
	finish(t);
	CHECK_INT(nout, 1);
	CHECK_INT(out[0].peer, 0);
	CHECK_STR(ts_label_text(ts_label_classify(TS_SYN_SENT, TS_SYN_RECV, 0, 0)),
		  "SYN received in SYN_SENT (simultaneous)");
}

/* The inferred TIME_WAIT (our record saw the FIN) gains the peer's ACK. */
static void test_inferred_gets_final_ack(void)
{
	struct ts_tracker *t = tracker(0);

	push(t, &CLI, 1, 1 * MS, TS_CLOSE, TS_SYN_SENT, TS_F_FIRST, 0);
	push(t, &CLI, 1, 2 * MS, TS_SYN_SENT, TS_ESTABLISHED, 0, 0);
	server_open(t, &SRV, 2, 1 * MS);
	push(t, &CLI, 1, 3 * MS, TS_ESTABLISHED, TS_FIN_WAIT1, TS_F_FIN_SENT, 0);
	push(t, &CLI, 1, 3 * MS + 10 * US, TS_FIN_WAIT1, TS_FIN_WAIT2, TS_F_FIN_SENT, 0);
	push(t, &SRV, 2, 4 * MS, TS_CLOSE_WAIT, TS_LAST_ACK, TS_F_FIN_RCVD | TS_F_FIN_SENT, 0);
	push(t, &CLI, 1, 4 * MS + 10 * US, TS_FIN_WAIT2, TS_CLOSE, TS_F_FIN_SENT | TS_F_FIN_RCVD,
	     0);
	push(t, &SRV, 2, 4 * MS + 20 * US, TS_LAST_ACK, TS_CLOSE, TS_F_FIN_RCVD, 0);
	finish(t);
	CHECK_INT(by_id(1)->tw, TS_TW_INFERRED);
	CHECK_INT(by_id(1)->nsteps, 7);
	CHECK_INT(by_id(1)->steps[5].to, TS_CLOSE);
	CHECK_INT(by_id(1)->steps[6].from, TS_TIME_WAIT);
	CHECK_INT(by_id(1)->steps[6].to, TS_TIME_WAIT);
	CHECK_INT(by_id(1)->steps[6].ns_in_old, 10 * US);
}

static void test_index_keys(void)
{
	struct ts_peer_key a, b;
	uint8_t x[TS_ADDR_LEN] = { 10, 0, 0, 1 }, y[TS_ADDR_LEN] = { 10, 0, 0, 2 };

	ts_peer_key__set(&a, 4, x, 1, y, 2);
	ts_peer_key__set(&b, 4, y, 2, x, 1);
	CHECK(ts_peer_key__reversed(&a, &b));
	ts_peer_key__set(&b, 4, y, 2, x, 3);
	CHECK(!ts_peer_key__reversed(&a, &b));
}

/*
 * Two CPUs took one request's final ACK at once: two children, the one
 * that lost closes at once (SYN_RECV -> CLOSE).  It is "duplicate", its
 * sibling is the connection and the client's peer, whichever child was
 * seen first and whether the client was indexed before or after them.
 */
static void duplicate_child(bool loser_first, bool client_late)
{
	struct ts_tracker *t = tracker(0);
	uint64_t t0 = 10 * MS, fin = t0 + 2 * MS;
	const struct ts_conn *c, *s, *d;
	struct ts_tracker_stats st;

	push(t, &CLI, 1, t0, TS_CLOSE, TS_SYN_SENT, TS_F_FIRST, 0);
	if (!client_late)
		push(t, &CLI, 1, t0 + 100 * US, TS_SYN_SENT, TS_ESTABLISHED, 0, 0);
	push(t, &SRV, loser_first ? 3 : 2, t0 + 150 * US, TS_LISTEN, TS_SYN_RECV,
	     TS_F_FIRST | TS_F_OWNER_LISTENER, 0);
	push(t, &SRV, loser_first ? 2 : 3, t0 + 151 * US, TS_LISTEN, TS_SYN_RECV,
	     TS_F_FIRST | TS_F_OWNER_LISTENER, 0);
	push(t, &SRV, 3, t0 + 155 * US, TS_SYN_RECV, TS_CLOSE, TS_F_OWNER_LISTENER, 0);
	push(t, &SRV, 2, t0 + 160 * US, TS_SYN_RECV, TS_ESTABLISHED, TS_F_OWNER_LISTENER, 0);
	if (client_late)
		push(t, &CLI, 1, t0 + 170 * US, TS_SYN_SENT, TS_ESTABLISHED, 0, 0);
	push(t, &CLI, 1, t0 + 1 * MS, TS_ESTABLISHED, TS_FIN_WAIT1, TS_F_FIN_SENT, 0);
	push(t, &SRV, 2, t0 + 1 * MS + 40 * US, TS_ESTABLISHED, TS_CLOSE_WAIT, TS_F_FIN_RCVD, 0);
	push(t, &CLI, 1, t0 + 1 * MS + 50 * US, TS_FIN_WAIT1, TS_FIN_WAIT2, TS_F_FIN_SENT, 0);
	push(t, &SRV, 2, fin, TS_CLOSE_WAIT, TS_LAST_ACK, TS_F_FIN_RCVD | TS_F_FIN_SENT, 0);
	push(t, &CLI, 1, fin + 20 * US, TS_FIN_WAIT2, TS_CLOSE, TS_F_FIN_SENT | TS_F_FIN_RCVD, 0);
	push(t, &SRV, 2, fin + 30 * US, TS_LAST_ACK, TS_CLOSE, TS_F_FIN_RCVD, 0);
	CHECK_INT(ts_tracker__advance(t, fin + 500 * MS), 0);
	CHECK_INT(nout, 3);
	ts_tracker__get_stats(t, &st);
	CHECK_INT(st.duplicates, 1);
	CHECK_INT(st.paired, 2);
	CHECK_INT(st.pair_ambiguous, 0);
	finish(t);
	c = by_id(1);
	s = by_id(2);
	d = by_id(3);
	CHECK_INT(d->close, TS_CLOSE_DUPLICATE);
	CHECK_STR(ts_close_name(d->close), "duplicate");
	CHECK_INT(d->role, TS_ROLE_SERVER);
	CHECK_INT(d->peer, 0);
	CHECK_INT(d->nsteps, 2);
	CHECK_STR(d->steps[1].label, "duplicate child discarded by the kernel");
	CHECK_INT(s->close, TS_CLOSE_PASSIVE);
	CHECK_INT(s->peer, 1);
	CHECK_INT(c->peer, 2);
	CHECK_INT(c->close, TS_CLOSE_ACTIVE);
	CHECK_INT(c->tw, TS_TW_INFERRED);
	CHECK_STR(c->steps[c->nsteps - 1].label, "final ACK arrived (seen at the peer)");
}

/* A child that closed in SYN_RECV with no sibling is a handshake that
 * ended there, not a duplicate. */
static void test_lone_syn_recv_close(void)
{
	struct ts_tracker *t = tracker(0);

	push(t, &SRV, 3, 10 * MS, TS_LISTEN, TS_SYN_RECV, TS_F_FIRST | TS_F_OWNER_LISTENER, 0);
	push(t, &SRV, 3, 11 * MS, TS_SYN_RECV, TS_CLOSE, TS_F_OWNER_LISTENER, 0);
	/* A later connection with the same addresses (a reused port). */
	push(t, &SRV, 4, 20 * MS, TS_LISTEN, TS_SYN_RECV, TS_F_FIRST | TS_F_OWNER_LISTENER, 0);
	push(t, &SRV, 4, 20 * MS + 10 * US, TS_SYN_RECV, TS_ESTABLISHED, TS_F_OWNER_LISTENER, 0);
	finish(t);
	CHECK_INT(nout, 2);
	CHECK_INT(by_id(3)->close, TS_CLOSE_TIMEOUT);
	CHECK_STR(by_id(3)->steps[1].label, "handshake aborted");
	CHECK_INT(by_id(4)->close, TS_CLOSE_OPEN);
}

static void test_duplicate_child(void)
{
	duplicate_child(false, false);
	duplicate_child(true, false);
	duplicate_child(false, true);
	duplicate_child(true, true);
	test_lone_syn_recv_close();
}

int main(void)
{
	test_orphan_from_peer();
	test_peer_reset();
	test_unpaired();
	test_wait_bound();
	test_late_record_while_waiting();
	test_ambiguous();
	test_not_together();
	test_loopback_mapped();
	test_self_connect();
	test_inferred_gets_final_ack();
	test_index_keys();
	test_duplicate_child();
	return check_report();
}
