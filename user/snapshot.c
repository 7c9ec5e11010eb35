// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Snapshot of the TCP sockets: load the iterators of snapshot.bpf.c, read
 * their streams in large chunks, decode, and join socket inodes with the
 * processes that hold them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "loader.h"
#include "snapshot.h"
#include "core/log.h"
#include "core/snaprec.h"
#include "snapshot.skel.h"

struct ts_snapshotter {
	struct snapshot_bpf *skel;
	struct bpf_link *tcp_link;
	struct bpf_link *files_link;
	int netns_fd; /* target namespace, -1 for our own */
	bool cookie_helper;
	unsigned int hz; /* 0 until the first end record */
};

/* A growing buffer holding one iterator's whole output. */
struct rbuf {
	char *data;
	size_t len;
	size_t cap;
};

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	/* Failures are reported in one line; libbpf's words are for -v. */
	if (ts_log_verbose() < (level == LIBBPF_DEBUG ? 2 : 1))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* The iterator targets exist in the kernel's BTF exactly when the kernel
 * has them (DEFINE_BPF_ITER_FUNC defines struct bpf_iter__<target>). */
static int check_iterators(bool pids)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	int err = 0;

	if (!vmlinux) {
		err = -errno;
		ts_err("cannot read kernel BTF: %s", strerror(-err));
		return err;
	}
	if (btf__find_by_name_kind(vmlinux, "bpf_iter__tcp", BTF_KIND_STRUCT) < 0) {
		ts_err("the kernel has no BPF iterator for TCP sockets: 'snapshot' needs Linux 5.9+ (iter/tcp)");
		err = -EOPNOTSUPP;
	} else if (pids && btf__find_by_name_kind(vmlinux, "bpf_iter__task_file",
						  BTF_KIND_STRUCT) < 0) {
		ts_err("the kernel has no BPF iterator for open files: -p needs Linux 5.8+ (iter/task_file)");
		err = -EOPNOTSUPP;
	}
	btf__free(vmlinux);
	return err;
}

static int netns_inode(int fd, uint32_t *out)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	*out = (uint32_t)st.st_ino;
	return 0;
}

/* Open and load, with or without the cookie helper. */
static int load(const struct ts_snapshot_opts *o, uint32_t netns,
		bool cookie_helper, struct snapshot_bpf **out)
{
	struct snapshot_bpf *skel;
	int err;

	skel = snapshot_bpf__open();
	if (!skel)
		return -errno;
	bpf_program__set_autoload(skel->progs.snap_tcp, cookie_helper);
	bpf_program__set_autoload(skel->progs.snap_tcp_nocookie, !cookie_helper);
	bpf_program__set_autoload(skel->progs.snap_files, o->pids);
	skel->rodata->files_netns = netns;
	err = snapshot_bpf__load(skel);
	if (err) {
		snapshot_bpf__destroy(skel);
		return err;
	}
	*out = skel;
	return 0;
}

int ts_snapshotter__new(const struct ts_snapshot_opts *o,
			struct ts_snapshotter **out)
{
	struct ts_snapshotter *s;
	uint32_t netns = 0;
	int fd, err;

	err = ts_check_privileges();
	if (err)
		return err;
	err = ts_check_btf();
	if (err)
		return err;
	err = check_iterators(o->pids);
	if (err)
		return err;

	s = calloc(1, sizeof(*s));
	if (!s) {
		ts_err("out of memory");
		return -ENOMEM;
	}
	s->netns_fd = -1;
	libbpf_set_print(libbpf_print);

	fd = open(o->netns_path ? o->netns_path : "/proc/self/ns/net",
		  O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		ts_err("cannot open network namespace %s: %s",
		       o->netns_path ? o->netns_path : "/proc/self/ns/net",
		       strerror(-err));
		goto cleanup;
	}
	err = netns_inode(fd, &netns);
	if (err) {
		close(fd);
		ts_err("cannot stat network namespace: %s", strerror(-err));
		goto cleanup;
	}
	if (o->netns_path)
		s->netns_fd = fd;
	else
		close(fd);

