// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* report --summary: what a capture holds, in a few tables. */
#include "core/util/escape.h"
#include "core/stream/connmap.h"
#include "core/util/fmt.h"
#include "core/util/jsonw.h"
#include "core/util/quantile.h"
#include "core/sinks/colors.h"
#include "core/sinks/sinks.h"
#include "core/sinks/sink_report.h"
#include "core/stream/knames.h"
#include "core/stream/states.h"
#include "core/stream/step_label.h"
#include "core/stream/tracker.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A connection that retransmitted, as its last such record showed it. */
struct rconn {
	struct ts_rec r;
	uint64_t count;
	uint64_t rtx[TS_RTX_KINDS];
};

/* Counts by reason name; the names are the source's (stable) strings. */
#define REASON_ROWS 64

struct reason_row {
	const char *name; /* NULL: not named */
	bool inferred;
	uint64_t count;
};

struct reasons {
	struct reason_row rows[REASON_ROWS];
	size_t n;
	uint64_t other; /* past REASON_ROWS distinct names */
};

static void reasons_add(struct reasons *t, const char *name, bool inferred)
{
	for (size_t i = 0; i < t->n; i++) {
		struct reason_row *w = &t->rows[i];

		if (w->inferred == inferred &&
		    (w->name == name || (w->name && name && !strcmp(w->name, name)))) {
			w->count++;
			return;
		}
	}
	if (t->n == REASON_ROWS) {
		t->other++;
		return;
	}
	t->rows[t->n++] = (struct reason_row){ name, inferred, 1 };
}

struct summary {
	FILE *f;
	struct ts_meta meta;
	bool json;
	int err;
	uint64_t records, lost, lost_recs;
	uint64_t first_ts, last_ts;
	/* Per transition and label: the same rows trace and timelines name. */
	uint64_t trans[TS_STATE_MAX][TS_STATE_MAX][TS_LABELS];
	uint64_t retrans[TS_STATE_MAX];
	uint64_t synack_retrans;
	uint64_t reset_sent, reset_recv;
	uint64_t closes_with_stats, segs_out, total_retrans;
	/* From the tracker: how connections ended (index: ts_close_kind). */
	uint64_t close_kind[TS_CLOSE_TIMEOUT + 1];
	uint64_t conns;
	struct ts_quant hs_client, hs_server; /* handshake times, ns */
	struct ts_connmap map;
	struct rconn *rc;
	size_t nrc, rc_cap;
	uint64_t rc_unranked; /* retransmits of connections past the cap */
	uint64_t drops, drops_suppressed;
	struct reasons drop_why, rst_sent_why, rst_recv_why;
};

static int note_retrans(struct summary *s, const struct ts_rec *r)
{
	uint32_t idx;
	int found;

	/* Memory stays bounded whatever the file holds: past the cap, a new
	 * connection's retransmits are counted but not ranked. */
	if (s->nrc >= TS_SUMMARY_MAX_RCONNS && !ts_connmap__find(&s->map, r->conn, &idx)) {
		s->rc_unranked++;
		return 0;
	}
	found = ts_connmap__get(&s->map, r->conn, (uint32_t)s->nrc, &idx);
	if (found < 0)
		return found;
	if (!found) {
		if (s->nrc == s->rc_cap) {
			size_t cap = s->rc_cap ? s->rc_cap * 2 : 256;
			struct rconn *p = realloc(s->rc, cap * sizeof(*p));

			if (!p)
				return -ENOMEM;
			s->rc = p;
			s->rc_cap = cap;
		}
		memset(&s->rc[s->nrc++], 0, sizeof(s->rc[0]));
	}
	s->rc[idx].r = *r;
	s->rc[idx].count++;
	s->rc[idx].rtx[r->type == TS_REC_SYNACK_RETRANS ? TS_RTX_SYNACK :
						       ts_rtx_kind_of(r->new_state)]++;
	return 0;
}

