// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * report --perfetto: the Chrome trace-event JSON format (the "JSON Object
 * Format" ui.perfetto.dev and chrome://tracing open).  Each process is a
 * pid, each connection a thread (tid) of its owner, named by metadata
 * events; the states it went through are complete ("X") slices, and its
 * retransmissions, resets and drops instant ("i") events.  Events of one
 * connection are written in time order, when the tracker finishes it.
 * Times are microseconds from the first record.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "core/sinks/pictures.h"
#include "core/sinks/picture_util.h"
#include "core/stream/states.h"
#include "core/stream/tracker.h"
#include "core/util/fmt.h"

struct perfetto {
	FILE *f;
	struct ts_meta meta;
	bool started;
	bool base_set;
	uint64_t base_ns, last_ns;
	uint64_t next_tid;
	uint32_t *pids; /* open addressing, 0 marks a free slot (pid+1 stored) */
	size_t npids, cap;
	const char *damage;
	int err;
};

static void us(FILE *f, const struct perfetto *p, uint64_t ts)
{
	uint64_t d = ts > p->base_ns ? ts - p->base_ns : 0;

	fprintf(f, "%" PRIu64 ".%03u", d / 1000, (unsigned int)(d % 1000));
}

static void start(struct perfetto *p)
{
	if (p->started)
		return;
	p->started = true;
	fputs("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n", p->f);
	/* pid 0 holds connections whose owner is unknown. */
	fputs("{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":0,\"tid\":0,"
	      "\"args\":{\"name\":\"owner unknown\"}}", p->f);
}

/* Returns true the first time pid is seen. */
static int pid_new(struct perfetto *p, uint32_t pid, bool *fresh)
{
	size_t i;

	*fresh = false;
	if ((p->npids + 1) * 2 > p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 256;
		uint32_t *n = calloc(cap, sizeof(*n));

		if (!n)
			return -ENOMEM;
		for (size_t j = 0; j < p->cap; j++) {
			if (!p->pids[j])
				continue;
			for (i = p->pids[j] * 2654435761u & (cap - 1); n[i]; i = (i + 1) & (cap - 1))
				;
			n[i] = p->pids[j];
		}
		free(p->pids);
		p->pids = n;
		p->cap = cap;
	}
	for (i = (pid + 1) * 2654435761u & (p->cap - 1); p->pids[i]; i = (i + 1) & (p->cap - 1))
		if (p->pids[i] == pid + 1)
			return 0;
	p->pids[i] = pid + 1;
	p->npids++;
	*fresh = true;
	return 0;
}

static void slice(struct perfetto *p, const struct ts_conn *c, uint64_t tid,
		  const struct ts_step *s, uint64_t end)
{
	FILE *f = p->f;

	fputs(",\n{\"ph\":\"X\",\"cat\":\"state\",\"name\":", f);
	ts_pic_json_str(f, ts_state_name(s->to));
	fprintf(f, ",\"pid\":%u,\"tid\":%" PRIu64 ",\"ts\":", c->pid, tid);
	us(f, p, s->ts_ns);
	fputs(",\"dur\":", f);
	us(f, &(struct perfetto){ .base_ns = s->ts_ns }, end);
	fprintf(f, ",\"args\":{\"conn\":%" PRIu64 ",\"from\":", c->id);
	ts_pic_json_str(f, ts_state_name(s->from));
	fputs(",\"step\":", f);
	ts_pic_json_str(f, s->label ? s->label : "");
	if (s->flags & TS_STEP_INFERRED)
		fputs(",\"inferred\":true", f);
	if (s->flags & TS_STEP_PEER)
		fputs(",\"from_peer\":true", f);
	fputs("}}", f);
}

static void instant(struct perfetto *p, const struct ts_conn *c, uint64_t tid,
		    const struct ts_mark *k)
{
	FILE *f = p->f;

	fputs(",\n{\"ph\":\"i\",\"s\":\"t\",\"cat\":\"segment\",\"name\":", f);
	ts_pic_json_str(f, ts_pic_mark_name(k->type));
	fprintf(f, ",\"pid\":%u,\"tid\":%" PRIu64 ",\"ts\":", c->pid, tid);
	us(f, p, k->ts_ns);
	fprintf(f, ",\"args\":{\"conn\":%" PRIu64 ",\"state\":", c->id);
	ts_pic_json_str(f, ts_state_name(k->state));
	fprintf(f, ",\"count\":%u}}", k->count ? k->count : 1);
}

