// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Snapshots of the namespace a --netns filter names by its inode. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
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

struct ino_set {
	uint32_t *v;
	size_t n, cap;
};

/* Adds ino; false if it was there. */
static bool ino_add(struct ino_set *s, uint32_t ino)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == ino)
			return false;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		uint32_t *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return false;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = ino;
	return true;
}

int ts_netns__each(int (*fn)(const char *path, uint32_t ino, void *ctx), void *ctx)
{
	static const char *const dirs[] = { "/proc", "/run/netns" };
	struct ino_set seen = {};
	char path[PATH_MAX];
	struct stat st;
	int err = 0;

	/* Ours first: a failure elsewhere must not cost the common case. */
	if (!stat("/proc/self/ns/net", &st)) {
		ino_add(&seen, (uint32_t)st.st_ino);
		err = fn("/proc/self/ns/net", (uint32_t)st.st_ino, ctx);
	}
	for (size_t d = 0; !err && d < sizeof(dirs) / sizeof(dirs[0]); d++) {
		DIR *dir = opendir(dirs[d]);
		struct dirent *e;

		if (!dir)
			continue;
		while (!err && (e = readdir(dir))) {
			if (e->d_name[0] == '.')
				continue;
			if (d == 0 && (e->d_name[0] < '0' || e->d_name[0] > '9'))
				continue;
			if (d == 0)
				snprintf(path, sizeof(path), "/proc/%s/ns/net", e->d_name);
			else
				snprintf(path, sizeof(path), "/run/netns/%s", e->d_name);
			if (stat(path, &st) || !ino_add(&seen, (uint32_t)st.st_ino))
				continue;
			err = fn(path, (uint32_t)st.st_ino, ctx);
		}
		closedir(dir);
	}
	free(seen.v);
	return err;
}
