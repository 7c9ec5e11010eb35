// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Capture writer.  Records are encoded into the pending chunk: a table of
 * connection descriptors (tuple, pid, comm written once per chunk) and the
 * events that refer to them by index.  A chunk is compressed and written
 * as one frame when it is full, when it is older than flush_ns, or at the
 * end.  Frames go out with pwrite(); a failed write is undone with
 * ftruncate so that the file always ends on a complete frame.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkostemp */
#endif
#include "core/capfile/capfile_int.h"
#include "core/capfile/capfile_codec.h"
#include "core/util/fmt.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h> /* crc32 */

#define DEFAULT_FLUSH_NS 1000000000ULL
#define MIN_SLOTS 1024

/* What one descriptor holds; two records share one when all match. */
struct wdesc {
	uint64_t conn;
	uint32_t pid;
	uint32_t netns;
	uint16_t sport;
	uint16_t dport;
	uint8_t family;
	uint8_t saddr[TS_ADDR_LEN];
	uint8_t daddr[TS_ADDR_LEN];
	char comm[TS_COMM_LEN];
	uint64_t cgroup_id;
	const char *cgroup; /* the source's string: compared by value */
};

struct slot {
	uint64_t conn;
	uint32_t gen; /* slot is in use for this chunk when gen matches */
	uint32_t idx;
};

struct ts_capw {
	int fd;
	bool stream; /* a pipe (-w -): write() in order, no undo */
	char path[256];
	uint64_t max_bytes;
	uint64_t flush_ns;
	size_t chunk_raw;

	uint64_t bytes;	 /* file size: everything written is complete */
	uint64_t events; /* records in written chunks */
	uint64_t lost;	 /* sum of the loss records in written chunks */
	uint64_t chunks;
	uint64_t dropped;      /* records of a chunk that could not be written */
	uint64_t snap_skipped; /* snapshot sockets with impossible values */
	bool finished;
	uint32_t version;
	int err;
	char errmsg[512];

	/* pending chunk */
	uint8_t *ev;
	size_t evlen;
	uint8_t *desc;
	size_t desclen;
	uint32_t nev;
	uint64_t pend_lost;
	uint32_t pend_lost_recs; /* loss records in the chunk */
	uint64_t base_ts;
	uint64_t last_ts;
	uint64_t chunk_born; /* CLOCK_MONOTONIC of the first pending record */

	struct wdesc *descs;
	uint32_t ndesc;
	uint32_t desc_cap;
	struct slot *slots;
	uint32_t slot_cap; /* power of two */
	uint32_t gen;

	uint8_t *raw; /* chunk header + descriptors + events */
	uint8_t *out; /* frame header + compressed payload */
	size_t out_cap;
	struct ts_capz *codec;
};

static void set_err(struct ts_capw *w, int err, const char *what)
{
	if (w->err)
		return;
	w->err = err;
	if (err == -EFBIG)
		snprintf(w->errmsg, sizeof(w->errmsg),
			 "%s reached the size limit (%llu bytes); recording stopped", w->path,
			 (unsigned long long)w->max_bytes);
	else
		snprintf(w->errmsg, sizeof(w->errmsg),
			 "cannot %s %s at byte offset %llu: %s; recording stopped, the file is "
			 "valid up to there",
			 what, w->path, (unsigned long long)w->bytes, strerror(-err));
}

/* Write all of buf at the end of the file, or undo the partial write. */
static int append(struct ts_capw *w, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = w->stream ? write(w->fd, p + done, len - done) :
					pwrite(w->fd, p + done, len - done, (off_t)(w->bytes + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int err = n < 0 ? -errno : -ENOSPC;

			/* Drop the torn frame: the file must end on a whole one
			 * (a pipe cannot take it back: the reader sees it torn). */
			if (!w->stream && ftruncate(w->fd, (off_t)w->bytes))
				(void)0; /* nothing better to do; the reader copes */
			return err;
		}
		done += (size_t)n;
	}
	w->bytes += len;
	return 0;
}

static size_t trailer_frame_len(void)
{
	return TS_CAP_FRAME_HDR_LEN + TS_CAP_TRLR_LEN_UNWRITTEN;
}

