// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/util/cgroup.h"
#include "core/util/fmt.h"
#include "core/util/jsonw.h"
#include "core/sinks/json_conn.h"
#include "core/sinks/sinks.h"
#include "core/stream/knames.h"
#include "core/stream/states.h"
#include "core/stream/step_label.h"
#include "core/stream/rtx.h"

/*
 * Records are built in one writer kept across them, with a buffer of many
 * records: it goes to the stream when full and at each flush (after each
 * batch when tracing live), so a batch costs a few large writes.  Where
 * the stream is a write-only descriptor they are write(2)s of the buffer
 * ending at multiples of JSON_SINK_ALIGN in the file (ts_jsonw__direct):
 * ~450 bytes an event go to the page cache as 64 KiB folios.
 */
#define JSON_SINK_ALIGN (64 * 1024)
#define JSON_SINK_BUF (JSON_SINK_ALIGN + 2 * TS_JSONW_BUF)

/*
 * The text of a run of fields that takes few values, as the writer made
 * it: "event" by record type, "from", "to" and "step" by the pair of
 * states (and the step's label, which the record's evidence decides).
 */
#define SNIP_TYPES 8
#define SNIP_STATES 16
#define SNIP_MAX 160

struct snip {
	bool valid;
	uint8_t label; /* the pair's: what the text was made for */
	uint8_t len;
	char text[SNIP_MAX];
};

struct json_sink {
	FILE *f;
	struct ts_meta meta;
	struct ts_json_conns *conns;
	struct snip event[SNIP_TYPES];
	struct snip pair[SNIP_STATES][SNIP_STATES];
	bool resync; /* others may have written to f since the last flush */
	unsigned int flushes; /* w's when its errors were last looked at */
	struct ts_jsonw w;
	char buf[JSON_SINK_BUF];
};

/* Keep what w made since m in sn, when it fits and is still there. */
static void snip_keep(struct snip *sn, const struct ts_jsonw *w, struct ts_jsonw_mark m,
		      uint8_t label)
{
	const char *text;
	size_t len;

	text = ts_jsonw__since(w, m, &len);
	sn->valid = text && len <= sizeof(sn->text);
	if (!sn->valid)
		return;
	memcpy(sn->text, text, len);
	sn->len = (uint8_t)len;
	sn->label = label;
}

/* A counter of st, or null without stats. */
#define JSON_STAT(w, st, key, field)                     \
	do {                                             \
		if (st)                                  \
			TS_JSONW_U64(w, key, (st)->field); \
		else                                     \
			TS_JSONW_NULL(w, key);           \
	} while (0)

/* A constant of the program at o; the end. */
#define PUT_LIT(o, s) (memcpy(o, s, sizeof(s) - 1), (o) + sizeof(s) - 1)

void ts_json_stats(struct ts_jsonw *w, const struct ts_tcp_stats *st)
{
	char *o;

	if (st) {
		/* Seven keys and numbers, with one look for room. */
		o = ts_jsonw__room(w, 160 + 7 * 20);
		if (w->need_comma)
			*o++ = ',';
		o = PUT_LIT(o, "\"segs_out\":");
		o = ts_jsonw__digits(o, st->segs_out);
		o = PUT_LIT(o, ",\"segs_in\":");
		o = ts_jsonw__digits(o, st->segs_in);
		o = PUT_LIT(o, ",\"data_segs_out\":");
		o = ts_jsonw__digits(o, st->data_segs_out);
		o = PUT_LIT(o, ",\"total_retrans\":");
		o = ts_jsonw__digits(o, st->total_retrans);
		o = PUT_LIT(o, ",\"bytes_acked\":");
		o = ts_jsonw__digits(o, st->bytes_acked);
		o = PUT_LIT(o, ",\"bytes_received\":");
		o = ts_jsonw__digits(o, st->bytes_received);
		o = PUT_LIT(o, ",\"srtt_us\":");
		o = ts_jsonw__digits(o, st->srtt_us);
		w->n = (size_t)(o - w->buf);
		w->need_comma = true;
		return;
	}
	JSON_STAT(w, st, "segs_out", segs_out);
	JSON_STAT(w, st, "segs_in", segs_in);
	JSON_STAT(w, st, "data_segs_out", data_segs_out);
	JSON_STAT(w, st, "total_retrans", total_retrans);
	JSON_STAT(w, st, "bytes_acked", bytes_acked);
	JSON_STAT(w, st, "bytes_received", bytes_received);
	JSON_STAT(w, st, "srtt_us", srtt_us);
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
		TS_JSONW_U64(w, "cgroup_id", id);
	else
		TS_JSONW_NULL(w, "cgroup_id");
	if (path)
		TS_JSONW_STR(w, "cgroup", path);
	else
		TS_JSONW_NULL(w, "cgroup");
	if (path && ts_cgroup_container(path, container, sizeof(container)))
		TS_JSONW_STR(w, "container", container);
	else
		TS_JSONW_NULL(w, "container");
}

