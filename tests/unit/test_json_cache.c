// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What the JSON records sink keeps between records, against the same
 * output made without it: a connection's fields (core/sinks/json_conn.c:
 * a hit, a miss for every input changed alone, a slot shared by two
 * connections, names too long to keep, hostile names), the whole sink
 * over random records, and the writers its time and addresses use
 * (ts_put_rfc3339 against gmtime_r and printf over second, minute, day,
 * month, year and leap-year boundaries; ts_put_ns; IPv6 against
 * inet_ntop), and the writer's direct mode (write(2) to a write-only
 * descriptor, full buffers ending at aligned offsets in the file).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "check.h"
#include "sinkcheck.h"
#include "core/sinks/json_conn.h"
#include "core/sinks/sinks.h"
#include "core/util/fmt.h"
#include "core/util/jsonw.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <unistd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void base_rec(struct ts_rec *r)
{
	memset(r, 0, sizeof(*r));
	r->type = TS_REC_STATE;
	r->family = 4;
	r->old_state = 2;
	r->new_state = 1;
	r->sport = 40000;
	r->dport = 80;
	r->pid = 1234;
	r->netns = 4026531840u;
	r->ts_ns = 5000000000123ULL;
	r->conn = 77;
	r->saddr[0] = 127, r->saddr[3] = 1;
	r->daddr[0] = 10, r->daddr[3] = 2;
	strcpy(r->comm, "curl");
	r->cgroup_id = 42;
	r->cgroup = "/system.slice/"
		    "docker-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope";
}

/* The connection fields as the cache writes them (c) or without (NULL),
 * after one value so that they start with their comma. */
static char *conn_text(struct ts_json_conns *c, const struct ts_rec *r)
{
	struct ts_jsonw w;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ts_jsonw__init(&w, f, NULL, 0);
	ts_jsonw__line_begin(&w);
	TS_JSONW_U64(&w, "x", 1);
	ts_json_conns__write(c, &w, r);
	ts_jsonw__line_end(&w);
	ts_jsonw__flush(&w);
	fclose(f);
	return buf;
}

/* Write r through c; 1 when it was a hit, 0 a miss.  The text must be
 * what the record gives without the cache. */
static int through(struct ts_json_conns *c, const struct ts_rec *r)
{
	uint64_t h0, m0, h1, m1;
	char *a, *b;

	ts_json_conns__counts(c, &h0, &m0);
	a = conn_text(c, r);
	b = conn_text(NULL, r);
	CHECK_STR(a, b);
	free(a);
	free(b);
	ts_json_conns__counts(c, &h1, &m1);
	if (c)
		CHECK_INT(h1 + m1, h0 + m0 + 1);
	return (int)(h1 - h0);
}

static void test_conn_inputs(void)
{
	struct ts_json_conns *c = ts_json_conns__new();
	char cg[64] = "/user.slice/a.service";
	struct ts_rec r, q;

	CHECK(c != NULL);
	base_rec(&r);
	CHECK_INT(through(c, &r), 0);
	CHECK_INT(through(c, &r), 1);
	CHECK_INT(through(c, &r), 1);

	/* Each input changed alone: a miss, then a hit with the new text. */
#define CHANGE(stmt)                                                                               \
	do {                                                                                       \
		q = r;                                                                             \
		stmt;                                                                              \
		CHECK_INT(through(c, &q), 0);                                                      \
		CHECK_INT(through(c, &q), 1);                                                      \
		CHECK_INT(through(c, &r), 0);                                                      \
	} while (0)
	CHANGE(q.pid = 1235);
	CHANGE(q.pid = 0); /* null owner */
	CHANGE(strcpy(q.comm, "curk"));
	CHANGE(strcpy(q.comm, "cur"));
	CHANGE(q.family = 6);
	CHANGE(q.saddr[3] = 2);
	CHANGE(q.saddr[15] = 1);
	CHANGE(q.daddr[1] = 9);
	CHANGE(q.sport = 0);
	CHANGE(q.dport = 443);
	CHANGE(q.netns = 4026531841u);
	CHANGE(q.cgroup_id = 43);
	CHANGE(q.cgroup = NULL);
	CHANGE(q.cgroup = "/");
	CHANGE(q.cgroup = "");
#undef CHANGE
	/* The local port alone, many times (the text patched in place, a
	 * miss each time, then a hit): digits of every length. */
	{
		static const uint16_t ports[] = {0, 1, 65535, 9, 10, 99, 100, 40000, 0, 12345};

		q = r;
		for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
			q.sport = ports[i];
			CHECK_INT(through(c, &q), 0);
			CHECK_INT(through(c, &q), 1);
		}
		q.sport = 7;
		q.dport = 8;
		CHECK_INT(through(c, &q), 0);
		CHECK_INT(through(c, &q), 1);
		CHECK_INT(through(c, &r), 0);
		CHECK_INT(through(c, &r), 1);
	}
	/* Another connection: its own slot, this one's stays. */
	q = r;
	q.conn = r.conn + 1;
	CHECK_INT(through(c, &q), 0);
	CHECK_INT(through(c, &q), 1);
	CHECK_INT(through(c, &r), 1);

	/* The cgroup path compared by content: the same buffer rewritten. */
	r.cgroup = cg;
	CHECK_INT(through(c, &r), 0);
	CHECK_INT(through(c, &r), 1);
	strcpy(cg, "/user.slice/b.service");
	CHECK_INT(through(c, &r), 0);
	CHECK_INT(through(c, &r), 1);
	/* Fields not in the text do not matter. */
	q = r;
	q.ts_ns++, q.old_state = 5, q.new_state = 7, q.flags = 0xff, q.type = TS_REC_RETRANS;
	CHECK_INT(through(c, &q), 1);
	ts_json_conns__free(c);
}

