// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "core/util/hz.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint32_t ts_hz__guess(uint64_t now_ns, uint64_t jiffies)
{
	static const uint32_t hz[] = { 100, 250, 300, 1000 };
	double secs = (double)now_ns / 1e9 - 300.0, best = -1, second = -1;
	double ticks = (double)(int64_t)(jiffies - (1ULL << 32));
	uint32_t pick = 0;

	/* Within 10 s of the wrap the candidates differ by < 10 ticks a
	 * unit of HZ: too close to tell apart reliably. */
	if (secs > -10 && secs < 10)
		return 0;
	for (size_t i = 0; i < sizeof(hz) / sizeof(hz[0]); i++) {
		double err = ticks - secs * hz[i];

		err = err < 0 ? -err : err;
		if (best < 0 || err < best) {
			second = best;
			best = err;
			pick = hz[i];
		} else if (second < 0 || err < second) {
			second = err;
		}
	}
	/*
	 * The right value is off by the ticks between the two readings, by
	 * the start of the tick against the clock's (0.1 s here) and by ticks
	 * a busy virtual machine lost (6 s in 2.7 hours here); the next best
	 * by at least 50 ticks a second of distance from the wrap.
	 */
	if (second < 4 * best + 20)
		return 0;
	return pick;
}

uint32_t ts_hz__from_rate(uint64_t dt_ns, uint64_t djiffies)
{
	static const uint32_t hz[] = { 100, 250, 300, 1000 };
	double rate;

	/* Under 0.1 s a tick or two off is too much of the count. */
	if (dt_ns < 100000000ull)
		return 0;
	rate = (double)djiffies * 1e9 / (double)dt_ns;
	/* Neighbours differ by 20 % at least (250 against 300): 8 % each way. */
	for (size_t i = 0; i < sizeof(hz) / sizeof(hz[0]); i++)
		if (rate > hz[i] * 0.92 && rate < hz[i] * 1.08)
			return hz[i];
	return 0;
}

int ts_hz__parse_timer_list(const char *text, uint64_t *now_ns, uint64_t *jiffies)
{
	const char *now = strstr(text, "now at "), *j = strstr(text, "\njiffies: ");
	char *end;

	if (!now || !j)
		return -EINVAL;
	*now_ns = strtoull(now + 7, &end, 10);
	if (end == now + 7 || strncmp(end, " nsecs", 6))
		return -EINVAL;
	*jiffies = strtoull(j + 10, &end, 10);
	if (end == j + 10)
		return -EINVAL;
	return 0;
}
