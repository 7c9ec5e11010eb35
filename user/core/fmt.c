// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include "fmt.h"

void ts_fmt_ip(char *buf, size_t len, int family, const uint8_t *addr)
{
	if (!inet_ntop(family == 6 ? AF_INET6 : AF_INET, addr, buf,
		       (socklen_t)len))
		snprintf(buf, len, "?");
}

void ts_fmt_endpoint(char *buf, size_t len, int family, const uint8_t *addr,
		     uint16_t port)
{
	char ip[INET6_ADDRSTRLEN];
	char p[8];

	ts_fmt_ip(ip, sizeof(ip), family, addr);
	if (port)
		snprintf(p, sizeof(p), "%u", port);
	else
		snprintf(p, sizeof(p), "*");
	if (family == 6)
		snprintf(buf, len, "[%s]:%s", ip, p);
	else
		snprintf(buf, len, "%s:%s", ip, p);
}

void ts_fmt_rfc3339(char *buf, size_t len, int64_t wall_ns)
{
	time_t sec = (time_t)(wall_ns / 1000000000);
	long nsec = (long)(wall_ns % 1000000000);
	struct tm tm;

	if (nsec < 0) {
		nsec += 1000000000;
		sec--;
	}
	gmtime_r(&sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, nsec);
}

void ts_fmt_clock(char *buf, size_t len, int64_t wall_ns)
{
	time_t sec = (time_t)(wall_ns / 1000000000);
	long ms = (long)((wall_ns % 1000000000) / 1000000);
	struct tm tm;

	if (ms < 0) {
		ms += 1000;
		sec--;
	}
	localtime_r(&sec, &tm);
	snprintf(buf, len, "%02d:%02d:%02d.%03ld", tm.tm_hour, tm.tm_min,
		 tm.tm_sec, ms);
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