void ts_json_drop(struct ts_jsonw *w, uint8_t dir, uint8_t tcp_flags, uint32_t seq,
		  uint32_t len, bool has_base, uint32_t seq_base, const char *reason_name,
		  uint32_t reason, const char *where, uint32_t where_off)
{
	char loc[TS_KNAME_MAX + 16];

	TS_JSONW_STR(w, "direction", ts_drop_dir_name(dir, false));
	TS_JSONW_STR(w, "segment", ts_tcp_seg_kind(tcp_flags, len));
	TS_JSONW_U64(w, "seq", seq);
	if (has_base)
		TS_JSONW_U64(w, "seq_rel", (uint32_t)(seq - seq_base));
	else
		TS_JSONW_NULL(w, "seq_rel");
	TS_JSONW_U64(w, "len", len);
	TS_JSONW_U64(w, "tcp_flags", tcp_flags);
	if (reason_name)
		TS_JSONW_STR(w, "reason", reason_name);
	else
		TS_JSONW_NULL(w, "reason");
	TS_JSONW_U64(w, "reason_code", reason);
	if (where) {
		snprintf(loc, sizeof(loc), "%s+0x%x", where, where_off);
		TS_JSONW_STR(w, "location", loc);
	} else {
		TS_JSONW_NULL(w, "location");
	}
}

void ts_json_rst_why(struct ts_jsonw *w, struct ts_rst_why why)
{
	if (why.name)
		TS_JSONW_STR(w, "reason", why.name);
	else
		TS_JSONW_NULL(w, "reason");
	TS_JSONW_BOOL(w, "reason_inferred", why.name && why.inferred);
}

/* "event" (the object's first field), from s's texts when there is one. */
static void event_field(struct json_sink *s, struct ts_jsonw *w, const struct ts_rec *r)
{
	struct snip *sn = s && (unsigned int)r->type < SNIP_TYPES ? &s->event[r->type] : NULL;
	struct ts_jsonw_mark m;

	if (sn && sn->valid) {
		ts_jsonw__raw(w, sn->text, sn->len);
		return;
	}
	m = ts_jsonw__mark(w);
	TS_JSONW_STR(w, "event", ts_rec_type_name(r->type));
	if (sn)
		snip_keep(sn, w, m, 0);
}

/* "from", "to", "step" of a state change (after a value), from s's
 * texts when there is one for the pair and its label. */
static void states_fields(struct json_sink *s, struct ts_jsonw *w, const struct ts_rec *r)
{
	enum ts_label l = ts_rec_label(r);
	struct snip *sn = NULL;
	struct ts_jsonw_mark m;

	if (s && r->old_state < SNIP_STATES && r->new_state < SNIP_STATES && l < 256)
		sn = &s->pair[r->old_state][r->new_state];
	if (sn && sn->valid && sn->label == l) {
		ts_jsonw__raw(w, sn->text, sn->len);
		return;
	}
	m = ts_jsonw__mark(w);
	TS_JSONW_STR(w, "from", ts_state_name(r->old_state));
	TS_JSONW_STR(w, "to", ts_state_name(r->new_state));
	TS_JSONW_STR(w, "step", ts_label_text(l));
	if (sn)
		snip_keep(sn, w, m, (uint8_t)l);
}

/* "owner_from_listener" and "accepted", both known in advance. */
static void owner_flags(struct ts_jsonw *w, const struct ts_rec *r)
{
	static const struct {
		const char *text;
		size_t len;
	} flags[4] = {
#define FLAGS_TEXT(a, b) { ",\"owner_from_listener\":" a ",\"accepted\":" b, \
			   sizeof(",\"owner_from_listener\":" a ",\"accepted\":" b) - 1 }
		FLAGS_TEXT("false", "false"),
		FLAGS_TEXT("false", "true"),
		FLAGS_TEXT("true", "false"),
		FLAGS_TEXT("true", "true"),
#undef FLAGS_TEXT
	};
	bool acc = r->flags & TS_F_ACCEPTED;
	bool ofl = (r->flags & TS_F_OWNER_LISTENER) && !acc;
	unsigned int i = (unsigned int)ofl * 2 + acc;

	/* The comma is the text's own: a value always comes before. */
	if (!w->need_comma) {
		TS_JSONW_BOOL(w, "owner_from_listener", ofl);
		TS_JSONW_BOOL(w, "accepted", acc);
		return;
	}
	ts_jsonw__raw(w, flags[i].text, flags[i].len);
}

/* The record's object, "{" to "}\n", into w; with s (may be NULL), the
 * texts s keeps where they serve. */
