// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>
#include "cmd/output.h"
#include "core/sinks/sinks.h"
#include "core/util/log.h"

static int new_sink(const struct ts_output_opts *o, struct ts_sink *sink, FILE *f,
		    const struct ts_meta *m)
{
	switch (o->kind) {
	case TS_OUTPUT_TIMELINE:
		return o->json ? ts_sink_timeline_json__new(sink, f, m) :
				 ts_sink_timeline_text__new(sink, f, m);
	case TS_OUTPUT_SUMMARY:
		return ts_sink_summary__new(sink, f, m, o->json);
	case TS_OUTPUT_AT:
		return ts_sink_at__new(sink, f, m, o->at);
	default:
		if (o->new_records)
			return o->new_records(o->records_ctx, sink, f, m);
		return o->json ? ts_sink_json__new(sink, f, m) :
				 ts_sink_text__new(sink, f, m);
	}
}

int ts_output__add(struct ts_pipeline *p, const struct ts_output_opts *o, FILE *f,
		   const struct ts_meta *m)
{
	struct ts_tracker_opts to = { .max_conns = o->max_conns };
	struct ts_sink sink;
	int err;

	if (o->kind == TS_OUTPUT_TIMELINE || o->kind == TS_OUTPUT_SUMMARY) {
		err = ts_pipeline__track(p, &to);
		if (err) {
			ts_err("cannot set up the connection tracker: %s", strerror(-err));
			return err;
		}
	}
	err = new_sink(o, &sink, f, m);
	if (!err)
		err = ts_pipeline__add_sink(p, sink);
	if (err)
		ts_err("cannot set up output: %s", strerror(-err));
	return err;
}
