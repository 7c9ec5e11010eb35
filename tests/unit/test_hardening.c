// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Issue 10 at unit level: the one escaping function, JSON that stays
 * UTF-8, saturating time arithmetic, --at past 2262, --netns 0, the
 * bounded percentile sketch, and the capture reader's limits (snapshot
 * sockets, decompression bombs, the count of unwritten events).
 */
#define _GNU_SOURCE
#include "check.h"
#include "core/capfile/capfile.h"
#include "core/capfile/capfile_int.h"
#include "core/util/escape.h"
#include "core/util/fmt.h"
#include "core/util/jsonw.h"
#include "core/util/parse.h"
#include "core/util/quantile.h"
#include "core/util/timearg.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

static void test_escape(void)
{
	char buf[TS_ESC_LEN(64)], small[6];

	CHECK_STR(ts_escape(buf, sizeof(buf), "curl"), "curl");
	/* ESC ] 0 ; BEL and ESC [ 2 J: nothing a terminal acts on survives. */
	CHECK_STR(ts_escape(buf, sizeof(buf), "\x1b]0;pwn\x07\x1b[2J"),
		  "\\x1b]0;pwn\\x07\\x1b[2J");
	/* Not UTF-8: a lone 0xff, a cut sequence, an overlong '/', a surrogate. */
	CHECK_STR(ts_escape(buf, sizeof(buf), "a\xff" "b\xc3"), "a\\xffb\\xc3");
	CHECK_STR(ts_escape(buf, sizeof(buf), "\xc0\xaf"), "\\xc0\\xaf");
	CHECK_STR(ts_escape(buf, sizeof(buf), "\xed\xa0\x80"), "\\xed\\xa0\\x80");
	/* Well-formed UTF-8 stays; the C1 control CSI (U+009B) does not. */
	CHECK_STR(ts_escape(buf, sizeof(buf), "caf\xc3\xa9 \xe2\x82\xac"), "caf\xc3\xa9 \xe2\x82\xac");
	CHECK_STR(ts_escape(buf, sizeof(buf), "\xc2\x9b" "2J"), "\\xc2\\x9b2J");
	CHECK_STR(ts_escape(buf, sizeof(buf), "a\\b\tc\x7f"), "a\\\\b\\x09c\\x7f");
	/* Cut between escapes, never inside one. */
	CHECK_STR(ts_escape(small, sizeof(small), "ab\x1b" "c"), "ab");
	CHECK_STR(ts_escape(small, sizeof(small), "ab\xc3\xa9zz"), "ab\xc3\xa9z");
}

static void test_json_utf8(void)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	ts_json_quote(f, "\x1b]0;\x07\xff\xc3 caf\xc3\xa9 \"q\"\\");
	fclose(f);
	/* Invalid bytes read as Latin-1, controls as \u00XX. */
	CHECK_STR(out, "\"\\u001b]0;\\u0007\\u00ff\\u00c3 caf\xc3\xa9 \\\"q\\\"\\\\\"");
	free(out);
}

/*
 * The JSON writer buffers an object: strings longer than its buffer, and
 * escapes where the buffer fills, come out as one unbuffered writer would
 * write them (here: built by hand, byte by byte).
 */
static void test_json_buffer(void)
{
	size_t big = 3 * TS_JSONW_BUF + 7, k = 0;
	char *s = malloc(big + 1), *want = malloc(6 * big + 64), *out = NULL;
	struct ts_jsonw w;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	CHECK(s && want && f);
	if (!s || !want || !f)
		return;
	for (size_t i = 0; i < big; i++)
		s[i] = i % 97 == 0 ? '"' : i % 89 == 0 ? '\x01' : (char)('a' + i % 26);
	s[big] = '\0';
	k += (size_t)sprintf(want + k, "{\"n\":18446744073709551615,\"big\":\"");
	for (size_t i = 0; i < big; i++) {
		if (s[i] == '"')
			k += (size_t)sprintf(want + k, "\\\"");
		else if (s[i] == '\x01')
			k += (size_t)sprintf(want + k, "\\u0001");
		else
			want[k++] = s[i];
	}
	k += (size_t)sprintf(want + k, "\",\"ip\":\"10.0.0.1\",\"z\":0,\"neg\":-9223372036854775808}\n");
	ts_jsonw__begin(&w, f);
	TS_JSONW_U64(&w, "n", UINT64_MAX);
	ts_jsonw__str(&w, "big", s);
	TS_JSONW_KEY(&w, "ip");
	ts_jsonw__plain(&w, NULL, "10.0.0.1", 8);
	ts_jsonw__u64(&w, "z", 0);
	ts_jsonw__i64(&w, "neg", INT64_MIN);
	ts_jsonw__end(&w);
	fclose(f);
	CHECK_INT(len, k);
	CHECK(len == k && !memcmp(out, want, k));
	free(out);
	free(want);
	free(s);
}

