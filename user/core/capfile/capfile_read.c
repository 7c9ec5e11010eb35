// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Capture reader.  A regular file is mapped; anything else (a pipe, a
 * device) is read as a stream, one frame at a time, after its first bytes
 * proved to be the magic.  Every length is checked against what is left
 * before it is used and against fixed maxima before anything is
 * allocated, so a crafted file can make the reader stop but not crash,
 * and the memory it takes is bounded (docs/SECURITY.md adds it up).
 * Reading stops at the first damaged frame; what came before it has been
 * delivered.
 */
#include "core/capfile/capfile_int.h"
#include "core/capfile/capfile_codec.h"
#include "core/stream/knames.h"
#include "core/stream/states.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* Largest stored payload: above zlib's and zstd's worst case for the
 * largest raw chunk. */
#define MAX_STORED (TS_CAP_MAX_RAW + TS_CAP_MAX_RAW / 64 + 1024)
#define READ_CHUNK (64 << 10)

struct ts_capr {
	const uint8_t *buf; /* the bytes from file offset 'base' on */
	size_t len;	    /* file offset of the end of what buf holds */
	void *map;	    /* mmap'd, or NULL */
	void *owned;	    /* the stream's window, or NULL */
	size_t pos;	    /* file offset of the next frame */
	size_t base;	    /* file offset of buf[0] (0 unless streaming) */
	int fd;		    /* a pipe read as a stream, or -1 */
	size_t win_cap;
	size_t dropped; /* mapped bytes before this were given back */
	bool eof;

	struct ts_cap_header h;
	struct ts_sock *socks;
	size_t nsocks;
	enum ts_capr_status status;
	char err[512];
	bool done;
	bool has_trailer;
	struct ts_cap_trailer trailer;
	uint64_t events_read;
	uint64_t skipped; /* records of types this build does not know */

	/* current chunk */
	size_t chunk_off;
	uint8_t *raw;
	size_t raw_cap;
	size_t rawlen;
	size_t rp;
	uint32_t left;
	uint32_t nev;
	uint32_t ndesc;
	struct ts_rec *tmpl; /* one prefilled record per descriptor */
	/* cgroup paths of the records, interned: they live until close. */
	char **paths;
	size_t npaths, paths_cap;
	/* Kernel names of drops and resets (ts_capr__intern_name). */
	char *names[TS_CAPR_MAX_NAMES];
	size_t nnames;
	size_t tmpl_cap;
	uint64_t last_ts;
	struct ts_capz *codec; /* made once the version is known */
};

struct frame {
	uint32_t type;
	uint32_t stored;
	uint32_t raw;
	const uint8_t *payload;
};

