// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Timeline sinks: one block of text, or one JSON object, per connection
 * when the tracker finishes it.  Loss records are still shown as they come.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include "core/util/escape.h"
#include <string.h>
#include "core/util/fmt.h"
#include "core/util/jsonw.h"
#include "core/sinks/sinks.h"
#include "core/sinks/colors.h"
#include "core/stream/knames.h"
#include "core/stream/states.h"
#include "core/stream/step_label.h"
#include "core/stream/rtx.h"

struct timeline_sink {
	FILE *f;
	struct ts_meta meta;
};

/* Retransmitted / sent segments, in percent; < 0 when unknown. */
static double retrans_pct(const struct ts_conn *c)
{
	if (!c->has_stats || !c->st.segs_out)
		return -1;
	return 100.0 * c->st.total_retrans / c->st.segs_out;
}

static void fmt_ms(char *buf, size_t len, uint64_t ns)
{
	snprintf(buf, len, "%.3fms", ns / 1e6);
}

static int timeline_rec(void *priv, const struct ts_rec *r)
{
	struct timeline_sink *s = priv;

	if (r->type != TS_REC_LOST)
		return 0;
	ts_text_write_rec(s->f, r, &s->meta);
	return ts_sink_werr(s->f);
}

static int timeline_lost_json(void *priv, const struct ts_rec *r)
{
	struct timeline_sink *s = priv;

	if (r->type != TS_REC_LOST)
		return 0;
	ts_json_write_rec(s->f, r, &s->meta);
	return ts_sink_werr(s->f);
}

/* How it ended, coloured as its closing step would be. */
static const char *close_color(enum ts_close_kind k)
{
	switch (k) {
	case TS_CLOSE_RESET_SENT:
	case TS_CLOSE_RESET_RECEIVED:
	case TS_CLOSE_REFUSED:
		return TS_C_RED;
	case TS_CLOSE_TIMEOUT:
		return TS_C_MAGENTA;
	case TS_CLOSE_ACTIVE:
	case TS_CLOSE_PASSIVE:
	case TS_CLOSE_SIMULTANEOUS:
		return TS_C_CYAN;
	default:
		return "";
	}
}

