// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* report --summary: what a capture holds, in a few tables. */
#include "core/util/escape.h"
#include "core/stream/connmap.h"
#include "core/util/fmt.h"
#include "core/util/jsonw.h"
#include "core/util/quantile.h"
#include "core/util/tally.h"
#include "core/sinks/colors.h"
#include "core/sinks/sinks.h"
#include "core/sinks/sink_report.h"
#include "core/stream/states.h"
#include "core/stream/step_label.h"
#include "core/stream/tracker.h"
#include "core/stream/rtx.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A connection that retransmitted, as its last such record showed it. */
struct rconn {
	struct ts_rec r;
	uint64_t count;
	uint64_t rtx[TS_RTX_KINDS];
	uint64_t last_ns[TS_RTX_KINDS]; /* its latest retransmission of a kind */
	uint64_t stall_ns;		/* time lost to stalls, at least */
};

/* Longest a retransmission timer waits (TCP_RTO_MAX, 120 s): a longer gap
 * between two retransmissions is two stalls, not one. */
#define STALL_MAX_GAP_NS 120000000000ull

/* The name a retransmission is counted under, NULL when it gives none. */
static const char *rtx_reason_of(const struct ts_rec *r)
{
	return r->has_rtx ? ts_rtx__reason_text(ts_rtx__reason(r)) : NULL;
}

/* A reset by its reason: the kernel's name, else the one inferred, else
 * unnamed (""). */
static void tally_reset(struct ts_tally *t, const struct ts_rec *r)
{
	struct ts_rst_why w = ts_rst_why_of(r);

	if (w.name && w.inferred)
		ts_tally__add_inferred(t, w.name, 1);
	else
		ts_tally__add(t, w.name, 1);
}

/* The wait before a retransmission when the record says it (the RTO in
 * force for a timeout); 0 when unknown. */
static uint64_t rtx_wait_ns(const struct ts_rec *r)
{
	if (!r->has_rtx || !(r->rtx.flags & TS_RTX_F_RTO) || ts_rtx__reason(r) != TS_RTXR_RTO)
		return 0;
	return (uint64_t)r->rtx.rto_us * 1000;
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
	uint64_t close_kind[TS_CLOSE_KINDS];
	uint64_t conns;
	struct ts_quant hs_client, hs_server; /* handshake times, ns */
	uint64_t hs_server_unknown; /* server handshakes the kernel did not time */
	struct ts_connmap map;
	struct rconn *rc;
	size_t nrc, rc_cap;
	uint64_t rc_unranked; /* retransmits of connections past the cap */
	struct ts_tally rtx_why[TS_RTX_KINDS]; /* retransmissions by kind and reason */
	struct ts_tally drops_why, rst_sent_why, rst_recv_why;
	uint64_t drops, drops_suppressed;
};

