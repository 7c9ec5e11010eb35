// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Retransmissions explained: the reason from what the socket said, the
 * kind from the segment, the relative sequence range, the text and JSON
 * that every view shares, the ring-buffer record with its detail, the
 * timeline's retransmission steps (golden: tests/data/timeline_rtx.txt,
 * timeline_rtx.jsonl; TS_UPDATE_GOLDEN=1 rewrites them) and their bounds,
 * and the kernel's HZ told from jiffies.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "check.h"
#include "core/sinks/sinks.h"
#include "core/stream/pipeline.h"
#include "core/stream/rtx.h"
#include "core/stream/tracker.h"
#include "core/util/hz.h"
#include "core/util/jsonw.h"

#define US 1000ull
#define MS 1000000ull
#define ISN 4000000000u /* the range wraps past 2^32: relative still right */

static struct ts_rec rtx_rec(uint64_t ts, uint8_t pending, uint8_t ca, uint8_t backoff,
			     uint32_t rel, uint32_t len, uint8_t flags)
{
	struct ts_rec r;

	memset(&r, 0, sizeof(r));
	r.type = TS_REC_RETRANS;
	r.family = 4;
	r.conn = 7;
	r.ts_ns = ts;
	r.old_state = r.new_state = TS_ESTABLISHED;
	r.sport = 40000;
	r.dport = 80;
	r.pid = 1234;
	r.netns = 4026531840u;
	r.saddr[0] = 198, r.saddr[1] = 18, r.saddr[3] = 1;
	r.daddr[0] = 198, r.daddr[1] = 18, r.daddr[3] = 2;
	snprintf(r.comm, sizeof(r.comm), "curl");
	r.has_rtx = true;
	r.rtx.seq = ISN + rel;
	r.rtx.end_seq = ISN + rel + len + !!(flags & 0x03);
	r.rtx.isn = ISN;
	r.rtx.snd_una = ISN + 1;
	r.rtx.snd_nxt = ISN + 1 + 20000;
	r.rtx.rto_us = 204000u << backoff;
	r.rtx.srtt_us = 36;
	r.rtx.total_retrans = 1 + backoff;
	r.rtx.segs = 1;
	r.rtx.tcp_flags = flags;
	r.rtx.ca_state = ca;
	r.rtx.pending = pending;
	r.rtx.retransmits = backoff;
	r.rtx.backoff = backoff;
	r.rtx.flags = TS_RTX_F_ISN | TS_RTX_F_RTO | TS_RTX_F_SKB;
	return r;
}

static void test_reason_kind(void)
{
	static const struct {
		uint8_t pending, ca;
		enum ts_rtx_reason want;
	} cases[] = {
		{ 0, TS_CA_LOSS, TS_RTXR_RTO },	/* the RTO handler cleared pending */
		{ 0, 0, TS_RTXR_RTO },
		{ TS_ICSK_TIME_LOSS_PROBE, 0, TS_RTXR_TLP },
		/* the TLP timer is armed in Recovery too: fast retransmit */
		{ TS_ICSK_TIME_LOSS_PROBE, TS_CA_RECOVERY, TS_RTXR_FAST },
		{ TS_ICSK_TIME_RETRANS, TS_CA_RECOVERY, TS_RTXR_FAST },
		{ TS_ICSK_TIME_REO_TIMEOUT, TS_CA_RECOVERY, TS_RTXR_FAST },
		{ TS_ICSK_TIME_RETRANS, TS_CA_LOSS, TS_RTXR_AFTER_RTO },
		{ TS_ICSK_TIME_RETRANS, 0, TS_RTXR_OTHER },
	};
	struct ts_rec r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = rtx_rec(0, cases[i].pending, cases[i].ca, 0, 1, 100, 0x18);
		CHECK_INT(ts_rtx__reason(&r), cases[i].want);
	}
	r.has_rtx = false;
	CHECK_INT(ts_rtx__reason(&r), TS_RTXR_UNKNOWN);
	/* Without a detail the kind comes from the state, as before. */
	r.new_state = TS_FIN_WAIT1;
	CHECK_INT(ts_rtx__kind(&r), TS_RTX_FIN);
	r = rtx_rec(0, 0, 0, 0, 0, 0, 0x02);
	CHECK_INT(ts_rtx__kind(&r), TS_RTX_SYN);
	CHECK_INT(ts_rtx__len(&r.rtx), 0);
	r.rtx.tcp_flags = 0x12;
	CHECK_INT(ts_rtx__kind(&r), TS_RTX_SYNACK);
	r = rtx_rec(0, 0, 0, 0, 1001, 500, 0x19); /* data and FIN */
	CHECK_INT(ts_rtx__kind(&r), TS_RTX_FIN);
	CHECK_INT(ts_rtx__len(&r.rtx), 500);
	r = rtx_rec(0, 0, TS_CA_LOSS, 2, 1, 600, 0x18);
	CHECK_INT(ts_rtx__kind(&r), TS_RTX_DATA);
	CHECK_INT(ts_rtx__timeout_nr(&r), 3);
	r.rtx.pending = TS_ICSK_TIME_RETRANS;
	CHECK_INT(ts_rtx__timeout_nr(&r), 0);
}

