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
#include <zstd.h>
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
	/* Owners' cgroups (format 2): a path, none, or an id alone. */
	r->cgroup_id = conn % 3 ? 4000 + conn % 3 : 0;
	r->cgroup = conn % 3 == 1 ? "/system.slice/docker-0123456789ab.scope" :
		    conn % 3 == 2 ? NULL : NULL;
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
	/* Handshake details (format 3): SYN-ACK retransmissions with the
	 * first SYN-ACK's time, a server's SYN_RECV -> ESTABLISHED. */
	if (r->type == TS_REC_STATE && i % 37 == 3 && !r->has_stats) {
		r->old_state = TS_SYN_RECV;
		r->new_state = TS_ESTABLISHED;
		r->has_hs = true;
		r->hs.synack_rtt_us = (uint32_t)(rnd() % 100000);
		r->hs.synack_retrans = (uint32_t)(i % 3);
	}
	if (r->type == TS_REC_STATE && i % 53 == 7) {
		r->type = TS_REC_SYNACK_RETRANS;
		r->old_state = r->new_state = TS_SYN_RECV;
		r->has_stats = false;
		r->flags &= (uint8_t)~TS_F_STATS;
		r->has_hs = false;
		r->has_synack = i % 2;
		r->synack.first_synack_ns = *ts - 1000000000ULL;
		r->synack.num_retrans = (uint32_t)(i % 4);
	}
	/* Retransmission details (format 3): on most retransmits. */
	if (r->type == TS_REC_RETRANS && i % 2 == 0) {
		struct ts_rtx_info *x = &r->rtx;

		r->has_rtx = true;
		x->seq = (uint32_t)rnd();
		x->end_seq = x->seq + 1000;
		x->isn = x->seq - 1 - (uint32_t)(rnd() % 100000);
		x->snd_una = x->seq;
		x->snd_nxt = x->end_seq + 5000;
		x->rto_us = 204000u << (i % 4);
		x->srtt_us = 1234;
		x->total_retrans = (uint32_t)i;
		x->segs = (uint16_t)(1 + i % 3);
		x->tcp_flags = 0x18;
		x->ca_state = (uint8_t)(i % 5);
		x->pending = (uint8_t)(i % 6);
		x->retransmits = (uint8_t)(i % 4);
		x->backoff = (uint8_t)(i % 4);
		x->sacked = 0x10;
		x->flags = TS_RTX_F_ISN | TS_RTX_F_RTO | TS_RTX_F_SKB;
	}
}

/* Format of the captures write_capture() makes (0: current). */
static uint32_t write_version;

