// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Decoding of ring-buffer records and the text/JSON formatting of them. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include "check.h"
#include "core/util/fmt.h"
#include "core/stream/record.h"
#include "core/sinks/sinks.h"
#include "core/stream/states.h"
#include "core/stream/step_label.h"

static struct ts_event sample_event(void)
{
	struct ts_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = TS_REC_STATE;
	ev.family = 4;
	ev.old_state = TS_SYN_SENT;
	ev.new_state = TS_ESTABLISHED;
	ev.sport = 40000;
	ev.dport = 80;
	ev.pid = 1234;
	ev.netns = 4026531840u;
	ev.ts_ns = 5000000000ull;
	ev.conn = 77;
	ev.ns_in_old = 1500000;
	inet_pton(AF_INET, "127.0.0.1", ev.saddr);
	inet_pton(AF_INET, "127.0.0.2", ev.daddr);
	memcpy(ev.comm, "curl", 4);
	return ev;
}

static void test_decode_ok(void)
{
	struct ts_event ev = sample_event();
	struct ts_rec r;

	CHECK_INT(ts_rec_decode(&ev, sizeof(ev), &r), 0);
	CHECK_INT(r.type, TS_REC_STATE);
	CHECK_INT(r.sport, 40000);
	CHECK_INT(r.dport, 80);
	CHECK_INT(r.pid, 1234);
	CHECK_INT(r.conn, 77);
	CHECK_STR(r.comm, "curl");
	CHECK(!r.has_stats);
}

/*
 * The live source decodes into a reused batch: a record leaves nothing of
 * the one decoded there before (what the event does not carry is zero,
 * padding included).
 */
static void test_decode_reuses_slot(void)
{
	struct ts_event ev = sample_event();
	struct ts_drop d;
	struct ts_rec clean, reused;

	memset(&clean, 0, sizeof(clean));
	memset(&reused, 0xa5, sizeof(reused));
	CHECK_INT(ts_rec_decode(&ev, sizeof(ev), &clean), 0);
	CHECK_INT(ts_rec_decode(&ev, sizeof(ev), &reused), 0);
	CHECK(memcmp(&clean, &reused, sizeof(clean)) == 0);
	CHECK(reused.cgroup == NULL && reused.where == NULL && reused.reason_name == NULL);
	CHECK(!reused.has_rtx && !reused.has_synack && !reused.has_hs);

	memset(&d, 0, sizeof(d));
	d.type = TS_REC_DROP;
	d.family = 4;
	d.dir = TS_DROP_IN;
	d.location = 0xffffffff81000000ull;
	memset(&clean, 0, sizeof(clean));
	memset(&reused, 0x5a, sizeof(reused));
	CHECK_INT(ts_rec_decode(&d, sizeof(d), &clean), 0);
	CHECK_INT(ts_rec_decode(&d, sizeof(d), &reused), 0);
	CHECK(memcmp(&clean, &reused, sizeof(clean)) == 0);
	CHECK(reused.drop.location == d.location && reused.comm[0] == '\0');
}

static void test_decode_rejects(void)
{
	struct ts_event ev = sample_event();
	struct ts_rec r;

	CHECK_INT(ts_rec_decode(&ev, sizeof(ev) - 1, &r), -EINVAL);
	ev.type = 99;
	CHECK_INT(ts_rec_decode(&ev, sizeof(ev), &r), -EINVAL);
	ev = sample_event();
	ev.new_state = 0;
	CHECK_INT(ts_rec_decode(&ev, sizeof(ev), &r), -EINVAL);
	ev = sample_event();
	ev.old_state = TS_STATE_MAX;
	CHECK_INT(ts_rec_decode(&ev, sizeof(ev), &r), -EINVAL);
	ev = sample_event();
	ev.family = 5;
	CHECK_INT(ts_rec_decode(&ev, sizeof(ev), &r), -EINVAL);
	/* A stats flag on a short record must not read past its end. */
	ev = sample_event();
	ev.flags = TS_F_STATS;
	CHECK_INT(ts_rec_decode(&ev, sizeof(ev), &r), -EINVAL);
}

