// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include "core/util/fmt.h"
#include "core/util/jsonw.h"
#include "core/sinks/sinks.h"
#include "core/stream/states.h"
#include "core/stream/step_label.h"

struct json_sink {
	FILE *f;
	struct ts_meta meta;
};

static void write_stats(struct ts_jsonw *w, const struct ts_tcp_stats *st)
{
	ts_jsonw__u64(w, "segs_out", st->segs_out);
	ts_jsonw__u64(w, "segs_in", st->segs_in);
	ts_jsonw__u64(w, "data_segs_out", st->data_segs_out);
	ts_jsonw__u64(w, "total_retrans", st->total_retrans);
	ts_jsonw__u64(w, "bytes_acked", st->bytes_acked);
	ts_jsonw__u64(w, "bytes_received", st->bytes_received);
	ts_jsonw__u64(w, "srtt_us", st->srtt_us);
}

void ts_json_write_rec(FILE *f, const struct ts_rec *r,
		       const struct ts_meta *m)
{
	char buf[TS_ADDRSTR_LEN];
	struct ts_jsonw w;

	ts_jsonw__begin(&w, f);
	ts_jsonw__str(&w, "event", ts_rec_type_name(r->type));
	ts_jsonw__u64(&w, "ts_ns", r->ts_ns);
	ts_fmt_rfc3339(buf, sizeof(buf), ts_wall_ns(r->ts_ns, m->wall_offset_ns));
	ts_jsonw__str(&w, "time", buf);
	if (r->type == TS_REC_LOST) {
		ts_jsonw__u64(&w, "count", r->lost);
		ts_jsonw__end(&w);
		return;
	}
	ts_jsonw__u64(&w, "conn", r->conn);
	ts_jsonw__u64(&w, "pid", r->pid);
	ts_jsonw__str(&w, "comm", r->comm);
	ts_json_tuple(&w, r->family, r->saddr, r->sport, r->daddr, r->dport);
	ts_jsonw__u64(&w, "netns", r->netns);
	if (r->type == TS_REC_STATE) {
		ts_jsonw__str(&w, "old", ts_state_name(r->old_state));
		ts_jsonw__str(&w, "new", ts_state_name(r->new_state));
		ts_jsonw__str(&w, "step", ts_rec_step_label(r));
		if (r->ns_in_old)
			ts_jsonw__double(&w, "ms_in_old", r->ns_in_old / 1e6, 3);
		else
			ts_jsonw__null(&w, "ms_in_old");
	} else {
		ts_jsonw__str(&w, "state", ts_state_name(r->new_state));
	}
	ts_jsonw__bool(&w, "owner_from_listener", r->flags & TS_F_OWNER_LISTENER);
	if (r->has_stats)
		write_stats(&w, &r->st);
	ts_jsonw__end(&w);
}

static int json_rec(void *priv, const struct ts_rec *r)
{
	struct json_sink *s = priv;

	ts_json_write_rec(s->f, r, &s->meta);
	return ts_out_err(s->f);
}

static int json_flush(void *priv)
{
	struct json_sink *s = priv;

	return fflush(s->f) ? -errno : 0;
}

static int json_finish(void *priv, const struct ts_totals *t)
{
	struct json_sink *s = priv;
	struct ts_jsonw w;

	ts_jsonw__begin(&w, s->f);
	ts_jsonw__str(&w, "event", "summary");
	ts_jsonw__u64(&w, "records", t->records);
	ts_jsonw__u64(&w, "lost", t->lost);
	ts_jsonw__end(&w);
	return fflush(s->f) ? -errno : 0;
}

static void json_destroy(void *priv)
{
	free(priv);
}

static const struct ts_sink_ops json_ops = {
	.name = "json",
	.rec = json_rec,
	.flush = json_flush,
	.finish = json_finish,
	.destroy = json_destroy,
};

int ts_sink_json__new(struct ts_sink *out, FILE *f, const struct ts_meta *m)
{
	struct json_sink *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->f = f;
	s->meta = *m;
	out->ops = &json_ops;
	out->priv = s;
	return 0;
}
