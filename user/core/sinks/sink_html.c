// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * report --html: one self-contained page (inline SVG, CSS and script, no
 * network) with every connection as a row on a shared time axis, the
 * summary tables and a histogram of handshake times.
 *
 * Memory and page size stay bounded: at most max_conns connections are
 * kept as rows, the worst first (most retransmissions and resets, then the
 * slowest handshake, then the longest life), in a heap; the others are
 * only counted, in the close-kind table, the histogram and one aggregated
 * row (connections opened per interval).  The data is embedded as JSON in
 * a <script type="application/json"> element and read with JSON.parse;
 * strings from the capture never reach innerHTML (see html/page.js).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "core/sinks/pictures.h"
#include "core/sinks/picture_util.h"
#include "core/sinks/sink_report.h"
#include "core/stream/states.h"
#include "core/stream/tracker.h"
#include "core/util/fmt.h"

/* From the build (scripts/embed-page.py). */
extern const char ts_html_page_head[];
extern const char ts_html_page_tail[];

#define REST_BUCKETS 256
#define HS_BUCKETS 40

struct html {
	FILE *f;
	struct ts_meta meta;
	uint32_t max;
	const char *title;
	const char *damage;
	int err;

	struct ts_conn *heap; /* min-heap: the least bad drawn row on top */
	uint32_t nheap;

	uint64_t total, lost;
	uint64_t close[TS_CLOSE_KINDS];
	bool have_base;
	uint64_t base_ns, last_ns;
	uint64_t hs[HS_BUCKETS]; /* handshakes by log2 of microseconds */

	uint64_t rest;		     /* connections not drawn */
	uint64_t rest_close[TS_CLOSE_KINDS];
	uint64_t opened[REST_BUCKETS]; /* of those, opened per bucket */
	uint64_t bucket_ns;

	struct ts_sink summary; /* report --summary's text, for the page */
	FILE *sumf;
	char *sumbuf;
	size_t sumlen;
};

/* > 0 when a should be drawn before b. */
static int worse(const struct ts_conn *a, const struct ts_conn *b)
{
	uint64_t ka = (uint64_t)a->rtx_total + a->resets_sent + a->resets_received;
	uint64_t kb = (uint64_t)b->rtx_total + b->resets_sent + b->resets_received;

	if (ka != kb)
		return ka > kb ? 1 : -1;
	if (a->handshake_ns != b->handshake_ns)
		return a->handshake_ns > b->handshake_ns ? 1 : -1;
	if (a->lifetime_ns != b->lifetime_ns)
		return a->lifetime_ns > b->lifetime_ns ? 1 : -1;
	if (a->id != b->id)
		return a->id < b->id ? 1 : -1;
	return 0;
}

static void swap(struct ts_conn *a, struct ts_conn *b)
{
	struct ts_conn t = *a;

	*a = *b;
	*b = t;
}

static void sift_down(struct html *h, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < h->nheap && worse(&h->heap[l], &h->heap[m]) < 0)
			m = l;
		if (r < h->nheap && worse(&h->heap[r], &h->heap[m]) < 0)
			m = r;
		if (m == i)
			return;
		swap(&h->heap[i], &h->heap[m]);
		i = m;
	}
}

static void sift_up(struct html *h, uint32_t i)
{
	while (i) {
		uint32_t p = (i - 1) / 2;

		if (worse(&h->heap[i], &h->heap[p]) >= 0)
			return;
		swap(&h->heap[i], &h->heap[p]);
		i = p;
	}
}

/* A connection that gets no row: counted in the aggregated one. */
static void add_rest(struct html *h, const struct ts_conn *c)
{
	uint64_t off = c->start_ns > h->base_ns ? c->start_ns - h->base_ns : 0;

	h->rest++;
	h->rest_close[c->close]++;
	/* Widen the buckets until the start fits. */
	while (off / h->bucket_ns >= REST_BUCKETS) {
		for (int i = 0; i < REST_BUCKETS / 2; i++)
			h->opened[i] = h->opened[2 * i] + h->opened[2 * i + 1];
		memset(h->opened + REST_BUCKETS / 2, 0, sizeof(h->opened) / 2);
		h->bucket_ns *= 2;
	}
	h->opened[off / h->bucket_ns]++;
}

