// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <inttypes.h>
#include <math.h>
#include "jsonw.h"

void jw_quote(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

static void sep(struct jsonw *w)
{
	if (w->need_comma)
		fputc(',', w->f);
	w->need_comma = true;
}

void jw_begin(struct jsonw *w, FILE *f)
{
	w->f = f;
	w->need_comma = false;
	fputc('{', f);
}

void jw_end(struct jsonw *w)
{
	fputs("}\n", w->f);
	w->need_comma = false;
}

void jw_key(struct jsonw *w, const char *key)
{
	sep(w);
	if (key) {
		jw_quote(w->f, key);
		fputc(':', w->f);
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
	fprintf(w->f, "%" PRIu64, val);
}

void jw_i64(struct jsonw *w, const char *key, int64_t val)
{
	jw_key(w, key);
	fprintf(w->f, "%" PRId64, val);
}

void jw_double(struct jsonw *w, const char *key, double val, int prec)
{
	jw_key(w, key);
	if (isfinite(val))
		fprintf(w->f, "%.*f", prec, val);
	else
		fputs("null", w->f);
}

void jw_bool(struct jsonw *w, const char *key, bool val)
{
	jw_key(w, key);
	fputs(val ? "true" : "false", w->f);
}

void jw_null(struct jsonw *w, const char *key)
{
	jw_key(w, key);
	fputs("null", w->f);
}

void jw_array_begin(struct jsonw *w, const char *key)
{
	jw_key(w, key);
	fputc('[', w->f);
	w->need_comma = false;
}

void jw_array_end(struct jsonw *w)
{
	fputc(']', w->f);
	w->need_comma = true;
}

void jw_object_begin(struct jsonw *w, const char *key)
{
	jw_key(w, key);
	fputc('{', w->f);
	w->need_comma = false;
}

void jw_object_end(struct jsonw *w)
{
	fputc('}', w->f);
	w->need_comma = true;
}