static void test_conn_slots(void)
{
	struct ts_json_conns *c = ts_json_conns__new();
	char longcg[TS_JSON_CONN_CG_MAX + 40];
	struct ts_rec a, b;

	base_rec(&a);
	b = a;
	b.conn = a.conn + TS_JSON_CONN_SLOTS; /* the same slot */
	b.sport = 40001;
	CHECK_INT(through(c, &a), 0);
	CHECK_INT(through(c, &b), 0); /* evicts a */
	CHECK_INT(through(c, &b), 1);
	CHECK_INT(through(c, &a), 0);
	b.conn = a.conn + 1; /* another slot: both stay */
	CHECK_INT(through(c, &b), 0);
	CHECK_INT(through(c, &a), 1);
	CHECK_INT(through(c, &b), 1);

	/* A path too long to keep: right text, never a hit. */
	memset(longcg, 'x', sizeof(longcg) - 1);
	longcg[0] = '/';
	longcg[sizeof(longcg) - 1] = '\0';
	a.cgroup = longcg;
	CHECK_INT(through(c, &a), 0);
	CHECK_INT(through(c, &a), 0);
	/* The longest kept. */
	longcg[TS_JSON_CONN_CG_MAX] = '\0';
	CHECK_INT(through(c, &a), 0);
	CHECK_INT(through(c, &a), 1);

	/* Hostile names: escapes, invalid UTF-8, quotes, in comm and path;
	 * a text of escapes too long for a slot. */
	memset(longcg, 0x01, TS_JSON_CONN_CG_MAX);
	longcg[0] = '/';
	longcg[TS_JSON_CONN_CG_MAX] = '\0';
	a.cgroup = longcg;
	strcpy(a.comm, "\"\\\x01\xff\xc3\xa9\n");
	CHECK_INT(through(c, &a), 0);
	CHECK_INT(through(c, &a), 0);
	a.cgroup =
	    "/\xe2\x82\"docker-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	CHECK_INT(through(c, &a), 0);
	CHECK_INT(through(c, &a), 1);

	/* No cache at all: formatted. */
	CHECK_INT(through(NULL, &a), 0);
	ts_json_conns__free(c);
}

/* A writer whose buffer fills inside the fields: the text is right, and
 * what was split by a write is not kept. */
