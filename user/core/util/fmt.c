// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include "core/util/fmt.h"

const char ts_digit_pairs[200] = "0001020304050607080910111213141516171819"
				 "2021222324252627282930313233343536373839"
				 "4041424344454647484950515253545556575859"
				 "6061626364656667686970717273747576777879"
				 "8081828384858687888990919293949596979899";

/* How many decimal digits v has (1 to 20), without dividing. */
static size_t digits_of(uint64_t v)
{
	static const uint64_t pow10[20] = {
		1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL,
		10000000ULL, 100000000ULL, 1000000000ULL, 10000000000ULL,
		100000000000ULL, 1000000000000ULL, 10000000000000ULL,
		100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
		100000000000000000ULL, 1000000000000000000ULL,
		10000000000000000000ULL,
	};
	/* log10(2) ~ 1233 / 4096: the digits of 2^bits, one too few at most. */
	size_t bits = 64 - (size_t)__builtin_clzll(v | 1);
	size_t n = (bits * 1233) >> 12;

	if (v < 10)
		return 1;
	return n + (n < 20 && v >= pow10[n]);
}

size_t ts_put_u64(char *p, uint64_t v)
{
	size_t n = digits_of(v), i = n;

	/* From the last digit back, two per division. */
	while (v >= 100) {
		size_t d = (size_t)(v % 100) * 2;

		v /= 100;
		p[--i] = ts_digit_pairs[d + 1];
		p[--i] = ts_digit_pairs[d];
	}
	if (v >= 10) {
		p[--i] = ts_digit_pairs[v * 2 + 1];
		p[--i] = ts_digit_pairs[v * 2];
	} else {
		p[--i] = (char)('0' + v);
	}
	return n;
}

size_t ts_put_x64(char *p, uint64_t v)
{
	size_t n = (size_t)(64 - __builtin_clzll(v | 1) + 3) / 4;

	for (size_t i = n; i > 0; i--, v >>= 4)
		p[i - 1] = "0123456789abcdef"[v & 15];
	return n;
}

/* v < 10^9 as nine digits, in 32-bit arithmetic: a second's fraction in
 * ns, twice in every JSON record. */
static inline void put9(char *p, uint32_t v)
{
	uint32_t hi = v / 10000, lo = v % 10000;

	memcpy(p + 5, ts_digit_pairs + (lo / 100) * 2, 2);
	memcpy(p + 7, ts_digit_pairs + (lo % 100) * 2, 2);
	p[0] = (char)('0' + hi / 10000);
	hi %= 10000;
	memcpy(p + 1, ts_digit_pairs + (hi / 100) * 2, 2);
	memcpy(p + 3, ts_digit_pairs + (hi % 100) * 2, 2);
}

size_t ts_put_ns(char *p, uint64_t ns)
{
	static __thread struct {
		bool valid;
		uint64_t sec;
		size_t len;
		char text[20];
	} c;
	uint64_t sec = ns / 1000000000;

	/* sec's digits then nine of the remainder, zero-padded: ns's own. */
	if (!sec)
		return ts_put_u64(p, ns);
	if (!c.valid || c.sec != sec) {
		c.len = ts_put_u64(c.text, sec);
		c.sec = sec;
		c.valid = true;
	}
	/* All of text (p has room for 20): a copy of a known size is a few
	 * moves, not a call; the fraction goes over what is past the len. */
	memcpy(p, c.text, sizeof(c.text));
	put9(p + c.len, (uint32_t)(ns - sec * 1000000000));
	return c.len + 9;
}

void ts_put_u64_fixed(char *p, uint64_t v, size_t width)
{
	/* Two digits per division, from the last one back. */
	while (width >= 2) {
		size_t d = (size_t)(v % 100) * 2;

		v /= 100;
		p[--width] = ts_digit_pairs[d + 1];
		p[--width] = ts_digit_pairs[d];
	}
	if (width)
		p[0] = (char)('0' + v % 10);
}

