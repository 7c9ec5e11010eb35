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

/* Room any of the writers below may need. */
#define TS_FIXED_LEN 32

/* printf("%.3f", ns / 1e6): milliseconds with three decimals. */
size_t ts_put_ms3(char *p, uint64_t ns);
/* printf("%.2f", 100.0 * num / den), den > 0: a percentage. */
size_t ts_put_pct2(char *p, uint32_t num, uint32_t den);

#endif