static void test_decode_close_stats(void)
{
	struct ts_close c;
	struct ts_rec r;

	memset(&c, 0, sizeof(c));
	c.ev = sample_event();
	c.ev.old_state = TS_FIN_WAIT2;
	c.ev.new_state = TS_CLOSE;
	c.ev.flags = TS_F_STATS;
	c.st.segs_out = 100;
	c.st.total_retrans = 3;
	c.st.srtt_us = 42;
	CHECK_INT(ts_rec_decode(&c, sizeof(c), &r), 0);
	CHECK(r.has_stats);
	CHECK_INT(r.st.segs_out, 100);
	CHECK_INT(r.st.total_retrans, 3);
	CHECK_INT(r.st.srtt_us, 42);
}

static void test_comm_terminated(void)
{
	struct ts_event ev = sample_event();
	struct ts_rec r;

	memset(ev.comm, 'A', sizeof(ev.comm)); /* no NUL from the kernel */
	CHECK_INT(ts_rec_decode(&ev, sizeof(ev), &r), 0);
	CHECK_INT(strlen(r.comm), TS_COMM_LEN);
}

static void test_states(void)
{
	CHECK_STR(ts_state_name(TS_FIN_WAIT1), "FIN_WAIT1");
	CHECK_STR(ts_state_name(TS_CLOSE), "CLOSE");
	CHECK_STR(ts_state_name(0), "UNKNOWN");
	CHECK_STR(ts_state_name(200), "UNKNOWN");
	CHECK_INT(ts_state_parse("time-wait"), TS_TIME_WAIT);
	CHECK_INT(ts_state_parse("CLOSE_WAIT"), TS_CLOSE_WAIT);
	CHECK_INT(ts_state_parse("bogus"), -1);
	CHECK_STR(ts_step_label(TS_CLOSE, TS_SYN_SENT), "SYN sent");
	CHECK_STR(ts_step_label(TS_FIN_WAIT1, TS_CLOSING),
		  "FIN received before ACK (simultaneous)");
	/* No blank labels: self-connect, close after shutdown, the unknown. */
	CHECK_STR(ts_step_label(TS_SYN_SENT, TS_SYN_RECV),
		  "SYN received in SYN_SENT (simultaneous)");
	CHECK_STR(ts_step_label(TS_FIN_WAIT1, TS_FIN_WAIT1),
		  "close() after shutdown(): FIN already sent");
	CHECK_STR(ts_step_label(TS_LISTEN, TS_ESTABLISHED), "unusual transition");
	/* Every label fits the compact layouts; every pair of states has one. */
	for (int l = 0; l < TS_LABELS; l++)
		CHECK(*ts_label_text(l) && strlen(ts_label_text(l)) <= TS_LABEL_MAX_LEN);
	for (unsigned int a = 1; a < TS_STATE_MAX; a++)
		for (unsigned int b = 1; b < TS_STATE_MAX; b++)
			CHECK(*ts_step_label(a, b));
}

/* Render into a memory stream and return the text (caller frees). */
static char *render(const struct ts_rec *r, bool json)
{
	struct ts_meta m = { .wall_offset_ns = 0, .color = false };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (json)
		ts_json_write_rec(f, r, &m);
	else
		ts_text_write_rec(f, r, &m);
	fclose(f);
	return buf;
}

static void test_json(void)
{
	struct ts_event ev = sample_event();
	struct ts_rec r;
	char *s;

	memcpy(ev.comm, "a\"b\\c\n", 7);
	ev.cgroup_id = 4242;
	ts_rec_decode(&ev, sizeof(ev), &r);
	CHECK_INT(r.cgroup_id, 4242);
	s = render(&r, true);
	CHECK_STR(s, "{\"event\":\"state\",\"ts_ns\":5000000000,"
		     "\"time\":\"1970-01-01T00:00:05.000000000Z\",\"conn\":77,\"sk\":\"4d\","
		     "\"pid\":1234,\"comm\":\"a\\\"b\\\\c\\n\",\"family\":4,"
		     "\"saddr\":\"127.0.0.1\",\"sport\":40000,"
		     "\"daddr\":\"127.0.0.2\",\"dport\":80,\"netns\":4026531840,"
		     "\"cgroup_id\":4242,\"cgroup\":null,\"container\":null,"
		     "\"from\":\"SYN_SENT\",\"to\":\"ESTABLISHED\","
		     "\"step\":\"SYN-ACK received, ACK sent\",\"in_state_us\":1500,"
		     "\"owner_from_listener\":false,\"accepted\":false}\n");
	free(s);

	ts_rec_lost(&r, 1000000000ull, 12);
	s = render(&r, true);
	CHECK_STR(s, "{\"event\":\"lost\",\"ts_ns\":1000000000,"
		     "\"time\":\"1970-01-01T00:00:01.000000000Z\",\"count\":12}\n");
	free(s);
}