static void text_header(struct timeline_sink *s, const struct ts_conn *c)
{
	char l[TS_ADDRSTR_LEN], rm[TS_ADDRSTR_LEN], hs[64], life[32], pct[32];
	char owner[2 * TS_ESC_LEN(TS_COMM_LEN) + 64];
	char comm[TS_ESC_LEN(TS_COMM_LEN)];
	char lcomm[TS_ESC_LEN(TS_COMM_LEN)];
	double p = retrans_pct(c);
	bool hot = p > 1.0, col = s->meta.color;
	const char *cc = col ? close_color(c->close) : "";
	FILE *f = s->f;

	ts_fmt_endpoint(l, sizeof(l), c->family, c->saddr, c->sport);
	ts_fmt_endpoint(rm, sizeof(rm), c->family, c->daddr, c->dport);
	if (c->handshake_ns >= 0)
		fmt_ms(hs, sizeof(hs), (uint64_t)c->handshake_ns);
	else
		snprintf(hs, sizeof(hs), "-");
	/* A server's handshake counts from its first SYN-ACK: say so. */
	if (c->hs_basis == TS_HS_FIRST_SYNACK || c->hs_basis == TS_HS_SYNACK_RTT)
		snprintf(hs + strlen(hs), sizeof(hs) - strlen(hs), "%s",
			 c->hs_basis == TS_HS_FIRST_SYNACK ? " (from the first SYN-ACK)" :
							    " (SYN-ACK round trip)");
	fmt_ms(life, sizeof(life), c->lifetime_ns);
	if (p >= 0)
		snprintf(pct, sizeof(pct), "%.2f%%", p);
	else
		snprintf(pct, sizeof(pct), "-");

	if (c->pid && c->listener_pid && c->listener_pid != c->pid)
		snprintf(owner, sizeof(owner), "%s[%u] (listener %s[%u])",
			 ts_escape(comm, sizeof(comm), c->comm), c->pid,
			 ts_escape(lcomm, sizeof(lcomm), c->listener_comm),
			 c->listener_pid);
	else if (c->pid)
		snprintf(owner, sizeof(owner), "%s[%u]",
			 ts_escape(comm, sizeof(comm), c->comm), c->pid);
	else
		snprintf(owner, sizeof(owner), "-");
	if (s->meta.compact) {
		/* Three short lines instead of two long ones. */
		fprintf(f, "%sconn %" PRIu64 "%s sk:%" PRIx64 "  %s  %s  close=%s%s%s\n",
			col ? TS_C_BOLD : "", c->id, col ? TS_C_RESET : "", c->id,
			ts_role_name(c->role), owner, cc, ts_close_name(c->close),
			*cc ? TS_C_RESET : "");
		fprintf(f, "  %s -> %s", l, rm);
		if (c->peer)
			fprintf(f, "  peer %" PRIu64, c->peer);
		fputc('\n', f);
		fprintf(f, "  handshake %s  lifetime %s  retransmits syn=%u synack=%u data=%u fin=%u\n",
			hs, life, c->rtx[TS_RTX_SYN], c->rtx[TS_RTX_SYNACK], c->rtx[TS_RTX_DATA],
			c->rtx[TS_RTX_FIN]);
		if (c->resets_sent || c->resets_received || c->has_stats) {
			if (c->resets_sent || c->resets_received)
				fprintf(f, "  rst sent=%u received=%u", c->resets_sent,
					c->resets_received);
			if (c->has_stats)
				fprintf(f, "  segs_out %u  retrans %s%s%s%s", c->st.segs_out,
					hot && col ? TS_C_ALERT : "", pct,
					hot ? " (>1%: needs a look)" : "", hot && col ? TS_C_RESET : "");
			fputc('\n', f);
		}
	} else {
		fprintf(f, "%sconn %" PRIu64 "%s  %-8s %-24s %s -> %s  close=%s%s%s  sk:%" PRIx64,
			col ? TS_C_BOLD : "", c->id, col ? TS_C_RESET : "", ts_role_name(c->role), owner,
			l, rm, cc, ts_close_name(c->close), *cc ? TS_C_RESET : "", c->id);
		if (c->peer)
			fprintf(f, "  peer %" PRIu64, c->peer);
		fputc('\n', f);
		fprintf(f, "  handshake %s  lifetime %s  retransmits syn=%u synack=%u data=%u fin=%u",
			hs, life, c->rtx[TS_RTX_SYN], c->rtx[TS_RTX_SYNACK], c->rtx[TS_RTX_DATA],
			c->rtx[TS_RTX_FIN]);
		if (c->resets_sent || c->resets_received)
			fprintf(f, "  rst sent=%u received=%u", c->resets_sent,
				c->resets_received);
		if (c->has_stats)
			fprintf(f, "  segs_out %u  retrans %s%s%s%s", c->st.segs_out,
				hot && col ? TS_C_ALERT : "", pct, hot ? " (>1%: needs a look)" : "",
				hot && col ? TS_C_RESET : "");
		fputc('\n', f);
	}
	if (c->joined_late || c->gaps || c->lost_events || c->evicted ||
	    c->steps_dropped || c->rtx_not_kept || ts_hs_basis_why(c->hs_basis)) {
		fprintf(f, "  note:");
		if (c->joined_late)
			fprintf(f, " joined late (began before tracing or its first events were lost);");
		if (c->gaps)
			fprintf(f, " %u transition(s) missing;", c->gaps);
		if (c->lost_events)
			fprintf(f, " events were lost while it was open;");
		if (c->evicted)
			fprintf(f, " evicted (--max-conns reached), still open;");
		if (c->steps_dropped)
			fprintf(f, " %u step(s) not kept;", c->steps_dropped);
		if (c->rtx_not_kept)
			fprintf(f, " %u retransmission step(s) not kept;", c->rtx_not_kept);
		if (ts_hs_basis_why(c->hs_basis))
			fprintf(f, " handshake time unknown: %s;", ts_hs_basis_why(c->hs_basis));
		fputc('\n', f);
	}
}