static void test_conn_split(void)
{
	struct ts_json_conns *c = ts_json_conns__new();
	struct ts_rec r;
	char *got, *want;
	size_t len = 0, pad;
	uint64_t h, m;

	base_rec(&r);
	for (pad = TS_JSONW_BUF - 300; pad < TS_JSONW_BUF; pad += 7) {
		struct ts_jsonw w;
		FILE *f;
		char *filler = malloc(pad + 1);

		memset(filler, 'a', pad);
		filler[pad] = '\0';
		r.conn = 1000 + pad; /* a fresh slot each time: a miss */
		got = NULL;
		f = open_memstream(&got, &len);
		ts_jsonw__init(&w, f, NULL, 0);
		ts_jsonw__line_begin(&w);
		TS_JSONW_STR(&w, "x", filler);
		ts_json_conns__write(c, &w, &r);
		ts_json_conns__write(c, &w, &r); /* the same, hit or not */
		ts_jsonw__line_end(&w);
		ts_jsonw__flush(&w);
		fclose(f);

		f = open_memstream(&want, &len);
		ts_jsonw__init(&w, f, NULL, 0);
		ts_jsonw__line_begin(&w);
		TS_JSONW_STR(&w, "x", filler);
		ts_json_conns__write(NULL, &w, &r);
		ts_json_conns__write(NULL, &w, &r);
		ts_jsonw__line_end(&w);
		ts_jsonw__flush(&w);
		fclose(f);
		CHECK_STR(got, want);
		free(got);
		free(want);
		free(filler);
	}
	ts_json_conns__counts(c, &h, &m);
	CHECK(h > 0 && m > 0);
	ts_json_conns__free(c);
}

static const char *const cgroups[] = {
    "/",
    "/user.slice/user-1000.slice/session-2.scope",
    "/kubepods/burstable/pod1/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "/bad\x01\"name\xff",
};

/* A record drawn from small pools, so that connections repeat. */
static void random_rec(struct ts_rec *r)
{
	static const char *const comms[] = {"nginx", "curl", "a\"b", "\x1b[31m", "\xff\xfe"};
	uint64_t x = check_rnd();

	base_rec(r);
	r->conn = x % 3000;
	r->type = (x >> 12) % 8 == 0   ? TS_REC_RETRANS
		  : (x >> 12) % 8 == 1 ? TS_REC_RESET_SENT
		  : (x >> 12) % 8 == 2 ? TS_REC_LOST
				       : TS_REC_STATE;
	r->old_state = (uint8_t)(1 + (x >> 16) % 12);
	r->new_state = (uint8_t)(1 + (x >> 20) % 12);
	r->flags = (uint8_t)(x >> 24);
	r->pid = (x >> 32) % 5 == 0 ? 0 : 1000 + (uint32_t)((x >> 35) % 3);
	strcpy(r->comm, comms[(x >> 38) % 5]);
	r->family = (x >> 41) & 1 ? 6 : 4;
	if (r->family == 6) {
		r->saddr[15] = 1;
		r->daddr[0] = 0x20, r->daddr[1] = 0x01, r->daddr[15] = (uint8_t)(x >> 42);
	}
	r->sport = (x >> 44) % 4 == 0 ? 0 : (uint16_t)(40000 + r->conn);
	r->netns = 4026531840u + (uint32_t)((x >> 46) % 2);
	r->cgroup_id = (x >> 47) % 3;
	r->cgroup = (x >> 49) % 5 == 4 ? NULL : cgroups[(x >> 49) % 5 % 4];
	r->ts_ns = 1000000000ULL * 86400 * 400 + check_rnd() % 5000000000ULL;
	r->ns_in_old = (x >> 52) % 3 ? check_rnd() % 100000000 : 0;
	r->lost = x >> 50;
	if ((x >> 55) & 1) {
		r->has_stats = true;
		r->st.segs_out = (uint32_t)x;
		r->st.srtt_us = (uint32_t)(x >> 7);
	}
}

/* The sink (its kept texts, its buffer) against ts_json_write_rec. */
static void test_sink_random(void)
{
	struct ts_meta meta = {.wall_offset_ns = 1700000000LL * 1000000000 - 7};
	char *got = NULL, *want = NULL;
	size_t glen = 0, wlen = 0;
	FILE *gf = open_memstream(&got, &glen), *wf = open_memstream(&want, &wlen);
	struct ts_sink s;

	CHECK_INT(ts_sink_json__new(&s, gf, &meta), 0);
	sinkcheck_run(&s, gf, &got, &glen, wf, &want, &wlen, &meta, random_rec,
		      ts_json_write_rec, 40000, 5000,
		      "{\"event\":\"summary\",\"records\":1,\"lost\":0,\"drops\":0,"
		      "\"drops_suppressed\":0}\n");
}

/* A file opened write-only (as `> file` gives stdout), and its path. */
static FILE *wronly_file(char *path)
{
	int fd = mkstemp(path), wfd;

	if (fd < 0)
		return NULL;
	close(fd);
	wfd = open(path, O_WRONLY | O_TRUNC);
	return wfd < 0 ? NULL : fdopen(wfd, "w");
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0, n = 0, k;

	*len = 0;
	if (!f)
		return NULL;
	for (int i = 0; i < 100000; i++) {
		if (n == cap) {
			char *b = realloc(buf, cap = cap ? cap * 2 : 65536);

			if (!b)
				break;
			buf = b;
		}
		k = fread(buf + n, 1, cap - n, f);
		if (!k)
			break;
		n += k;
	}
	fclose(f);
	*len = n;
	return buf;
}