static void test_describe(void)
{
	struct ts_rec r = rtx_rec(0, 0, TS_CA_LOSS, 1, 1, 600, 0x18);
	char buf[160];

	ts_rtx__describe(buf, sizeof(buf), &r);
	CHECK_STR(buf, "data 1:601 (600 B) timeout #2, RTO 408 ms, backoff 1, srtt 0.036 ms");
	r.rtx.flags &= (uint8_t)~(TS_RTX_F_ISN | TS_RTX_F_RTO);
	r.rtx.srtt_us = 0;
	ts_rtx__describe(buf, sizeof(buf), &r);
	CHECK_STR(buf, "data 4000000001:4000000601 abs (600 B) timeout #2, backoff 1");
	r = rtx_rec(0, 0, 0, 0, 0, 0, 0x02);
	ts_rtx__describe(buf, sizeof(buf), &r);
	CHECK_STR(buf, "SYN seq 0 (0 B) timeout #1, RTO 204 ms, backoff 0, srtt 0.036 ms");
	r = rtx_rec(0, TS_ICSK_TIME_RETRANS, TS_CA_RECOVERY, 0, 14481, 2896, 0x10);
	r.rtx.segs = 2;
	ts_rtx__describe(buf, sizeof(buf), &r);
	CHECK_STR(buf, "data 14481:17377 (2896 B, 2 segs) fast retransmit, RTO 204 ms, backoff 0, srtt 0.036 ms");
	/* A buffer too small is cut, never overrun, and stays a string. */
	ts_rtx__describe(buf, 12, &r);
	CHECK(strlen(buf) < 12);
	r.has_rtx = false;
	CHECK_INT(ts_rtx__describe(buf, sizeof(buf), &r), 0);
	CHECK_STR(buf, "");
}

static void test_json(void)
{
	struct ts_rec r = rtx_rec(0, 0, TS_CA_LOSS, 1, 1, 600, 0x18);
	struct ts_jsonw w;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ts_jsonw__begin(&w, f);
	ts_rtx__json(&w, &r);
	r.rtx.flags = TS_RTX_F_SKB;
	r.rtx.pending = TS_ICSK_TIME_LOSS_PROBE;
	r.rtx.ca_state = 0;
	ts_rtx__json(&w, &r);
	ts_jsonw__end(&w);
	fclose(f);
	CHECK_STR(buf, "{\"retransmit\":{\"kind\":\"data\",\"reason\":\"rto\",\"seq\":1,\"end_seq\":601,"
		       "\"seq_abs\":4000000001,\"end_seq_abs\":4000000601,\"len\":600,\"segs\":1,"
		       "\"isn\":4000000000,\"snd_una\":1,\"timeout_nr\":2,\"rto_us\":408000,"
		       "\"backoff\":1,\"icsk_retransmits\":1,\"srtt_us\":36,\"ca_state\":\"loss\","
		       "\"timer\":\"none\",\"total_retrans\":2},"
		       "\"retransmit\":{\"kind\":\"data\",\"reason\":\"tlp\",\"seq\":null,"
		       "\"end_seq\":null,\"seq_abs\":4000000001,\"end_seq_abs\":4000000601,"
		       "\"len\":600,\"segs\":1,\"isn\":null,\"snd_una\":4000000001,"
		       "\"timeout_nr\":null,\"rto_us\":null,\"backoff\":1,\"icsk_retransmits\":1,"
		       "\"srtt_us\":36,\"ca_state\":\"open\",\"timer\":\"loss_probe\","
		       "\"total_retrans\":2}}\n");
	free(buf);
}