/* buf has TS_CAP_FRAME_HDR_LEN bytes free in front of the payload. */
static int write_frame(struct ts_capw *w, uint32_t type, uint8_t *buf, size_t stored, size_t raw)
{
	uint32_t crc;
	size_t reserve = type == TS_FR_TRLR ? 0 : trailer_frame_len();

	if (w->max_bytes && w->bytes + TS_CAP_FRAME_HDR_LEN + stored + reserve > w->max_bytes)
		return -EFBIG;
	put_u32(buf, type);
	put_u32(buf + 4, (uint32_t)stored);
	put_u32(buf + 8, (uint32_t)raw);
	crc = (uint32_t)crc32(0, buf, 12);
	crc = (uint32_t)crc32(crc, buf + TS_CAP_FRAME_HDR_LEN, (uInt)stored);
	put_u32(buf + 12, crc);
	return append(w, buf, TS_CAP_FRAME_HDR_LEN + stored);
}

static int ensure_out(struct ts_capw *w, size_t need)
{
	uint8_t *p;

	if (need <= w->out_cap)
		return 0;
	p = realloc(w->out, need);
	if (!p)
		return -ENOMEM;
	w->out = p;
	w->out_cap = need;
	return 0;
}

/* Compress raw[0..len) into one frame of the given type. */
static int write_zframe(struct ts_capw *w, uint32_t type, const uint8_t *raw, size_t len)
{
	size_t bound = ts_capz__bound(w->codec, len), stored;
	int err;

	err = ensure_out(w, TS_CAP_FRAME_HDR_LEN + bound);
	if (err)
		return err;
	err = ts_capz__compress(w->codec, w->out + TS_CAP_FRAME_HDR_LEN, bound, raw, len, &stored);
	if (err)
		return err;
	return write_frame(w, type, w->out, stored, len);
}

static void reset_chunk(struct ts_capw *w)
{
	w->evlen = 0;
	w->desclen = 0;
	w->nev = 0;
	w->ndesc = 0;
	w->pend_lost = 0;
	w->pend_lost_recs = 0;
	/* A new generation empties the descriptor map without a memset. */
	if (++w->gen == 0) {
		memset(w->slots, 0, (size_t)w->slot_cap * sizeof(*w->slots));
		w->gen = 1;
	}
}

static int write_chunk(struct ts_capw *w)
{
	uint8_t *p = w->raw;
	size_t len;
	int err;

	if (!w->nev)
		return 0;
	put_u64(p, w->base_ts);
	put_u32(p + 8, w->nev);
	put_u32(p + 12, w->ndesc);
	len = TS_CAP_CHUNK_HDR;
	memcpy(p + len, w->desc, w->desclen);
	len += w->desclen;
	memcpy(p + len, w->ev, w->evlen);
	len += w->evlen;
	err = write_zframe(w, TS_FR_CHNK, p, len);
	if (err) {
		set_err(w, err, "write a chunk to");
		w->dropped += w->nev - w->pend_lost_recs;
		reset_chunk(w);
		return err;
	}
	w->events += w->nev - w->pend_lost_recs;
	w->lost += w->pend_lost;
	w->chunks++;
	reset_chunk(w);
	return 0;
}

static bool desc_equal(const struct wdesc *d, const struct ts_rec *r)
{
	return d->pid == r->pid && d->sport == r->sport && d->dport == r->dport &&
	       d->netns == r->netns && d->family == r->family &&
	       !memcmp(d->saddr, r->saddr, TS_ADDR_LEN) &&
	       !memcmp(d->daddr, r->daddr, TS_ADDR_LEN) && !strncmp(d->comm, r->comm, TS_COMM_LEN) &&
	       d->cgroup_id == r->cgroup_id &&
	       (d->cgroup == r->cgroup ||
		(d->cgroup && r->cgroup && !strcmp(d->cgroup, r->cgroup)));
}

static uint32_t hash_conn(uint64_t c)
{
	c ^= c >> 33;
	c *= 0xff51afd7ed558ccdULL;
	c ^= c >> 33;
	return (uint32_t)c;
}

static struct slot *find_slot(struct ts_capw *w, uint64_t conn)
{
	uint32_t mask = w->slot_cap - 1, i = hash_conn(conn) & mask;

	while (w->slots[i].gen == w->gen && w->slots[i].conn != conn)
		i = (i + 1) & mask;
	return &w->slots[i];
}

