// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fwrite_unlocked (a GNU extension): one writer per stream, no lock. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio_ext.h>
#include "core/util/fmt.h"
#include "core/util/fmt_fixed.h"
#include "core/util/tbuf.h"
#include "core/util/writeall.h"

/* len bytes of p to the stream, after what it holds. */
static void write_out(struct ts_tbuf *b, const char *p, size_t len)
{
	int fd = fileno(b->f);
	size_t done;

	/* A stream of its own (a memory stream), bytes waiting in it, or an
	 * error already: stdio keeps the order and the error. */
	if (fd < 0 || __fpending(b->f) || ferror(b->f) || b->err) {
		fwrite_unlocked(p, 1, len, b->f);
		return;
	}
	b->err = ts_write_all(fd, p, len, &done);
}

int ts_tbuf__error_of(const struct ts_tbuf *b)
{
	int e = b->err;

	if (!e && !ferror(b->f))
		return 0;
	if (!e)
		e = errno;
	return e == EPIPE ? -EPIPE : -EIO;
}

void ts_tbuf__flush(struct ts_tbuf *b)
{
	if (b->n)
		write_out(b, b->buf, b->n);
	b->n = 0;
}

void ts_tbuf__put_slow(struct ts_tbuf *b, const char *p, size_t len)
{
	ts_tbuf__flush(b);
	if (len > TS_TBUF_SIZE) {
		write_out(b, p, len);
		return;
	}
	memcpy(b->buf, p, len);
	b->n = len;
}

void ts_tbuf__pad(struct ts_tbuf *b, size_t n)
{
	while (n) {
		size_t k = n < 64 ? n : 64;

		memset(ts_tbuf__room(b, k), ' ', k);
		b->n += k;
		n -= k;
	}
}

void ts_tbuf__u64(struct ts_tbuf *b, uint64_t v)
{
	b->n += ts_put_u64(ts_tbuf__room(b, 20), v);
}

void ts_tbuf__ms(struct ts_tbuf *b, uint64_t ns)
{
	char *p = ts_tbuf__room(b, TS_FIXED_LEN + 2);
	size_t n = ts_put_ms3(p, ns);

	p[n++] = 'm';
	p[n++] = 's';
	b->n += n;
}
