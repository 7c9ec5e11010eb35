// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The snapshot's table (golden text and JSON in tests/data/), its row
 * selection, port names, the -s summary and hints, and the decoding of
 * the iterators' records.  Set TS_UPDATE_GOLDEN=1 to rewrite the golden
 * files (then review them with git diff).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include "check.h"
#include "core/sock/snaprec.h"
#include "core/sock/sock_stats.h"
#include "core/sock/sock_table.h"
#include "core/stream/states.h"

#define NSOCKS 8

static void sock(struct ts_sock *s, int family, const char *sa, uint16_t sp,
		 const char *da, uint16_t dp, int state)
{
	memset(s, 0, sizeof(*s));
	s->family = (uint8_t)family;
	s->state = (uint8_t)state;
	s->sport = sp;
	s->dport = dp;
	inet_pton(family == 6 ? AF_INET6 : AF_INET, sa, s->saddr);
	inet_pton(family == 6 ? AF_INET6 : AF_INET, da, s->daddr);
}

static void own(struct ts_sock *s, uint32_t pid, const char *comm,
		uint64_t inode, uint32_t uid)
{
	s->pid = pid;
	snprintf(s->comm, sizeof(s->comm), "%s", comm);
	s->inode = inode;
	s->uid = uid;
}

/* One of each kind netstat shows. */
static void sample(struct ts_sock *s)
{
	sock(&s[0], 4, "0.0.0.0", 22, "0.0.0.0", 0, TS_LISTEN);
	own(&s[0], 812, "sshd", 18001, 0);
	s[0].recv_q = 0;
	s[0].send_q = 128;
	sock(&s[1], 6, "::", 80, "::", 0, TS_LISTEN);
	own(&s[1], 900, "nginx", 18002, 33);
	s[1].recv_q = 3;
	s[1].send_q = 511;
	sock(&s[2], 4, "198.18.0.1", 22, "198.18.0.2", 51000, TS_ESTABLISHED);
	own(&s[2], 4242, "sshd", 18003, 0);
	s[2].timer = TS_TIMER_KEEPALIVE;
	s[2].timer_ms = 7199990;
	s[2].send_q = 36;
	s[2].cookie = 4097;
	s[2].netns = 4026531840u;
	sock(&s[3], 6, "2001:db8::1", 80, "2001:db8:0:1234:5678:9abc:def0:1", 443,
	     TS_ESTABLISHED);
	own(&s[3], 900, "nginx", 18004, 33);
	s[3].timer = TS_TIMER_ON;
	s[3].timer_ms = 204;
	s[3].retransmits = 2;
	s[3].recv_q = 17;
	sock(&s[4], 4, "198.18.0.1", 40000, "198.18.0.2", 80, TS_TIME_WAIT);
	s[4].timer = TS_TIMER_TIMEWAIT;
	s[4].timer_ms = 59870;
	sock(&s[5], 4, "198.18.0.1", 22, "198.18.0.3", 40001, TS_SYN_RECV);
	s[5].timer = TS_TIMER_ON;
	s[5].timer_ms = 1000;
	s[5].retransmits = 1;
	sock(&s[6], 4, "127.0.0.1", 5432, "127.0.0.1", 40002, TS_CLOSE_WAIT);
	own(&s[6], 1500, "app", 18005, 1000);
	s[6].recv_q = 1;
	sock(&s[7], 4, "127.0.0.1", 40003, "127.0.0.1", 9, TS_FIN_WAIT2);
	own(&s[7], 1500, "app", 18006, 1000);
	s[7].timer = TS_TIMER_PROBE;
	s[7].timer_ms = 1500;
	s[7].probes = 3;
}

static void table_golden(const struct ts_table_opts *o,
			 const struct ts_portnames *names, const char *name,
			 int rows)
{
	struct ts_sock s[NSOCKS];
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	sample(s);
	CHECK_INT(ts_table__print(f, o, names, s, NSOCKS), rows);
	fclose(f);
	check_golden(buf, len, name);
	free(buf);
}

static void test_tables(void)
{
	struct ts_portnames *names = NULL;
	char path[512];

	table_golden(&(struct ts_table_opts){ .all = true, .numeric = true, .title = true },
		     NULL, "snapshot_an.txt", 8);
	/* Default: no listeners; -p -e -o columns. */
	table_golden(&(struct ts_table_opts){ .numeric = true, .pids = true,
					      .extend = true, .timers = true, .title = true },
		     NULL, "snapshot_npeo.txt", 6);
	/* Port names from a services file; addresses stay numeric. */
	snprintf(path, sizeof(path), "%s/services", TS_TEST_DATA);
	CHECK_INT(ts_portnames__load(path, &names), 0);
	table_golden(&(struct ts_table_opts){ .listening = true, .title = true },
		     names, "snapshot_l_names.txt", 2);
	ts_portnames__free(names);
}

