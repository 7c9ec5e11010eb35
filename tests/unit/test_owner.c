// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Owners (issue 12) without the kernel: container ids from cgroup paths,
 * and -p holding a passive connection's records until accept() names the
 * process that holds it.
 */
#include <stdio.h>
#include <string.h>
#include "check.h"
#include "core/stream/pipeline.h"
#include "core/util/cgroup.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void expect_container(const char *path, const char *want)
{
	char got[TS_CONTAINER_LEN];
	bool found = ts_cgroup_container(path, got, sizeof(got));

	CHECK_INT(found, want != NULL);
	CHECK_STR(got, want ? want : "");
}

static void test_containers(void)
{
	/* docker, systemd and cgroupfs drivers */
	expect_container("/system.slice/docker-" HEX64 ".scope", HEX64);
	expect_container("/docker/" HEX64, HEX64);
	/* containerd and cri-o under Kubernetes */
	expect_container("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1234.slice/cri-containerd-" HEX64 ".scope",
			 HEX64);
	expect_container("/kubepods/besteffort/pod4f1c2a7e-0000-4000-8000-000000000001/" HEX64, HEX64);
	expect_container("/kubepods.slice/kubepods-pod1.slice/crio-" HEX64 ".scope", HEX64);
	/* podman */
	expect_container("/machine.slice/libpod-" HEX64 ".scope", HEX64);
	expect_container("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" HEX64 ".scope/container",
			 HEX64);
	/* systemd units: the innermost one */
	expect_container("/system.slice/nginx.service", "nginx.service");
	expect_container("/user.slice/user-1000.slice/session-3.scope", "session-3.scope");
	expect_container("/system.slice/redis-server.service/sub", "redis-server.service");
	/* nothing */
	expect_container("/", NULL);
	expect_container("/ts-test/plain", NULL);
	expect_container("/docker/nothex", NULL);
	expect_container("/docker-12.scope", "docker-12.scope"); /* too short an id: a unit */

	CHECK(ts_cgroup_under("/a/b", "/a"));
	CHECK(ts_cgroup_under("/a", "/a"));
	CHECK(ts_cgroup_under("/a/b", "/a/"));
	CHECK(!ts_cgroup_under("/ab", "/a"));
	CHECK(ts_cgroup_under("/x", "/"));
}

/* A sink that records what reached it. */
struct seen {
	int n;
	uint32_t pid[16];
	uint8_t to[16];
};

static int seen_rec(void *priv, const struct ts_rec *r)
{
	struct seen *s = priv;

	if (s->n < 16) {
		s->pid[s->n] = r->pid;
		s->to[s->n++] = r->new_state;
	}
	return 0;
}

static const struct ts_sink_ops seen_ops = { .name = "seen", .rec = seen_rec };

static struct ts_rec rec(uint64_t conn, uint32_t pid, uint8_t from, uint8_t to, uint8_t flags)
{
	struct ts_rec r = {
		.type = TS_REC_STATE, .family = 4, .conn = conn, .pid = pid,
		.old_state = from, .new_state = to, .flags = flags, .sport = 80,
	};

	return r;
}

/* A pipeline filtered by f into one sink that lives on the caller's stack. */
static void pipe_open(struct ts_pipeline *p, const struct ts_filter *f,
		      const struct ts_sink_ops *ops, void *priv)
{
	ts_pipeline__init(p, f, NULL);
	CHECK_INT(ts_pipeline__add_sink(p, (struct ts_sink){ ops, priv }), 0);
}

static void pipe_close(struct ts_pipeline *p)
{
	p->nsinks = 0; /* the sink is not the pipeline's to free */
	ts_pipeline__free(p);
}

static void test_hold_until_accept(void)
{
	const uint8_t L = TS_F_OWNER_LISTENER, A = TS_F_OWNER_LISTENER | TS_F_ACCEPTED;
	struct ts_filter f = { .pid = 200 };
	struct ts_pipeline p;
	struct seen s = {};
	struct ts_rec r;

	pipe_open(&p, &f, &seen_ops, &s);
	/* conn 1: accepted by 200, the -p process: all of it, in order. */
	r = rec(1, 100, TS_LISTEN, TS_SYN_RECV, L);
	ts_pipeline__push(&p, &r);
	r = rec(1, 100, TS_SYN_RECV, TS_ESTABLISHED, L);
	ts_pipeline__push(&p, &r);
	/* conn 2: accepted by another worker: none of it. */
	r = rec(2, 100, TS_LISTEN, TS_SYN_RECV, L);
	ts_pipeline__push(&p, &r);
	r = rec(2, 100, TS_SYN_RECV, TS_ESTABLISHED, L);
	ts_pipeline__push(&p, &r);
	CHECK_INT(s.n, 0);
	r = rec(2, 300, TS_ESTABLISHED, TS_CLOSE_WAIT, A);
	ts_pipeline__push(&p, &r);
	r = rec(1, 200, TS_ESTABLISHED, TS_CLOSE_WAIT, A);
	ts_pipeline__push(&p, &r);
	r = rec(2, 300, TS_CLOSE_WAIT, TS_LAST_ACK, A);
	ts_pipeline__push(&p, &r);
	/* conn 3: closed before anyone accepted it: nothing. */
	r = rec(3, 100, TS_LISTEN, TS_SYN_RECV, L);
	ts_pipeline__push(&p, &r);
	r = rec(3, 100, TS_SYN_RECV, TS_CLOSE, L);
	ts_pipeline__push(&p, &r);
	r = rec(3, 200, TS_CLOSE, TS_CLOSE, A); /* never happens; must not revive it */
	ts_pipeline__push(&p, &r);
	CHECK_INT(s.n, 4);
	CHECK_INT(s.pid[0], 100);
	CHECK_INT(s.to[0], TS_SYN_RECV);
	CHECK_INT(s.to[1], TS_ESTABLISHED);
	CHECK_INT(s.pid[2], 200);
	CHECK_INT(s.to[2], TS_CLOSE_WAIT);
	CHECK_INT(s.pid[3], 200); /* the stray record of conn 3 itself */
	CHECK_INT(p.totals.records, 4);
	pipe_close(&p);
}