/* The file at path holds want (wlen bytes); it is removed, want freed. */
static void check_file_is(const char *path, char *want, size_t wlen)
{
	size_t glen = 0;
	char *got = slurp(path, &glen);

	CHECK_INT(glen, wlen);
	CHECK(got && glen == wlen && !memcmp(got, want, glen));
	unlink(path);
	free(got);
	free(want);
}

/*
 * The sink on a write-only file writes its buffer itself: what others put
 * in the stream (a header left in stdio's buffer, lines between batches,
 * flushed or not) stays in its place.
 */
static void test_sink_direct(void)
{
	struct ts_meta meta = {.wall_offset_ns = 1700000000LL * 1000000000 - 7};
	char path[] = "/tmp/test_json_direct.XXXXXX";
	char *want = NULL;
	size_t wlen = 0;
	FILE *gf = wronly_file(path), *wf = open_memstream(&want, &wlen);
	struct ts_totals t = {.records = 1};
	struct ts_sink s;
	struct ts_rec r;

	CHECK(gf != NULL);
	if (!gf)
		return;
	fputs("{\"event\":\"header\"}\n", gf);
	fputs("{\"event\":\"header\"}\n", wf);
	CHECK_INT(ts_sink_json__new(&s, gf, &meta), 0);
	for (int i = 0; i < 60000; i++) {
		random_rec(&r);
		CHECK_INT(s.ops->rec(s.priv, &r), 0);
		ts_json_write_rec(wf, &r, &meta);
		if (i % 4999 == 0 || check_rnd() % 700 == 0) {
			CHECK_INT(s.ops->flush(s.priv), 0);
			if (i % 3 == 0) {
				fprintf(gf, "{\"other\":%d}\n", i);
				fprintf(wf, "{\"other\":%d}\n", i);
				if (i % 2)
					fflush(gf);
			}
		}
	}
	CHECK_INT(s.ops->finish(s.priv, &t), 0);
	s.ops->destroy(s.priv);
	fputs("{\"event\":\"summary\",\"records\":1,\"lost\":0,\"drops\":0,"
	      "\"drops_suppressed\":0}\n{\"after\":1}\n",
	      wf);
	fputs("{\"after\":1}\n", gf);
	CHECK_INT(fclose(gf), 0);
	fclose(wf);
	check_file_is(path, want, wlen);
}

/* Lines of many lengths through a writer in direct mode. */
static void write_lines(struct ts_jsonw *w, FILE *mirror, int lines, int fd, size_t align,
			int *aligned, int *full)
{
	static const char pad[] = "0123456789abcdefghijklmnopqrstuvwxyz"
				  "0123456789abcdefghijklmnopqrstuvwxyz"
				  "0123456789abcdefghijklmnopqrstuvwxyz"
				  "0123456789abcdefghijklmnopqrstuvwxyz";
	char val[sizeof(pad)];

	for (int i = 0; i < lines; i++) {
		unsigned int before = w->flushes;
		size_t k = check_rnd() % sizeof(pad);
		uint64_t x = check_rnd();

		memcpy(val, pad, k);
		val[k] = '\0';
		ts_jsonw__line_begin(w);
		TS_JSONW_U64(w, "i", (uint64_t)i);
		TS_JSONW_STR(w, "s", val);
		TS_JSONW_U64(w, "x", x);
		ts_jsonw__line_end(w);
		fprintf(mirror, "{\"i\":%d,\"s\":\"%s\",\"x\":%" PRIu64 "}\n", i, val, x);
		if (w->flushes != before && fd >= 0) {
			(*full)++;
			*aligned += lseek(fd, 0, SEEK_CUR) % (off_t)align == 0;
		}
	}
}