static void test_ring_record(void)
{
	struct ts_retrans raw;
	struct ts_rec r;

	memset(&raw, 0, sizeof(raw));
	raw.ev.type = TS_REC_RETRANS;
	raw.ev.family = 4;
	raw.ev.old_state = raw.ev.new_state = TS_ESTABLISHED;
	raw.ev.conn = 9;
	raw.ev.detail = TS_DET_RTX;
	raw.info.seq = 101;
	raw.info.end_seq = 201;
	raw.info.backoff = 3;
	CHECK_INT(ts_rec_decode(&raw, sizeof(raw), &r), 0);
	CHECK(r.has_rtx);
	CHECK_INT(r.rtx.seq, 101);
	CHECK_INT(r.rtx.end_seq, 201);
	CHECK_INT(r.rtx.backoff, 3);
	/* Too short for its detail, or a detail on another type: refused. */
	CHECK_INT(ts_rec_decode(&raw, sizeof(raw) - 1, &r), -EINVAL);
	raw.ev.type = TS_REC_RESET_SENT;
	CHECK_INT(ts_rec_decode(&raw, sizeof(raw), &r), -EINVAL);
	/* A detail this build does not know: the event alone. */
	raw.ev.type = TS_REC_RETRANS;
	raw.ev.detail = 200;
	CHECK_INT(ts_rec_decode(&raw, sizeof(raw.ev), &r), 0);
	CHECK(!r.has_rtx);
	/* The plain event of older kernels' programs: no detail. */
	raw.ev.detail = TS_DET_NONE;
	CHECK_INT(ts_rec_decode(&raw, sizeof(raw.ev), &r), 0);
	CHECK(!r.has_rtx);
}

/* ---- the timeline ---- */

struct golden {
	FILE *text, *json;
	struct ts_sink ts, js;
	int conns;
	struct ts_conn last;
};

static int to_sinks(void *ctx, const struct ts_conn *c)
{
	struct golden *g = ctx;

	g->conns++;
	g->last = *c;
	if (g->text) {
		g->ts.ops->conn_end(g->ts.priv, c);
		g->js.ops->conn_end(g->js.priv, c);
	}
	return 0;
}

static struct ts_rec state(uint64_t ts, int from, int to)
{
	struct ts_rec r = rtx_rec(ts, 0, 0, 0, 0, 0, 0);

	r.type = TS_REC_STATE;
	r.has_rtx = false;
	r.old_state = (uint8_t)from;
	r.new_state = (uint8_t)to;
	return r;
}

static void push(struct ts_tracker *t, struct ts_rec r)
{
	CHECK_INT(ts_tracker__push(t, &r), 0);
}

static void test_timeline(void)
{
	struct ts_meta m = { .wall_offset_ns = 1700000000ll * 1000000000ll };
	struct ts_tracker_opts o = { 0 };
	struct ts_tracker *t = NULL;
	struct golden g = { 0 };
	char *tb = NULL, *jb = NULL;
	size_t tl = 0, jl = 0;

	g.text = open_memstream(&tb, &tl);
	g.json = open_memstream(&jb, &jl);
	CHECK_INT(ts_sink_timeline_text__new(&g.ts, g.text, &m), 0);
	CHECK_INT(ts_sink_timeline_json__new(&g.js, g.json, &m), 0);
	CHECK_INT(ts_tracker__new(&o, to_sinks, &g, &t), 0);
	push(t, state(10 * MS, TS_CLOSE, TS_SYN_SENT));
	push(t, state(10 * MS + 80 * US, TS_SYN_SENT, TS_ESTABLISHED));
	/* A tail loss probe, three timeouts (RTO doubling), then, after
	 * recovery, a fast retransmit of another segment; one record
	 * arrives out of order (another CPU). */
	push(t, rtx_rec(10 * MS + 300 * US, TS_ICSK_TIME_LOSS_PROBE, 0, 0, 1, 600, 0x18));
	push(t, rtx_rec(214 * MS + 400 * US, 0, TS_CA_LOSS, 0, 1, 600, 0x18));
	push(t, rtx_rec(1438 * MS + 400 * US, 0, TS_CA_LOSS, 2, 1, 600, 0x18));
	push(t, rtx_rec(622 * MS + 400 * US, 0, TS_CA_LOSS, 1, 1, 600, 0x18));
	push(t, rtx_rec(1500 * MS, TS_ICSK_TIME_RETRANS, TS_CA_RECOVERY, 0, 14481, 1448, 0x10));
	push(t, state(1600 * MS, TS_ESTABLISHED, TS_FIN_WAIT1));
	push(t, state(1601 * MS, TS_FIN_WAIT1, TS_FIN_WAIT2));
	CHECK_INT(ts_tracker__finish(t), 0);
	/* The end of the batch, as the pipeline says it: the sinks write. */
	CHECK_INT(g.ts.ops->flush(g.ts.priv), 0);
	CHECK_INT(g.js.ops->flush(g.js.priv), 0);
	fclose(g.text);
	fclose(g.json);
	check_golden(tb, tl, "timeline_rtx.txt");
	check_golden(jb, jl, "timeline_rtx.jsonl");
	CHECK_INT(g.last.rtx[TS_RTX_DATA], 5);
	g.ts.ops->destroy(g.ts.priv);
	g.js.ops->destroy(g.js.priv);
	ts_tracker__free(t);
	free(tb);
	free(jb);
}

