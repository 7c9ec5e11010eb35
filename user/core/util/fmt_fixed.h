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

/* "00" to "99", two characters each. */
extern const char ts_digit_pairs[200];

/* printf("%.3f", ns / 1e6): milliseconds with three decimals. */
size_t ts_put_ms3(char *p, uint64_t ns);
/*
 * printf("%*s", width, t) of t = sign "%.3fms" (ns / 1e6): the step
 * times of the timeline, right-aligned; width <= TS_FIXED_LEN.  Room for
 * TS_FIXED_LEN + 3 bytes.
 */
size_t ts_put_ms_field(char *p, char sign, uint64_t ns, size_t width);
/* printf("%.2f", 100.0 * num / den), den > 0: a percentage. */
size_t ts_put_pct2(char *p, uint32_t num, uint32_t den);

/* "%u" of v, with the small values (most counters) written inline. */
static inline size_t ts_put_u32_small(char *p, uint32_t v)
{
	if (v < 10) {
		p[0] = (char)('0' + v);
		return 1;
	}
	if (v < 100) {
		memcpy(p, ts_digit_pairs + 2 * v, 2);
		return 2;
	}
	return ts_put_u64(p, v);
}

#endif