/* Copy n bytes of s into buf as a string, truncated to fit like snprintf. */
static void copy_out(char *buf, size_t len, const char *s, size_t n)
{
	if (!len)
		return;
	if (n >= len)
		n = len - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
}

/* Lower-case hex digits of a 16-bit group, no leading zeros ("%x"). */
static size_t put_hex16(char *p, unsigned int v)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = v >= 0x1000 ? 4 : v >= 0x100 ? 3 : v >= 0x10 ? 2 : 1;

	for (size_t i = n; i-- > 0; v >>= 4)
		p[i] = hex[v & 15];
	return n;
}

/*
 * An IPv6 address as glibc's inet_ntop() writes it (RFC 5952 but for its
 * IPv4 forms), without its sprintf per group: the first longest run of
 * two or more zero groups as "::", "::ffff:a.b.c.d" for a v4-mapped and
 * "::a.b.c.d" for a v4-compatible address (a run of exactly six zero
 * groups at the start).
 */
static size_t put_ip6(char *p, const uint8_t *a)
{
	unsigned int g[8];
	int best = -1, best_len = 0, cur = -1, cur_len = 0;
	size_t n = 0;

	for (int i = 0; i < 8; i++) {
		g[i] = (unsigned int)a[2 * i] << 8 | a[2 * i + 1];
		if (!g[i]) {
			if (cur < 0)
				cur = i, cur_len = 0;
			if (++cur_len > best_len)
				best = cur, best_len = cur_len;
		} else {
			cur = -1;
		}
	}
	if (best_len < 2)
		best = -1;
	for (int i = 0; i < 8; i++) {
		if (best >= 0 && i >= best && i < best + best_len) {
			if (i == best)
				p[n++] = ':';
			continue;
		}
		if (i)
			p[n++] = ':';
		if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && g[5] == 0xffff))) {
			for (int k = 12; k < 16; k++) {
				if (k > 12)
					p[n++] = '.';
				n += ts_put_u64(p + n, a[k]);
			}
			return n;
		}
		n += put_hex16(p + n, g[i]);
	}
	if (best >= 0 && best + best_len == 8)
		p[n++] = ':';
	return n;
}

/* A byte's decimal digits (1 to 3). */
static inline size_t put_u8(char *p, unsigned int v)
{
	if (v < 10) {
		p[0] = (char)('0' + v);
		return 1;
	}
	if (v < 100) {
		memcpy(p, ts_digit_pairs + v * 2, 2);
		return 2;
	}
	p[0] = (char)('0' + v / 100);
	memcpy(p + 1, ts_digit_pairs + (v % 100) * 2, 2);
	return 3;
}

size_t ts_put_ip(char *p, int family, const uint8_t *addr)
{
	size_t n;

	/* inet_ntop formats IPv4 with sprintf; dotted decimal is simple. */
	if (family != 6) {
		n = put_u8(p, addr[0]);
		p[n++] = '.';
		n += put_u8(p + n, addr[1]);
		p[n++] = '.';
		n += put_u8(p + n, addr[2]);
		p[n++] = '.';
		return n + put_u8(p + n, addr[3]);
	}
	return put_ip6(p, addr);
}

size_t ts_put_endpoint(char *p, int family, const uint8_t *addr, uint16_t port,
		       const char *port_name)
{
	size_t n = 0;

	/* Called twice per event on the live path: no printf. */
	if (family == 6)
		p[n++] = '[';
	n += ts_put_ip(p + n, family, addr);
	if (family == 6)
		p[n++] = ']';
	p[n++] = ':';
	if (!port)
		p[n++] = '*';
	else if (port_name)
		n += (size_t)(stpcpy(p + n, port_name) - (p + n));
	else
		n += ts_put_u64(p + n, port);
	return n;
}

void ts_fmt_ip(char *buf, size_t len, int family, const uint8_t *addr)
{
	char out[INET6_ADDRSTRLEN];

	copy_out(buf, len, out, ts_put_ip(out, family, addr));
}

void ts_fmt_endpoint(char *buf, size_t len, int family, const uint8_t *addr,
		     uint16_t port)
{
	char out[TS_ENDPOINT_LEN(0)];

	copy_out(buf, len, out, ts_put_endpoint(out, family, addr, port, NULL));
}