/* A retransmission storm keeps TS_CONN_MAX_RTX steps; the count stays. */
static void test_bounds(void)
{
	struct ts_tracker_opts o = { 0 };
	struct ts_tracker *t = NULL;
	struct golden g = { 0 };

	CHECK_INT(ts_tracker__new(&o, to_sinks, &g, &t), 0);
	push(t, state(MS, TS_CLOSE, TS_SYN_SENT));
	for (int i = 0; i < TS_CONN_MAX_RTX + 36; i++)
		push(t, rtx_rec(2 * MS + (uint64_t)i * US, TS_ICSK_TIME_RETRANS, TS_CA_RECOVERY, 0,
				1 + 1448 * (uint32_t)i, 1448, 0x10));
	CHECK_INT(ts_tracker__finish(t), 0);
	CHECK_INT(g.conns, 1);
	CHECK_INT(g.last.rtx[TS_RTX_DATA], TS_CONN_MAX_RTX + 36);
	CHECK_INT(g.last.rtx_not_kept, 36);
	ts_tracker__free(t);
}

static struct ts_rec closing(uint64_t ts, uint32_t total_retrans)
{
	struct ts_rec r = state(ts, TS_FIN_WAIT2, TS_CLOSE);

	r.has_stats = true;
	r.st.segs_out = 10;
	r.st.total_retrans = total_retrans;
	return r;
}

static struct ts_rec counted(uint64_t ts, uint32_t total, uint16_t segs)
{
	struct ts_rec r = rtx_rec(ts, 0, TS_CA_LOSS, 0, 1, 600, 0x18);

	r.rtx.total_retrans = total;
	r.rtx.segs = segs;
	return r;
}

/* One connection's life (born by connect() or by a listener) with its
 * retransmission records and the counter at close: what is untraced. */
static uint32_t untraced(bool active, const struct ts_rec *rtx, int n, uint32_t at_close)
{
	struct ts_tracker_opts o = { 0 };
	struct ts_tracker *t = NULL;
	struct golden g = { 0 };

	CHECK_INT(ts_tracker__new(&o, to_sinks, &g, &t), 0);
	if (active) {
		push(t, state(MS, TS_CLOSE, TS_SYN_SENT));
		push(t, state(2 * MS, TS_SYN_SENT, TS_ESTABLISHED));
	} else {
		push(t, state(MS, TS_LISTEN, TS_SYN_RECV));
		push(t, state(2 * MS, TS_SYN_RECV, TS_ESTABLISHED));
	}
	for (int i = 0; i < n; i++)
		push(t, rtx[i]);
	push(t, state(900 * MS, TS_ESTABLISHED, TS_FIN_WAIT1));
	push(t, state(901 * MS, TS_FIN_WAIT1, TS_FIN_WAIT2));
	push(t, closing(902 * MS, at_close));
	CHECK_INT(ts_tracker__finish(t), 0);
	CHECK_INT(g.conns, 1);
	ts_tracker__free(t);
	return g.last.rtx_untraced;
}

/* The socket's counter against the records (TIMELINE.md, "Untraced
 * retransmissions"). */
