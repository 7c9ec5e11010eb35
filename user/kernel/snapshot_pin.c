// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * bpffs is mounted with mode 1777 by default: any user may create
 * /sys/fs/bpf/tcpscope first, or plant symlinks in it.  So nothing under
 * it is trusted by name.  Every step is taken relative to a directory
 * descriptor that was checked (bpffs, a directory, owned by us, no access
 * for group or others), opened with O_NOFOLLOW; the pins themselves are
 * reached through /proc/self/fd/N/NAME of that checked descriptor (libbpf
 * 1.1 has no path_fd for BPF_OBJ_GET/PIN), and removed with unlinkat(),
 * which never follows a link.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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
#define BPF_FS_ROOT "/sys/fs/bpf"

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

/* Is fd a directory on bpffs that only we can reach into? */
static int trusted_dir(int fd)
{
	struct statfs sfs;
	struct stat st;

	if (fstatfs(fd, &sfs) || fstat(fd, &st))
		return -errno;
	if (sfs.f_type != BPF_FS_MAGIC)
		return -ENOTSUP;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (st.st_uid != geteuid() || (st.st_mode & 077))
		return -EPERM;
	return 0;
}

/* Open name under the checked dirfd (creating it when create), checked. */
static int open_dir_at(int dirfd, const char *name, bool create)
{
	int fd, err;

	if (create && mkdirat(dirfd, name, 0700) && errno != EEXIST)
		return -errno;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP || errno == ENOTDIR ? -EPERM : -errno;
	err = trusted_dir(fd);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

/* bpffs itself (mode 1777 is fine there: it is root's), then tcpscope/. */
static int open_root(bool create)
{
	struct statfs sfs;
	int bfd, fd;

	bfd = open(BPF_FS_ROOT, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (bfd < 0)
		return -errno;
	if (fstatfs(bfd, &sfs) || sfs.f_type != BPF_FS_MAGIC) {
		close(bfd);
		return -ENOTSUP;
	}
	fd = open_dir_at(bfd, TS_PIN_ROOT + sizeof(BPF_FS_ROOT), create);
	close(bfd);
	return fd;
}

/* The snap-<hash> directory of a full pin path, under a checked root. */
static int open_pin_dir(const char *dir, bool create)
{
	const char *name = strrchr(dir, '/');
	int root, fd;

	if (!name || strncmp(name + 1, "snap-", 5))
		return -EINVAL;
	root = open_root(create);
	if (root < 0)
		return root;
	fd = open_dir_at(root, name + 1, create);
	close(root);
	return fd;
}

const char *ts_pin__refusal(int err)
{
	switch (err) {
	case -EPERM:
		return "not a directory of this user with mode 0700: another user may have "
		       "created it; tcpscope neither uses nor removes it";
	case -ENOTSUP:
		return "not on bpffs";
	}
	return NULL;
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

static int open_one(int dfd, const char *name, const char *prog)
{
	char path[64];
	int fd, err;

	snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dfd, name);
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
	int d, t, f = -1;

	d = open_pin_dir(dir, false);
	if (d < 0)
		return d;
	t = open_one(d, "tcp", "snap_tcp");
	if (t >= 0 && files_fd) {
		f = open_one(d, "files", "snap_files");
		if (f < 0) {
			close(t);
			t = f;
		} else {
			*files_fd = f;
		}
	}
	close(d);
	if (t < 0)
		return t;
	*tcp_fd = t;
	return 0;
}

static int pin_at(int dfd, const char *name, int fd)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dfd, name);
	/* Another tcpscope may have pinned the same object meanwhile. */
	if (bpf_obj_pin(fd, path) && errno != EEXIST)
		return -errno;
	return 0;
}

int ts_pin__save(const char *dir, int tcp_fd, int files_fd)
{
	int d, err;

	d = open_pin_dir(dir, true);
	if (d < 0)
		return d;
	err = pin_at(d, "tcp", tcp_fd);
	if (!err)
		err = pin_at(d, "files", files_fd);
	close(d);
	return err;
}

/* Remove the pins in one checked snap-* directory, then the directory. */
static int remove_dir(int root, const char *name)
{
	struct dirent *e;
	DIR *sub;
	int fd, n = 0;

	fd = open_dir_at(root, name, false);
	if (fd < 0)
		return fd;
	sub = fdopendir(fd);
	if (!sub) {
		close(fd);
		return -errno;
	}
	while ((e = readdir(sub))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		/* unlinkat never follows a link: a planted one is removed
		 * itself, what it points to is never touched. */
		if (!unlinkat(fd, e->d_name, 0))
			n++;
	}
	closedir(sub);
	unlinkat(root, name, AT_REMOVEDIR);
	return n;
}

int ts_pin__remove_all(void)
{
	struct dirent *d;
	DIR *dir;
	int root, dup_fd, n = 0, err = 0;

	root = open_root(false);
	if (root < 0)
		return root == -ENOENT ? 0 : root;
	dup_fd = dup(root);
	if (dup_fd < 0 || !(dir = fdopendir(dup_fd))) {
		err = -errno;
		if (dup_fd >= 0)
			close(dup_fd);
		close(root);
		return err;
	}
	while ((d = readdir(dir))) {
		int k;

		if (strncmp(d->d_name, "snap-", 5))
			continue;
		k = remove_dir(root, d->d_name);
		if (k >= 0)
			n += k;
		else if (!err)
			err = k;
	}
	closedir(dir);
	close(root);
	if (err)
		return err;
	/* Our own, checked: remove it by name from bpffs. */
	rmdir(TS_PIN_ROOT);
	return n;
}
