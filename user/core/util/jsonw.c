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
#include <string.h>
#include "core/util/escape.h"
#include "core/util/fmt.h"
#include "core/util/jsonw.h"

/* Does c need escaping inside a JSON string? (ASCII only) */
static bool plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

/*
 * Strings come from the kernel (process names) and from files: the output
 * must be valid UTF-8 whatever they hold.  Well-formed UTF-8 passes as it
 * is; every byte that is not part of a well-formed sequence is written as
 * \u00XX, i.e. read as Latin-1 (ts_utf8_seq decides what is well-formed).
 */
void ts_json_quote(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	putc_unlocked('"', f);
	while (n) {
		const unsigned char *run = p;
		size_t seq;

		/* Runs of plain bytes go out in one call. */
		for (;;) {
			if (n && plain(*p)) {
				seq = 1;
			} else if (n && *p >= 0x80 && (seq = ts_utf8_seq(p, n)) > 0) {
				/* well-formed multi-byte sequence */
			} else {
				break;
			}
			p += seq;
			n -= seq;
		}
		if (p > run)
			fwrite_unlocked(run, 1, (size_t)(p - run), f);
		if (!n)
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
		n--;
	}
	putc_unlocked('"', f);
}

/* Decimal digits without printf: numbers are most of an event's fields. */
static void put_u64(FILE *f, uint64_t v, bool neg)
{
	char tmp[24];
	size_t n = 0;

	if (neg)
		tmp[n++] = '-';
	n += ts_put_u64(tmp + n, v);
	fwrite_unlocked(tmp, 1, n, f);
}

static void sep(struct ts_jsonw *w)
{
	if (w->need_comma)
		putc_unlocked(',', w->f);
	w->need_comma = true;
}

void ts_jsonw__begin(struct ts_jsonw *w, FILE *f)
{
	w->f = f;
	w->need_comma = false;
	putc_unlocked('{', f);
}

void ts_jsonw__end(struct ts_jsonw *w)
{
	fputs_unlocked("}\n", w->f);
	w->need_comma = false;
}

void ts_jsonw__key(struct ts_jsonw *w, const char *key)
{
	sep(w);
	if (key) {
		ts_json_quote(w->f, key);
		putc_unlocked(':', w->f);
	}
}

void ts_jsonw__str(struct ts_jsonw *w, const char *key, const char *val)
{
	ts_jsonw__key(w, key);
	ts_json_quote(w->f, val);
}

void ts_jsonw__u64(struct ts_jsonw *w, const char *key, uint64_t val)
{
	ts_jsonw__key(w, key);
	put_u64(w->f, val, false);
}

void ts_jsonw__i64(struct ts_jsonw *w, const char *key, int64_t val)
{
	ts_jsonw__key(w, key);
	/* Negate in unsigned arithmetic: INT64_MIN has no positive twin. */
	put_u64(w->f, val < 0 ? -(uint64_t)val : (uint64_t)val, val < 0);
}

void ts_jsonw__double(struct ts_jsonw *w, const char *key, double val, int prec)
{
	ts_jsonw__key(w, key);
	if (isfinite(val))
		fprintf(w->f, "%.*f", prec, val);
	else
		fputs_unlocked("null", w->f);
}

void ts_jsonw__bool(struct ts_jsonw *w, const char *key, bool val)
{
	ts_jsonw__key(w, key);
	fputs_unlocked(val ? "true" : "false", w->f);
}

void ts_jsonw__null(struct ts_jsonw *w, const char *key)
{
	ts_jsonw__key(w, key);
	fputs_unlocked("null", w->f);
}

void ts_jsonw__array_begin(struct ts_jsonw *w, const char *key)
{
	ts_jsonw__key(w, key);
	putc_unlocked('[', w->f);
	w->need_comma = false;
}

void ts_jsonw__array_end(struct ts_jsonw *w)
{
	putc_unlocked(']', w->f);
	w->need_comma = true;
}

void ts_jsonw__object_begin(struct ts_jsonw *w, const char *key)
{
	ts_jsonw__key(w, key);
	putc_unlocked('{', w->f);
	w->need_comma = false;
}

void ts_jsonw__object_end(struct ts_jsonw *w)
{
	putc_unlocked('}', w->f);
	w->need_comma = true;
}

void ts_json_tuple(struct ts_jsonw *w, unsigned int family, const uint8_t *saddr,
		   uint16_t sport, const uint8_t *daddr, uint16_t dport)
{
	char buf[TS_ADDRSTR_LEN];

	ts_jsonw__u64(w, "family", family);
	ts_fmt_ip(buf, sizeof(buf), (int)family, saddr);
	ts_jsonw__str(w, "saddr", buf);
	ts_jsonw__u64(w, "sport", sport);
	ts_fmt_ip(buf, sizeof(buf), (int)family, daddr);
	ts_jsonw__str(w, "daddr", buf);
	ts_jsonw__u64(w, "dport", dport);
}

void ts_json_time(struct ts_jsonw *w, const char *prefix, uint64_t ts_ns, int64_t wall_offset_ns)
{
	char key[32], buf[TS_TIMESTR_LEN];
	size_t n = strlen(prefix);

	/* The keys without snprintf: every record has them. */
	if (n > sizeof(key) - sizeof("ts_ns"))
		n = sizeof(key) - sizeof("ts_ns");
	memcpy(key, prefix, n);
	memcpy(key + n, "ts_ns", sizeof("ts_ns"));
	ts_jsonw__u64(w, key, ts_ns);
	memcpy(key + n, "time", sizeof("time"));
	ts_fmt_rfc3339(buf, sizeof(buf), ts_wall_ns(ts_ns, wall_offset_ns));
	ts_jsonw__str(w, key, buf);
}

void ts_json_owner(struct ts_jsonw *w, uint32_t pid, const char *comm)
{
	if (pid) {
		ts_jsonw__u64(w, "pid", pid);
		ts_jsonw__str(w, "comm", comm);
	} else {
		ts_jsonw__null(w, "pid");
		ts_jsonw__null(w, "comm");
	}
}

void ts_json_conn_id(struct ts_jsonw *w, uint64_t conn)
{
	char hex[24], *p = hex + sizeof(hex) - 1;

	ts_jsonw__u64(w, "conn", conn);
	/* As 'ss -e' prints the socket cookie ("sk:1a2b"), without "sk:";
	 * lower-case hex digits as "%llx" gives them, without printf. */
	*p = '\0';
	do {
		*--p = "0123456789abcdef"[conn & 15];
		conn >>= 4;
	} while (conn);
	ts_jsonw__str(w, "sk", p);
}
