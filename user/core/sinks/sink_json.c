// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include "core/util/cgroup.h"
#include "core/util/fmt.h"
#include "core/util/jsonw.h"
#include "core/sinks/sinks.h"
#include "core/stream/knames.h"
#include "core/stream/states.h"
#include "core/stream/step_label.h"
#include "core/stream/rtx.h"

struct json_sink {
	FILE *f;
	struct ts_meta meta;
};

void ts_json_stats(struct ts_jsonw *w, const struct ts_tcp_stats *st)
{
	static const char *const keys[] = { "segs_out",	   "segs_in",	     "data_segs_out",
					    "total_retrans", "bytes_acked", "bytes_received",
					    "srtt_us" };
	uint64_t v[] = { st ? st->segs_out : 0,	     st ? st->segs_in : 0,
			 st ? st->data_segs_out : 0, st ? st->total_retrans : 0,
			 st ? st->bytes_acked : 0,   st ? st->bytes_received : 0,
			 st ? st->srtt_us : 0 };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (st)
			ts_jsonw__u64(w, keys[i], v[i]);
		else
			ts_jsonw__null(w, keys[i]);
	}
}

void ts_json_write_header(FILE *f, const char *command, const char *mode, uint64_t ts_ns,
			  const struct ts_meta *m)
{
	struct ts_jsonw w;

	ts_jsonw__begin(&w, f);
	ts_jsonw__str(&w, "event", "header");
	ts_jsonw__str(&w, "schema", TS_JSON_SCHEMA);
	ts_jsonw__str(&w, "command", command);
	ts_jsonw__str(&w, "mode", mode);
	ts_json_time(&w, "", ts_ns, m->wall_offset_ns);
	ts_jsonw__end(&w);
}

void ts_json_cgroup(struct ts_jsonw *w, uint64_t id, const char *path)
{
	char container[TS_CONTAINER_LEN];

	if (id)
		ts_jsonw__u64(w, "cgroup_id", id);
	else
		ts_jsonw__null(w, "cgroup_id");
	if (path)
		ts_jsonw__str(w, "cgroup", path);
	else
		ts_jsonw__null(w, "cgroup");
	if (path && ts_cgroup_container(path, container, sizeof(container)))
		ts_jsonw__str(w, "container", container);
	else
		ts_jsonw__null(w, "container");
}

void ts_json_drop(struct ts_jsonw *w, uint8_t dir, uint8_t tcp_flags, uint32_t seq,
		  uint32_t len, bool has_base, uint32_t seq_base, const char *reason_name,
		  uint32_t reason, const char *where, uint32_t where_off)
{
	char loc[TS_KNAME_MAX + 16];

	ts_jsonw__str(w, "direction", ts_drop_dir_name(dir, false));
	ts_jsonw__str(w, "segment", ts_tcp_seg_kind(tcp_flags, len));
	ts_jsonw__u64(w, "seq", seq);
	if (has_base)
		ts_jsonw__u64(w, "seq_rel", (uint32_t)(seq - seq_base));
	else
		ts_jsonw__null(w, "seq_rel");
	ts_jsonw__u64(w, "len", len);
	ts_jsonw__u64(w, "tcp_flags", tcp_flags);
	if (reason_name)
		ts_jsonw__str(w, "reason", reason_name);
	else
		ts_jsonw__null(w, "reason");
	ts_jsonw__u64(w, "reason_code", reason);
	if (where) {
		snprintf(loc, sizeof(loc), "%s+0x%x", where, where_off);
		ts_jsonw__str(w, "location", loc);
	} else {
		ts_jsonw__null(w, "location");
	}
}

void ts_json_rst_why(struct ts_jsonw *w, struct ts_rst_why why)
{
	if (why.name)
		ts_jsonw__str(w, "reason", why.name);
	else
		ts_jsonw__null(w, "reason");
	ts_jsonw__bool(w, "reason_inferred", why.name && why.inferred);
}

void ts_json_write_rec(FILE *f, const struct ts_rec *r,
		       const struct ts_meta *m)
{
	struct ts_jsonw w;

	ts_jsonw__begin(&w, f);
	ts_jsonw__str(&w, "event", ts_rec_type_name(r->type));
	ts_json_time(&w, "", r->ts_ns, m->wall_offset_ns);
	if (r->type == TS_REC_LOST || r->type == TS_REC_DROP_SUPPRESSED) {
		ts_jsonw__u64(&w, "count", r->lost);
		ts_jsonw__end(&w);
		return;
	}
	ts_json_conn_id(&w, r->conn);
	ts_json_owner(&w, r->pid, r->comm);
	ts_json_tuple(&w, r->family, r->saddr, r->sport, r->daddr, r->dport);
	ts_jsonw__u64(&w, "netns", r->netns);
	ts_json_cgroup(&w, r->cgroup_id, r->cgroup);
	if (r->type == TS_REC_STATE) {
		ts_jsonw__str(&w, "from", ts_state_name(r->old_state));
		ts_jsonw__str(&w, "to", ts_state_name(r->new_state));
		ts_jsonw__str(&w, "step", ts_rec_step_label(r));
		if (r->ns_in_old)
			ts_jsonw__u64(&w, "in_state_us", r->ns_in_old / 1000);
		else
			ts_jsonw__null(&w, "in_state_us");
	} else if (r->type == TS_REC_DROP) {
		if (r->new_state)
			ts_jsonw__str(&w, "state", ts_state_name(r->new_state));
		else
			ts_jsonw__null(&w, "state");
		ts_json_drop(&w, r->drop.dir, r->drop.tcp_flags, r->drop.seq, r->drop.len,
			     r->drop.has_base, r->drop.seq_base, r->reason_name, r->drop.reason,
			     r->where, r->where_off);
		ts_jsonw__end(&w);
		return;
	} else {
		ts_jsonw__str(&w, "state", ts_state_name(r->new_state));
		if (r->type == TS_REC_RESET_SENT || r->type == TS_REC_RESET_RECV)
			ts_json_rst_why(&w, ts_rst_why_of(r));
	}
	ts_jsonw__bool(&w, "owner_from_listener",
		       (r->flags & TS_F_OWNER_LISTENER) && !(r->flags & TS_F_ACCEPTED));
	ts_jsonw__bool(&w, "accepted", r->flags & TS_F_ACCEPTED);
	if (r->has_stats)
		ts_json_stats(&w, &r->st);
	if (r->has_rtx)
		ts_rtx__json(&w, r);
	ts_jsonw__end(&w);
}

static int json_rec(void *priv, const struct ts_rec *r)
{
	struct json_sink *s = priv;

	ts_json_write_rec(s->f, r, &s->meta);
	return ts_sink_werr(s->f);
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
	ts_jsonw__u64(&w, "drops", t->drops);
	ts_jsonw__u64(&w, "drops_suppressed", t->drops_suppressed);
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
