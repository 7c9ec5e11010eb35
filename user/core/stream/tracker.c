// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Connection tracker.  Entries live in a hash table by connection id and on
 * an LRU list (least recently active first, the one evicted at the bound);
 * closed ones also wait on a FIFO for their trailing records (linger) before
 * they are finished and emitted.  SYN-ACK retransmits, reported on the
 * listener's request before the connection's socket exists, wait in a small
 * table keyed by namespace and addresses until the connection appears.
 *
 * Both ends of a connection traced on this host (loopback, namespaces) are
 * paired through an index by addresses (peer_index.c); each keeps a view
 * of the other's close, from which its timewait socket's steps are told.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "core/stream/states.h"
#include "core/stream/id_index.h"
#include "core/stream/peer_index.h"
#include "core/stream/step_label.h"
#include "core/stream/tracker.h"

/* What the paired other end's records showed, kept with each end. */
struct peer_view {
	uint64_t fin_ns;  /* it sent its first FIN (-> FIN_WAIT1, LAST_ACK) */
	uint64_t end_ns;  /* it reached CLOSE, 0: not yet */
	uint8_t end_from; /* the state it closed from */
	bool acked;	  /* LAST_ACK -> CLOSE, clean: our ACK of its FIN came */
};

/*
 * An entry's first cache line is what finding it by id, ordering and
 * expiring touch; the connection's own fields follow, those every record
 * and the emit read first (struct ts_conn keeps its rarely filled arrays
 * last, and a reused entry zeroes only what comes before them).  Under
 * churn a thousand or more entries live at once: each record and each
 * emit should bring in a few cache lines, not the 1.5 KiB.
 */
struct entry {
	uint64_t id; /* c.id */
	struct entry *hnext; /* on the free list */
	struct entry *lru_prev, *lru_next;
	struct entry *cl_prev, *cl_next;
	uint64_t last_ns; /* newest record time */
	uint64_t wait_until;

	bool on_closed;
	bool on_wait;	  /* closed, waiting for its peer (same links) */
	bool want_synack; /* a server connection not yet joined */
	bool ambiguous;	  /* more than one traced connection could be its peer */
	bool tindexed;	  /* on the tuple index (tnext) */
	bool duplicate;	  /* a child that lost its request to a sibling */
	uint32_t thash;	  /* of its tuple, while tindexed */
	struct entry *tnext;
	struct entry *peer_e;	 /* the other end, while it is held */
	struct peer_view pv;
	struct ts_peer_node pn;	 /* in the tracker's peer index */
	/* The account of the socket's retransmission counter (rtx_account()). */
	struct rtx_acct {
		uint32_t max;  /* highest total_retrans carried */
		uint32_t base; /* lowest total less segs of a record */
		uint32_t segs; /* segments the records sent */
		bool have;
		bool unknown; /* a record without the counter or segs */
	} acct;
	struct ts_conn c;
} __attribute__((aligned(64)));

/* What entry_new() zeroes: all but the connection's arrays, which are
 * filled one element at a time and read only up to their counts. */
#define ENTRY_ZERO (offsetof(struct entry, c) + offsetof(struct ts_conn, steps))

#define entry_of_node(n) \
	((struct entry *)((char *)(n) - offsetof(struct entry, pn)))

struct list {
	struct entry *head, *tail;
};

/* A SYN-ACK retransmit waiting for its connection. */
struct pending_synack {
	bool used;
	uint8_t family;
	uint16_t sport, dport;
	uint32_t netns;
	uint32_t count;
	uint64_t ts_ns;
	uint64_t first_synack_ns; /* from the records' detail, 0 unknown */
	uint8_t saddr[TS_ADDR_LEN];
	uint8_t daddr[TS_ADDR_LEN];
};

#define SYNACK_SLOTS 1024 /* power of two */
#define SYNACK_PROBE 8
#define RECENT_SERVERS 64

struct ts_tracker {
	struct ts_id_index ids;
	struct entry **tbuckets; /* by tuple (drops without a socket) */
	uint32_t mask;
	uint32_t max_buckets; /* the tables grow up to this many */
	uint32_t max_conns;
	uint64_t linger_ns;
	uint64_t now_ns;
	struct list lru;    /* by lru_prev/lru_next */
	struct list closed; /* by cl_prev/cl_next */
	struct list waiting; /* by cl_prev/cl_next: closed, waiting for the peer */
	uint64_t peer_wait_ns;
	struct ts_peer_index pix;
	ts_conn_fn fn;
	void *ctx;
	struct ts_tracker_stats st;
	struct pending_synack synack[SYNACK_SLOTS];
	uint32_t nsynack; /* slots used: none, and a new server has nothing to join */
	uint64_t recent[RECENT_SERVERS]; /* ids of the newest server conns */
	uint32_t recent_pos;
	uint64_t rtx_held; /* retransmission steps of the live connections */
	/* Entries of emitted connections kept for the next ones (by hnext):
	 * under churn one is freed for each one made, and calloc and free of
	 * 1.5 KiB were a tenth of the tracker's instructions (the zeroing,
	 * which stays, included).  At most FREE_MAX (1.6 MiB): the emits of a
	 * batch of records come in bursts of hundreds. */
	struct entry *free_list;
	uint32_t nfree;
};

#define FREE_MAX 1024
#define INITIAL_BUCKETS 256 /* power of two */

const char *ts_role_name(enum ts_role r)
{
	switch (r) {
	case TS_ROLE_CLIENT:
		return "client";
	case TS_ROLE_SERVER:
		return "server";
	case TS_ROLE_LISTENER:
		return "listener";
	default:
		return "unknown";
	}
}

const char *ts_hs_basis_name(enum ts_hs_basis b)
{
	switch (b) {
	case TS_HS_SYN:
		return "syn";
	case TS_HS_FIRST_SYNACK:
		return "first_synack";
	case TS_HS_SYNACK_RTT:
		return "synack_rtt";
	default:
		return NULL;
	}
}

const char *ts_hs_basis_why(enum ts_hs_basis b)
{
	switch (b) {
	case TS_HS_UNKNOWN_RETRANS:
		return "the SYN-ACK was sent again and no record told when the first one left";
	case TS_HS_UNKNOWN_NO_SAMPLE:
		return "the kernel took no round trip of the SYN-ACK (SYN cookies?)";
	case TS_HS_UNKNOWN_NO_DETAIL:
		return "the record of the handshake's end says nothing of the SYN-ACK (older tcpscope)";
	default:
		return NULL;
	}
}

const char *ts_close_name(enum ts_close_kind k)
{
	switch (k) {
	case TS_CLOSE_ACTIVE:
		return "active";
	case TS_CLOSE_PASSIVE:
		return "passive";
	case TS_CLOSE_SIMULTANEOUS:
		return "simultaneous";
	case TS_CLOSE_RESET_SENT:
		return "reset-sent";
	case TS_CLOSE_RESET_RECEIVED:
		return "reset-received";
	case TS_CLOSE_REFUSED:
		return "refused";
	case TS_CLOSE_TIMEOUT:
		return "timeout";
	case TS_CLOSE_DUPLICATE:
		return "duplicate";
	default:
		return "open";
	}
}

const char *ts_tw_name(enum ts_tw t)
{
	switch (t) {
	case TS_TW_INFERRED:
		return "inferred";
	case TS_TW_FROM_PEER:
		return "from_peer";
	case TS_TW_UNKNOWN:
		return "not_observable";
	default:
		return NULL;
	}
}

