// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/util/cgroup.h"
#include "core/util/fmt.h"

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* Runtimes that name a container's scope "<prefix><id>.scope". */
static const char *const runtime_prefixes[] = {
	"docker-", "cri-containerd-", "crio-", "libpod-", "containerd-",
};

/* A container id in one path component (name[0..n)), or NULL. */
static const char *component_id(const char *name, size_t n, size_t *idlen)
{
	const size_t scope = sizeof(".scope") - 1;

	/* cgroupfs driver: the bare id (docker/<id>, kubepods/.../<id>). */
	if (n == 64 && all_hex(name, n)) {
		*idlen = n;
		return name;
	}
	if (n > scope && !memcmp(name + n - scope, ".scope", scope))
		n -= scope;
	for (size_t i = 0; i < sizeof(runtime_prefixes) / sizeof(runtime_prefixes[0]); i++) {
		size_t pl = strlen(runtime_prefixes[i]);

		if (n >= pl + 12 && !strncmp(name, runtime_prefixes[i], pl) &&
		    all_hex(name + pl, n - pl)) {
			*idlen = n - pl;
			return name + pl;
		}
	}
	return NULL;
}

static bool ends_with(const char *s, size_t n, const char *suf)
{
	size_t k = strlen(suf);

	return n > k && !memcmp(s + n - k, suf, k);
}

bool ts_cgroup_container(const char *path, char *out, size_t len)
{
	const char *unit = NULL, *end;
	size_t unit_len = 0;

	if (len)
		out[0] = '\0';
	if (!path || !len)
		return false;
	/* From the innermost component outwards. */
	end = path + strlen(path);
	while (end > path) {
		const char *start = end;
		const char *id;
		size_t n, idlen;

		while (start > path && start[-1] != '/')
			start--;
		n = (size_t)(end - start);
		id = n ? component_id(start, n, &idlen) : NULL;
		if (id) {
			snprintf(out, len, "%.*s", (int)idlen, id);
			return true;
		}
		if (!unit && (ends_with(start, n, ".service") || ends_with(start, n, ".scope"))) {
			unit = start;
			unit_len = n;
		}
		end = start > path ? start - 1 : path;
	}
	if (!unit)
		return false;
	snprintf(out, len, "%.*s", (int)unit_len, unit);
	return true;
}

bool ts_cgroup_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n == 1 && dir[0] == '/')
		return path[0] == '/';
	return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/');
}

const char *ts_cgroup_root(void)
{
	static char root[256];
	static bool done;
	char dev[256], dir[256], type[64];
	FILE *f;

	if (done)
		return root[0] ? root : NULL;
	done = true;
	f = fopen("/proc/self/mounts", "re");
	if (!f)
		return NULL;
	while (fscanf(f, "%255s %255s %63s %*[^\n]", dev, dir, type) == 3) {
		if (strcmp(type, "cgroup2"))
			continue;
		if (!root[0] || !strcmp(dir, TS_CGROUP_ROOT))
			snprintf(root, sizeof(root), "%s", dir);
	}
	fclose(f);
	return root[0] ? root : NULL;
}

int ts_cgroup_of_pid(uint32_t pid, char *out, size_t len)
{
	char file[64], line[4096];
	int err = -ENOENT;
	FILE *f;

	snprintf(file, sizeof(file), "/proc/%u/cgroup", pid);
	f = fopen(file, "re");
	if (!f)
		return -errno;
	/* The unified hierarchy's line is "0::/path". */
	while (fgets(line, sizeof(line), f)) {
		size_t n;

		if (strncmp(line, "0::", 3))
			continue;
		n = strcspn(line + 3, "\n");
		if (n + 1 > len) {
			err = -ENAMETOOLONG;
			break;
		}
		memcpy(out, line + 3, n);
		out[n] = '\0';
		err = 0;
		break;
	}
	fclose(f);
	return err;
}

int ts_cgroup_id(const char *dir, uint64_t *id)
{
	struct stat st;

	if (stat(dir, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	*id = st.st_ino;
	return 0;
}

#define NBUCKETS 1024
#define MAX_DEPTH 32
#define MAX_NAMES 200000

struct cgname {
	struct cgname *next;
	uint64_t id;
	char path[]; /* below the mount */
};

struct ts_cgnames {
	char root[256];
	struct cgname *buckets[NBUCKETS];
	size_t count;
	uint64_t last_walk_ns;
	/* The last name found: a run of records from one cgroup is the
	 * rule, and entries are freed only with the table. */
	const struct cgname *last;
};

static struct cgname *find(const struct ts_cgnames *n, uint64_t id)
{
	for (struct cgname *e = n->buckets[id % NBUCKETS]; e; e = e->next)
		if (e->id == id)
			return e;
	return NULL;
}

static void add(struct ts_cgnames *n, uint64_t id, const char *path)
{
	size_t len = strlen(path);
	struct cgname *e;

	if (n->count >= MAX_NAMES || find(n, id))
		return;
	e = malloc(sizeof(*e) + len + 1);
	if (!e)
		return;
	e->id = id;
	memcpy(e->path, path, len + 1);
	e->next = n->buckets[id % NBUCKETS];
	n->buckets[id % NBUCKETS] = e;
	n->count++;
}

/* rel is "" for the root, else "/a/b". */
static void walk(struct ts_cgnames *n, int dirfd, const char *rel, int depth)
{
	struct dirent *d;
	struct stat st;
	DIR *dir;

	if (fstat(dirfd, &st) || !S_ISDIR(st.st_mode)) {
		close(dirfd);
		return;
	}
	add(n, st.st_ino, *rel ? rel : "/");
	dir = fdopendir(dirfd);
	if (!dir) {
		close(dirfd);
		return;
	}
	while (depth < MAX_DEPTH && (d = readdir(dir))) {
		char sub[4096];
		int fd;

		if (d->d_type != DT_DIR || d->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", rel, d->d_name) >= sizeof(sub))
			continue;
		fd = openat(dirfd, d->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0)
			walk(n, fd, sub, depth + 1);
	}
	closedir(dir);
}

static void walk_all(struct ts_cgnames *n)
{
	int fd = open(n->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	n->last_walk_ns = ts_now_mono_ns();
	if (fd >= 0)
		walk(n, fd, "", 0);
}

int ts_cgnames__new(const char *root, struct ts_cgnames **out)
{
	struct ts_cgnames *n = calloc(1, sizeof(*n));

	if (!n)
		return -ENOMEM;
	if (!root)
		root = ts_cgroup_root();
	snprintf(n->root, sizeof(n->root), "%s", root ? root : TS_CGROUP_ROOT);
	*out = n;
	return 0;
}

const char *ts_cgnames__path(struct ts_cgnames *n, uint64_t id)
{
	struct cgname *e;

	if (!n || !id)
		return NULL;
	if (n->last && n->last->id == id)
		return n->last->path;
	e = find(n, id);
	if (!e && (!n->last_walk_ns || ts_now_mono_ns() - n->last_walk_ns > 1000000000ULL)) {
		walk_all(n);
		e = find(n, id);
	}
	if (e)
		n->last = e;
	return e ? e->path : NULL;
}

size_t ts_cgnames__count(const struct ts_cgnames *n)
{
	return n ? n->count : 0;
}

void ts_cgnames__free(struct ts_cgnames *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < NBUCKETS; i++) {
		struct cgname *e = n->buckets[i];

		while (e) {
			struct cgname *next = e->next;

			free(e);
			e = next;
		}
	}
	free(n);
}