/* A dropped segment, in the place its time gives it among the steps. */
static void text_drop(struct timeline_sink *s, const struct ts_conn_drop *d, uint64_t t0)
{
	char t[32], what[TS_KNAME_MAX * 2 + 64];
	const char *on = s->meta.color ? TS_C_MAGENTA : "";

	snprintf(t, sizeof(t), "%s%.3fms", d->ts_ns >= t0 ? "+" : "-",
		 (d->ts_ns >= t0 ? d->ts_ns - t0 : t0 - d->ts_ns) / 1e6);
	ts_drop_describe(what, sizeof(what), d->dir, d->tcp_flags, d->seq, d->len, d->has_base,
			 d->seq_base, d->reason_name, d->reason, d->where);
	fprintf(s->f, "  %*s  %sDROPPED%s %s\n", s->meta.compact ? 10 : 12, t, on,
		*on ? TS_C_RESET : "", what);
}

/* Why the first reset sent / received, when known. */
static void text_resets(struct timeline_sink *s, const struct ts_conn *c)
{
	const struct ts_rst_why *w[2] = { &c->rst_sent_why, &c->rst_recv_why };
	const char *what[2] = { "sent", "received" };

	for (int i = 0; i < 2; i++)
		if (w[i]->name)
			fprintf(s->f, "  rst %s: %s%s\n", what[i], w[i]->name,
				w[i]->inferred ? " (inferred)" : "");
}

/*
 * A retransmission step: when, what and why, and the wait since the
 * previous retransmission of the connection (the backoff shows there).
 */
static void text_rtx(struct timeline_sink *s, const struct ts_conn *c, int k, uint64_t t0)
{
	const struct ts_rtx_step *x = &c->rtxs[k];
	const char *on = s->meta.color ? TS_C_YELLOW : "";
	char t[32], what[160], since[48], tr[32];
	struct ts_rec r;
	int trw;

	ts_rtx__rec(&r, x);
	ts_rtx__describe(what, sizeof(what), &r);
	snprintf(t, sizeof(t), "+%.3fms", (x->ts_ns - (x->ts_ns < t0 ? x->ts_ns : t0)) / 1e6);
	snprintf(tr, sizeof(tr), "RETRANSMIT in %s", s->meta.compact ? "" : ts_state_name(x->state));
	if (s->meta.compact) {
		fprintf(s->f, "  %10s %sRETRANSMIT%s %s\n", t, on, *on ? TS_C_RESET : "", what);
		return;
	}
	if (k)
		snprintf(since, sizeof(since), "%.3fms after the previous",
			 (x->ts_ns - c->rtxs[k - 1].ts_ns) / 1e6);
	else
		snprintf(since, sizeof(since), "-");
	trw = 26 - (int)strlen(tr);
	fprintf(s->f, "  %12s  %s%s%s%*s %-52s %s\n", t, on, tr, *on ? TS_C_RESET : "",
		trw > 0 ? trw : 0, "", what, since);
}

