// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include "core/util/fmt.h"

size_t ts_put_u64(char *p, uint64_t v)
{
	char tmp[20];
	size_t n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	for (size_t i = 0; i < n; i++)
		p[i] = tmp[n - 1 - i];
	return n;
}

void ts_put_u64_fixed(char *p, uint64_t v, size_t width)
{
	while (width--) {
		p[width] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* Copy n bytes of s into buf as a string, truncated to fit like snprintf. */
static void copy_out(char *buf, size_t len, const char *s, size_t n)
{
	if (!len)
		return;
	if (n >= len)
		n = len - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
}

size_t ts_put_ip(char *p, int family, const uint8_t *addr)
{
	size_t n = 0;

	/* inet_ntop formats IPv4 with sprintf; dotted decimal is simple. */
	if (family != 6) {
		for (int i = 0; i < 4; i++) {
			if (i)
				p[n++] = '.';
			n += ts_put_u64(p + n, addr[i]);
		}
		return n;
	}
	if (!inet_ntop(AF_INET6, addr, p, INET6_ADDRSTRLEN)) {
		p[0] = '?';
		return 1;
	}
	return strlen(p);
}

size_t ts_put_endpoint(char *p, int family, const uint8_t *addr, uint16_t port,
		       const char *port_name)
{
	size_t n = 0;

	/* Called twice per event on the live path: no printf. */
	if (family == 6)
		p[n++] = '[';
	n += ts_put_ip(p + n, family, addr);
	if (family == 6)
		p[n++] = ']';
	p[n++] = ':';
	if (!port)
		p[n++] = '*';
	else if (port_name)
		n += (size_t)(stpcpy(p + n, port_name) - (p + n));
	else
		n += ts_put_u64(p + n, port);
	return n;
}

void ts_fmt_ip(char *buf, size_t len, int family, const uint8_t *addr)
{
	char out[INET6_ADDRSTRLEN];

	copy_out(buf, len, out, ts_put_ip(out, family, addr));
}

void ts_fmt_endpoint(char *buf, size_t len, int family, const uint8_t *addr,
		     uint16_t port)
{
	char out[TS_ENDPOINT_LEN(0)];

	copy_out(buf, len, out, ts_put_endpoint(out, family, addr, port, NULL));
}

/*
 * Breaking a time into fields (time zone rules included) costs more than
 * the rest of an event's formatting; events come many per second, so each
 * formatter keeps the fields of the last second it saw.
 */
struct sec_cache {
	time_t sec;
	bool valid;
	char text[32]; /* the second's text, up to the fraction */
	size_t len;
};

void ts_fmt_rfc3339(char *buf, size_t len, int64_t wall_ns)
{
	static __thread struct sec_cache c;
	time_t sec = (time_t)(wall_ns / 1000000000);
	long nsec = (long)(wall_ns % 1000000000);
	char out[64];
	struct tm tm;

	if (nsec < 0) {
		nsec += 1000000000;
		sec--;
	}
	if (!c.valid || c.sec != sec) {
		gmtime_r(&sec, &tm);
		c.len = (size_t)snprintf(c.text, sizeof(c.text),
					 "%04d-%02d-%02dT%02d:%02d:%02d.",
					 tm.tm_year + 1900, tm.tm_mon + 1,
					 tm.tm_mday, tm.tm_hour, tm.tm_min,
					 tm.tm_sec);
		if (c.len >= sizeof(c.text))
			c.len = sizeof(c.text) - 1;
		c.sec = sec;
		c.valid = true;
	}
	memcpy(out, c.text, c.len);
	ts_put_u64_fixed(out + c.len, (uint64_t)nsec, 9);
	out[c.len + 9] = 'Z';
	copy_out(buf, len, out, c.len + 10);
}

void ts_fmt_clock(char *buf, size_t len, int64_t wall_ns)
{
	static __thread struct sec_cache c;
	time_t sec = (time_t)(wall_ns / 1000000000);
	long ms = (long)((wall_ns % 1000000000) / 1000000);
	char out[48];
	struct tm tm;

	if (ms < 0) {
		ms += 1000;
		sec--;
	}
	if (!c.valid || c.sec != sec) {
		localtime_r(&sec, &tm);
		c.len = (size_t)snprintf(c.text, sizeof(c.text), "%02d:%02d:%02d.",
					 tm.tm_hour, tm.tm_min, tm.tm_sec);
		if (c.len >= sizeof(c.text))
			c.len = sizeof(c.text) - 1;
		c.sec = sec;
		c.valid = true;
	}
	memcpy(out, c.text, c.len);
	ts_put_u64_fixed(out + c.len, (uint64_t)ms, 3);
	copy_out(buf, len, out, c.len + 3);
}

static int64_t ns_of(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t ts_mono_to_wall_offset(void)
{
	/* Bracket the realtime read to halve the error of the pair. */
	int64_t m1 = ns_of(CLOCK_MONOTONIC);
	int64_t r = ns_of(CLOCK_REALTIME);
	int64_t m2 = ns_of(CLOCK_MONOTONIC);

	return r - (m1 + (m2 - m1) / 2);
}

uint64_t ts_now_mono_ns(void)
{
	return (uint64_t)ns_of(CLOCK_MONOTONIC);
}
