/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A minimal writer of one-line JSON objects onto a stdio stream. */
#ifndef TS_JSONW_H
#define TS_JSONW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct jsonw {
	FILE *f;
	bool need_comma;
};

void jw_begin(struct jsonw *w, FILE *f);		/* { */
void jw_end(struct jsonw *w);				/* }\n */
void jw_key(struct jsonw *w, const char *key);		/* "key": */
void jw_str(struct jsonw *w, const char *key, const char *val);
void jw_u64(struct jsonw *w, const char *key, uint64_t val);
void jw_i64(struct jsonw *w, const char *key, int64_t val);
void jw_double(struct jsonw *w, const char *key, double val, int prec);
void jw_bool(struct jsonw *w, const char *key, bool val);
void jw_null(struct jsonw *w, const char *key);
void jw_array_begin(struct jsonw *w, const char *key);	/* "key":[ */
void jw_array_end(struct jsonw *w);			/* ] */
void jw_object_begin(struct jsonw *w, const char *key);	/* key may be NULL in arrays */
void jw_object_end(struct jsonw *w);
/* Write s as a JSON string literal, escaping as RFC 8259 requires. */
void jw_quote(FILE *f, const char *s);

#endif