static int timeline_text_conn(void *priv, const struct ts_conn *c)
{
	struct timeline_sink *s = priv;
	uint64_t t0 = c->nsteps ? c->steps[0].ts_ns : c->start_ns;
	int k = 0, di = 0;

	text_header(s, c);
	text_resets(s, c);
	for (int i = 0; i <= c->nsteps; i++) {
		/* Retransmissions and drops before this step, in time order. */
		for (;;) {
			bool rtx = k < c->nrtx &&
				   (i == c->nsteps || c->rtxs[k].ts_ns < c->steps[i].ts_ns);
			bool drop = di < c->ndrops &&
				    (i == c->nsteps || c->drops[di].ts_ns <= c->steps[i].ts_ns);

			if (rtx && (!drop || c->rtxs[k].ts_ns <= c->drops[di].ts_ns))
				text_rtx(s, c, k++, t0);
			else if (drop)
				text_drop(s, &c->drops[di++], t0);
			else
				break;
		}
		if (i == c->nsteps)
			break;
		const struct ts_step *st = &c->steps[i];
		const char *label = st->label ? st->label : ts_step_label(st->from, st->to);
		const char *on = s->meta.color ?
					 ts_label_color(ts_label_class_of((enum ts_label)st->label_id)) :
					 "";
		char t[32], in_old[48], tr[32];
		int trw;

		snprintf(t, sizeof(t), "+%.3fms", (st->ts_ns - t0) / 1e6);
		snprintf(tr, sizeof(tr), "%s -> %s", ts_state_name(st->from),
			 ts_state_name(st->to));
		if (s->meta.compact) {
			/* 2 + 10 + 1 + 24 + 1 + the label (at most 42): 80. */
			trw = 24 - (int)strlen(tr);
			fprintf(s->f, "  %10s %s%s%s%*s %s%s\n", t, on, tr, *on ? TS_C_RESET : "",
				trw > 0 ? trw : 0, "", label,
				st->flags & TS_STEP_GAP ? " (gap)" : "");
			continue;
		}
		if (st->ns_in_old)
			snprintf(in_old, sizeof(in_old), "%.3fms in %s",
				 st->ns_in_old / 1e6, ts_state_name(st->from));
		else
			snprintf(in_old, sizeof(in_old), "-");
		trw = 26 - (int)strlen(tr);
		fprintf(s->f, "  %12s  %s%s%s%*s %-52s %s%s\n", t, on, tr, *on ? TS_C_RESET : "",
			trw > 0 ? trw : 0, "", label, in_old,
			st->flags & TS_STEP_GAP ? "  (after missing events)" : "");
	}
	if (c->drops_total > c->ndrops)
		fprintf(s->f, "  (%u more drops not kept)\n", c->drops_total - c->ndrops);
	if (c->tw == TS_TW_UNKNOWN)
		fprintf(s->f, "  TIME_WAIT %s\n", ts_tw_why_text(c->tw_why));
	fputc('\n', s->f);
	return ts_sink_werr(s->f);
}

/* {"name": ..., "inferred": ...} or null. */
static void json_rst(struct ts_jsonw *w, const char *key, const struct ts_rst_why *why)
{
	if (!why->name) {
		ts_jsonw__null(w, key);
		return;
	}
	ts_jsonw__object_begin(w, key);
	ts_jsonw__str(w, "name", why->name);
	ts_jsonw__bool(w, "inferred", why->inferred);
	ts_jsonw__object_end(w);
}

