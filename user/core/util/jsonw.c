// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A record is a few dozen small writes to a stream that one thread owns:
 * the unlocked stdio calls skip taking the stream's lock for each of them
 * (fputs_unlocked and fwrite_unlocked are GNU extensions).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <inttypes.h>
#include <math.h>
#include "core/util/jsonw.h"

/* Does c need escaping inside a JSON string? */
static bool plain(unsigned char c)
{
	return c >= 0x20 && c != 0x7f && c != '"' && c != '\\';
}

void jw_quote(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	putc_unlocked('"', f);
	while (*p) {
		const unsigned char *run = p;

		/* Runs of plain bytes go out in one call. */
		while (*p && plain(*p))
			p++;
		if (p > run)
			fwrite_unlocked(run, 1, (size_t)(p - run), f);
		if (!*p)
			break;
		switch (*p) {
		case '"':
			fputs_unlocked("\\\"", f);
			break;
		case '\\':
			fputs_unlocked("\\\\", f);
			break;
		case '\n':
			fputs_unlocked("\\n", f);
			break;
		case '\t':
			fputs_unlocked("\\t", f);
			break;
		case '\r':
			fputs_unlocked("\\r", f);
			break;
		default:
			fprintf(f, "\\u%04x", *p);
		}
		p++;
	}
	putc_unlocked('"', f);
}

/* Decimal digits without printf: numbers are most of an event's fields. */
static void put_u64(FILE *f, uint64_t v, bool neg)
{
	char tmp[24];
	size_t n = sizeof(tmp);

	do
		tmp[--n] = (char)('0' + v % 10);
	while ((v /= 10));
	if (neg)
		tmp[--n] = '-';
	fwrite_unlocked(tmp + n, 1, sizeof(tmp) - n, f);
}

static void sep(struct jsonw *w)
{
	if (w->need_comma)
		putc_unlocked(',', w->f);
	w->need_comma = true;
}

void jw_begin(struct jsonw *w, FILE *f)
{
	w->f = f;
	w->need_comma = false;
	putc_unlocked('{', f);
}

void jw_end(struct jsonw *w)
{
	fputs_unlocked("}\n", w->f);
	w->need_comma = false;
}

void jw_key(struct jsonw *w, const char *key)
{
	sep(w);
	if (key) {
		jw_quote(w->f, key);
		putc_unlocked(':', w->f);
	}
}

void jw_str(struct jsonw *w, const char *key, const char *val)
{
	jw_key(w, key);
	jw_quote(w->f, val);
}

void jw_u64(struct jsonw *w, const char *key, uint64_t val)
{
	jw_key(w, key);
	put_u64(w->f, val, false);
}

void jw_i64(struct jsonw *w, const char *key, int64_t val)
{
	jw_key(w, key);
	/* Negate in unsigned arithmetic: INT64_MIN has no positive twin. */
	put_u64(w->f, val < 0 ? -(uint64_t)val : (uint64_t)val, val < 0);
}

void jw_double(struct jsonw *w, const char *key, double val, int prec)
{
	jw_key(w, key);
	if (isfinite(val))
		fprintf(w->f, "%.*f", prec, val);
	else
		fputs_unlocked("null", w->f);
}

void jw_bool(struct jsonw *w, const char *key, bool val)
{
	jw_key(w, key);
	fputs_unlocked(val ? "true" : "false", w->f);
}

void jw_null(struct jsonw *w, const char *key)
{
	jw_key(w, key);
	fputs_unlocked("null", w->f);
}

void jw_array_begin(struct jsonw *w, const char *key)
{
	jw_key(w, key);
	putc_unlocked('[', w->f);
	w->need_comma = false;
}

void jw_array_end(struct jsonw *w)
{
	putc_unlocked(']', w->f);
	w->need_comma = true;
}

void jw_object_begin(struct jsonw *w, const char *key)
{
	jw_key(w, key);
	putc_unlocked('{', w->f);
	w->need_comma = false;
}

void jw_object_end(struct jsonw *w)
{
	putc_unlocked('}', w->f);
	w->need_comma = true;
}
