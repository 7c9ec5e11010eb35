// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for what a user types and what the kernel names: the
 * option parsers (core/util/parse.c, timearg.c), the one escaping of
 * untrusted strings (core/util/escape.c, the JSON writer) and the
 * kallsyms reader (core/stream/knames.c).
 *
 * Input: one selector byte, 16 bytes of clocks for --at, then the string.
 * Checks beyond "no crash, no UB": a parsed value is in its documented
 * range; escaped text holds no control byte, no C1 control and only
 * well-formed UTF-8; JSON strings are well-formed UTF-8 with no raw
 * control byte; every function kept from kallsyms text has a non-zero
 * address and a clean name, in (address, name) order, and is found at
 * its own address.
 */
#define _GNU_SOURCE
#include "core/stream/knames.h"
#include "core/util/escape.h"
#include "core/util/jsonw.h"
#include "core/util/parse.h"
#include "core/util/timearg.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_IN 4096

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Well-formed UTF-8 with no C0/C1 control (tab/newline too) and no DEL. */
static void check_terminal_safe(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	while (n) {
		size_t k = ts_utf8_seq(p, n);

		if (!k || *p < 0x20 || *p == 0x7f || (k == 2 && p[0] == 0xc2 && p[1] < 0xa0))
			abort();
		p += k;
		n -= k;
	}
}

/* A JSON string literal: quotes, no raw control byte, well-formed UTF-8. */
static void check_json_string(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	if (n < 2 || s[0] != '"' || s[n - 1] != '"')
		abort();
	while (n) {
		size_t k = ts_utf8_seq(p, n);

		if (!k || *p < 0x20)
			abort();
		p += k;
		n -= k;
	}
}

static void fuzz_escape(const char *s)
{
	static char buf[TS_ESC_LEN(MAX_IN)];
	static char small[7];
	char *json = NULL;
	size_t jlen = 0;
	FILE *f;

	ts_escape(buf, sizeof(buf), s);
	check_terminal_safe(buf, strlen(buf));
	/* A short buffer cuts between sequences, never inside one. */
	ts_escape(small, sizeof(small), s);
	check_terminal_safe(small, strlen(small));
	if (strlen(buf) < strlen(s))
		abort(); /* nothing is dropped */
	f = open_memstream(&json, &jlen);
	if (!f)
		abort();
	ts_json_quote(f, s);
	fclose(f);
	check_json_string(json, jlen);
	free(json);
}

static void fuzz_kallsyms(const char *s)
{
	struct ts_knames *k = NULL;
	FILE *f = s[0] ? fmemopen((void *)s, strlen(s), "r") : NULL;
	uint64_t prev = 0, addr;
	const char *pname = NULL;
	int n;

	if (!f)
		return;
	if (ts_knames__new(&k)) {
		fclose(f);
		return;
	}
	n = ts_knames__read_kallsyms(k, f);
	fclose(f);
	if (n < 0 || (size_t)n != ts_knames__sym_count(k))
		abort();
	for (int i = 0; i < n; i++) {
		const char *name = ts_knames__sym_nth(k, (size_t)i, &addr), *at;
		uint32_t off;

		if (!name || !addr || !ts_kname_ok(name, strlen(name)))
			abort();
		if (pname && (addr < prev || (addr == prev && strcmp(pname, name) > 0)))
			abort();
		/* At its address: it, or an alias before it in name order. */
		at = ts_knames__sym(k, addr, &off);
		if (!at || off || strcmp(at, name) > 0)
			abort();
		prev = addr;
		pname = name;
	}
	ts_knames__free(k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char s[MAX_IN + 1];
	uint64_t v, start;
	int64_t offset;
	uint16_t port;
	uint8_t sel;

	if (size < 17 || size - 17 > MAX_IN)
		return 0;
	sel = data[0];
	start = get64(data + 1);
	offset = (int64_t)get64(data + 9);
	memcpy(s, data + 17, size - 17);
	s[size - 17] = '\0';

	switch (sel % 7) {
	case 0:
		if (!ts_parse_u64(s, 1, 65535, &v) && (v < 1 || v > 65535))
			abort();
		break;
	case 1:
		if (!ts_parse_port(s, &port) && port == 0)
			abort();
		break;
	case 2:
		ts_parse_size(s, &v);
		break;
	case 3:
		ts_parse_duration(s, &v);
		break;
	case 4:
		if (!ts_parse_at(s, start, offset, &v) && s[0] == '+' && v < start)
			abort(); /* an offset from the start cannot go back */
		break;
	case 5:
		fuzz_escape(s);
		break;
	default:
		fuzz_kallsyms(s);
		break;
	}
	return 0;
}