static void test_direct_aligned(void)
{
	enum { ALIGN = 8192 };
	static char buf[ALIGN + 2 * TS_JSONW_BUF];
	char path[] = "/tmp/test_json_align.XXXXXX";
	char *want = NULL;
	size_t wlen = 0;
	FILE *f = wronly_file(path), *mirror = open_memstream(&want, &wlen);
	struct ts_jsonw w;
	int aligned = 0, full = 0;

	CHECK(f != NULL);
	if (!f)
		return;
	/* An odd offset to start from, left in stdio's buffer. */
	fputs("start\n", f);
	fputs("start\n", mirror);
	ts_jsonw__init(&w, f, buf, sizeof(buf));
	CHECK(ts_jsonw__direct(&w, ALIGN));
	ts_jsonw__resync(&w);
	write_lines(&w, mirror, 3000, fileno(f), ALIGN, &aligned, &full);
	ts_jsonw__flush(&w);
	CHECK_INT(ts_jsonw__error(&w), 0);
	CHECK(full > 20);
	/* Every full buffer ended at a multiple of ALIGN (the lines are
	 * shorter than what the buffer holds past it). */
	CHECK_INT(aligned, full);
	CHECK_INT(fclose(f), 0);
	fclose(mirror);
	check_file_is(path, want, wlen);

	/* A file also read is left to stdio; so is a small buffer. */
	f = tmpfile();
	ts_jsonw__init(&w, f, buf, sizeof(buf));
	CHECK(!ts_jsonw__direct(&w, ALIGN));
	fclose(f);
}

/* A pipe has no offset: whole buffers; a reader gone is -EPIPE. */
static void test_direct_pipe(void)
{
	enum { ALIGN = 8192 };
	static char buf[ALIGN + 2 * TS_JSONW_BUF], got[65536];
	char *want = NULL;
	size_t wlen = 0, glen = 0;
	FILE *mirror = open_memstream(&want, &wlen), *f;
	struct ts_jsonw w;
	int p[2], aligned = 0, full = 0;
	ssize_t k;

	CHECK_INT(pipe(p), 0);
	f = fdopen(p[1], "w");
	ts_jsonw__init(&w, f, buf, sizeof(buf));
	CHECK(ts_jsonw__direct(&w, ALIGN));
	ts_jsonw__resync(&w);
	/* Less than the pipe holds: no reader needed. */
	write_lines(&w, mirror, 250, -1, ALIGN, &aligned, &full);
	ts_jsonw__flush(&w);
	CHECK_INT(ts_jsonw__error(&w), 0);
	fclose(mirror);
	CHECK(wlen < sizeof(got));
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	while (glen < sizeof(got) && (k = read(p[0], got + glen, sizeof(got) - glen)) > 0)
		glen += (size_t)k;
	CHECK_INT(glen, wlen);
	CHECK(glen == wlen && !memcmp(got, want, glen));
	free(want);

	signal(SIGPIPE, SIG_IGN);
	close(p[0]);
	ts_jsonw__line_begin(&w);
	TS_JSONW_U64(&w, "n", 1);
	ts_jsonw__line_end(&w);
	ts_jsonw__flush(&w);
	CHECK_INT(ts_jsonw__error(&w), -EPIPE);
	fclose(f);
	signal(SIGPIPE, SIG_DFL);
}

/* ts_put_rfc3339 against gmtime_r and printf for one time. */
static void check_rfc3339(int64_t ns)
{
	char got[64], want[64];
	time_t sec = (time_t)(ns / 1000000000);
	long frac = (long)(ns % 1000000000);
	struct tm tm;

	if (frac < 0)
		frac += 1000000000, sec--;
	if (!gmtime_r(&sec, &tm))
		memset(&tm, 0, sizeof(tm));
	snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
	got[ts_put_rfc3339(got, ns)] = '\0';
	if (strcmp(got, want)) {
		fprintf(stderr, "rfc3339 %" PRId64 ": %s, expected %s\n", ns, got, want);
		check_failed++;
	} else {
		check_passed++;
	}
	ts_fmt_rfc3339(got, sizeof(got), ns);
	CHECK(!strcmp(got, want));
}

