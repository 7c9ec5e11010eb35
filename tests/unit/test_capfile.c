// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Capture files: round trip of synthetic records (state changes with and
 * without stats, retransmits, resets, loss records, IPv4 and IPv6, tuples
 * that change inside a connection) across many chunks, the snapshot
 * section, the size limit, and every kind of bad file with the exact
 * byte offset the reader names.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <zlib.h>
#include "check.h"
#include "core/capfile/capfile.h"
#include "core/capfile/capfile_int.h"

#define NREC 20000

static uint64_t rnd_state = 42;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static void make_rec(struct ts_rec *r, int i, uint64_t *ts)
{
	static const uint8_t v4a[4] = { 127, 0, 0, 1 }, v4b[4] = { 198, 18, 0, 2 };
	static const uint8_t v6a[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	uint64_t conn = 1000 + (uint64_t)(i / 5);

	memset(r, 0, sizeof(*r));
	/* Mostly increasing times, sometimes a little back (per-CPU order). */
	*ts += rnd() % 50000;
	*ts -= (i % 97 == 0) ? 1000 : 0;
	if (i % 1000 == 999) {
		ts_rec_lost(r, *ts, 1 + rnd() % 100000);
		return;
	}
	r->type = (enum ts_rec_type)(i % 23 == 0 ? TS_REC_RETRANS :
				     i % 41 == 0 ? TS_REC_RESET_RECV : TS_REC_STATE);
	r->family = conn % 3 ? 4 : 6;
	r->old_state = (uint8_t)(1 + i % 11);
	r->new_state = (uint8_t)(1 + (i + 3) % 11);
	r->conn = conn;
	r->ts_ns = *ts;
	/* The local port appears after the first event (CLOSE->SYN_SENT). */
	r->sport = i % 5 ? (uint16_t)(40000 + conn % 20000) : 0;
	r->dport = 8080;
	r->pid = (uint32_t)(100 + conn % 7);
	r->netns = 4026531840u;
	r->ns_in_old = i % 5 ? rnd() % 3000000000ULL : 0;
	r->flags = (uint8_t)(i % 5 == 0 ? TS_F_FIRST : 0) | TS_F_FIN_RCVD;
	if (r->family == 6) {
		memcpy(r->saddr, v6a, 16);
		memcpy(r->daddr, v6a, 16);
		r->daddr[15] = 2;
	} else {
		memcpy(r->saddr, v4a, 4);
		memcpy(r->daddr, v4b, 4);
	}
	snprintf(r->comm, sizeof(r->comm), "%s", conn % 2 ? "curl" : "a-sixteen-char-x");
	if (r->type == TS_REC_STATE && i % 5 == 4) {
		r->has_stats = true;
		r->flags |= TS_F_STATS;
		r->st.bytes_acked = rnd();
		r->st.bytes_received = rnd() % 100000;
		r->st.segs_out = (uint32_t)rnd();
		r->st.segs_in = 7;
		r->st.total_retrans = (uint32_t)(rnd() % 3);
		r->st.data_segs_out = 5;
		r->st.srtt_us = 55;
		r->st.err = 104; /* ECONNRESET: must survive the round trip */
	}
}

static bool rec_equal(const struct ts_rec *a, const struct ts_rec *b)
{
	bool ok = a->type == b->type && a->ts_ns == b->ts_ns;

	if (a->type == TS_REC_LOST)
		return ok && a->lost == b->lost;
	return ok && a->family == b->family && a->old_state == b->old_state &&
	       a->new_state == b->new_state && a->flags == b->flags &&
	       a->sport == b->sport && a->dport == b->dport && a->pid == b->pid &&
	       a->netns == b->netns && a->conn == b->conn &&
	       a->ns_in_old == b->ns_in_old &&
	       !memcmp(a->saddr, b->saddr, 16) && !memcmp(a->daddr, b->daddr, 16) &&
	       !strcmp(a->comm, b->comm) && a->has_stats == b->has_stats &&
	       (!a->has_stats || !memcmp(&a->st, &b->st, sizeof(a->st)));
}

static void make_sock(struct ts_sock *s, int i)
{
	memset(s, 0, sizeof(*s));
	s->cookie = 5000 + (uint64_t)i;
	s->inode = 90000 + (uint64_t)i;
	s->netns = 4026531840u;
	s->uid = 1000;
	s->pid = (uint32_t)(i % 3 ? 300 : 0);
	s->recv_q = (uint32_t)i;
	s->send_q = 2;
	s->timer_ms = -5;
	s->sport = (uint16_t)(1 + i % 60000);
	s->dport = 443;
	s->family = i % 2 ? 6 : 4;
	s->state = (uint8_t)(1 + i % 12);
	s->timer = TS_TIMER_KEEPALIVE;
	s->retransmits = 1;
	s->probes = 2;
	s->saddr[0] = 10;
	s->daddr[15] = (uint8_t)i;
	snprintf(s->comm, sizeof(s->comm), "srv%d", i % 10);
}

/* A capture written to a memfd; returns the fd (size = file length). */
static int write_capture(struct ts_rec *recs, int n, size_t chunk_raw,
			 const struct ts_sock *socks, size_t nsocks)
{
	struct ts_capw_opts o = { .path = "test", .chunk_raw = chunk_raw };
	struct ts_cap_header h;
	struct ts_filter f = { .port = 8080, .family = 4 };
	char *argv[] = { "tcpscope", "record", "-w", "x.cap" };
	struct ts_capw *w = NULL;
	int fd = memfd_create("cap", 0), dup_fd;
	uint64_t ts = 1000000000ULL;

	ts_cap_header_init(&h, 4, argv, &f);
	dup_fd = dup(fd);
	CHECK_INT(ts_capw__open_fd(dup_fd, &o, &h, socks, nsocks, &w), 0);
	for (int i = 0; i < n; i++) {
		make_rec(&recs[i], i, &ts);
		CHECK_INT(ts_capw__add(w, &recs[i]), 0);
	}
	CHECK_INT(ts_capw__finish(w), 0);
	ts_capw__free(w);
	return fd;
}

static uint8_t *file_bytes(int fd, size_t *len)
{
	off_t end = lseek(fd, 0, SEEK_END);
	uint8_t *p = malloc((size_t)end + 1);

	CHECK(pread(fd, p, (size_t)end, 0) == end);
	*len = (size_t)end;
	return p;
}

/* Offsets of the first n frames of type t. */
static int frame_offsets(const uint8_t *p, size_t len, uint32_t t, size_t *offs, int n)
{
	size_t pos = TS_CAP_PREAMBLE_LEN;
	int k = 0;

	while (pos + TS_CAP_FRAME_HDR_LEN <= len && k < n) {
		if (get_u32(p + pos) == t)
			offs[k++] = pos;
		pos += TS_CAP_FRAME_HDR_LEN + get_u32(p + pos + 4);
	}
	return k;
}

/* Read everything; returns the count of non-loss records matching recs. */
static int read_all(const uint8_t *p, size_t len, const struct ts_rec *recs,
		    int n, struct ts_capr **out)
{
	struct ts_capr *r = NULL;
	struct ts_rec rec;
	int k = 0, err;

	err = ts_capr__open_mem(p, len, &r);
	*out = r;
	if (err)
		return -1;
	while (ts_capr__next(r, &rec) == 1) {
		if (k < n && !rec_equal(&rec, &recs[k])) {
			fprintf(stderr, "record %d differs\n", k);
			CHECK(0);
			break;
		}
		k++;
	}
	return k;
}

static void test_round_trip(void)
{
	static struct ts_rec recs[NREC];
	struct ts_sock socks[10000];
	struct ts_cap_trailer t;
	const struct ts_sock *got;
	struct ts_capr *r;
	size_t len, nsock, offs[64];
	uint8_t *p;
	int fd, n;

	for (int i = 0; i < 10000; i++)
		make_sock(&socks[i], i);
	/* Small chunks: many boundaries, descriptors re-sent per chunk. */
	fd = write_capture(recs, NREC, 8192, socks, 10000);
	p = file_bytes(fd, &len);
	CHECK(frame_offsets(p, len, TS_FR_CHNK, offs, 64) == 64);
	CHECK_INT(frame_offsets(p, len, TS_FR_SNAP, offs, 64), 2);
	n = read_all(p, len, recs, NREC, &r);
	CHECK_INT(n, NREC);
	CHECK_INT(ts_capr__status(r), TS_CAPR_OK);
	CHECK_STR(ts_capr__error(r), "");
	CHECK(ts_capr__trailer(r, &t));
	CHECK_INT(t.events, NREC - NREC / 1000);
	CHECK_STR(ts_capr__header(r)->cmdline, "tcpscope record -w x.cap");
	CHECK_INT(ts_capr__header(r)->filter.port, 8080);
	CHECK_INT(ts_capr__header(r)->filter.family, 4);
	ts_capr__snapshot(r, &got, &nsock);
	CHECK_INT(nsock, 10000);
	for (size_t i = 0; i < nsock; i++)
		if (memcmp(&got[i], &socks[i], offsetof(struct ts_sock, comm)) ||
		    strcmp(got[i].comm, socks[i].comm)) {
			CHECK(0);
			break;
		}
	printf("round trip: %d records in %zu bytes (%.2f bytes/record)\n", NREC,
	       len, (double)len / NREC);
	ts_capr__close(r);
	free(p);
	close(fd);

	/* Default chunk size, no snapshot sockets. */
	fd = write_capture(recs, NREC, 0, NULL, 0);
	p = file_bytes(fd, &len);
	CHECK_INT(read_all(p, len, recs, NREC, &r), NREC);
	CHECK_INT(ts_capr__status(r), TS_CAPR_OK);
	ts_capr__snapshot(r, &got, &nsock);
	CHECK_INT(nsock, 0);
	ts_capr__close(r);
	free(p);
	close(fd);
}

static void expect_bad(const uint8_t *p, size_t len, enum ts_capr_status st,
		       int nrec, const char *msg)
{
	struct ts_capr *r;
	int n = read_all(p, len, NULL, 0, &r);

	CHECK(r != NULL);
	if (!r)
		return;
	CHECK_INT(ts_capr__status(r), st);
	CHECK_INT(n < 0 ? 0 : n, nrec);
	CHECK_STR(ts_capr__error(r), msg);
	ts_capr__close(r);
}

/* Rewrite a frame's CRC after its bytes were changed on purpose. */
static void fix_crc(uint8_t *p, size_t off)
{
	uint32_t crc = (uint32_t)crc32(0, p + off, 12);

	crc = (uint32_t)crc32(crc, p + off + 16, get_u32(p + off + 4));
	put_u32(p + off + 12, crc);
}

static void test_bad_files(void)
{
	static struct ts_rec recs[4000];
	size_t len, offs[8], trl[1];
	char msg[300];
	uint8_t *p, *q;
	int fd, per_chunk;

	fd = write_capture(recs, 4000, 8192, NULL, 0);
	p = file_bytes(fd, &len);
	close(fd);
	q = malloc(len);
	CHECK(frame_offsets(p, len, TS_FR_CHNK, offs, 8) == 8);
	CHECK_INT(frame_offsets(p, len, TS_FR_TRLR, trl, 1), 1);
	{
		/* How many records the first chunk holds. */
		struct ts_capr *r;

		per_chunk = read_all(p, offs[1], NULL, 0, &r);
		ts_capr__close(r);
	}
	CHECK(per_chunk > 0);

	expect_bad(p, 0, TS_CAPR_BAD, 0, "empty file (0 bytes): not a tcpscope capture");
	expect_bad((const uint8_t *)"GET / HTTP/1.1\r\n\r\n", 18, TS_CAPR_BAD, 0,
		   "not a tcpscope capture file (bad magic at byte offset 0)");
	expect_bad(p, 5, TS_CAPR_BAD, 0,
		   "truncated preamble: the file ends at byte offset 5, a capture starts with 16 bytes");

	memcpy(q, p, len);
	put_u32(q + 8, 2);
	expect_bad(q, len, TS_CAPR_BAD, 0,
		   "format version 2 at byte offset 8 is newer than this tcpscope reads (1): use a newer tcpscope");
	put_u32(q + 8, 0);
	expect_bad(q, len, TS_CAPR_BAD, 0, "bad format version 0 at byte offset 8");

	expect_bad(p, 20, TS_CAPR_BAD, 0,
		   "truncated frame header at byte offset 16 (4 of 16 bytes)");

	/* Truncated in the middle of the second chunk. */
	snprintf(msg, sizeof(msg),
		 "truncated chunk frame at byte offset %zu: it needs %u bytes, the file ends after %zu",
		 offs[1], get_u32(p + offs[1] + 4) + 16, (size_t)100);
	expect_bad(p, offs[1] + 100, TS_CAPR_DAMAGED, per_chunk, msg);

	/* Cut at a frame boundary: a killed recorder. */
	snprintf(msg, sizeof(msg),
		 "no trailer: the file ends at byte offset %zu after its last complete chunk (recording was interrupted)",
		 offs[2]);
	{
		struct ts_capr *r;
		int two = read_all(p, offs[2], NULL, 0, &r);

		ts_capr__close(r);
		expect_bad(p, offs[2], TS_CAPR_DAMAGED, two, msg);
	}

	/* A flipped bit in the second chunk's payload. */
	memcpy(q, p, len);
	q[offs[1] + 40] ^= 0x10;
	snprintf(msg, sizeof(msg),
		 "bad CRC-32 in chunk frame at byte offset %zu (stored %08x, computed %08x)",
		 offs[1], get_u32(q + offs[1] + 12),
		 (uint32_t)crc32(crc32(0, q + offs[1], 12), q + offs[1] + 16,
				 get_u32(q + offs[1] + 4)));
	expect_bad(q, len, TS_CAPR_DAMAGED, per_chunk, msg);

	/* Lengths beyond what any writer makes. */
	memcpy(q, p, len);
	put_u32(q + offs[1] + 4, 0xfffffff0u);
	snprintf(msg, sizeof(msg), "bad frame length 4294967280 at byte offset %zu (at most %u)",
		 offs[1] + 4, (unsigned)(TS_CAP_MAX_RAW + TS_CAP_MAX_RAW / 64 + 1024));
	expect_bad(q, len, TS_CAPR_DAMAGED, per_chunk, msg);
	memcpy(q, p, len);
	put_u32(q + offs[1] + 8, 0x7fffffffu);
	snprintf(msg, sizeof(msg),
		 "bad uncompressed length 2147483647 at byte offset %zu (at most %u)",
		 offs[1] + 8, (unsigned)TS_CAP_MAX_RAW);
	expect_bad(q, len, TS_CAPR_DAMAGED, per_chunk, msg);

	/* A raw length that disagrees with the data, CRC made valid. */
	memcpy(q, p, len);
	put_u32(q + offs[1] + 8, get_u32(q + offs[1] + 8) + 1);
	fix_crc(q, offs[1]);
	snprintf(msg, sizeof(msg),
		 "bad compressed data in chunk frame at byte offset %zu (length differs from its header)",
		 offs[1]);
	expect_bad(q, len, TS_CAPR_DAMAGED, per_chunk, msg);

	/* Bytes after the trailer. */
	memcpy(q, p, len);
	{
		uint8_t *g = malloc(len + 3);

		memcpy(g, p, len);
		memcpy(g + len, "abc", 3);
		snprintf(msg, sizeof(msg), "3 unexpected bytes after the trailer at byte offset %zu",
			 len);
		expect_bad(g, len + 3, TS_CAPR_DAMAGED, 4000, msg);
		free(g);
	}

	/* A trailer whose count disagrees. */
	memcpy(q, p, len);
	put_u64(q + trl[0] + 16, 3);
	fix_crc(q, trl[0]);
	snprintf(msg, sizeof(msg),
		 "the trailer at byte offset %zu counts 3 events, the chunks held %d",
		 trl[0], 4000 - 4);
	expect_bad(q, len, TS_CAPR_DAMAGED, 4000, msg);

	/* The header frame damaged: nothing usable. */
	memcpy(q, p, len);
	q[16 + 20] ^= 1;
	{
		struct ts_capr *r;

		CHECK(ts_capr__open_mem(q, len, &r) == -EINVAL);
		CHECK_INT(ts_capr__status(r), TS_CAPR_BAD);
		CHECK(strstr(ts_capr__error(r), "bad CRC-32 in header frame at byte offset 16") != NULL);
		ts_capr__close(r);
	}
	free(q);
	free(p);
}

/* A chunk whose CRC is right but whose content is not. */
static void test_bad_chunk_content(void)
{
	static struct ts_rec recs[10];
	uint8_t raw[64], frame[256];
	uint8_t *p, *g;
	size_t len, offs[1], n = 0;
	uLongf clen = sizeof(frame) - 16;
	char msg[200];
	int fd = write_capture(recs, 10, 0, NULL, 0);

	p = file_bytes(fd, &len);
	close(fd);
	CHECK_INT(frame_offsets(p, len, TS_FR_CHNK, offs, 1), 1);
	/* One descriptor-less event that names descriptor 5. */
	put_u64(raw, 1);
	put_u32(raw + 8, 1);
	put_u32(raw + 12, 0);
	n = 16;
	raw[n++] = TS_REC_STATE;
	raw[n++] = 0;
	raw[n++] = 5;
	raw[n++] = 0;
	raw[n++] = 0x12;
	raw[n++] = 0;
	CHECK(compress2(frame + 16, &clen, raw, n, 6) == Z_OK);
	put_u32(frame, TS_FR_CHNK);
	put_u32(frame + 4, (uint32_t)clen);
	put_u32(frame + 8, (uint32_t)n);
	fix_crc(frame, 0);
	g = malloc(offs[0] + 16 + clen);
	memcpy(g, p, offs[0]);
	memcpy(g + offs[0], frame, 16 + clen);
	snprintf(msg, sizeof(msg), "bad record 0 in chunk frame at byte offset %zu", offs[0]);
	expect_bad(g, offs[0] + 16 + clen, TS_CAPR_DAMAGED, 0, msg);
	free(g);
	free(p);
}

static void test_size_limit(void)
{
	struct ts_capw_opts o = { .path = "limited", .max_bytes = 20000, .chunk_raw = 4096 };
	struct ts_cap_header h;
	struct ts_cap_trailer t;
	struct ts_capw *w = NULL;
	struct ts_capr *r;
	struct ts_rec rec;
	const char *msg;
	uint64_t ts = 1;
	int fd = memfd_create("lim", 0), i, err = 0, n;
	size_t len;
	uint8_t *p;

	ts_cap_header_init(&h, 0, NULL, NULL);
	CHECK_INT(ts_capw__open_fd(dup(fd), &o, &h, NULL, 0, &w), 0);
	for (i = 0; i < 100000 && !err; i++) {
		make_rec(&rec, i, &ts);
		err = ts_capw__add(w, &rec);
	}
	CHECK_INT(err, -EFBIG);
	CHECK_INT(ts_capw__finish(w), -EFBIG);
	ts_capw__error(w, &msg);
	CHECK_STR(msg, "limited reached the size limit (20000 bytes); recording stopped");
	CHECK_INT(ts_capw__dropped(w), 0);
	ts_capw__free(w);
	p = file_bytes(fd, &len);
	CHECK(len <= 20000);
	CHECK(len > 10000);
	n = read_all(p, len, NULL, 0, &r);
	CHECK_INT(n, i); /* every record accepted is in the file */
	CHECK_INT(ts_capr__status(r), TS_CAPR_OK);
	CHECK(ts_capr__trailer(r, &t));
	ts_capr__close(r);
	free(p);
	close(fd);
}

/* A file created by ts_capw__open is 0600 and never replaced silently. */
static void test_create_mode(void)
{
	char path[] = "/tmp/tscapXXXXXX";
	struct ts_capw_opts o = { .path = path };
	struct ts_cap_header h;
	struct ts_capw *w = NULL;
	struct stat st;
	int fd = mkstemp(path);

	close(fd);
	chmod(path, 0644);
	ts_cap_header_init(&h, 0, NULL, NULL);
	CHECK_INT(ts_capw__open(&o, &h, NULL, 0, &w), -EEXIST);
	o.force = true;
	CHECK_INT(ts_capw__open(&o, &h, NULL, 0, &w), 0);
	CHECK_INT(ts_capw__finish(w), 0);
	ts_capw__free(w);
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	unlink(path);
	o.force = false;
	CHECK_INT(ts_capw__open(&o, &h, NULL, 0, &w), 0);
	CHECK_INT(ts_capw__finish(w), 0);
	ts_capw__free(w);
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 0077, 0);
	unlink(path);
}