/* ts_put_u64 as "%llu" prints, at every length. */
static void test_put_u64(void)
{
	char got[32], want[32];
	uint64_t p = 1;

	for (int i = 0; i < 20; i++, p *= 10) {
		uint64_t v[] = { p - 1, p, p + 1, p * 7 + 3 };

		for (size_t j = 0; j < sizeof(v) / sizeof(v[0]); j++) {
			got[ts_put_u64(got, v[j])] = '\0';
			snprintf(want, sizeof(want), "%llu", (unsigned long long)v[j]);
			CHECK_STR(got, want);
		}
	}
	got[ts_put_u64(got, UINT64_MAX)] = '\0';
	CHECK_STR(got, "18446744073709551615");
}

static void test_time(void)
{
	char buf[TS_TIMESTR_LEN];
	uint64_t mono;

	CHECK(ts_wall_ns(10, INT64_MAX) == INT64_MAX);
	CHECK(ts_wall_ns(UINT64_MAX, 0) == INT64_MAX);
	CHECK(ts_wall_ns(10, INT64_MIN) == INT64_MIN + 10);
	CHECK(ts_wall_ns(1000, -10) == 990);
	ts_fmt_rfc3339(buf, sizeof(buf), ts_wall_ns(10, INT64_MAX));
	CHECK_STR(buf, "2262-04-11T23:47:16.854775807Z");
	ts_fmt_rfc3339(buf, sizeof(buf), INT64_MIN);
	CHECK(!strncmp(buf, "1677-09-21T", 11));
	/* Years past 2262 do not fit int64 nanoseconds: refused, not 1715. */
	CHECK_INT(ts_parse_at("2300-01-01T00:00:00Z", 0, 0, &mono), -ERANGE);
	CHECK_INT(ts_parse_at("2262-04-11T23:47:16Z", 0, 0, &mono), 0);
	CHECK_INT(ts_parse_at("2262-04-11T23:47:17Z", 0, 0, &mono), -ERANGE);
	CHECK_INT(ts_parse_at("2026-01-01T00:00:00Z", 0, INT64_MIN, &mono), -ERANGE);
	CHECK_INT(ts_parse_at("+1s", UINT64_MAX, 0, &mono), -ERANGE);
}

static void test_netns_zero(void)
{
	uint32_t ns = 7;

	CHECK_INT(ts_parse_netns("0", &ns), -ERANGE);
	CHECK_INT(ts_parse_netns("4294967296", &ns), -ERANGE);
	CHECK_INT(ns, 7);
}

static void test_quantile(void)
{
	struct ts_quant q = {};
	uint64_t p50, p99;

	/* Exact while small. */
	for (uint64_t i = 1; i <= 100; i++)
		CHECK_INT(ts_quant__push(&q, i * 1000), 0);
	CHECK_INT(ts_quant__pct(&q, 0.5), 50000);
	CHECK_INT(ts_quant__pct(&q, 0.99), 99000);
	ts_quant__free(&q);
	/* 1 000 000 samples 1..1e6 us: past TS_QUANT_EXACT, within 0.4 %. */
	for (uint64_t i = 1; i <= 1000000; i++)
		ts_quant__push(&q, i * 1000);
	CHECK(q.hist != NULL && q.v == NULL);
	p50 = ts_quant__pct(&q, 0.5);
	p99 = ts_quant__pct(&q, 0.99);
	CHECK(p50 >= 500000000ULL * 996 / 1000 && p50 <= 500000000ULL * 1004 / 1000);
	CHECK(p99 >= 990000000ULL * 996 / 1000 && p99 <= 990000000ULL * 1004 / 1000);
	CHECK_INT(ts_quant__pct(&q, 1.0), 1000000000ULL);
	CHECK_INT(q.count, 1000000);
	ts_quant__free(&q);
	ts_quant__push(&q, UINT64_MAX);
	for (int i = 0; i < TS_QUANT_EXACT; i++)
		ts_quant__push(&q, 0);
	CHECK(ts_quant__pct(&q, 1.0) == UINT64_MAX);
	ts_quant__free(&q);
}

/* ---- capture reader limits --------------------------------------------- */

static size_t frame(uint8_t *out, uint32_t type, const uint8_t *p, size_t len, bool z,
		    uint32_t raw_claim)
{
	uLongf stored = compressBound((uLong)len);
	uint32_t crc;

	if (z) {
		compress2(out + 16, &stored, p, (uLong)len, 9);
	} else {
		memcpy(out + 16, p, len);
		stored = len;
	}
	put_u32(out, type);
	put_u32(out + 4, (uint32_t)stored);
	put_u32(out + 8, raw_claim ? raw_claim : (uint32_t)len);
	crc = (uint32_t)crc32(0, out, 12);
	crc = (uint32_t)crc32(crc, out + 16, (uInt)stored);
	put_u32(out + 12, crc);
	return 16 + stored;
}

static size_t start(uint8_t *out)
{
	struct ts_cap_header h = {.version = 1};
	uint8_t head[256];

	memcpy(out, ts_cap_magic, 8);
	put_u32(out + 8, 1);
	put_u32(out + 12, 0);
	return 16 + frame(out + 16, TS_FR_HEAD, head, ts_cap_head_put(head, &h), false, 0);
}

