// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A record is built in the writer's buffer and written with one
 * fwrite_unlocked (a GNU extension: the stream has one writer, no lock).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio_ext.h>
#include <string.h>
#include <unistd.h>
#include "core/util/escape.h"
#include "core/util/fmt.h"
#include "core/util/jsonw.h"
#include "core/util/writeall.h"

/*
 * Bytes that do not go out as they are inside a JSON string: NUL (the
 * end), controls, '"', '\\', DEL and bytes >= 0x80 (UTF-8 to check).  A
 * table: one load per byte in the loop that copies runs.
 */
static const bool stop_tab[256] = {
	[0x00 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1, [0x7f ... 0xff] = 1,
};

static inline bool plain(unsigned char c)
{
	return !stop_tab[c];
}

/* A constant of the program at o; the end. */
#define PUT_LIT(o, s) (memcpy(o, s, sizeof(s) - 1), (o) + sizeof(s) - 1)

/*
 * Direct mode: the bytes up to the next multiple of align in the file (at
 * least TS_JSONW_BUF: room()'s callers ask for less) are written when the
 * buffer is full; it is filled a little past them (SLACK, more than any
 * one request for room) so that a full buffer always holds them.
 */
#define SLACK 1024

static void set_cap(struct ts_jsonw *w)
{
	size_t r;

	if (!w->pos_known) {
		w->target = 0;
		w->cap = w->size;
		return;
	}
	r = w->align - (size_t)(w->pos % w->align);
	if (r < TS_JSONW_BUF)
		r += w->align;
	w->target = r;
	w->cap = r + SLACK < w->size ? r + SLACK : w->size;
}

void ts_jsonw__resync(struct ts_jsonw *w)
{
	off_t off;

	if (w->fd < 0)
		return;
	if (__fpending(w->f) && fflush(w->f) && !w->err)
		w->err = errno == EPIPE ? -EPIPE : -EIO;
	off = lseek(w->fd, 0, SEEK_CUR);
	w->pos_known = off >= 0;
	w->pos = off >= 0 ? (uint64_t)off : 0;
	set_cap(w);
}

/* All of s to the descriptor, after what f holds. */
static void write_all(struct ts_jsonw *w, const char *s, size_t len)
{
	size_t done;
	int e;

	if (__fpending(w->f))
		ts_jsonw__resync(w);
	if (w->err)
		return;
	e = ts_write_all(w->fd, s, len, &done);
	w->pos += (uint64_t)done;
	if (e)
		w->err = e == EPIPE ? -EPIPE : -EIO;
}

void ts_jsonw__flush(struct ts_jsonw *w)
{
	if (w->n && w->fd >= 0)
		write_all(w, w->buf, w->n);
	else if (w->n)
		fwrite_unlocked(w->buf, 1, w->n, w->f);
	w->n = 0;
	w->flushes++;
	if (w->fd >= 0)
		set_cap(w);
}

void ts_jsonw__full(struct ts_jsonw *w)
{
	size_t k = w->target;

	if (w->fd < 0 || !k || w->n <= k) {
		ts_jsonw__flush(w);
		return;
	}
	/* Up to the aligned offset; what follows starts the next buffer. */
	write_all(w, w->buf, k);
	memmove(w->buf, w->buf + k, w->n - k);
	w->n -= k;
	w->flushes++;
	set_cap(w);
}

bool ts_jsonw__direct(struct ts_jsonw *w, size_t align)
{
	int fd = fileno(w->f), fl;

	if (fd < 0 || !align || w->buf == w->own || w->cap < align + 2 * TS_JSONW_BUF || w->n)
		return false;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || (fl & O_ACCMODE) != O_WRONLY)
		return false;
	w->fd = fd;
	w->size = w->cap;
	w->align = align;
	w->pos_known = false;
	return true;
}

int ts_jsonw__error(const struct ts_jsonw *w)
{
	if (w->err)
		return w->err;
	if (!ferror(w->f))
		return 0;
	return errno == EPIPE ? -EPIPE : -EIO;
}

