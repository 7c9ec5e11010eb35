// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * churn: a TCP connection-churn load generator for the benchmarks.
 *
 * Server threads accept on one loopback listener; client threads make
 * complete connections (connect, send one byte, read the echo, close) until
 * N connections are done or the time limit passes.  On 127.0.0.1 each
 * client thread connects from a loopback address of its own (127.0.0.2,
 * .3, ...; the port chosen at connect(), IP_BIND_ADDRESS_NO_PORT): from
 * one address every connection takes an ephemeral port that, in
 * client-close mode, then waits in TIME_WAIT before connect() may take it
 * again, which capped the rate, untraced, at ~14 300 connections/s in
 * some runs and ~28 000 in others (connect() keeps to half the range while
 * it finds ports there).  In client-close mode
 * the client closes first (client side goes through FIN_WAIT1/FIN_WAIT2,
 * TIME_WAIT lands on the client); in server-close mode the server closes
 * first.  Every connection runs the full handshake and teardown, so each
 * one gives the tracepoints the same ten state changes.
 *
 * Output: one line for people, then one "churn:" line of key=value pairs
 * for scripts.  Exit status is 0 only when no connection failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64

enum close_mode { CLIENT_CLOSE, SERVER_CLOSE };

struct churn_opts {
	uint64_t count;	   /* connections to make in total */
	uint64_t limit_ms; /* stop starting new ones after this long */
	uint64_t rate;	   /* connections per second at most; 0: as fast as possible */
	unsigned int clients;
	unsigned int servers;
	enum close_mode mode;
	const char *addr;
};

struct churn {
	struct churn_opts o;
	struct sockaddr_storage sa;
	socklen_t salen;
	int lfd;
	/* Clients connect from 127.0.0.2 + their number (see above). */
	bool spread;
	uint64_t start_ns;
	uint64_t deadline_ns;
	atomic_uint_fast64_t claimed;	/* connections handed to clients */
	atomic_uint_fast64_t done;	/* connections completed by clients */
	atomic_uint_fast64_t failed;	/* client-side failures */
	atomic_uint_fast64_t srv_failed; /* server-side failures */
	atomic_int first_errno;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void note_error(struct churn *c, atomic_uint_fast64_t *counter, int err)
{
	int zero = 0;

	atomic_fetch_add(counter, 1);
	atomic_compare_exchange_strong(&c->first_errno, &zero, err);
}

/* Wait for the peer's FIN: read() returns 0 once it has arrived. */
static int wait_eof(int fd)
{
	char b;
	ssize_t n;

	do
		n = read(fd, &b, 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == 0 ? 0 : -EPROTO;
}

static int xfer(int fd, bool send_first)
{
	char b = 'x';
	ssize_t n;

	if (send_first && write(fd, &b, 1) != 1)
		return -errno;
	do
		n = read(fd, &b, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		return n < 0 ? -errno : -EPROTO;
	if (!send_first && write(fd, &b, 1) != 1)
		return -errno;
	return 0;
}

static void *server_main(void *arg)
{
	struct churn *c = arg;

	for (;;) {
		int fd = accept(c->lfd, NULL, NULL);
		int err;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			/* The listener was shut down: the run is over. */
			break;
		}
		err = xfer(fd, false);
		if (!err && c->o.mode == CLIENT_CLOSE)
			err = wait_eof(fd);
		if (err)
			note_error(c, &c->srv_failed, -err);
		close(fd);
	}
	return NULL;
}

/* A client thread: its number, for its source address. */
struct client_arg {
	struct churn *c;
	unsigned int k;
};

static int one_connection(struct churn *c, unsigned int k)
{
	int one = 1, err = 0;
	int fd;

	fd = socket(c->sa.ss_family, SOCK_STREAM, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (c->spread) {
		struct sockaddr_in from = {
			.sin_family = AF_INET,
			.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 2 + k),
		};

		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&from, sizeof(from))) {
			err = -errno;
			goto out;
		}
	}
	if (connect(fd, (struct sockaddr *)&c->sa, c->salen)) {
		err = -errno;
		goto out;
	}
	err = xfer(fd, true);
	if (!err && c->o.mode == SERVER_CLOSE)
		err = wait_eof(fd);
out:
	close(fd);
	return err;
}

static void *client_main(void *arg)
{
	struct client_arg *a = arg;
	struct churn *c = a->c;

	for (;;) {
		uint64_t i = atomic_fetch_add(&c->claimed, 1);
		int err;

		if (i >= c->o.count || now_ns() >= c->deadline_ns)
			break;
		/*
		 * Paced: connection i starts no earlier than i / rate seconds
		 * in, so the event rate is the benchmark's, not the machine's.
		 */
		if (c->o.rate) {
			uint64_t due = c->start_ns + i * 1000000000ULL / c->o.rate;
			uint64_t t = now_ns();

			if (due >= c->deadline_ns)
				break;
			if (due > t) {
				struct timespec d = { .tv_sec = (due - t) / 1000000000ULL,
						      .tv_nsec = (due - t) % 1000000000ULL };

				nanosleep(&d, NULL);
			}
		}
		err = one_connection(c, a->k);
		if (err)
			note_error(c, &c->failed, -err);
		else
			atomic_fetch_add(&c->done, 1);
	}
	return NULL;
}

static int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: churn [-n COUNT] [-d MS] [-r RATE] [-c CLIENTS] [-s SERVERS] [-m client-close|server-close] [-a ADDR]\n"
		"  -n COUNT   connections to make (default 100000)\n"
		"  -d MS      time limit in milliseconds (default 10000)\n"
		"  -r RATE    at most RATE connections per second, evenly paced\n"
		"             (default: as fast as the machine goes)\n"
		"  -c N       client threads (default 4)\n"
		"  -s N       server threads (default 4)\n"
		"  -m MODE    which side closes first (default client-close)\n"
		"  -a ADDR    loopback address to use: 127.0.0.1 (default) or ::1\n");
}

