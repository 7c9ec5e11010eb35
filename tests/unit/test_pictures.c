// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The picture sinks fed through the pipeline and the tracker with record
 * sequences of every close kind, retransmissions, one end and both ends:
 * golden diagrams in ASCII and Unicode (tests/data/diagram_*.txt;
 * TS_UPDATE_GOLDEN=1 rewrites them), 80 columns, escaping of process
 * names, the HTML page's escaping and row bound, the Perfetto file's shape.
 */
#include <errno.h>
#include <stdlib.h>
#include "check.h"
#include "scenarios.h"
#include "core/sinks/pictures.h"
#include "core/stream/pipeline.h"
#include "core/stream/tracker.h"

extern const char ts_html_page_head[];
extern const char ts_html_page_tail[];

enum kind { DIAGRAM_ASCII, DIAGRAM_UNICODE, HTML, PERFETTO };

/* Run records through pipeline -> tracker -> one picture sink. */
static char *render(const struct ts_scen *s, enum kind k, uint32_t html_max,
		    const char *damage, size_t *len)
{
	struct ts_meta m = { .wall_offset_ns = 1700000000ll * 1000000000ll };
	struct ts_diagram_opts dopts = { .unicode = k == DIAGRAM_UNICODE };
	struct ts_html_opts hopts = { .max_conns = html_max, .title = "test </script> capture" };
	struct ts_pipeline p;
	struct ts_sink sink;
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	ts_pipeline__init(&p, NULL, &m);
	CHECK_INT(ts_pipeline__track(&p, NULL), 0);
	switch (k) {
	case HTML:
		CHECK_INT(ts_sink_html__new(&sink, f, &m, &hopts), 0);
		break;
	case PERFETTO:
		CHECK_INT(ts_sink_perfetto__new(&sink, f, &m), 0);
		break;
	default:
		CHECK_INT(ts_sink_diagram__new(&sink, f, &m, &dopts), 0);
	}
	CHECK_INT(ts_pipeline__add_sink(&p, sink), 0);
	for (size_t i = 0; i < s->n; i++)
		CHECK_INT(ts_pipeline__push(&p, &s->r[i]), 0);
	CHECK_INT(ts_pipeline__flush(&p), 0);
	if (damage)
		ts_sink_picture__note_damage(&p.sinks[0], damage);
	CHECK_INT(ts_pipeline__finish(&p), 0);
	ts_pipeline__free(&p);
	fclose(f);
	return buf;
}

/* Display columns of each line (a code point is one column). */
static int widest_line(const char *s)
{
	int w = 0, max = 0;

	for (; *s; s++) {
		if (*s == '\n') {
			w = 0;
			continue;
		}
		if (((unsigned char)*s & 0xc0) != 0x80 && ++w > max)
			max = w;
	}
	return max;
}

static bool all_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void test_diagram_golden(void)
{
	struct ts_scen s = { 0 };
	size_t la = 0, lu = 0;
	char *a, *u;

	ts_scen_gallery(&s, 100, 10 * SC_MS);
	a = render(&s, DIAGRAM_ASCII, 0, NULL, &la);
	u = render(&s, DIAGRAM_UNICODE, 0, NULL, &lu);
	check_golden(a, la, "diagram_ascii.txt");
	check_golden(u, lu, "diagram_unicode.txt");
	CHECK(widest_line(a) <= TS_DIAGRAM_COLS);
	CHECK(widest_line(u) <= TS_DIAGRAM_COLS);
	CHECK(all_ascii(a));
	CHECK(!all_ascii(u) && strstr(u, "\u2500") && strstr(u, "\u25b6"));
	/* Every close kind, and the retransmissions as arrows. */
	for (int k = TS_CLOSE_ACTIVE; k <= TS_CLOSE_TIMEOUT; k++) {
		char want[64];

		snprintf(want, sizeof(want), "close=%s", ts_close_name(k));
		CHECK(strstr(a, want) != NULL);
	}
	CHECK_INT(count(a, "data rtx"), 2);
	CHECK_INT(count(a, "SYN rtx"), 2);
	CHECK_INT(count(a, "SYN,ACK rtx"), 1);
	/* The pair is one ladder with both columns real; the others infer B. */
	CHECK_INT(count(a, "both ends traced"), 1);
	CHECK_INT(count(a, "not traced: (STATES) inferred from A"), 8);
	CHECK(strstr(a, "(CLOSE_WAIT)") != NULL);
	CHECK(strstr(a, "TIME_WAIT*") != NULL);
	CHECK(strstr(a, "11 connections, 2 drawn with both ends") != NULL);
	free(a);
	free(u);
	ts_scen_free(&s);
}

