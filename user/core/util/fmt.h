/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one writer of numbers, addresses and times, shared by every sink
 * and the socket table.  The ts_put_* writers append to a buffer with no
 * NUL and return how many bytes they wrote (no printf: they run several
 * times per event); the ts_fmt_* ones make a string.
 */
#ifndef TS_FMT_H
#define TS_FMT_H

#include <stddef.h>
#include <stdint.h>

#define TS_ADDRSTR_LEN 64 /* "[v6]:port" with room to spare */
#define TS_TIMESTR_LEN 40

/* Room for an endpoint whose port name has name_len characters. */
#define TS_ENDPOINT_LEN(name_len) (56 + (name_len))

/* "00" to "99", two characters each: two digits per division. */
extern const char ts_digit_pairs[200];

/* Decimal digits of v at p (room for 20). */
size_t ts_put_u64(char *p, uint64_t v);
/* "%" PRIx64 of v at p (room for 16). */
size_t ts_put_x64(char *p, uint64_t v);
/* The decimal digits of a time in ns, as ts_put_u64 writes them (room
 * for 20, which it may write past the digits); those of its seconds are
 * kept from the last call (times come in order). */
size_t ts_put_ns(char *p, uint64_t ns);
/* v as exactly width digits, zero-padded (higher digits dropped). */
void ts_put_u64_fixed(char *p, uint64_t v, size_t width);
/* "1.2.3.4" (any family but 6) or "::1" at p (room for 46). */
size_t ts_put_ip(char *p, int family, const uint8_t *addr);
/* "1.2.3.4:80" or "[::1]:80"; port 0 as "*", port_name (if not NULL)
 * instead of the number; room for TS_ENDPOINT_LEN(strlen(port_name)). */
size_t ts_put_endpoint(char *p, int family, const uint8_t *addr, uint16_t port,
		       const char *port_name);

/* RFC 3339 UTC with nanoseconds, "2026-11-21T12:00:00.123456789Z", at p
 * (room for TS_TIMESTR_LEN, which it may write past the text); the text
 * up to the second is kept from the last call, so only the fraction is
 * made within a second. */
size_t ts_put_rfc3339(char *p, int64_t wall_ns);
/* Local clock time with milliseconds, "12:00:00.123", at p (room for 34). */
size_t ts_put_clock(char *p, int64_t wall_ns);

/* "1.2.3.4" or "::1" */
void ts_fmt_ip(char *buf, size_t len, int family, const uint8_t *addr);
/* "1.2.3.4:80" or "[::1]:80"; port 0 prints as "*" */
void ts_fmt_endpoint(char *buf, size_t len, int family, const uint8_t *addr,
		     uint16_t port);
/* RFC 3339 UTC with nanoseconds: 2026-11-21T12:00:00.123456789Z */
void ts_fmt_rfc3339(char *buf, size_t len, int64_t wall_ns);
/* Local clock time with milliseconds: 12:00:00.123 */
void ts_fmt_clock(char *buf, size_t len, int64_t wall_ns);

/*
 * Wall-clock ns of a monotonic timestamp: mono + offset, saturated to the
 * int64 range (both come from capture files, which anyone can write).
 */
int64_t ts_wall_ns(uint64_t mono_ns, int64_t wall_offset_ns);

/* Offset from CLOCK_MONOTONIC (bpf_ktime_get_ns) to CLOCK_REALTIME. */
int64_t ts_mono_to_wall_offset(void);
uint64_t ts_now_mono_ns(void);

#endif