static void fail(struct ts_capr *r, enum ts_capr_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(struct ts_capr *r, enum ts_capr_status st, const char *fmt, ...)
{
	va_list ap;

	r->done = true;
	r->left = 0;
	if (r->status != TS_CAPR_OK)
		return; /* the first damage is the one worth naming */
	r->status = st;
	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
}

static const char *frame_name(uint32_t type)
{
	switch (type) {
	case TS_FR_HEAD:
		return "header";
	case TS_FR_SNAP:
		return "snapshot";
	case TS_FR_CHNK:
		return "chunk";
	case TS_FR_TRLR:
		return "trailer";
	}
	return "unknown";
}

/*
 * A stream (a pipe, 'report -') is read through a window that holds the
 * frame being read and little more: memory stays bounded by the largest
 * frame, whatever the capture's length.  Make [pos, pos + need) available
 * if the stream has it; the window may move, so pointers into it are only
 * good until the next call.
 */
static int fill(struct ts_capr *r, size_t need)
{
	while (r->fd >= 0 && r->len - r->pos < need && !r->eof) {
		size_t keep = r->len - r->pos, want = need > READ_CHUNK ? need : READ_CHUNK;
		uint8_t *w = r->owned;
		ssize_t n;

		if (r->pos > r->base) {
			memmove(w, w + (r->pos - r->base), keep);
			r->base = r->pos;
		}
		if (r->win_cap < want + READ_CHUNK) {
			w = realloc(r->owned, want + READ_CHUNK);
			if (!w)
				return -ENOMEM;
			r->owned = w;
			r->win_cap = want + READ_CHUNK;
		}
		r->buf = w;
		n = read(r->fd, w + keep, r->win_cap - keep);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			r->eof = true;
		r->len += (size_t)n;
	}
	return 0;
}

/*
 * Check the frame at r->pos without consuming it.  Returns 1 with *f
 * filled, 0 at a clean end of file, -1 after fail(), another negative
 * errno when the stream cannot be read.
 */
static int peek_frame(struct ts_capr *r, struct frame *f, enum ts_capr_status st)
{
	size_t left;
	const uint8_t *p;
	uint32_t crc;
	int err = fill(r, TS_CAP_FRAME_HDR_LEN);

	if (err)
		goto read_failed;
	left = r->len - r->pos;
	p = r->buf + (r->pos - r->base);
	if (!left)
		return 0;
	if (left < TS_CAP_FRAME_HDR_LEN) {
		fail(r, st, "truncated frame header at byte offset %zu (%zu of %d bytes)", r->pos,
		     left, TS_CAP_FRAME_HDR_LEN);
		return -1;
	}
	f->type = get_u32(p);
	f->stored = get_u32(p + 4);
	f->raw = get_u32(p + 8);
	if (f->stored > MAX_STORED) {
		fail(r, st, "bad frame length %u at byte offset %zu (at most %u)", f->stored,
		     r->pos + 4, (unsigned)MAX_STORED);
		return -1;
	}
	if (f->raw > TS_CAP_MAX_RAW) {
		fail(r, st, "bad uncompressed length %u at byte offset %zu (at most %u)", f->raw,
		     r->pos + 8, (unsigned)TS_CAP_MAX_RAW);
		return -1;
	}
	err = fill(r, TS_CAP_FRAME_HDR_LEN + (size_t)f->stored);
	if (err)
		goto read_failed;
	left = r->len - r->pos;
	p = r->buf + (r->pos - r->base);
	if (f->stored > left - TS_CAP_FRAME_HDR_LEN) {
		fail(r, st,
		     "truncated %s frame at byte offset %zu: it needs %u bytes, the file ends "
		     "after %zu",
		     frame_name(f->type), r->pos, f->stored + TS_CAP_FRAME_HDR_LEN, left);
		return -1;
	}
	f->payload = p + TS_CAP_FRAME_HDR_LEN;
	crc = (uint32_t)crc32(0, p, 12);
	crc = (uint32_t)crc32(crc, f->payload, f->stored);
	if (crc != get_u32(p + 12)) {
		fail(r, st,
		     "bad CRC-32 in %s frame at byte offset %zu (stored %08x, computed %08x)",
		     frame_name(f->type), r->pos, get_u32(p + 12), crc);
		return -1;
	}
	return 1;
read_failed:
	fail(r, st, "cannot read at byte offset %zu: %s", r->len, strerror(-err));
	return -1;
}

static int ensure_raw(struct ts_capr *r, size_t n)
{
	uint8_t *p;

	if (n <= r->raw_cap)
		return 0;
	p = realloc(r->raw, n);
	if (!p)
		return -ENOMEM;
	r->raw = p;
	r->raw_cap = n;
	return 0;
}

/* Decompress a frame into r->raw; returns 0, -ENOMEM, or -1 after fail(). */
static int inflate_frame(struct ts_capr *r, const struct frame *f)
{
	const char *why;
	int err;

	if (!r->codec) {
		err = ts_capz__new(r->h.version, 0, false, &r->codec);
		if (err)
			return -ENOMEM;
	}
	/*
	 * zlib inflates at most ~1032:1, zstd far more; real chunks shrink
	 * 2-6 times.  A frame claiming far more is built to multiply the
	 * output of report (every event is a line of text), not recorded by
	 * tcpscope.  With the frame header counted, no frame decompresses to
	 * more than 64 times the bytes it takes in the file, small ones
	 * included.
	 */
	if ((uint64_t)f->raw > ((uint64_t)f->stored + TS_CAP_FRAME_HDR_LEN) * TS_CAP_MAX_RATIO) {
		fail(r, TS_CAPR_DAMAGED,
		     "%s frame at byte offset %zu claims to %s %u bytes to %u (more than "
		     "%d:1): a decompression bomb, not a recording",
		     frame_name(f->type), r->pos, ts_capz__verb(r->codec), f->stored, f->raw,
		     TS_CAP_MAX_RATIO);
		return -1;
	}
	if (ensure_raw(r, f->raw ? f->raw : 1))
		return -ENOMEM;
	err = ts_capz__decompress(r->codec, r->raw, f->raw, f->payload, f->stored, &why);
	if (err == -EOVERFLOW) {
		fail(r, TS_CAPR_DAMAGED,
		     "compressed data in %s frame at byte offset %zu %s past the %u bytes "
		     "its header states: a decompression bomb or a corrupt frame",
		     frame_name(f->type), r->pos, ts_capz__verbs(r->codec), f->raw);
		return -1;
	}
	if (err) {
		fail(r, TS_CAPR_DAMAGED, "bad compressed data in %s frame at byte offset %zu (%s)",
		     frame_name(f->type), r->pos, why);
		return -1;
	}
	r->rawlen = f->raw;
	return 0;
}

static int load_snapshot(struct ts_capr *r, const struct frame *f)
{
	struct ts_sock *s;
	uint32_t n;
	int err = inflate_frame(r, f);

	if (err)
		return err;
	n = r->rawlen >= 4 ? get_u32(r->raw) : 0;
	if (r->rawlen < 4 || (size_t)n * TS_CAP_SOCK_LEN != r->rawlen - 4) {
		fail(r, TS_CAPR_DAMAGED, "bad socket count in snapshot frame at byte offset %zu",
		     r->pos);
		return -1;
	}
	if (n > TS_CAP_SNAP_MAX) {
		fail(r, TS_CAPR_DAMAGED,
		     "%u sockets in snapshot frame at byte offset %zu (at most %d a frame)", n,
		     r->pos, TS_CAP_SNAP_MAX);
		return -1;
	}
	if (r->nsocks + n > TS_CAP_MAX_SNAP_SOCKS) {
		fail(r, TS_CAPR_DAMAGED,
		     "snapshot frame at byte offset %zu takes the snapshot past %d sockets, the "
		     "most a capture holds",
		     r->pos, TS_CAP_MAX_SNAP_SOCKS);
		return -1;
	}
	s = realloc(r->socks, (r->nsocks + n + 1) * sizeof(*s));
	if (!s)
		return -ENOMEM;
	r->socks = s;
	for (uint32_t i = 0; i < n; i++) {
		if (ts_cap_sock_get(r->raw + 4 + (size_t)i * TS_CAP_SOCK_LEN,
				    &r->socks[r->nsocks])) {
			fail(r, TS_CAPR_DAMAGED,
			     "bad socket %u in snapshot frame at byte offset %zu", i, r->pos);
			return -1;
		}
		r->nsocks++;
	}
	return 0;
}

/* The one copy of path (len bytes, no NUL), made on first sight. */
static const char *intern(struct ts_capr *r, const uint8_t *path, size_t len)
{
	char *s;

	/* A capture holds few distinct cgroups: the latest ones first. */
	for (size_t i = r->npaths; i-- > 0;)
		if (strlen(r->paths[i]) == len && !memcmp(r->paths[i], path, len))
			return r->paths[i];
	if (r->npaths == r->paths_cap) {
		size_t cap = r->paths_cap ? r->paths_cap * 2 : 16;
		char **p = realloc(r->paths, cap * sizeof(*p));

		if (!p)
			return NULL;
		r->paths = p;
		r->paths_cap = cap;
	}
	s = malloc(len + 1);
	if (!s)
		return NULL;
	memcpy(s, path, len);
	s[len] = '\0';
	r->paths[r->npaths++] = s;
	return s;
}

static int load_chunk(struct ts_capr *r, const struct frame *f)
{
	const uint8_t *p, *end;
	uint32_t nev, ndesc;
	int err = inflate_frame(r, f);

	if (err)
		return err;
	r->chunk_off = r->pos;
	if (r->rawlen < TS_CAP_CHUNK_HDR)
		goto bad;
	r->last_ts = get_u64(r->raw);
	nev = get_u32(r->raw + 8);
	ndesc = get_u32(r->raw + 12);
	if (ndesc > (r->rawlen - TS_CAP_CHUNK_HDR) / TS_CAP_DESC_MIN ||
	    nev > (r->rawlen - TS_CAP_CHUNK_HDR) / TS_CAP_EVENT_MIN || !nev)
		goto bad;
	if (ndesc > r->tmpl_cap) {
		struct ts_rec *t = realloc(r->tmpl, (size_t)ndesc * sizeof(*t));

		if (!t)
			return -ENOMEM;
		r->tmpl = t;
		r->tmpl_cap = ndesc;
	}
	p = r->raw + TS_CAP_CHUNK_HDR;
	end = r->raw + r->rawlen;
	for (uint32_t i = 0; i < ndesc; i++) {
		struct ts_rec *t = &r->tmpl[i];
		size_t alen, clen;

		if (end - p < TS_CAP_DESC_FIXED || (p[8] != 4 && p[8] != 6))
			goto bad;
		alen = p[8] == 6 ? 16 : 4;
		if ((size_t)(end - p) < 22 + 2 * alen)
			goto bad;
		clen = p[21 + 2 * alen];
		if (clen > TS_COMM_LEN || (size_t)(end - p) < 22 + 2 * alen + clen)
			goto bad;
		memset(t, 0, sizeof(*t));
		t->conn = get_u64(p);
		t->family = p[8];
		t->sport = get_u16(p + 9);
		t->dport = get_u16(p + 11);
		t->pid = get_u32(p + 13);
		t->netns = get_u32(p + 17);
		memcpy(t->saddr, p + 21, alen);
		memcpy(t->daddr, p + 21 + alen, alen);
		memcpy(t->comm, p + 22 + 2 * alen, clen);
		p += 22 + 2 * alen + clen;
		if (r->h.version >= 2) {
			size_t glen;

			if (end - p < 10)
				goto bad;
			t->cgroup_id = get_u64(p);
			glen = get_u16(p + 8);
			if (glen > TS_CAP_MAX_CGROUP || (size_t)(end - p) < 10 + glen ||
			    memchr(p + 10, '\0', glen))
				goto bad;
			if (glen) {
				t->cgroup = intern(r, p + 10, glen);
				if (!t->cgroup)
					return -ENOMEM;
			}
			p += 10 + glen;
		}
	}
	r->ndesc = ndesc;
	r->nev = nev;
	r->left = nev;
	r->rp = (size_t)(p - r->raw);
	return 0;
bad:
	fail(r, TS_CAPR_DAMAGED, "bad chunk layout in chunk frame at byte offset %zu", r->pos);
	return -1;
}

static int load_trailer(struct ts_capr *r, const struct frame *f)
{

	if ((f->stored != TS_CAP_TRLR_LEN && f->stored != TS_CAP_TRLR_LEN_UNWRITTEN) ||
	    f->raw != f->stored) {
		fail(r, TS_CAPR_DAMAGED, "bad trailer length %u at byte offset %zu", f->stored,
		     r->pos + 4);
		return -1;
	}
	r->trailer.events = get_u64(f->payload);
	r->trailer.lost = get_u64(f->payload + 8);
	r->trailer.chunks = get_u64(f->payload + 16);
	r->trailer.end_mono_ns = get_u64(f->payload + 24);
	r->trailer.unwritten = f->stored > TS_CAP_TRLR_LEN ? get_u64(f->payload + 32) : 0;
	r->has_trailer = true;
	r->done = true;
	r->pos += TS_CAP_FRAME_HDR_LEN + f->stored;
	if (fill(r, 1) == 0 && r->pos != r->len) {
		fail(r, TS_CAPR_DAMAGED,
		     "%zu unexpected bytes after the trailer at byte offset %zu", r->len - r->pos,
		     r->pos);
		return -1;
	}
	if (r->trailer.events != r->events_read) {
		fail(r, TS_CAPR_DAMAGED,
		     "the trailer at byte offset %zu counts %llu events, the chunks held %llu",
		     r->pos - TS_CAP_FRAME_HDR_LEN - f->stored,
		     (unsigned long long)r->trailer.events, (unsigned long long)r->events_read);
		return -1;
	}
	return 0;
}

/*
 * Pages of a mapped file that were read count in the resident set until
 * the kernel needs them back: return them as the reading goes, so that
 * memory does not grow with the file.
 */
#define DROP_EVERY (32 << 20)

static void drop_read_pages(struct ts_capr *r)
{
	size_t upto = r->pos & ~(size_t)(DROP_EVERY - 1);

	if (!r->map || upto <= r->dropped)
		return;
	madvise((uint8_t *)r->map + r->dropped, upto - r->dropped, MADV_DONTNEED);
	r->dropped = upto;
}

/* Read frames until a chunk with events is loaded or the file ends. */
static int next_chunk(struct ts_capr *r)
{
	struct frame f;
	int err;

	drop_read_pages(r);
	while (!r->done) {
		err = peek_frame(r, &f, TS_CAPR_DAMAGED);
		if (err < 0)
			return 0;
		if (err == 0) {
			fail(r, TS_CAPR_DAMAGED,
			     "no trailer: the file ends at byte offset %zu after its last complete "
			     "chunk (recording was interrupted)",
			     r->pos);
			return 0;
		}
		switch (f.type) {
		case TS_FR_CHNK:
			err = load_chunk(r, &f);
			if (err)
				return err < -1 ? err : 0;
			r->pos += TS_CAP_FRAME_HDR_LEN + f.stored;
			return 1;
		case TS_FR_TRLR:
			err = load_trailer(r, &f);
			return 0;
		case TS_FR_HEAD:
		case TS_FR_SNAP:
			fail(r, TS_CAPR_DAMAGED, "unexpected %s frame at byte offset %zu",
			     frame_name(f.type), r->pos);
			return 0;
		default:
			/* A frame type from a later minor version: skip it. */
			r->pos += TS_CAP_FRAME_HDR_LEN + f.stored;
			break;
		}
	}
	return 0;
}

static bool get_varint(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
	const uint8_t *p = *pp;
	uint64_t x = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		if (p == end)
			return false;
		x |= (uint64_t)(*p & 0x7f) << shift;
		if (!(*p++ & 0x80)) {
			*v = x;
			*pp = p;
			return true;
		}
	}
	return false;
}

