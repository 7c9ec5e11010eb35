/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Record sequences of one connection shape each, as the kernel reports
 * them (tests/unit/test_pictures.c, tests/helpers/mkcap.c).  Records are
 * appended to a list; ts_scen_sort puts a list in time order.
 */
#ifndef TS_SCENARIOS_H
#define TS_SCENARIOS_H

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/stream/record.h"

#define SC_US 1000ull
#define SC_MS 1000000ull

struct ts_scen {
	struct ts_rec *r;
	size_t n, cap;
};

/* One end: its addresses, owner and namespace. */
struct ts_scen_end {
	int family;
	const char *laddr, *raddr;
	uint16_t lport, rport;
	uint32_t pid;
	const char *comm;
	uint32_t netns;
};

static inline struct ts_rec *sc_add(struct ts_scen *s, const struct ts_scen_end *e,
				    enum ts_rec_type type, uint64_t conn, uint64_t ts,
				    int from, int to, uint8_t flags)
{
	struct ts_rec *r;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct ts_rec *p = realloc(s->r, cap * sizeof(*p));

		if (!p)
			abort();
		s->r = p;
		s->cap = cap;
	}
	r = &s->r[s->n++];
	memset(r, 0, sizeof(*r));
	r->type = type;
	r->family = (uint8_t)e->family;
	r->conn = conn;
	r->ts_ns = ts;
	r->old_state = (uint8_t)from;
	r->new_state = (uint8_t)to;
	r->flags = flags;
	r->sport = e->lport;
	r->dport = e->rport;
	r->pid = e->pid;
	r->netns = e->netns;
	inet_pton(e->family == 6 ? AF_INET6 : AF_INET, e->laddr, r->saddr);
	inet_pton(e->family == 6 ? AF_INET6 : AF_INET, e->raddr, r->daddr);
	snprintf(r->comm, sizeof(r->comm), "%s", e->comm);
	return r;
}

static inline void sc_state(struct ts_scen *s, const struct ts_scen_end *e, uint64_t id,
			    uint64_t ts, int from, int to, uint8_t flags)
{
	sc_add(s, e, TS_REC_STATE, id, ts, from, to, flags);
}

static inline void sc_event(struct ts_scen *s, const struct ts_scen_end *e,
			    enum ts_rec_type type, uint64_t id, uint64_t ts, int state)
{
	sc_add(s, e, type, id, ts, state, state, 0);
}

/* The change into CLOSE, with the counters and sk_err. */
static inline void sc_close(struct ts_scen *s, const struct ts_scen_end *e, uint64_t id,
			    uint64_t ts, int from, uint8_t flags, uint32_t err)
{
	struct ts_rec *r = sc_add(s, e, TS_REC_STATE, id, ts, from, TS_CLOSE,
				  flags | TS_F_STATS);

	r->has_stats = true;
	r->st.segs_out = 10;
	r->st.segs_in = 8;
	r->st.data_segs_out = 4;
	r->st.srtt_us = 150;
	r->st.err = err;
}

/* connect(): CLOSE -> SYN_SENT (no local port yet) -> ESTABLISHED. */
static inline void sc_connect(struct ts_scen *s, const struct ts_scen_end *e,
			      uint64_t id, uint64_t t0)
{
	struct ts_rec *r;

	r = sc_add(s, e, TS_REC_STATE, id, t0, TS_CLOSE, TS_SYN_SENT, TS_F_FIRST);
	r->sport = 0;
	sc_state(s, e, id, t0 + 100 * SC_US, TS_SYN_SENT, TS_ESTABLISHED, 0);
}

/* A passive open: the child is reported at the ACK, like the kernel does. */
static inline void sc_accept(struct ts_scen *s, const struct ts_scen_end *e,
			     uint64_t id, uint64_t t)
{
	sc_state(s, e, id, t, TS_LISTEN, TS_SYN_RECV, TS_F_FIRST | TS_F_OWNER_LISTENER);
	sc_state(s, e, id, t + 10 * SC_US, TS_SYN_RECV, TS_ESTABLISHED, TS_F_OWNER_LISTENER);
}

