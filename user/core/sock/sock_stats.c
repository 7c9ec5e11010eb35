// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/util/jsonw.h"
#include "core/sock/sock_stats.h"
#include "core/stream/states.h"

static int by_count(const void *a, const void *b)
{
	const struct ts_port_count *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return (int)x->port - (int)y->port;
}

static int by_pid(const void *a, const void *b)
{
	const struct ts_sock *const *x = a, *const *y = b;

	if ((*x)->pid != (*y)->pid)
		return (*x)->pid < (*y)->pid ? -1 : 1;
	return 0;
}

static int count_ports(const struct ts_sock *s, size_t n,
		       const struct ts_table_opts *sel, struct ts_sock_stats *st)
{
	uint32_t *per_port;
	size_t k = 0;

	per_port = calloc(65536, sizeof(*per_port));
	if (!per_port)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (s[i].state == TS_ESTABLISHED && ts_table_selected(sel, &s[i]))
			per_port[s[i].sport]++;
	for (size_t p = 0; p < 65536; p++)
		if (per_port[p])
			k++;
	st->ports = calloc(k ? k : 1, sizeof(*st->ports));
	if (!st->ports) {
		free(per_port);
		return -ENOMEM;
	}
	for (size_t p = 0; p < 65536; p++)
		if (per_port[p])
			st->ports[st->nports++] = (struct ts_port_count){
				.port = (uint16_t)p, .count = per_port[p]
			};
	qsort(st->ports, st->nports, sizeof(*st->ports), by_count);
	free(per_port);
	return 0;
}

/* Which process holds the most CLOSE_WAIT sockets. */
static int top_close_wait(const struct ts_sock *s, size_t n,
			  const struct ts_table_opts *sel,
			  struct ts_sock_stats *st)
{
	const struct ts_sock **v;
	size_t k = 0;