static bool rec_equal(const struct ts_rec *a, const struct ts_rec *b)
{
	bool ok = a->type == b->type && a->ts_ns == b->ts_ns;

	/* a was read back, b was written: version 1 has no cgroup. */
	if (write_version == 1)
		ok = ok && !a->cgroup_id && !a->cgroup;
	else
		ok = ok && a->cgroup_id == b->cgroup_id &&
		     (a->cgroup && b->cgroup ? !strcmp(a->cgroup, b->cgroup) :
					       a->cgroup == b->cgroup);

	if (a->type == TS_REC_LOST)
		return ok && a->lost == b->lost;
	/* Formats before 3 have no details: they read back without. */
	if (write_version && write_version < 3)
		ok = ok && !a->has_rtx && !a->has_synack && !a->has_hs;
	else
		ok = ok && a->has_rtx == b->has_rtx &&
		     (!a->has_rtx || !memcmp(&a->rtx, &b->rtx, sizeof(a->rtx))) &&
		     a->has_synack == b->has_synack &&
		     (!a->has_synack || !memcmp(&a->synack, &b->synack, sizeof(a->synack))) &&
		     a->has_hs == b->has_hs && (!a->has_hs || !memcmp(&a->hs, &b->hs, sizeof(a->hs)));
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
	struct ts_capw_opts o = {
		.path = "test", .chunk_raw = chunk_raw, .version = write_version,
	};
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

	/* Files of format 1 (before owners had cgroups), 2 (before
	 * details) and 3 (zlib, before zstd) still read. */
	for (write_version = 1; write_version <= 3; write_version++) {
		fd = write_capture(recs, NREC, 8192, NULL, 0);
		p = file_bytes(fd, &len);
		CHECK_INT(get_u32(p + 8), write_version);
		CHECK_INT(read_all(p, len, recs, NREC, &r), NREC);
		CHECK_INT(ts_capr__status(r), TS_CAPR_OK);
		ts_capr__close(r);
		free(p);
		close(fd);
	}
	write_version = 0;
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
	put_u32(q + 8, 5);
	expect_bad(q, len, TS_CAPR_BAD, 0,
		   "format version 5 at byte offset 8 is newer than this tcpscope reads (4): use a newer tcpscope");
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
	size_t clen;
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
	clen = ZSTD_compress(frame + 16, sizeof(frame) - 16, raw, n, 3);
	CHECK(!ZSTD_isError(clen));
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

/* Frame raw[0..n) as a chunk at g + off; returns the frame's length. */
static size_t put_chunk(uint8_t *g, size_t off, const uint8_t *raw, size_t n)
{
	size_t clen = ZSTD_compress(g + off + 16, 4096, raw, n, 3);

	CHECK(!ZSTD_isError(clen));
	put_u32(g + off, TS_FR_CHNK);
	put_u32(g + off + 4, (uint32_t)clen);
	put_u32(g + off + 8, (uint32_t)n);
	fix_crc(g, off);
	return 16 + clen;
}

/*
 * Format 3 extends without a new version: a record type and a detail tag
 * this build does not know are skipped, a known detail longer than this
 * build's layout keeps its known fields.  The chunk is made by hand, as a
 * later tcpscope would write it.
 */
static void test_unknown_details(void)
{
	static struct ts_rec recs[1];
	uint8_t raw[512], *p, *g;
	size_t len, offs[1], n, flen, d;
	struct ts_capr *r;
	struct ts_rec rec;
	int fd = write_capture(recs, 1, 0, NULL, 0);

	p = file_bytes(fd, &len);
	close(fd);
	CHECK_INT(get_u32(p + 8), TS_CAP_VERSION);
	CHECK_INT(frame_offsets(p, len, TS_FR_CHNK, offs, 1), 1);
	put_u64(raw, 5000);
	put_u32(raw + 8, 3);
	put_u32(raw + 12, 1);
	n = 16;
	/* v4 descriptor: conn 77, ports 1234 -> 80, comm "c". */
	memset(raw + n, 0, 41);
	put_u64(raw + n, 77);
	raw[n + 8] = 4;
	put_u16(raw + n + 9, 1234);
	put_u16(raw + n + 11, 80);
	raw[n + 29] = 1;
	raw[n + 30] = 'c';
	n += 31 + 10; /* cgroup id 0, empty path */
	/* 1: a state change, plain. */
	raw[n++] = TS_REC_STATE;
	raw[n++] = 0;
	raw[n++] = 0;
	raw[n++] = 2;
	raw[n++] = 0x21; /* SYN_SENT -> ESTABLISHED */
	raw[n++] = 3;
	/* 2: record type 9, unknown, with a detail of an unknown tag. */
	raw[n++] = 9 | TS_CAP_EV_DETAIL;
	raw[n++] = 0;
	raw[n++] = 0;
	raw[n++] = 2;
	raw[n++] = 0xff; /* states of an unknown type are not checked */
	raw[n++] = 0;
	raw[n++] = 5;	 /* section length */
	raw[n++] = 77;	 /* tag */
	raw[n++] = 3;	 /* item length */
	n += 3;
	/* 3: a retransmission: an unknown item, then its rtx item with two
	 * bytes more than this build knows. */
	raw[n++] = TS_REC_RETRANS | TS_CAP_EV_DETAIL;
	raw[n++] = 0;
	raw[n++] = 0;
	raw[n++] = 2;
	raw[n++] = 0x11;
	raw[n++] = 0;
	raw[n++] = 4 + 2 + 43;
	raw[n++] = 200;
	raw[n++] = 2;
	n += 2;
	raw[n++] = 1; /* TS_CAPD_RTX */
	raw[n++] = 43;
	d = n;
	memset(raw + n, 0, 43);
	put_u32(raw + d, 1001);	     /* seq */
	put_u32(raw + d + 4, 2001);  /* end_seq */
	put_u32(raw + d + 8, 1000);  /* isn */
	put_u32(raw + d + 20, 400000); /* rto_us */
	raw[d + 37] = 1;	     /* retransmits */
	raw[d + 40] = TS_RTX_F_ISN | TS_RTX_F_RTO;
	n += 43;

	g = malloc(offs[0] + 4096 + 64);
	memcpy(g, p, offs[0]);
	flen = put_chunk(g, offs[0], raw, n);
	/* Trailer: 3 events (the skipped one counts: it was written). */
	put_u32(g + offs[0] + flen, TS_FR_TRLR);
	put_u32(g + offs[0] + flen + 4, 32);
	put_u32(g + offs[0] + flen + 8, 32);
	memset(g + offs[0] + flen + 16, 0, 32);
	put_u64(g + offs[0] + flen + 16, 3);
	put_u64(g + offs[0] + flen + 32, 1);
	fix_crc(g, offs[0] + flen);
	CHECK_INT(ts_capr__open_mem(g, offs[0] + flen + 48, &r), 0);
	CHECK_INT(ts_capr__next(r, &rec), 1);
	CHECK_INT(rec.type, TS_REC_STATE);
	CHECK_INT(rec.ts_ns, 5001); /* zigzag(1) */
	CHECK(!rec.has_rtx);
	CHECK_INT(ts_capr__next(r, &rec), 1);
	CHECK_INT(rec.type, TS_REC_RETRANS);
	CHECK_INT(rec.ts_ns, 5003); /* the skipped record's delta counted */
	CHECK(rec.has_rtx);
	CHECK_INT(rec.rtx.seq, 1001);
	CHECK_INT(rec.rtx.end_seq, 2001);
	CHECK_INT(rec.rtx.isn, 1000);
	CHECK_INT(rec.rtx.rto_us, 400000);
	CHECK_INT(rec.rtx.retransmits, 1);
	CHECK_INT(rec.rtx.flags, TS_RTX_F_ISN | TS_RTX_F_RTO);
	CHECK_INT(ts_capr__next(r, &rec), 0);
	CHECK_INT(ts_capr__status(r), TS_CAPR_OK);
	CHECK_STR(ts_capr__error(r), "");
	CHECK_INT(ts_capr__skipped(r), 1);
	ts_capr__close(r);

	/* A detail on a record that cannot have it, a short rtx item, an
	 * item past its section: bad records. */
	raw[d - 2 - 4 - 6 - 1] = TS_REC_STATE | TS_CAP_EV_DETAIL; /* rtx on a state change */
	memcpy(g, p, offs[0]);
	flen = put_chunk(g, offs[0], raw, n);
	CHECK_INT(ts_capr__open_mem(g, offs[0] + flen, &r), 0);
	CHECK_INT(ts_capr__next(r, &rec), 1);
	CHECK_INT(ts_capr__next(r, &rec), 0);
	CHECK_INT(ts_capr__status(r), TS_CAPR_DAMAGED);
	ts_capr__close(r);
	raw[d - 2 - 4 - 6 - 1] = TS_REC_RETRANS | TS_CAP_EV_DETAIL;
	raw[d - 1] = 40; /* shorter than the rtx layout */
	raw[d - 2 - 4 - 1] = 4 + 2 + 40;
	flen = put_chunk(g, offs[0], raw, n - 3);
	CHECK_INT(ts_capr__open_mem(g, offs[0] + flen, &r), 0);
	CHECK_INT(ts_capr__next(r, &rec), 1);
	CHECK_INT(ts_capr__next(r, &rec), 0);
	CHECK_INT(ts_capr__status(r), TS_CAPR_DAMAGED);
	ts_capr__close(r);
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

/* p[0..off) followed by one chunk frame of stored bytes claiming raw. */
static void expect_chunk_bad(const uint8_t *p, size_t off, const uint8_t *stored, size_t n,
			     uint32_t raw, const char *msg)
{
	uint8_t *g = malloc(off + 16 + n);

	memcpy(g, p, off);
	memcpy(g + off + 16, stored, n);
	put_u32(g + off, TS_FR_CHNK);
	put_u32(g + off + 4, (uint32_t)n);
	put_u32(g + off + 8, raw);
	fix_crc(g, off);
	expect_bad(g, off + 16 + n, TS_CAPR_DAMAGED, 0, msg);
	free(g);
}

/*
 * Format 4: chunks are zstd frames.  Whatever a frame says about its own
 * length, it decompresses to exactly the raw length of the frame header
 * or is refused; bombs are refused before anything is decompressed.
 * Format 3 files (zlib) keep their messages.
 */
static void test_zstd_frames(void)
{
	static struct ts_rec recs[10];
	size_t len, offs[1], n, z1, cap = 200000;
	uint8_t *p, *src = calloc(1, cap), *dst = malloc(ZSTD_compressBound(cap) + 64);
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	char msg[300];
	int fd;

	write_version = 0;
	fd = write_capture(recs, 10, 0, NULL, 0);
	p = file_bytes(fd, &len);
	close(fd);
	CHECK_INT(get_u32(p + 8), 4);
	CHECK_INT(frame_offsets(p, len, TS_FR_CHNK, offs, 1), 1);
	CHECK_INT(get_u32(p + offs[0] + 16), ZSTD_MAGICNUMBER);

	/* Zeros: a tiny frame that claims 4 MiB. */
	n = ZSTD_compress(dst, ZSTD_compressBound(cap), src, 100000, 1);
	CHECK(!ZSTD_isError(n) && n < 1000);
	snprintf(msg, sizeof(msg),
		 "chunk frame at byte offset %zu claims to decompress %zu bytes to 4194304 (more "
		 "than 64:1): a decompression bomb, not a recording", offs[0], n);
	expect_chunk_bad(p, offs[0], dst, n, 4194304, msg);

	/* Data that does not compress, more of it than the header states:
	 * with its content size (refused from the frame header) and without
	 * (refused while decompressing). */
	for (size_t i = 0; i < cap; i++)
		src[i] = (uint8_t)(rnd() >> 24);
	snprintf(msg, sizeof(msg),
		 "compressed data in chunk frame at byte offset %zu decompresses past the 60000 "
		 "bytes its header states: a decompression bomb or a corrupt frame", offs[0]);
	for (int fcs = 1; fcs >= 0; fcs--) {
		ZSTD_CCtx_reset(cc, ZSTD_reset_session_and_parameters);
		ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, fcs);
		n = ZSTD_compress2(cc, dst, ZSTD_compressBound(cap), src, 70000);
		CHECK(!ZSTD_isError(n) && n > 60000);
		expect_chunk_bad(p, offs[0], dst, n, 60000, msg);
	}

	/* One frame and nothing else: not zlib, no trailing bytes, not two
	 * frames, not a skippable frame. */
	n = ZSTD_compress(dst, ZSTD_compressBound(cap), src, 1000, 1);
	z1 = n;
	snprintf(msg, sizeof(msg),
		 "bad compressed data in chunk frame at byte offset %zu (data after the zstd frame)",
		 offs[0]);
	memcpy(dst + n, "abc", 3);
	expect_chunk_bad(p, offs[0], dst, n + 3, 1000, msg);
	n += ZSTD_compress(dst + z1, ZSTD_compressBound(cap), src, 1000, 1);
	expect_chunk_bad(p, offs[0], dst, n, 1000, msg);
	snprintf(msg, sizeof(msg),
		 "bad compressed data in chunk frame at byte offset %zu (not a zstd frame)", offs[0]);
	{
		uLongf zn = (uLongf)ZSTD_compressBound(cap);

		CHECK(compress2(dst, &zn, src, 1000, 1) == Z_OK);
		expect_chunk_bad(p, offs[0], dst, zn, 1000, msg);
	}
	put_u32(dst, 0x184D2A50); /* a skippable frame of 8 bytes */
	put_u32(dst + 4, 8);
	memset(dst + 8, 0, 8);
	expect_chunk_bad(p, offs[0], dst, 16, 0, msg);
	expect_chunk_bad(p, offs[0], dst, 3, 0, msg);

	/* A damaged frame (CRC made valid): its first block of the reserved
	 * type.  zstd names the damage. */
	for (size_t i = 0; i < 1000; i++)
		src[i] = (uint8_t)"tcpscope"[i % 8] ^ (uint8_t)(i / 97);
	n = ZSTD_compress(dst, ZSTD_compressBound(cap), src, 1000, 3);
	CHECK(n < 500);
	{
		/* RFC 8878 3.1.1.1: magic, descriptor, window, dictionary id,
		 * content size. */
		static const size_t did[4] = {0, 1, 2, 4}, fcs[4] = {0, 2, 4, 8};
		uint8_t fhd = dst[4];
		bool single = fhd & 0x20;

		z1 = 5 + !single + did[fhd & 3] + (fhd >> 6 ? fcs[fhd >> 6] : single);
	}
	CHECK(z1 < n);
	dst[z1] |= 0x06;
	{
		uint8_t *g = malloc(offs[0] + 16 + n);
		struct ts_capr *r;

		memcpy(g, p, offs[0]);
		memcpy(g + offs[0] + 16, dst, n);
		put_u32(g + offs[0], TS_FR_CHNK);
		put_u32(g + offs[0] + 4, (uint32_t)n);
		put_u32(g + offs[0] + 8, 1000);
		fix_crc(g, offs[0]);
		snprintf(msg, sizeof(msg), "bad compressed data in chunk frame at byte offset %zu (",
			 offs[0]);
		CHECK(read_all(g, offs[0] + 16 + n, NULL, 0, &r) <= 0);
		CHECK_INT(ts_capr__status(r), TS_CAPR_DAMAGED);
		CHECK(!strncmp(ts_capr__error(r), msg, strlen(msg)));
		ts_capr__close(r);
		free(g);
	}
	free(p);

	/* Format 3: zlib, and the zlib words. */
	write_version = 3;
	fd = write_capture(recs, 10, 0, NULL, 0);
	p = file_bytes(fd, &len);
	close(fd);
	CHECK_INT(get_u32(p + 8), 3);
	CHECK_INT(frame_offsets(p, len, TS_FR_CHNK, offs, 1), 1);
	CHECK_INT(p[offs[0] + 16], 0x78); /* zlib's CMF byte */
	{
		uLongf zn = (uLongf)ZSTD_compressBound(cap);

		memset(src, 0, cap);
		CHECK(compress2(dst, &zn, src, 100000, 9) == Z_OK);
		snprintf(msg, sizeof(msg),
			 "chunk frame at byte offset %zu claims to inflate %lu bytes to 4194304 "
			 "(more than 64:1): a decompression bomb, not a recording",
			 offs[0], (unsigned long)zn);
		expect_chunk_bad(p, offs[0], dst, zn, 4194304, msg);
		snprintf(msg, sizeof(msg),
			 "compressed data in chunk frame at byte offset %zu inflates past the "
			 "2000 bytes its header states: a decompression bomb or a corrupt frame",
			 offs[0]);
		expect_chunk_bad(p, offs[0], dst, zn, 2000, msg);
	}
	write_version = 0;
	free(p);
	free(src);
	free(dst);
	ZSTD_freeCCtx(cc);
}

int main(void)
{
	test_round_trip();
	test_bad_files();
	test_bad_chunk_content();
	test_zstd_frames();
	test_unknown_details();
	test_size_limit();
	test_create_mode();
	test_snapshot_skips_bad();
	return check_report();
}
