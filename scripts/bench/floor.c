// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tcpscope-floor: load and attach the floor programs, then wait for SIGINT
 * or SIGTERM.  "attached" on stdout tells the benchmark that the programs
 * are in place.
 *
 *   tcpscope-floor              empty programs (the floor)
 *   tcpscope-floor --ring N     a ring-buffer record of N bytes per state
 *                               change (32, 64, 96, 128), read and dropped
 *   tcpscope-floor --storage N  the same, with per-socket storage
 *   tcpscope-floor --lru N      the same, with the value in an LRU hash
 *   tcpscope-floor --hash N     the same, in a preallocated plain hash
 *   tcpscope-floor --percpu 96  --ring 96 with a ring for each CPU
 *   tcpscope-floor --perf       a 96-byte record through a perf buffer
 *                               (one per CPU, 256 pages each)
 *   tcpscope-floor --lean 96 [--without PARTS]
 *                               what a tcpscope without per-socket state
 *                               in the kernel does at least: a 96-byte
 *                               record with tuple, cookie, namespace (on
 *                               births), owner (on syscall transitions),
 *                               listener lookup (passive births), and a
 *                               second program that checks the first ran;
 *                               PARTS (comma-separated: owner, listener,
 *                               netns, cookie, flags) are left out, to
 *                               split its cost
 *
 * The ring's reader works as tcpscope's does: woken once an eighth of the
 * ring waits (checked once in 32 records per CPU), else every 100 ms.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "floor.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int on_rec(void *ctx, void *data, size_t len)
{
	(void)data;
	*(unsigned long long *)ctx += len ? 1 : 0;
	return 0;
}

static void on_perf(void *ctx, int cpu, void *data, __u32 len)
{
	(void)cpu;
	(void)data;
	*(unsigned long long *)ctx += len ? 1 : 0;
}

/* lean_rescues summed over the CPUs; -1 when it cannot be read. */
static long long lean_rescues(struct floor_bpf *skel)
{
	int ncpu = libbpf_num_possible_cpus();
	long long sum = 0;
	__u32 zero = 0;
	__u64 *v;

	if (ncpu <= 0)
		return -1;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -1;
	if (bpf_map__lookup_elem(skel->maps.lean_rescues, &zero, sizeof(zero), v,
				 sizeof(*v) * (size_t)ncpu, 0))
		sum = -1;
	for (int i = 0; sum >= 0 && i < ncpu; i++)
		sum += (long long)v[i];
	free(v);
	return sum;
}

/*
 * --percpu: a ring for each possible CPU in the outer map, all read by
 * one ring_buffer (as a per-CPU tcpscope would: one epoll, a merge after).
 */
static int percpu_rings(struct floor_bpf *skel, struct ring_buffer **rbp,
			unsigned long long *recs)
{
	int ncpu = libbpf_num_possible_cpus(), err = 0;
	struct ring_buffer *rb = NULL;

	if (ncpu <= 0 || ncpu > 256)
		return -EINVAL;
	for (int cpu = 0; cpu < ncpu && !err; cpu++) {
		__u32 key = (__u32)cpu;
		int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, NULL, 0, 0, 16u << 20, NULL);

		if (fd < 0) {
			err = -errno;
			break;
		}
		err = bpf_map_update_elem(bpf_map__fd(skel->maps.rings), &key, &fd, 0);
		if (!err && !rb)
			rb = ring_buffer__new(fd, on_rec, recs, NULL);
		else if (!err)
			err = ring_buffer__add(rb, fd, on_rec, recs);
		if (!err && !rb)
			err = -errno;
		close(fd); /* the outer map and the reader hold it */
	}
	if (err) {
		fprintf(stderr, "tcpscope-floor: per-CPU rings: %s\n", strerror(-err));
		ring_buffer__free(rb);
		return err;
	}
	*rbp = rb;
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: tcpscope-floor [--ring BYTES | --storage BYTES | --lru BYTES | --hash BYTES |\n"
			"                       --percpu 96 | --perf |\n"
			"                       --lean 96 [--without owner,listener,netns,cookie,flags]]\n"
			"  (BYTES: 32, 64, 96 or 128)\n");
	return 2;
}