static inline void sc_active_close(struct ts_scen *s, const struct ts_scen_end *e,
				   uint64_t id, uint64_t t)
{
	sc_state(s, e, id, t, TS_ESTABLISHED, TS_FIN_WAIT1, TS_F_FIN_SENT | TS_F_ORPHAN);
	sc_state(s, e, id, t + 80 * SC_US, TS_FIN_WAIT1, TS_FIN_WAIT2,
		 TS_F_FIN_SENT | TS_F_ORPHAN);
	sc_close(s, e, id, t + 90 * SC_US, TS_FIN_WAIT2,
		 TS_F_FIN_SENT | TS_F_FIN_RCVD | TS_F_ORPHAN, 0);
}

static inline void sc_passive_close(struct ts_scen *s, const struct ts_scen_end *e,
				    uint64_t id, uint64_t t)
{
	sc_state(s, e, id, t, TS_ESTABLISHED, TS_CLOSE_WAIT, TS_F_FIN_RCVD);
	sc_state(s, e, id, t + 40 * SC_US, TS_CLOSE_WAIT, TS_LAST_ACK,
		 TS_F_FIN_RCVD | TS_F_FIN_SENT | TS_F_ORPHAN);
	sc_close(s, e, id, t + 100 * SC_US, TS_LAST_ACK,
		 TS_F_FIN_RCVD | TS_F_FIN_SENT | TS_F_ORPHAN, 0);
}

struct ts_scen_key {
	uint64_t ts;
	size_t i;
};