static const char *read_err(const uint8_t *buf, size_t len, enum ts_capr_status *st)
{
	static char msg[512];
	struct ts_capr *r = NULL;
	struct ts_rec rec;

	msg[0] = '\0';
	if (!ts_capr__open_mem(buf, len, &r))
		while (ts_capr__next(r, &rec) == 1)
			;
	if (r) {
		snprintf(msg, sizeof(msg), "%s", ts_capr__error(r));
		*st = ts_capr__status(r);
	}
	ts_capr__close(r);
	return msg;
}

static void test_capfile_limits(void)
{
	size_t n = (4u << 20) / TS_CAP_SOCK_LEN - 1, len, hlen;
	uint8_t *raw = calloc(1, 4u << 20), *buf = malloc(12u << 20);
	enum ts_capr_status st = TS_CAPR_OK;
	struct ts_sock s = {.family = 4, .state = 1};
	const char *m;

	/* A snapshot frame with more sockets than a writer ever puts in one,
	 * varied enough not to look like a bomb. */
	put_u32(raw, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		s.cookie = i * 0x9e3779b97f4a7c15ULL;
		s.inode = i;
		ts_cap_sock_put(raw + 4 + i * TS_CAP_SOCK_LEN, &s);
	}
	hlen = start(buf);
	len = hlen + frame(buf + hlen, TS_FR_SNAP, raw, 4 + n * TS_CAP_SOCK_LEN, true, 0);
	m = read_err(buf, len, &st);
	CHECK_INT(st, TS_CAPR_DAMAGED);
	CHECK(strstr(m, "sockets in snapshot frame at byte offset") && strstr(m, "at most 8192"));

	/* A zip bomb: 4 MiB of zeros stored in 4 KiB. */
	memset(raw, 0, 4u << 20);
	len = hlen + frame(buf + hlen, TS_FR_CHNK, raw, 4u << 20, true, 0);
	m = read_err(buf, len, &st);
	CHECK(strstr(m, "decompression bomb") && strstr(m, "byte offset"));

	/* Data that inflates past the length its frame states. */
	len = hlen + frame(buf + hlen, TS_FR_CHNK, raw, 1u << 20, true, 60000);
	m = read_err(buf, len, &st);
	CHECK(strstr(m, "inflates past the 60000 bytes"));
	free(raw);
	free(buf);
}

/* A write error: events offered afterwards are counted in the trailer. */
static void test_unwritten(void)
{
	struct ts_capw_opts o = {.path = "t", .chunk_raw = 4096};
	struct ts_cap_header h = {.version = 1};
	struct ts_capw *w = NULL;
	struct ts_rec rec = {.type = TS_REC_STATE, .family = 4, .old_state = 7,
			     .new_state = 2, .conn = 1, .ts_ns = 5};
	int fd = memfd_create("unwritten", MFD_ALLOW_SEALING);
	int err = 0;

	CHECK_INT(ts_capw__open_fd(dup(fd), &o, &h, NULL, 0, &w), 0);
	CHECK_INT(ts_capw__add(w, &rec), 0);
	CHECK_INT(ts_capw__flush(w, true), 0);
	/* The file cannot grow from here on: the next chunk fails. */
	CHECK_INT(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW), 0);
	for (int i = 0; i < 1000 && !err; i++) {
		rec.ts_ns += 1000;
		rec.conn = 100 + (uint64_t)i;
		err = ts_capw__add(w, &rec);
	}
	CHECK(err < 0);
	for (int i = 0; i < 10; i++)
		ts_capw__add(w, &rec); /* offered after the error */
	CHECK(ts_capw__dropped(w) > 10);
	ts_capw__finish(w);
	ts_capw__free(w);
	close(fd);
}

/* A trailer that counts unwritten events (40 bytes) reads back. */
static void test_unwritten_trailer(void)
{
	uint8_t buf[1024], trl[TS_CAP_TRLR_LEN_UNWRITTEN] = {}, snap[4] = {};
	struct ts_capr *r = NULL;
	struct ts_cap_trailer t = {};
	size_t len = start(buf);

	len += frame(buf + len, TS_FR_SNAP, snap, sizeof(snap), true, 0);
	put_u64(trl + 32, 48561);
	len += frame(buf + len, TS_FR_TRLR, trl, sizeof(trl), false, 0);
	CHECK_INT(ts_capr__open_mem(buf, len, &r), 0);
	CHECK_INT(ts_capr__next(r, &(struct ts_rec){}), 0);
	CHECK_INT(ts_capr__status(r), TS_CAPR_OK);
	CHECK(ts_capr__trailer(r, &t));
	CHECK_INT(t.unwritten, 48561);
	ts_capr__close(r);
}

int main(void)
{
	test_escape();
	test_json_utf8();
	test_json_buffer();
	test_put_u64();
	test_time();
	test_netns_zero();
	test_quantile();
	test_capfile_limits();
	test_unwritten();
	test_unwritten_trailer();
	return check_report();
}
