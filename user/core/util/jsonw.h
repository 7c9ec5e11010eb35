/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A minimal writer of one-line JSON objects onto a stdio stream. */
#ifndef TS_JSONW_H
#define TS_JSONW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct ts_jsonw {
	FILE *f;
	bool need_comma;
};

void ts_jsonw__begin(struct ts_jsonw *w, FILE *f);		/* { */
void ts_jsonw__end(struct ts_jsonw *w);				/* }\n */
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
/* Write s as a JSON string literal, escaping as RFC 8259 requires. */
void ts_json_quote(FILE *f, const char *s);
/* "family", "saddr", "sport", "daddr", "dport", in that order: the
 * addresses of a connection or socket as every JSON output names them. */
void ts_json_tuple(struct ts_jsonw *w, unsigned int family, const uint8_t *saddr,
		   uint16_t sport, const uint8_t *daddr, uint16_t dport);

/* "<prefix>ts_ns" (CLOCK_MONOTONIC) and "<prefix>time" (RFC 3339 UTC):
 * every absolute time in the JSON output (docs/JSON.md). */
void ts_json_time(struct ts_jsonw *w, const char *prefix, uint64_t ts_ns, int64_t wall_offset_ns);
/* "pid" and "comm", both null when no process is known (pid 0). */
void ts_json_owner(struct ts_jsonw *w, uint32_t pid, const char *comm);
/* "conn" (integer) and "sk" (the same id in hex, as 'ss -e' prints it). */
void ts_json_conn_id(struct ts_jsonw *w, uint64_t conn);

#endif
