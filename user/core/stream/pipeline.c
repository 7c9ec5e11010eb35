// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <string.h>
#include "core/stream/pipeline.h"

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

int ts_pipeline__push(struct ts_pipeline *p, const struct ts_rec *r)
{
	int err = 0;

	if (!ts_filter_match(&p->filter, r))
		return 0;
	if (r->type == TS_REC_LOST)
		p->totals.lost += r->lost;
	else
		p->totals.records++;
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
}