static int grow(struct ts_capw *w)
{
	uint32_t cap = w->slot_cap * 2;
	struct slot *s = calloc(cap, sizeof(*s));
	struct wdesc *d;

	if (!s)
		return -ENOMEM;
	d = realloc(w->descs, (size_t)cap / 2 * sizeof(*d));
	if (!d) {
		free(s);
		return -ENOMEM;
	}
	free(w->slots);
	w->slots = s;
	w->slot_cap = cap;
	w->descs = d;
	w->desc_cap = cap / 2;
	/* Re-insert this chunk's descriptors; later ones win for a conn. */
	for (uint32_t k = 0; k < w->ndesc; k++) {
		struct slot *sl = find_slot(w, w->descs[k].conn);

		sl->conn = w->descs[k].conn;
		sl->gen = w->gen;
		sl->idx = k;
	}
	return 0;
}

/* Index of the descriptor for r in this chunk, adding one if needed. */
static int desc_index(struct ts_capw *w, const struct ts_rec *r, uint32_t *idx)
{
	struct slot *sl = find_slot(w, r->conn);
	struct wdesc *d;
	uint8_t *p;
	size_t alen = r->family == 6 ? 16 : 4, clen, glen;
	int err;

	if (sl->gen == w->gen && desc_equal(&w->descs[sl->idx], r)) {
		*idx = sl->idx;
		return 0;
	}
	if (w->ndesc + 1 > w->desc_cap) {
		err = grow(w);
		if (err)
			return err;
		sl = find_slot(w, r->conn);
	}
	d = &w->descs[w->ndesc];
	memset(d, 0, sizeof(*d));
	d->conn = r->conn;
	d->pid = r->pid;
	d->netns = r->netns;
	d->sport = r->sport;
	d->dport = r->dport;
	d->family = r->family;
	memcpy(d->saddr, r->saddr, TS_ADDR_LEN);
	memcpy(d->daddr, r->daddr, TS_ADDR_LEN);
	clen = strnlen(r->comm, TS_COMM_LEN);
	memcpy(d->comm, r->comm, clen);
	d->cgroup_id = r->cgroup_id;
	d->cgroup = r->cgroup;
	glen = r->cgroup ? strlen(r->cgroup) : 0;
	if (glen > TS_CAP_MAX_CGROUP)
		glen = 0;

	p = w->desc + w->desclen;
	put_u64(p, r->conn);
	p[8] = r->family;
	put_u16(p + 9, r->sport);
	put_u16(p + 11, r->dport);
	put_u32(p + 13, r->pid);
	put_u32(p + 17, r->netns);
	memcpy(p + 21, r->saddr, alen);
	memcpy(p + 21 + alen, r->daddr, alen);
	p[21 + 2 * alen] = (uint8_t)clen;
	memcpy(p + 22 + 2 * alen, r->comm, clen);
	w->desclen += 22 + 2 * alen + clen;
	if (w->version >= 2) {
		/* u64 cgroup_id, u16 path length, path. */
		p += 22 + 2 * alen + clen;
		put_u64(p, r->cgroup_id);
		put_u16(p + 8, (uint16_t)glen);
		if (glen)
			memcpy(p + 10, r->cgroup, glen);
		w->desclen += 10 + glen;
	}

	sl->conn = r->conn;
	sl->gen = w->gen;
	sl->idx = w->ndesc;
	*idx = w->ndesc++;
	return 0;
}