const char *ts_tw_why_name(enum ts_tw_why w)
{
	switch (w) {
	case TS_TWW_NO_PEER:
		return "peer_not_traced";
	case TS_TWW_AMBIGUOUS:
		return "peer_ambiguous";
	case TS_TWW_PEER_OPEN:
		return "peer_fin_not_seen";
	case TS_TWW_PEER_NO_ACK:
		return "peer_fin_not_acked";
	default:
		return NULL;
	}
}

const char *ts_tw_why_text(enum ts_tw_why w)
{
	switch (w) {
	case TS_TWW_NO_PEER:
		return "not observable: peer not traced here (remote, or filtered out)";
	case TS_TWW_AMBIGUOUS:
		return "not observable: several traced peers match (NAT, reused ports)";
	case TS_TWW_PEER_OPEN:
		return "not known: the paired peer sent no FIN before the end";
	case TS_TWW_PEER_NO_ACK:
		return "not entered: the peer closed with its FIN unacknowledged";
	default:
		return "";
	}
}

struct ts_rst_why ts_rst_why_of(const struct ts_rec *r)
{
	struct ts_rst_why w = { NULL, true };

	if (r->type == TS_REC_RESET_SENT) {
		if (r->reason_name)
			return (struct ts_rst_why){ r->reason_name, false };
		if (r->rst_hint & TS_RST_NO_SOCKET)
			w.name = "no socket";
		else if (r->rst_hint & TS_RST_UNREAD)
			w.name = "unread data at close";
		else if (r->rst_hint & TS_RST_LINGER0)
			w.name = "SO_LINGER 0";
	} else if (r->type == TS_REC_RESET_RECV && r->new_state == TS_SYN_SENT) {
		w.name = "connection refused";
	}
	return w;
}

/* ---- containers ---- */

static uint32_t hash_id(uint64_t id)
{
	id ^= id >> 33;
	id *= 0xff51afd7ed558ccdULL;
	id ^= id >> 33;
	return (uint32_t)id;
}

static void list_append(struct list *l, struct entry *e, bool lru)
{
	struct entry **prev = lru ? &e->lru_prev : &e->cl_prev;
	struct entry **next = lru ? &e->lru_next : &e->cl_next;

	*prev = l->tail;
	*next = NULL;
	if (l->tail) {
		if (lru)
			l->tail->lru_next = e;
		else
			l->tail->cl_next = e;
	} else {
		l->head = e;
	}
	l->tail = e;
}

static void list_unlink(struct list *l, struct entry *e, bool lru)
{
	struct entry *prev = lru ? e->lru_prev : e->cl_prev;
	struct entry *next = lru ? e->lru_next : e->cl_next;

	if (prev) {
		if (lru)
			prev->lru_next = next;
		else
			prev->cl_next = next;
	} else {
		l->head = next;
	}
	if (next) {
		if (lru)
			next->lru_prev = prev;
		else
			next->cl_prev = prev;
	} else {
		l->tail = prev;
	}
}

static struct entry *find(const struct ts_tracker *t, uint64_t id)
{
	return ts_id_index__find(&t->ids, id);
}

static void touch(struct ts_tracker *t, struct entry *e, uint64_t ts)
{
	if (ts > e->last_ns)
		e->last_ns = ts;
	list_unlink(&t->lru, e, true);
	list_append(&t->lru, e, true);
}

static uint32_t conn_tuple_hash(uint32_t netns, uint16_t sport, uint16_t dport,
				const uint8_t *saddr, const uint8_t *daddr)
{
	uint64_t h = ((uint64_t)netns << 32) ^ ((uint64_t)sport << 16) ^ dport;

	for (int i = 0; i < TS_ADDR_LEN; i += 4) {
		uint32_t a, b;

		memcpy(&a, saddr + i, 4);
		memcpy(&b, daddr + i, 4);
		h = (h ^ a) * 0x100000001b3ULL;
		h = (h ^ b) * 0x100000001b3ULL;
	}
	return hash_id(h);
}

/* Once its tuple is complete, a connection can be found by it. */
static void tuple_index(struct ts_tracker *t, struct entry *e)
{
	struct entry **b;

	if (e->tindexed || !e->c.sport || !e->c.dport)
		return;
	e->thash = conn_tuple_hash(e->c.netns, e->c.sport, e->c.dport, e->c.saddr,
				   e->c.daddr);
	b = &t->tbuckets[e->thash & t->mask];
	e->tnext = *b;
	*b = e;
	e->tindexed = true;
}

static void drop(struct ts_tracker *t, struct entry *e)
{
	struct entry **pp;

	ts_id_index__del(&t->ids, e->id);
	if (e->tindexed) {
		pp = &t->tbuckets[e->thash & t->mask];
		while (*pp && *pp != e)
			pp = &(*pp)->tnext;
		if (*pp)
			*pp = e->tnext;
	}
	list_unlink(&t->lru, e, true);
	if (e->on_closed)
		list_unlink(&t->closed, e, false);
	if (e->on_wait)
		list_unlink(&t->waiting, e, false);
	ts_peer_index__del(&t->pix, &e->pn);
	/* The other end keeps its view of this one. */
	if (e->peer_e)
		e->peer_e->peer_e = NULL;
	t->st.live--;
	t->rtx_held -= e->c.nrtx;
	free(e->c.rtxs);
	if (t->nfree < FREE_MAX) {
		e->hnext = t->free_list;
		t->free_list = e;
		t->nfree++;
		return;
	}
	free(e);
}

/*
 * The tables by tuple and by addresses (and the one by id, id_index.c)
 * start small and double with the connections held (one per two buckets
 * on average: an entry's removal walks past the newer ones on its chain,
 * a cache miss each), up to the size the bound needs: a thousand
 * connections held under churn then look up in a few KiB, not in tables
 * sized for max_conns.  Chains keep their order, so bounded walks see what
 * they would in a table this large from the start.  A failed allocation
 * keeps the tables as they are.
 */
static void grow(struct ts_tracker *t)
{
	uint32_t old = t->mask + 1, nb = old * 2;
	struct entry **tb;

	if (old >= t->max_buckets || 2 * t->st.live <= old)
		return;
	tb = calloc(nb, sizeof(*tb));
	if (!tb || ts_peer_index__grow(&t->pix, nb)) {
		free(tb);
		return;
	}
	for (uint32_t i = 0; i < old; i++) {
		struct entry *e, *next, **tail[2] = { &tb[i], &tb[i + old] };

		for (e = t->tbuckets[i]; e; e = next) {
			struct entry ***tp = &tail[(e->thash & old) ? 1 : 0];

			next = e->tnext;
			e->tnext = NULL;
			**tp = e;
			*tp = &e->tnext;
		}
	}
	free(t->tbuckets);
	t->tbuckets = tb;
	t->mask = nb - 1;
}

/* A zeroed entry: a kept one, or a new one. */
static struct entry *entry_new(struct ts_tracker *t)
{
	struct entry *e = t->free_list;

	if (!e) {
		e = aligned_alloc(_Alignof(struct entry), sizeof(*e));
		if (e)
			memset(e, 0, sizeof(*e));
		return e;
	}
	t->free_list = e->hnext;
	t->nfree--;
	memset(e, 0, ENTRY_ZERO);
	return e;
}

/* ---- finishing a connection ---- */

static bool has_step(const struct ts_conn *c, int from, int to)
{
	for (int i = 0; i < c->nsteps; i++)
		if ((from < 0 || c->steps[i].from == from) &&
		    (to < 0 || c->steps[i].to == to))
			return true;
	return false;
}

static const struct ts_step *find_step(const struct ts_conn *c, int from,
				       int to)
{
	for (int i = 0; i < c->nsteps; i++)
		if (c->steps[i].from == from && c->steps[i].to == to)
			return &c->steps[i];
	return NULL;
}