/* A socket the reader would refuse is left out of the snapshot, counted. */
static void test_snapshot_skips_bad(void)
{
	struct ts_capw_opts o = { .path = "snap" };
	struct ts_sock socks[3];
	const struct ts_sock *got;
	struct ts_cap_header h;
	struct ts_capw *w = NULL;
	struct ts_capr *r;
	int fd = memfd_create("snap", 0);
	size_t len, n;
	uint8_t *p;

	for (int i = 0; i < 3; i++)
		make_sock(&socks[i], i);
	socks[1].state = 99;
	ts_cap_header_init(&h, 0, NULL, NULL);
	CHECK_INT(ts_capw__open_fd(dup(fd), &o, &h, socks, 3, &w), 0);
	CHECK_INT(ts_capw__snapshot_skipped(w), 1);
	CHECK_INT(ts_capw__finish(w), 0);
	ts_capw__free(w);
	p = file_bytes(fd, &len);
	CHECK_INT(ts_capr__open_mem(p, len, &r), 0);
	ts_capr__snapshot(r, &got, &n);
	CHECK_INT(n, 2);
	CHECK_INT(got[1].cookie, socks[2].cookie);
	ts_capr__close(r);
	free(p);
	close(fd);
}

int main(void)
{
	test_round_trip();
	test_bad_files();
	test_bad_chunk_content();
	test_size_limit();
	test_create_mode();
	test_snapshot_skips_bad();
	return check_report();
}
