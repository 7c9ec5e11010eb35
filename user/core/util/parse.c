// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <unistd.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include "core/util/parse.h"

int ts_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int ts_parse_port(const char *s, uint16_t *out)
{
	uint64_t v;
	int err = ts_parse_u64(s, 1, 65535, &v);

	if (!err)
		*out = (uint16_t)v;
	return err;
}

int ts_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	uint64_t mult = 1;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end) {
		switch (toupper((unsigned char)*end)) {
		case 'K':
			mult = 1ULL << 10;
			break;
		case 'M':
			mult = 1ULL << 20;
			break;
		case 'G':
			mult = 1ULL << 30;
			break;
		default:
			return -EINVAL;
		}
		end++;
		/* "16M", "16MB" and "16MiB" all mean 16 * 2^20. */
		if (*end && strcasecmp(end, "b") && strcasecmp(end, "ib"))
			return -EINVAL;
	}
	if (v > UINT64_MAX / mult)
		return -ERANGE;
	*out = v * mult;
	return 0;
}

int ts_parse_duration(const char *s, uint64_t *out_ns)
{
	double v, mult = 1e9;
	char *end;

	if (!s || !(isdigit((unsigned char)*s) || *s == '.'))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno == ERANGE || !isfinite(v) || v < 0)
		return -ERANGE;
	if (!strcmp(end, "") || !strcmp(end, "s"))
		mult = 1e9;
	else if (!strcmp(end, "ms"))
		mult = 1e6;
	else if (!strcmp(end, "us"))
		mult = 1e3;
	else if (!strcmp(end, "m"))
		mult = 60e9;
	else if (!strcmp(end, "h"))
		mult = 3600e9;
	else
		return -EINVAL;
	if (v * mult > 1e18)
		return -ERANGE;
	*out_ns = (uint64_t)(v * mult);
	return 0;
}

int ts_netns_resolve(const char *s, uint32_t *ino, char *path, size_t len)
{
	char named[300];
	struct stat st;
	int fd, type;
	uint64_t v;

	if (!s || !*s)
		return -EINVAL;
	if (path && len)
		path[0] = '\0';
	if (!ts_parse_u64(s, 1, UINT32_MAX, &v)) {
		*ino = (uint32_t)v;
		return 0;
	}
	/* A bare name is an 'ip netns' name: /run/netns/NAME. */
	if (!strchr(s, '/')) {
		if (strlen(s) > 255 || !strcmp(s, ".") || !strcmp(s, ".."))
			return -EINVAL;
		snprintf(named, sizeof(named), "/run/netns/%s", s);
		s = named;
	}
	if (stat(s, &st))
		return -errno;
	/*
	 * A path whose inode is not a network namespace would filter out
	 * every event without a word: refuse it.  Namespace files live on
	 * nsfs; NS_GET_NSTYPE (4.11+) tells which kind.
	 */
	fd = open(s, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	type = ioctl(fd, NS_GET_NSTYPE);
	close(fd);
	if (type != CLONE_NEWNET)
		return -EINVAL;
	*ino = (uint32_t)st.st_ino;
	if (path && len)
		snprintf(path, len, "%s", s);
	return 0;
}

int ts_parse_netns(const char *s, uint32_t *out)
{
	return ts_netns_resolve(s, out, NULL, 0);
}