static void test_json_v6_retransmit(void)
{
	struct ts_event ev = sample_event();
	struct ts_rec r;
	char *s;

	ev.type = TS_REC_RETRANS;
	ev.family = 6;
	ev.old_state = ev.new_state = TS_ESTABLISHED;
	memset(ev.saddr, 0, 16);
	memset(ev.daddr, 0, 16);
	ev.saddr[15] = 1;
	inet_pton(AF_INET6, "2001:db8::2", ev.daddr);
	ts_rec_decode(&ev, sizeof(ev), &r);
	s = render(&r, true);
	CHECK(strstr(s, "\"event\":\"retransmit\"") != NULL);
	CHECK(strstr(s, "\"saddr\":\"::1\"") != NULL);
	CHECK(strstr(s, "\"daddr\":\"2001:db8::2\"") != NULL);
	CHECK(strstr(s, "\"state\":\"ESTABLISHED\"") != NULL);
	CHECK(strstr(s, "\"old\"") == NULL);
	free(s);
}

static void test_text(void)
{
	struct ts_event ev = sample_event();
	struct ts_rec r;
	char *s, *p;

	ts_rec_decode(&ev, sizeof(ev), &r);
	s = render(&r, false);
	/* The clock column depends on the local zone; check the rest. */
	p = strchr(s, ' ');
	CHECK(p != NULL);
	CHECK_STR(p, " 1234    curl             127.0.0.1:40000            "
		     "127.0.0.2:80               SYN_SENT -> ESTABLISHED          "
		     "1.500  SYN-ACK received, ACK sent\n");
	free(s);

	ev.type = TS_REC_RETRANS;
	ev.pid = 0;
	ev.comm[0] = 0;
	ts_rec_decode(&ev, sizeof(ev), &r);
	s = render(&r, false);
	CHECK(strstr(s, " -       -                ") != NULL);
	CHECK(strstr(s, "RETRANSMIT in ESTABLISHED") != NULL);
	free(s);
}

/* Where the MS_IN_OLD column ends: TIME PID COMM LOCAL REMOTE EVENT. */
#define MS_END (12 + 1 + 7 + 1 + 16 + 1 + 26 + 1 + 26 + 1 + 28 + 1 + 9)

static void test_text_reset_no_socket(void)
{
	struct ts_event ev = sample_event();
	struct ts_rec r;
	char *state, *rst;

	ts_rec_decode(&ev, sizeof(ev), &r);
	state = render(&r, false);

	/* tcp_send_reset with no socket: conn 0, no owner, state CLOSE. */
	ev.type = TS_REC_RESET_SENT;
	ev.old_state = ev.new_state = TS_CLOSE;
	ev.conn = 0;
	ev.pid = 0;
	ev.comm[0] = 0;
	ev.flags = TS_F_NO_OWNER;
	CHECK_INT(ts_rec_decode(&ev, sizeof(ev), &r), 0);
	rst = render(&r, false);
	CHECK(strstr(rst, "RST sent (no socket)") != NULL);
	CHECK(strstr(rst, "in CLOSE") == NULL);
	/* Columns line up with a state line, and nothing trails. */
	CHECK(strlen(state) > MS_END && state[MS_END] == ' ');
	CHECK_INT(strlen(rst), MS_END + 1);
	CHECK(rst[MS_END - 1] == '-' && rst[MS_END] == '\n');
	CHECK(state[MS_END - 1] == '0' && state[MS_END - 5] == '1');
	free(rst);

	/* With a socket the state it was in is named. */
	ev.conn = 9;
	ev.new_state = ev.old_state = TS_ESTABLISHED;
	ts_rec_decode(&ev, sizeof(ev), &r);
	rst = render(&r, false);
	CHECK(strstr(rst, "RST sent in ESTABLISHED") != NULL);
	CHECK_INT(strlen(rst), MS_END + 1);
	free(rst);
	free(state);
}