void ts_jsonw__make_room(struct ts_jsonw *w, size_t k)
{
	ts_jsonw__full(w);
	/* Direct mode keeps up to SLACK bytes: all out for more. */
	if (k > w->cap - w->n)
		ts_jsonw__flush(w);
}

/* Room for k more bytes (k much smaller than the buffer). */
static inline char *room(struct ts_jsonw *w, size_t k)
{
	return ts_jsonw__room(w, k);
}

char *ts_jsonw__digits(char *o, uint64_t v)
{
	return o + ts_put_u64(o, v);
}

static inline void put_c(struct ts_jsonw *w, char c)
{
	*room(w, 1) = c;
	w->n++;
}

void ts_jsonw__put_slow(struct ts_jsonw *w, const char *s, size_t len)
{
	if (len > w->cap - w->n) {
		ts_jsonw__full(w);
		if (len > w->cap - w->n)
			ts_jsonw__flush(w);
		if (len > w->cap) {
			if (w->fd >= 0)
				write_all(w, s, len);
			else
				fwrite_unlocked(s, 1, len, w->f);
			return;
		}
	}
	memcpy(w->buf + w->n, s, len);
	w->n += len;
}

static inline void put_n(struct ts_jsonw *w, const char *s, size_t len)
{
	ts_jsonw__put(w, s, len);
}

/* A string constant of the program: its length is known at compile time. */
#define put_lit(w, s) put_n(w, s, sizeof(s) - 1)

/*
 * Strings come from the kernel (process names) and from files: the output
 * must be valid UTF-8 whatever they hold.  Well-formed UTF-8 passes as it
 * is; every byte that is not part of a well-formed sequence is written as
 * \u00XX, i.e. read as Latin-1 (ts_utf8_seq decides what is well-formed).
 *
 * Plain bytes are copied as they are scanned, with no strlen first: the
 * strings are short (keys, addresses, names) and most are all plain.
 */
static void quote(struct ts_jsonw *w, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;

	put_c(w, '"');
	for (;;) {
		/* Room for a run, and for the longest escape (6 bytes) or
		 * UTF-8 sequence (4) after it. */
		char *o = room(w, 64), *lim = w->buf + w->cap - 6;
		size_t seq;

		while (o < lim && plain(*p))
			*o++ = (char)*p++;
		w->n = (size_t)(o - w->buf);
		if (plain(*p))
			continue; /* the buffer filled up */
		if (!*p)
			break;
		/* Reading at most 4 bytes stops at the NUL: it is never a
		 * continuation byte. */
		if (*p >= 0x80 && (seq = ts_utf8_seq(p, 4)) > 0) {
			memcpy(o, p, seq);
			w->n += seq;
			p += seq;
			continue;
		}
		*o++ = '\\';
		switch (*p) {
		case '"':
		case '\\':
			*o++ = (char)*p;
			break;
		case '\n':
			*o++ = 'n';
			break;
		case '\t':
			*o++ = 't';
			break;
		case '\r':
			*o++ = 'r';
			break;
		default:
			/* As "\\u%04x" prints a byte. */
			memcpy(o, "u00", 3);
			o[3] = hex[*p >> 4];
			o[4] = hex[*p & 0xf];
			o += 5;
		}
		w->n = (size_t)(o - w->buf);
		p++;
	}
	put_c(w, '"');
}

void ts_json_quote(FILE *f, const char *s)
{
	struct ts_jsonw w;

	ts_jsonw__init(&w, f, NULL, 0);
	quote(&w, s);
	ts_jsonw__flush(&w);
}

/* Decimal digits without printf: numbers are most of an event's fields. */
static void put_u64(struct ts_jsonw *w, uint64_t v, bool neg)
{
	char *o = room(w, 21);

	if (neg)
		*o++ = '-';
	o += ts_put_u64(o, v);
	w->n = (size_t)(o - w->buf);
}

static inline void sep(struct ts_jsonw *w)
{
	if (w->need_comma)
		put_c(w, ',');
	w->need_comma = true;
}