static void write_rec(struct ts_jsonw *w, struct json_sink *s, const struct ts_rec *r,
		      const struct ts_meta *m)
{
	ts_jsonw__line_begin(w);
	event_field(s, w, r);
	ts_json_time(w, "", r->ts_ns, m->wall_offset_ns);
	if (r->type == TS_REC_LOST || r->type == TS_REC_DROP_SUPPRESSED) {
		TS_JSONW_U64(w, "count", r->lost);
		ts_jsonw__line_end(w);
		return;
	}
	ts_json_conns__write(s ? s->conns : NULL, w, r);
	if (r->type == TS_REC_STATE) {
		states_fields(s, w, r);
		if (r->ns_in_old)
			TS_JSONW_U64(w, "in_state_us", r->ns_in_old / 1000);
		else
			TS_JSONW_NULL(w, "in_state_us");
	} else if (r->type == TS_REC_DROP) {
		if (r->new_state)
			TS_JSONW_STR(w, "state", ts_state_name(r->new_state));
		else
			TS_JSONW_NULL(w, "state");
		ts_json_drop(w, r->drop.dir, r->drop.tcp_flags, r->drop.seq, r->drop.len,
			     r->drop.has_base, r->drop.seq_base, r->reason_name, r->drop.reason,
			     r->where, r->where_off);
		ts_jsonw__line_end(w);
		return;
	} else {
		TS_JSONW_STR(w, "state", ts_state_name(r->new_state));
		if (r->type == TS_REC_RESET_SENT || r->type == TS_REC_RESET_RECV)
			ts_json_rst_why(w, ts_rst_why_of(r));
	}
	owner_flags(w, r);
	if (r->has_stats)
		ts_json_stats(w, &r->st);
	if (r->has_rtx)
		ts_rtx__json(w, r);
	ts_jsonw__line_end(w);
}

void ts_json_write_rec(FILE *f, const struct ts_rec *r, const struct ts_meta *m)
{
	struct ts_jsonw w;

	ts_jsonw__init(&w, f, NULL, 0);
	write_rec(&w, NULL, r, m);
	ts_jsonw__flush(&w);
}

static int json_rec(void *priv, const struct ts_rec *r)
{
	struct json_sink *s = priv;

	if (s->resync) {
		/* The first record since a flush: where the file is now. */
		s->resync = false;
		ts_jsonw__resync(&s->w);
		s->flushes = s->w.flushes - 1;
	}
	write_rec(&s->w, s, r, &s->meta);
	/* Errors come only with writes. */
	if (s->w.flushes == s->flushes)
		return 0;
	s->flushes = s->w.flushes;
	return ts_jsonw__error(&s->w);
}

static int json_flush(void *priv)
{
	struct json_sink *s = priv;
	int err;

	ts_jsonw__flush(&s->w);
	s->resync = true;
	err = ts_jsonw__error(&s->w);
	if (err)
		return err;
	/* The buffer's write may have failed with nothing left for fflush. */
	return fflush(s->f) ? -errno : ts_sink_werr(s->f);
}

static int json_finish(void *priv, const struct ts_totals *t)
{
	struct json_sink *s = priv;
	struct ts_jsonw *w = &s->w;

	ts_jsonw__line_begin(w);
	ts_jsonw__str(w, "event", "summary");
	ts_jsonw__u64(w, "records", t->records);
	ts_jsonw__u64(w, "lost", t->lost);
	ts_jsonw__u64(w, "drops", t->drops);
	ts_jsonw__u64(w, "drops_suppressed", t->drops_suppressed);
	ts_jsonw__line_end(w);
	ts_jsonw__flush(w);
	if (ts_jsonw__error(w))
		return ts_jsonw__error(w);
	return fflush(s->f) ? -errno : ts_sink_werr(s->f);
}

static void json_destroy(void *priv)
{
	struct json_sink *s = priv;

	/* What a run stopped early left unwritten goes out with the stream
	 * (stdio's buffer did that before this sink kept one), unless the
	 * stream already failed (the reader went away). */
	if (!ts_jsonw__error(&s->w))
		ts_jsonw__flush(&s->w);
	ts_json_conns__free(s->conns);
	free(s);
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
	struct json_sink *s = malloc(sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->f = f;
	s->meta = *m;
	/* Without the cache (no memory) records are formatted in full. */
	s->conns = ts_json_conns__new();
	memset(s->event, 0, sizeof(s->event));
	memset(s->pair, 0, sizeof(s->pair));
	ts_jsonw__init(&s->w, f, s->buf, sizeof(s->buf));
	ts_jsonw__direct(&s->w, JSON_SINK_ALIGN);
	s->resync = true;
	s->flushes = 0;
	out->ops = &json_ops;
	out->priv = s;
	return 0;
}