static int parse_args(int argc, char **argv, struct churn_opts *o)
{
	uint64_t v;
	int ch;

	while ((ch = getopt(argc, argv, "n:d:r:c:s:m:a:h")) != -1) {
		switch (ch) {
		case 'n':
			if (parse_u64(optarg, 1, 1000000000ULL, &o->count))
				goto bad;
			break;
		case 'd':
			if (parse_u64(optarg, 1, 3600000, &o->limit_ms))
				goto bad;
			break;
		case 'r':
			if (parse_u64(optarg, 1, 10000000, &o->rate))
				goto bad;
			break;
		case 'c':
		case 's':
			if (parse_u64(optarg, 1, MAX_THREADS, &v))
				goto bad;
			if (ch == 'c')
				o->clients = v;
			else
				o->servers = v;
			break;
		case 'm':
			if (!strcmp(optarg, "client-close"))
				o->mode = CLIENT_CLOSE;
			else if (!strcmp(optarg, "server-close"))
				o->mode = SERVER_CLOSE;
			else
				goto bad;
			break;
		case 'a':
			o->addr = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "churn: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
bad:
	fprintf(stderr, "churn: invalid value '%s' for -%c\n", optarg, ch);
	return -EINVAL;
}

static int make_listener(struct churn *c)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)&c->sa;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&c->sa;
	int one = 1;

	memset(&c->sa, 0, sizeof(c->sa));
	if (inet_pton(AF_INET, c->o.addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		c->salen = sizeof(*s4);
		c->spread = s4->sin_addr.s_addr == htonl(INADDR_LOOPBACK);
	} else if (inet_pton(AF_INET6, c->o.addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		c->salen = sizeof(*s6);
	} else {
		fprintf(stderr, "churn: invalid address '%s'\n", c->o.addr);
		return -EINVAL;
	}
	c->lfd = socket(c->sa.ss_family, SOCK_STREAM, 0);
	if (c->lfd < 0)
		return -errno;
	setsockopt(c->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Port 0: the kernel picks a free one, read back below. */
	if (bind(c->lfd, (struct sockaddr *)&c->sa, c->salen) ||
	    listen(c->lfd, 4096) ||
	    getsockname(c->lfd, (struct sockaddr *)&c->sa, &c->salen))
		return -errno;
	return 0;
}

int main(int argc, char **argv)
{
	static struct churn c = {
		.o = { .count = 100000, .limit_ms = 10000, .clients = 4,
		       .servers = 4, .mode = CLIENT_CLOSE, .addr = "127.0.0.1" },
		.lfd = -1,
	};
	static struct client_arg carg[MAX_THREADS];
	pthread_t srv[MAX_THREADS], cli[MAX_THREADS];
	unsigned int nsrv = 0, ncli = 0;
	uint64_t start, end, done, failed;
	double secs;
	int err, ret = 1;

	if (parse_args(argc, argv, &c.o))
		return 2;
	err = make_listener(&c);
	if (err) {
		fprintf(stderr, "churn: cannot listen on %s: %s\n", c.o.addr,
			strerror(-err));
		goto cleanup;
	}
	for (; nsrv < c.o.servers; nsrv++) {
		err = pthread_create(&srv[nsrv], NULL, server_main, &c);
		if (err) {
			fprintf(stderr, "churn: pthread_create: %s\n", strerror(err));
			goto cleanup;
		}
	}
	start = now_ns();
	c.start_ns = start;
	c.deadline_ns = start + c.o.limit_ms * 1000000ULL;
	for (; ncli < c.o.clients; ncli++) {
		carg[ncli] = (struct client_arg){ .c = &c, .k = ncli };
		err = pthread_create(&cli[ncli], NULL, client_main, &carg[ncli]);
		if (err) {
			fprintf(stderr, "churn: pthread_create: %s\n", strerror(err));
			break;
		}
	}
	for (unsigned int i = 0; i < ncli; i++)
		pthread_join(cli[i], NULL);
	end = now_ns();
	if (err)
		goto cleanup;

	done = atomic_load(&c.done);
	failed = atomic_load(&c.failed) + atomic_load(&c.srv_failed);
	secs = (double)(end - start) / 1e9;
	printf("%llu connections in %.3f s: %.0f conn/s (%s, %u clients, %u servers, %llu failed)\n",
	       (unsigned long long)done, secs, done / secs,
	       c.o.mode == CLIENT_CLOSE ? "client-close" : "server-close",
	       c.o.clients, c.o.servers, (unsigned long long)failed);
	printf("churn: conns=%llu secs=%.6f rate=%.1f failed=%llu mode=%s clients=%u servers=%u\n",
	       (unsigned long long)done, secs, done / secs,
	       (unsigned long long)failed,
	       c.o.mode == CLIENT_CLOSE ? "client-close" : "server-close",
	       c.o.clients, c.o.servers);
	if (failed)
		fprintf(stderr, "churn: %llu connections failed (first error: %s)\n",
			(unsigned long long)failed, strerror(atomic_load(&c.first_errno)));
	ret = failed ? 1 : 0;
cleanup:
	/* shutdown() wakes the threads blocked in accept(). */
	if (c.lfd >= 0)
		shutdown(c.lfd, SHUT_RDWR);
	for (unsigned int i = 0; i < nsrv; i++)
		pthread_join(srv[i], NULL);
	if (c.lfd >= 0)
		close(c.lfd);
	return ret;
}
