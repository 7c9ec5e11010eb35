// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Snapshots of the namespace a --netns filter names by its inode. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include "kernel/snapshot.h"

int ts_netns_path(uint32_t ino, char *buf, size_t len)
{
	static const char *const dirs[] = { "/run/netns", "/proc" };
	struct stat st;

	for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
		DIR *dir = opendir(dirs[d]);
		struct dirent *e;

		if (!dir)
			continue;
		while ((e = readdir(dir))) {
			if (e->d_name[0] == '.')
				continue;
			if (d == 0)
				snprintf(buf, len, "%s/%s", dirs[d], e->d_name);
			else if (e->d_name[0] >= '0' && e->d_name[0] <= '9')
				snprintf(buf, len, "/proc/%s/ns/net", e->d_name);
			else
				continue;
			if (!stat(buf, &st) && st.st_ino == ino) {
				closedir(dir);
				return 0;
			}
		}
		closedir(dir);
	}
	return -ENOENT;
}

int ts_snapshot__collect_in(uint32_t netns, bool pids, struct ts_sock **out,
			   size_t *n)
{
	struct ts_snapshot_opts so = { .pids = pids };
	char path[PATH_MAX];

	*out = NULL;
	*n = 0;
	if (netns) {
		if (ts_netns_path(netns, path, sizeof(path)))
			return -ENOENT;
		so.netns_path = path;
	}
	return ts_snapshot__collect(&so, out, n);
}