/*
 * Breaking a time into fields (time zone rules included) costs more than
 * the rest of an event's formatting; events come many per second, so each
 * formatter keeps the fields of the last second it saw.
 */
struct sec_cache {
	time_t sec;
	bool valid;
	char text[32]; /* the second's text, up to the fraction */
	size_t len;
};

size_t ts_put_rfc3339(char *p, int64_t wall_ns)
{
	static __thread struct sec_cache c;
	time_t sec = (time_t)(wall_ns / 1000000000);
	long nsec = (long)(wall_ns % 1000000000);
	struct tm tm;

	if (nsec < 0) {
		nsec += 1000000000;
		sec--;
	}
	if (!c.valid || c.sec != sec) {
		if (!gmtime_r(&sec, &tm))
			memset(&tm, 0, sizeof(tm));
		c.len = (size_t)snprintf(c.text, sizeof(c.text),
					 "%04d-%02d-%02dT%02d:%02d:%02d.",
					 tm.tm_year + 1900, tm.tm_mon + 1,
					 tm.tm_mday, tm.tm_hour, tm.tm_min,
					 tm.tm_sec);
		if (c.len >= sizeof(c.text))
			c.len = sizeof(c.text) - 1;
		c.sec = sec;
		c.valid = true;
	}
	/* Within the second only the fraction changes.  All of text (p has
	 * room for TS_TIMESTR_LEN), the fraction over what is past len. */
	memcpy(p, c.text, sizeof(c.text));
	put9(p + c.len, (uint32_t)nsec);
	p[c.len + 9] = 'Z';
	return c.len + 10;
}

void ts_fmt_rfc3339(char *buf, size_t len, int64_t wall_ns)
{
	char out[48];

	copy_out(buf, len, out, ts_put_rfc3339(out, wall_ns));
}

size_t ts_put_clock(char *p, int64_t wall_ns)
{
	static __thread struct sec_cache c;
	time_t sec = (time_t)(wall_ns / 1000000000);
	long ms = (long)((wall_ns % 1000000000) / 1000000);
	struct tm tm;

	if (ms < 0) {
		ms += 1000;
		sec--;
	}
	if (!c.valid || c.sec != sec) {
		if (!localtime_r(&sec, &tm))
			memset(&tm, 0, sizeof(tm));
		c.len = (size_t)snprintf(c.text, sizeof(c.text), "%02d:%02d:%02d.",
					 tm.tm_hour, tm.tm_min, tm.tm_sec);
		if (c.len >= sizeof(c.text))
			c.len = sizeof(c.text) - 1;
		c.sec = sec;
		c.valid = true;
	}
	memcpy(p, c.text, c.len);
	ts_put_u64_fixed(p + c.len, (uint64_t)ms, 3);
	return c.len + 3;
}

void ts_fmt_clock(char *buf, size_t len, int64_t wall_ns)
{
	char out[48];

	copy_out(buf, len, out, ts_put_clock(out, wall_ns));
}

int64_t ts_wall_ns(uint64_t mono_ns, int64_t wall_offset_ns)
{
	int64_t r;

	if (mono_ns > INT64_MAX)
		mono_ns = INT64_MAX;
	if (__builtin_add_overflow((int64_t)mono_ns, wall_offset_ns, &r))
		return wall_offset_ns < 0 ? INT64_MIN : INT64_MAX;
	return r;
}

static int64_t ns_of(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t ts_mono_to_wall_offset(void)
{
	/* Bracket the realtime read to halve the error of the pair. */
	int64_t m1 = ns_of(CLOCK_MONOTONIC);
	int64_t r = ns_of(CLOCK_REALTIME);
	int64_t m2 = ns_of(CLOCK_MONOTONIC);

	return r - (m1 + (m2 - m1) / 2);
}

uint64_t ts_now_mono_ns(void)
{
	return (uint64_t)ns_of(CLOCK_MONOTONIC);
}