static int sum_rec(void *priv, const struct ts_rec *r)
{
	struct summary *s = priv;
	int err = 0;

	if (!s->records && !s->lost_recs)
		s->first_ts = r->ts_ns;
	if (r->ts_ns > s->last_ts)
		s->last_ts = r->ts_ns;
	if (r->type == TS_REC_LOST) {
		s->lost += r->lost;
		s->lost_recs++;
		return 0;
	}
	if (r->type == TS_REC_DROP_SUPPRESSED) {
		s->drops_suppressed += r->lost;
		return 0;
	}
	s->records++;
	if (r->type == TS_REC_DROP) {
		s->drops++;
		reasons_add(&s->drop_why, r->reason_name, false);
		return 0;
	}
	/* States come from a decoder that checked them; check again anyway. */
	if (!ts_state_valid(r->old_state) || !ts_state_valid(r->new_state))
		return 0;
	switch (r->type) {
	case TS_REC_STATE:
		s->trans[r->old_state][r->new_state][ts_rec_label(r)]++;
		if (r->new_state == TS_ESTABLISHED && r->ns_in_old) {
			if (r->old_state == TS_SYN_SENT)
				err = ts_quant__push(&s->hs_client, r->ns_in_old);
			else if (r->old_state == TS_SYN_RECV)
				err = ts_quant__push(&s->hs_server, r->ns_in_old);
		}
		if (r->has_stats) {
			s->closes_with_stats++;
			s->segs_out += r->st.segs_out;
			s->total_retrans += r->st.total_retrans;
		}
		break;
	case TS_REC_RETRANS:
		s->retrans[r->new_state]++;
		err = note_retrans(s, r);
		break;
	case TS_REC_SYNACK_RETRANS:
		s->synack_retrans++;
		err = note_retrans(s, r);
		break;
	case TS_REC_RESET_SENT:
		s->reset_sent++;
		reasons_add(&s->rst_sent_why, ts_rst_why_of(r).name, ts_rst_why_of(r).inferred);
		break;
	case TS_REC_RESET_RECV:
		s->reset_recv++;
		reasons_add(&s->rst_recv_why, ts_rst_why_of(r).name, ts_rst_why_of(r).inferred);
		break;
	default:
		break;
	}
	if (err && !s->err)
		s->err = err;
	return err;
}

static int cmp_rconn(const void *a, const void *b)
{
	const struct rconn *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return x->r.conn < y->r.conn ? -1 : x->r.conn > y->r.conn;
}

static void json_hs(struct ts_jsonw *w, const char *key, struct ts_quant *v)
{
	ts_jsonw__object_begin(w, key);
	ts_jsonw__u64(w, "count", v->count);
	if (v->count) {
		ts_jsonw__u64(w, "p50_us", ts_quant__pct(v, 0.50) / 1000);
		ts_jsonw__u64(w, "p90_us", ts_quant__pct(v, 0.90) / 1000);
		ts_jsonw__u64(w, "p99_us", ts_quant__pct(v, 0.99) / 1000);
		ts_jsonw__u64(w, "max_us", v->max / 1000);
	} else {
		ts_jsonw__null(w, "p50_us");
		ts_jsonw__null(w, "p90_us");
		ts_jsonw__null(w, "p99_us");
		ts_jsonw__null(w, "max_us");
	}
	ts_jsonw__object_end(w);
}

/* Retransmissions by kind, as timelines count them. */
static void rtx_by_kind(const struct summary *s, uint64_t out[TS_RTX_KINDS])
{
	memset(out, 0, TS_RTX_KINDS * sizeof(out[0]));
	for (int st = 0; st < TS_STATE_MAX; st++)
		out[ts_rtx_kind_of(st)] += s->retrans[st];
	out[TS_RTX_SYNACK] += s->synack_retrans;
}

static void json_reasons(struct ts_jsonw *w, const char *key, const struct reasons *t,
			 bool with_inferred)
{
	ts_jsonw__array_begin(w, key);
	for (size_t i = 0; i < t->n; i++) {
		ts_jsonw__object_begin(w, NULL);
		if (t->rows[i].name)
			ts_jsonw__str(w, "reason", t->rows[i].name);
		else
			ts_jsonw__null(w, "reason");
		if (with_inferred)
			ts_jsonw__bool(w, "inferred", t->rows[i].name && t->rows[i].inferred);
		ts_jsonw__u64(w, "count", t->rows[i].count);
		ts_jsonw__object_end(w);
	}
	ts_jsonw__array_end(w);
}

