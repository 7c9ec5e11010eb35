// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for the whole report path: the capture reader, the
 * tracker and every sink 'report' has (text, JSON, timeline text and JSON,
 * summary, --at).  Any input must end in a clean status (OK, DAMAGED,
 * BAD), never a crash, a sanitizer report (UBSan included: time
 * arithmetic) or a hang.  The records are also written again with the
 * writer and read back: they must come out the same.
 *
 * The first input byte picks what the rest is.  CRCs and zstd shield the
 * decoders from blind mutation, so besides whole files (mode 0) the
 * fuzzer also feeds raw chunk payloads (1) and raw snapshot payloads (2),
 * which this target frames, compresses and checksums itself, behind a
 * header whose clocks (start, wall-clock offset) and --at moment come
 * from the input's next 24 bytes: extreme clocks are the fuzzer's choice.
 * A chunk with bit 0x10 of the mode byte set is not compressed by the
 * target: its first 4 bytes are the frame's raw length and the rest goes
 * in as the stored payload (behind a right CRC), so the fuzzer meets the
 * zstd frame checks (one frame, exact length, bombs) head on.
 */
#define _GNU_SOURCE
#include "core/capfile/capfile.h"
#include "core/capfile/capfile_int.h"
#include "core/stream/pipeline.h"
#include "core/stream/tracker.h"
#include "core/sinks/sink_report.h"
#include "core/sinks/sinks.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define MAX_KEEP 512

static FILE *devnull;
static int memfd = -1;
static uint8_t *wrapped;

/* Append a frame whose CRC is right; payload compressed when z. */
static size_t put_frame(uint8_t *out, uint32_t type, const uint8_t *p, size_t len, bool z)
{
	size_t stored;
	uint32_t crc;

	if (z) {
		/* Format TS_CAP_VERSION: a zstd frame. */
		stored = ZSTD_compress(out + TS_CAP_FRAME_HDR_LEN, ZSTD_compressBound(len), p, len, 1);
		if (ZSTD_isError(stored))
			abort();
	} else {
		memcpy(out + TS_CAP_FRAME_HDR_LEN, p, len);
		stored = len;
	}
	put_u32(out, type);
	put_u32(out + 4, (uint32_t)stored);
	put_u32(out + 8, (uint32_t)len);
	crc = (uint32_t)crc32(0, out, 12);
	crc = (uint32_t)crc32(crc, out + TS_CAP_FRAME_HDR_LEN, (uInt)stored);
	put_u32(out + 12, crc);
	return TS_CAP_FRAME_HDR_LEN + stored;
}

/* A frame whose payload p[4..len) is stored as it is, raw length get_u32(p). */
static size_t put_stored_frame(uint8_t *out, uint32_t type, const uint8_t *p, size_t len)
{
	uint32_t crc;

	if (len < 4)
		return put_frame(out, type, p, len, false);
	memcpy(out + TS_CAP_FRAME_HDR_LEN, p + 4, len - 4);
	put_u32(out, type);
	put_u32(out + 4, (uint32_t)(len - 4));
	put_u32(out + 8, get_u32(p));
	crc = (uint32_t)crc32(0, out, 12);
	crc = (uint32_t)crc32(crc, out + TS_CAP_FRAME_HDR_LEN, (uInt)(len - 4));
	put_u32(out + 12, crc);
	return TS_CAP_FRAME_HDR_LEN + len - 4;
}

/* A valid file around one raw payload (mode 1: chunk, 2: snapshot; with
 * stored, the chunk's payload as put_stored_frame takes it). */