static int html_conn(void *priv, const struct ts_conn *c)
{
	struct html *h = priv;
	int err = h->summary.ops->conn_end(h->summary.priv, c);

	h->total++;
	if ((unsigned int)c->close < TS_CLOSE_KINDS)
		h->close[c->close]++;
	if (c->end_ns > h->last_ns)
		h->last_ns = c->end_ns;
	if (c->handshake_ns >= 0) {
		uint64_t us = (uint64_t)c->handshake_ns / 1000;
		int b = 0;

		while (us && b < HS_BUCKETS - 1) {
			us >>= 1;
			b++;
		}
		h->hs[b]++;
	}
	if (h->nheap < h->max) {
		h->heap[h->nheap] = *c;
		/* The tracker's, freed after this call. */
		h->heap[h->nheap].rtxs = NULL;
		h->heap[h->nheap++].nrtx = 0;
		sift_up(h, h->nheap - 1);
	} else if (worse(c, &h->heap[0]) > 0) {
		add_rest(h, &h->heap[0]);
		h->heap[0] = *c;
		h->heap[0].rtxs = NULL;
		h->heap[0].nrtx = 0;
		sift_down(h, 0);
	} else {
		add_rest(h, c);
	}
	return err;
}

static int html_rec(void *priv, const struct ts_rec *r)
{
	struct html *h = priv;

	if (!h->have_base) {
		h->have_base = true;
		h->base_ns = r->ts_ns;
	}
	if (r->ts_ns > h->last_ns)
		h->last_ns = r->ts_ns;
	if (r->type == TS_REC_LOST)
		h->lost += r->lost;
	return h->summary.ops->rec(h->summary.priv, r);
}

static int html_flush(void *priv)
{
	(void)priv;
	return 0;
}

static void rel_us(FILE *f, const struct html *h, uint64_t ts)
{
	uint64_t d = ts > h->base_ns ? ts - h->base_ns : 0;

	fprintf(f, "%" PRIu64 ".%03u", d / 1000, (unsigned int)(d % 1000));
}

static int cmp_worst_first(const void *a, const void *b)
{
	return -worse(a, b);
}

static void write_conn(struct html *h, const struct ts_conn *c, bool comma)
{
	char ep[TS_ADDRSTR_LEN], id[24];
	FILE *f = h->f;

	fputs(comma ? ",\n{" : "\n{", f);
	snprintf(id, sizeof(id), "%" PRIu64, c->id);
	fputs("\"id\":", f);
	ts_pic_json_str(f, id);
	fputs(",\"role\":", f);
	ts_pic_json_str(f, ts_role_name(c->role));
	fputs(",\"comm\":", f);
	if (c->pid)
		ts_pic_json_str(f, c->comm);
	else
		fputs("null", f);
	fprintf(f, ",\"pid\":%u,\"l\":", c->pid);
	ts_fmt_endpoint(ep, sizeof(ep), c->family, c->saddr, c->sport);
	ts_pic_json_str(f, ep);
	fputs(",\"r\":", f);
	ts_fmt_endpoint(ep, sizeof(ep), c->family, c->daddr, c->dport);
	ts_pic_json_str(f, ep);
	fprintf(f, ",\"lport\":%u,\"rport\":%u,\"close\":", c->sport, c->dport);
	ts_pic_json_str(f, ts_close_name(c->close));
	fputs(",\"hs\":", f);
	if (c->handshake_ns >= 0)
		fprintf(f, "%.3f", c->handshake_ns / 1e3);
	else
		fputs("null", f);
	fprintf(f, ",\"life\":%.3f,\"rtx\":%u,\"rst\":%u,\"start\":", c->lifetime_ns / 1e3,
		c->rtx_total, c->resets_sent + c->resets_received);
	rel_us(f, h, c->nsteps && c->steps[0].ts_ns < c->start_ns ? c->steps[0].ts_ns : c->start_ns);
	fputs(",\"end\":", f);
	rel_us(f, h, c->end_ns);
	fputs(",\"steps\":[", f);
	for (int i = 0; i < c->nsteps; i++) {
		const struct ts_step *s = &c->steps[i];

		fputs(i ? ",[" : "[", f);
		rel_us(f, h, s->ts_ns);
		fputc(',', f);
		ts_pic_json_str(f, ts_state_name(s->from));
		fputc(',', f);
		ts_pic_json_str(f, ts_state_name(s->to));
		fputc(',', f);
		ts_pic_json_str(f, s->label ? s->label : "");
		fputs(s->flags & (TS_STEP_INFERRED | TS_STEP_PEER) ? ",1]" : ",0]", f);
	}
	fputs("],\"marks\":[", f);
	for (int i = 0; i < c->nmarks; i++) {
		const struct ts_mark *k = &c->marks[i];

		fputs(i ? ",[" : "[", f);
		rel_us(f, h, k->ts_ns);
		fputc(',', f);
		ts_pic_json_str(f, ts_pic_mark_name(k->type));
		fprintf(f, ",%u,", k->count ? k->count : 1);
		ts_pic_json_str(f, ts_state_name(k->state));
		fputc(']', f);
	}
	fputs("]}", f);
}