void ts_jsonw__init(struct ts_jsonw *w, FILE *f, char *buf, size_t cap)
{
	w->f = f;
	w->need_comma = false;
	w->n = 0;
	w->flushes = 0;
	w->fd = -1;
	w->err = 0;
	w->pos_known = false;
	w->pos = 0;
	w->align = 0;
	if (buf && cap >= sizeof(w->own)) {
		w->buf = buf;
		w->cap = cap;
	} else {
		w->buf = w->own;
		w->cap = sizeof(w->own);
	}
	w->size = w->cap;
}

void ts_jsonw__begin(struct ts_jsonw *w, FILE *f)
{
	ts_jsonw__init(w, f, NULL, 0);
	put_c(w, '{');
}

void ts_jsonw__end(struct ts_jsonw *w)
{
	ts_jsonw__line_end(w);
	ts_jsonw__flush(w);
}

void ts_jsonw__key(struct ts_jsonw *w, const char *key)
{
	sep(w);
	if (key) {
		quote(w, key);
		put_c(w, ':');
	}
}

void ts_jsonw__str(struct ts_jsonw *w, const char *key, const char *val)
{
	ts_jsonw__key(w, key);
	quote(w, val);
}

void ts_jsonw__plain(struct ts_jsonw *w, const char *key, const char *s, size_t len)
{
	char *o;

	ts_jsonw__key(w, key);
	if (len > w->cap - 2) {
		put_c(w, '"');
		put_n(w, s, len);
		put_c(w, '"');
		return;
	}
	o = room(w, len + 2);
	*o++ = '"';
	memcpy(o, s, len);
	o[len] = '"';
	w->n += len + 2;
}

void ts_jsonw__u64(struct ts_jsonw *w, const char *key, uint64_t val)
{
	ts_jsonw__key(w, key);
	put_u64(w, val, false);
}

void ts_jsonw__i64(struct ts_jsonw *w, const char *key, int64_t val)
{
	ts_jsonw__key(w, key);
	/* Negate in unsigned arithmetic: INT64_MIN has no positive twin. */
	put_u64(w, val < 0 ? -(uint64_t)val : (uint64_t)val, val < 0);
}

void ts_jsonw__double(struct ts_jsonw *w, const char *key, double val, int prec)
{
	char tmp[128];
	int k;

	ts_jsonw__key(w, key);
	if (!isfinite(val)) {
		put_lit(w, "null");
		return;
	}
	k = snprintf(tmp, sizeof(tmp), "%.*f", prec, val);
	if (k >= 0 && (size_t)k < sizeof(tmp)) {
		put_n(w, tmp, (size_t)k);
	} else {
		/* A huge number: straight to the stream, after what is
		 * buffered. */
		ts_jsonw__flush(w);
		fprintf(w->f, "%.*f", prec, val);
	}
}

void ts_jsonw__bool(struct ts_jsonw *w, const char *key, bool val)
{
	ts_jsonw__key(w, key);
	if (val)
		put_lit(w, "true");
	else
		put_lit(w, "false");
}

void ts_jsonw__null(struct ts_jsonw *w, const char *key)
{
	ts_jsonw__key(w, key);
	put_lit(w, "null");
}

void ts_jsonw__array_begin(struct ts_jsonw *w, const char *key)
{
	ts_jsonw__key(w, key);
	put_c(w, '[');
	w->need_comma = false;
}

void ts_jsonw__array_end(struct ts_jsonw *w)
{
	put_c(w, ']');
	w->need_comma = true;
}

void ts_jsonw__object_begin(struct ts_jsonw *w, const char *key)
{
	ts_jsonw__key(w, key);
	put_c(w, '{');
	w->need_comma = false;
}

void ts_jsonw__object_end(struct ts_jsonw *w)
{
	put_c(w, '}');
	w->need_comma = true;
}

void ts_json_tuple(struct ts_jsonw *w, unsigned int family, const uint8_t *saddr,
		   uint16_t sport, const uint8_t *daddr, uint16_t dport)
{
	ts_json_tuple_at(w, family, saddr, sport, daddr, dport);
}

