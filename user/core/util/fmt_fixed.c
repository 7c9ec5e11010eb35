// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdbool.h>
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

/* The reasoning is at ts_ms3_split() (fmt_fixed.h). */
size_t ts_put_ms3_any(char *p, uint64_t ns)
{
	uint64_t whole;
	uint32_t frac;
	size_t n;

	if (!ts_ms3_split(ns, &whole, &frac))
		return put_printf(p, "%.3f", ns / 1e6);
	n = ts_put_u64_small(p, whole);
	p[n] = '.';
	ts_put_frac3(p + n + 1, frac);
	return n + 4;
}

size_t ts_put_ms_field_any(char *p, char sign, uint64_t ns, size_t width)
{
	char t[TS_FIXED_LEN + 3];
	size_t n, pad;

	if (width > TS_FIXED_LEN)
		width = TS_FIXED_LEN;
	t[0] = sign;
	n = 1 + ts_put_ms3_any(t + 1, ns);
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
