// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/stream/pipeline.h"
#include "core/util/log.h"

void ts_pipeline__init(struct ts_pipeline *p, const struct ts_filter *f,
		      const struct ts_meta *m)
{
	memset(p, 0, sizeof(*p));
	if (f)
		p->filter = *f;
	if (m)
		p->meta = *m;
}

int ts_pipeline__add_sink(struct ts_pipeline *p, struct ts_sink sink)
{
	if (p->nsinks >= TS_MAX_SINKS) {
		if (sink.ops->destroy)
			sink.ops->destroy(sink.priv);
		return -E2BIG;
	}
	p->sinks[p->nsinks++] = sink;
	return 0;
}

/*
 * -p follows the process that holds a connection.  Before accept() a
 * passive connection's records carry its listener's owner (the kernel lets
 * them through when the -p process holds that listener too); they are
 * kept here until the connection's owner is known: shown before its first
 * record that passes -p, dropped when another process accepts it or when
 * it closes unaccepted.  Bounded: HOLD_SLOTS connections, each looked for
 * in the HOLD_WAYS slots from its hash on; when those are all taken, the
 * connection held longest there is forgotten (HOLD_WAYS connections
 * waiting for accept() at once with one hash window: a thousand or more
 * pending connections).  A direct-mapped table forgot a connection
 * whenever another pending one hashed to its slot, which a few
 * concurrent connections did now and then.  What is forgotten is
 * counted (ts_totals.held_forgotten) and said at the end.
 */
#define HOLD_SLOTS 1024
#define HOLD_WAYS 8
#define HOLD_RECS 4

struct ts_hold_slot {
	uint64_t conn; /* 0: free */
	uint64_t seq;
	unsigned int n;
	struct ts_rec recs[HOLD_RECS];
};

static unsigned int hold_home(uint64_t conn)
{
	return (unsigned int)((conn * 0x9e3779b97f4a7c15ULL) >> 54) & (HOLD_SLOTS - 1);
}

/* The slot holding conn, or NULL. */
static struct ts_hold_slot *hold_find(struct ts_pipeline *p, uint64_t conn)
{
	unsigned int home = hold_home(conn);

	for (unsigned int i = 0; i < HOLD_WAYS; i++) {
		struct ts_hold_slot *h = &p->hold[(home + i) & (HOLD_SLOTS - 1)];

		if (h->conn == conn)
			return h;
	}
	return NULL;
}

/* A slot for conn: a free one of its window, else the oldest there. */
static struct ts_hold_slot *hold_take(struct ts_pipeline *p, uint64_t conn)
{
	unsigned int home = hold_home(conn);
	struct ts_hold_slot *old = NULL;

	for (unsigned int i = 0; i < HOLD_WAYS; i++) {
		struct ts_hold_slot *h = &p->hold[(home + i) & (HOLD_SLOTS - 1)];

		if (!h->conn) {
			old = h;
			break;
		}
		if (!old || h->seq < old->seq)
			old = h;
	}
	if (old->conn)
		p->totals.held_forgotten += old->n;
	old->conn = conn;
	old->seq = ++p->hold_seq;
	old->n = 0;
	return old;
}

static bool before_accept(const struct ts_rec *r)
{
	return r->type != TS_REC_LOST && r->conn &&
	       (r->flags & TS_F_OWNER_LISTENER) && !(r->flags & TS_F_ACCEPTED);
}

/* A record -p filtered out: keep it if its owner is not known yet. */
static void hold_or_forget(struct ts_pipeline *p, const struct ts_rec *r)
{
	struct ts_filter any = p->filter;
	struct ts_hold_slot *h;

	if (!p->hold || r->type == TS_REC_LOST || !r->conn)
		return;
	h = hold_find(p, r->conn);
	any.pid = 0;
	if (!before_accept(r) || !ts_filter_match(&any, r)) {
		if (h)
			h->conn = 0; /* someone else's */
		return;
	}
	if (!h)
		h = hold_take(p, r->conn);
	if (h->n < HOLD_RECS)
		h->recs[h->n++] = *r;
	else
		p->totals.held_forgotten++;
	if (r->type == TS_REC_STATE && r->new_state == TS_CLOSE)
		h->conn = 0; /* closed before anyone accepted it */
}

static int deliver(struct ts_pipeline *p, const struct ts_rec *r);

static int release(struct ts_pipeline *p, uint64_t conn)
{
	struct ts_hold_slot *h = hold_find(p, conn);
	int err = 0;

	if (!h)
		return 0;
	h->conn = 0;
	for (unsigned int i = 0; i < h->n; i++) {
		int e = deliver(p, &h->recs[i]);

		if (e && !err)
			err = e;
	}
	return err;
}