size_t ts_json_tuple_at(struct ts_jsonw *w, unsigned int family, const uint8_t *saddr,
			uint16_t sport, const uint8_t *daddr, uint16_t dport)
{
	size_t at;
	/* The keys, two addresses as ts_fmt_ip() gives them (plain ASCII
	 * by making: no escaping), three numbers. */
	char *o = room(w, 128 + 2 * TS_ADDRSTR_LEN);

	if (w->need_comma)
		*o++ = ',';
	o = PUT_LIT(o, "\"family\":");
	o += ts_put_u64(o, family);
	o = PUT_LIT(o, ",\"saddr\":\"");
	o += ts_put_ip(o, (int)family, saddr);
	o = PUT_LIT(o, "\",\"sport\":");
	at = (size_t)(o - w->buf);
	o += ts_put_u64(o, sport);
	o = PUT_LIT(o, ",\"daddr\":\"");
	o += ts_put_ip(o, (int)family, daddr);
	o = PUT_LIT(o, "\",\"dport\":");
	o += ts_put_u64(o, dport);
	w->n = (size_t)(o - w->buf);
	w->need_comma = true;
	return at;
}

void ts_json_time(struct ts_jsonw *w, const char *prefix, uint64_t ts_ns, int64_t wall_offset_ns)
{
	char key[32], buf[TS_TIMESTR_LEN];
	size_t n = prefix[0] ? strlen(prefix) : 0;

	if (!n) {
		/* Every record's: constant keys, the time made in place,
		 * with one look for room (ts_put_ns may write 20 bytes,
		 * ts_put_rfc3339 TS_TIMESTR_LEN). */
		char *o = room(w, 32 + 20 + TS_TIMESTR_LEN);

		if (w->need_comma)
			*o++ = ',';
		o = PUT_LIT(o, "\"ts_ns\":");
		o += ts_put_ns(o, ts_ns);
		o = PUT_LIT(o, ",\"time\":\"");
		o += ts_put_rfc3339(o, ts_wall_ns(ts_ns, wall_offset_ns));
		*o++ = '"';
		w->n = (size_t)(o - w->buf);
		w->need_comma = true;
		return;
	}
	ts_fmt_rfc3339(buf, sizeof(buf), ts_wall_ns(ts_ns, wall_offset_ns));
	/* The keys without snprintf. */
	if (n > sizeof(key) - sizeof("ts_ns"))
		n = sizeof(key) - sizeof("ts_ns");
	memcpy(key, prefix, n);
	memcpy(key + n, "ts_ns", sizeof("ts_ns"));
	ts_jsonw__u64(w, key, ts_ns);
	memcpy(key + n, "time", sizeof("time"));
	ts_jsonw__str(w, key, buf);
}

void ts_json_owner(struct ts_jsonw *w, uint32_t pid, const char *comm)
{
	if (pid) {
		TS_JSONW_U64(w, "pid", pid);
		TS_JSONW_STR(w, "comm", comm);
	} else {
		TS_JSONW_NULL(w, "pid");
		TS_JSONW_NULL(w, "comm");
	}
}

void ts_json_conn_id(struct ts_jsonw *w, uint64_t conn)
{
	/* Made at the end of its first half, copied as 16 bytes. */
	char hex[32] = "", *p = hex + 16, *o;
	size_t len;

	/* As 'ss -e' prints the socket cookie ("sk:1a2b"), without "sk:";
	 * lower-case hex digits as "%llx" gives them, without printf. */
	for (uint64_t v = conn;; v >>= 4) {
		*--p = "0123456789abcdef"[v & 15];
		if (v < 16)
			break;
	}
	len = (size_t)(hex + 16 - p);
	o = room(w, 64);
	if (w->need_comma)
		*o++ = ',';
	o = PUT_LIT(o, "\"conn\":");
	o += ts_put_u64(o, conn);
	o = PUT_LIT(o, ",\"sk\":\"");
	memcpy(o, p, 16);
	o += len;
	*o++ = '"';
	w->n = (size_t)(o - w->buf);
	w->need_comma = true;
}