static void test_untraced(void)
{
	enum { PLAIN, NO_SEGMENT, NO_DETAIL, SYNACK_FIRST };
	static const struct {
		bool active; /* born by connect(), else by a listener */
		int n;
		struct {
			uint32_t ms, total;
			uint16_t segs;
		} rec[2];
		int twist; /* what is odd about the records */
		uint32_t at_close, want;
	} cases[] = {
		/* Every one traced, one of two segments; out of order. */
		{ true, 2, { { 300, 3, 2 }, { 200, 1, 1 } }, PLAIN, 3, 0 },
		/* connect() starts at 0: one before the first record, one
		 * after the last (the close's counter tells). */
		{ true, 1, { { 300, 2, 1 } }, PLAIN, 3, 2 },
		/* None traced at all: the close alone tells. */
		{ true, 0, { { 0 } }, PLAIN, 2, 2 },
		{ true, 0, { { 0 } }, PLAIN, 0, 0 },
		/* One missing between two records. */
		{ true, 2, { { 200, 1, 1 }, { 600, 3, 1 } }, PLAIN, 3, 1 },
		/* A passive connection starts with its SYN-ACKs counted: the
		 * first record sets the start, a gap after it is seen. */
		{ false, 1, { { 200, 3, 1 } }, PLAIN, 3, 0 },
		{ false, 1, { { 200, 3, 1 } }, PLAIN, 5, 2 },
		/* Without a record, a passive connection has no start. */
		{ false, 0, { { 0 } }, PLAIN, 4, 0 },
		/* A record whose segment was not read, or without detail (an
		 * older capture): no account rather than a wrong one. */
		{ true, 2, { { 200, 1, 1 }, { 400, 3, 1 } }, NO_SEGMENT, 5, 0 },
		{ true, 2, { { 200, 1, 1 }, { 400, 3, 1 } }, NO_DETAIL, 5, 0 },
		/* A SYN-ACK record counts on the request, not the socket. */
		{ false, 2, { { 200, 7, 1 }, { 400, 3, 1 } }, SYNACK_FIRST, 3, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ts_rec r[2];

		for (int k = 0; k < cases[i].n; k++)
			r[k] = counted(cases[i].rec[k].ms * MS, cases[i].rec[k].total,
				       cases[i].rec[k].segs);
		if (cases[i].twist == NO_SEGMENT)
			r[1].rtx.flags &= (uint8_t)~TS_RTX_F_SKB;
		else if (cases[i].twist == NO_DETAIL)
			r[1].has_rtx = false;
		else if (cases[i].twist == SYNACK_FIRST) {
			r[0].new_state = r[0].old_state = TS_SYN_RECV;
			r[0].rtx.tcp_flags = 0x12;
		}
		CHECK_INT(untraced(cases[i].active, r, cases[i].n, cases[i].at_close),
			  cases[i].want);
	}
}

/*
 * The timeline's last line sums what the connections' counters held
 * beyond their records, in text and JSON (summary.retransmissions_untraced).
 */
static void test_untraced_summary(void)
{
	struct ts_meta m = { .wall_offset_ns = 0 }, mc = { .compact = true };
	struct ts_sink text, narrow, json;
	struct ts_pipeline p;
	char *tb = NULL, *nb = NULL, *jb = NULL;
	size_t tl = 0, nl = 0, jl = 0;
	FILE *tf = open_memstream(&tb, &tl), *nf = open_memstream(&nb, &nl);
	FILE *jf = open_memstream(&jb, &jl);
	struct ts_rec r;

	ts_pipeline__init(&p, NULL, &m);
	CHECK_INT(ts_sink_timeline_text__new(&text, tf, &m), 0);
	CHECK_INT(ts_sink_timeline_text__new(&narrow, nf, &mc), 0);
	CHECK_INT(ts_sink_timeline_json__new(&json, jf, &m), 0);
	CHECK_INT(ts_pipeline__add_sink(&p, text), 0);
	CHECK_INT(ts_pipeline__add_sink(&p, narrow), 0);
	CHECK_INT(ts_pipeline__add_sink(&p, json), 0);
	CHECK_INT(ts_pipeline__track(&p, NULL), 0);
	/* Two connections by connect(): one retransmission traced of three
	 * counted, then none traced of two. */
	for (uint64_t id = 7; id <= 8; id++) {
		r = state(id * MS, TS_CLOSE, TS_SYN_SENT);
		r.conn = id;
		CHECK_INT(ts_pipeline__push(&p, &r), 0);
		r = state(id * MS + 1, TS_SYN_SENT, TS_ESTABLISHED);
		r.conn = id;
		CHECK_INT(ts_pipeline__push(&p, &r), 0);
		if (id == 7) {
			r = counted(id * MS + 2, 2, 1);
			r.conn = id;
			CHECK_INT(ts_pipeline__push(&p, &r), 0);
		}
		r = state(id * MS + 3, TS_ESTABLISHED, TS_FIN_WAIT1);
		r.conn = id;
		CHECK_INT(ts_pipeline__push(&p, &r), 0);
		r = state(id * MS + 4, TS_FIN_WAIT1, TS_FIN_WAIT2);
		r.conn = id;
		CHECK_INT(ts_pipeline__push(&p, &r), 0);
		r = closing(id * MS + 5, id == 7 ? 3 : 2);
		r.conn = id;
		CHECK_INT(ts_pipeline__push(&p, &r), 0);
	}
	CHECK_INT(ts_pipeline__finish(&p), 0);
	fflush(tf);
	fflush(nf);
	fflush(jf);
	CHECK(p.totals.rtx_untraced == 4);
	CHECK(tb && strstr(tb, "2 connections; 4 retransmissions counted by the sockets, "
			       "not traced\n") != NULL);
	CHECK(nb && strstr(nb, "2 connections; 4 retransmissions not traced\n") != NULL);
	CHECK(jb && strstr(jb, "\"retransmissions_untraced\":4}\n") != NULL);
	ts_pipeline__free(&p);
	fclose(tf);
	fclose(nf);
	fclose(jf);
	free(tb);
	free(nb);
	free(jb);
}

static void test_hz(void)
{
	static const char tl[] = "Timer List Version: v0.10\nHRTIMER_MAX_CLOCK_BASES: 8\n"
				 "now at 8650647339594 nsecs\n\ncpu: 0\n clock 0:\n"
				 "jiffies: 4297054930\n";
	uint64_t now = 0, j = 0;

	CHECK_INT(ts_hz__parse_timer_list(tl, &now, &j), 0);
	CHECK(now == 8650647339594ull && j == 4297054930ull);
	/* This machine: HZ 250, 8650 s after boot, 0.1 s between clocks;
	 * later 9868 s with 6 s of ticks lost (a busy VM). */
	CHECK_INT(ts_hz__guess(9867569662208ull, 4297357641ull), 250);
	CHECK_INT(ts_hz__guess(now, j), 250);
	/* A guest 20 s after boot, before jiffies wrapped (HZ 250, 1000). */
	CHECK_INT(ts_hz__guess(20 * 1000000000ull, (1ull << 32) - 280 * 250), 250);
	CHECK_INT(ts_hz__guess(20 * 1000000000ull, (1ull << 32) - 280 * 1000 + 3), 1000);
	CHECK_INT(ts_hz__guess(3600 * 1000000000ull, (1ull << 32) + 3300 * 100ull), 100);
	CHECK_INT(ts_hz__guess(3600 * 1000000000ull, (1ull << 32) + 3300 * 300ull - 40), 300);
	/* Near the wrap every HZ fits; and a jiffies no HZ explains. */
	CHECK_INT(ts_hz__guess(302 * 1000000000ull, (1ull << 32) + 500), 0);
	CHECK_INT(ts_hz__guess(3600 * 1000000000ull, (1ull << 32) + 3300 * 175ull), 0);
	/* Near the wrap: the rate of two readings decides. */
	CHECK_INT(ts_hz__from_rate(200000000ull, 50), 250);
	CHECK_INT(ts_hz__from_rate(200000000ull, 51), 250);
	CHECK_INT(ts_hz__from_rate(200000000ull, 60), 300);
	CHECK_INT(ts_hz__from_rate(200000000ull, 20), 100);
	CHECK_INT(ts_hz__from_rate(250000000ull, 250), 1000);
	CHECK_INT(ts_hz__from_rate(200000000ull, 55), 0);
	CHECK_INT(ts_hz__from_rate(50000000ull, 50), 0);
	CHECK_INT(ts_hz__from_rate(200000000ull, 0), 0);
	CHECK_INT(ts_hz__parse_timer_list("now at x nsecs\njiffies: 5\n", &now, &j), -EINVAL);
	CHECK_INT(ts_hz__parse_timer_list("now at 5 nsecs\n", &now, &j), -EINVAL);
}

int main(void)
{
	test_reason_kind();
	test_describe();
	test_json();
	test_ring_record();
	test_timeline();
	test_bounds();
	test_untraced();
	test_untraced_summary();
	test_hz();
	return check_report();
}
