// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The metrics sink on synthetic records and connections: the exposition
 * text against tests/data/metrics.prom (TS_UPDATE_GOLDEN=1 rewrites it),
 * label values bounded with "other", label escaping; and the JSON log
 * sink's rotation at object boundaries and reopening.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "core/sinks/sink_jsonlog.h"
#include "core/sinks/sink_metrics.h"

#define MS 1000000ULL

static struct ts_rec rec(enum ts_rec_type t, int old, int new, uint16_t sport,
			 const char *comm)
{
	struct ts_rec r;

	memset(&r, 0, sizeof(r));
	r.type = t;
	r.family = 4;
	r.conn = 1;
	r.ts_ns = 1000 * MS;
	r.old_state = (uint8_t)old;
	r.new_state = (uint8_t)new;
	r.sport = sport;
	r.dport = 80;
	snprintf(r.comm, sizeof(r.comm), "%s", comm);
	return r;
}

static struct ts_conn conn(enum ts_role role, enum ts_close_kind close,
			   int64_t hs_ns, uint64_t life_ns)
{
	struct ts_conn c;

	memset(&c, 0, sizeof(c));
	c.id = 7;
	c.family = 4;
	c.saddr[0] = 127;
	c.saddr[3] = 1;
	c.daddr[0] = 127;
	c.daddr[3] = 1;
	c.sport = 40000;
	c.dport = 80;
	c.role = role;
	c.close = close;
	c.ended = close != TS_CLOSE_OPEN;
	c.handshake_ns = hs_ns;
	c.lifetime_ns = life_ns;
	c.start_ns = 1000 * MS;
	c.end_ns = c.start_ns + life_ns;
	snprintf(c.comm, sizeof(c.comm), "curl");
	return c;
}

static char *render(struct ts_metrics *m, const struct ts_proc_stats *ps,
		    size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	CHECK(f != NULL);
	CHECK_INT(ts_metrics__render(m, ps, f), 0);
	fclose(f);
	return buf;
}

static void test_exposition(void)
{
	struct ts_metrics_opts o = { .max_label_values = 2, .version = "9.9.9",
				     .tp_mode = "btf" };
	struct ts_proc_stats ps = { .cpu_ns = 1250000000ULL, .rss_bytes = 4096,
				    .vsize_bytes = 8192, .open_fds = 9,
				    .max_fds = 1024, .start_time_s = 1700000000 };
	struct ts_tracker_stats tst = { .live = 3, .evicted = 1 };
	uint32_t socks[TS_STATE_MAX] = { [TS_ESTABLISHED] = 4, [TS_LISTEN] = 2,
					 [TS_TIME_WAIT] = 1 };
	struct ts_metrics *m = NULL;
	struct ts_conn cs[4];
	struct ts_rec rs[12];
	struct ts_sink s;
	char *buf;
	size_t len = 0;
	int n = 0;

	CHECK_INT(ts_metrics__new(&o, &m), 0);
	if (!m)
		return;
	CHECK_INT(ts_sink_metrics__new(&s, m), 0);
	rs[n++] = rec(TS_REC_STATE, TS_CLOSE, TS_SYN_SENT, 0, "curl");
	rs[n++] = rec(TS_REC_STATE, TS_CLOSE, TS_SYN_SENT, 0, "curl");
	rs[n++] = rec(TS_REC_STATE, TS_SYN_SENT, TS_ESTABLISHED, 40000, "curl");
	/* A name to escape (a quote, a backslash, a control byte). */
	rs[n++] = rec(TS_REC_STATE, TS_LISTEN, TS_SYN_RECV, 443, "we\"ird\\\x01");
	/* A third process name and a third port: both past the bound of 2. */
	rs[n++] = rec(TS_REC_STATE, TS_LISTEN, TS_SYN_RECV, 80, "nginx");
	rs[n++] = rec(TS_REC_STATE, TS_LISTEN, TS_SYN_RECV, 8080, "redis");
	rs[n++] = rec(TS_REC_RETRANS, TS_SYN_SENT, TS_SYN_SENT, 0, "curl");
	rs[n++] = rec(TS_REC_RETRANS, TS_ESTABLISHED, TS_ESTABLISHED, 0, "curl");
	rs[n++] = rec(TS_REC_SYNACK_RETRANS, TS_LISTEN, TS_LISTEN, 80, "");
	rs[n++] = rec(TS_REC_RESET_SENT, 0, TS_ESTABLISHED, 0, "");
	rs[n++] = rec(TS_REC_RESET_RECV, 0, TS_ESTABLISHED, 0, "");
	ts_rec_lost(&rs[n++], 1000 * MS, 5);
	for (int i = 0; i < n; i++)
		CHECK_INT(s.ops->rec(s.priv, &rs[i]), 0);
	cs[0] = conn(TS_ROLE_CLIENT, TS_CLOSE_ACTIVE, 80000, 1500 * MS);
	cs[1] = conn(TS_ROLE_SERVER, TS_CLOSE_PASSIVE, 20000, 2 * MS);
	cs[0].rtx_untraced = 2; /* failed transmits the socket counted */
	cs[1].rtx_untraced = 1;
	cs[2] = conn(TS_ROLE_CLIENT, TS_CLOSE_REFUSED, -1, 100000);
	cs[3] = conn(TS_ROLE_CLIENT, TS_CLOSE_OPEN, 3000 * MS, 0); /* open at exit */
	for (int i = 0; i < 4; i++)
		CHECK_INT(s.ops->conn_end(s.priv, &cs[i]), 0);
	ts_metrics__set_tracker(m, &tst);
	ts_metrics__set_sockets(m, socks);
	buf = render(m, &ps, &len);
	check_golden(buf, len, "metrics.prom");
	CHECK(strstr(buf, "\ntcpscope_retransmissions_untraced_total 3\n") != NULL);
	/* The bound: two values of their own, then "other". */
	CHECK(strstr(buf, "{role=\"server\",port=\"443\",comm=\"we\\\"ird\\\\?\"} 1\n") != NULL);
	CHECK(strstr(buf, "{role=\"server\",port=\"80\",comm=\"other\"} 1\n") != NULL);
	CHECK(strstr(buf, "{role=\"server\",port=\"other\",comm=\"other\"} 1\n") != NULL);
	/* Handshakes of every connection that had one, open ones included. */
	CHECK(strstr(buf, "tcpscope_handshake_duration_seconds_count{role=\"client\"} 2\n") != NULL);
	CHECK(strstr(buf, "tcpscope_connection_lifetime_seconds_sum{role=\"client\"} 1.5001\n") != NULL);
	free(buf);
	ts_metrics__free(m);

	o.max_label_values = TS_METRICS_MAX_LABEL_VALUES + 1;
	CHECK_INT(ts_metrics__new(&o, &m), -ERANGE);
}

