/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Fixed-point decimals written with integer arithmetic, each exactly as
 * printf writes the double that the older code formatted (same digits,
 * same rounding).  Like ts_put_u64(): they append to a buffer, with no
 * NUL, and return how many bytes they wrote.  The timeline writes several
 * per step; "%.3f" cost more than all the rest of its work.
 */
#ifndef TS_FMT_FIXED_H
#define TS_FMT_FIXED_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "core/util/fmt.h"

/* Room any of the writers below may need. */
#define TS_FIXED_LEN 32

/* The writers below for any value; they write the same bytes. */
size_t ts_put_ms3_any(char *p, uint64_t ns);
size_t ts_put_ms_field_any(char *p, char sign, uint64_t ns, size_t width);

/*
 * printf rounds the double d nearest to x = ns / 10^6 (ns below 2^53
 * converts exactly, and the division is correctly rounded), so
 * |d - x| <= ulp(x) / 2 <= 2^-20 ms for x < 2^34 ms.  x itself is a whole
 * number of ns: unless it lies exactly on a rounding boundary (a remainder
 * of 500 ns), it is at least 1 ns = 10^-6 ms from one, and d rounds the
 * way x does.  On a boundary the double's own error decides (0.0625 is
 * exact and goes to even, 0.0005 is not and goes up): printf must say,
 * and ts_ms3_split() returns false.  Otherwise *whole and *frac are the
 * rounded milliseconds and their thousandths.
 */
static inline int ts_ms3_split(uint64_t ns, uint64_t *whole, uint32_t *frac)
{
	uint64_t us = ns / 1000;
	uint32_t rem = (uint32_t)(ns - us * 1000);

	if (rem == 500 || ns >= (1ULL << 53))
		return 0;
	us += rem > 500;
	*whole = us / 1000;
	*frac = (uint32_t)(us - *whole * 1000);
	return 1;
}

/* frac < 1000 as three digits. */
static inline void ts_put_frac3(char *p, uint32_t frac)
{
	uint32_t h = frac / 100;

	p[0] = (char)('0' + h);
	memcpy(p + 1, ts_digit_pairs + 2 * (frac - 100 * h), 2);
}

/*
 * printf("%.3f", ns / 1e6): milliseconds with three decimals.  Times
 * under 10 ms (most of a timeline's) are written here, the rest by
 * ts_put_ms3_any().
 */
static inline size_t ts_put_ms3(char *p, uint64_t ns)
{
	uint64_t whole;
	uint32_t frac;

	if (!ts_ms3_split(ns, &whole, &frac) || whole >= 10)
		return ts_put_ms3_any(p, ns);
	p[0] = (char)('0' + whole);
	p[1] = '.';
	ts_put_frac3(p + 2, frac);
	return 5;
}

/*
 * printf("%*s", width, t) of t = sign "%.3fms" (ns / 1e6): the step
 * times of the timeline, right-aligned; width <= TS_FIXED_LEN.  Room for
 * TS_FIXED_LEN + 3 bytes.  Under 10 ms (8 bytes) here, padded with one
 * fixed-size store of spaces; the rest by ts_put_ms_field_any().
 */
static inline size_t ts_put_ms_field(char *p, char sign, uint64_t ns, size_t width)
{
	static const char spaces[TS_FIXED_LEN] = "                                ";
	uint64_t whole;
	uint32_t frac;
	size_t pad;

	if (width > TS_FIXED_LEN || !ts_ms3_split(ns, &whole, &frac) || whole >= 10)
		return ts_put_ms_field_any(p, sign, ns, width);
	pad = width > 8 ? width - 8 : 0;
	memcpy(p, spaces, TS_FIXED_LEN);
	p += pad;
	p[0] = sign;
	p[1] = (char)('0' + whole);
	p[2] = '.';
	ts_put_frac3(p + 3, frac);
	p[6] = 'm';
	p[7] = 's';
	return pad + 8;
}
/* printf("%.2f", 100.0 * num / den), den > 0: a percentage. */
size_t ts_put_pct2(char *p, uint32_t num, uint32_t den);

/* v < 10000 as "%u" (1 to 4 digits). */
static inline size_t ts_put_u14(char *p, uint32_t v)
{
	uint32_t hi;

	if (v < 10) {
		p[0] = (char)('0' + v);
		return 1;
	}
	if (v < 100) {
		memcpy(p, ts_digit_pairs + 2 * v, 2);
		return 2;
	}
	hi = v / 100;
	v -= hi * 100;
	if (hi < 10) {
		p[0] = (char)('0' + hi);
		memcpy(p + 1, ts_digit_pairs + 2 * v, 2);
		return 3;
	}
	memcpy(p, ts_digit_pairs + 2 * hi, 2);
	memcpy(p + 2, ts_digit_pairs + 2 * v, 2);
	return 4;
}

/* "%u" of v, written inline below 10^8 (counters, ports, pids, most
 * connection ids) in two halves of four digits. */
static inline size_t ts_put_u32_small(char *p, uint32_t v)
{
	uint32_t hi;
	size_t n;

	if (v < 10000)
		return ts_put_u14(p, v);
	if (v >= 100000000)
		return ts_put_u64(p, v);
	hi = v / 10000;
	v -= hi * 10000;
	n = ts_put_u14(p, hi);
	memcpy(p + n, ts_digit_pairs + 2 * (v / 100), 2);
	memcpy(p + n + 2, ts_digit_pairs + 2 * (v % 100), 2);
	return n + 4;
}

/* "%" PRIu64 of v, inline below 10^8 as ts_put_u32_small(). */
static inline size_t ts_put_u64_small(char *p, uint64_t v)
{
	return v < 100000000 ? ts_put_u32_small(p, (uint32_t)v) : ts_put_u64(p, v);
}

#endif