static void test_rfc3339(void)
{
	/* Seconds just before a boundary: a second, a minute, an hour, a
	 * day, a month, a year, a leap day (2000, 2024), 2100 (no leap day),
	 * the epoch, the years before it. */
	static const int64_t secs[] = {
		1, 59, 3599, 86399, 0, -1, -86401,
		951782399,  /* 2000-02-28 23:59:59 */
		951868799,  /* 2000-02-29 23:59:59 */
		1483228799, /* 2016-12-31 23:59:59 (a leap second followed) */
		1709164799, /* 2024-02-28 */
		1709251199, /* 2024-02-29 */
		1735689599, /* 2024-12-31 */
		1764806399, /* 2025-12-03 */
		4107542399, /* 2100-02-28 (no 29th) */
		4107628799, /* 2100-03-01 */
		7258118399, /* 2199-12-31 */
		9223372033, /* near the end of int64 ns (2262) */
	};
	static const int64_t fracs[] = {0, 1, 999999999, 500000000, 123456789, 999999998};

	for (size_t i = 0; i < sizeof(secs) / sizeof(secs[0]); i++)
		for (int d = -2; d <= 2; d++)
			for (size_t k = 0; k < sizeof(fracs) / sizeof(fracs[0]); k++) {
				int64_t ns = (secs[i] + d) * 1000000000 + fracs[k];

				/* In order, and again out of order (the kept
				 * second changes back and forth). */
				check_rfc3339(ns);
				check_rfc3339(ns - 1);
				check_rfc3339(ns + 1);
			}
	check_rfc3339(INT64_MAX);
	check_rfc3339(INT64_MIN);
	check_rfc3339(INT64_MIN + 1);
	/* Every ns step across one boundary, and random times. */
	for (int64_t ns = 1764806399999990000LL; ns < 1764806400000010000LL; ns++)
		check_rfc3339(ns);
	for (int i = 0; i < 200000; i++)
		check_rfc3339((int64_t)(check_rnd() % 4102444800000000000ULL) - (i & 1 ? 100 : 0));
}

static void test_put_ns(void)
{
	char got[32], want[32];

	for (int i = 0; i < 300000; i++) {
		uint64_t v = i < 100000	  ? check_rnd()
			     : i < 200000 ? check_rnd() % 3000000000ULL
					  : 999999990 + (uint64_t)(i % 30);

		if (i % 7 == 0)
			v = (v / 1000000000) * 1000000000 + (i % 3); /* the second's edge */
		got[ts_put_ns(got, v)] = '\0';
		snprintf(want, sizeof(want), "%" PRIu64, v);
		if (strcmp(got, want)) {
			fprintf(stderr, "put_ns %s, expected %s\n", got, want);
			check_failed++;
		} else {
			check_passed++;
		}
	}
	got[ts_put_ns(got, UINT64_MAX)] = '\0';
	CHECK_STR(got, "18446744073709551615");
	got[ts_put_ns(got, 0)] = '\0';
	CHECK_STR(got, "0");
	got[ts_put_ns(got, 1000000000)] = '\0';
	CHECK_STR(got, "1000000000");
	for (uint64_t v = 0; v < 1000000; v += 997) {
		ts_put_u64_fixed(got, v, 4);
		got[4] = '\0';
		snprintf(want, sizeof(want), "%04" PRIu64, v % 10000);
		CHECK_STR(got, want);
	}
}

static void check_ip6(const uint8_t *a)
{
	char got[64], want[64];

	got[ts_put_ip(got, 6, a)] = '\0';
	inet_ntop(AF_INET6, a, want, sizeof(want));
	if (strcmp(got, want)) {
		fprintf(stderr, "ip6 %s, expected %s\n", got, want);
		check_failed++;
	} else {
		check_passed++;
	}
}

static void test_ip6(void)
{
	static const uint16_t vals[] = {0, 1, 0xffff, 0xabc, 0x1000};
	uint8_t a[16];

	/* Every address made of these groups: every shape of zero runs,
	 * v4-mapped and v4-compatible forms included. */
	for (uint32_t k = 0; k < 390625; k++) {
		uint32_t x = k;

		for (int i = 0; i < 8; i++, x /= 5) {
			a[2 * i] = (uint8_t)(vals[x % 5] >> 8);
			a[2 * i + 1] = (uint8_t)vals[x % 5];
		}
		check_ip6(a);
	}
	for (int i = 0; i < 200000; i++) {
		uint64_t x = check_rnd(), y = check_rnd();

		memcpy(a, &x, 8);
		memcpy(a + 8, &y, 8);
		/* Zero some groups. */
		for (int g = 0; g < 8; g++)
			if ((x >> (g + 40)) & (y >> g) & 1)
				a[2 * g] = a[2 * g + 1] = 0;
		check_ip6(a);
	}
}

int main(void)
{
	test_conn_inputs();
	test_conn_slots();
	test_conn_split();
	test_sink_random();
	test_sink_direct();
	test_direct_aligned();
	test_direct_pipe();
	test_rfc3339();
	test_put_ns();
	test_ip6();
	printf("%d passed, %d failed\n", check_passed, check_failed);
	return check_failed ? 1 : 0;
}