static enum ts_role find_role(const struct ts_conn *c)
{
	const struct ts_step *s = c->nsteps ? &c->steps[0] : NULL;

	if (s && s->from == TS_CLOSE && s->to == TS_SYN_SENT)
		return TS_ROLE_CLIENT;
	if (s && s->from == TS_LISTEN && s->to == TS_SYN_RECV)
		return TS_ROLE_SERVER;
	if (s && s->to == TS_LISTEN)
		return TS_ROLE_LISTENER;
	if (c->owner_from_listener)
		return TS_ROLE_SERVER;
	if (has_step(c, TS_SYN_SENT, -1))
		return TS_ROLE_CLIENT;
	return TS_ROLE_UNKNOWN;
}

static bool born_here(const struct ts_conn *c)
{
	const struct ts_step *s = &c->steps[0];

	return c->nsteps &&
	       ((s->from == TS_CLOSE && (s->to == TS_SYN_SENT || s->to == TS_LISTEN)) ||
		(s->from == TS_LISTEN && s->to == TS_SYN_RECV));
}

/*
 * The kernel never reports -> TIME_WAIT for a full socket: tcp_time_wait()
 * hands the connection to a timewait socket and tcp_done() reports
 * X -> CLOSE.  X = FIN_WAIT2 with the peer's FIN received (tcp_fin), or
 * X = CLOSING with our FIN acked, means TIME_WAIT was entered: show it.
 */
static void infer_time_wait(struct ts_conn *c)
{
	struct ts_step *last = &c->steps[c->nsteps - 1];
	uint32_t err = c->has_stats ? c->st.err : 0;
	bool fin_wait2 = last->from == TS_FIN_WAIT2 &&
			 (last->rec_flags & TS_F_FIN_RCVD);

	if (last->to != TS_CLOSE || err || c->resets_received ||
	    c->resets_sent || !(fin_wait2 || last->from == TS_CLOSING))
		return;
	c->steps[c->nsteps] = *last;
	last->to = TS_TIME_WAIT;
	last->flags |= TS_STEP_INFERRED;
	last = &c->steps[c->nsteps++];
	last->from = TS_TIME_WAIT;
	last->flags = TS_STEP_INFERRED;
	last->ns_in_old = 0;
}

static enum ts_close_kind find_close(const struct ts_conn *c, uint8_t from, bool dup)
{
	uint32_t err = c->has_stats ? c->st.err : 0;

	if (!c->ended)
		return TS_CLOSE_OPEN;
	if (dup)
		return TS_CLOSE_DUPLICATE;
	if (c->role == TS_ROLE_LISTENER || from == TS_LISTEN)
		return TS_CLOSE_ACTIVE;
	if (from == TS_SYN_SENT)
		return c->resets_received || err == ECONNREFUSED ?
			       TS_CLOSE_REFUSED : TS_CLOSE_TIMEOUT;
	/* Only crossed FINs lead to CLOSING (seen even if that step was lost). */
	if (has_step(c, -1, TS_CLOSING) || has_step(c, TS_CLOSING, -1))
		return TS_CLOSE_SIMULTANEOUS;
	if (c->resets_received && c->resets_sent)
		return c->rst_recv_ns <= c->rst_sent_ns ?
			       TS_CLOSE_RESET_RECEIVED : TS_CLOSE_RESET_SENT;
	if (c->resets_received)
		return TS_CLOSE_RESET_RECEIVED;
	if (c->resets_sent)
		return TS_CLOSE_RESET_SENT;
	/*
	 * Without reset records (classic tracepoints), sk_err tells:
	 * tcp_reset() sets it before it reports CLOSE, while our own aborts
	 * (tcp_disconnect(), unread data at close()) report CLOSE first and
	 * set it afterwards.
	 */
	if (err == ETIMEDOUT)
		return TS_CLOSE_TIMEOUT;
	if (err == EPIPE || err == ECONNREFUSED || err == ECONNRESET)
		return TS_CLOSE_RESET_RECEIVED;
	if (from == TS_SYN_RECV)
		return TS_CLOSE_TIMEOUT;
	if (from == TS_ESTABLISHED || from == TS_CLOSE_WAIT ||
	    from == TS_FIN_WAIT1)
		return TS_CLOSE_RESET_SENT;
	if (has_step(c, TS_ESTABLISHED, TS_FIN_WAIT1) ||
	    has_step(c, TS_SYN_RECV, TS_FIN_WAIT1))
		return TS_CLOSE_ACTIVE;
	if (has_step(c, -1, TS_CLOSE_WAIT))
		return TS_CLOSE_PASSIVE;
	/* Joined late: the state it closed from says who began. */
	if (from == TS_CLOSE_WAIT || from == TS_LAST_ACK)
		return TS_CLOSE_PASSIVE;
	return TS_CLOSE_ACTIVE;
}

/*
 * The socket's error at close as the label table wants it: sk_err when the
 * closing record carried it, else what the close kind proves (a reset or a
 * refusal seen as its own record).
 */
static uint32_t close_err(const struct ts_conn *c)
{
	if (c->has_stats && c->st.err)
		return c->st.err;
	switch (c->close) {
	case TS_CLOSE_REFUSED:
		return ECONNREFUSED;
	case TS_CLOSE_RESET_RECEIVED:
		return ECONNRESET;
	case TS_CLOSE_TIMEOUT:
		/* sk_err 0 at a timeout close: abandoned, not timed out. */
		return c->has_stats ? 0 : ETIMEDOUT;
	default:
		return 0;
	}
}

/* Labels come from the one table (step_label.c), as trace's do. */
static void set_label(const struct ts_conn *c, struct ts_step *s, bool closing)
{
	enum ts_label l = ts_label_classify(s->from, s->to, s->rec_flags,
					    closing ? close_err(c) : 0);

	if (closing && c->close == TS_CLOSE_DUPLICATE)
		l = TS_L_DUPLICATE_CHILD;

	s->label_id = (uint8_t)l;
	s->label = ts_label_text(l);
}

/* A server's handshake, ended at est_ns (docs/TIMELINE.md). */
static void server_handshake(struct ts_conn *c, uint64_t est_ns)
{
	if (c->first_synack_ns && est_ns >= c->first_synack_ns) {
		c->handshake_ns = (int64_t)(est_ns - c->first_synack_ns);
		c->hs_basis = TS_HS_FIRST_SYNACK;
	} else if (c->has_hs && !c->hs.synack_retrans && c->hs.synack_rtt_us) {
		c->handshake_ns = (int64_t)c->hs.synack_rtt_us * 1000;
		c->hs_basis = TS_HS_SYNACK_RTT;
	} else if (c->has_hs) {
		c->hs_basis = c->hs.synack_retrans ? TS_HS_UNKNOWN_RETRANS :
						     TS_HS_UNKNOWN_NO_SAMPLE;
	} else {
		c->hs_basis = TS_HS_UNKNOWN_NO_DETAIL;
	}
	/*
	 * The connection's start stays its first step, which its steps' times
	 * count from (t_us); handshake_ns says how long before it began.
	 */
}

static void add_peer_step(struct ts_conn *c, uint64_t ts, uint8_t from, uint8_t to,
			  uint64_t since)
{
	struct ts_step *s = &c->steps[c->nsteps++];
	enum ts_label l = ts_label_classify_peer(from, to);

	*s = (struct ts_step){
		.ts_ns = ts,
		.ns_in_old = since && ts > since ? ts - since : 0,
		.from = from,
		.to = to,
		.flags = TS_STEP_PEER,
		.label_id = (uint8_t)l,
		.label = ts_label_text(l),
	};
}