static int note_retrans(struct summary *s, const struct ts_rec *r)
{
	enum ts_rtx_kind k = r->type == TS_REC_SYNACK_RETRANS ? TS_RTX_SYNACK :
							       ts_rtx_kind_of(r->new_state);
	struct rconn *rc;
	uint32_t idx;
	int found;

	ts_tally__add(&s->rtx_why[k], rtx_reason_of(r) ? rtx_reason_of(r) : "unknown", 1);
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
	rc = &s->rc[idx];
	rc->r = *r;
	rc->count++;
	rc->rtx[k]++;
	/*
	 * A stall: retransmissions of one kind, each within the longest RTO
	 * of the one before; the connection waited from the first to the
	 * last, and before the first for as long as the record says.
	 */
	if (rc->last_ns[k] && r->ts_ns >= rc->last_ns[k] &&
	    r->ts_ns - rc->last_ns[k] <= STALL_MAX_GAP_NS)
		rc->stall_ns += r->ts_ns - rc->last_ns[k];
	else
		rc->stall_ns += rtx_wait_ns(r);
	if (r->ts_ns > rc->last_ns[k])
		rc->last_ns[k] = r->ts_ns;
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
		ts_tally__add(&s->drops_why, r->reason_name, 1);
		return 0;
	}
	/* States come from a decoder that checked them; check again anyway. */
	if (!ts_state_valid(r->old_state) || !ts_state_valid(r->new_state))
		return 0;
	switch (r->type) {
	case TS_REC_STATE:
		s->trans[r->old_state][r->new_state][ts_rec_label(r)]++;
		/* A server's handshake is the tracker's (sum_conn_end): its
		 * SYN_RECV -> ESTABLISHED is microseconds of kernel work. */
		if (r->new_state == TS_ESTABLISHED && r->ns_in_old && r->old_state == TS_SYN_SENT)
			err = ts_quant__push(&s->hs_client, r->ns_in_old);
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
		tally_reset(&s->rst_sent_why, r);
		break;
	case TS_REC_RESET_RECV:
		s->reset_recv++;
		tally_reset(&s->rst_recv_why, r);
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

/* The connections that lost the most time to stalls, longest first. */
static size_t top_stalls(const struct summary *s, const struct rconn **top)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nrc; i++) {
		const struct rconn *rc = &s->rc[i];
		size_t j;

		if (!rc->stall_ns)
			continue;
		if (n == TS_SUMMARY_TOP && rc->stall_ns <= top[n - 1]->stall_ns)
			continue;
		if (n < TS_SUMMARY_TOP)
			n++;
		for (j = n - 1; j > 0 && top[j - 1]->stall_ns < rc->stall_ns; j--)
			top[j] = top[j - 1];
		top[j] = rc;
	}
	return n;
}

static void json_tally(struct ts_jsonw *w, const char *key, struct ts_tally *t)
{
	ts_tally__sort(t);
	ts_jsonw__object_begin(w, key);
	for (uint32_t i = 0; i < t->n; i++)
		ts_jsonw__u64(w, t->rows[i].name, t->rows[i].count);
	if (t->other)
		ts_jsonw__u64(w, "other", t->other);
	ts_jsonw__object_end(w);
}

/* [{reason, inferred, count}]: reason null when unnamed, "other" past
 * TS_TALLY_MAX names; inferred only where a source can infer one. */
static void json_reasons(struct ts_jsonw *w, const char *key, struct ts_tally *t,
			 bool with_inferred)
{
	ts_tally__sort(t);
	ts_jsonw__array_begin(w, key);
	for (uint32_t i = 0; i <= t->n; i++) {
		const struct ts_tally_row *row = i < t->n ? &t->rows[i] : NULL;

		if (!row && !t->other)
			break;
		ts_jsonw__object_begin(w, NULL);
		if (!row)
			ts_jsonw__str(w, "reason", "other");
		else if (row->name[0])
			ts_jsonw__str(w, "reason", row->name);
		else
			ts_jsonw__null(w, "reason");
		if (with_inferred)
			ts_jsonw__bool(w, "inferred", row && row->name[0] && row->inferred);
		ts_jsonw__u64(w, "count", row ? row->count : t->other);
		ts_jsonw__object_end(w);
	}
	ts_jsonw__array_end(w);
}