static bool get_u32v(const uint8_t **pp, const uint8_t *end, __u32 *v)
{
	uint64_t x;

	if (!get_varint(pp, end, &x) || x > UINT32_MAX)
		return false;
	*v = (__u32)x;
	return true;
}

static bool decode_stats(const uint8_t **p, const uint8_t *end, struct ts_tcp_stats *st)
{
	uint64_t acked, received;

	if (!get_varint(p, end, &acked) || !get_varint(p, end, &received))
		return false;
	st->bytes_acked = acked;
	st->bytes_received = received;
	return get_u32v(p, end, &st->segs_out) && get_u32v(p, end, &st->segs_in) &&
	       get_u32v(p, end, &st->total_retrans) && get_u32v(p, end, &st->data_segs_out) &&
	       get_u32v(p, end, &st->srtt_us) && get_u32v(p, end, &st->err);
}

const char *ts_capr__intern_name(struct ts_capr *r, const uint8_t *p, size_t len)
{
	if (!ts_kname_ok((const char *)p, len))
		return NULL;
	for (size_t i = 0; i < r->nnames; i++)
		if (strlen(r->names[i]) == len && !memcmp(r->names[i], p, len))
			return r->names[i];
	if (r->nnames == TS_CAPR_MAX_NAMES)
		return NULL;
	r->names[r->nnames] = strndup((const char *)p, len);
	return r->names[r->nnames] ? r->names[r->nnames++] : NULL;
}

