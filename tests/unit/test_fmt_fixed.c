// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ts_put_ms3 / ts_put_pct2: the digits printf writes for "%.3f" of
 * ns / 1e6 and "%.2f" of 100.0 * num / den, rounding included: known
 * values (halves exact in binary go to even, halves that are not go the
 * way the double lies; carries; hours; the largest values), then the
 * writers against snprintf over whole ranges and random values of every
 * magnitude; ts_put_ms_field's right-aligned field against "%*s", and
 * ts_put_u32_small and ts_put_u64_small against "%u" and "%" PRIu64.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "check.h"
#include "core/util/fmt_fixed.h"

static const char *ms3(uint64_t ns)
{
	static char buf[TS_FIXED_LEN + 1];

	memset(buf, 'x', sizeof(buf));
	buf[ts_put_ms3(buf, ns)] = '\0';
	return buf;
}

static const char *pct2(uint32_t num, uint32_t den)
{
	static char buf[TS_FIXED_LEN + 1];

	memset(buf, 'x', sizeof(buf));
	buf[ts_put_pct2(buf, num, den)] = '\0';
	return buf;
}

static void test_ms3_values(void)
{
	CHECK_STR(ms3(0), "0.000");
	CHECK_STR(ms3(1), "0.000");
	CHECK_STR(ms3(499), "0.000");
	CHECK_STR(ms3(500), "0.001");	 /* 0.0005 is a little above in binary */
	CHECK_STR(ms3(501), "0.001");
	CHECK_STR(ms3(1500), "0.002");
	CHECK_STR(ms3(2500), "0.003");
	CHECK_STR(ms3(62500), "0.062");	 /* 0.0625 is exact: to even */
	CHECK_STR(ms3(187500), "0.188"); /* 0.1875 is exact: to even */
	CHECK_STR(ms3(999499), "0.999");
	CHECK_STR(ms3(999500), "1.000"); /* a carry into the whole part */
	CHECK_STR(ms3(999501), "1.000");
	CHECK_STR(ms3(9999999), "10.000");
	CHECK_STR(ms3(1000000), "1.000");
	CHECK_STR(ms3(1234567), "1.235");
	CHECK_STR(ms3(3600000000000ULL), "3600000.000"); /* an hour */
	CHECK_STR(ms3(3600000000499ULL), "3600000.000");
	CHECK_STR(ms3(3600000000501ULL), "3600000.001");
	CHECK_STR(ms3(31536000000000000ULL), "31536000000.000"); /* a year */
	CHECK_STR(ms3((1ULL << 53) - 1), "9007199254.741");
	CHECK_STR(ms3(1ULL << 53), "9007199254.741");
	CHECK_STR(ms3(UINT64_MAX), "18446744073709.551");
}