static void write_json(struct summary *s)
{
	uint64_t rtx[TS_RTX_KINDS];
	struct ts_jsonw w;

	ts_jsonw__begin(&w, s->f);
	ts_jsonw__str(&w, "event", "report_summary");
	ts_jsonw__u64(&w, "records", s->records);
	ts_jsonw__u64(&w, "lost", s->lost);
	if (s->records || s->lost_recs) {
		ts_json_time(&w, "first_", s->first_ts, s->meta.wall_offset_ns);
		ts_json_time(&w, "last_", s->last_ts, s->meta.wall_offset_ns);
	} else {
		ts_jsonw__null(&w, "first_ts_ns");
		ts_jsonw__null(&w, "first_time");
		ts_jsonw__null(&w, "last_ts_ns");
		ts_jsonw__null(&w, "last_time");
	}
	ts_jsonw__array_begin(&w, "transitions");
	for (int o = 0; o < TS_STATE_MAX; o++)
		for (int n = 0; n < TS_STATE_MAX; n++)
			for (int l = 0; l < TS_LABELS; l++) {
				if (!s->trans[o][n][l])
					continue;
				ts_jsonw__object_begin(&w, NULL);
				ts_jsonw__str(&w, "from", ts_state_name(o));
				ts_jsonw__str(&w, "to", ts_state_name(n));
				ts_jsonw__str(&w, "step", ts_label_text(l));
				ts_jsonw__u64(&w, "count", s->trans[o][n][l]);
				ts_jsonw__object_end(&w);
			}
	ts_jsonw__array_end(&w);
	ts_jsonw__u64(&w, "connections", s->conns);
	ts_jsonw__object_begin(&w, "closes");
	for (int k = 0; k <= TS_CLOSE_TIMEOUT; k++)
		if (s->close_kind[k])
			ts_jsonw__u64(&w, ts_close_name(k), s->close_kind[k]);
	ts_jsonw__object_end(&w);
	rtx_by_kind(s, rtx);
	ts_jsonw__object_begin(&w, "retransmits");
	for (int k = 0; k < TS_RTX_KINDS; k++)
		ts_jsonw__u64(&w, ts_rtx_name(k), rtx[k]);
	ts_jsonw__object_end(&w);
	ts_jsonw__object_begin(&w, "retransmits_by_state");
	for (int st = 0; st < TS_STATE_MAX; st++)
		if (s->retrans[st])
			ts_jsonw__u64(&w, ts_state_name(st), s->retrans[st]);
	ts_jsonw__object_end(&w);
	ts_jsonw__u64(&w, "resets_sent", s->reset_sent);
	ts_jsonw__u64(&w, "resets_received", s->reset_recv);
	json_reasons(&w, "resets_sent_by_reason", &s->rst_sent_why, true);
	json_reasons(&w, "resets_received_by_reason", &s->rst_recv_why, true);
	ts_jsonw__u64(&w, "drops", s->drops);
	ts_jsonw__u64(&w, "drops_suppressed", s->drops_suppressed);
	json_reasons(&w, "drops_by_reason", &s->drop_why, false);
	ts_jsonw__object_begin(&w, "handshake");
	json_hs(&w, "client", &s->hs_client);
	json_hs(&w, "server", &s->hs_server);
	ts_jsonw__object_end(&w);
	ts_jsonw__u64(&w, "closes_with_stats", s->closes_with_stats);
	ts_jsonw__u64(&w, "segs_out", s->segs_out);
	ts_jsonw__u64(&w, "total_retrans", s->total_retrans);
	if (s->segs_out)
		ts_jsonw__double(&w, "retrans_pct", 100.0 * s->total_retrans / s->segs_out, 2);
	else
		ts_jsonw__null(&w, "retrans_pct");
	ts_jsonw__array_begin(&w, "top_retransmits");
	for (size_t i = 0; i < s->nrc && i < TS_SUMMARY_TOP; i++) {
		const struct rconn *rc = &s->rc[i];

		ts_jsonw__object_begin(&w, NULL);
		ts_json_conn_id(&w, rc->r.conn);
		ts_json_owner(&w, rc->r.pid, rc->r.comm);
		ts_json_tuple(&w, rc->r.family, rc->r.saddr, rc->r.sport, rc->r.daddr,
			      rc->r.dport);
		ts_jsonw__u64(&w, "netns", rc->r.netns);
		ts_jsonw__object_begin(&w, "retransmits");
		for (int k = 0; k < TS_RTX_KINDS; k++)
			ts_jsonw__u64(&w, ts_rtx_name(k), rc->rtx[k]);
		ts_jsonw__object_end(&w);
		ts_jsonw__u64(&w, "retransmits_total", rc->count);
		ts_jsonw__object_end(&w);
	}
	ts_jsonw__array_end(&w);
	if (s->rc_unranked)
		ts_jsonw__u64(&w, "unranked_retransmits", s->rc_unranked);
	ts_jsonw__end(&w);
}

