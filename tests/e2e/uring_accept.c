// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * uring_accept: accept N connections on an inherited listening socket with
 * io_uring's IORING_OP_ACCEPT (no accept system call), answer each with
 * "ok\n" and close it.  Connection i is accepted the way i % 3 says:
 * 0 once it is pending (the accept completes inline, in this task), 1 by
 * a request made before it arrives (io_uring arms a poll and completes
 * in this task's task work, unless the connection came first), 2 with
 * IOSQE_ASYNC (an io-wq worker: a thread of this process since 5.12, a
 * kernel thread before).  For tests/e2e/test_owner_uring.py: the listener
 * belongs to another process, so whether tcpscope names this one as the
 * connections' owner tells whether it saw io_uring's accepts.
 *
 *   uring_accept LISTEN_FD N TIMEOUT_S
 *
 * Prints "ready" once its ring is set up, then one line per accepted
 * connection.  Exit status: 0 all N accepted, 1 an error (one line),
 * 2 usage, 3 io_uring unavailable (ENOSYS, EPERM: disabled by sysctl).
 * Raw system calls, no liburing: the ring's three mappings by hand.
 */
#include <errno.h>
#include <linux/io_uring.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct ring {
	int fd;
	unsigned *sq_tail, *sq_mask, *sq_array;
	unsigned *cq_head, *cq_tail, *cq_mask;
	struct io_uring_cqe *cqes;
	struct io_uring_sqe *sqes;
};

static int ring_init(struct ring *r)
{
	struct io_uring_params p;
	void *sq, *cq;

	memset(&p, 0, sizeof(p));
	r->fd = (int)syscall(__NR_io_uring_setup, 4, &p);
	if (r->fd < 0)
		return -errno;
	sq = mmap(NULL, p.sq_off.array + p.sq_entries * sizeof(unsigned),
		  PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd,
		  IORING_OFF_SQ_RING);
	cq = mmap(NULL, p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe),
		  PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd,
		  IORING_OFF_CQ_RING);
	r->sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe),
		       PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd,
		       IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || r->sqes == MAP_FAILED)
		return -errno;
	r->sq_tail = (unsigned *)((char *)sq + p.sq_off.tail);
	r->sq_mask = (unsigned *)((char *)sq + p.sq_off.ring_mask);
	r->sq_array = (unsigned *)((char *)sq + p.sq_off.array);
	r->cq_head = (unsigned *)((char *)cq + p.cq_off.head);
	r->cq_tail = (unsigned *)((char *)cq + p.cq_off.tail);
	r->cq_mask = (unsigned *)((char *)cq + p.cq_off.ring_mask);
	r->cqes = (struct io_uring_cqe *)((char *)cq + p.cq_off.cqes);
	return 0;
}

/* One accept submitted (the way 'how' says) and waited for: the new fd,
 * or -errno. */
static int uring_accept(struct ring *r, int lfd, int how, int timeout_ms)
{
	unsigned tail = *r->sq_tail, idx = tail & *r->sq_mask, head;
	struct io_uring_sqe *sqe = &r->sqes[idx];
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };
	int res;

	/* Way 1 waits in io_uring_enter(), bounded by main()'s alarm. */
	if (how != 1 && poll(&pfd, 1, timeout_ms) != 1)
		return -ETIMEDOUT;
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_ACCEPT;
	sqe->fd = lfd;
	if (how == 2)
		sqe->flags = IOSQE_ASYNC;
	r->sq_array[idx] = idx;
	__atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
	if (syscall(__NR_io_uring_enter, r->fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0)
		return -errno;
	head = *r->cq_head;
	if (head == __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE))
		return -EAGAIN;
	res = r->cqes[head & *r->cq_mask].res;
	__atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
	return res;
}

int main(int argc, char **argv)
{
	struct ring r = { .fd = -1 };
	int lfd, n, timeout_s, err;

	if (argc != 4 || (lfd = atoi(argv[1])) < 0 || (n = atoi(argv[2])) <= 0 ||
	    n > 1000 || (timeout_s = atoi(argv[3])) <= 0 || timeout_s > 600) {
		fprintf(stderr, "usage: uring_accept LISTEN_FD N(1-1000) TIMEOUT_S(1-600)\n");
		return 2;
	}
	err = ring_init(&r);
	if (err) {
		fprintf(stderr, "uring_accept: io_uring: %s\n", strerror(-err));
		return err == -ENOSYS || err == -EPERM ? 3 : 1;
	}
	/* The whole run's bound: SIGALRM ends it (the test sees the signal). */
	alarm((unsigned)timeout_s);
	printf("ready\n");
	fflush(stdout);
	for (int i = 0; i < n; i++) {
		int fd = uring_accept(&r, lfd, i % 3, timeout_s * 1000);

		if (fd < 0) {
			fprintf(stderr, "uring_accept: accept %d: %s\n", i, strerror(-fd));
			return 1;
		}
		if (write(fd, "ok\n", 3) != 3) {
			fprintf(stderr, "uring_accept: write: %s\n", strerror(errno));
			return 1;
		}
		close(fd);
		printf("accepted %d\n", i);
		fflush(stdout);
	}
	return 0;
}
