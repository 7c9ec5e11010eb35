// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include "core/util/procstat.h"

/* Seconds since the epoch at which the system booted (/proc/stat btime). */
static int boot_time(uint64_t *out)
{
	FILE *f = fopen("/proc/stat", "re");
	char line[256];
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v;

		if (sscanf(line, "btime %llu", &v) == 1) {
			*out = v;
			err = 0;
			break;
		}
	}
	fclose(f);
	return err;
}

static uint64_t count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	uint64_t n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	/* The directory's own descriptor is not one of ours. */
	return n ? n - 1 : 0;
}

int ts_proc_stats__read(struct ts_proc_stats *out)
{
	unsigned long long utime, stime, start, vsize;
	long long rss;
	long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	char buf[1024], *p;
	struct rlimit rl;
	uint64_t btime = 0;
	size_t len;
	FILE *f;

	memset(out, 0, sizeof(*out));
	f = fopen("/proc/self/stat", "re");
	if (!f)
		return -errno;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	/* The command name may hold spaces and parentheses: skip past the
	 * last ')'; the state is field 3. */
	p = strrchr(buf, ')');
	if (!p || tck <= 0 || page <= 0)
		return -EINVAL;
	if (sscanf(p + 2,
		   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu "
		   "%*d %*d %*d %*d %*d %*d %llu %llu %lld",
		   &utime, &stime, &start, &vsize, &rss) != 5)
		return -EINVAL;
	out->cpu_ns = (utime + stime) * (1000000000ULL / (uint64_t)tck);
	out->rss_bytes = rss > 0 ? (uint64_t)rss * (uint64_t)page : 0;
	out->vsize_bytes = vsize;
	out->open_fds = count_fds();
	if (!getrlimit(RLIMIT_NOFILE, &rl))
		out->max_fds = rl.rlim_cur;
	if (!boot_time(&btime))
		out->start_time_s = btime + start / (uint64_t)tck;
	return 0;
}