static void test_json(void)
{
	struct ts_sock s[NSOCKS];
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	sample(s);
	CHECK_INT(ts_table__print_json(f, &(struct ts_table_opts){ .all = true }, s, NSOCKS,
				       5000000000ULL, 1763726400000000000LL),
		  NSOCKS);
	fclose(f);
	check_golden(buf, len, "snapshot.jsonl");
	free(buf);
}

static void test_selection(void)
{
	struct ts_sock s[NSOCKS];
	struct ts_table_opts o = {};
	int n;

	sample(s);
	n = 0;
	for (int i = 0; i < NSOCKS; i++)
		n += ts_table_selected(&o, &s[i]);
	CHECK_INT(n, 6); /* no listeners by default */
	o.listening = true;
	n = 0;
	for (int i = 0; i < NSOCKS; i++)
		n += ts_table_selected(&o, &s[i]);
	CHECK_INT(n, 2);
	/* --state wins over -l, as a filter of its own. */
	o.states = 1u << TS_TIME_WAIT | 1u << TS_SYN_RECV;
	n = 0;
	for (int i = 0; i < NSOCKS; i++)
		n += ts_table_selected(&o, &s[i]);
	CHECK_INT(n, 2);
	o = (struct ts_table_opts){ .all = true, .family = 6 };
	n = 0;
	for (int i = 0; i < NSOCKS; i++)
		n += ts_table_selected(&o, &s[i]);
	CHECK_INT(n, 2);
	/* A state the table cannot name is never shown. */
	s[0].state = 40;
	CHECK(!ts_table_selected(&o, &s[0]));
	CHECK_STR(ts_timer_name(TS_TIMER_KEEPALIVE), "keepalive");
	CHECK_STR(ts_timer_name(99), "off");
}

static void test_portnames(void)
{
	struct ts_portnames *p = NULL;
	char path[512];

	snprintf(path, sizeof(path), "%s/services", TS_TEST_DATA);
	CHECK_INT(ts_portnames__load(path, &p), 0);
	CHECK_STR(ts_portname(p, 22), "ssh");
	CHECK_STR(ts_portname(p, 80), "http"); /* the first name of a port */
	CHECK(ts_portname(p, 53) == NULL);    /* udp only */
	CHECK(ts_portname(p, 99) == NULL);    /* malformed line */
	CHECK(ts_portname(NULL, 22) == NULL);
	ts_portnames__free(p);
	/* No services file: no names, no error. */
	CHECK_INT(ts_portnames__load("/nonexistent/services", &p), 0);
	CHECK(ts_portname(p, 22) == NULL);
	ts_portnames__free(p);
}

static void stats_text(const struct ts_sock_stats *st, const char *name)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CHECK_INT(ts_stats__print(f, st, 3, NULL), 0);
	fclose(f);
	check_golden(buf, len, name);
	free(buf);
}

static bool has_hint(const struct ts_sock_stats *st, const char *kind)
{
	for (size_t i = 0; i < st->nhints; i++)
		if (!strcmp(st->hints[i].kind, kind))
			return true;
	return false;
}