static int perfetto_conn(void *priv, const struct ts_conn *c)
{
	struct perfetto *p = priv;
	char l[TS_ADDRSTR_LEN], r[TS_ADDRSTR_LEN], name[256];
	uint64_t tid = ++p->next_tid;
	bool fresh;
	int mi = 0, err;

	start(p);
	err = pid_new(p, c->pid, &fresh);
	if (err)
		return err;
	if (fresh && c->pid) {
		snprintf(name, sizeof(name), "%s [%u]", c->comm, c->pid);
		fprintf(p->f, ",\n{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%u,\"tid\":0,\"args\":{\"name\":",
			c->pid);
		ts_pic_json_str(p->f, name);
		fputs("}}", p->f);
	}
	ts_fmt_endpoint(l, sizeof(l), c->family, c->saddr, c->sport);
	ts_fmt_endpoint(r, sizeof(r), c->family, c->daddr, c->dport);
	snprintf(name, sizeof(name), "conn %" PRIu64 " %s %s -> %s close=%s", c->id,
		 ts_role_name(c->role), l, r, ts_close_name(c->close));
	fprintf(p->f, ",\n{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%u,\"tid\":%" PRIu64 ",\"args\":{\"name\":",
		c->pid, tid);
	ts_pic_json_str(p->f, name);
	fputs("}}", p->f);
	/* Slices and instants merged in time order: monotonic per track. */
	for (int i = 0; i < c->nsteps; i++) {
		const struct ts_step *s = &c->steps[i];
		uint64_t end = i + 1 < c->nsteps ? c->steps[i + 1].ts_ns : c->end_ns;

		for (; mi < c->nmarks && c->marks[mi].ts_ns < s->ts_ns; mi++)
			instant(p, c, tid, &c->marks[mi]);
		if (s->to == TS_CLOSE)
			continue;
		slice(p, c, tid, s, end > s->ts_ns ? end : s->ts_ns);
	}
	for (; mi < c->nmarks; mi++)
		instant(p, c, tid, &c->marks[mi]);
	if (ferror(p->f))
		return -EIO;
	return 0;
}

static int perfetto_rec(void *priv, const struct ts_rec *r)
{
	struct perfetto *p = priv;

	if (!p->base_set) {
		p->base_set = true;
		p->base_ns = r->ts_ns;
	}
	if (r->ts_ns > p->last_ns)
		p->last_ns = r->ts_ns;
	if (r->type == TS_REC_LOST) {
		start(p);
		fputs(",\n{\"ph\":\"i\",\"s\":\"g\",\"cat\":\"tracer\",\"name\":\"events lost\",\"pid\":0,\"tid\":0,\"ts\":",
		      p->f);
		us(p->f, p, r->ts_ns);
		fprintf(p->f, ",\"args\":{\"count\":%" PRIu64 "}}", r->lost);
	}
	return ferror(p->f) ? -EIO : 0;
}

static int perfetto_flush(void *priv)
{
	struct perfetto *p = priv;

	return fflush(p->f) ? -errno : 0;
}

static int perfetto_finish(void *priv, const struct ts_totals *t)
{
	struct perfetto *p = priv;
	char when[TS_TIMESTR_LEN];
	FILE *f = p->f;

	start(p);
	if (p->damage) {
		fputs(",\n{\"ph\":\"i\",\"s\":\"g\",\"cat\":\"tracer\",\"name\":\"capture damaged here\",\"pid\":0,\"tid\":0,\"ts\":",
		      f);
		us(f, p, p->last_ns);
		fputs(",\"args\":{\"damage\":", f);
		ts_pic_json_str(f, p->damage);
		fputs("}}", f);
	}
	/* Where "ts" 0 is: the first record, in monotonic ns and wall time. */
	ts_fmt_rfc3339(when, sizeof(when), (int64_t)p->base_ns + p->meta.wall_offset_ns);
	fprintf(f, "\n],\"metadata\":{\"source\":\"tcpscope\",\"ts_ns\":%" PRIu64 ",\"time\":\"%s\"",
		p->base_ns, when);
	fprintf(f, ",\"connections\":%" PRIu64
		   ",\"records\":%" PRIu64 ",\"lost\":%" PRIu64 ",\"evicted\":%" PRIu64 ",\"damage\":",
		t->conns, t->records, t->lost, t->conns_evicted);
	if (p->damage)
		ts_pic_json_str(f, p->damage);
	else
		fputs("null", f);
	fputs("}}\n", f);
	if (fflush(f))
		return -errno;
	return ferror(f) ? -EIO : 0;
}

static void perfetto_destroy(void *priv)
{
	struct perfetto *p = priv;

	if (p)
		free(p->pids);
	free(p);
}

static const struct ts_sink_ops perfetto_ops = {
	.name = "perfetto",
	.rec = perfetto_rec,
	.flush = perfetto_flush,
	.finish = perfetto_finish,
	.destroy = perfetto_destroy,
	.conn_end = perfetto_conn,
};

int ts_sink_perfetto__new(struct ts_sink *out, FILE *f, const struct ts_meta *m)
{
	struct perfetto *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->f = f;
	p->meta = *m;
	out->ops = &perfetto_ops;
	out->priv = p;
	return 0;
}

void ts_sink_perfetto__note_damage(struct ts_sink *s, const char *msg)
{
	if (s->ops == &perfetto_ops)
		((struct perfetto *)s->priv)->damage = msg;
}