/*
 * TIME_WAIT, told from what is known.  Our own closing record proves it
 * when the peer's FIN came first (infer_time_wait()).  An orphaned socket
 * is handed to a timewait socket still in FIN_WAIT2, which nothing traces:
 * then only the other end can tell, when it is traced here and paired.
 * Its FIN (-> LAST_ACK) reached our timewait socket, which entered
 * TIME_WAIT and acknowledged it; its clean LAST_ACK -> CLOSE is that ACK
 * arriving.  The kernel never reports any of this for a full socket
 * (5.10, 6.1, 6.18 read: tcp_time_wait() only sets the timewait socket's
 * substate), so no step is shown twice.
 */
static void complete_time_wait(struct entry *e)
{
	struct ts_conn *c = &e->c;
	const struct ts_step *last;
	uint64_t tw_ns = 0, fw2_ns = 0;

	c->tw = TS_TW_NONE;
	c->tw_why = TS_TWW_NONE;
	if (!c->ended || !c->nsteps)
		return;
	last = &c->steps[c->nsteps - 1];
	if ((last->flags & TS_STEP_INFERRED) && last->from == TS_TIME_WAIT) {
		c->tw = TS_TW_INFERRED;
		tw_ns = last->ts_ns;
	} else if (last->label_id == TS_L_ORPHANED) {
		c->tw = TS_TW_UNKNOWN;
	} else {
		return;
	}
	if (c->tw == TS_TW_UNKNOWN) {
		if (!c->peer) {
			c->tw_why = e->ambiguous ? TS_TWW_AMBIGUOUS : TS_TWW_NO_PEER;
			return;
		}
		if (!e->pv.end_ns || !e->pv.fin_ns) {
			c->tw_why = e->pv.end_ns ? TS_TWW_PEER_NO_ACK : TS_TWW_PEER_OPEN;
			return;
		}
		if (!e->pv.acked) {
			c->tw_why = TS_TWW_PEER_NO_ACK;
			return;
		}
		for (int i = 0; i < c->nsteps; i++)
			if (c->steps[i].to == TS_FIN_WAIT2)
				fw2_ns = c->steps[i].ts_ns;
		/* Its FIN reached us between its sending and its ACK. */
		tw_ns = e->pv.fin_ns > last->ts_ns ? e->pv.fin_ns : last->ts_ns;
		add_peer_step(c, tw_ns, TS_FIN_WAIT2, TS_TIME_WAIT, fw2_ns);
		c->tw = TS_TW_FROM_PEER;
	}
	if (c->peer && e->pv.acked && e->pv.end_ns >= tw_ns)
		add_peer_step(c, e->pv.end_ns, TS_TIME_WAIT, TS_TIME_WAIT, tw_ns);
	/* The connection lived on in its timewait socket: to its last step. */
	last = &c->steps[c->nsteps - 1];
	if (last->ts_ns > c->start_ns + c->lifetime_ns)
		c->lifetime_ns = last->ts_ns - c->start_ns;
}

/*
 * The socket's retransmission counter as a record carried it: its total
 * with this record's segments in it (segs 0 for the close's counters,
 * UINT32_MAX when the segment was not read: no account then).  Kept
 * order-free (records of other CPUs may come late): the highest total,
 * the segments seen, and the lowest start a record implies.
 */
static void rtx_account(struct rtx_acct *a, uint32_t total, uint32_t segs)
{
	if (segs == UINT32_MAX || segs > total) {
		a->unknown = true;
		return;
	}
	if (!a->have || total > a->max)
		a->max = total;
	if (segs && (!a->have || total - segs < a->base))
		a->base = total - segs;
	a->segs += segs;
	a->have = true;
}

static bool born_as(const struct ts_conn *c, int from, int to)
{
	return c->nsteps && c->steps[0].from == from && c->steps[0].to == to;
}

/*
 * What the counter holds beyond the records (see rtx_account()).  After
 * connect() it started at 0 (tcp_disconnect() clears it on reuse).
 */
static void rtx_settle(struct entry *e)
{
	const struct rtx_acct *a = &e->acct;
	bool connected = born_as(&e->c, TS_CLOSE, TS_SYN_SENT);
	uint32_t base = connected ? 0 : a->base;

	e->c.rtx_untraced = 0;
	if (a->unknown || !a->have || (!connected && !a->segs))
		return;
	if (a->max > base && a->max - base > a->segs)
		e->c.rtx_untraced = a->max - base - a->segs;
}

static void finalize(struct ts_tracker *t, struct entry *e)
{
	struct ts_conn *c = &e->c;
	const struct ts_step *a, *b;
	uint8_t close_from = 0;

	c->role = find_role(c);
	c->joined_late = !born_here(c);
	c->gaps = 0;
	for (int i = 1; i < c->nsteps; i++) {
		struct ts_step *s = &c->steps[i];

		if (s->from != c->steps[i - 1].to) {
			s->flags |= TS_STEP_GAP;
			c->gaps++;
		} else {
			s->ns_in_old = s->ts_ns - c->steps[i - 1].ts_ns;
		}
	}
	if (c->ended) {
		close_from = c->steps[c->nsteps - 1].from;
	}
	c->close = find_close(c, close_from, e->duplicate);
	if (c->ended)
		infer_time_wait(c);
	for (int i = 0; i < c->nsteps; i++)
		set_label(c, &c->steps[i], c->ended && i == c->nsteps - 1);

	c->handshake_ns = -1;
	c->hs_basis = TS_HS_NONE;
	if (c->role == TS_ROLE_CLIENT) {
		a = find_step(c, TS_CLOSE, TS_SYN_SENT);
		b = find_step(c, TS_SYN_SENT, TS_ESTABLISHED);
		if (a && b && b->ts_ns >= a->ts_ns) {
			c->handshake_ns = (int64_t)(b->ts_ns - a->ts_ns);
			c->hs_basis = TS_HS_SYN;
		}
	} else if (c->role == TS_ROLE_SERVER) {
		/*
		 * The server's socket is born at the final ACK: LISTEN ->
		 * SYN_RECV to ESTABLISHED is microseconds of the kernel's
		 * work, not the handshake.  It counts from the first SYN-ACK
		 * (the SYN came microseconds before it): exactly when a
		 * SYN-ACK retransmission told when the first one left, else the
		 * kernel's round trip of the one SYN-ACK.  Otherwise unknown.
		 */
		b = find_step(c, TS_SYN_RECV, TS_ESTABLISHED);
		if (b)
			server_handshake(c, b->ts_ns);
	}
	if (c->nsteps)
		c->start_ns = c->steps[0].ts_ns < c->start_ns ?
				      c->steps[0].ts_ns : c->start_ns;
	if (c->ended)
		c->end_ns = c->steps[c->nsteps - 1].ts_ns;
	else
		c->end_ns = c->evicted ? e->last_ns : t->now_ns;
	c->lifetime_ns = c->end_ns > c->start_ns ? c->end_ns - c->start_ns : 0;
	c->rtx_total = 0;
	for (int k = 0; k < TS_RTX_KINDS; k++)
		c->rtx_total += c->rtx[k];
	rtx_settle(e);
	complete_time_wait(e);
}

static struct entry *duplicate_of(const struct ts_tracker *t, const struct entry *e);
static void give_peer_back(struct ts_tracker *t, struct entry *e, struct entry *sib);

static int emit(struct ts_tracker *t, struct entry *e)
{
	struct entry *sib = duplicate_of(t, e);
	int err;

	if (sib) {
		e->duplicate = true;
		t->st.duplicates++;
		give_peer_back(t, e, sib);
	}
	finalize(t, e);
	t->st.conns++;
	if (e->c.evicted)
		t->st.evicted++;
	err = t->fn ? t->fn(t->ctx, &e->c) : 0;
	drop(t, e);
	return err;
}

