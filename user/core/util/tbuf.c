// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fwrite_unlocked (a GNU extension): one writer per stream, no lock. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "core/util/fmt.h"
#include "core/util/fmt_fixed.h"
#include "core/util/tbuf.h"

void ts_tbuf__flush(struct ts_tbuf *b)
{
	if (b->n)
		fwrite_unlocked(b->buf, 1, b->n, b->f);
	b->n = 0;
}

void ts_tbuf__put_slow(struct ts_tbuf *b, const char *p, size_t len)
{
	ts_tbuf__flush(b);
	if (len > TS_TBUF_SIZE) {
		fwrite_unlocked(p, 1, len, b->f);
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

void ts_tbuf__x64(struct ts_tbuf *b, uint64_t v)
{
	char *p = ts_tbuf__room(b, 16);
	int n = 1;

	while (n < 16 && v >> (4 * n))
		n++;
	for (int i = n - 1; i >= 0; i--, v >>= 4)
		p[i] = "0123456789abcdef"[v & 15];
	b->n += (size_t)n;
}

void ts_tbuf__ms(struct ts_tbuf *b, uint64_t ns)
{
	char *p = ts_tbuf__room(b, TS_FIXED_LEN + 2);
	size_t n = ts_put_ms3(p, ns);

	p[n++] = 'm';
	p[n++] = 's';
	b->n += n;
}
