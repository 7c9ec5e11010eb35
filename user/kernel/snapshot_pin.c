// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include "kernel/snapshot_pin.h"

#define BPF_FS_MAGIC 0xcafe4a11

void ts_pin__dir(char *buf, size_t len, const void *elf, size_t elf_len)
{
	const unsigned char *p = elf;
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (size_t i = 0; i < elf_len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	snprintf(buf, len, "%s/snap-%016llx", TS_PIN_ROOT, (unsigned long long)h);
}

/* The pinned object must be an iterator link of one of our programs. */
static int check_link(int fd, const char *prefix)
{
	struct bpf_link_info li = {};
	struct bpf_prog_info pi = {};
	__u32 len = sizeof(li);
	int pfd, err;

	if (bpf_obj_get_info_by_fd(fd, &li, &len))
		return -errno;
	if (li.type != BPF_LINK_TYPE_ITER)
		return -EINVAL;
	pfd = bpf_prog_get_fd_by_id(li.prog_id);
	if (pfd < 0)
		return -errno;
	len = sizeof(pi);
	err = bpf_obj_get_info_by_fd(pfd, &pi, &len) ? -errno : 0;
	close(pfd);
	if (err)
		return err;
	return strncmp(pi.name, prefix, strlen(prefix)) ? -EINVAL : 0;
}

static int open_one(const char *dir, const char *name, const char *prog)
{
	char path[512];
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	err = check_link(fd, prog);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

int ts_pin__open(const char *dir, int *tcp_fd, int *files_fd)
{
	int t, f = -1;

	t = open_one(dir, "tcp", "snap_tcp");
	if (t < 0)
		return t;
	if (files_fd) {
		f = open_one(dir, "files", "snap_files");
		if (f < 0) {
			close(t);
			return f;
		}
		*files_fd = f;
	}
	*tcp_fd = t;
	return 0;
}

static int mkdir_0700(const char *path)
{
	if (mkdir(path, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

int ts_pin__save(const char *dir, int tcp_fd, int files_fd)
{
	struct statfs sfs;
	char path[512];
	int err;

	if (statfs("/sys/fs/bpf", &sfs) || sfs.f_type != BPF_FS_MAGIC)
		return -ENOTSUP;
	err = mkdir_0700(TS_PIN_ROOT);
	if (!err)
		err = mkdir_0700(dir);
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/tcp", dir);
	/* Another tcpscope may have pinned the same object meanwhile. */
	if (bpf_obj_pin(tcp_fd, path) && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "%s/files", dir);
	if (bpf_obj_pin(files_fd, path) && errno != EEXIST)
		return -errno;
	return 0;
}

int ts_pin__remove_all(void)
{
	struct dirent *d, *e;
	char path[768];
	DIR *root, *sub;
	int n = 0;

	root = opendir(TS_PIN_ROOT);
	if (!root)
		return errno == ENOENT ? 0 : -errno;
	while ((d = readdir(root))) {
		char dir[512];

		if (strncmp(d->d_name, "snap-", 5))
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", TS_PIN_ROOT, d->d_name);
		sub = opendir(dir);
		if (!sub)
			continue;
		while ((e = readdir(sub))) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			if (!unlink(path))
				n++;
		}
		closedir(sub);
		rmdir(dir);
	}
	closedir(root);
	rmdir(TS_PIN_ROOT);
	return n;
}