/*
 * Decode the next event of the current chunk; false when it is bad.
 * *skip is set for a record of a type this build does not know.
 */
static bool decode_event(struct ts_capr *r, struct ts_rec *out, bool *skip)
{
	const uint8_t *p = r->raw + r->rp, *end = r->raw + r->rawlen;
	uint64_t idx, delta, v;
	uint8_t type, flags, states;
	bool has_detail = false, known = true;

	if (end - p < 2)
		return false;
	type = p[0];
	flags = p[1];
	p += 2;
	if (type == TS_REC_LOST || (type == TS_REC_DROP_SUPPRESSED && r->h.version >= 3)) {
		if (!get_varint(&p, end, &delta) || !get_varint(&p, end, &v))
			return false;
		r->last_ts += (uint64_t)unzigzag(delta);
		ts_rec_lost(out, r->last_ts, v);
		out->type = type;
		goto done;
	}
	if (r->h.version >= 3) {
		has_detail = type & TS_CAP_EV_DETAIL;
		type &= (uint8_t)~TS_CAP_EV_DETAIL;
		/* A record type from a later tcpscope: the common fields
		 * are read (its time counts for the next delta), the
		 * record is skipped. */
		known = type >= TS_REC_STATE && type <= TS_REC_DROP;
		if (!known && (type == 0 || type == TS_REC_LOST))
			return false;
	} else if (type < TS_REC_STATE || type > TS_REC_RESET_RECV) {
		return false;
	}
	if (!get_varint(&p, end, &idx) || idx >= r->ndesc || !get_varint(&p, end, &delta) ||
	    p == end)
		return false;
	states = *p++;
	/* A drop's socket state is 0 when the kernel named no socket. */
	if (known && type == TS_REC_DROP ?
		    (states >> 4 != (states & 0xf) || ((states & 0xf) && !ts_state_valid(states & 0xf))) :
		    known && (!ts_state_valid(states >> 4) || !ts_state_valid(states & 0xf)))
		return false;
	if (type == TS_REC_DROP && !has_detail)
		return false;
	memcpy(out, &r->tmpl[idx], sizeof(*out));
	r->last_ts += (uint64_t)unzigzag(delta);
	out->type = type;
	out->flags = flags;
	out->ts_ns = r->last_ts;
	out->old_state = states >> 4;
	out->new_state = states & 0xf;
	if (!get_varint(&p, end, &out->ns_in_old))
		return false;
	if (flags & TS_F_STATS) {
		if ((known && type != TS_REC_STATE) || !decode_stats(&p, end, &out->st))
			return false;
		out->has_stats = true;
	}
	if (has_detail) {
		uint64_t dlen;

		if (!get_varint(&p, end, &dlen) || !dlen || dlen > TS_CAP_DETAIL_MAX ||
		    dlen > (uint64_t)(end - p) || ts_cap_details_get(p, (size_t)dlen, out, r))
			return false;
		p += dlen;
	}
	if (!known)
		*skip = true;
done:
	r->rp = (size_t)(p - r->raw);
	return true;
}

