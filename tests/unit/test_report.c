// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The report sinks on synthetic records: --at rebuilds the socket table
 * from a snapshot plus events (TIME_WAIT inferred, resets, late tuples);
 * --summary counts transitions, handshake percentiles and retransmitters.
 * Also the --at TIME parser.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "check.h"
#include "core/util/tally.h"
#include "core/sinks/sink_report.h"
#include "core/util/timearg.h"

#define SEC 1000000000ULL

static struct ts_rec rec(enum ts_rec_type t, uint64_t conn, uint64_t ts,
			 int old, int new, uint16_t sport, uint32_t pid)
{
	struct ts_rec r;

	memset(&r, 0, sizeof(r));
	r.type = t;
	r.family = 4;
	r.conn = conn;
	r.ts_ns = ts;
	r.old_state = (uint8_t)old;
	r.new_state = (uint8_t)new;
	r.sport = sport;
	r.dport = 80;
	r.pid = pid;
	r.saddr[0] = 10;
	r.daddr[0] = 10;
	r.daddr[3] = 2;
	snprintf(r.comm, sizeof(r.comm), "c%u", pid);
	return r;
}

/* Run records through a sink and finish it. */
static void run(struct ts_sink s, const struct ts_rec *r, int n)
{
	struct ts_totals t = {};

	for (int i = 0; i < n; i++)
		CHECK_INT(s.ops->rec(s.priv, &r[i]), 0);
	CHECK_INT(s.ops->finish(s.priv, &t), 0);
	s.ops->destroy(s.priv);
}

static char *at_table(uint64_t at, const struct ts_sock *socks, size_t n,
		      const struct ts_rec *r, int nr)
{
	struct ts_meta m = {};
	struct ts_at_opts o = { .at_mono_ns = at, .socks = socks, .nsocks = n, .json = true };
	struct ts_sink s;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CHECK_INT(ts_sink_at__new(&s, f, &m, &o), 0);
	run(s, r, nr);
	fclose(f);
	return buf;
}