/* Process names are untrusted: no terminal escape gets through. */
static void test_diagram_escape_and_width(void)
{
	struct ts_scen s = { 0 };
	struct ts_scen_end e = { 6, "2001:db8:ffff:ffff:ffff:ffff:ffff:1", "2001:db8:ffff:ffff:ffff:ffff:ffff:2",
				 65535, 65534, 4294967295u, "\x1b[2J\x07\\evil", 1 };
	size_t len = 0;
	char *a;

	sc_connect(&s, &e, 1, 1 * SC_MS);
	sc_active_close(&s, &e, 1, 5 * SC_MS);
	a = render(&s, DIAGRAM_ASCII, 0, NULL, &len);
	if (getenv("TS_SHOW"))
		fputs(a, stderr);
	CHECK(strchr(a, 0x1b) == NULL && strchr(a, 0x07) == NULL);
	CHECK(strstr(a, "client \\x1b[2J\\x07\\\\evil[4294967295]") != NULL);
	CHECK(widest_line(a) <= TS_DIAGRAM_COLS);
	free(a);
	a = render(&s, DIAGRAM_ASCII, 0, "truncated frame at byte 4096", &len);
	CHECK(strstr(a, "capture damaged: truncated frame at byte 4096") != NULL);
	free(a);
	ts_scen_free(&s);
}

static void test_locale(void)
{
	CHECK(ts_diagram_locale_utf8(NULL, NULL, "en_US.UTF-8"));
	CHECK(ts_diagram_locale_utf8(NULL, NULL, "C.utf8"));
	CHECK(!ts_diagram_locale_utf8(NULL, NULL, "C"));
	CHECK(!ts_diagram_locale_utf8(NULL, NULL, NULL));
	CHECK(!ts_diagram_locale_utf8("C", NULL, "en_US.UTF-8"));
	CHECK(!ts_diagram_locale_utf8("", "POSIX", "en_US.UTF-8"));
	CHECK(ts_diagram_locale_utf8("", NULL, "de_DE.UTF-8@euro"));
}

static void test_html(void)
{
	struct ts_scen s = { 0 };
	struct ts_scen_end e = { 4, "10.0.0.1", "10.0.0.2", 5000, 443, 77, "</script><b>", 1 };
	struct ts_scen_end bad = { 4, "10.0.0.1", "10.0.0.2", 5001, 443, 78, "a\xff\xc3\x28\"\\", 1 };
	size_t len = 0, tags;
	char *h;

	ts_scen_gallery(&s, 100, 10 * SC_MS);
	sc_connect(&s, &e, 900, 20 * SC_MS);
	sc_active_close(&s, &e, 900, 21 * SC_MS);
	sc_connect(&s, &bad, 901, 20 * SC_MS);
	sc_active_close(&s, &bad, 901, 21 * SC_MS);
	ts_scen_sort(&s);
	h = render(&s, HTML, 100, NULL, &len);
	/* Only the page's own </script> tags: none from the data. */
	tags = count(ts_html_page_head, "</script") + count(ts_html_page_tail, "</script");
	CHECK_INT(count(h, "</script"), tags);
	CHECK(strstr(h, "\\u003c/script\\u003e\\u003cb\\u003e") != NULL);
	CHECK(strstr(h, "<b>") == NULL);
	CHECK_INT(count(h, "\"id\":\""), 13);
	/* Bytes that are not UTF-8 as \u00XX: the JSON stays valid UTF-8. */
	CHECK(strstr(h, "\"comm\":\"a\\u00ff\\u00c3(\\\"\\\\\"") != NULL);
	free(h);
	h = render(&s, HTML, 3, "bad CRC in frame at byte 812", &len);
	/* Three rows, the worst first (retransmissions), the rest aggregated. */
	CHECK_INT(count(h, "\"id\":\""), 3);
	CHECK(strstr(h, "\"rest\":{\"count\":10,") != NULL);
	CHECK(strstr(h, "\"total\":13,\"max\":3,") != NULL);
	CHECK(strstr(h, "\"damage\":\"bad CRC in frame at byte 812\"") != NULL);
	CHECK(strstr(h, "http://") == NULL || strstr(h, "http://www.w3.org/") != NULL);
	CHECK(strstr(h, "src=\"http") == NULL && strstr(h, "href=\"http") == NULL);
	free(h);
	ts_scen_free(&s);
}