int ts_capr__next(struct ts_capr *r, struct ts_rec *out)
{
	bool skip;

	do {
		if (!r->left) {
			int err = next_chunk(r);

			if (err <= 0)
				return err;
		}
		skip = false;
		if (!decode_event(r, out, &skip)) {
			fail(r, TS_CAPR_DAMAGED,
			     "bad record %u in chunk frame at byte offset %zu", r->nev - r->left,
			     r->chunk_off);
			return 0;
		}
		if (--r->left == 0 && r->rp != r->rawlen) {
			fail(r, TS_CAPR_DAMAGED,
			     "%zu stray bytes at the end of chunk frame at byte offset %zu",
			     r->rawlen - r->rp, r->chunk_off);
			return 0;
		}
		r->events_read += out->type != TS_REC_LOST;
		r->skipped += skip;
	} while (skip);
	return 1;
}

uint64_t ts_capr__skipped(const struct ts_capr *r)
{
	return r->skipped;
}

static int read_preamble(struct ts_capr *r)
{
	struct frame f;
	const char *what;
	uint32_t version;
	int err;

	err = fill(r, TS_CAP_PREAMBLE_LEN);
	if (err) {
		fail(r, TS_CAPR_BAD, "cannot read: %s", strerror(-err));
		return -1;
	}
	if (r->len == 0) {
		fail(r, TS_CAPR_BAD, "empty file (0 bytes): not a tcpscope capture");
		return -1;
	}
	if (memcmp(r->buf, ts_cap_magic, r->len < 8 ? r->len : 8)) {
		fail(r, TS_CAPR_BAD, "not a tcpscope capture file (bad magic at byte offset 0)");
		return -1;
	}
	if (r->len < TS_CAP_PREAMBLE_LEN) {
		fail(r, TS_CAPR_BAD,
		     "truncated preamble: the file ends at byte offset %zu, a capture starts with "
		     "%d bytes",
		     r->len, TS_CAP_PREAMBLE_LEN);
		return -1;
	}
	version = get_u32(r->buf + 8);
	if (version == 0) {
		fail(r, TS_CAPR_BAD, "bad format version 0 at byte offset 8");
		return -1;
	}
	if (version > TS_CAP_VERSION) {
		fail(r, TS_CAPR_BAD,
		     "format version %u at byte offset 8 is newer than this tcpscope reads (%d): "
		     "use a newer tcpscope",
		     version, TS_CAP_VERSION);
		return -1;
	}
	r->h.version = version;
	r->pos = TS_CAP_PREAMBLE_LEN;
	err = peek_frame(r, &f, TS_CAPR_BAD);
	if (err < 0)
		return -1;
	if (err == 0 || f.type != TS_FR_HEAD) {
		fail(r, TS_CAPR_BAD, "no header frame at byte offset %zu", r->pos);
		return -1;
	}
	if (f.stored != f.raw || f.stored > TS_CAP_MAX_HEAD ||
	    ts_cap_head_get(f.payload, f.stored, &r->h, &what)) {
		fail(r, TS_CAPR_BAD, "%s at byte offset %zu",
		     f.stored != f.raw || f.stored > TS_CAP_MAX_HEAD ? "bad header length" : what,
		     r->pos);
		return -1;
	}
	r->pos += TS_CAP_FRAME_HDR_LEN + f.stored;
	/* Snapshot frames follow the header, before any chunk. */
	for (;;) {
		err = peek_frame(r, &f, TS_CAPR_DAMAGED);
		if (err <= 0 || f.type != TS_FR_SNAP)
			break;
		err = load_snapshot(r, &f);
		if (err)
			return err < -1 ? err : 0;
		r->pos += TS_CAP_FRAME_HDR_LEN + f.stored;
	}
	return 0;
}

