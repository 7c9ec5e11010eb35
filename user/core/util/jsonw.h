/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A minimal writer of one-line JSON objects onto a stdio stream.  An
 * object is built in the writer's buffer and goes out with one fwrite at
 * ts_jsonw__end() (or whenever the buffer fills): a record is a few dozen
 * keys and values, and one stdio call for each was most of the JSON
 * sink's time.  Nothing else may write to the stream between
 * ts_jsonw__begin() and ts_jsonw__end().
 *
 * A writer kept across objects (ts_jsonw__init, ts_jsonw__line_begin,
 * ts_jsonw__line_end) writes only when its buffer fills or at
 * ts_jsonw__flush(): the records sink gives it a buffer of many objects,
 * so a batch of records costs a few large writes, not one per record.
 */
#ifndef TS_JSONW_H
#define TS_JSONW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define TS_JSONW_BUF 4096

struct ts_jsonw {
	FILE *f;
	bool need_comma;
	size_t n; /* bytes in buf not yet written to f */
	size_t cap; /* bytes of buf filled before it is written: its size,
		     * or less in direct mode (see ts_jsonw__direct) */
	char *buf; /* own, or the one given to ts_jsonw__init */
	unsigned int flushes; /* times buf went to f: see ts_jsonw__since */
	/* Direct mode (ts_jsonw__direct): */
	int fd; /* f's descriptor, written with write(2); -1: through f */
	int err; /* 0, or the first failed write's -EPIPE or -EIO */
	bool pos_known; /* pos is the descriptor's file offset */
	uint64_t pos;
	size_t size; /* buf's size */
	size_t align; /* writes end at multiples of it in the file */
	size_t target; /* bytes of buf up to the next multiple */
	char own[TS_JSONW_BUF];
};

void ts_jsonw__begin(struct ts_jsonw *w, FILE *f);		/* { */
void ts_jsonw__end(struct ts_jsonw *w);				/* }\n, and write */
/* A writer kept across objects, with buf (cap bytes, at least
 * TS_JSONW_BUF) as its buffer, or its own when buf is NULL. */
void ts_jsonw__init(struct ts_jsonw *w, FILE *f, char *buf, size_t cap);
void ts_jsonw__key(struct ts_jsonw *w, const char *key);		/* "key": */
void ts_jsonw__str(struct ts_jsonw *w, const char *key, const char *val);
void ts_jsonw__u64(struct ts_jsonw *w, const char *key, uint64_t val);
void ts_jsonw__i64(struct ts_jsonw *w, const char *key, int64_t val);
void ts_jsonw__double(struct ts_jsonw *w, const char *key, double val, int prec);
void ts_jsonw__bool(struct ts_jsonw *w, const char *key, bool val);
void ts_jsonw__null(struct ts_jsonw *w, const char *key);
void ts_jsonw__array_begin(struct ts_jsonw *w, const char *key);	/* "key":[ */
void ts_jsonw__array_end(struct ts_jsonw *w);			/* ] */
void ts_jsonw__object_begin(struct ts_jsonw *w, const char *key);	/* key may be NULL in arrays */
void ts_jsonw__object_end(struct ts_jsonw *w);

/*
 * Keys that are string literals of the program, with nothing in them to
 * escape (the keys of every record): the comma, the quotes and the colon
 * are one constant, copied as it is with its length known at compile time;
 * ts_jsonw__key() escapes the others (names read from files).  The value
 * follows with a NULL key:  TS_JSONW_KEY(w, "pid"); ts_jsonw__u64(w, NULL, pid);
 */
#define TS_JSONW_KEY(w, key) \
	ts_jsonw__lkey(w, ",\"" key "\":", sizeof(",\"" key "\":") - 1)
#define TS_JSONW_U64(w, key, val) \
	ts_jsonw__lkey_u64(w, ",\"" key "\":", sizeof(",\"" key "\":") - 1, val)
#define TS_JSONW_STR(w, key, val) (TS_JSONW_KEY(w, key), ts_jsonw__str(w, NULL, val))
#define TS_JSONW_BOOL(w, key, val) (TS_JSONW_KEY(w, key), ts_jsonw__bool(w, NULL, val))
#define TS_JSONW_NULL(w, key) (TS_JSONW_KEY(w, key), ts_jsonw__null(w, NULL))

void ts_jsonw__flush(struct ts_jsonw *w);	/* what the buffer holds, to the stream */
/* The buffer is full: what it holds to the stream, or in direct mode the
 * bytes up to the file's next aligned offset (the rest kept). */
void ts_jsonw__full(struct ts_jsonw *w);

/*
 * Direct mode, for a writer kept across objects with a buffer of at least
 * align + 2 * TS_JSONW_BUF bytes: the buffer goes to f's descriptor with
 * write(2) (after what f itself holds, so the order of the bytes is what
 * stdio would give), and where the descriptor has a file offset, a full
 * buffer is written up to the next multiple of align in the file.  A
 * regular file's page cache is then filled a folio of align bytes at a
 * time (ext4, xfs and tmpfs make large folios of aligned writes) instead
 * of 4 KiB pages or odd sizes, and glibc's split of a large fwrite into
 * two writes is gone.  Only where f's descriptor is open write-only
 * (`> file`, a pipe): a stream that is also read keeps stdio's view of its
 * offset.  False when the writer stays as it was.
 */
bool ts_jsonw__direct(struct ts_jsonw *w, size_t align);
/* Direct mode: f's own buffer out, and the offset read again (another
 * writer may have moved it); the next full buffer ends aligned. */
