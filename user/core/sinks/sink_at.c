// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * report --at TIME: the sockets as they were at one moment, rebuilt from
 * the capture's initial snapshot plus every event up to that moment.
 *
 * The kernel never reports a full socket entering TIME_WAIT (it hands the
 * connection to a timewait socket and reports FIN_WAIT2/CLOSING -> CLOSE),
 * so such a close is shown as TIME_WAIT, marked inferred, for the 60 s
 * Linux keeps it (TCP_TIMEWAIT_LEN), unless a reset ended the connection.
 */
#include "core/util/escape.h"
#include "core/stream/connmap.h"
#include "core/util/fmt.h"
#include "core/util/jsonw.h"
#include "core/sinks/sinks.h"
#include "core/sinks/sink_report.h"
#include "core/stream/states.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define TIMEWAIT_NS (60ULL * 1000000000ULL)

struct entry {
	uint64_t conn;
	uint64_t expires; /* TIME_WAIT ends (its timer, or inferred); 0: never */
	uint32_t pid;
	uint32_t netns;
	uint16_t sport, dport;
	uint8_t family, state;
	bool alive, reset, inferred, from_snapshot;
	uint8_t saddr[TS_ADDR_LEN], daddr[TS_ADDR_LEN];
	char comm[TS_COMM_LEN + 1];
};

struct at_sink {
	FILE *f;
	struct ts_meta meta;
	struct ts_at_opts o;
	struct ts_connmap map;
	struct entry *e;
	size_t n, cap;
	uint64_t applied, lost_before;
	uint64_t untracked; /* events of connections past TS_AT_MAX_CONNS */
	bool full;	    /* compacting no longer frees enough */
	uint64_t last_ts; /* the newest record, at or after the moment */
	size_t nsnap;
	int err;
};

static bool shown(const struct at_sink *s, const struct entry *e)
{
	return e->alive && !(e->expires && e->expires < s->o.at_mono_ns);
}

/*
 * Forget the connections that are over (closed, or a TIME_WAIT that ended
 * before TIME) to make room.  Returns true when that freed enough for
 * compacting to be worth doing again later.
 */
static bool compact(struct at_sink *s)
{
	size_t k = 0, before = s->n;
	uint32_t idx;

	for (size_t i = 0; i < s->n; i++)
		if (shown(s, &s->e[i]))
			s->e[k++] = s->e[i];
	s->n = k;
	ts_connmap__free(&s->map);
	for (size_t i = 0; i < k; i++)
		if (ts_connmap__get(&s->map, s->e[i].conn, (uint32_t)i, &idx) < 0)
			return false;
	return before - k >= TS_AT_MAX_CONNS / 8;
}

