/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * cgroup v2 names: the kernel side records a cgroup id
 * (bpf_get_current_cgroup_id(), the kernfs node id, which is also the
 * inode number of the cgroup's directory on 64-bit kernels); user space
 * turns it into a path below the cgroup2 mount and, where the path shows
 * one, a container id or a systemd unit.  No libbpf.
 */
#ifndef TS_CGROUP_H
#define TS_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TS_CGROUP_ROOT "/sys/fs/cgroup"
#define TS_CONTAINER_LEN 128

/*
 * The container a cgroup path belongs to: the 64-hex id of docker,
 * containerd/cri-o (kubepods), podman (libpod), else the name of the
 * innermost systemd scope or service ("nginx.service").  Writes "" and
 * returns false when the path shows none.
 */
bool ts_cgroup_container(const char *path, char *out, size_t len);

/* Is path equal to or below dir ("/a/b" is below "/a", not "/ab")? */
bool ts_cgroup_under(const char *path, const char *dir);

/*
 * Where cgroup2 is mounted: /sys/fs/cgroup on unified systems, else the
 * first cgroup2 mount /proc/self/mounts lists (/sys/fs/cgroup/unified on
 * hybrid ones); NULL when there is none (cgroup v1 only).
 */
const char *ts_cgroup_root(void);

/* The cgroup2 path of process pid ("/system.slice/x.service"); 0 or -errno. */
int ts_cgroup_of_pid(uint32_t pid, char *out, size_t len);

/* A cgroup directory's id (its inode number); 0 or -errno. */
int ts_cgroup_id(const char *dir, uint64_t *id);

/*
 * Resolve ids to paths, with a cache: an unknown id walks the cgroup2
 * tree again, at most once a second.
 */
struct ts_cgnames;

int ts_cgnames__new(const char *root, struct ts_cgnames **out);
/* The path of id below the mount ("/" for the root); NULL when unknown. */
const char *ts_cgnames__path(struct ts_cgnames *n, uint64_t id);
/* Distinct cgroups named so far. */
size_t ts_cgnames__count(const struct ts_cgnames *n);
void ts_cgnames__free(struct ts_cgnames *n);

#endif