/* --without's list as lean_skip bits (floor.bpf.c); -1 on a bad word. */
static long lean_parts(char *list)
{
	static const char *const names[] = { "owner", "listener", "netns", "cookie", "flags" };
	char *save = NULL, *w;
	long bits = 0;

	for (w = strtok_r(list, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		unsigned int i;

		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!strcmp(w, names[i]))
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			return -1;
		bits |= 1L << i;
	}
	return bits;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	unsigned long long recs = 0;
	struct ring_buffer *rb = NULL;
	struct perf_buffer *pb = NULL;
	struct floor_bpf *skel;
	sigset_t block, old;
	long size = 0, skip = 0;
	int err, mode = 0;

	if (argc == 2 && !strcmp(argv[1], "--perf")) {
		mode = 3;
	} else if ((argc == 3 || argc == 5) && !strcmp(argv[1], "--lean")) {
		mode = 5;
		if (strcmp(argv[2], "96"))
			return usage();
		size = 96;
		if (argc == 5 && (strcmp(argv[3], "--without") ||
				  (skip = lean_parts(argv[4])) < 0))
			return usage();
	} else if (argc == 3 && (!strcmp(argv[1], "--ring") || !strcmp(argv[1], "--storage") ||
				 !strcmp(argv[1], "--lru") || !strcmp(argv[1], "--hash"))) {
		mode = argv[1][2] == 'r' ? 1 : argv[1][2] == 's' ? 2 : argv[1][2] == 'l' ? 4 : 6;
		size = strtol(argv[2], NULL, 10);
		if (size != 32 && size != 64 && size != 96 && size != 128)
			return usage();
	} else if (argc == 3 && !strcmp(argv[1], "--percpu")) {
		mode = 7;
		if (strcmp(argv[2], "96"))
			return usage();
		size = 96;
	} else if (argc != 1) {
		return usage();
	}
	libbpf_set_print(quiet);
	/* Blocked until the wait: a signal cannot slip in before it. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	skel = floor_bpf__open();
	if (!skel) {
		fprintf(stderr, "tcpscope-floor: opening failed: %s\n", strerror(errno));
		return 1;
	}
	bpf_program__set_autoload(skel->progs.floor_state, mode == 0);
	bpf_program__set_autoload(skel->progs.floor_retrans, mode == 0);
	bpf_program__set_autoload(skel->progs.ring_state, mode == 1);
	bpf_program__set_autoload(skel->progs.store_state, mode == 2);
	bpf_program__set_autoload(skel->progs.perf_state, mode == 3);
	bpf_program__set_autoload(skel->progs.lru_state, mode == 4);
	bpf_program__set_autoload(skel->progs.hash_state, mode == 6);
	bpf_program__set_autoload(skel->progs.pcpu_state, mode == 7);
	/* lean_state comes first in the object: attached (and run) first. */
	bpf_program__set_autoload(skel->progs.lean_state, mode == 5);
	bpf_program__set_autoload(skel->progs.lean_check, mode == 5);
	skel->rodata->rec_size = (__u32)size;
	skel->rodata->lean_skip = (__u32)skip;
	skel->rodata->wakeup_bytes = (16u << 20) / 8;
	err = floor_bpf__load(skel);
	if (err) {
		fprintf(stderr, "tcpscope-floor: loading failed: %s (run as root)\n",
			strerror(-err));
		goto cleanup;
	}
	err = floor_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "tcpscope-floor: attaching failed: %s\n",
			strerror(-err));
		goto cleanup;
	}
	if (mode == 3) {
		pb = perf_buffer__new(bpf_map__fd(skel->maps.perf), 256, on_perf, NULL,
				      &recs, NULL);
		if (!pb) {
			err = -errno;
			fprintf(stderr, "tcpscope-floor: perf buffer: %s\n", strerror(-err));
			goto cleanup;
		}
		sigprocmask(SIG_SETMASK, &old, NULL);
	} else if (mode == 7) {
		err = percpu_rings(skel, &rb, &recs);
		if (err)
			goto cleanup;
		sigprocmask(SIG_SETMASK, &old, NULL);
	} else if (mode) {
		rb = ring_buffer__new(bpf_map__fd(skel->maps.ring), on_rec, &recs, NULL);
		if (!rb) {
			err = -errno;
			fprintf(stderr, "tcpscope-floor: ring: %s\n", strerror(-err));
			goto cleanup;
		}
		sigprocmask(SIG_SETMASK, &old, NULL);
	}
	printf("attached\n");
	fflush(stdout);
	while (!stop) {
		if (!rb && !pb) {
			sigsuspend(&old);
			continue;
		}
		err = rb ? ring_buffer__poll(rb, 100) : perf_buffer__poll(pb, 100);
		/*
		 * A wait that ended without a wakeup read nothing: drain as
		 * tcpscope does after every wait (it found 40 409 of some
		 * 60 000 records read without this).
		 */
		if (rb && err >= 0)
			err = ring_buffer__consume(rb);
		if (err < 0 && err != -EINTR) {
			fprintf(stderr, "tcpscope-floor: ring: %s\n", strerror(-err));
			break;
		}
		err = 0;
	}
	if (rb || pb)
		fprintf(stderr, "tcpscope-floor: %llu records\n", recs);
	if (mode == 5)
		fprintf(stderr, "tcpscope-floor: %lld changes lean_check would rescue "
			"(-1: unknown)\n", lean_rescues(skel));
cleanup:
	ring_buffer__free(rb);
	perf_buffer__free(pb);
	floor_bpf__destroy(skel);
	return err ? 1 : 0;
}