/* ---- building a connection ---- */

static struct entry *create(struct ts_tracker *t, const struct ts_rec *r,
			    int *err)
{
	struct entry *e;
	int e2;

	*err = 0;
	if (t->st.live >= t->max_conns && t->lru.head) {
		e = t->lru.head;
		/* A closed one is complete: emitting it early loses nothing. */
		if (!e->c.ended)
			e->c.evicted = true;
		*err = emit(t, e);
	}
	e = entry_new(t);
	if (!e) {
		*err = -ENOMEM;
		return NULL;
	}
	e2 = ts_id_index__add(&t->ids, r->conn, e);
	if (e2) {
		free(e);
		*err = e2;
		return NULL;
	}
	e->id = r->conn;
	e->c.id = r->conn;
	e->c.start_ns = r->ts_ns;
	e->c.end_ns = r->ts_ns;
	e->last_ns = r->ts_ns;
	list_append(&t->lru, e, true);
	if (++t->st.live > t->st.peak)
		t->st.peak = t->st.live;
	grow(t);
	return e;
}

static void take_identity(struct ts_conn *c, const struct ts_rec *r)
{
	/*
	 * The client's first record has no local port yet, and a server's
	 * first (LISTEN -> SYN_RECV, fired while the child is still a copy of
	 * its listener) no remote end: complete the tuple from a later one.
	 */
	if (!c->family ||
	    ((!c->sport || !c->dport) && r->sport && r->dport)) {
		c->family = r->family;
		c->netns = r->netns;
		c->sport = r->sport;
		c->dport = r->dport;
		memcpy(c->saddr, r->saddr, TS_ADDR_LEN);
		memcpy(c->daddr, r->daddr, TS_ADDR_LEN);
	}
	/* Both names are NUL-terminated arrays of one size: comparing them
	 * whole (no call) differs from strcmp() only past the NUL, where
	 * copying the same name again changes nothing. */
	if (r->pid && (c->pid != r->pid || !c->pid || memcmp(c->comm, r->comm, sizeof(c->comm)))) {
		c->pid = r->pid;
		memcpy(c->comm, r->comm, sizeof(c->comm));
	}
	if (r->flags & TS_F_OWNER_LISTENER)
		c->owner_from_listener = true;
	if ((r->flags & TS_F_OWNER_LISTENER) && !(r->flags & TS_F_ACCEPTED) &&
	    r->pid && !c->listener_pid) {
		c->listener_pid = r->pid;
		memcpy(c->listener_comm, r->comm, sizeof(c->listener_comm));
	}
	if (r->cgroup_id) {
		c->cgroup_id = r->cgroup_id;
		c->cgroup = r->cgroup;
	}
}

/* Insert in time order: records from different CPUs can arrive swapped. */
static void add_step(struct ts_conn *c, const struct ts_rec *r)
{
	int i;

	if (c->nsteps >= TS_CONN_MAX_STEPS) {
		c->steps_dropped++;
		return;
	}
	for (i = c->nsteps; i > 0 && c->steps[i - 1].ts_ns > r->ts_ns; i--)
		c->steps[i] = c->steps[i - 1];
	c->steps[i] = (struct ts_step){
		.ts_ns = r->ts_ns,
		.ns_in_old = r->ns_in_old,
		.from = r->old_state,
		.to = r->new_state,
		.rec_flags = r->flags,
	};
	c->nsteps++;
}

/* A retransmission with its detail, in time order, within the bounds. */
static void add_rtx_step(struct ts_tracker *t, struct ts_conn *c, const struct ts_rec *r)
{
	int i;

	if (c->nrtx >= TS_CONN_MAX_RTX || t->rtx_held >= TS_TRACKER_MAX_RTX) {
		c->rtx_not_kept++;
		return;
	}
	if (!c->rtxs) {
		c->rtxs = malloc(TS_CONN_MAX_RTX * sizeof(*c->rtxs));
		if (!c->rtxs) {
			c->rtx_not_kept++;
			return;
		}
	}
	for (i = c->nrtx; i > 0 && c->rtxs[i - 1].ts_ns > r->ts_ns; i--)
		c->rtxs[i] = c->rtxs[i - 1];
	c->rtxs[i].ts_ns = r->ts_ns;
	c->rtxs[i].state = r->new_state;
	c->rtxs[i].info = r->rtx;
	c->nrtx++;
	t->rtx_held++;
}

/* Keep the time of a retransmit or reset, in time order, while room lasts. */
static void add_mark(struct ts_conn *c, uint64_t ts, uint8_t type,
		     uint8_t state, uint32_t count)
{
	int i;

	if (c->nmarks >= TS_CONN_MAX_MARKS) {
		if (c->marks_dropped < UINT16_MAX)
			c->marks_dropped++;
		/* A reset ends the story: it takes the place of the newest
		 * retransmit rather than go unseen. */
		if (type != TS_REC_RESET_SENT && type != TS_REC_RESET_RECV)
			return;
		for (i = c->nmarks - 1; i >= 0; i--)
			if (c->marks[i].type == TS_REC_RETRANS ||
			    c->marks[i].type == TS_REC_SYNACK_RETRANS)
				break;
		if (i < 0)
			return;
		memmove(&c->marks[i], &c->marks[i + 1],
			(size_t)(c->nmarks - 1 - i) * sizeof(c->marks[0]));
		c->nmarks--;
	}
	for (i = c->nmarks; i > 0 && c->marks[i - 1].ts_ns > ts; i--)
		c->marks[i] = c->marks[i - 1];
	c->marks[i] = (struct ts_mark){
		.ts_ns = ts,
		.type = type,
		.state = state,
		.count = count > UINT16_MAX ? UINT16_MAX : (uint16_t)count,
	};
	c->nmarks++;
}

static bool same_tuple(const struct pending_synack *p, const struct ts_rec *r)
{
	return p->used && p->netns == r->netns && p->family == r->family &&
	       p->sport == r->sport && p->dport == r->dport &&
	       !memcmp(p->saddr, r->saddr, TS_ADDR_LEN) &&
	       !memcmp(p->daddr, r->daddr, TS_ADDR_LEN);
}

static uint32_t tuple_hash(const struct ts_rec *r)
{
	return conn_tuple_hash(r->netns, r->sport, r->dport, r->saddr, r->daddr);
}

/* The new server connection takes the SYN-ACK retransmits of its request. */
static void join_synack(struct ts_tracker *t, struct ts_conn *c)
{
	struct ts_rec key = {
		.netns = c->netns, .family = c->family,
		.sport = c->sport, .dport = c->dport,
	};
	uint32_t h;

	memcpy(key.saddr, c->saddr, TS_ADDR_LEN);
	memcpy(key.daddr, c->daddr, TS_ADDR_LEN);
	h = tuple_hash(&key);
	for (int i = 0; i < SYNACK_PROBE; i++) {
		struct pending_synack *p = &t->synack[(h + i) & (SYNACK_SLOTS - 1)];

		if (same_tuple(p, &key)) {
			c->rtx[TS_RTX_SYNACK] += p->count;
			c->first_synack_ns = p->first_synack_ns;
			add_mark(c, p->ts_ns, TS_REC_SYNACK_RETRANS, TS_SYN_RECV,
				 p->count);
			p->used = false;
			t->nsynack--;
			return;
		}
	}
}

static bool conn_matches(const struct ts_conn *c, const struct ts_rec *r)
{
	return c->netns == r->netns && c->family == r->family &&
	       c->sport == r->sport && c->dport == r->dport &&
	       !memcmp(c->saddr, r->saddr, TS_ADDR_LEN) &&
	       !memcmp(c->daddr, r->daddr, TS_ADDR_LEN);
}