static void test_perfetto(void)
{
	struct ts_scen s = { 0 };
	size_t len = 0;
	char *p;

	ts_scen_gallery(&s, 100, 10 * SC_MS);
	p = render(&s, PERFETTO, 0, NULL, &len);
	CHECK(!strncmp(p, "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[", 39));
	CHECK(len > 3 && !strcmp(p + len - 3, "}}\n"));
	CHECK_INT(count(p, "\"name\":\"thread_name\""), 11);
	/* curl, nginx and the unknown owner. */
	CHECK_INT(count(p, "\"name\":\"process_name\""), 3);
	CHECK_INT(count(p, "\"ph\":\"i\""), 8);
	CHECK(count(p, "\"ph\":\"X\"") > 30);
	CHECK(strstr(p, "\"damage\":null") != NULL);
	free(p);
	ts_scen_free(&s);
}

static struct ts_conn got[4];
static int ngot;

static int keep(void *ctx, const struct ts_conn *c)
{
	(void)ctx;
	if (ngot < 4)
		got[ngot] = *c;
	ngot++;
	return 0;
}

/* The tracker keeps each retransmit and reset with its time, in order,
 * joins a SYN-ACK retransmit of the request, and bounds what it keeps. */
static void test_marks(void)
{
	struct ts_scen_end c = { 4, "198.18.0.1", "198.18.0.2", 40000, 80, 1, "c", 1 };
	struct ts_scen_end sv = { 4, "198.18.0.2", "198.18.0.1", 80, 40001, 2, "s", 1 };
	struct ts_tracker *t = NULL;
	struct ts_scen s = { 0 };

	sc_connect(&s, &c, 1, 1 * SC_MS);
	/* Out of order by a little, as records from two CPUs can be. */
	sc_event(&s, &c, TS_REC_RETRANS, 1, 3 * SC_MS, TS_ESTABLISHED);
	sc_event(&s, &c, TS_REC_RETRANS, 1, 2 * SC_MS, TS_ESTABLISHED);
	for (int i = 0; i < TS_CONN_MAX_MARKS; i++)
		sc_event(&s, &c, TS_REC_RETRANS, 1, 4 * SC_MS + i * SC_US, TS_ESTABLISHED);
	sc_event(&s, &c, TS_REC_RESET_RECV, 1, 5 * SC_MS, TS_ESTABLISHED);
	sc_close(&s, &c, 1, 5 * SC_MS + 1, TS_ESTABLISHED, 0, ECONNRESET);
	sc_event(&s, &sv, TS_REC_SYNACK_RETRANS, 0, 6 * SC_MS, TS_NEW_SYN_RECV);
	sc_event(&s, &sv, TS_REC_SYNACK_RETRANS, 0, 7 * SC_MS, TS_NEW_SYN_RECV);
	sc_accept(&s, &sv, 2, 8 * SC_MS);
	ngot = 0;
	CHECK_INT(ts_tracker__new(NULL, keep, NULL, &t), 0);
	for (size_t i = 0; i < s.n; i++)
		CHECK_INT(ts_tracker__push(t, &s.r[i]), 0);
	CHECK_INT(ts_tracker__finish(t), 0);
	ts_tracker__free(t);
	CHECK_INT(ngot, 2);
	CHECK_INT(got[0].nmarks, TS_CONN_MAX_MARKS);
	CHECK_INT(got[0].marks_dropped, 3);
	CHECK_INT(got[0].rtx_total, TS_CONN_MAX_MARKS + 2); /* counts stay exact */
	CHECK_INT(got[0].marks[0].ts_ns, 2 * SC_MS);
	CHECK_INT(got[0].marks[1].ts_ns, 3 * SC_MS);
	CHECK_INT(got[0].marks[0].type, TS_REC_RETRANS);
	CHECK_INT(got[0].marks[0].state, TS_ESTABLISHED);
	/* The reset came when the marks were full: it is kept all the same. */
	CHECK_INT(got[0].marks[TS_CONN_MAX_MARKS - 1].type, TS_REC_RESET_RECV);
	CHECK_INT(got[0].marks[TS_CONN_MAX_MARKS - 2].ts_ns, 4 * SC_MS + 4 * SC_US);
	CHECK_INT(got[1].nmarks, 1);
	CHECK_INT(got[1].marks[0].type, TS_REC_SYNACK_RETRANS);
	CHECK_INT(got[1].marks[0].count, 2);
	CHECK_INT(got[1].marks[0].ts_ns, 6 * SC_MS);
	CHECK_INT(got[1].rtx[TS_RTX_SYNACK], 2);
	ts_scen_free(&s);
}

int main(void)
{
	test_marks();
	test_diagram_golden();
	test_diagram_escape_and_width();
	test_locale();
	test_html();
	test_perfetto();
	return check_report();
}