static void json_why(struct ts_jsonw *w, struct summary *s)
{
	const struct rconn *top[TS_SUMMARY_TOP];
	size_t n = top_stalls(s, top);

	ts_jsonw__object_begin(w, "retransmits_by_reason");
	for (int k = 0; k < TS_RTX_KINDS; k++)
		json_tally(w, ts_rtx_name(k), &s->rtx_why[k]);
	ts_jsonw__object_end(w);
	ts_jsonw__array_begin(w, "stalls");
	for (size_t i = 0; i < n; i++) {
		const struct ts_rec *r = &top[i]->r;

		ts_jsonw__object_begin(w, NULL);
		ts_json_conn_id(w, r->conn);
		ts_json_owner(w, r->pid, r->comm);
		ts_json_tuple(w, r->family, r->saddr, r->sport, r->daddr, r->dport);
		ts_jsonw__u64(w, "netns", r->netns);
		ts_jsonw__u64(w, "stall_us", top[i]->stall_ns / 1000);
		ts_jsonw__u64(w, "retransmits_total", top[i]->count);
		ts_jsonw__object_end(w);
	}
	ts_jsonw__array_end(w);
	json_reasons(w, "drops_by_reason", &s->drops_why, false);
	json_reasons(w, "resets_sent_by_reason", &s->rst_sent_why, true);
	json_reasons(w, "resets_received_by_reason", &s->rst_recv_why, true);
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
	for (int k = 0; k < TS_CLOSE_KINDS; k++)
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
	ts_jsonw__u64(&w, "drops", s->drops);
	ts_jsonw__u64(&w, "drops_suppressed", s->drops_suppressed);
	ts_jsonw__object_begin(&w, "handshake");
	json_hs(&w, "client", &s->hs_client);
	json_hs(&w, "server", &s->hs_server);
	ts_jsonw__u64(&w, "server_unknown", s->hs_server_unknown);
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
	json_why(&w, s);
	ts_jsonw__end(&w);
}

static void text_hs(FILE *f, const char *what, struct ts_quant *v)
{
	if (!v->count) {
		fprintf(f, "  %-32s %5s\n", what, "0");
		return;
	}
	fprintf(f, "  %-32s %5llu %9.3f %9.3f %9.3f %9.3f\n", what,
		(unsigned long long)v->count, ts_quant__pct(v, 0.50) / 1e6,
		ts_quant__pct(v, 0.90) / 1e6, ts_quant__pct(v, 0.99) / 1e6, v->max / 1e6);
}

/* One "NAME  COUNT" table of a tally; nothing when it is empty. */
static void text_tally(FILE *f, const char *title, struct ts_tally *t)
{
	char name[TS_ESC_LEN(TS_TALLY_NAME)];

	if (!t->total)
		return;
	ts_tally__sort(t);
	fprintf(f, "\n%-58s %10s\n", title, "COUNT");
	for (uint32_t i = 0; i < t->n; i++) {
		const struct ts_tally_row *row = &t->rows[i];
		int pad;

		if (!row->name[0])
			snprintf(name, sizeof(name), "(unknown)");
		else
			ts_escape(name, sizeof(name), row->name);
		pad = 56 - (int)strlen(name);
		fprintf(f, "  %s%-*s %10llu\n", name, pad > 0 ? pad : 0,
			row->inferred ? " (inferred)" : "", (unsigned long long)row->count);
	}
	if (t->other)
		fprintf(f, "  %-56s %10llu\n", "(other reasons)", (unsigned long long)t->other);
}