static void on_synack(struct ts_tracker *t, const struct ts_rec *r)
{
	struct pending_synack *p, *victim = NULL;
	uint32_t h = tuple_hash(r);

	/* Its connection may already be here if the record came late. */
	for (int i = 0; i < RECENT_SERVERS; i++) {
		struct entry *e = t->recent[i] ? find(t, t->recent[i]) : NULL;

		if (e && e->c.start_ns >= r->ts_ns && conn_matches(&e->c, r)) {
			e->c.rtx[TS_RTX_SYNACK]++;
			if (r->has_synack && r->synack.first_synack_ns &&
			    (!e->c.first_synack_ns ||
			     r->synack.first_synack_ns < e->c.first_synack_ns))
				e->c.first_synack_ns = r->synack.first_synack_ns;
			add_mark(&e->c, r->ts_ns, TS_REC_SYNACK_RETRANS,
				 TS_SYN_RECV, 1);
			return;
		}
	}
	for (int i = 0; i < SYNACK_PROBE; i++) {
		p = &t->synack[(h + i) & (SYNACK_SLOTS - 1)];
		if (same_tuple(p, r)) {
			p->count++;
			if (r->has_synack && r->synack.first_synack_ns &&
			    (!p->first_synack_ns || r->synack.first_synack_ns < p->first_synack_ns))
				p->first_synack_ns = r->synack.first_synack_ns;
			return;
		}
		if (!p->used) {
			if (!victim || victim->used)
				victim = p;
		} else if (!victim || (victim->used && p->ts_ns < victim->ts_ns)) {
			victim = p;
		}
	}
	/* Table full here: the oldest request gives way, counted. */
	if (victim->used)
		t->st.synack_unjoined += victim->count;
	else
		t->nsynack++;
	*victim = (struct pending_synack){
		.used = true,
		.family = r->family,
		.sport = r->sport,
		.dport = r->dport,
		.netns = r->netns,
		.count = 1,
		.ts_ns = r->ts_ns,
		.first_synack_ns = r->has_synack ? r->synack.first_synack_ns : 0,
	};
	memcpy(victim->saddr, r->saddr, TS_ADDR_LEN);
	memcpy(victim->daddr, r->daddr, TS_ADDR_LEN);
}

/* ---- pairing the two ends ---- */

/*
 * Could a and b be the two ends of one connection?  Their addresses are
 * reversed (the index found them); they must also have lived at the same
 * time, and when one connect()ed and the other was a listener's child
 * both seen from birth, the SYN came before the child (the child is made
 * at the final ACK).  CLOCK_MONOTONIC is one clock for every namespace.
 */
static bool together(const struct entry *a, const struct entry *b)
{
	uint64_t a_end = a->c.ended ? a->c.end_ns : UINT64_MAX;
	uint64_t b_end = b->c.ended ? b->c.end_ns : UINT64_MAX;
	const struct ts_conn *x = &a->c, *y = &b->c;

	if (a->c.start_ns > b_end || b->c.start_ns > a_end)
		return false;
	if (born_as(y, TS_CLOSE, TS_SYN_SENT)) {
		x = &b->c;
		y = &a->c;
	}
	if (born_as(x, TS_CLOSE, TS_SYN_SENT) && born_as(y, TS_LISTEN, TS_SYN_RECV))
		return x->steps[0].ts_ns <= y->steps[0].ts_ns;
	return true;
}

/* Refresh the other end's view of b from b's steps so far. */
static void peer_refresh(struct entry *b)
{
	const struct ts_conn *c = &b->c;
	struct peer_view *pv;

	if (!b->peer_e)
		return;
	pv = &b->peer_e->pv;
	memset(pv, 0, sizeof(*pv));
	for (int i = 0; i < c->nsteps; i++) {
		const struct ts_step *s = &c->steps[i];

		if (!pv->fin_ns && (s->to == TS_LAST_ACK || s->to == TS_FIN_WAIT1 ||
				    s->to == TS_CLOSING))
			pv->fin_ns = s->ts_ns;
		if (s->to == TS_CLOSE) {
			pv->end_ns = s->ts_ns;
			pv->end_from = s->from;
		}
	}
	pv->acked = pv->end_ns && pv->end_from == TS_LAST_ACK &&
		    !(c->has_stats && c->st.err) && !c->resets_received && !c->resets_sent;
}

/*
 * Index a connection once its tuple is complete, and pair it with the one
 * connection whose addresses are its own reversed, if exactly one such
 * lived at the same time.  A candidate already paired still counts: two
 * matches mean NAT or reused ports, and then neither is claimed.
 */
static void pair_search(struct ts_tracker *t, struct entry *e)
{
	struct ts_conn *c = &e->c;
	struct entry *cand = NULL;
	int found = 0;

	for (struct ts_peer_node *n = ts_peer_index__chain_of(&t->pix, &e->pn); n;
	     n = n->next) {
		struct entry *o = entry_of_node(n);

		if (o == e || !ts_peer_key__reversed(&e->pn.key, &n->key) || !together(e, o))
			continue;
		found++;
		cand = o;
	}
	if (found > 1 || (found == 1 && (cand->peer_e || cand->c.peer))) {
		e->ambiguous = true;
		t->st.pair_ambiguous++;
		return;
	}
	if (!found)
		return;
	e->peer_e = cand;
	cand->peer_e = e;
	c->peer = cand->c.id;
	cand->c.peer = c->id;
	t->st.paired += 2;
	peer_refresh(e);
	peer_refresh(cand);
}

static void index_and_pair(struct ts_tracker *t, struct entry *e)
{
	struct ts_conn *c = &e->c;

	if (e->pn.linked || !c->family || !c->sport || !c->dport)
		return;
	ts_peer_key__set(&e->pn.key, c->family, c->saddr, c->sport, c->daddr, c->dport);
	ts_peer_index__add(&t->pix, &e->pn);
	pair_search(t, e);
}

static bool same_addrs(const struct ts_conn *a, const struct ts_conn *b)
{
	return a->netns == b->netns && a->family == b->family && a->sport == b->sport &&
	       a->dport == b->dport && !memcmp(a->saddr, b->saddr, TS_ADDR_LEN) &&
	       !memcmp(a->daddr, b->daddr, TS_ADDR_LEN);
}

/*
 * Two CPUs can take the final ACK of one request at once (or the ACK and
 * the segment after it): each makes a child, LISTEN -> SYN_RECV, and the
 * one that finds the request already gone closes its own at once
 * (inet_ehash_nolisten(): SYN_RECV -> CLOSE).  That child is no
 * connection: its sibling, same namespace and addresses, born before it
 * closed, is.  Known when it is emitted (linger_ns after its close), by
 * when the sibling has its addresses and its next step.
 */
static struct entry *duplicate_of(const struct ts_tracker *t, const struct entry *e)
{
	const struct ts_conn *c = &e->c;
	int walked = 0;

	if (c->nsteps != 2 || !born_as(c, TS_LISTEN, TS_SYN_RECV) ||
	    c->steps[1].from != TS_SYN_RECV || c->steps[1].to != TS_CLOSE || !e->tindexed ||
	    c->resets_sent || c->resets_received)
		return NULL;
	for (struct entry *o = t->tbuckets[e->thash & t->mask]; o && walked < 64;
	     o = o->tnext, walked++) {
		const struct ts_conn *s = &o->c;

		if (o == e || !same_addrs(c, s) ||
		    !born_as(s, TS_LISTEN, TS_SYN_RECV) || s->steps[0].ts_ns > c->steps[1].ts_ns)
			continue;
		/* The sibling went on: it is the one the kernel kept. */
		if (s->nsteps > 2 || (s->nsteps == 2 && s->steps[1].to != TS_CLOSE))
			return o;
	}
	return NULL;
}