static void test_pct2_values(void)
{
	CHECK_STR(pct2(0, 1), "0.00");
	CHECK_STR(pct2(1, 1), "100.00");
	CHECK_STR(pct2(1, 3), "33.33");
	CHECK_STR(pct2(2, 3), "66.67");
	CHECK_STR(pct2(1, 8), "12.50");
	CHECK_STR(pct2(1, 32), "3.12");	  /* 3.125 is exact: to even */
	CHECK_STR(pct2(1, 160), "0.62");  /* 0.625 is exact: to even */
	CHECK_STR(pct2(1, 40000), "0.00"); /* 0.0025 is a little below */
	CHECK_STR(pct2(3, 40000), "0.01");
	CHECK_STR(pct2(1, 200), "0.50");
	CHECK_STR(pct2(5, 4), "125.00");
	CHECK_STR(pct2(1, UINT32_MAX), "0.00");
	CHECK_STR(pct2(UINT32_MAX - 1, UINT32_MAX), "100.00");
	CHECK_STR(pct2(UINT32_MAX, UINT32_MAX), "100.00");
	CHECK_STR(pct2(UINT32_MAX, 1), "429496729500.00");
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int ms3_differs(uint64_t ns)
{
	char want[64];

	snprintf(want, sizeof(want), "%.3f", ns / 1e6);
	if (!strcmp(ms3(ns), want))
		return 0;
	fprintf(stderr, "ts_put_ms3(%" PRIu64 ") = %s, printf %s\n", ns, ms3(ns), want);
	return 1;
}

static int pct2_differs(uint32_t num, uint32_t den)
{
	char want[64];

	snprintf(want, sizeof(want), "%.2f", 100.0 * num / den);
	if (!strcmp(pct2(num, den), want))
		return 0;
	fprintf(stderr, "ts_put_pct2(%u, %u) = %s, printf %s\n", num, den, pct2(num, den), want);
	return 1;
}

/* Stop at the first few differences: one line each is enough. */
#define SWEEP(bad, expr)                 \
	do {                             \
		if ((bad) < 5 && (expr)) \
			(bad)++;         \
	} while (0)

static void test_ms3_sweep(void)
{
	int bad = 0;

	for (uint64_t ns = 0; ns < 1000000; ns++)
		SWEEP(bad, ms3_differs(ns));
	/* Every magnitude; near and on the halves, and around 2^53. */
	for (int bits = 1; bits <= 64; bits++) {
		for (int i = 0; i < 4000; i++) {
			uint64_t ns = bits == 64 ? next() : next() & ((1ULL << bits) - 1);

			SWEEP(bad, ms3_differs(ns));
			SWEEP(bad, ms3_differs(ns - ns % 1000 + 500));
			SWEEP(bad, ms3_differs(ns - ns % 1000 + 499));
			SWEEP(bad, ms3_differs(ns - ns % 1000 + 501));
		}
	}
	for (uint64_t d = 0; d < 20000; d++) {
		SWEEP(bad, ms3_differs((1ULL << 53) - d));
		SWEEP(bad, ms3_differs((1ULL << 53) + d));
		SWEEP(bad, ms3_differs(UINT64_MAX - d));
	}
	CHECK_INT(bad, 0);
}

/* ts_put_ms_field against snprintf("%*s") of sign "%.3fms". */
static int field_differs(char sign, uint64_t ns, int width)
{
	char t[64], want[96], got[TS_FIXED_LEN + 4];
	size_t n;

	snprintf(t, sizeof(t), "%c%.3fms", sign, ns / 1e6);
	snprintf(want, sizeof(want), "%*s", width, t);
	memset(got, 'x', sizeof(got));
	n = ts_put_ms_field(got, sign, ns, (size_t)width);
	got[n] = '\0';
	if (!strcmp(got, want))
		return 0;
	fprintf(stderr, "ts_put_ms_field('%c', %" PRIu64 ", %d) = '%s', printf '%s'\n", sign, ns,
		width, got, want);
	return 1;
}

static void test_ms_field(void)
{
	static const int widths[] = { 0, 8, 9, 10, 12, 16, 32 };
	int bad = 0;

	for (uint64_t ns = 0; ns < 300000; ns += 7)
		SWEEP(bad, field_differs('+', ns, 12));
	for (int bits = 1; bits <= 64; bits++) {
		for (int i = 0; i < 2000; i++) {
			uint64_t ns = bits == 64 ? next() : next() & ((1ULL << bits) - 1);
			int w = widths[next() % (sizeof(widths) / sizeof(widths[0]))];

			SWEEP(bad, field_differs(i & 1 ? '-' : '+', ns, w));
			SWEEP(bad, field_differs('+', ns - ns % 1000 + 500, w));
			SWEEP(bad, field_differs('+', ns - ns % 1000 + 499, w));
		}
	}
	/* 9.9995 ms rounds up to 10.000: a digit more, one column less. */
	SWEEP(bad, field_differs('+', 9999500, 12));
	SWEEP(bad, field_differs('+', 9999501, 12));
	SWEEP(bad, field_differs('+', 9999499, 12));
	CHECK_INT(bad, 0);
}

static void test_u32_small(void)
{
	int bad = 0;

	for (uint64_t v = 0; v <= UINT32_MAX; v = v < 200000 ? v + 1 : v * 3 + 1) {
		char want[16], got[24];

		snprintf(want, sizeof(want), "%u", (unsigned int)v);
		got[ts_put_u32_small(got, (uint32_t)v)] = '\0';
		SWEEP(bad, strcmp(got, want) != 0);
	}
	/* Around each power of ten, and random values of every size. */
	for (uint64_t p10 = 1; p10 <= 10000000000000000000ULL; p10 *= 10) {
		for (uint64_t d = 0; d < 3; d++) {
			uint64_t vs[2] = { p10 - 1 + d, p10 * 5 + d };

			for (int i = 0; i < 2; i++) {
				char want[32], got[32];

				snprintf(want, sizeof(want), "%" PRIu64, vs[i]);
				got[ts_put_u64_small(got, vs[i])] = '\0';
				SWEEP(bad, strcmp(got, want) != 0);
			}
		}
		if (p10 > UINT64_MAX / 10)
			break;
	}
	for (int i = 0; i < 200000; i++) {
		uint64_t v = next() >> (next() % 64);
		char want[32], got[32];

		snprintf(want, sizeof(want), "%" PRIu64, v);
		got[ts_put_u64_small(got, v)] = '\0';
		SWEEP(bad, strcmp(got, want) != 0);
		if (v <= UINT32_MAX) {
			got[ts_put_u32_small(got, (uint32_t)v)] = '\0';
			SWEEP(bad, strcmp(got, want) != 0);
		}
	}
	CHECK_INT(bad, 0);
}

static void test_pct2_sweep(void)
{
	int bad = 0;

	for (uint32_t den = 1; den <= 1200; den++)
		for (uint32_t num = 0; num <= den + 20; num++)
			SWEEP(bad, pct2_differs(num, den));
	for (int i = 0; i < 300000; i++) {
		uint32_t den = (uint32_t)next() >> (next() % 32), num;

		if (!den)
			den = 1;
		num = (uint32_t)(next() % ((uint64_t)den + 1));
		SWEEP(bad, pct2_differs(num, den));
		/* The halves: 10000 num / den = q + 1/2 needs den even. */
		SWEEP(bad, pct2_differs(num / 2, den & ~1u ? den & ~1u : 2));
		SWEEP(bad, pct2_differs((uint32_t)next(), den));
	}
	CHECK_INT(bad, 0);
}

int main(void)
{
	test_ms3_values();
	test_pct2_values();
	test_ms3_sweep();
	test_pct2_sweep();
	test_ms_field();
	test_u32_small();
	return check_report();
}