static size_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? (size_t)-1 : (size_t)st.st_size;
}

/* Every line of path is one whole JSON object. */
static int whole_lines(const char *path)
{
	char line[4096];
	int n = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		size_t l = strlen(line);

		if (l < 3 || line[0] != '{' || line[l - 1] != '\n' || line[l - 2] != '}') {
			n = -1;
			break;
		}
		n++;
	}
	fclose(f);
	return n;
}

static void test_jsonlog(void)
{
	char dir[] = "/tmp/tsjsonlogXXXXXX", path[256], p1[280], p2[280], p3[280];
	struct ts_meta meta = {};
	struct ts_jsonlog *l = NULL;
	struct ts_totals t = {};
	struct ts_conn c = conn(TS_ROLE_CLIENT, TS_CLOSE_ACTIVE, 80000, 2 * MS);
	struct ts_sink s;
	int total;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/conns.json", dir);
	snprintf(p1, sizeof(p1), "%s.1", path);
	snprintf(p2, sizeof(p2), "%s.2", path);
	snprintf(p3, sizeof(p3), "%s.3", path);
	{
		struct ts_jsonlog_opts o = { .path = path, .max_size = 4096, .keep = 2 };

		CHECK_INT(ts_jsonlog__new(&o, &meta, &l), 0);
	}
	if (!l)
		return;
	ts_sink_jsonlog__new(&s, l);
	for (int i = 0; i < 100; i++)
		CHECK_INT(s.ops->conn_end(s.priv, &c), 0);
	CHECK_INT(s.ops->flush(s.priv), 0);
	CHECK(ts_jsonlog__rotations(l) >= 2);
	CHECK(file_size(path) <= 4096);
	CHECK(file_size(p1) <= 4096 && file_size(p1) > 2048);
	CHECK(file_size(p2) <= 4096 && file_size(p2) > 2048);
	CHECK(access(p3, F_OK) != 0); /* keep 2 */
	total = whole_lines(path);
	CHECK(total > 0 && whole_lines(p1) > 0 && whole_lines(p2) > 0);

	/* logrotate moved the file away: SIGHUP's reopen makes a new one. */
	CHECK_INT(rename(path, p3), 0);
	CHECK_INT(ts_jsonlog__reopen(l), 0);
	CHECK_INT(s.ops->conn_end(s.priv, &c), 0);
	CHECK_INT(s.ops->finish(s.priv, &t), 0);
	CHECK_INT(whole_lines(path), 2); /* the connection and the summary */
	CHECK_INT(whole_lines(p3), total);
	CHECK_INT((int)ts_jsonlog__dropped(l), 0);
	s.ops->destroy(s.priv);

	/* A symlink is never followed. */
	unlink(path);
	CHECK_INT(symlink(p3, path), 0);
	{
		struct ts_jsonlog_opts o = { .path = path };

		l = NULL;
		CHECK(ts_jsonlog__new(&o, &meta, &l) < 0);
	}
	unlink(path);
	unlink(p1);
	unlink(p2);
	unlink(p3);
	rmdir(dir);
}

int main(void)
{
	test_exposition();
	test_jsonlog();
	return check_report();
}