/* One that counted as ambiguous no longer is. */
static void unambiguous(struct ts_tracker *t, struct entry *e)
{
	if (e->ambiguous) {
		e->ambiguous = false;
		t->st.pair_ambiguous--;
	}
}

/* The discarded child gives its peer back to the sibling that lives on. */
static void give_peer_back(struct ts_tracker *t, struct entry *e, struct entry *sib)
{
	struct entry *p = e->peer_e;

	if (p) {
		p->peer_e = NULL;
		p->c.peer = 0;
		p->pv = (struct peer_view){ 0 };
		e->peer_e = NULL;
		e->c.peer = 0;
		t->st.paired -= 2;
	}
	unambiguous(t, e);
	ts_peer_index__del(&t->pix, &e->pn);
	if (sib->peer_e || !sib->pn.linked)
		return;
	unambiguous(t, sib);
	pair_search(t, sib);
	/* The peer found two children when it came: now it has one. */
	if (sib->peer_e)
		unambiguous(t, sib->peer_e);
}

/*
 * A closed connection whose TIME_WAIT its peer can still tell: it closed
 * from FIN_WAIT2 or CLOSING cleanly, and its peer has not closed yet.
 */
static bool wants_peer(const struct entry *e)
{
	const struct ts_conn *c = &e->c;
	const struct ts_step *last = c->nsteps ? &c->steps[c->nsteps - 1] : NULL;

	return e->peer_e && !e->pv.end_ns && last && last->to == TS_CLOSE &&
	       (last->from == TS_FIN_WAIT2 || last->from == TS_CLOSING) &&
	       !(c->has_stats && c->st.err) && !c->resets_received && !c->resets_sent;
}

/* b's close may be what its waiting peer needs: back in line behind b. */
static void wake_peer(struct ts_tracker *t, struct entry *b)
{
	struct entry *a = b->peer_e;

	if (!a || !a->on_wait)
		return;
	list_unlink(&t->waiting, a, false);
	a->on_wait = false;
	list_append(&t->closed, a, false);
	a->on_closed = true;
}

static void update_closed(struct ts_tracker *t, struct entry *e)
{
	struct ts_conn *c = &e->c;

	c->state = c->steps[c->nsteps - 1].to;
	c->ended = c->state == TS_CLOSE;
	/* A late record of a connection waiting for its peer: it keeps waiting
	 * (one list at a time: both use the cl_ links). */
	if (c->ended && e->on_wait) {
		c->end_ns = c->steps[c->nsteps - 1].ts_ns;
		return;
	}
	if (e->on_wait) {
		list_unlink(&t->waiting, e, false);
		e->on_wait = false;
	}
	if (c->ended) {
		c->end_ns = c->steps[c->nsteps - 1].ts_ns;
		if (!e->on_closed) {
			list_append(&t->closed, e, false);
			e->on_closed = true;
		}
	} else if (e->on_closed) {
		list_unlink(&t->closed, e, false);
		e->on_closed = false;
	}
}

static int on_state(struct ts_tracker *t, const struct ts_rec *r)
{
	struct entry *e = find(t, r->conn);
	int err = 0, e2;

	/*
	 * close() or shutdown() in a state it does not change (FIN_WAIT2,
	 * CLOSING, LAST_ACK...) is reported as X -> X: not a step.
	 */
	if (r->old_state == r->new_state) {
		if (e) {
			take_identity(&e->c, r);
			touch(t, e, r->ts_ns);
		}
		return 0;
	}

	/*
	 * A socket that leaves CLOSE again (connect() after a failed one)
	 * keeps its cookie: it starts a new connection.
	 */
	if (e && r->old_state == TS_CLOSE && e->c.nsteps &&
	    r->ts_ns >= e->c.steps[e->c.nsteps - 1].ts_ns) {
		err = emit(t, e);
		e = NULL;
	}
	if (!e) {
		e = create(t, r, &e2);
		if (e2 && !err)
			err = e2;
		if (!e)
			return err;
	}
	take_identity(&e->c, r);
	add_step(&e->c, r);
	if (r->has_stats) {
		e->c.has_stats = true;
		e->c.st = r->st;
		rtx_account(&e->acct, r->st.total_retrans, 0);
	}
	if (r->has_hs) {
		e->c.has_hs = true;
		e->c.hs = r->hs;
	}
	index_and_pair(t, e);
	if (r->old_state == TS_LISTEN && r->new_state == TS_SYN_RECV)
		e->want_synack = true;
	/* Join once the server connection's tuple is complete. */
	if (e->want_synack && e->c.sport && e->c.dport) {
		e->want_synack = false;
		/* Most have none waiting: no key to build, no slots to read. */
		if (t->nsynack)
			join_synack(t, &e->c);
		t->recent[t->recent_pos++ % RECENT_SERVERS] = r->conn;
	}
	update_closed(t, e);
	/* What the other end's view is made of (peer_refresh()): a FIN, the
	 * CLOSE and the counters; another step leaves it as it is. */
	if (r->has_stats || r->new_state == TS_CLOSE || r->new_state == TS_LAST_ACK ||
	    r->new_state == TS_FIN_WAIT1 || r->new_state == TS_CLOSING)
		peer_refresh(e);
	if (e->c.ended)
		wake_peer(t, e);
	tuple_index(t, e);
	touch(t, e, r->ts_ns);
	return err;
}

/* Records that are not state changes: retransmits and resets. */
static int on_event(struct ts_tracker *t, const struct ts_rec *r)
{
	struct entry *e;
	int err = 0;

	e = r->conn ? find(t, r->conn) : NULL;
	if (!e) {
		/*
		 * No id (a reset to a segment that found no socket), or a
		 * socket whose connection already ended (its timewait
		 * socket keeps the cookie): nothing to attach it to.
		 */
		if (!r->conn || r->new_state == TS_CLOSE ||
		    r->new_state == TS_TIME_WAIT) {
			t->st.unattributed++;
			return 0;
		}
		e = create(t, r, &err);
		if (!e)
			return err;
		e->c.state = r->new_state;
		take_identity(&e->c, r);
	}
	add_mark(&e->c, r->ts_ns, (uint8_t)r->type, r->new_state, 1);
	switch (r->type) {
	case TS_REC_RETRANS:
		e->c.rtx[ts_rtx__kind(r)]++;
		if (r->has_rtx)
			add_rtx_step(t, &e->c, r);
		/* A SYN-ACK record is the request's, not this socket's count;
		 * one without detail (an old capture) leaves no account. */
		if (!r->has_rtx)
			e->acct.unknown = true;
		else if (ts_rtx__kind(r) != TS_RTX_SYNACK)
			rtx_account(&e->acct, r->rtx.total_retrans,
				    r->rtx.flags & TS_RTX_F_SKB ? r->rtx.segs : UINT32_MAX);
		break;
	case TS_REC_RESET_SENT:
		if (!e->c.resets_sent++) {
			e->c.rst_sent_ns = r->ts_ns;
			e->c.rst_sent_why = ts_rst_why_of(r);
		}
		break;
	case TS_REC_RESET_RECV:
		if (!e->c.resets_received++) {
			e->c.rst_recv_ns = r->ts_ns;
			e->c.rst_recv_why = ts_rst_why_of(r);
		}
		break;
	default:
		break;
	}
	index_and_pair(t, e);
	peer_refresh(e);
	tuple_index(t, e);
	touch(t, e, r->ts_ns);
	return err;
}

/*
 * The connection a socketless drop belongs to: same namespace and tuple;
 * among several (a port reused), one still open, else the newest.
 */