	v = malloc((n ? n : 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (s[i].state == TS_CLOSE_WAIT && s[i].pid &&
		    ts_table_selected(sel, &s[i]))
			v[k++] = &s[i];
	qsort(v, k, sizeof(*v), by_pid);
	for (size_t i = 0; i < k;) {
		size_t j = i;

		while (j < k && v[j]->pid == v[i]->pid)
			j++;
		if (j - i > st->cw_count) {
			st->cw_count = (uint32_t)(j - i);
			st->cw_pid = v[i]->pid;
			memcpy(st->cw_comm, v[i]->comm, sizeof(st->cw_comm));
		}
		i = j;
	}
	free(v);
	return 0;
}

static struct ts_hint *add_hint(struct ts_sock_stats *st, const char *kind)
{
	struct ts_hint *h;

	if (st->nhints >= TS_STATS_MAX_HINTS)
		return NULL;
	h = &st->hints[st->nhints++];
	h->kind = kind;
	return h;
}

static bool close_wait_growing(const struct ts_stats_history *h,
			       unsigned int intervals)
{
	if (!intervals || h->n < intervals + 1)
		return false;
	for (unsigned int i = h->n - intervals; i < h->n; i++)
		if (h->close_wait[i] <= h->close_wait[i - 1])
			return false;
	return true;
}

static void hints(struct ts_sock_stats *st, const struct ts_hint_limits *lim,
		  const struct ts_stats_history *hist)
{
	uint32_t syn = st->by_state[TS_SYN_RECV];
	uint32_t tw = st->by_state[TS_TIME_WAIT];
	uint32_t cw = st->by_state[TS_CLOSE_WAIT];
	bool growing = hist && close_wait_growing(hist, lim->close_wait_growth);
	struct ts_hint *h;
	char who[64] = "";

	if (lim->syn_recv && syn >= lim->syn_recv && (h = add_hint(st, "syn_flood")))
		snprintf(h->text, sizeof(h->text),
			 "%u SYN_RECV (>= %u): possible SYN flood, or a listener "
			 "that cannot keep up (accept queue full)",
			 syn, lim->syn_recv);
	if (lim->time_wait && tw >= lim->time_wait && (h = add_hint(st, "time_wait")))
		snprintf(h->text, sizeof(h->text),
			 "%u TIME_WAIT (>= %u): this host closes many short "
			 "connections first; reuse connections (keep-alive, "
			 "pooling) before ephemeral ports run out",
			 tw, lim->time_wait);
	if (st->cw_pid)
		snprintf(who, sizeof(who), "; most held by %u/%s (%u)",
			 st->cw_pid, st->cw_comm, st->cw_count);
	if (cw && (growing || (lim->close_wait && cw >= lim->close_wait)) &&
	    (h = add_hint(st, "close_wait")))
		snprintf(h->text, sizeof(h->text),
			 "%u CLOSE_WAIT (%s): the peers closed but an "
			 "application does not close its sockets%s",
			 cw, growing ? "growing at every interval" : "many",
			 who);
}

int ts_stats__compute(const struct ts_table_opts *o, const struct ts_sock *s,
		     size_t n, const struct ts_hint_limits *lim,
		     struct ts_stats_history *hist, struct ts_sock_stats *out)
{
	struct ts_table_opts sel = {
		.all = true, .family = o->family, .states = o->states
	};
	int err;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		if (!ts_table_selected(&sel, &s[i]))
			continue;
		out->total++;
		if (s[i].family == 6)
			out->v6++;
		else
			out->v4++;
		if (s[i].state < TS_STATS_STATES)
			out->by_state[s[i].state]++;
	}
	err = count_ports(s, n, &sel, out);
	if (!err)
		err = top_close_wait(s, n, &sel, out);
	if (err) {
		ts_stats__free(out);
		return err;
	}
	if (hist) {
		if (hist->n == sizeof(hist->close_wait) / sizeof(hist->close_wait[0])) {
			memmove(hist->close_wait, hist->close_wait + 1,
				(hist->n - 1) * sizeof(hist->close_wait[0]));
			hist->n--;
		}
		hist->close_wait[hist->n++] = out->by_state[TS_CLOSE_WAIT];
	}
	hints(out, lim, hist);
	return 0;
}

void ts_stats__free(struct ts_sock_stats *st)
{
	free(st->ports);
	st->ports = NULL;
	st->nports = 0;
}

int ts_stats__print(FILE *f, const struct ts_sock_stats *st, size_t top,
		   const struct ts_portnames *names)
{
	size_t shown = st->nports < top ? st->nports : top;

	fprintf(f, "TCP sockets: %u (IPv4 %u, IPv6 %u)\n", st->total, st->v4,
		st->v6);
	fprintf(f, "  %-12s %8s\n", "State", "Count");
	for (unsigned int i = 1; i < TS_STATS_STATES; i++)
		fprintf(f, "  %-12s %8u\n", ts_state_name(i), st->by_state[i]);
	fprintf(f, "ESTABLISHED by local port (%zu of %zu ports):\n", shown,
		st->nports);
	if (shown)
		fprintf(f, "  %-5s %8s%s\n", "Port", "Count", names ? "  Service" : "");
	for (size_t i = 0; i < shown; i++) {
		const char *name = ts_portname(names, st->ports[i].port);

		fprintf(f, "  %-5u %8u%s%s\n", st->ports[i].port,
			st->ports[i].count, name ? "  " : "", name ? name : "");
	}
	if (!st->nhints)
		fprintf(f, "Hints: none\n");
	else
		fprintf(f, "Hints:\n");
	for (size_t i = 0; i < st->nhints; i++)
		fprintf(f, "  ! %s\n", st->hints[i].text);
	return ferror(f) ? -EIO : 0;
}

int ts_stats__print_json(FILE *f, const struct ts_sock_stats *st, size_t top, uint64_t ts_ns,
			 int64_t wall_offset_ns)
{
	size_t shown = st->nports < top ? st->nports : top;
	struct ts_jsonw w;

	ts_jsonw__begin(&w, f);
	ts_jsonw__str(&w, "event", "stats");
	ts_json_time(&w, "", ts_ns, wall_offset_ns);
	ts_jsonw__u64(&w, "total", st->total);
	ts_jsonw__u64(&w, "ipv4", st->v4);
	ts_jsonw__u64(&w, "ipv6", st->v6);
	ts_jsonw__object_begin(&w, "states");
	for (unsigned int i = 1; i < TS_STATS_STATES; i++)
		ts_jsonw__u64(&w, ts_state_name(i), st->by_state[i]);
	ts_jsonw__object_end(&w);
	ts_jsonw__array_begin(&w, "established_by_port");
	for (size_t i = 0; i < shown; i++) {
		ts_jsonw__object_begin(&w, NULL);
		ts_jsonw__u64(&w, "port", st->ports[i].port);
		ts_jsonw__u64(&w, "count", st->ports[i].count);
		ts_jsonw__object_end(&w);
	}
	ts_jsonw__array_end(&w);
	ts_jsonw__array_begin(&w, "hints");
	for (size_t i = 0; i < st->nhints; i++) {
		ts_jsonw__object_begin(&w, NULL);
		ts_jsonw__str(&w, "kind", st->hints[i].kind);
		ts_jsonw__str(&w, "text", st->hints[i].text);
		ts_jsonw__object_end(&w);
	}
	ts_jsonw__array_end(&w);
	ts_jsonw__end(&w);
	return ferror(f) ? -EIO : 0;
}