static int capr_new(struct ts_capr **out)
{
	struct ts_capr *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->fd = -1;
	*out = r;
	return 0;
}

static int capr_start(struct ts_capr *r)
{
	int err = read_preamble(r);

	if (err < -1)
		return err;
	return r->status == TS_CAPR_BAD ? -EINVAL : 0;
}

int ts_capr__open_mem(const void *buf, size_t len, struct ts_capr **out)
{
	struct ts_capr *r;
	int err = capr_new(&r);

	if (err)
		return err;
	r->buf = buf ? buf : (const uint8_t *)"";
	r->len = buf ? len : 0;
	*out = r;
	return capr_start(r);
}

int ts_capr__open(const char *path, struct ts_capr **out)
{
	struct ts_capr *r = NULL;
	struct stat st;
	int fd, err;

	*out = NULL;
	/* "-": the capture comes on stdin ('record -w - | report -'). */
	fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) :
				  fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		goto cleanup;
	}
	if (S_ISDIR(st.st_mode)) {
		err = -EISDIR;
		goto cleanup;
	}
	err = capr_new(&r);
	if (err)
		goto cleanup;
	if (S_ISREG(st.st_mode) && st.st_size > 0) {
		void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);

		if (m == MAP_FAILED) {
			err = -errno;
			goto cleanup;
		}
		madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
		r->map = m;
		r->buf = m;
		r->len = (size_t)st.st_size;
	} else if (!S_ISREG(st.st_mode)) {
		/* Pipes and other streams: read as they come (see fill()). */
		r->fd = fd;
		fd = -1;
	}
	if (fd >= 0)
		close(fd);
	*out = r;
	return capr_start(r);