static void encode(struct ts_capw *w, const struct ts_rec *r, uint32_t idx)
{
	uint8_t *p = w->ev + w->evlen;
	int64_t delta = (int64_t)(r->ts_ns - w->last_ts);
	size_t n = 0;

	p[n++] = (uint8_t)r->type;
	if (r->type == TS_REC_LOST) {
		p[n++] = 0;
		n += put_varint(p + n, zigzag(delta));
		n += put_varint(p + n, r->lost);
		w->pend_lost += r->lost;
		w->pend_lost_recs++;
	} else if (r->type == TS_REC_DROP_SUPPRESSED) {
		/* Laid out as a loss record; an event like the others. */
		p[n++] = 0;
		n += put_varint(p + n, zigzag(delta));
		n += put_varint(p + n, r->lost);
	} else {
		uint8_t flags = r->flags & (uint8_t)~TS_F_STATS;

		if (r->has_stats)
			flags |= TS_F_STATS;
		p[n++] = flags;
		n += put_varint(p + n, idx);
		n += put_varint(p + n, zigzag(delta));
		p[n++] = (uint8_t)((r->old_state & 0xf) << 4 | (r->new_state & 0xf));
		n += put_varint(p + n, r->ns_in_old);
		if (r->has_stats) {
			n += put_varint(p + n, r->st.bytes_acked);
			n += put_varint(p + n, r->st.bytes_received);
			n += put_varint(p + n, r->st.segs_out);
			n += put_varint(p + n, r->st.segs_in);
			n += put_varint(p + n, r->st.total_retrans);
			n += put_varint(p + n, r->st.data_segs_out);
			n += put_varint(p + n, r->st.srtt_us);
			n += put_varint(p + n, r->st.err);
		}
		if (w->version >= 3) {
			/* Format 3: varint length, then the detail items. */
			uint8_t det[TS_CAP_DETAIL_MAX];
			size_t dlen = ts_cap_details_put(det, r);

			if (dlen) {
				p[0] |= TS_CAP_EV_DETAIL;
				n += put_varint(p + n, dlen);
				memcpy(p + n, det, dlen);
				n += dlen;
			}
		}
	}
	w->last_ts = r->ts_ns;
	w->evlen += n;
	w->nev++;
}

static size_t pending_raw(const struct ts_capw *w)
{
	return TS_CAP_CHUNK_HDR + w->desclen + w->evlen;
}

int ts_capw__add(struct ts_capw *w, const struct ts_rec *r)
{
	uint32_t idx = 0;
	int err;

	if (w->err) {
		/* After a write error every record offered is one missing. */
		if (w->err != -EFBIG && !w->finished && r->type != TS_REC_LOST)
			w->dropped++;
		return w->err;
	}
	if (pending_raw(w) + TS_CAP_DESC_MAX + TS_CAP_EVENT_MAX > w->chunk_raw) {
		err = write_chunk(w);
		if (err)
			return err;
	}
	if (!w->nev) {
		w->base_ts = r->ts_ns;
		w->last_ts = r->ts_ns;
		w->chunk_born = ts_now_mono_ns();
	}
	if (r->type == TS_REC_DROP_SUPPRESSED && w->version < 3)
		return 0; /* older formats have no place for it */
	if (r->type != TS_REC_LOST && r->type != TS_REC_DROP_SUPPRESSED) {
		err = desc_index(w, r, &idx);
		if (err) {
			set_err(w, err, "encode a record for");
			return err;
		}
	}
	encode(w, r, idx);
	/*
	 * Near the size limit, write what we have while it surely fits
	 * (the codec's bound is the worst case) and stop: a record accepted is a
	 * record in the file.
	 */
	if (w->max_bytes && w->bytes + TS_CAP_FRAME_HDR_LEN +
				    ts_capz__bound(w->codec, pending_raw(w) + TS_CAP_DESC_MAX +
								 TS_CAP_EVENT_MAX) +
				    trailer_frame_len() >
				w->max_bytes) {
		err = write_chunk(w);
		if (err)
			return err;
		set_err(w, -EFBIG, "");
		return -EFBIG;
	}
	return 0;
}

int ts_capw__flush(struct ts_capw *w, bool force)
{
	if (w->err)
		return w->err;
	if (!w->nev)
		return 0;
	if (!force && ts_now_mono_ns() - w->chunk_born < w->flush_ns)
		return 0;
	return write_chunk(w);
}

static int write_trailer(struct ts_capw *w)
{
	uint8_t buf[TS_CAP_FRAME_HDR_LEN + TS_CAP_TRLR_LEN_UNWRITTEN];
	uint8_t *p = buf + TS_CAP_FRAME_HDR_LEN;
	size_t len = TS_CAP_TRLR_LEN;

	put_u64(p, w->events);
	put_u64(p + 8, w->lost);
	put_u64(p + 16, w->chunks);
	put_u64(p + 24, ts_now_mono_ns());
	/* Events that a write error kept out of the file: a trailer that
	 * said nothing would make the file look complete. */
	if (w->dropped) {
		put_u64(p + 32, w->dropped);
		len = TS_CAP_TRLR_LEN_UNWRITTEN;
	}
	return write_frame(w, TS_FR_TRLR, buf, len, len);
}