static void text_hs(FILE *f, const char *what, struct ts_quant *v)
{
	if (!v->count) {
		fprintf(f, "  %-34s %8s\n", what, "0");
		return;
	}
	fprintf(f, "  %-34s %8llu %10.3f %10.3f %10.3f %10.3f\n", what,
		(unsigned long long)v->count, ts_quant__pct(v, 0.50) / 1e6,
		ts_quant__pct(v, 0.90) / 1e6, ts_quant__pct(v, 0.99) / 1e6, v->max / 1e6);
}

static void text_reasons(FILE *f, const char *title, const struct reasons *t)
{
	if (!t->n)
		return;
	fprintf(f, "  %s\n", title);
	for (size_t i = 0; i < t->n; i++) {
		char name[TS_KNAME_MAX + 16];

		snprintf(name, sizeof(name), "%s%s", t->rows[i].name ? t->rows[i].name : "(unknown)",
			 t->rows[i].name && t->rows[i].inferred ? " (inferred)" : "");
		fprintf(f, "    %-38s %10llu\n", name, (unsigned long long)t->rows[i].count);
	}
	if (t->other)
		fprintf(f, "    %-38s %10llu\n", "(other reasons)", (unsigned long long)t->other);
}

static void write_text(struct summary *s)
{
	char t1[TS_TIMESTR_LEN], t2[TS_TIMESTR_LEN];
	char l[TS_ADDRSTR_LEN], rm[TS_ADDRSTR_LEN], ev[40];
	char comm[TS_ESC_LEN(TS_COMM_LEN)];
	FILE *f = s->f;
	uint64_t rt = 0, rtx[TS_RTX_KINDS];
	int tw = (int)strlen("STATE CHANGE"), lw = (int)strlen("STEP");

	fprintf(f, "%llu records, %llu events lost", (unsigned long long)s->records,
		(unsigned long long)s->lost);
	if (s->records || s->lost_recs) {
		ts_fmt_rfc3339(t1, sizeof(t1), ts_wall_ns(s->first_ts, s->meta.wall_offset_ns));
		ts_fmt_rfc3339(t2, sizeof(t2), ts_wall_ns(s->last_ts, s->meta.wall_offset_ns));
		fprintf(f, ", from %s to %s", t1, t2);
	}
	/* Columns as wide as their widest row, whatever the labels. */
	for (int o = 0; o < TS_STATE_MAX; o++)
		for (int n = 0; n < TS_STATE_MAX; n++)
			for (int k = 0; k < TS_LABELS; k++) {
				if (!s->trans[o][n][k])
					continue;
				snprintf(ev, sizeof(ev), "%s -> %s", ts_state_name(o),
					 ts_state_name(n));
				if ((int)strlen(ev) > tw)
					tw = (int)strlen(ev);
				if ((int)strlen(ts_label_text(k)) > lw)
					lw = (int)strlen(ts_label_text(k));
			}
	fprintf(f, "\n\n%-*s  %-*s  %10s\n", tw, "STATE CHANGE", lw, "STEP", "COUNT");
	for (int o = 0; o < TS_STATE_MAX; o++)
		for (int n = 0; n < TS_STATE_MAX; n++)
			for (int k = 0; k < TS_LABELS; k++) {
				if (!s->trans[o][n][k])
					continue;
				snprintf(ev, sizeof(ev), "%s -> %s", ts_state_name(o),
					 ts_state_name(n));
				fprintf(f, "%-*s  %-*s  %10llu\n", tw, ev, lw, ts_label_text(k),
					(unsigned long long)s->trans[o][n][k]);
			}
	if (s->conns) {
		fprintf(f, "\n%-40s %10s\n", "HOW CONNECTIONS ENDED", "COUNT");
		for (int k = 0; k <= TS_CLOSE_TIMEOUT; k++)
			if (s->close_kind[k])
				fprintf(f, "%-40s %10llu\n", ts_close_name(k),
					(unsigned long long)s->close_kind[k]);
	}
	rtx_by_kind(s, rtx);
	for (int k = 0; k < TS_RTX_KINDS; k++)
		rt += rtx[k];
	fprintf(f, "\nRetransmissions: %llu (", (unsigned long long)rt);
	for (int k = 0; k < TS_RTX_KINDS; k++)
		fprintf(f, "%s%s %llu", k ? ", " : "", ts_rtx_name(k), (unsigned long long)rtx[k]);
	fprintf(f, ")\n");
	fprintf(f, "Resets: %llu sent, %llu received\n", (unsigned long long)s->reset_sent,
		(unsigned long long)s->reset_recv);
	text_reasons(f, "sent, by reason:", &s->rst_sent_why);
	text_reasons(f, "received, by reason:", &s->rst_recv_why);
	if (s->drops || s->drops_suppressed) {
		fprintf(f, "Drops: %llu recorded, %llu more only counted (the kernel's bound)\n",
			(unsigned long long)s->drops, (unsigned long long)s->drops_suppressed);
		text_reasons(f, "recorded, by reason:", &s->drop_why);
	}
	if (s->segs_out) {
		double p = 100.0 * s->total_retrans / s->segs_out;

		fprintf(
		    f,
		    "Retransmitted segments of closed connections: %llu of %llu sent (%.2f %%)%s%s%s\n",
		    (unsigned long long)s->total_retrans, (unsigned long long)s->segs_out, p,
		    p > 1.0 && s->meta.color ? TS_C_ALERT : "",
		    p > 1.0 ? "  -- above 1 %: worth a look" : "",
		    p > 1.0 && s->meta.color ? TS_C_RESET : "");
	}
	fprintf(f, "\n%-36s %8s %10s %10s %10s %10s\n", "HANDSHAKE TIME (ms)", "COUNT", "P50",
		"P90", "P99", "MAX");
	text_hs(f, "client (SYN_SENT -> ESTABLISHED)", &s->hs_client);
	text_hs(f, "server (SYN_RECV -> ESTABLISHED)", &s->hs_server);
	if (!s->nrc)
		return;
	fprintf(f, "\nTop connections by retransmissions\n%8s %-7s %-16s %-26s %-26s %s\n",
		"RETRANS", "PID", "COMM", "LOCAL", "REMOTE", "CONN");
	for (size_t i = 0; i < s->nrc && i < TS_SUMMARY_TOP; i++) {
		const struct ts_rec *r = &s->rc[i].r;
		char pid[16] = "-";

		ts_fmt_endpoint(l, sizeof(l), r->family, r->saddr, r->sport);
		ts_fmt_endpoint(rm, sizeof(rm), r->family, r->daddr, r->dport);
		if (r->pid)
			snprintf(pid, sizeof(pid), "%u", r->pid);
		fprintf(f, "%8llu %-7s %-16s %-26s %-26s %llu\n",
			(unsigned long long)s->rc[i].count, pid,
			r->comm[0] ? ts_escape(comm, sizeof(comm), r->comm) : "-", l,
			rm, (unsigned long long)r->conn);
	}
	if (s->rc_unranked)
		fprintf(f, "(%llu retransmissions of connections past the first %d that "
			   "retransmitted are counted above, not ranked)\n",
			(unsigned long long)s->rc_unranked, TS_SUMMARY_MAX_RCONNS);
}