cleanup:
	if (fd >= 0)
		close(fd);
	ts_capr__close(r);
	return err;
}

const struct ts_cap_header *ts_capr__header(const struct ts_capr *r)
{
	return &r->h;
}

void ts_capr__snapshot(const struct ts_capr *r, const struct ts_sock **socks, size_t *n)
{
	*socks = r->socks;
	*n = r->nsocks;
}

enum ts_capr_status ts_capr__status(const struct ts_capr *r)
{
	return r->status;
}

const char *ts_capr__error(const struct ts_capr *r)
{
	return r->err;
}

bool ts_capr__is_stream(const struct ts_capr *r)
{
	return r->fd >= 0;
}

bool ts_capr__trailer(const struct ts_capr *r, struct ts_cap_trailer *t)
{
	if (r->has_trailer && t)
		*t = r->trailer;
	return r->has_trailer;
}

void ts_capr__close(struct ts_capr *r)
{
	if (!r)
		return;
	if (r->map)
		munmap(r->map, r->len);
	if (r->fd >= 0)
		close(r->fd);
	free(r->owned);
	ts_capz__free(r->codec);
	free(r->socks);
	free(r->raw);
	free(r->tmpl);
	for (size_t i = 0; i < r->npaths; i++)
		free(r->paths[i]);
	free(r->paths);
	for (size_t i = 0; i < r->nnames; i++)
		free(r->names[i]);
	free(r);
}