static struct entry *find_by_tuple(const struct ts_tracker *t, const struct ts_rec *r)
{
	struct entry *e, *best = NULL;
	int walked = 0;

	e = t->tbuckets[tuple_hash(r) & t->mask];
	/* Bounded: a capture could hold thousands of one tuple's lives. */
	for (; e && walked < 64; e = e->tnext, walked++) {
		if (!conn_matches(&e->c, r))
			continue;
		if (!best || (best->c.ended && !e->c.ended) ||
		    (best->c.ended == e->c.ended && e->c.start_ns > best->c.start_ns))
			best = e;
	}
	return best;
}

/*
 * A dropped segment joins its connection, by the socket the kernel named
 * (cookie) or by addresses; it never creates one, so that a storm of
 * drops (a SYN flood, a port scan) cannot fill the tracker.
 */
static void on_drop(struct ts_tracker *t, const struct ts_rec *r)
{
	struct entry *e = r->conn ? find(t, r->conn) : NULL;
	bool by_tuple = false;
	struct ts_conn *c;
	int i;

	if (e && !conn_matches(&e->c, r) && e->c.sport && e->c.dport)
		e = NULL; /* the cookie of a listener, say: not this flow */
	if (!e) {
		e = find_by_tuple(t, r);
		by_tuple = true;
	}
	if (!e) {
		t->st.drops_unattributed++;
		return;
	}
	c = &e->c;
	c->drops_total++;
	if (c->ndrops < TS_CONN_MAX_DROPS) {
		for (i = c->ndrops; i > 0 && c->drops[i - 1].ts_ns > r->ts_ns; i--)
			c->drops[i] = c->drops[i - 1];
		c->drops[i] = (struct ts_conn_drop){
			.ts_ns = r->ts_ns,
			.reason = r->drop.reason,
			.seq = r->drop.seq,
			.len = r->drop.len,
			.dir = r->drop.dir,
			.tcp_flags = r->drop.tcp_flags,
			.state = r->new_state,
			.has_base = r->drop.has_base,
			.seq_base = r->drop.seq_base,
			.by_tuple = by_tuple,
			.reason_name = r->reason_name,
			.where = r->where,
			.where_off = r->where_off,
		};
		c->ndrops++;
	}
	touch(t, e, r->ts_ns);
}

/*
 * What the emit reads of an entry: its links and flags, the connection's
 * fields and its first steps.  Entries expire in the order they closed, a
 * tenth of a second after their last record, long out of the cache: the
 * next one is fetched while this one is finished and printed.
 */
#define ENTRY_EMIT_BYTES (ENTRY_ZERO + 6 * sizeof(struct ts_step))

static void prefetch_entry(const struct entry *e)
{
	for (size_t off = 0; off < ENTRY_EMIT_BYTES; off += 64)
		__builtin_prefetch((const char *)e + off);
}

static int expire(struct ts_tracker *t)
{
	int err = 0;

	while (t->closed.head &&
	       t->closed.head->c.end_ns + t->linger_ns <= t->now_ns) {
		struct entry *x = t->closed.head;
		int e;

		if (wants_peer(x) && x->c.end_ns + t->peer_wait_ns > t->now_ns) {
			list_unlink(&t->closed, x, false);
			x->on_closed = false;
			x->wait_until = x->c.end_ns + t->peer_wait_ns;
			list_append(&t->waiting, x, false);
			x->on_wait = true;
			continue;
		}
		if (x->cl_next)
			prefetch_entry(x->cl_next);
		e = emit(t, x);
		if (e && !err)
			err = e;
	}
	while (t->waiting.head && t->waiting.head->wait_until <= t->now_ns) {
		int e;

		if (t->waiting.head->cl_next)
			prefetch_entry(t->waiting.head->cl_next);
		e = emit(t, t->waiting.head);

		if (e && !err)
			err = e;
	}
	return err;
}

int ts_tracker__push(struct ts_tracker *t, const struct ts_rec *r)
{
	int err = 0, e;

	if (r->ts_ns > t->now_ns)
		t->now_ns = r->ts_ns;
	switch (r->type) {
	case TS_REC_STATE:
		err = on_state(t, r);
		break;
	case TS_REC_RETRANS:
	case TS_REC_RESET_SENT:
	case TS_REC_RESET_RECV:
		err = on_event(t, r);
		break;
	case TS_REC_SYNACK_RETRANS:
		on_synack(t, r);
		break;
	case TS_REC_DROP:
		on_drop(t, r);
		break;
	case TS_REC_DROP_SUPPRESSED:
		break;
	case TS_REC_LOST:
		/* Whatever was open may miss records from now on. */
		for (struct entry *x = t->lru.head; x; x = x->lru_next)
			x->c.lost_events = true;
		break;
	}
	e = expire(t);
	return err ? err : e;
}

int ts_tracker__advance(struct ts_tracker *t, uint64_t now_ns)
{
	if (now_ns > t->now_ns)
		t->now_ns = now_ns;
	return expire(t);
}

int ts_tracker__finish(struct ts_tracker *t)
{
	int err = 0, e;

	while (t->closed.head) {
		e = emit(t, t->closed.head);
		if (e && !err)
			err = e;
	}
	while (t->waiting.head) {
		e = emit(t, t->waiting.head);
		if (e && !err)
			err = e;
	}
	while (t->lru.head) {
		e = emit(t, t->lru.head);
		if (e && !err)
			err = e;
	}
	for (int i = 0; i < SYNACK_SLOTS; i++)
		if (t->synack[i].used) {
			t->st.synack_unjoined += t->synack[i].count;
			t->synack[i].used = false;
		}
	t->nsynack = 0;
	return err;
}

int ts_tracker__new(const struct ts_tracker_opts *o, ts_conn_fn fn, void *ctx,
		   struct ts_tracker **out)
{
	struct ts_tracker *t;
	uint32_t max = o && o->max_conns ? o->max_conns : TS_TRACKER_DEFAULT_CONNS;
	uint32_t nb = 16, max_nb = 16;

	*out = NULL;
	if (max > TS_TRACKER_MAX_CONNS)
		return -EINVAL;
	while (max_nb < max / 2)
		max_nb <<= 1;
	nb = max_nb < INITIAL_BUCKETS ? max_nb : INITIAL_BUCKETS;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->tbuckets = calloc(nb, sizeof(*t->tbuckets));
	if (ts_id_index__init(&t->ids, max) || !t->tbuckets ||
	    ts_peer_index__init(&t->pix, nb)) {
		ts_id_index__free(&t->ids);
		free(t->tbuckets);
		free(t);
		return -ENOMEM;
	}
	t->mask = nb - 1;
	t->max_buckets = max_nb;
	t->max_conns = max;
	t->linger_ns = o && o->linger_ns ? o->linger_ns :
					   TS_TRACKER_DEFAULT_LINGER_NS;
	t->peer_wait_ns = o && o->peer_wait_ns ? o->peer_wait_ns :
						  TS_TRACKER_DEFAULT_PEER_WAIT_NS;
	t->fn = fn;
	t->ctx = ctx;
	*out = t;
	return 0;
}

void ts_tracker__get_stats(const struct ts_tracker *t,
			  struct ts_tracker_stats *out)
{
	*out = t->st;
}

void ts_tracker__free(struct ts_tracker *t)
{
	if (!t)
		return;
	while (t->lru.head) {
		struct entry *e = t->lru.head;

		t->lru.head = e->lru_next;
		free(e->c.rtxs);
		free(e);
	}
	while (t->free_list) {
		struct entry *e = t->free_list;

		t->free_list = e->hnext;
		free(e);
	}
	ts_peer_index__free(&t->pix);
	ts_id_index__free(&t->ids);
	free(t->tbuckets);
	free(t);
}