/* 0 with *out set, -ENOMEM, or -ENOSPC: past TS_AT_MAX_CONNS. */
static int get(struct at_sink *s, uint64_t conn, struct entry **out, bool *fresh)
{
	uint32_t idx;
	int found;

	if (ts_connmap__find(&s->map, conn, &idx)) {
		*fresh = false;
		*out = &s->e[idx];
		return 0;
	}
	if (s->n >= TS_AT_MAX_CONNS) {
		if (s->full || (s->full = !compact(s), s->n >= TS_AT_MAX_CONNS))
			return -ENOSPC;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		struct entry *p = realloc(s->e, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		s->e = p;
		s->cap = cap;
	}
	found = ts_connmap__get(&s->map, conn, (uint32_t)s->n, &idx);
	if (found < 0)
		return found;
	*fresh = true;
	memset(&s->e[idx], 0, sizeof(s->e[idx]));
	s->e[idx].conn = conn;
	s->n++;
	*out = &s->e[idx];
	return 0;
}

static void take_tuple(struct entry *e, const struct ts_rec *r)
{
	e->family = r->family;
	e->netns = r->netns;
	memcpy(e->saddr, r->saddr, TS_ADDR_LEN);
	memcpy(e->daddr, r->daddr, TS_ADDR_LEN);
	e->dport = r->dport;
	/* CLOSE -> SYN_SENT comes before the source port is chosen. */
	if (r->sport || !e->sport)
		e->sport = r->sport;
	if (r->pid) {
		e->pid = r->pid;
		memcpy(e->comm, r->comm, sizeof(e->comm));
	}
}

static int at_rec(void *priv, const struct ts_rec *r)
{
	struct at_sink *s = priv;
	struct entry *e;
	bool fresh;
	int err;

	if (r->ts_ns > s->last_ts)
		s->last_ts = r->ts_ns;
	if (r->ts_ns > s->o.at_mono_ns)
		return 0;
	if (r->type == TS_REC_LOST) {
		s->lost_before += r->lost;
		return 0;
	}
	/* A drop changes no socket's state. */
	if (r->type == TS_REC_DROP || r->type == TS_REC_DROP_SUPPRESSED)
		return 0;
	if (!ts_state_valid(r->new_state))
		return 0;
	/* conn 0: a reset answering a segment that found no socket (a SYN
	 * to a closed port).  There is no socket to show. */
	if (!r->conn)
		return 0;
	err = get(s, r->conn, &e, &fresh);
	if (err == -ENOSPC) {
		s->untracked++;
		return 0;
	}
	if (err) {
		s->err = err;
		return err;
	}
	s->applied++;
	take_tuple(e, r);
	switch (r->type) {
	case TS_REC_STATE:
		e->inferred = false;
		e->expires = 0;
		e->state = r->new_state;
		e->alive = r->new_state != TS_CLOSE;
		if (r->new_state == TS_CLOSE && !e->reset &&
		    (r->old_state == TS_FIN_WAIT2 || r->old_state == TS_CLOSING)) {
			e->alive = true;
			e->state = TS_TIME_WAIT;
			e->inferred = true;
			e->expires = r->ts_ns > UINT64_MAX - TIMEWAIT_NS ? UINT64_MAX :
									 r->ts_ns + TIMEWAIT_NS;
			e->pid = 0; /* a timewait socket belongs to no process */
			e->comm[0] = '\0';
		}
		break;
	case TS_REC_RESET_SENT:
	case TS_REC_RESET_RECV:
		e->reset = true;
		/* fall through */
	default:
		/* A socket first seen through a retransmit or reset. */
		if (fresh) {
			e->alive = true;
			e->state = r->new_state;
		}
		break;
	}
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c;

	if (x->family != y->family)
		return x->family - y->family;
	c = memcmp(x->saddr, y->saddr, TS_ADDR_LEN);
	if (c)
		return c;
	if (x->sport != y->sport)
		return x->sport - y->sport;
	c = memcmp(x->daddr, y->daddr, TS_ADDR_LEN);
	if (c)
		return c;
	if (x->dport != y->dport)
		return x->dport - y->dport;
	return x->conn < y->conn ? -1 : x->conn > y->conn;
}

static void write_json(struct at_sink *s, const struct entry *e)
{
	struct ts_jsonw w;

	ts_jsonw__begin(&w, s->f);
	ts_jsonw__str(&w, "event", "socket");
	ts_json_conn_id(&w, e->conn);
	ts_json_owner(&w, e->pid, e->comm);
	ts_json_tuple(&w, e->family, e->saddr, e->sport, e->daddr, e->dport);
	ts_jsonw__u64(&w, "netns", e->netns);
	ts_jsonw__str(&w, "state", ts_state_name(e->state));
	ts_jsonw__bool(&w, "inferred", e->inferred);
	ts_jsonw__str(&w, "source", e->from_snapshot ? "snapshot" : "events");
	ts_jsonw__end(&w);
}

static void write_text(struct at_sink *s, const struct entry *e)
{
	char l[TS_ADDRSTR_LEN], rm[TS_ADDRSTR_LEN], prog[96], st[24];
	char comm[TS_ESC_LEN(TS_COMM_LEN)];

	ts_fmt_endpoint(l, sizeof(l), e->family, e->saddr, e->sport);
	ts_fmt_endpoint(rm, sizeof(rm), e->family, e->daddr, e->dport);
	if (e->pid)
		snprintf(prog, sizeof(prog), "%u/%s", e->pid, ts_escape(comm, sizeof(comm), e->comm));
	else
		snprintf(prog, sizeof(prog), "-");
	snprintf(st, sizeof(st), "%s%s", ts_state_name(e->state), e->inferred ? "*" : "");
	fprintf(s->f, "%-5s %-45s %-45s %-12s %s\n", e->family == 6 ? "tcp6" : "tcp", l, rm, st,
		prog);
}

static int at_finish(void *priv, const struct ts_totals *t)
{
	struct at_sink *s = priv;
	char when[TS_TIMESTR_LEN];
	size_t k = 0;
	bool any_inferred = false;
	uint64_t end;

	for (size_t i = 0; i < s->n; i++)
		if (shown(s, &s->e[i]))
			s->e[k++] = s->e[i];
	if (k)
		qsort(s->e, k, sizeof(*s->e), cmp_entry);
	ts_fmt_rfc3339(when, sizeof(when), ts_wall_ns(s->o.at_mono_ns, s->meta.wall_offset_ns));
	if (s->o.json) {
		struct ts_jsonw w;

		ts_jsonw__begin(&w, s->f);
		ts_jsonw__str(&w, "event", "snapshot");
		ts_json_time(&w, "", s->o.at_mono_ns, s->meta.wall_offset_ns);
		ts_jsonw__str(&w, "source", "capture");
		ts_jsonw__u64(&w, "sockets", k);
		ts_jsonw__u64(&w, "capture_snapshot_sockets", s->nsnap);
		ts_jsonw__u64(&w, "events", s->applied);
		ts_jsonw__end(&w);
	} else {
		fprintf(s->f,
			"TCP sockets at %s (from a snapshot of %zu sockets and %llu events)\n",
			when, s->nsnap, (unsigned long long)s->applied);
		fprintf(s->f, "%-5s %-45s %-45s %-12s %s\n", "Proto", "Local Address",
			"Foreign Address", "State", "PID/Program name");
	}
	for (size_t i = 0; i < k; i++) {
		any_inferred |= s->e[i].inferred;
		if (s->o.json)
			write_json(s, &s->e[i]);
		else
			write_text(s, &s->e[i]);
	}
	if (!s->o.json && any_inferred)
		fprintf(s->f, "* TIME_WAIT inferred from FIN_WAIT2/CLOSING -> CLOSE (the kernel "
			      "does not report it)\n");
	end = t->end_ns > s->last_ts ? t->end_ns : s->last_ts;
	if (end < s->o.start_ns)
		end = s->o.start_ns;
	if (s->o.at_mono_ns < s->o.start_ns || s->o.at_mono_ns > end) {
		char t1[TS_TIMESTR_LEN], t2[TS_TIMESTR_LEN];

		ts_fmt_rfc3339(t1, sizeof(t1), ts_wall_ns(s->o.start_ns, s->meta.wall_offset_ns));
		ts_fmt_rfc3339(t2, sizeof(t2), ts_wall_ns(end, s->meta.wall_offset_ns));
		fprintf(stderr,
			"tcpscope: warning: %s is outside the capture (%s … %s): the table is the "
			"state at its %s\n",
			when, t1, t2, s->o.at_mono_ns < s->o.start_ns ? "start" : "end");
	}
	if (s->lost_before)
		fprintf(stderr,
			"tcpscope: warning: %llu events were lost before this moment: the table "
			"may be incomplete\n",
			(unsigned long long)s->lost_before);
	if (s->untracked)
		fprintf(stderr,
			"tcpscope: warning: %llu events of connections past the %d that --at "
			"follows at once were not applied: the table may be incomplete\n",
			(unsigned long long)s->untracked, TS_AT_MAX_CONNS);
	if (fflush(s->f))
		return -errno;
	return s->err;
}

static int at_flush(void *priv)
{
	(void)priv;
	return 0;
}

static void at_destroy(void *priv)
{
	struct at_sink *s = priv;

	ts_connmap__free(&s->map);
	free(s->e);
	free(s);
}

static const struct ts_sink_ops at_ops = {
    .name = "at",
    .rec = at_rec,
    .flush = at_flush,
    .finish = at_finish,
    .destroy = at_destroy,
};

int ts_sink_at__new(struct ts_sink *out, FILE *f, const struct ts_meta *m,
		   const struct ts_at_opts *o)
{
	struct at_sink *s = calloc(1, sizeof(*s));
	int err = 0;

	if (!s)
		return -ENOMEM;
	s->f = f;
	s->meta = *m;
	s->o = *o;
	s->nsnap = o->nsocks;
	for (size_t i = 0; i < o->nsocks && !err; i++) {
		const struct ts_sock *k = &o->socks[i];
		/* Sockets without a cookie still need a key of their own. */
		uint64_t key = k->cookie ? k->cookie : (1ULL << 63) | i;
		struct entry *e;
		bool fresh;

		err = get(s, key, &e, &fresh);
		if (err)
			break;
		e->family = k->family;
		e->state = k->state;
		e->sport = k->sport;
		e->dport = k->dport;
		e->pid = k->pid;
		e->netns = k->netns;
		memcpy(e->saddr, k->saddr, TS_ADDR_LEN);
		memcpy(e->daddr, k->daddr, TS_ADDR_LEN);
		memcpy(e->comm, k->comm, sizeof(e->comm));
		e->alive = true;
		e->from_snapshot = true;
		/* A TIME_WAIT socket lives as long as its timer said. */
		if (k->state == TS_TIME_WAIT && k->timer == TS_TIMER_TIMEWAIT)
			e->expires = o->start_ns + (uint64_t)(k->timer_ms > 0 ? k->timer_ms : 0) *
							   1000000ULL;
	}
	if (err) {
		at_destroy(s);
		return err;
	}
	s->o.socks = NULL; /* copied: the caller may free its array */
	out->ops = &at_ops;
	out->priv = s;
	return 0;
}