static size_t wrap(int mode, bool stored, const uint8_t *p, size_t len,
		   const struct ts_cap_header *hc)
{
	static const uint8_t chunk[] = {1, 0, 0, 0, 0, 0, 0,	       0, 1, 0,
					0, 0, 0, 0, 0, 0, TS_REC_LOST, 0, 2, 5};
	static const uint8_t empty_snap[4];
	struct ts_cap_header h = {.version = 1};

	h.start_mono_ns = hc->start_mono_ns;
	h.wall_offset_ns = hc->wall_offset_ns;
	uint8_t head[256], trl[TS_CAP_TRLR_LEN] = {};
	size_t n = 0;

	memcpy(wrapped, ts_cap_magic, 8);
	put_u32(wrapped + 8, TS_CAP_VERSION);
	put_u32(wrapped + 12, 0);
	n = TS_CAP_PREAMBLE_LEN;
	n += put_frame(wrapped + n, TS_FR_HEAD, head, ts_cap_head_put(head, &h), false);
	if (mode == 2) {
		n += put_frame(wrapped + n, TS_FR_SNAP, p, len, true);
		n += put_frame(wrapped + n, TS_FR_CHNK, chunk, sizeof(chunk), true);
	} else {
		n += put_frame(wrapped + n, TS_FR_SNAP, empty_snap, sizeof(empty_snap), true);
		n += stored ? put_stored_frame(wrapped + n, TS_FR_CHNK, p, len)
			    : put_frame(wrapped + n, TS_FR_CHNK, p, len, true);
	}
	n += put_frame(wrapped + n, TS_FR_TRLR, trl, sizeof(trl), false);
	return n;
}

static bool same(const struct ts_rec *a, const struct ts_rec *b)
{
	if (a->type != b->type || a->ts_ns != b->ts_ns)
		return false;
	if (a->type == TS_REC_LOST)
		return a->lost == b->lost;
	return a->family == b->family && a->old_state == b->old_state &&
	       a->new_state == b->new_state && a->flags == b->flags && a->sport == b->sport &&
	       a->dport == b->dport && a->pid == b->pid && a->netns == b->netns &&
	       a->conn == b->conn && a->ns_in_old == b->ns_in_old &&
	       !memcmp(a->saddr, b->saddr, sizeof(a->saddr)) &&
	       !memcmp(a->daddr, b->daddr, sizeof(a->daddr)) && !strcmp(a->comm, b->comm) &&
	       a->has_stats == b->has_stats &&
	       (!a->has_stats || !memcmp(&a->st, &b->st, sizeof(a->st))) &&
	       a->has_rtx == b->has_rtx && (!a->has_rtx || !memcmp(&a->rtx, &b->rtx, sizeof(a->rtx))) &&
	       a->has_synack == b->has_synack &&
	       (!a->has_synack || !memcmp(&a->synack, &b->synack, sizeof(a->synack))) &&
	       a->has_hs == b->has_hs && (!a->has_hs || !memcmp(&a->hs, &b->hs, sizeof(a->hs)));
}