static int sum_finish(void *priv, const struct ts_totals *t)
{
	struct summary *s = priv;

	(void)t;
	/* qsort with a NULL base is undefined even for zero elements. */
	if (s->nrc)
		qsort(s->rc, s->nrc, sizeof(*s->rc), cmp_rconn);
	if (s->json)
		write_json(s);
	else
		write_text(s);
	if (fflush(s->f))
		return -errno;
	return s->err;
}

static int sum_flush(void *priv)
{
	(void)priv;
	return 0;
}

static void sum_destroy(void *priv)
{
	struct summary *s = priv;

	ts_quant__free(&s->hs_client);
	ts_quant__free(&s->hs_server);
	free(s->rc);
	ts_connmap__free(&s->map);
	free(s);
}

static int sum_conn_end(void *priv, const struct ts_conn *c)
{
	struct summary *s = priv;

	/* The tracker's own enum: still range-check before indexing. */
	if ((unsigned int)c->close <= TS_CLOSE_TIMEOUT)
		s->close_kind[c->close]++;
	s->conns++;
	return 0;
}

static const struct ts_sink_ops summary_ops = {
    .name = "summary",
    .rec = sum_rec,
    .conn_end = sum_conn_end,
    .flush = sum_flush,
    .finish = sum_finish,
    .destroy = sum_destroy,
};

int ts_sink_summary__new(struct ts_sink *out, FILE *f, const struct ts_meta *m, bool json)
{
	struct summary *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->f = f;
	s->meta = *m;
	s->json = json;
	out->ops = &summary_ops;
	out->priv = s;
	return 0;
}