	/* bpf_get_socket_cookie() in tracing programs needs 5.12+; older
	 * kernels reject the program and get the cached cookie instead. */
	s->cookie_helper = true;
	err = load(o, netns, true, &s->skel);
	if (err) {
		ts_info("iter/tcp with bpf_get_socket_cookie() did not load (%s); reading cached cookies",
			strerror(-err));
		s->cookie_helper = false;
		err = load(o, netns, false, &s->skel);
	}
	if (err) {
		ts_err("cannot load the snapshot iterators: %s (-v says more)",
		       strerror(-err));
		goto cleanup;
	}
	s->tcp_link = bpf_program__attach_iter(
		s->cookie_helper ? s->skel->progs.snap_tcp :
				   s->skel->progs.snap_tcp_nocookie, NULL);
	if (!s->tcp_link) {
		err = -errno;
		ts_err("cannot attach the iter/tcp program: %s", strerror(-err));
		goto cleanup;
	}
	if (o->pids) {
		s->files_link = bpf_program__attach_iter(s->skel->progs.snap_files, NULL);
		if (!s->files_link) {
			err = -errno;
			ts_err("cannot attach the iter/task_file program: %s",
			       strerror(-err));
			goto cleanup;
		}
	}
	ts_info("snapshot iterators loaded (%s socket cookies)",
		s->cookie_helper ? "bpf_get_socket_cookie()" : "cached");
	*out = s;
	return 0;
cleanup:
	ts_snapshotter__free(s);
	return err;
}

void ts_snapshotter__free(struct ts_snapshotter *s)
{
	if (!s)
		return;
	bpf_link__destroy(s->files_link);
	bpf_link__destroy(s->tcp_link);
	snapshot_bpf__destroy(s->skel);
	if (s->netns_fd >= 0)
		close(s->netns_fd);
	free(s);
}

/*
 * Create an iterator instance.  iter/tcp covers the network namespace of
 * the process that creates it, so step into the target namespace for the
 * bpf_iter_create() call only.
 */
static int iter_create(const struct ts_snapshotter *s, struct bpf_link *link,
		       bool in_netns)
{
	int self = -1, fd, err;

	if (!in_netns || s->netns_fd < 0) {
		fd = bpf_iter_create(bpf_link__fd(link));
		return fd < 0 ? -errno : fd;
	}
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0) {
		err = -errno;
		ts_err("cannot open our own network namespace: %s", strerror(-err));
		return err;
	}
	if (setns(s->netns_fd, CLONE_NEWNET)) {
		err = -errno;
		ts_err("cannot enter the network namespace: %s", strerror(-err));
		close(self);
		return err;
	}
	fd = bpf_iter_create(bpf_link__fd(link));
	err = fd < 0 ? -errno : 0;
	if (setns(self, CLONE_NEWNET)) {
		/* Going on in the wrong namespace would mislead. */
		err = -errno;
		ts_err("cannot return to our network namespace: %s", strerror(-err));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	close(self);
	return fd < 0 ? err : fd;
}