void ts_json_write_conn(FILE *f, const struct ts_conn *c,
			const struct ts_meta *m)
{
	uint64_t t0 = c->nsteps ? c->steps[0].ts_ns : c->start_ns;
	double p = retrans_pct(c);
	struct ts_jsonw w;

	ts_jsonw__begin(&w, f);
	ts_jsonw__str(&w, "event", "connection");
	ts_json_time(&w, "", c->start_ns, m->wall_offset_ns);
	ts_json_conn_id(&w, c->id);
	ts_json_owner(&w, c->pid, c->comm);
	ts_json_tuple(&w, c->family, c->saddr, c->sport, c->daddr, c->dport);
	ts_jsonw__u64(&w, "netns", c->netns);
	if (c->listener_pid) {
		ts_jsonw__u64(&w, "listener_pid", c->listener_pid);
		ts_jsonw__str(&w, "listener_comm", c->listener_comm);
	} else {
		ts_jsonw__null(&w, "listener_pid");
		ts_jsonw__null(&w, "listener_comm");
	}
	ts_json_cgroup(&w, c->cgroup_id, c->cgroup);
	ts_jsonw__bool(&w, "owner_from_listener", c->owner_from_listener);
	ts_jsonw__str(&w, "role", ts_role_name(c->role));
	ts_jsonw__str(&w, "close", ts_close_name(c->close));
	if (c->peer)
		ts_jsonw__u64(&w, "peer", c->peer);
	else
		ts_jsonw__null(&w, "peer");
	if (ts_tw_name(c->tw))
		ts_jsonw__str(&w, "time_wait", ts_tw_name(c->tw));
	else
		ts_jsonw__null(&w, "time_wait");
	if (ts_tw_why_name(c->tw_why))
		ts_jsonw__str(&w, "time_wait_why", ts_tw_why_name(c->tw_why));
	else
		ts_jsonw__null(&w, "time_wait_why");
	if (c->handshake_ns >= 0)
		ts_jsonw__u64(&w, "handshake_us", (uint64_t)c->handshake_ns / 1000);
	else
		ts_jsonw__null(&w, "handshake_us");
	if (ts_hs_basis_name(c->hs_basis))
		ts_jsonw__str(&w, "handshake_from", ts_hs_basis_name(c->hs_basis));
	else
		ts_jsonw__null(&w, "handshake_from");
	if (ts_hs_basis_why(c->hs_basis))
		ts_jsonw__str(&w, "handshake_unknown", ts_hs_basis_why(c->hs_basis));
	else
		ts_jsonw__null(&w, "handshake_unknown");
	ts_jsonw__u64(&w, "lifetime_us", c->lifetime_ns / 1000);
	ts_jsonw__object_begin(&w, "retransmits");
	for (int k = 0; k < TS_RTX_KINDS; k++)
		ts_jsonw__u64(&w, ts_rtx_name(k), c->rtx[k]);
	ts_jsonw__object_end(&w);
	ts_jsonw__u64(&w, "resets_sent", c->resets_sent);
	ts_jsonw__u64(&w, "resets_received", c->resets_received);
	json_rst(&w, "reset_sent_reason", &c->rst_sent_why);
	json_rst(&w, "reset_received_reason", &c->rst_recv_why);
	ts_jsonw__u64(&w, "drops_total", c->drops_total);
	ts_jsonw__array_begin(&w, "drops");
	for (int i = 0; i < c->ndrops; i++) {
		const struct ts_conn_drop *d = &c->drops[i];

		ts_jsonw__object_begin(&w, NULL);
		ts_jsonw__i64(&w, "t_us", ((int64_t)d->ts_ns - (int64_t)t0) / 1000);
		ts_json_drop(&w, d->dir, d->tcp_flags, d->seq, d->len, d->has_base, d->seq_base,
			     d->reason_name, d->reason, d->where, d->where_off);
		ts_jsonw__bool(&w, "by_addresses", d->by_tuple);
		ts_jsonw__object_end(&w);
	}
	ts_jsonw__array_end(&w);
	ts_json_stats(&w, c->has_stats ? &c->st : NULL);
	if (c->has_stats)
		ts_jsonw__u64(&w, "sk_err", c->st.err);
	else
		ts_jsonw__null(&w, "sk_err");
	if (p >= 0)
		ts_jsonw__double(&w, "retrans_pct", p, 2);
	else
		ts_jsonw__null(&w, "retrans_pct");
	ts_jsonw__bool(&w, "joined_late", c->joined_late);
	ts_jsonw__u64(&w, "missing_steps", c->gaps);
	ts_jsonw__bool(&w, "lost_events", c->lost_events);
	ts_jsonw__bool(&w, "evicted", c->evicted);
	ts_jsonw__u64(&w, "steps_dropped", c->steps_dropped);
	ts_jsonw__array_begin(&w, "steps");
	for (int i = 0; i < c->nsteps; i++) {
		const struct ts_step *st = &c->steps[i];

		ts_jsonw__object_begin(&w, NULL);
		ts_jsonw__u64(&w, "t_us", (st->ts_ns - t0) / 1000);
		ts_jsonw__str(&w, "from", ts_state_name(st->from));
		ts_jsonw__str(&w, "to", ts_state_name(st->to));
		ts_jsonw__str(&w, "step", st->label ? st->label : ts_step_label(st->from, st->to));
		if (st->ns_in_old)
			ts_jsonw__u64(&w, "in_state_us", st->ns_in_old / 1000);
		else
			ts_jsonw__null(&w, "in_state_us");
		ts_jsonw__bool(&w, "inferred", st->flags & TS_STEP_INFERRED);
		ts_jsonw__bool(&w, "gap", st->flags & TS_STEP_GAP);
		ts_jsonw__bool(&w, "from_peer", st->flags & TS_STEP_PEER);
		ts_jsonw__object_end(&w);
	}
	ts_jsonw__array_end(&w);
	/* Retransmission steps, timed like the steps (t_us). */
	ts_jsonw__array_begin(&w, "retransmissions");
	for (int k = 0; k < c->nrtx; k++) {
		const struct ts_rtx_step *x = &c->rtxs[k];
		struct ts_rec r;

		ts_rtx__rec(&r, x);
		ts_jsonw__object_begin(&w, NULL);
		ts_jsonw__u64(&w, "t_us", x->ts_ns > t0 ? (x->ts_ns - t0) / 1000 : 0);
		ts_jsonw__str(&w, "state", ts_state_name(x->state));
		if (k)
			ts_jsonw__u64(&w, "since_previous_us", (x->ts_ns - c->rtxs[k - 1].ts_ns) / 1000);
		else
			ts_jsonw__null(&w, "since_previous_us");
		ts_rtx__json(&w, &r);
		ts_jsonw__object_end(&w);
	}
	ts_jsonw__array_end(&w);
	ts_jsonw__u64(&w, "retransmissions_not_kept", c->rtx_not_kept);
	ts_jsonw__end(&w);
}

