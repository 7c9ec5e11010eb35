// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/snapshot.h"
#include "cmd/trace_snapshot.h"
#include "core/util/fmt.h"
#include "core/util/log.h"
#include "core/sinks/sinks.h"
#include "core/sock/sock_stats.h"
#include "core/sock/sock_table.h"
#include "core/stream/states.h"

/* A connection of the initial snapshot and who held it then. */
struct known_conn {
	uint64_t cookie;
	uint32_t pid;
	char comm[TS_COMM_LEN + 1];
};

struct ts_trace_snap {
	struct ts_snapshotter *snap;
	struct ts_filter filter;
	bool json;
	struct known_conn *known; /* of the initial snapshot, by cookie */
	size_t nknown;
	struct ts_stats_history hist;
};

struct marked_sink {
	struct ts_trace_snap *t;
	FILE *f;
	struct ts_meta meta;
	bool header_done;
	FILE *mem; /* renders one record into line[] */
	char line[4096];
};

int ts_trace_snap__new(const struct ts_filter *f, bool json,
		       struct ts_trace_snap **out)
{
	struct ts_snapshot_opts so = { .pids = true };
	struct ts_trace_snap *t;
	char path[300];
	int err;

	if (f->netns) {
		err = ts_netns_path(f->netns, path, sizeof(path));
		if (err) {
			ts_err("no file found for network namespace %u (for the snapshot): give --netns as a path",
			       f->netns);
			return err;
		}
		so.netns_path = path;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		ts_err("out of memory");
		return -ENOMEM;
	}
	t->filter = *f;
	t->json = json;
	err = ts_snapshotter__new(&so, &t->snap);
	if (err) {
		free(t);
		return err;
	}
	*out = t;
	return 0;
}

void ts_trace_snap__free(struct ts_trace_snap *t)
{
	if (!t)
		return;
	ts_snapshotter__free(t->snap);
	free(t->known);
	free(t);
}

static int cmp_known(const void *a, const void *b)
{
	uint64_t x = ((const struct known_conn *)a)->cookie;
	uint64_t y = ((const struct known_conn *)b)->cookie;

	return x < y ? -1 : x > y;
}

static const struct known_conn *known(const struct ts_trace_snap *t,
				      uint64_t cookie)
{
	struct known_conn key = { .cookie = cookie };

	if (!t->nknown || !cookie)
		return NULL;
	return bsearch(&key, t->known, t->nknown, sizeof(key), cmp_known);
}

/* Collect and keep the rows the filters select. */
static int collect(struct ts_trace_snap *t, struct ts_sock **out, size_t *n)
{
	struct ts_sock *s;
	int err;

	err = ts_snapshotter__collect(t->snap, &s, n);
	if (err)
		return err;
	*out = s;
	*n = ts_filter_socks(&t->filter, s, *n);
	return 0;
}

struct ts_snapshotter *ts_trace_snap__snapshotter(struct ts_trace_snap *t)
{
	return t->snap;
}

int ts_trace_snap__print_initial(struct ts_trace_snap *t, FILE *f, bool can_match,
				 const struct ts_sock *socks, size_t nsocks)
{
	struct ts_table_opts o = {
		.all = true, .numeric = true, .pids = true, .timers = true,
		.title = true,
	};
	struct ts_sock *s = NULL;
	size_t n = 0;
	int err;

	err = ts_filter_socks_copy(&t->filter, socks, nsocks, &s, &n);
	if (err)
		return err;
	if (can_match) {
		t->known = malloc((n ? n : 1) * sizeof(*t->known));
		if (!t->known) {
			free(s);
			return -ENOMEM;
		}
		for (size_t i = 0; i < n; i++) {
			struct known_conn *k = &t->known[t->nknown];

			if (!s[i].cookie)
				continue;
			k->cookie = s[i].cookie;
			k->pid = s[i].pid;
			memcpy(k->comm, s[i].comm, sizeof(k->comm));
			t->nknown++;
		}
		qsort(t->known, t->nknown, sizeof(*t->known), cmp_known);
	} else {
		ts_warn("connection ids are not socket cookies in this mode: events cannot be matched with the snapshot");
	}
	err = t->json ? ts_table__print_json(f, &o, s, n, ts_now_mono_ns(), ts_mono_to_wall_offset()) :
			ts_table__print(f, &o, NULL, s, n);
	if (!t->json && err >= 0)
		fputc('\n', f);
	free(s);
	return err < 0 ? err : 0;
}