static void write_page(struct html *h, const struct ts_totals *t)
{
	FILE *f = h->f;
	uint64_t span = h->last_ns > h->base_ns ? h->last_ns - h->base_ns : 0;
	char when[TS_TIMESTR_LEN];

	qsort(h->heap, h->nheap, sizeof(*h->heap), cmp_worst_first);
	fputs(ts_html_page_head, f);
	fputs("{\"title\":", f);
	ts_pic_json_str(f, h->title ? h->title : "capture");
	fprintf(f, ",\"total\":%" PRIu64 ",\"max\":%u,\"lost\":%" PRIu64 ",\"records\":%" PRIu64
		   ",\"span_us\":%" PRIu64 ".%03u,\"damage\":",
		h->total, h->max, h->lost, t->records, span / 1000, (unsigned int)(span % 1000));
	if (h->damage)
		ts_pic_json_str(f, h->damage);
	else
		fputs("null", f);
	ts_fmt_rfc3339(when, sizeof(when), (int64_t)h->base_ns + h->meta.wall_offset_ns);
	fputs(",\"start\":", f);
	ts_pic_json_str(f, when);
	fputs(",\"close\":{", f);
	for (int k = TS_CLOSE_OPEN; k < TS_CLOSE_KINDS; k++) {
		fputs(k ? "," : "", f);
		ts_pic_json_str(f, ts_close_name(k));
		fprintf(f, ":%" PRIu64, h->close[k]);
	}
	fputs("},\"hist\":{\"hs_log2_us\":[", f);
	for (int i = 0; i < HS_BUCKETS; i++)
		fprintf(f, "%s%" PRIu64, i ? "," : "", h->hs[i]);
	fprintf(f, "]},\"rest\":{\"count\":%" PRIu64 ",\"first_us\":0,\"bucket_us\":%.3f,\"opened\":[",
		h->rest, h->bucket_ns / 1e3);
	for (int i = 0; i < REST_BUCKETS; i++)
		fprintf(f, "%s%" PRIu64, i ? "," : "", h->opened[i]);
	fputs("]},\"summary\":", f);
	ts_pic_json_str(f, h->sumbuf ? h->sumbuf : "");
	fputs(",\"conns\":[", f);
	for (uint32_t i = 0; i < h->nheap; i++)
		write_conn(h, &h->heap[i], i > 0);
	fputs("]}", f);
	fputs(ts_html_page_tail, f);
}

static int html_finish(void *priv, const struct ts_totals *t)
{
	struct html *h = priv;
	int err = h->summary.ops->finish(h->summary.priv, t);

	if (fflush(h->sumf) && !err)
		err = -errno;
	write_page(h, t);
	if (fflush(h->f) && !err)
		err = -errno;
	if (ferror(h->f) && !err)
		err = -EIO;
	return err;
}

static void html_destroy(void *priv)
{
	struct html *h = priv;

	if (!h)
		return;
	if (h->summary.ops)
		h->summary.ops->destroy(h->summary.priv);
	if (h->sumf)
		fclose(h->sumf);
	free(h->sumbuf);
	free(h->heap);
	free(h);
}

static const struct ts_sink_ops html_ops = {
	.name = "html",
	.rec = html_rec,
	.flush = html_flush,
	.finish = html_finish,
	.destroy = html_destroy,
	.conn_end = html_conn,
};

int ts_sink_html__new(struct ts_sink *out, FILE *f, const struct ts_meta *m,
		      const struct ts_html_opts *o)
{
	struct ts_meta plain = *m;
	struct html *h = calloc(1, sizeof(*h));
	int err = -ENOMEM;

	if (!h)
		return -ENOMEM;
	h->f = f;
	h->meta = *m;
	h->max = o && o->max_conns ? o->max_conns : TS_HTML_DEFAULT_MAX_CONNS;
	if (h->max > TS_HTML_MAX_CONNS)
		h->max = TS_HTML_MAX_CONNS;
	h->title = o ? o->title : NULL;
	h->bucket_ns = 1000000;
	h->heap = calloc(h->max, sizeof(*h->heap));
	h->sumf = open_memstream(&h->sumbuf, &h->sumlen);
	if (!h->heap || !h->sumf)
		goto cleanup;
	/* The summary's text goes into the page: no terminal colours. */
	plain.color = false;
	err = ts_sink_summary__new(&h->summary, h->sumf, &plain, false);
	if (err)
		goto cleanup;
	out->ops = &html_ops;
	out->priv = h;
	h = NULL;
cleanup:
	html_destroy(h);
	return err;
}

void ts_sink_html__note_damage(struct ts_sink *s, const char *msg)
{
	if (s->ops == &html_ops)
		((struct html *)s->priv)->damage = msg;
}
