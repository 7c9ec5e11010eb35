// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Snapshot of the TCP sockets: get the iterators of snapshot.bpf.c (from
 * pins, the light skeleton or libbpf: snapshot_load.h), read their streams
 * in large chunks, decode, and join socket inodes with the processes that
 * hold them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/nsfs.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "kernel/preflight.h"
#include "kernel/snapshot.h"
#include "kernel/snapshot_load.h"
#include "kernel/snapshot_pin.h"
#include "core/util/fmt.h"
#include "core/util/log.h"
#include "core/sock/snaprec.h"

struct ts_snapshotter {
	struct ts_snap_lskel *lskel;   /* loaded by the light skeleton, or */
	struct ts_snap_libbpf *libbpf; /* by libbpf, or neither: pinned */
	int tcp_fd;	/* the iterator links, from the above or pinned */
	int files_fd;
	bool own_fds;	/* opened from pins: close them */
	int netns_fd; /* target namespace, -1 for our own */
	uint32_t netns; /* its inode number */
	bool cookie_helper;
	unsigned int hz; /* 0 until the first end record */
	/* READ_BUF bytes for reading iter/tcp; records are read in place, so
	 * the buffer is aligned as they are (UBSan: misaligned access). */
	char buf[] __attribute__((aligned(8)));
};

/* Large reads: the kernel fills at most its seq_file buffer (32 KiB) per
 * read, so this only saves looping in here. */
#define READ_BUF (256 << 10)

/* A growing buffer holding one iterator's whole output. */
struct rbuf {
	char *data;
	size_t len;
	size_t cap;
};

static int netns_inode(int fd, uint32_t *out)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	*out = (uint32_t)st.st_ino;
	return 0;
}

/* The namespace to snapshot: its inode, and an fd to enter it unless it
 * is ours. */
static int open_netns(struct ts_snapshotter *s, const char *netns_path)
{
	const char *path = netns_path ? netns_path : "/proc/self/ns/net";
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		ts_err("cannot open network namespace %s: %s", path, strerror(-err));
		return err;
	}
	err = netns_inode(fd, &s->netns);
	if (!err) {
		/* Not a namespace file: ENOTTY; another kind: its type. */
		int type = ioctl(fd, NS_GET_NSTYPE);

		if (type < 0)
			err = errno == ENOTTY ? -EINVAL : -errno;
		else if (type != CLONE_NEWNET)
			err = -EINVAL;
	}
	if (err) {
		close(fd);
		ts_err("%s is not a network namespace (%s)", path, strerror(-err));
		return err;
	}
	if (netns_path)
		s->netns_fd = fd;
	else
		close(fd);
	return 0;
}

/* --pin: the iterators pinned by an earlier run; -ENOENT if none. */
static int open_pinned(struct ts_snapshotter *s, const struct ts_snapshot_opts *o,
		       const char *pin_dir, uint64_t t0)
{
	int err = ts_pin__open(pin_dir, &s->tcp_fd, o->pids ? &s->files_fd : NULL);

	if (!err) {
		s->own_fds = true;
		ts_info("pinned snapshot iterators opened from %s in %.1f ms",
			pin_dir, (double)(ts_now_mono_ns() - t0) / 1e6);
		return 0;
	}
	if (err != -ENOENT && err != -EPERM)
		ts_err("%s does not hold tcpscope's iterators (%s): remove it with 'tcpscope snapshot --unpin'",
		       pin_dir, strerror(-err));
	return err;
}

/* The light skeleton, else (in auto mode) libbpf's. */
static int load_iterators(struct ts_snapshotter *s, const struct ts_snapshot_opts *o,
			  const struct ts_snap_want *want, int *files_fd)
{
	int err;

	if (o->loader != TS_SNAP_LOADER_LIBBPF) {
		err = ts_snap_lskel__open(want, &s->lskel, &s->tcp_fd, files_fd);
		if (!err) {
			s->cookie_helper = true;
			ts_info("snapshot iterators loaded by the light skeleton (CO-RE in the kernel)");
			return 0;
		}
		if (o->loader == TS_SNAP_LOADER_LIGHT) {
			ts_err("the light skeleton did not load (%s): it needs Linux 5.17+ (try --loader libbpf)",
			       strerror(-err));
			return err;
		}
		ts_info("the light skeleton did not load (%s): loading with libbpf",
			strerror(-err));
	}
	return ts_snap_libbpf__open(want, &s->libbpf, &s->tcp_fd, files_fd,
				    &s->cookie_helper);
}