static int count_rec(void *priv, const struct ts_rec *r)
{
	(void)r;
	(*(unsigned int *)priv)++;
	return 0;
}

static const struct ts_sink_ops count_ops = { .name = "count", .rec = count_rec };

/*
 * Many connections waiting for accept() at once (random ids, as socket
 * cookies interleaved with other sockets' are): each keeps its records,
 * however their hashes fall (a direct-mapped table lost ~20 of these).
 */
static void test_hold_many_pending(void)
{
	const uint8_t L = TS_F_OWNER_LISTENER, A = TS_F_OWNER_LISTENER | TS_F_ACCEPTED;
	enum { N = 200 };
	struct ts_filter f = { .pid = 200 };
	uint64_t ids[N], x = 0x2545f4914f6cdd1dULL;
	unsigned int seen = 0;
	struct ts_pipeline p;
	struct ts_rec r;

	pipe_open(&p, &f, &count_ops, &seen);
	for (int i = 0; i < N; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		ids[i] = x | 1;
		r = rec(ids[i], 100, TS_LISTEN, TS_SYN_RECV, L);
		ts_pipeline__push(&p, &r);
		r = rec(ids[i], 100, TS_SYN_RECV, TS_ESTABLISHED, L);
		ts_pipeline__push(&p, &r);
	}
	CHECK_INT(seen, 0);
	for (int i = 0; i < N; i++) {
		r = rec(ids[i], 200, TS_ESTABLISHED, TS_CLOSE_WAIT, A);
		ts_pipeline__push(&p, &r);
	}
	CHECK_INT(seen, 3 * N);
	CHECK_INT(p.totals.held_forgotten, 0);
	pipe_close(&p);
}

/*
 * Beyond the hold's bounds records are forgotten, and counted: what is
 * shown and what is counted forgotten add up to every record.
 */
static void test_hold_overflow_counted(void)
{
	const uint8_t L = TS_F_OWNER_LISTENER, A = TS_F_OWNER_LISTENER | TS_F_ACCEPTED;
	enum { N = 3000 };
	struct ts_filter f = { .pid = 200 };
	unsigned int seen = 0;
	struct ts_pipeline p;
	struct ts_rec r;

	pipe_open(&p, &f, &count_ops, &seen);
	for (uint64_t i = 1; i <= N; i++) {
		r = rec(i * 7919, 100, TS_LISTEN, TS_SYN_RECV, L);
		ts_pipeline__push(&p, &r);
		r = rec(i * 7919, 100, TS_SYN_RECV, TS_ESTABLISHED, L);
		ts_pipeline__push(&p, &r);
	}
	for (uint64_t i = 1; i <= N; i++) {
		r = rec(i * 7919, 200, TS_ESTABLISHED, TS_CLOSE_WAIT, A);
		ts_pipeline__push(&p, &r);
	}
	/* 3000 pending connections in 1024 slots: most are forgotten. */
	CHECK(p.totals.held_forgotten >= 2 * (N - 1024));
	CHECK_INT(seen + p.totals.held_forgotten, 3 * N);
	pipe_close(&p);

	/* One connection with more records before accept() than are held. */
	seen = 0;
	pipe_open(&p, &f, &count_ops, &seen);
	r = rec(42, 100, TS_LISTEN, TS_SYN_RECV, L);
	for (int i = 0; i < 6; i++)
		ts_pipeline__push(&p, &r);
	r = rec(42, 200, TS_ESTABLISHED, TS_CLOSE_WAIT, A);
	ts_pipeline__push(&p, &r);
	CHECK_INT(seen, 5);
	CHECK_INT(p.totals.held_forgotten, 2);
	pipe_close(&p);
}

int main(void)
{
	test_containers();
	test_hold_until_accept();
	test_hold_many_pending();
	test_hold_overflow_counted();
	return check_report();
}