static void free_writer(struct ts_capw *w)
{
	ts_capz__free(w->codec);
	free(w->ev);
	free(w->desc);
	free(w->raw);
	free(w->out);
	free(w->descs);
	free(w->slots);
	free(w);
}

int ts_capw__finish(struct ts_capw *w)
{
	int terr;

	if (w->finished)
		return w->err;
	w->finished = true;
	if (!w->err)
		write_chunk(w);
	/*
	 * After a full disk or the size limit the trailer still goes in when
	 * it fits (the torn chunk was cut off, which usually makes room).
	 */
	terr = write_trailer(w);
	if (terr)
		set_err(w, terr, "write the trailer of");
	if (close(w->fd) && !w->err)
		set_err(w, -errno, "close");
	w->fd = -1;
	return w->err;
}

void ts_capw__free(struct ts_capw *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	free_writer(w);
}

uint64_t ts_capw__bytes(const struct ts_capw *w)
{
	return w->bytes;
}

uint64_t ts_capw__events(const struct ts_capw *w)
{
	return w->events + w->nev - w->pend_lost_recs;
}

uint64_t ts_capw__snapshot_skipped(const struct ts_capw *w)
{
	return w->snap_skipped;
}

uint64_t ts_capw__dropped(const struct ts_capw *w)
{
	return w->dropped;
}

int ts_capw__error(const struct ts_capw *w, const char **msg)
{
	if (msg)
		*msg = w->errmsg;
	return w->err;
}

static int write_snapshot(struct ts_capw *w, const struct ts_sock *socks, size_t n)
{
	size_t done = 0;
	int err = 0;

	/* What a reader would refuse stays out: the first sockets are kept. */
	if (n > TS_CAP_MAX_SNAP_SOCKS) {
		w->snap_skipped += n - TS_CAP_MAX_SNAP_SOCKS;
		n = TS_CAP_MAX_SNAP_SOCKS;
	}
	/* Empty snapshots are written too: "nothing was open" is news. */
	do {
		size_t k = n - done < TS_CAP_SNAP_MAX ? n - done : TS_CAP_SNAP_MAX;
		uint8_t *raw = malloc(4 + k * TS_CAP_SOCK_LEN);

		if (!raw)
			return -ENOMEM;
		size_t kept = 0;
		struct ts_sock check;

		for (size_t i = 0; i < k; i++) {
			uint8_t *p = raw + 4 + kept * TS_CAP_SOCK_LEN;

			ts_cap_sock_put(p, &socks[done + i]);
			/* What the reader would refuse is not written. */
			if (ts_cap_sock_get(p, &check))
				w->snap_skipped++;
			else
				kept++;
		}
		put_u32(raw, (uint32_t)kept);
		err = write_zframe(w, TS_FR_SNAP, raw, 4 + kept * TS_CAP_SOCK_LEN);
		free(raw);
		done += k;
	} while (!err && done < n);
	return err;
}