/* Load the iterators (and pin them for later runs when pin_dir). */
static int load_new(struct ts_snapshotter *s, const struct ts_snapshot_opts *o,
		    const char *pin_dir, uint64_t t0)
{
	struct ts_snap_want want = {};
	int err, files_fd = -1;

	/* Pinned iterators serve every later run: load them complete. */
	want.files = o->pids || o->pin;
	want.cookies = !o->skip_cookies || o->pin;
	want.timers = !o->skip_timers || o->pin;
	want.inodes = !o->skip_inodes || o->pids || o->pin;
	want.test_no_bpf_loop = getenv("TCPSCOPE_TEST_NO_BPF_LOOP") != NULL;
	err = load_iterators(s, o, &want, &files_fd);
	if (err)
		return err;
	if (o->pids)
		s->files_fd = files_fd;
	if (pin_dir) {
		err = ts_pin__save(pin_dir, s->tcp_fd, files_fd);
		if (err)
			ts_warn("cannot pin the iterators in %s (%s): going on without",
				pin_dir, ts_pin__refusal(err) ?: strerror(-err));
		else
			ts_info("snapshot iterators pinned in %s", pin_dir);
	}
	ts_info("snapshot iterators loaded in %.1f ms (%s socket cookies)",
		(double)(ts_now_mono_ns() - t0) / 1e6,
		!want.cookies ? "no" :
		s->cookie_helper ? "bpf_get_socket_cookie()" : "cached");
	return 0;
}

int ts_snapshotter__new(const struct ts_snapshot_opts *o,
			struct ts_snapshotter **out)
{
	struct ts_snapshotter *s;
	uint64_t t0 = ts_now_mono_ns();
	char pin_dir[256] = "";
	int err;

	err = ts_preflight__privileges("read the sockets");
	if (!err)
		err = ts_preflight__btf();
	if (err)
		return err;
	s = calloc(1, sizeof(*s) + READ_BUF);
	if (!s) {
		ts_err("out of memory");
		return -ENOMEM;
	}
	s->netns_fd = -1;
	s->tcp_fd = -1;
	s->files_fd = -1;
	ts_preflight__libbpf_log();
	err = open_netns(s, o->netns_path);
	if (err)
		goto cleanup;
	if (o->pin) {
		size_t sz = 0;
		const void *elf = ts_snap_libbpf__elf(&sz);

		ts_pin__dir(pin_dir, sizeof(pin_dir), elf, sz);
		err = open_pinned(s, o, pin_dir, t0);
		/* -EPERM: a pin directory we do not trust; pinning says so. */
		if (err == -ENOENT || err == -EPERM)
			err = load_new(s, o, pin_dir, t0);
	} else {
		err = load_new(s, o, NULL, t0);
	}
	if (err)
		goto cleanup;
	*out = s;
	return 0;
cleanup:
	ts_snapshotter__free(s);
	return err;
}

const char *ts_snapshotter__loader_name(const struct ts_snapshotter *s)
{
	return s->own_fds ? "pinned" : s->lskel ? "light skeleton" : "libbpf";
}

bool ts_snapshotter__cookie_helper(const struct ts_snapshotter *s)
{
	return s->cookie_helper;
}

void ts_snapshotter__free(struct ts_snapshotter *s)
{
	if (!s)
		return;
	if (s->own_fds) {
		if (s->tcp_fd >= 0)
			close(s->tcp_fd);
		if (s->files_fd >= 0)
			close(s->files_fd);
	}
	ts_snap_lskel__free(s->lskel);
	ts_snap_libbpf__free(s->libbpf);
	if (s->netns_fd >= 0)
		close(s->netns_fd);
	free(s);
}

/*
 * Create an iterator instance.  iter/tcp covers the network namespace of
 * the process that creates it, so step into the target namespace for the
 * bpf_iter_create() call only.
 */