static int count(const char *s, const char *needle)
{
	int n = 0;

	for (const char *p = s; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void test_at(void)
{
	struct ts_sock socks[2];
	struct ts_rec r[16];
	int n = 0;
	char *out;

	memset(socks, 0, sizeof(socks));
	/* A listener and an established connection from before recording. */
	socks[0] = (struct ts_sock){ .cookie = 500, .family = 4, .state = TS_LISTEN,
				     .sport = 80, .pid = 7, .comm = "nginx" };
	socks[1] = (struct ts_sock){ .cookie = 501, .family = 4, .state = TS_ESTABLISHED,
				     .sport = 80, .dport = 33000, .pid = 7, .comm = "nginx" };
	/* A client connection opens (port chosen late), then closes actively. */
	r[n++] = rec(TS_REC_STATE, 1, 1 * SEC, TS_CLOSE, TS_SYN_SENT, 0, 9);
	r[n++] = rec(TS_REC_STATE, 1, 1 * SEC + 10, TS_SYN_SENT, TS_ESTABLISHED, 41000, 9);
	r[n++] = rec(TS_REC_STATE, 1, 3 * SEC, TS_ESTABLISHED, TS_FIN_WAIT1, 41000, 9);
	r[n++] = rec(TS_REC_STATE, 1, 3 * SEC + 5, TS_FIN_WAIT1, TS_FIN_WAIT2, 41000, 9);
	r[n++] = rec(TS_REC_STATE, 1, 3 * SEC + 9, TS_FIN_WAIT2, TS_CLOSE, 41000, 9);
	/* The old connection is reset: no TIME_WAIT for it. */
	r[n++] = rec(TS_REC_RESET_RECV, 501, 4 * SEC, TS_FIN_WAIT2, TS_FIN_WAIT2, 80, 7);
	r[n++] = rec(TS_REC_STATE, 501, 4 * SEC + 1, TS_FIN_WAIT2, TS_CLOSE, 80, 7);
	/* A connection seen only through a retransmission. */
	r[n++] = rec(TS_REC_RETRANS, 77, 5 * SEC, TS_ESTABLISHED, TS_ESTABLISHED, 42000, 0);

	out = at_table(0, socks, 2, r, n);
	CHECK_INT(count(out, "\"event\":\"socket\""), 2);
	CHECK_INT(count(out, "\"source\":\"snapshot\""), 2);
	free(out);

	out = at_table(2 * SEC, socks, 2, r, n);
	CHECK_INT(count(out, "\"event\":\"socket\""), 3);
	CHECK(strstr(out, "\"pid\":9,\"comm\":\"c9\",\"family\":4,\"saddr\":\"10.0.0.0\",\"sport\":41000,\"daddr\":\"10.0.0.2\",\"dport\":80,\"netns\":0,\"state\":\"ESTABLISHED\"") != NULL);
	free(out);

	out = at_table(4 * SEC + 100, socks, 2, r, n);
	CHECK_INT(count(out, "\"event\":\"socket\""), 2); /* listener + TIME_WAIT */
	CHECK(strstr(out, "\"pid\":null,\"comm\":null") != NULL);
	CHECK(strstr(out, "\"state\":\"TIME_WAIT\",\"inferred\":true") != NULL);
	CHECK(strstr(out, "\"conn\":501") == NULL);
	free(out);

	out = at_table(6 * SEC, socks, 2, r, n);
	CHECK_INT(count(out, "\"event\":\"socket\""), 3);
	CHECK(strstr(out, "\"conn\":77,") != NULL);
	free(out);

	/* 60 s after the close the inferred TIME_WAIT is gone. */
	out = at_table(64 * SEC, socks, 2, r, n);
	CHECK_INT(count(out, "TIME_WAIT"), 0);
	free(out);
}

/* report --at truth: snapshot TIME_WAIT expires with its timer; a reset
 * that found no socket makes no row. */
static void test_at_truth(void)
{
	struct ts_sock socks[1];
	struct ts_rec r[2];
	char *out;

	socks[0] = (struct ts_sock){ .cookie = 600, .family = 4, .state = TS_TIME_WAIT,
				     .timer = TS_TIMER_TIMEWAIT, .timer_ms = 2000, .sport = 5000,
				     .dport = 80 };
	r[0] = rec(TS_REC_RESET_SENT, 0, 1 * SEC, TS_CLOSE, TS_CLOSE, 9, 0);
	r[1] = rec(TS_REC_STATE, 2, 5 * SEC, TS_CLOSE, TS_LISTEN, 81, 3);
	out = at_table(1 * SEC, socks, 1, r, 2);
	CHECK_INT(count(out, "\"event\":\"socket\""), 1);
	CHECK(strstr(out, "\"conn\":600,") != NULL);
	CHECK(strstr(out, "\"conn\":0,") == NULL);
	free(out);
	out = at_table(3 * SEC, socks, 1, r, 2);
	CHECK_INT(count(out, "\"event\":\"socket\""), 0);
	free(out);
}

static void test_summary(void)
{
	struct ts_meta m = {};
	struct ts_rec r[300];
	struct ts_sink s;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int n = 0;

	/* 100 client handshakes of 1..100 ms; conn 5 retransmits 3 times. */
	for (int i = 1; i <= 100; i++) {
		r[n] = rec(TS_REC_STATE, (uint64_t)i, (uint64_t)i * SEC, TS_SYN_SENT,
			   TS_ESTABLISHED, 1000, 1);
		r[n++].ns_in_old = (uint64_t)i * 1000000;
	}
	for (int i = 0; i < 3; i++)
		r[n++] = rec(TS_REC_RETRANS, 5, 200 * SEC, TS_ESTABLISHED, TS_ESTABLISHED, 1000, 1);
	r[n++] = rec(TS_REC_RETRANS, 6, 200 * SEC, TS_SYN_SENT, TS_SYN_SENT, 1001, 1);
	r[n] = rec(TS_REC_STATE, 5, 201 * SEC, TS_LAST_ACK, TS_CLOSE, 1000, 1);
	r[n].has_stats = true;
	r[n].st.segs_out = 200;
	r[n++].st.total_retrans = 3;
	ts_rec_lost(&r[n++], 202 * SEC, 17);
	CHECK_INT(ts_sink_summary__new(&s, f, &m, true), 0);
	run(s, r, n);
	fclose(f);
	CHECK(strstr(buf, "\"records\":105,\"lost\":17") != NULL);
	CHECK(strstr(buf, "{\"from\":\"SYN_SENT\",\"to\":\"ESTABLISHED\",\"step\":\"SYN-ACK received, ACK sent\",\"count\":100}") != NULL);
	CHECK(strstr(buf, "\"client\":{\"count\":100,\"p50_us\":50000,\"p90_us\":90000,\"p99_us\":99000,\"max_us\":100000}") != NULL);
	CHECK(strstr(buf, "\"server\":{\"count\":0,\"p50_us\":null,") != NULL);
	CHECK(strstr(buf, "\"retransmits\":{\"syn\":1,\"synack\":0,\"data\":3,\"fin\":0}") != NULL);
	CHECK(strstr(buf, "\"retransmits_by_state\":{\"ESTABLISHED\":3,\"SYN_SENT\":1}") != NULL);
	CHECK(strstr(buf, "\"retrans_pct\":1.50") != NULL);
	CHECK(strstr(buf, "\"top_retransmits\":[{\"conn\":5,") != NULL);
	CHECK(strstr(buf, "\"retransmits\":{\"syn\":0,\"synack\":0,\"data\":3,\"fin\":0},\"retransmits_total\":3}") != NULL);
	CHECK(strstr(buf, "\"retransmits_by_reason\":{\"syn\":{\"unknown\":1},\"synack\":{},"
			  "\"data\":{\"unknown\":3},\"fin\":{}}") != NULL);
	/* Three at the same moment lost no time waiting: no stall. */
	CHECK(strstr(buf, "\"stalls\":[]") != NULL);
	CHECK(strstr(buf, "\"drops_by_reason\":[],\"resets_sent_by_reason\":[],"
			  "\"resets_received_by_reason\":[]") != NULL);
	free(buf);
}

/* Drops and resets by reason: the kernel's names, inferred ones apart. */
static void test_summary_reasons(void)
{
	struct ts_meta m = {};
	struct ts_rec r[8];
	struct ts_sink s;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int n = 0;

	r[n] = rec(TS_REC_RESET_SENT, 1, 1 * SEC, TS_ESTABLISHED, TS_CLOSE, 1000, 1);
	r[n++].reason_name = "TCP_ABORT_ON_CLOSE";
	r[n] = rec(TS_REC_RESET_SENT, 0, 2 * SEC, TS_CLOSE, TS_CLOSE, 1001, 0);
	r[n++].rst_hint = TS_RST_NO_SOCKET;
	r[n] = rec(TS_REC_RESET_SENT, 0, 2 * SEC, TS_CLOSE, TS_CLOSE, 1002, 0);
	r[n++].rst_hint = TS_RST_NO_SOCKET;
	r[n++] = rec(TS_REC_RESET_RECV, 2, 3 * SEC, TS_SYN_SENT, TS_SYN_SENT, 1003, 1);
	r[n] = rec(TS_REC_DROP, 3, 4 * SEC, TS_ESTABLISHED, TS_ESTABLISHED, 1004, 1);
	r[n++].reason_name = "NETFILTER_DROP";
	r[n++] = rec(TS_REC_DROP, 3, 4 * SEC, TS_ESTABLISHED, TS_ESTABLISHED, 1004, 1);
	r[n] = rec(TS_REC_DROP_SUPPRESSED, 0, 5 * SEC, TS_CLOSE, TS_CLOSE, 0, 0);
	r[n++].lost = 7;

	f = open_memstream(&buf, &len);
	CHECK_INT(ts_sink_summary__new(&s, f, &m, true), 0);
	run(s, r, n);
	fclose(f);
	CHECK(strstr(buf, "\"drops\":2,\"drops_suppressed\":7,") != NULL);
	/* Equal counts: by name, the unnamed ("") first. */
	CHECK(strstr(buf, "\"drops_by_reason\":[{\"reason\":null,\"count\":1},"
			  "{\"reason\":\"NETFILTER_DROP\",\"count\":1}]") != NULL);
	CHECK(strstr(buf, "\"resets_sent_by_reason\":[{\"reason\":\"no socket\",\"inferred\":true,"
			  "\"count\":2},{\"reason\":\"TCP_ABORT_ON_CLOSE\",\"inferred\":false,"
			  "\"count\":1}]") != NULL);
	CHECK(strstr(buf, "\"resets_received_by_reason\":[{\"reason\":\"connection refused\","
			  "\"inferred\":true,\"count\":1}]") != NULL);
	free(buf);

	buf = NULL;
	f = open_memstream(&buf, &len);
	CHECK_INT(ts_sink_summary__new(&s, f, &m, false), 0);
	run(s, r, n);
	fclose(f);
	CHECK(strstr(buf, "Drops: 2 recorded, 7 more only counted") != NULL);
	for (int i = 0; i < 4; i++) {
		static const char *const rows[][2] = {
			{ "no socket (inferred)", "2" },
			{ "TCP_ABORT_ON_CLOSE", "1" },
			{ "connection refused (inferred)", "1" },
			{ "(unknown)", "1" },
		};
		char want[128];

		snprintf(want, sizeof(want), "\n  %-56s %10s\n", rows[i][0], rows[i][1]);
		CHECK(strstr(buf, want) != NULL);
	}
	free(buf);
}

/* Past TS_TALLY_MAX reasons, the summary's JSON ends with one "other" row. */
static void test_summary_reasons_other(void)
{
	static char names[TS_TALLY_MAX + 2][8];
	struct ts_meta m = {};
	struct ts_sink s;
	struct ts_totals tot = {};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CHECK_INT(ts_sink_summary__new(&s, f, &m, true), 0);
	for (int i = 0; i < TS_TALLY_MAX + 2; i++) {
		struct ts_rec r = rec(TS_REC_DROP, 1, SEC, TS_ESTABLISHED, TS_ESTABLISHED, 1000, 1);

		snprintf(names[i], sizeof(names[i]), "R%03d", i);
		r.reason_name = names[i];
		CHECK_INT(s.ops->rec(s.priv, &r), 0);
	}
	CHECK_INT(s.ops->finish(s.priv, &tot), 0);
	s.ops->destroy(s.priv);
	fclose(f);
	CHECK(strstr(buf, "{\"reason\":\"R063\",\"count\":1},{\"reason\":\"other\",\"count\":2}],"
			  "\"resets_sent_by_reason\":[]") != NULL);
	free(buf);
}

/* Reasons are counted by name, bounded: the rest are "other". */
static void test_tally(void)
{
	struct ts_tally *t = calloc(1, sizeof(*t));
	char name[32];

	if (!t)
		return;
	ts_tally__add(t, "NO_SOCKET", 2);
	ts_tally__add(t, "NETFILTER_DROP", 5);
	ts_tally__add(t, "NO_SOCKET", 1);
	/* The same name inferred is a row of its own. */
	ts_tally__add_inferred(t, "NO_SOCKET", 4);
	for (int i = 0; i < TS_TALLY_MAX + 10; i++) {
		snprintf(name, sizeof(name), "R%03d", i);
		ts_tally__add(t, name, 1);
	}
	ts_tally__sort(t);
	CHECK_INT(t->n, TS_TALLY_MAX);
	CHECK_STR(t->rows[0].name, "NETFILTER_DROP");
	CHECK_STR(t->rows[1].name, "NO_SOCKET");
	CHECK(t->rows[1].inferred);
	CHECK_INT(t->rows[1].count, 4);
	CHECK(!t->rows[2].inferred);
	CHECK_INT(t->rows[2].count, 3);
	CHECK_INT(t->other, 13);
	CHECK_INT(t->total, 12 + TS_TALLY_MAX + 10);
	free(t);
}

/* report --summary as text: the columns stay aligned whatever the labels. */
static void test_summary_text(void)
{
	struct ts_meta m = {};
	struct ts_rec r[8];
	struct ts_sink s;
	char *buf = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int n = 0, count_col = -1, rows = 0;

	r[n++] = rec(TS_REC_STATE, 1, 1 * SEC, TS_CLOSE, TS_SYN_SENT, 1000, 1);
	r[n] = rec(TS_REC_STATE, 1, 2 * SEC, TS_SYN_SENT, TS_CLOSE, 1000, 1);
	r[n].has_stats = true;
	r[n++].st.err = ETIMEDOUT;
	r[n] = rec(TS_REC_STATE, 2, 3 * SEC, TS_SYN_SENT, TS_CLOSE, 1001, 1);
	r[n].has_stats = true;
	r[n++].st.err = ECONNREFUSED;
	r[n++] = rec(TS_REC_STATE, 3, 4 * SEC, TS_FIN_WAIT1, TS_FIN_WAIT1, 1002, 1);
	r[n++] = rec(TS_REC_RETRANS, 3, 5 * SEC, TS_FIN_WAIT1, TS_FIN_WAIT1, 1002, 1);
	CHECK_INT(ts_sink_summary__new(&s, f, &m, false), 0);
	run(s, r, n);
	fclose(f);
	CHECK(strstr(buf, "SYN never answered: connect timed out") != NULL);
	CHECK(strstr(buf, "RST received: connection refused") != NULL);
	CHECK(strstr(buf, "Retransmissions: 1 (syn 0, synack 0, data 0, fin 1)") != NULL);
	/* Every row of the first table ends its COUNT where the header does. */
	for (line = strtok_r(strstr(buf, "STATE CHANGE"), "\n", &save); line && *line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (count_col < 0) {
			count_col = (int)strlen(line);
			continue;
		}
		if (!strstr(line, " -> "))
			break;
		CHECK_INT((int)strlen(line), count_col);
		rows++;
	}
	CHECK_INT(rows, 4);
	free(buf);
}

/* The whole text summary against tests/data/summary.txt
 * (TS_UPDATE_GOLDEN=1 rewrites it). */
static void test_summary_golden(void)
{
	struct ts_meta m = { .wall_offset_ns = 1700000000ll * 1000000000ll };
	struct ts_rec r[16];
	struct ts_sink s;
	char *buf = NULL, path[512], want[8192];
	size_t len = 0, wlen;
	FILE *f = open_memstream(&buf, &len), *g;
	int n = 0;

	r[n] = rec(TS_REC_STATE, 1, 1 * SEC, TS_SYN_SENT, TS_ESTABLISHED, 1000, 1);
	r[n++].ns_in_old = 2000000;
	r[n] = rec(TS_REC_STATE, 2, 1 * SEC, TS_SYN_RECV, TS_ESTABLISHED, 80, 2);
	r[n++].ns_in_old = 300000;
	r[n] = rec(TS_REC_STATE, 1, 2 * SEC, TS_FIN_WAIT2, TS_CLOSE, 1000, 1);
	r[n].flags = TS_F_ORPHAN;
	r[n].has_stats = true;
	r[n].st.segs_out = 50;
	r[n++].st.total_retrans = 2;
	r[n] = rec(TS_REC_STATE, 3, 3 * SEC, TS_ESTABLISHED, TS_CLOSE, 1001, 1);
	r[n].has_stats = true;
	r[n++].st.err = ECONNRESET;
	r[n++] = rec(TS_REC_RETRANS, 1, 1 * SEC + 5, TS_ESTABLISHED, TS_ESTABLISHED, 1000, 1);
	r[n++] = rec(TS_REC_RETRANS, 1, 1 * SEC + 9, TS_FIN_WAIT1, TS_FIN_WAIT1, 1000, 1);
	r[n++] = rec(TS_REC_SYNACK_RETRANS, 2, 1 * SEC, TS_SYN_RECV, TS_SYN_RECV, 80, 2);
	r[n++] = rec(TS_REC_RESET_SENT, 0, 4 * SEC, TS_CLOSE, TS_CLOSE, 9, 0);
	/* Conn 3 stalls: its data retransmitted after 0.2 s, 0.4 s, 0.8 s. */
	r[n++] = rec(TS_REC_RETRANS, 3, 2 * SEC, TS_ESTABLISHED, TS_ESTABLISHED, 1001, 1);
	r[n++] = rec(TS_REC_RETRANS, 3, 2 * SEC + 400000000, TS_ESTABLISHED, TS_ESTABLISHED,
		     1001, 1);
	r[n++] = rec(TS_REC_RETRANS, 3, 2 * SEC + 1200000000, TS_ESTABLISHED, TS_ESTABLISHED,
		     1001, 1);
	CHECK_INT(ts_sink_summary__new(&s, f, &m, false), 0);
	run(s, r, n);
	fclose(f);
	/* 80 columns, every line. */
	for (char *p = buf, *nl; p && *p; p = nl ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		CHECK((nl ? (size_t)(nl - p) : strlen(p)) <= 80);
	}
	CHECK(strstr(buf, "  1200.000       3  3") != NULL);
	snprintf(path, sizeof(path), "%s/summary.txt", TS_TEST_DATA);
	if (getenv("TS_UPDATE_GOLDEN")) {
		g = fopen(path, "w");
		CHECK(g != NULL);
		if (g) {
			fwrite(buf, 1, len, g);
			fclose(g);
		}
	} else {
		g = fopen(path, "r");
		CHECK(g != NULL);
		wlen = g ? fread(want, 1, sizeof(want), g) : 0;
		if (g)
			fclose(g);
		if (wlen != len || memcmp(want, buf, len)) {
			fprintf(stderr, "%s differs; got:\n%s\n", path, buf);
			CHECK(0);
		}
	}
	free(buf);
}

static void test_parse_at(void)
{
	const uint64_t start = 1000 * SEC;
	const int64_t off = 1700000000LL * (int64_t)SEC; /* wall = mono + off */
	uint64_t v;

	CHECK_INT(ts_parse_at("+5s", start, off, &v), 0);
	CHECK_INT(v, start + 5 * SEC);
	CHECK_INT(ts_parse_at("+250ms", start, off, &v), 0);
	CHECK_INT(v, start + 250000000ULL);
	/* 1700001000 s since the epoch is 2023-11-14T22:30:00Z. */
	CHECK_INT(ts_parse_at("2023-11-14T22:30:00Z", start, off, &v), 0);
	CHECK_INT(v, 1000 * SEC);
	CHECK_INT(ts_parse_at("2023-11-14T22:30:00.5Z", start, off, &v), 0);
	CHECK_INT(v, 1000 * SEC + SEC / 2);
	CHECK_INT(ts_parse_at("2023-11-14 23:30:01+01:00", start, off, &v), 0);
	CHECK_INT(v, 1001 * SEC);
	/* No zone: local time; the clock alone: local, on the start's day. */
	setenv("TZ", "UTC", 1);
	tzset();
	CHECK_INT(ts_parse_at("2023-11-14T22:30:00", start, off, &v), 0);
	CHECK_INT(v, 1000 * SEC);
	CHECK_INT(ts_parse_at("22:30:02.250", start, off, &v), 0);
	CHECK_INT(v, 1002 * SEC + SEC / 4);
	CHECK_INT(ts_parse_at("22:30", start, off, &v), -EINVAL);
	CHECK_INT(ts_parse_at("25:30:00", start, off, &v), -ERANGE);
	CHECK_INT(ts_parse_at("2023-13-14T22:30:00Z", start, off, &v), -ERANGE);
	CHECK_INT(ts_parse_at("1999-11-14T22:30:00Z", start, off, &v), -ERANGE); /* before boot */
	CHECK_INT(ts_parse_at("yesterday", start, off, &v), -EINVAL);
	CHECK_INT(ts_parse_at("+", start, off, &v), -EINVAL);
}

int main(void)
{
	test_at();
	test_at_truth();
	test_summary();
	test_summary_text();
	test_summary_golden();
	test_tally();
	test_summary_reasons();
	test_summary_reasons_other();
	test_parse_at();
	return check_report();
}