void ts_pipeline__warn_forgotten(const struct ts_pipeline *p)
{
	if (p->totals.held_forgotten)
		ts_warn("-p: %llu records of connections waiting for accept() "
			"forgotten (held: %d records of %d connections at most, "
			"%d a hash window); their timelines may start late",
			(unsigned long long)p->totals.held_forgotten, HOLD_RECS,
			HOLD_SLOTS, HOLD_WAYS);
}

int ts_pipeline__push(struct ts_pipeline *p, const struct ts_rec *r)
{
	int err = 0, e;

	if (p->filter.pid && !p->hold) {
		p->hold = calloc(HOLD_SLOTS, sizeof(*p->hold));
		if (!p->hold)
			return -ENOMEM;
	}
	if (!ts_filter_match(&p->filter, r)) {
		hold_or_forget(p, r);
		return 0;
	}
	if (p->hold && r->type != TS_REC_LOST && r->conn)
		err = release(p, r->conn);
	e = deliver(p, r);
	return err ? err : e;
}

static int deliver(struct ts_pipeline *p, const struct ts_rec *r)
{
	int err = 0;

	if (r->type == TS_REC_LOST)
		p->totals.lost += r->lost;
	else if (r->type == TS_REC_DROP_SUPPRESSED)
		p->totals.drops_suppressed += r->lost;
	else
		p->totals.records++;
	if (r->type == TS_REC_DROP)
		p->totals.drops++;
	for (int i = 0; i < p->nsinks; i++) {
		const struct ts_sink_ops *o = p->sinks[i].ops;
		int e = o->rec ? o->rec(p->sinks[i].priv, r) : 0;

		if (e && !err)
			err = e;
	}
	if (p->tracker) {
		int e = ts_tracker__push(p->tracker, r);

		if (e && !err)
			err = e;
	}
	return err;
}

/* The tracker's callback: every sink that wants connections gets it. */
static int conn_to_sinks(void *ctx, const struct ts_conn *c)
{
	struct ts_pipeline *p = ctx;
	int err = 0;

	p->totals.rtx_untraced += c->rtx_untraced;
	for (int i = 0; i < p->nsinks; i++) {
		const struct ts_sink_ops *o = p->sinks[i].ops;
		int e = o->conn_end ? o->conn_end(p->sinks[i].priv, c) : 0;

		if (e && !err)
			err = e;
	}
	return err;
}

int ts_pipeline__track(struct ts_pipeline *p, const struct ts_tracker_opts *o)
{
	int err;

	if (p->tracker)
		return -EEXIST;
	err = ts_tracker__new(o, conn_to_sinks, p, &p->tracker);
	if (err)
		return err;
	p->totals.tracking = true;
	p->totals.max_conns = o && o->max_conns ? o->max_conns :
						  TS_TRACKER_DEFAULT_CONNS;
	return 0;
}

void ts_pipeline__set_clock(struct ts_pipeline *p, uint64_t now_ns)
{
	p->clock_ns = now_ns;
}

int ts_pipeline__flush(struct ts_pipeline *p)
{
	int err = 0;

	if (p->tracker && p->clock_ns)
		err = ts_tracker__advance(p->tracker, p->clock_ns);

	for (int i = 0; i < p->nsinks; i++) {
		const struct ts_sink_ops *o = p->sinks[i].ops;
		int e = o->flush ? o->flush(p->sinks[i].priv) : 0;

		if (e && !err)
			err = e;
	}
	return err;
}

int ts_pipeline__finish(struct ts_pipeline *p)
{
	int err = 0;

	if (p->tracker) {
		struct ts_tracker_stats st;

		err = ts_tracker__finish(p->tracker);
		ts_tracker__get_stats(p->tracker, &st);
		p->totals.conns = st.conns;
		p->totals.conns_evicted = st.evicted;
	}

	for (int i = 0; i < p->nsinks; i++) {
		const struct ts_sink_ops *o = p->sinks[i].ops;
		int e = o->finish ? o->finish(p->sinks[i].priv, &p->totals) : 0;

		if (e && !err)
			err = e;
	}
	return err;
}

void ts_pipeline__free(struct ts_pipeline *p)
{
	for (int i = 0; i < p->nsinks; i++)
		if (p->sinks[i].ops->destroy)
			p->sinks[i].ops->destroy(p->sinks[i].priv);
	p->nsinks = 0;
	ts_tracker__free(p->tracker);
	p->tracker = NULL;
	free(p->hold);
	p->hold = NULL;
}