static int timeline_json_conn(void *priv, const struct ts_conn *c)
{
	struct timeline_sink *s = priv;

	ts_json_write_conn(s->f, c, &s->meta);
	return ts_sink_werr(s->f);
}

static int timeline_flush(void *priv)
{
	struct timeline_sink *s = priv;

	return fflush(s->f) ? -errno : 0;
}

static int timeline_text_finish(void *priv, const struct ts_totals *t)
{
	struct timeline_sink *s = priv;

	fprintf(s->f, "%" PRIu64 " connections", t->conns);
	if (t->drops || t->drops_suppressed)
		fprintf(s->f, "; %" PRIu64 " drops recorded, %" PRIu64 " more only counted (over %u/s per CPU)",
			t->drops, t->drops_suppressed, TS_DROP_PER_SEC);
	if (t->conns_evicted && s->meta.compact)
		fprintf(s->f, "; %" PRIu64 " evicted (over %u open: raise --max-conns)",
			t->conns_evicted, t->max_conns);
	else if (t->conns_evicted)
		fprintf(s->f, "; %" PRIu64 " connections evicted (more than %u open at once: raise --max-conns)",
			t->conns_evicted, t->max_conns);
	fputc('\n', s->f);
	return fflush(s->f) ? -errno : 0;
}

static int timeline_json_finish(void *priv, const struct ts_totals *t)
{
	struct timeline_sink *s = priv;
	struct ts_jsonw w;

	ts_jsonw__begin(&w, s->f);
	ts_jsonw__str(&w, "event", "summary");
	ts_jsonw__u64(&w, "records", t->records);
	ts_jsonw__u64(&w, "lost", t->lost);
	ts_jsonw__u64(&w, "connections", t->conns);
	ts_jsonw__u64(&w, "evicted", t->conns_evicted);
	ts_jsonw__u64(&w, "max_conns", t->max_conns);
	ts_jsonw__u64(&w, "drops", t->drops);
	ts_jsonw__u64(&w, "drops_suppressed", t->drops_suppressed);
	ts_jsonw__end(&w);
	return fflush(s->f) ? -errno : 0;
}

static void timeline_destroy(void *priv)
{
	free(priv);
}

static const struct ts_sink_ops timeline_text_ops = {
	.name = "timeline-text",
	.rec = timeline_rec,
	.flush = timeline_flush,
	.finish = timeline_text_finish,
	.destroy = timeline_destroy,
	.conn_end = timeline_text_conn,
};

static const struct ts_sink_ops timeline_json_ops = {
	.name = "timeline-json",
	.rec = timeline_lost_json,
	.flush = timeline_flush,
	.finish = timeline_json_finish,
	.destroy = timeline_destroy,
	.conn_end = timeline_json_conn,
};

static int timeline_new(struct ts_sink *out, FILE *f, const struct ts_meta *m,
			const struct ts_sink_ops *ops)
{
	struct timeline_sink *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->f = f;
	s->meta = *m;
	out->ops = ops;
	out->priv = s;
	return 0;
}

int ts_sink_timeline_text__new(struct ts_sink *out, FILE *f,
			      const struct ts_meta *m)
{
	return timeline_new(out, f, m, &timeline_text_ops);
}

int ts_sink_timeline_json__new(struct ts_sink *out, FILE *f,
			      const struct ts_meta *m)
{
	return timeline_new(out, f, m, &timeline_json_ops);
}
