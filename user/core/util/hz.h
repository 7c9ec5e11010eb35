/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kernel's HZ, from one reading of jiffies and CLOCK_MONOTONIC: the
 * retransmission timeout (icsk_rto) is kept in jiffies.
 */
#ifndef TS_HZ_H
#define TS_HZ_H

#include <stdint.h>

/*
 * Which of the HZ values Linux offers (100, 250, 300, 1000) explains
 * jiffies at now_ns?  jiffies start at 2^32 - 300 * HZ (INITIAL_JIFFIES:
 * they wrap five minutes after boot) and advance HZ a second with
 * CLOCK_MONOTONIC.  Returns 0 when no value fits clearly (close to the
 * five-minute mark every value predicts about the same).
 */
uint32_t ts_hz__guess(uint64_t now_ns, uint64_t jiffies);

/*
 * HZ from two readings dt_ns apart that saw djiffies ticks: what
 * ts_hz__guess() cannot tell near the wrap.  0 when dt_ns is under 0.1 s
 * or the rate is within 8 % of no candidate (100, 250, 300, 1000).
 */
uint32_t ts_hz__from_rate(uint64_t dt_ns, uint64_t djiffies);

/* "now at N nsecs" and "jiffies: N" from /proc/timer_list text; 0 or
 * -EINVAL when either is missing. */
int ts_hz__parse_timer_list(const char *text, uint64_t *now_ns, uint64_t *jiffies);

#endif