static void test_stats(void)
{
	struct ts_hint_limits lim = TS_HINT_LIMITS_DEFAULT;
	struct ts_table_opts all = { .all = true };
	struct ts_stats_history hist = {};
	struct ts_sock_stats st;
	struct ts_sock *s;
	size_t n = 0;

	/* The sample plus 150 SYN_RECV, 40 ESTABLISHED to :443 (two
	 * processes), and 5 CLOSE_WAIT held by pid 1500. */
	s = calloc(NSOCKS + 200, sizeof(*s));
	sample(s);
	n = NSOCKS;
	for (int i = 0; i < 150; i++, n++) {
		sock(&s[n], 4, "198.18.0.1", 443, "198.18.1.1", (uint16_t)(1000 + i),
		     TS_SYN_RECV);
	}
	for (int i = 0; i < 40; i++, n++) {
		sock(&s[n], 4, "198.18.0.1", 443, "198.18.2.1", (uint16_t)(1000 + i),
		     TS_ESTABLISHED);
		own(&s[n], i < 30 ? 700 : 701, "web", 20000 + (uint64_t)i, 0);
	}
	for (int i = 0; i < 5; i++, n++) {
		sock(&s[n], 4, "127.0.0.1", 5432, "127.0.0.1", (uint16_t)(2000 + i),
		     TS_CLOSE_WAIT);
		own(&s[n], 1500, "app", 30000 + (uint64_t)i, 0);
	}

	CHECK_INT(ts_stats__compute(&all, s, n, &lim, &hist, &st), 0);
	CHECK_INT(st.total, n);
	CHECK_INT(st.v6, 2);
	CHECK_INT(st.by_state[TS_SYN_RECV], 151);
	CHECK_INT(st.by_state[TS_CLOSE_WAIT], 6);
	CHECK_INT(st.by_state[TS_LISTEN], 2);
	CHECK_INT(st.nports, 3);
	CHECK_INT(st.ports[0].port, 443);
	CHECK_INT(st.ports[0].count, 40);
	CHECK_INT(st.ports[1].port, 22); /* ties: by port */
	CHECK_INT(st.cw_pid, 1500);
	CHECK_INT(st.cw_count, 6);
	CHECK(has_hint(&st, "syn_flood"));
	CHECK(!has_hint(&st, "time_wait"));
	CHECK(!has_hint(&st, "close_wait")); /* 6 < 100, not growing yet */
	stats_text(&st, "snapshot_stats.txt");
	ts_stats__free(&st);

	/* CLOSE_WAIT growing across -c iterations: hinted on the third
	 * snapshot (two intervals of growth), not before. */
	n -= 4; /* 2 CLOSE_WAIT */
	hist = (struct ts_stats_history){};
	for (int it = 0; it < 3; it++) {
		CHECK_INT(ts_stats__compute(&all, s, n, &lim, &hist, &st), 0);
		CHECK(has_hint(&st, "close_wait") == (it == 2));
		ts_stats__free(&st);
		n++;
	}
	/* Flat counts: no hint. */
	CHECK_INT(ts_stats__compute(&all, s, n - 1, &lim, &hist, &st), 0);
	CHECK(!has_hint(&st, "close_wait"));
	ts_stats__free(&st);

	/* Lower limits: TIME_WAIT and CLOSE_WAIT by count; none by --state. */
	lim.time_wait = 1;
	lim.close_wait = 2;
	CHECK_INT(ts_stats__compute(&all, s, n, &lim, NULL, &st), 0);
	CHECK(has_hint(&st, "time_wait") && has_hint(&st, "close_wait"));
	CHECK(strstr(st.hints[st.nhints - 1].text, "1500/app") != NULL);
	ts_stats__free(&st);
	CHECK_INT(ts_stats__compute(&(struct ts_table_opts){ .states = 1u << TS_LISTEN },
				   s, n, &lim, NULL, &st), 0);
	CHECK_INT(st.total, 2);
	CHECK_INT(st.nhints, 0);
	stats_text(&st, "snapshot_stats_none.txt");
	ts_stats__free(&st);
	free(s);
}

static void test_snaprec(void)
{
	struct ts_snap_sock r = {};
	struct ts_snap_end e = {};
	struct ts_sock s;
	const uint64_t base = 1ULL << 32;

	/* 1000 s after boot, at each HZ. */
	CHECK_INT(ts_snap_infer_hz(base - 300 * 250 + 1000 * 250, 1000000000000ULL), 250);
	CHECK_INT(ts_snap_infer_hz(base - 300 * 1000 + 1000 * 1000, 1000000000000ULL), 1000);
	CHECK_INT(ts_snap_infer_hz(base - 300 * 100 + 1000 * 100, 1000000000000ULL), 100);
	CHECK_INT(ts_snap_infer_hz(base - 300 * 300 + 1000 * 300, 1000000000000ULL), 300);

	e.type = TS_SNAP_END;
	e.version = TS_SNAP_VERSION;
	e.rec_size = TS_SNAP_REC_SIZE;
	CHECK_INT(ts_snap_check_end(&e), 0);
	e.version = TS_SNAP_VERSION + 1;
	CHECK_INT(ts_snap_check_end(&e), -EPROTO);
	e.version = TS_SNAP_VERSION;
	e.rec_size = 64;
	CHECK_INT(ts_snap_check_end(&e), -EINVAL);

	r.type = TS_SNAP_SOCK;
	r.family = 4;
	r.state = TS_ESTABLISHED;
	r.timer = TS_SNAP_TIMER_KEEPALIVE;
	r.timer_jiffies = 500;
	r.sport = 22;
	CHECK_INT(ts_snap_decode_sock(&r, 250, &s), 0);
	CHECK_INT(s.timer_ms, 2000);
	CHECK_INT(s.sport, 22);
	r.state = TS_NEW_SYN_RECV; /* reported as SYN_RECV by the program */
	CHECK_INT(ts_snap_decode_sock(&r, 250, &s), -EINVAL);
	r.state = 0;
	CHECK_INT(ts_snap_decode_sock(&r, 250, &s), -EINVAL);
	r.state = TS_LISTEN;
	r.family = 5;
	CHECK_INT(ts_snap_decode_sock(&r, 250, &s), -EINVAL);
	r.family = 6;
	r.timer = 9;
	CHECK_INT(ts_snap_decode_sock(&r, 250, &s), -EINVAL);
	r.timer = 0;
	CHECK_INT(ts_snap_decode_sock(&r, 0, &s), -EINVAL);
	r.timer_jiffies = 0x7fffffff;
	CHECK_INT(ts_snap_decode_sock(&r, 100, &s), 0);
	CHECK_INT(s.timer_ms, INT32_MAX); /* clamped, not wrapped */
}

int main(void)
{
	test_tables();
	test_json();
	test_selection();
	test_portnames();
	test_stats();
	test_snaprec();
	return check_report();
}