/* Column where header word h starts in line hdr. */
static long col(const char *hdr, const char *h)
{
	const char *p = strstr(hdr, h);

	return p ? p - hdr : -1;
}

static void test_text_sink_widens_for_ipv6(void)
{
	struct ts_meta m = { .wall_offset_ns = 0, .color = false };
	struct ts_event ev = sample_event();
	char *buf = NULL, *lines[8], *save = NULL, *p;
	struct ts_sink sink;
	struct ts_rec r;
	size_t len = 0;
	int n = 0;
	FILE *f = open_memstream(&buf, &len);

	CHECK_INT(ts_sink_text__new(&sink, f, &m), 0);
	ts_rec_decode(&ev, sizeof(ev), &r);
	CHECK_INT(sink.ops->rec(sink.priv, &r), 0);
	/* A full-length IPv6 endpoint is wider than the columns. */
	ev.family = 6;
	inet_pton(AF_INET6, "2001:db8:85a3:1234:5678:8a2e:370:7334", ev.saddr);
	inet_pton(AF_INET6, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", ev.daddr);
	ts_rec_decode(&ev, sizeof(ev), &r);
	CHECK_INT(sink.ops->rec(sink.priv, &r), 0);
	ev = sample_event();
	ts_rec_decode(&ev, sizeof(ev), &r);
	CHECK_INT(sink.ops->rec(sink.priv, &r), 0);
	sink.ops->destroy(sink.priv);
	fclose(f);

	for (p = strtok_r(buf, "\n", &save); p && n < 8; p = strtok_r(NULL, "\n", &save))
		lines[n++] = p;
	/* header, v4, new header, v6, v4 */
	CHECK_INT(n, 5);
	if (n != 5) {
		free(buf);
		return;
	}
	CHECK(!strncmp(lines[0], "TIME ", 5) && !strncmp(lines[2], "TIME ", 5));
	CHECK(col(lines[2], "EVENT") > col(lines[0], "EVENT"));
	/* Under each header, every column starts where its title does. */
	CHECK_INT(col(lines[1], "127.0.0.2:80"), col(lines[0], "REMOTE"));
	CHECK_INT(col(lines[1], "SYN_SENT ->"), col(lines[0], "EVENT"));
	CHECK_INT(col(lines[3], "[2001:db8:ffff"), col(lines[2], "REMOTE"));
	CHECK_INT(col(lines[3], "SYN_SENT ->"), col(lines[2], "EVENT"));
	CHECK_INT(col(lines[4], "127.0.0.2:80"), col(lines[2], "REMOTE"));
	CHECK_INT(col(lines[4], "SYN_SENT ->"), col(lines[2], "EVENT"));
	free(buf);
}

static void test_endpoint(void)
{
	uint8_t a[16] = { 0 };
	char buf[TS_ADDRSTR_LEN];

	a[15] = 1;
	ts_fmt_endpoint(buf, sizeof(buf), 6, a, 443);
	CHECK_STR(buf, "[::1]:443");
	ts_fmt_endpoint(buf, sizeof(buf), 6, a, 0);
	CHECK_STR(buf, "[::1]:*");
	inet_pton(AF_INET, "10.1.2.3", a);
	ts_fmt_endpoint(buf, sizeof(buf), 4, a, 8080);
	CHECK_STR(buf, "10.1.2.3:8080");
}

/* The golden text (tests/data/NAME; TS_UPDATE_GOLDEN=1 rewrites it). */
/*
 * Every kind of line through the text sink: a handshake, a graceful close,
 * an abortive one, a refused connect, retransmits, resets (one for no
 * socket), losses; wide, compact (at most 80 columns) and coloured.
 */
static void trace_golden(bool compact, bool color, uint16_t columns, const char *name)
{
	struct ts_meta m = {
		.wall_offset_ns = 0, .color = color, .compact = compact, .columns = columns
	};
	struct ts_event ev;
	struct ts_sink sink;
	struct ts_rec r;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	static const struct {
		int type, from, to, flags;
		uint32_t err;
		uint64_t conn;
	} rows[] = {
		{ TS_REC_STATE, TS_CLOSE, TS_SYN_SENT, 0, 0, 77 },
		{ TS_REC_RETRANS, TS_SYN_SENT, TS_SYN_SENT, 0, 0, 77 },
		{ TS_REC_STATE, TS_SYN_SENT, TS_ESTABLISHED, 0, 0, 77 },
		{ TS_REC_STATE, TS_ESTABLISHED, TS_CLOSE_WAIT, 0, 0, 77 },
		{ TS_REC_STATE, TS_CLOSE_WAIT, TS_CLOSE, 0, 0, 77 },
		{ TS_REC_RESET_SENT, TS_CLOSE_WAIT, TS_CLOSE_WAIT, 0, 0, 77 },
		{ TS_REC_STATE, TS_FIN_WAIT2, TS_CLOSE, TS_F_FIN_RCVD, 0, 78 },
		{ TS_REC_STATE, TS_SYN_SENT, TS_CLOSE, 0, ECONNREFUSED, 79 },
		{ TS_REC_RESET_RECV, TS_SYN_SENT, TS_SYN_SENT, 0, 0, 79 },
		{ TS_REC_RESET_SENT, TS_CLOSE, TS_CLOSE, 0, 0, 0 },
		{ TS_REC_SYNACK_RETRANS, TS_SYN_RECV, TS_SYN_RECV, 0, 0, 80 },
		{ TS_REC_STATE, TS_SYN_SENT, TS_CLOSE, 0, ETIMEDOUT, 81 },
		{ TS_REC_STATE, TS_FIN_WAIT1, TS_FIN_WAIT1, 0, 0, 82 },
	};

	/* The TIME column is the local clock: the goldens are in UTC. */
	setenv("TZ", "UTC", 1);
	tzset();
	CHECK_INT(ts_sink_text__new(&sink, f, &m), 0);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct ts_close c;

		ev = sample_event();
		ev.type = (uint8_t)rows[i].type;
		ev.old_state = (uint8_t)rows[i].from;
		ev.new_state = (uint8_t)rows[i].to;
		ev.flags = (uint8_t)rows[i].flags;
		ev.conn = rows[i].conn;
		ev.ts_ns += i * 1000000ull;
		if (!ev.conn) {
			ev.pid = 0;
			ev.comm[0] = 0;
		}
		if (rows[i].to == TS_CLOSE && rows[i].type == TS_REC_STATE) {
			memset(&c, 0, sizeof(c));
			c.ev = ev;
			c.ev.flags |= TS_F_STATS;
			c.st.err = rows[i].err;
			c.st.segs_out = 10;
			CHECK_INT(ts_rec_decode(&c, sizeof(c), &r), 0);
		} else {
			CHECK_INT(ts_rec_decode(&ev, sizeof(ev), &r), 0);
		}
		CHECK_INT(sink.ops->rec(sink.priv, &r), 0);
	}
	ts_rec_lost(&r, 6000000000ull, 12);
	CHECK_INT(sink.ops->rec(sink.priv, &r), 0);
	sink.ops->destroy(sink.priv);
	fclose(f);
	check_golden(buf, len, name);
	if (compact) {
		int w = 0;

		for (const char *p = buf; *p; p++) {
			if (*p == '\n')
				w = 0;
			else
				CHECK(++w <= (columns ? columns : 80));
		}
	}
	free(buf);
}

static void test_text_goldens(void)
{
	trace_golden(false, false, 0, "trace.txt");
	trace_golden(true, false, 0, "trace_compact.txt");
	/* 110 columns: no room for every label, so none; 130: all of them. */
	trace_golden(true, false, 110, "trace_compact.txt");
	trace_golden(true, false, 130, "trace_compact_130.txt");
	trace_golden(false, true, 0, "trace_color.txt");
}

int main(void)
{
	test_decode_ok();
	test_decode_reuses_slot();
	test_decode_rejects();
	test_decode_close_stats();
	test_comm_terminated();
	test_states();
	test_json();
	test_json_v6_retransmit();
	test_text();
	test_text_reset_no_socket();
	test_text_sink_widens_for_ipv6();
	test_endpoint();
	test_text_goldens();
	return check_report();
}