void ts_jsonw__resync(struct ts_jsonw *w);
/* 0, or the error of a write: the writer's own (direct mode) or f's. */
int ts_jsonw__error(const struct ts_jsonw *w);

/* ,"key": (ckey, len bytes, comma first) with the comma only after a value. */
static inline void ts_jsonw__lkey(struct ts_jsonw *w, const char *ckey, size_t len)
{
	if (len > w->cap - w->n) {
		ts_jsonw__full(w);
		if (len > w->cap - w->n)
			ts_jsonw__flush(w);
	}
	if (w->need_comma) {
		memcpy(w->buf + w->n, ckey, len);
		w->n += len;
	} else {
		memcpy(w->buf + w->n, ckey + 1, len - 1);
		w->n += len - 1;
	}
	/* The value's own separator: none. */
	w->need_comma = false;
}

/*
 * Room for k more bytes at the end of the buffer (k at most
 * TS_JSONW_BUF): the caller writes there and sets n past what it wrote.
 */
void ts_jsonw__make_room(struct ts_jsonw *w, size_t k);

static inline char *ts_jsonw__room(struct ts_jsonw *w, size_t k)
{
	if (k > w->cap - w->n)
		ts_jsonw__make_room(w, k);
	return w->buf + w->n;
}

/* Decimal digits of a number at o (room for 20); the end. */
char *ts_jsonw__digits(char *o, uint64_t v);

/* TS_JSONW_U64: the key and the number, with one look for room. */
static inline void ts_jsonw__lkey_u64(struct ts_jsonw *w, const char *ckey, size_t len,
				      uint64_t val)
{
	char *o = ts_jsonw__room(w, len + 20);

	if (w->need_comma) {
		memcpy(o, ckey, len);
		o += len;
	} else {
		memcpy(o, ckey + 1, len - 1);
		o += len - 1;
	}
	w->n = (size_t)(ts_jsonw__digits(o, val) - w->buf);
	w->need_comma = true;
}

/*
 * What the writer added since a mark, when it is all still in its buffer
 * (not flushed in between): lets a caller keep the text of part of an
 * object (core/sinks/json_conn.c) and put it back with ts_jsonw__raw().
 */
struct ts_jsonw_mark {
	size_t n;
	unsigned int flushes;
};

static inline struct ts_jsonw_mark ts_jsonw__mark(const struct ts_jsonw *w)
{
	return (struct ts_jsonw_mark){ .n = w->n, .flushes = w->flushes };
}

/* NULL when the buffer went out since m; else the text and its length. */
static inline const char *ts_jsonw__since(const struct ts_jsonw *w, struct ts_jsonw_mark m,
					  size_t *len)
{
	if (w->flushes != m.flushes || w->n < m.n)
		return NULL;
	*len = w->n - m.n;
	return w->buf + m.n;
}

/* len bytes of s as they are (any length). */
void ts_jsonw__put_slow(struct ts_jsonw *w, const char *s, size_t len);

static inline void ts_jsonw__put(struct ts_jsonw *w, const char *s, size_t len)
{
	if (len <= w->cap - w->n) {
		memcpy(w->buf + w->n, s, len);
		w->n += len;
		return;
	}
	ts_jsonw__put_slow(w, s, len);
}

/* JSON text made by this writer before (keys and values with their
 * commas), copied as it is; a value ends it, so a comma comes next. */
static inline void ts_jsonw__raw(struct ts_jsonw *w, const char *s, size_t len)
{
	ts_jsonw__put(w, s, len);
	w->need_comma = true;
}

/* A writer kept across objects: an object's "{" and its "}\n". */
static inline void ts_jsonw__line_begin(struct ts_jsonw *w)
{
	*ts_jsonw__room(w, 1) = '{';
	w->n++;
	w->need_comma = false;
}

static inline void ts_jsonw__line_end(struct ts_jsonw *w)
{
	char *o = ts_jsonw__room(w, 2);

	o[0] = '}';
	o[1] = '\n';
	w->n += 2;
	w->need_comma = false;
}

/* A string value known to need no escaping (an address, a time, hex
 * digits: the program made it): between quotes as it is. */
void ts_jsonw__plain(struct ts_jsonw *w, const char *key, const char *s, size_t len);

/* Write s as a JSON string literal, escaping as RFC 8259 requires. */
void ts_json_quote(FILE *f, const char *s);
/* "family", "saddr", "sport", "daddr", "dport", in that order: the
 * addresses of a connection or socket as every JSON output names them. */
void ts_json_tuple(struct ts_jsonw *w, unsigned int family, const uint8_t *saddr,
		   uint16_t sport, const uint8_t *daddr, uint16_t dport);
/* The same; where sport's digits start in the buffer (an index into
 * buf, good until the buffer is next written out). */
size_t ts_json_tuple_at(struct ts_jsonw *w, unsigned int family, const uint8_t *saddr,
			uint16_t sport, const uint8_t *daddr, uint16_t dport);

/* "<prefix>ts_ns" (CLOCK_MONOTONIC) and "<prefix>time" (RFC 3339 UTC):
 * every absolute time in the JSON output (docs/JSON.md). */
void ts_json_time(struct ts_jsonw *w, const char *prefix, uint64_t ts_ns, int64_t wall_offset_ns);
/* "pid" and "comm", both null when no process is known (pid 0). */
void ts_json_owner(struct ts_jsonw *w, uint32_t pid, const char *comm);
/* "conn" (integer) and "sk" (the same id in hex, as 'ss -e' prints it). */
void ts_json_conn_id(struct ts_jsonw *w, uint64_t conn);

#endif