/* Read an iterator to its end. */
static int read_all(int fd, struct rbuf *b)
{
	ssize_t r;

	for (;;) {
		if (b->cap - b->len < (64 << 10)) {
			size_t cap = b->cap ? b->cap * 2 : (1 << 20);
			char *p = realloc(b->data, cap);

			if (!p)
				return -ENOMEM;
			b->data = p;
			b->cap = cap;
		}
		r = read(fd, b->data + b->len, b->cap - b->len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return 0;
		b->len += (size_t)r;
	}
}

static int run_iter(const struct ts_snapshotter *s, struct bpf_link *link,
		    bool in_netns, const char *what, struct rbuf *b)
{
	int fd, err;

	fd = iter_create(s, link, in_netns);
	if (fd < 0) {
		ts_err("cannot create the %s iterator: %s", what, strerror(-fd));
		return fd;
	}
	err = read_all(fd, b);
	close(fd);
	if (err)
		ts_err("reading the %s iterator failed: %s", what, strerror(-err));
	return err;
}

/* inode -> first struct ts_snap_file holding it; open addressing. */
struct owner_map {
	const struct ts_snap_file **slot;
	size_t mask;
};

static size_t hash_ino(uint64_t ino)
{
	ino ^= ino >> 33;
	ino *= 0xff51afd7ed558ccdULL;
	ino ^= ino >> 33;
	return (size_t)ino;
}

static int owners_build(struct owner_map *m, const struct ts_snap_file *f,
			size_t n)
{
	size_t cap = 16;

	while (cap < 2 * n)
		cap *= 2;
	m->slot = calloc(cap, sizeof(*m->slot));
	if (!m->slot)
		return -ENOMEM;
	m->mask = cap - 1;
	/* Iteration goes by pid: the first holder kept is the lowest pid,
	 * as netstat shows one process for a shared socket. */
	for (size_t i = 0; i < n; i++) {
		size_t h = hash_ino(f[i].inode) & m->mask;

		while (m->slot[h] && m->slot[h]->inode != f[i].inode)
			h = (h + 1) & m->mask;
		if (!m->slot[h])
			m->slot[h] = &f[i];
	}
	return 0;
}

static const struct ts_snap_file *owners_find(const struct owner_map *m,
					      uint64_t ino)
{
	size_t h = hash_ino(ino) & m->mask;

	while (m->slot[h]) {
		if (m->slot[h]->inode == ino)
			return m->slot[h];
		h = (h + 1) & m->mask;
	}
	return NULL;
}

static int join_owners(struct ts_sock *socks, size_t n, const struct rbuf *b)
{
	const struct ts_snap_file *f = (const void *)b->data;
	size_t nf = b->len / sizeof(*f);
	struct owner_map m = {};
	int err;

	if (b->len % sizeof(*f)) {
		ts_err("the iter/task_file stream has a partial record (%zu bytes)",
		       b->len);
		return -EPROTO;
	}
	if (!nf)
		return 0;
	err = owners_build(&m, f, nf);
	if (err) {
		ts_err("out of memory");
		return err;
	}
	for (size_t i = 0; i < n; i++) {
		const struct ts_snap_file *o;

		if (!socks[i].inode)
			continue;
		o = owners_find(&m, socks[i].inode);
		if (!o)
			continue;
		socks[i].pid = o->pid;
		memcpy(socks[i].comm, o->comm, TS_COMM_LEN);
		socks[i].comm[TS_COMM_LEN] = '\0';
	}
	free(m.slot);
	return 0;
}

static int decode_all(struct ts_snapshotter *s, const struct rbuf *b,
		      struct ts_sock **out, size_t *n)
{
	size_t nrec = b->len / TS_SNAP_REC_SIZE, k = 0;
	const struct ts_snap_end *e;
	struct ts_sock *socks;
	int err;

	if (b->len % TS_SNAP_REC_SIZE || nrec < 1) {
		ts_err("the iter/tcp stream is malformed (%zu bytes)", b->len);
		return -EPROTO;
	}
	e = (const void *)(b->data + (nrec - 1) * TS_SNAP_REC_SIZE);
	err = ts_snap_check_end(e);
	if (err) {
		ts_err("the iter/tcp stream %s",
		       err == -EPROTO ? "comes from another version" :
					"is incomplete (no end record)");
		return err;
	}
	if (!s->hz) {
		s->hz = ts_snap_infer_hz(e->jiffies, e->mono_ns);
		ts_info("kernel HZ inferred as %u", s->hz);
	}
	socks = malloc((nrec > 1 ? nrec - 1 : 1) * sizeof(*socks));
	if (!socks) {
		ts_err("out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i + 1 < nrec; i++) {
		const struct ts_snap_sock *r =
			(const void *)(b->data + i * TS_SNAP_REC_SIZE);

		if (ts_snap_decode_sock(r, s->hz, &socks[k])) {
			/* Not silently: a bad record means a bug. */
			ts_warn("skipped a malformed socket record (type %u, family %u, state %u)",
				r->type, r->family, r->state);
			continue;
		}
		k++;
	}
	*out = socks;
	*n = k;
	return 0;
}

int ts_snapshotter__collect(struct ts_snapshotter *s, struct ts_sock **out,
			    size_t *n)
{
	struct rbuf tcp = {}, files = {};
	struct ts_sock *socks = NULL;
	size_t nsocks = 0;
	int err;

	err = run_iter(s, s->tcp_link, true, "iter/tcp", &tcp);
	if (err)
		goto cleanup;
	if (s->files_link) {
		err = run_iter(s, s->files_link, false, "iter/task_file", &files);
		if (err)
			goto cleanup;
	}
	err = decode_all(s, &tcp, &socks, &nsocks);
	if (err)
		goto cleanup;
	if (s->files_link) {
		err = join_owners(socks, nsocks, &files);
		if (err)
			goto cleanup;
	}
	*out = socks;
	*n = nsocks;
	socks = NULL;
cleanup:
	free(socks);
	free(tcp.data);
	free(files.data);
	return err;
}

int ts_snapshot_collect(const struct ts_snapshot_opts *o, struct ts_sock **out,
			size_t *n)
{
	struct ts_snapshotter *s = NULL;
	int err;

	err = ts_snapshotter__new(o, &s);
	if (err)
		return err;
	err = ts_snapshotter__collect(s, out, n);
	ts_snapshotter__free(s);
	return err;
}