/* Why: retransmissions by kind and reason, stalls, drops, resets. */
static void text_why(FILE *f, struct summary *s)
{
	const struct rconn *top[TS_SUMMARY_TOP];
	char rm[TS_ADDRSTR_LEN], name[TS_ESC_LEN(TS_TALLY_NAME)];
	size_t n = top_stalls(s, top);
	bool any = false;

	for (int k = 0; k < TS_RTX_KINDS; k++) {
		struct ts_tally *t = &s->rtx_why[k];

		if (!t->total)
			continue;
		if (!any)
			fprintf(f, "\n%-8s %-49s %10s\n", "KIND", "RETRANSMITTED BECAUSE", "COUNT");
		any = true;
		ts_tally__sort(t);
		for (uint32_t i = 0; i < t->n; i++)
			fprintf(f, "%-8s %-49s %10llu\n", ts_rtx_name(k),
				ts_escape(name, sizeof(name), t->rows[i].name),
				(unsigned long long)t->rows[i].count);
		if (t->other)
			fprintf(f, "%-8s %-49s %10llu\n", ts_rtx_name(k), "(other reasons)",
				(unsigned long long)t->other);
	}
	if (n) {
		fprintf(f, "\nTime lost to retransmission stalls (at least), top connections\n");
		fprintf(f, "%10s %7s  %-20s %s\n", "STALL ms", "RETRANS", "CONN", "REMOTE");
		for (size_t i = 0; i < n; i++) {
			const struct ts_rec *r = &top[i]->r;

			ts_fmt_endpoint(rm, sizeof(rm), r->family, r->daddr, r->dport);
			fprintf(f, "%10.3f %7llu  %-20llu %s\n", top[i]->stall_ns / 1e6,
				(unsigned long long)top[i]->count, (unsigned long long)r->conn, rm);
		}
	}
	text_tally(f, "DROPS BY REASON", &s->drops_why);
	text_tally(f, "RESETS SENT BY REASON", &s->rst_sent_why);
	text_tally(f, "RESETS RECEIVED BY REASON", &s->rst_recv_why);
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
		fprintf(f, "\nfrom %s to %s", t1, t2);
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
		for (int k = 0; k < TS_CLOSE_KINDS; k++)
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
	if (s->drops || s->drops_suppressed)
		fprintf(f, "Drops: %llu recorded, %llu more only counted (the kernel's bound)\n",
			(unsigned long long)s->drops, (unsigned long long)s->drops_suppressed);
	if (s->segs_out) {
		double p = 100.0 * s->total_retrans / s->segs_out;

		fprintf(f, "Retransmitted segments of closed connections: %llu of %llu sent (%.2f %%)\n",
			(unsigned long long)s->total_retrans, (unsigned long long)s->segs_out, p);
		if (p > 1.0)
			fprintf(f, "%s  above 1 %%: worth a look%s\n",
				s->meta.color ? TS_C_ALERT : "", s->meta.color ? TS_C_RESET : "");
	}
	fprintf(f, "\n%-34s %5s %9s %9s %9s %9s\n", "HANDSHAKE TIME (ms)", "COUNT", "P50",
		"P90", "P99", "MAX");
	text_hs(f, "client (SYN_SENT -> ESTABLISHED)", &s->hs_client);
	text_hs(f, "server (from its first SYN-ACK)", &s->hs_server);
	if (s->hs_server_unknown)
		fprintf(f, "%-34s %5llu  not timed by the kernel (--timeline)\n",
			"server, time not known", (unsigned long long)s->hs_server_unknown);
	if (!s->nrc) {
		text_why(f, s);
		return;
	}
	fprintf(f, "\nTop connections by retransmissions\n%7s  %-7s %-16s %s\n%9s%s\n",
		"RETRANS", "PID", "COMM", "CONN", "", "LOCAL -> REMOTE");
	for (size_t i = 0; i < s->nrc && i < TS_SUMMARY_TOP; i++) {
		const struct ts_rec *r = &s->rc[i].r;
		char pid[16] = "-";

		ts_fmt_endpoint(l, sizeof(l), r->family, r->saddr, r->sport);
		ts_fmt_endpoint(rm, sizeof(rm), r->family, r->daddr, r->dport);
		if (r->pid)
			snprintf(pid, sizeof(pid), "%u", r->pid);
		fprintf(f, "%7llu  %-7s %-16s %llu\n%9s%s -> %s\n",
			(unsigned long long)s->rc[i].count, pid,
			r->comm[0] ? ts_escape(comm, sizeof(comm), r->comm) : "-",
			(unsigned long long)r->conn, "", l, rm);
	}
	if (s->rc_unranked)
		fprintf(f, "(%llu retransmissions of connections past the first %d that\n"
			   " retransmitted are counted above, not ranked)\n",
			(unsigned long long)s->rc_unranked, TS_SUMMARY_MAX_RCONNS);
	text_why(f, s);
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
	if ((unsigned int)c->close < TS_CLOSE_KINDS)
		s->close_kind[c->close]++;
	s->conns++;
	/* Measured from the first SYN-ACK where the kernel told it;
	 * unknown ones are counted apart, never guessed. */
	if (c->role == TS_ROLE_SERVER && c->handshake_ns >= 0)
		return ts_quant__push(&s->hs_server, (uint64_t)c->handshake_ns);
	if (c->role == TS_ROLE_SERVER && ts_hs_basis_why(c->hs_basis))
		s->hs_server_unknown++;
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