static int iter_create(const struct ts_snapshotter *s, int link_fd,
		       bool in_netns)
{
	int self = -1, fd, err;

	if (!in_netns || s->netns_fd < 0) {
		fd = bpf_iter_create(link_fd);
		return fd < 0 ? -errno : fd;
	}
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	if (setns(s->netns_fd, CLONE_NEWNET)) {
		err = -errno;
		close(self);
		return err;
	}
	fd = bpf_iter_create(link_fd);
	err = fd < 0 ? -errno : 0;
	if (setns(self, CLONE_NEWNET)) {
		/* Going on in the wrong namespace would mislead. */
		err = -errno;
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

static int run_iter(const struct ts_snapshotter *s, int link,
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

/* Sockets as they are decoded. */
struct sockvec {
	struct ts_sock *v;
	size_t n;
	size_t cap;
};

static struct ts_sock *sockvec_add(struct sockvec *sv)
{
	if (sv->n == sv->cap) {
		size_t cap = sv->cap ? sv->cap * 2 : 8192;
		struct ts_sock *p = realloc(sv->v, cap * sizeof(*p));

		if (!p)
			return NULL;
		sv->v = p;
		sv->cap = cap;
	}
	return &sv->v[sv->n++];
}

/* One record of the iter/tcp stream; 1 once the end record is seen. */
static int take_record(struct ts_snapshotter *s, const void *rec, bool ended,
		       struct sockvec *sv)
{
	const struct ts_snap_sock *r = rec;
	const struct ts_snap_end *e = rec;
	struct ts_sock *k;
	int err;

	if (ended) {
		ts_err("the iter/tcp stream goes on after its end record");
		return -EPROTO;
	}
	if (r->type == TS_SNAP_END) {
		err = ts_snap_check_end(e);
		if (err) {
			ts_err("the iter/tcp stream %s",
			       err == -EPROTO ? "comes from another version" :
						"has a malformed end record");
			return err;
		}
		if (!s->hz) {
			s->hz = ts_snap_infer_hz(e->jiffies, e->mono_ns);
			ts_info("kernel HZ inferred as %u", s->hz);
		}
		/* See check_skipped() in bpf/snapshot.bpf.c. */
		if (e->recovered)
			ts_info("iter/tcp: this kernel's iterator skipped a hash bucket; "
				"its %u socket(s) were read from the bucket",
				e->recovered);
		if (e->flags & TS_SNAP_END_F_INCOMPLETE)
			ts_warn("this kernel's TCP iterator skipped a hash bucket longer than "
				"tcpscope reads back: sockets may be missing (Linux 6.16 "
				"fixed the iterator)");
		return 1;
	}
	k = sockvec_add(sv);
	if (!k) {
		ts_err("out of memory");
		return -ENOMEM;
	}
	/* HZ is known only at the end of the first stream: keep timers in
	 * jiffies (hz 1000 leaves them as they are) and convert then. */
	if (ts_snap_decode_sock(r, 1000, k)) {
		/* Not silently: a bad record means a bug. */
		ts_warn("skipped a malformed socket record (type %u, family %u, state %u)",
			r->type, r->family, r->state);
		sv->n--;
		return 0;
	}
	k->netns = s->netns;
	return 0;
}

/* Read the iter/tcp stream in large chunks, decoding as it comes. */
static int read_socks(struct ts_snapshotter *s, int fd, struct sockvec *sv)
{
	size_t have = 0, off;
	bool ended = false;
	ssize_t r;
	int err;

	for (;;) {
		r = read(fd, s->buf + have, READ_BUF - have);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			ts_err("reading the iter/tcp iterator failed: %s", strerror(-err));
			return err;
		}
		if (r == 0)
			break;
		have += (size_t)r;
		for (off = 0; off + TS_SNAP_REC_SIZE <= have; off += TS_SNAP_REC_SIZE) {
			err = take_record(s, s->buf + off, ended, sv);
			if (err < 0)
				return err;
			if (err)
				ended = true;
		}
		/* A read may end inside a record: keep the tail. */
		memmove(s->buf, s->buf + off, have - off);
		have -= off;
		/*
		 * The end record ends the read that holds it.  Read no more:
		 * 5.10 starts the walk again on the next read(), skipping as
		 * many sockets as it gave, and so gives the sockets made
		 * since then after its end record.
		 */
		if (ended)
			break;
	}
	if (have || !ended) {
		ts_err("the iter/tcp stream is incomplete (%s)",
		       have ? "a partial record" : "no end record");
		return -EPROTO;
	}
	for (size_t i = 0; i < sv->n; i++) {
		int64_t ms = (int64_t)sv->v[i].timer_ms * 1000 / s->hz;

		if (sv->v[i].timer)
			sv->v[i].timer_ms = ms > INT32_MAX ? INT32_MAX : (int32_t)ms;
	}
	return 0;
}

int ts_snapshotter__collect(struct ts_snapshotter *s, struct ts_sock **out,
			    size_t *n)
{
	uint64_t t0 = ts_now_mono_ns(), t1;
	struct sockvec sv = {};
	struct rbuf files = {};
	int fd, err;

	fd = iter_create(s, s->tcp_fd, true);
	if (fd < 0) {
		ts_err("cannot create the iter/tcp iterator: %s", strerror(-fd));
		return fd;
	}
	err = read_socks(s, fd, &sv);
	close(fd);
	if (err)
		goto cleanup;
	t1 = ts_now_mono_ns();
	ts_info("iter/tcp: %zu sockets in %.1f ms", sv.n, (double)(t1 - t0) / 1e6);
	if (s->files_fd >= 0) {
		err = run_iter(s, s->files_fd, false, "iter/task_file", &files);
		if (!err)
			err = join_owners(sv.v, sv.n, &files);
		if (err)
			goto cleanup;
		ts_info("iter/task_file: %zu socket files, joined in %.1f ms",
			files.len / sizeof(struct ts_snap_file),
			(double)(ts_now_mono_ns() - t1) / 1e6);
	}
	*out = sv.v;
	*n = sv.n;
	sv.v = NULL;
cleanup:
	free(sv.v);
	free(files.data);
	return err;
}

int ts_snapshot__collect(const struct ts_snapshot_opts *o, struct ts_sock **out,
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