static inline int ts_scen_cmp(const void *a, const void *b)
{
	const struct ts_scen_key *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* A stable sort by time: the order a live source delivers. */
static inline void ts_scen_sort(struct ts_scen *s)
{
	struct ts_scen_key *k = malloc((s->n + 1) * sizeof(*k));
	struct ts_rec *r = malloc((s->n + 1) * sizeof(*r));

	if (!k || !r)
		abort();
	for (size_t i = 0; i < s->n; i++)
		k[i] = (struct ts_scen_key){ s->r[i].ts_ns, i };
	qsort(k, s->n, sizeof(*k), ts_scen_cmp);
	for (size_t i = 0; i < s->n; i++)
		r[i] = s->r[k[i].i];
	free(s->r);
	free(k);
	s->r = r;
	s->cap = s->n + 1;
}

static inline void ts_scen_free(struct ts_scen *s)
{
	free(s->r);
	memset(s, 0, sizeof(*s));
}

/* Every close kind and the retransmission shapes, one end each, and one
 * connection seen from both ends; ids from id0, times from t0. */
static inline void ts_scen_gallery(struct ts_scen *s, uint64_t id0, uint64_t t0)
{
	struct ts_scen_end c = { 4, "198.18.0.1", "198.18.0.2", 40000, 80, 1234, "curl", 4026531840u };
	struct ts_scen_end sv = { 4, "198.18.0.2", "198.18.0.1", 80, 40000, 200, "nginx", 4026532000u };
	struct ts_scen_end l = { 4, "0.0.0.0", "0.0.0.0", 80, 0, 200, "nginx", 4026532000u };
	uint64_t id = id0, t = t0;

	/* active close, with two data retransmissions */
	sc_connect(s, &c, id, t);
	sc_event(s, &c, TS_REC_RETRANS, id, t + 1 * SC_MS, TS_ESTABLISHED);
	sc_event(s, &c, TS_REC_RETRANS, id, t + 1300 * SC_US, TS_ESTABLISHED);
	sc_active_close(s, &c, id, t + 2 * SC_MS);
	c.lport++, id++, t += 10 * SC_MS;
	/* passive close */
	sc_connect(s, &c, id, t);
	sc_passive_close(s, &c, id, t + 3 * SC_MS);
	c.lport++, id++, t += 10 * SC_MS;
	/* simultaneous close */
	sc_connect(s, &c, id, t);
	sc_state(s, &c, id, t + 1 * SC_MS, TS_ESTABLISHED, TS_FIN_WAIT1, TS_F_FIN_SENT);
	sc_state(s, &c, id, t + 1 * SC_MS + 20 * SC_US, TS_FIN_WAIT1, TS_CLOSING,
		 TS_F_FIN_SENT | TS_F_FIN_RCVD);
	sc_close(s, &c, id, t + 1 * SC_MS + 60 * SC_US, TS_CLOSING,
		 TS_F_FIN_SENT | TS_F_FIN_RCVD, 0);
	c.lport++, id++, t += 10 * SC_MS;
	/* reset sent (abortive close) */
	sc_connect(s, &c, id, t);
	sc_close(s, &c, id, t + 2 * SC_MS, TS_ESTABLISHED, 0, 0);
	sc_event(s, &c, TS_REC_RESET_SENT, id, t + 2 * SC_MS + 5 * SC_US, TS_CLOSE);
	c.lport++, id++, t += 10 * SC_MS;
	/* reset received */
	sc_connect(s, &c, id, t);
	sc_event(s, &c, TS_REC_RESET_RECV, id, t + 2 * SC_MS, TS_ESTABLISHED);
	sc_close(s, &c, id, t + 2 * SC_MS + 3 * SC_US, TS_ESTABLISHED, 0, ECONNRESET);
	c.lport++, id++, t += 10 * SC_MS;
	/* refused */
	sc_add(s, &c, TS_REC_STATE, id, t, TS_CLOSE, TS_SYN_SENT, TS_F_FIRST)->sport = 0;
	sc_event(s, &c, TS_REC_RESET_RECV, id, t + 40 * SC_US, TS_SYN_SENT);
	sc_close(s, &c, id, t + 41 * SC_US, TS_SYN_SENT, 0, ECONNREFUSED);
	c.lport++, id++, t += 10 * SC_MS;
	/* connect timeout after two SYN retransmissions */
	sc_add(s, &c, TS_REC_STATE, id, t, TS_CLOSE, TS_SYN_SENT, TS_F_FIRST)->sport = 0;
	sc_event(s, &c, TS_REC_RETRANS, id, t + 1000 * SC_MS, TS_SYN_SENT);
	sc_event(s, &c, TS_REC_RETRANS, id, t + 3000 * SC_MS, TS_SYN_SENT);
	sc_close(s, &c, id, t + 7000 * SC_MS, TS_SYN_SENT, 0, ETIMEDOUT);
	c.lport++, id++, t += 7010 * SC_MS;
	/* a server whose SYN-ACK was retransmitted, closing first */
	sv.rport = c.lport;
	sc_event(s, &sv, TS_REC_SYNACK_RETRANS, 0, t + 1 * SC_MS, TS_NEW_SYN_RECV);
	sc_accept(s, &sv, id, t + 1200 * SC_US);
	sc_active_close(s, &sv, id, t + 5 * SC_MS);
	c.lport++, id++, t += 10 * SC_MS;
	/* one connection, both ends traced: client and server */
	sv.rport = c.lport;
	sc_connect(s, &c, id, t);
	sc_accept(s, &sv, id + 1, t + 110 * SC_US);
	sc_active_close(s, &c, id, t + 2 * SC_MS);
	sc_passive_close(s, &sv, id + 1, t + 2 * SC_MS + 30 * SC_US);
	id += 2, t += 10 * SC_MS;
	/* a listener */
	sc_state(s, &l, id, t0 - 1 * SC_MS, TS_CLOSE, TS_LISTEN, TS_F_FIRST);
	sc_close(s, &l, id, t, TS_LISTEN, 0, 0);
	ts_scen_sort(s);
}

#endif
