// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#define _GNU_SOURCE /* timegm */
#include "core/util/timearg.h"
#include "core/util/parse.h"
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <time.h>

static int digits(const char **p, int n, int min, int max, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)**p))
			return -EINVAL;
		v = v * 10 + (*(*p)++ - '0');
	}
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

static int expect(const char **p, const char *set)
{
	if (!**p || !strchr(set, **p))
		return -EINVAL;
	(*p)++;
	return 0;
}

/* HH:MM:SS[.fff]; *frac in ns. */
static int parse_clock(const char **p, struct tm *tm, int64_t *frac)
{
	int64_t scale = 100000000;
	int err;

	if ((err = digits(p, 2, 0, 23, &tm->tm_hour)) || (err = expect(p, ":")) ||
	    (err = digits(p, 2, 0, 59, &tm->tm_min)) || (err = expect(p, ":")) ||
	    (err = digits(p, 2, 0, 60, &tm->tm_sec)))
		return err;
	*frac = 0;
	if (**p == '.') {
		(*p)++;
		if (!isdigit((unsigned char)**p))
			return -EINVAL;
		for (; isdigit((unsigned char)**p); (*p)++) {
			*frac += (**p - '0') * scale;
			scale /= 10;
		}
	}
	return 0;
}

/* A broken-down local time to ns since the epoch. */
static int local_ns(struct tm *tm, int64_t frac, int64_t *wall_ns)
{
	time_t t;

	tm->tm_isdst = -1;
	t = mktime(tm);
	if (t == (time_t)-1)
		return -ERANGE;
	*wall_ns = (int64_t)t * 1000000000LL + frac;
	return 0;
}

/*
 * HH:MM:SS[.fff] as trace prints it: local time on the day the capture
 * started (the next day if that moment is more than 12 hours before the
 * start: a capture that ran across midnight).
 */
static int parse_local_clock(const char *s, int64_t start_wall_ns, int64_t *wall_ns)
{
	time_t start = (time_t)(start_wall_ns / 1000000000);
	const char *p = s;
	struct tm tm;
	int64_t frac;
	int err;

	if (!localtime_r(&start, &tm))
		return -ERANGE;
	err = parse_clock(&p, &tm, &frac);
	if (err)
		return err;
	if (*p)
		return -EINVAL;
	err = local_ns(&tm, frac, wall_ns);
	if (!err && *wall_ns < start_wall_ns - 12 * 3600 * 1000000000LL) {
		tm.tm_mday++;
		err = local_ns(&tm, frac, wall_ns);
	}
	return err;
}

static int parse_rfc3339(const char *s, int64_t *wall_ns)
{
	struct tm tm = {};
	const char *p = s;
	int64_t frac = 0, off = 0;
	int y, mo, d, oh, om, err;
	time_t t;

	if ((err = digits(&p, 4, 1970, 9999, &y)) || (err = expect(&p, "-")) ||
	    (err = digits(&p, 2, 1, 12, &mo)) || (err = expect(&p, "-")) ||
	    (err = digits(&p, 2, 1, 31, &d)) || (err = expect(&p, "Tt ")) ||
	    (err = parse_clock(&p, &tm, &frac)))
		return err;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	if (!*p)
		return local_ns(&tm, frac, wall_ns); /* no zone: local time */
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1;

		if ((err = digits(&p, 2, 0, 23, &oh)) || (err = expect(&p, ":")) ||
		    (err = digits(&p, 2, 0, 59, &om)))
			return err;
		off = sign * (oh * 3600 + om * 60);
	} else {
		return -EINVAL;
	}
	if (*p)
		return -EINVAL;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -ERANGE;
	*wall_ns = ((int64_t)t - off) * 1000000000LL + frac;
	return 0;
}

int ts_parse_at(const char *s, uint64_t start_mono_ns, int64_t wall_offset_ns, uint64_t *mono_ns)
{
	int64_t wall, mono;
	uint64_t d;
	int err;

	if (s[0] == '+') {
		err = ts_parse_duration(s + 1, &d);
		if (err)
			return err;
		if (d > UINT64_MAX - start_mono_ns)
			return -ERANGE;
		*mono_ns = start_mono_ns + d;
		return 0;
	}
	if (strlen(s) >= 8 && s[2] == ':')
		err = parse_local_clock(s, (int64_t)start_mono_ns + wall_offset_ns, &wall);
	else
		err = parse_rfc3339(s, &wall);
	if (err)
		return err;
	mono = wall - wall_offset_ns;
	if (mono < 0)
		return -ERANGE;
	*mono_ns = (uint64_t)mono;
	return 0;
}