/* Write the records again and read them back: the round trip is exact. */
static void rewrite(const struct ts_cap_header *h, const struct ts_sock *socks, size_t nsocks,
		    const struct ts_rec *keep, size_t n)
{
	struct ts_capw_opts o = {.path = "fuzz", .level = 1, .chunk_raw = 4096};
	struct ts_capw *w = NULL;
	struct ts_capr *r = NULL;
	struct ts_rec rec;
	size_t i = 0;
	void *map;
	off_t len;

	if (ftruncate(memfd, 0) || ts_capw__open_fd(dup(memfd), &o, h, socks, nsocks, &w))
		abort();
	for (size_t k = 0; k < n; k++)
		if (ts_capw__add(w, &keep[k]))
			abort();
	if (ts_capw__finish(w))
		abort();
	ts_capw__free(w);
	len = lseek(memfd, 0, SEEK_END);
	map = mmap(NULL, (size_t)len, PROT_READ, MAP_SHARED, memfd, 0);
	if (map == MAP_FAILED || ts_capr__open_mem(map, (size_t)len, &r))
		abort();
	while (ts_capr__next(r, &rec) == 1) {
		if (i >= n || !same(&rec, &keep[i]))
			abort();
		i++;
	}
	if (i != n || ts_capr__status(r) != TS_CAPR_OK)
		abort();
	ts_capr__close(r);
	munmap(map, (size_t)len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ts_rec keep[MAX_KEEP];
	const struct ts_sock *socks;
	struct ts_pipeline p;
	struct ts_meta meta = {};
	struct ts_at_opts ao = {};
	struct ts_cap_trailer t;
	struct ts_capr *r = NULL;
	struct ts_sink s;
	struct ts_rec rec;
	struct ts_tracker_opts to = {.max_conns = 64};
	struct ts_cap_header hc = {};
	uint64_t at_delta = 1000000000ULL;
	size_t nsocks, n = 0;
	uint8_t mode;

	if (!devnull) {
		devnull = fopen("/dev/null", "w");
		memfd = memfd_create("fuzzcap", 0);
		/* Frames of a wrapped payload, at most compressBound + 1K. */
		wrapped = malloc(2 * TS_CAP_MAX_RAW);
		if (!devnull || memfd < 0 || !wrapped)
			abort();
	}
	if (size < 1)
		return 0;
	mode = data[0];
	data++;
	size--;
	if (mode % 3 && size >= 24) {
		hc.start_mono_ns = get_u64(data);
		hc.wall_offset_ns = (int64_t)get_u64(data + 8);
		at_delta = get_u64(data + 16);
		data += 24;
		size -= 24;
	}
	if (mode % 3 && size <= TS_CAP_MAX_RAW) {
		size = wrap(mode % 3, mode & 0x10, data, size, &hc);
		data = wrapped;
	}
	if (ts_capr__open_mem(data, size, &r)) {
		if (r && ts_capr__status(r) == TS_CAPR_OK)
			abort(); /* a failure must say what is wrong */
		ts_capr__close(r);
		return 0;
	}
	ts_capr__snapshot(r, &socks, &nsocks);
	meta.wall_offset_ns = ts_capr__header(r)->wall_offset_ns;
	meta.color = mode & 0x80;
	ts_pipeline__init(&p, NULL, &meta);
	/* As report does: the tracker, then every sink. */
	if (ts_pipeline__track(&p, &to))
		abort();
	ao.at_mono_ns = ts_capr__header(r)->start_mono_ns;
	if (__builtin_add_overflow(ao.at_mono_ns, at_delta, &ao.at_mono_ns))
		ao.at_mono_ns = UINT64_MAX;
	ao.socks = socks;
	ao.nsocks = nsocks;
	ao.json = mode & 0x40;
	if (ts_sink_summary__new(&s, devnull, &meta, mode & 0x20) || ts_pipeline__add_sink(&p, s) ||
	    ts_sink_at__new(&s, devnull, &meta, &ao) || ts_pipeline__add_sink(&p, s) ||
	    ts_sink_json__new(&s, devnull, &meta) || ts_pipeline__add_sink(&p, s) ||
	    ts_sink_text__new(&s, devnull, &meta) || ts_pipeline__add_sink(&p, s) ||
	    ts_sink_timeline_text__new(&s, devnull, &meta) || ts_pipeline__add_sink(&p, s) ||
	    ts_sink_timeline_json__new(&s, devnull, &meta) || ts_pipeline__add_sink(&p, s))
		abort();
	while (ts_capr__next(r, &rec) == 1) {
		ts_pipeline__push(&p, &rec);
		if (n < MAX_KEEP)
			keep[n++] = rec;
	}
	if (ts_capr__status(r) != TS_CAPR_OK && !ts_capr__error(r)[0])
		abort(); /* damage is always named */
	ts_capr__trailer(r, &t);
	ts_pipeline__finish(&p);
	ts_pipeline__free(&p);
	rewrite(ts_capr__header(r), socks, nsocks < 64 ? nsocks : 64, keep, n);
	ts_capr__close(r);
	return 0;
}
