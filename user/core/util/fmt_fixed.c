// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <string.h>
#include "core/util/fmt.h"
#include "core/util/fmt_fixed.h"

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
 * exact and goes to even, 0.0005 is not and goes up): ask printf.
 */
size_t ts_put_ms3(char *p, uint64_t ns)
{
	uint64_t us = ns / 1000, rem = ns % 1000;

	if (rem == 500 || ns >= (1ULL << 53))
		return put_printf(p, "%.3f", ns / 1e6);
	us += rem > 500;
	return put_fixed(p, us / 1000, us % 1000, 3);
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

	if (!den || num > den)
		return put_printf(p, "%.2f", 100.0 * num / den);
	q = v / den;
	r = v % den;
	if (2 * r == den)
		return put_printf(p, "%.2f", 100.0 * num / den);
	q += 2 * r > den;
	return put_fixed(p, q / 100, q % 100, 2);
}
