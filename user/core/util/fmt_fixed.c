// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "core/util/fmt.h"
#include "core/util/fmt_fixed.h"

const char ts_digit_pairs[200] = "0001020304050607080910111213141516171819"
				 "2021222324252627282930313233343536373839"
				 "4041424344454647484950515253545556575859"
				 "6061626364656667686970717273747576777879"
				 "8081828384858687888990919293949596979899";

/* frac < 1000 as three digits. */
static inline void put3(char *p, uint32_t frac)
{
	uint32_t h = frac / 100;

	p[0] = (char)('0' + h);
	memcpy(p + 1, ts_digit_pairs + 2 * (frac - 100 * h), 2);
}

/* whole "." frac, frac written as exactly 'decimals' digits. */
static size_t put_fixed(char *p, uint64_t whole, uint64_t frac, size_t decimals)
{
	size_t n = ts_put_u64(p, whole);

	p[n++] = '.';
	ts_put_u64_fixed(p + n, frac, decimals);
	return n + decimals;
}

/* What printf wrote, for the cases integers cannot decide alone. */
static size_t put_printf(char *p, const char *fmt, double v)
{
	char tmp[TS_FIXED_LEN * 2];
	int n = snprintf(tmp, sizeof(tmp), fmt, v);

	if (n < 0)
		n = 0;
	if ((size_t)n > TS_FIXED_LEN)
		n = TS_FIXED_LEN;
	memcpy(p, tmp, (size_t)n);
	return (size_t)n;
}

/*
 * printf rounds the double d nearest to x = ns / 10^6 (ns below 2^53
 * converts exactly, and the division is correctly rounded), so
 * |d - x| <= ulp(x) / 2 <= 2^-20 ms for x < 2^34 ms.  x itself is a whole
 * number of ns: unless it lies exactly on a rounding boundary (a remainder
 * of 500 ns), it is at least 1 ns = 10^-6 ms from one, and d rounds the
 * way x does.  On a boundary the double's own error decides (0.0625 is
 * exact and goes to even, 0.0005 is not and goes up): printf must say,
 * and ms3_split() returns false.  Otherwise *whole and *frac are the
 * rounded milliseconds and their thousandths.
 */
static inline bool ms3_split(uint64_t ns, uint64_t *whole, uint32_t *frac)
{
	uint64_t us = ns / 1000;
	uint32_t rem = (uint32_t)(ns - us * 1000);

	if (rem == 500 || ns >= (1ULL << 53))
		return false;
	us += rem > 500;
	*whole = us / 1000;
	*frac = (uint32_t)(us - *whole * 1000);
	return true;
}

size_t ts_put_ms3(char *p, uint64_t ns)
{
	uint64_t whole;
	uint32_t frac;
	size_t n;

	if (!ms3_split(ns, &whole, &frac))
		return put_printf(p, "%.3f", ns / 1e6);
	/* Most times are below 100 ms: their digits without a division. */
	if (whole < 10) {
		p[0] = (char)('0' + whole);
		n = 1;
	} else if (whole < 100) {
		memcpy(p, ts_digit_pairs + 2 * whole, 2);
		n = 2;
	} else {
		n = ts_put_u64(p, whole);
	}
	p[n] = '.';
	put3(p + n + 1, frac);
	return n + 4;
}

size_t ts_put_ms_field(char *p, char sign, uint64_t ns, size_t width)
{
	static const char spaces[TS_FIXED_LEN] = "                                ";
	char t[TS_FIXED_LEN + 3];
	uint64_t whole;
	uint32_t frac;
	size_t n, pad;

	if (width > TS_FIXED_LEN)
		width = TS_FIXED_LEN;
	if (ms3_split(ns, &whole, &frac) && whole < 10) {
		/* sign, a digit, '.', three digits, "ms": 8 bytes, after
		 * spaces written as one fixed block (the room allows it). */
		pad = width > 8 ? width - 8 : 0;
		memcpy(p, spaces, TS_FIXED_LEN);
		p += pad;
		p[0] = sign;
		p[1] = (char)('0' + whole);
		p[2] = '.';
		put3(p + 3, frac);
		p[6] = 'm';
		p[7] = 's';
		return pad + 8;
	}
	t[0] = sign;
	n = 1 + ts_put_ms3(t + 1, ns);
	t[n++] = 'm';
	t[n++] = 's';
	pad = width > n ? width - n : 0;
	memset(p, ' ', pad);
	memcpy(p + pad, t, n);
	return pad + n;
}

/*
 * x = 100 num / den; in hundredths q + r / den.  For num <= den, x <= 100
 * and the double is within 2^-47 of x, while an x off a boundary is at
 * least 1 / (200 den) >= 2^-40 from one: the integers decide, except on a
 * boundary (2r = den) and past 100 %, where printf does.
 */
size_t ts_put_pct2(char *p, uint32_t num, uint32_t den)
{
	uint64_t v = (uint64_t)num * 10000, q, r;

	/* No retransmission, the usual case: 0 / den is exactly 0. */
	if (!num && den) {
		memcpy(p, "0.00", 4);
		return 4;
	}
	if (!den || num > den)
		return put_printf(p, "%.2f", 100.0 * num / den);
	q = v / den;
	r = v % den;
	if (2 * r == den)
		return put_printf(p, "%.2f", 100.0 * num / den);
	q += 2 * r > den;
	return put_fixed(p, q / 100, q % 100, 2);
}