int ts_capw__open_fd(int fd, const struct ts_capw_opts *o, const struct ts_cap_header *h,
		    const struct ts_sock *socks, size_t nsocks, struct ts_capw **out)
{
	struct ts_capw *w = calloc(1, sizeof(*w));
	uint8_t pre[TS_CAP_PREAMBLE_LEN];
	uint8_t *head = NULL;
	int err;

	if (!w) {
		close(fd);
		return -ENOMEM;
	}
	w->fd = fd;
	w->stream = lseek(fd, 0, SEEK_CUR) < 0 && errno == ESPIPE;
	snprintf(w->path, sizeof(w->path), "%s", o->path ? o->path : "capture");
	w->max_bytes = o->max_bytes;
	w->flush_ns = o->flush_ns ? o->flush_ns : DEFAULT_FLUSH_NS;
	w->chunk_raw = o->chunk_raw ? o->chunk_raw : TS_CAP_CHUNK_RAW;
	w->version = o->version ? o->version : TS_CAP_VERSION;
	if (w->chunk_raw < 4096)
		w->chunk_raw = 4096;
	if (w->chunk_raw > TS_CAP_MAX_RAW)
		w->chunk_raw = TS_CAP_MAX_RAW;
	w->slot_cap = MIN_SLOTS;
	w->desc_cap = MIN_SLOTS / 2;
	w->gen = 1;
	w->ev = malloc(w->chunk_raw);
	w->desc = malloc(w->chunk_raw);
	w->raw = malloc(w->chunk_raw);
	w->slots = calloc(w->slot_cap, sizeof(*w->slots));
	w->descs = calloc(w->desc_cap, sizeof(*w->descs));
	head = malloc(TS_CAP_FRAME_HDR_LEN + TS_CAP_MAX_HEAD);
	if (!w->ev || !w->desc || !w->raw || !w->slots || !w->descs || !head) {
		err = -ENOMEM;
		goto fail;
	}
	err = ts_capz__new(w->version, o->level, true, &w->codec);
	if (err)
		goto fail;

	memcpy(pre, ts_cap_magic, 8);
	put_u32(pre + 8, w->version);
	put_u32(pre + 12, 0);
	err = append(w, pre, sizeof(pre));
	if (!err) {
		size_t n = ts_cap_head_put(head + TS_CAP_FRAME_HDR_LEN, h);

		err = write_frame(w, TS_FR_HEAD, head, n, n);
	}
	if (!err)
		err = write_snapshot(w, socks, nsocks);
	if (err)
		goto fail;
	free(head);
	*out = w;
	return 0;
fail:
	free(head);
	ts_capw__free(w);
	return err;
}

const char *ts_capw__refusal(int err)
{
	switch (err) {
	case -ELOOP:
		return "it is a symbolic link";
	case -EISDIR:
		return "it is a directory";
	case -ESPIPE:
		return "it is a FIFO or a socket";
	case -ENODEV:
		return "it is a device";
	case -EPERM:
		return "it belongs to another user";
	case -EEXIST:
		return "the file exists (use --force to replace it)";
	}
	return NULL;
}

int ts_capw__check_target(const char *path, bool force)
{
	struct stat st;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!force)
		return -EEXIST;
	if (S_ISLNK(st.st_mode))
		return -ELOOP;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))
		return -ESPIPE;
	if (!S_ISREG(st.st_mode))
		return -ENODEV;
	/* Replacing another user's file in a shared directory (/tmp) would
	 * hand them the name they chose; let them (or root) remove it. */
	if (st.st_uid != geteuid())
		return -EPERM;
	return 0;
}

/*
 * --force: a new file next to the old one, renamed over it.  The old
 * inode is never opened, truncated or chmod'ed, so whatever sits at the
 * path (a FIFO, a device, another user's file, a symlink swapped in after
 * the check) is at worst unlinked by the rename, never written through.
 */
static int replace_open(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t dlen = slash ? (size_t)(slash - path) + 1 : 0;
	char tmp[PATH_MAX];
	int fd, err;

	if (dlen + strlen(".tcpscope-XXXXXX") + 1 > sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, path, dlen);
	strcpy(tmp + dlen, ".tcpscope-XXXXXX");
	fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600, O_EXCL */
	if (fd < 0)
		return -errno;
	/* The check again, as close to the rename as it gets. */
	err = ts_capw__check_target(path, true);
	if (!err && rename(tmp, path))
		err = -errno;
	if (err) {
		unlink(tmp);
		close(fd);
		return err;
	}
	return fd;
}

int ts_capw__open(const struct ts_capw_opts *o, const struct ts_cap_header *h,
		 const struct ts_sock *socks, size_t nsocks, struct ts_capw **out)
{
	/*
	 * O_EXCL: an existing capture is never replaced by accident, and
	 * nothing at the path is followed or opened (a FIFO would block).
	 */
	int fd;

	/* "-": stdout, for 'record -w - | report -'. */
	if (!strcmp(o->path, "-")) {
		fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			return -errno;
		return ts_capw__open_fd(fd, o, h, socks, nsocks, out);
	}
	fd = open(o->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST && o->force)
		fd = replace_open(o->path);
	else if (fd < 0)
		fd = -errno;
	if (fd < 0)
		return fd;
	return ts_capw__open_fd(fd, o, h, socks, nsocks, out);
}