int ts_trace_snap__print_summary(struct ts_trace_snap *t, FILE *f,
				 int64_t wall_offset_ns)
{
	struct ts_hint_limits lim = TS_HINT_LIMITS_DEFAULT;
	struct ts_table_opts all = { .all = true };
	struct ts_sock_stats st;
	struct ts_sock *s = NULL;
	char clock[TS_TIMESTR_LEN];
	size_t n = 0;
	int err;

	err = collect(t, &s, &n);
	if (err)
		return err;
	err = ts_stats__compute(&all, s, n, &lim, &t->hist, &st);
	free(s);
	if (err)
		return err;
	if (t->json) {
		err = ts_stats__print_json(f, &st, 10, ts_now_mono_ns(), wall_offset_ns);
	} else {
		ts_fmt_clock(clock, sizeof(clock),
			     (int64_t)ts_now_mono_ns() + wall_offset_ns);
		fprintf(f, "%-12s -- sockets: %u", clock, st.total);
		for (unsigned int i = 1; i < TS_STATS_STATES; i++)
			if (st.by_state[i])
				fprintf(f, " %s %u", ts_state_name(i), st.by_state[i]);
		fputc('\n', f);
		for (size_t i = 0; i < st.nhints; i++)
			fprintf(f, "%-12s -- ! %s\n", clock, st.hints[i].text);
		err = ts_sink_werr(f);
	}
	ts_stats__free(&st);
	return err;
}

static int marked_rec(void *priv, const struct ts_rec *r)
{
	struct marked_sink *s = priv;
	const struct known_conn *k = NULL;
	struct ts_rec c;
	long len;

	if (r->type != TS_REC_LOST)
		k = known(s->t, r->conn);
	/* The tracer cannot know who owns a connection older than itself;
	 * the snapshot saw who held it. */
	if (k && !r->pid && k->pid) {
		c = *r;
		c.pid = k->pid;
		memcpy(c.comm, k->comm, sizeof(c.comm));
		r = &c;
	}

	if (!s->t->json && !s->header_done) {
		ts_text_write_header(s->f, &s->meta);
		s->header_done = true;
	}
	rewind(s->mem);
	if (s->t->json)
		ts_json_write_rec(s->mem, r, &s->meta);
	else
		ts_text_write_rec(s->mem, r, &s->meta);
	fflush(s->mem);
	len = ftell(s->mem);
	/* Every rendered record ends in "\n" (JSON: "}\n"). */
	if (len < 2 || (size_t)len >= sizeof(s->line) || s->line[len - 1] != '\n')
		return -EOVERFLOW;
	if (!k) {
		fwrite(s->line, 1, (size_t)len, s->f);
	} else if (s->t->json) {
		fwrite(s->line, 1, (size_t)len - 2, s->f);
		fputs(",\"known\":true}\n", s->f);
	} else {
		fwrite(s->line, 1, (size_t)len - 1, s->f);
		fputs(" [known]\n", s->f);
	}
	return ts_sink_werr(s->f);
}

static int marked_flush(void *priv)
{
	struct marked_sink *s = priv;

	return fflush(s->f) ? -errno : 0;
}

static void marked_destroy(void *priv)
{
	struct marked_sink *s = priv;

	if (s->mem)
		fclose(s->mem);
	free(s);
}

static const struct ts_sink_ops marked_ops = {
	.name = "marked",
	.rec = marked_rec,
	.flush = marked_flush,
	.destroy = marked_destroy,
};

int ts_trace_snap__sink_new(struct ts_trace_snap *t, struct ts_sink *out,
			    FILE *f, const struct ts_meta *m)
{
	struct marked_sink *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->t = t;
	s->f = f;
	s->meta = *m;
	s->mem = fmemopen(s->line, sizeof(s->line), "w");
	if (!s->mem) {
		free(s);
		return -errno;
	}
	/* Our buffer, not stdio's: ftell() tells the rendered length. */
	setvbuf(s->mem, NULL, _IONBF, 0);
	out->ops = &marked_ops;
	out->priv = s;
	return 0;
}
