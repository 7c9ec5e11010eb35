/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A block of text built in memory and written to its stream when the
 * buffer fills or when the owner flushes: for sinks that write several
 * lines per event, where printf's format parsing cost more than the rest
 * of their work.  Each writer says which printf conversion it stands for
 * and writes the same bytes.  Nothing is ever cut: a full buffer is
 * written out and filling goes on.
 *
 * When the stream holds nothing of its own, the block goes to its file
 * descriptor in one write(2): through stdio, a pipe's 4 KiB st_blksize cut
 * each block into 4 KiB writes, each waking the reader (the timeline's
 * 180 bytes an event made 16 000 writes per 360 000 events live).  A
 * failed write is kept in err (an errno), since the stream's error flag
 * cannot be set from outside; ts_tbuf__error() tells either.
 */
#ifndef TS_TBUF_H
#define TS_TBUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define TS_TBUF_SIZE 65536

struct ts_tbuf {
	FILE *f;
	size_t n;
	int err; /* errno of a failed write(2), 0 none */
	char buf[TS_TBUF_SIZE];
};

static inline void ts_tbuf__init(struct ts_tbuf *b, FILE *f)
{
	b->f = f;
	b->n = 0;
	b->err = 0;
}

int ts_tbuf__error_of(const struct ts_tbuf *b);

/* 0, or -EPIPE / -EIO when a write failed (the stream's or the block's).
 * Once per connection: no lock taken to look. */
static inline int ts_tbuf__error(const struct ts_tbuf *b)
{
	if (!b->err && !ferror_unlocked(b->f))
		return 0;
	return ts_tbuf__error_of(b);
}

/* Write what the buffer holds (errors show in ts_tbuf__error()). */
void ts_tbuf__flush(struct ts_tbuf *b);

/* Where at least 'need' (<= TS_TBUF_SIZE) bytes can be written; the
 * caller adds what it wrote to b->n. */
static inline char *ts_tbuf__room(struct ts_tbuf *b, size_t need)
{
	if (TS_TBUF_SIZE - b->n < need)
		ts_tbuf__flush(b);
	return b->buf + b->n;
}

void ts_tbuf__put_slow(struct ts_tbuf *b, const char *p, size_t len);

/* len bytes of p */
static inline void ts_tbuf__put(struct ts_tbuf *b, const char *p, size_t len)
{
	if (TS_TBUF_SIZE - b->n < len) {
		ts_tbuf__put_slow(b, p, len);
		return;
	}
	memcpy(b->buf + b->n, p, len);
	b->n += len;
}

/* A string literal, its length known when compiling. */
#define ts_tbuf__lit(b, lit) ts_tbuf__put(b, "" lit, sizeof(lit) - 1)

/* "%s" (a NULL string as glibc prints it, "(null)"); returns its length. */
static inline size_t ts_tbuf__puts(struct ts_tbuf *b, const char *s)
{
	size_t len;

	if (!s)
		s = "(null)";
	len = strlen(s);
	ts_tbuf__put(b, s, len);
	return len;
}

/* "%c" */
static inline void ts_tbuf__putc(struct ts_tbuf *b, char c)
{
	*ts_tbuf__room(b, 1) = c;
	b->n++;
}

/* n spaces */
void ts_tbuf__pad(struct ts_tbuf *b, size_t n);

/* "%-*s" */
static inline void ts_tbuf__left(struct ts_tbuf *b, const char *s, size_t width)
{
	size_t len = ts_tbuf__puts(b, s);

	if (len < width)
		ts_tbuf__pad(b, width - len);
}

/* "%*s" of the len bytes at s */
static inline void ts_tbuf__right(struct ts_tbuf *b, const char *s, size_t len, size_t width)
{
	if (len < width)
		ts_tbuf__pad(b, width - len);
	ts_tbuf__put(b, s, len);
}

/* "%" PRIu64 (and "%u") */
void ts_tbuf__u64(struct ts_tbuf *b, uint64_t v);
/* "%.3fms" of ns / 1e6 */
void ts_tbuf__ms(struct ts_tbuf *b, uint64_t ns);

#endif
