// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Prometheus counters of the stream; see sink_metrics.h. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "core/sinks/sink_metrics.h"
#include "core/stream/states.h"

#define ROLES 2 /* histograms and opens: client, server */
#define LABEL_LEN (TS_COMM_LEN + 1)
#define NCLOSE (TS_CLOSE_KINDS)
#define NROLE (TS_ROLE_LISTENER + 1)

/* Upper bounds of the histogram buckets, in nanoseconds (+Inf implied). */
static const uint64_t handshake_le[] = {
	50000,	    100000,	250000,	   500000,    1000000,	  2500000,
	5000000,    10000000,	25000000,  50000000,  100000000,  250000000,
	500000000,  1000000000, 2500000000, 5000000000, 10000000000,
};
static const uint64_t lifetime_le[] = {
	1000000,	   10000000,	       100000000,	  1000000000,
	10000000000,	   60000000000,	       300000000000,	  1800000000000,
	3600000000000,	   86400000000000,
};
#define HS_BUCKETS (sizeof(handshake_le) / sizeof(handshake_le[0]))
#define LT_BUCKETS (sizeof(lifetime_le) / sizeof(lifetime_le[0]))

struct hist {
	uint64_t count;
	uint64_t sum_ns;
	uint64_t buckets[HS_BUCKETS > LT_BUCKETS ? HS_BUCKETS : LT_BUCKETS];
};

/* The values one label may take: max of their own, then "other". */
struct label_set {
	char (*vals)[LABEL_LEN];
	uint32_t n, max;
};

struct ts_metrics {
	pthread_mutex_t lock;
	char version[32];
	char tp_mode[16];
	uint64_t events;
	uint64_t lost;
	uint64_t transitions[TS_STATE_MAX][TS_STATE_MAX];
	/* opened[role][port][comm]: port index max+1 is "no port" (clients). */
	uint64_t *opened;
	struct label_set ports, comms;
	uint64_t closed[NROLE][NCLOSE];
	struct hist handshake[ROLES];
	struct hist lifetime[ROLES];
	uint64_t rtx[TS_RTX_KINDS];
	/* Retransmissions the sockets counted that no program saw, told
	 * when their connections end (ts_conn.rtx_untraced). */
	uint64_t rtx_untraced;
	uint64_t resets_sent, resets_received;
	uint64_t tracked, evicted;
	bool have_sockets;
	uint32_t sockets[TS_STATE_MAX];
};

static const char *const role_names[ROLES] = { "client", "server" };

static size_t ports_dim(const struct ts_metrics *m)
{
	return m->ports.max + 2; /* own values, "other", none */
}

static size_t comms_dim(const struct ts_metrics *m)
{
	return m->comms.max + 1; /* own values, "other" */
}

static uint64_t *opened_at(struct ts_metrics *m, int role, size_t port,
			   size_t comm)
{
	return &m->opened[((size_t)role * ports_dim(m) + port) * comms_dim(m) +
			  comm];
}

int ts_metrics__new(const struct ts_metrics_opts *o, struct ts_metrics **out)
{
	uint32_t max = o->max_label_values ? o->max_label_values :
					     TS_METRICS_DEFAULT_LABEL_VALUES;
	struct ts_metrics *m;

	if (max > TS_METRICS_MAX_LABEL_VALUES)
		return -ERANGE;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	pthread_mutex_init(&m->lock, NULL);
	snprintf(m->version, sizeof(m->version), "%s", o->version ? o->version : "");
	snprintf(m->tp_mode, sizeof(m->tp_mode), "%s", o->tp_mode ? o->tp_mode : "");
	m->ports.max = m->comms.max = max;
	m->ports.vals = calloc(max, LABEL_LEN);
	m->comms.vals = calloc(max, LABEL_LEN);
	m->opened = calloc((size_t)ROLES * ports_dim(m) * comms_dim(m),
			   sizeof(*m->opened));
	if (!m->ports.vals || !m->comms.vals || !m->opened) {
		ts_metrics__free(m);
		return -ENOMEM;
	}
	*out = m;
	return 0;
}

void ts_metrics__free(struct ts_metrics *m)
{
	if (!m)
		return;
	pthread_mutex_destroy(&m->lock);
	free(m->ports.vals);
	free(m->comms.vals);
	free(m->opened);
	free(m);
}

/*
 * Label values are kept as they will be shown: printable ASCII, anything
 * else (control bytes, bytes of other encodings) as '?', so that the
 * exposition is valid UTF-8 and two raw names that look alike share one
 * series instead of making a duplicate.
 */
static void label_clean(char *dst, const char *src)
{
	size_t i;

	for (i = 0; i < LABEL_LEN - 1 && src[i]; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	dst[i] = '\0';
}

/* The index of value v: its own, a new one while there is room, or max
 * ("other"). */
static uint32_t label_index(struct label_set *ls, const char *raw)
{
	char v[LABEL_LEN];

	label_clean(v, raw);
	for (uint32_t i = 0; i < ls->n; i++)
		if (!strcmp(ls->vals[i], v))
			return i;
	if (ls->n < ls->max) {
		memcpy(ls->vals[ls->n], v, LABEL_LEN);
		return ls->n++;
	}
	return ls->max;
}

static void count_open(struct ts_metrics *m, const struct ts_rec *r)
{
	bool server = r->old_state == TS_LISTEN;
	size_t port = ports_dim(m) - 1;
	size_t comm;

	if (server) {
		char p[8];

		snprintf(p, sizeof(p), "%u", r->sport);
		port = label_index(&m->ports, p);
	}
	comm = label_index(&m->comms, r->comm);
	(*opened_at(m, server, port, comm))++;
}

static void count_rtx(struct ts_metrics *m, const struct ts_rec *r)
{
	if (r->type == TS_REC_SYNACK_RETRANS) {
		m->rtx[TS_RTX_SYNACK]++;
		return;
	}
	/* The same kinds as the tracker gives a connection's retransmits. */
	switch (r->new_state) {
	case TS_SYN_SENT:
		m->rtx[TS_RTX_SYN]++;
		break;
	case TS_SYN_RECV:
		m->rtx[TS_RTX_SYNACK]++;
		break;
	case TS_FIN_WAIT1:
	case TS_CLOSING:
	case TS_LAST_ACK:
		m->rtx[TS_RTX_FIN]++;
		break;
	default:
		m->rtx[TS_RTX_DATA]++;
	}
}

static int metrics_rec(void *priv, const struct ts_rec *r)
{
	struct ts_metrics *m = priv;

	pthread_mutex_lock(&m->lock);
	switch (r->type) {
	case TS_REC_LOST:
		m->lost += r->lost;
		break;
	case TS_REC_STATE:
		m->events++;
		/* Decoding checked both states; checked again as an index. */
		if (r->old_state < TS_STATE_MAX && r->new_state < TS_STATE_MAX)
			m->transitions[r->old_state][r->new_state]++;
		/* The kernel's TcpActiveOpens and TcpPassiveOpens count the
		 * same two transitions. */
		if ((r->old_state == TS_CLOSE && r->new_state == TS_SYN_SENT) ||
		    (r->old_state == TS_LISTEN && r->new_state == TS_SYN_RECV))
			count_open(m, r);
		break;
	case TS_REC_RETRANS:
	case TS_REC_SYNACK_RETRANS:
		m->events++;
		count_rtx(m, r);
		break;
	case TS_REC_RESET_SENT:
		m->events++;
		m->resets_sent++;
		break;
	case TS_REC_RESET_RECV:
		m->events++;
		m->resets_received++;
		break;
	case TS_REC_DROP:
	case TS_REC_DROP_SUPPRESSED:
		/* Not connection events: not in tcpscope_events_total. */
		break;
	default:
		m->events++;
	}
	pthread_mutex_unlock(&m->lock);
	return 0;
}

static void observe(struct hist *h, const uint64_t *le, size_t n, uint64_t ns)
{
	h->count++;
	h->sum_ns += ns;
	for (size_t i = 0; i < n; i++)
		if (ns <= le[i])
			h->buckets[i]++;
}

static int metrics_conn(void *priv, const struct ts_conn *c)
{
	struct ts_metrics *m = priv;
	int role = c->role == TS_ROLE_CLIENT ? 0 :
		   c->role == TS_ROLE_SERVER ? 1 : -1;

	pthread_mutex_lock(&m->lock);
	if (c->close != TS_CLOSE_OPEN && (unsigned int)c->role < NROLE &&
	    (unsigned int)c->close < NCLOSE)
		m->closed[c->role][c->close]++;
	if (role >= 0 && c->handshake_ns >= 0)
		observe(&m->handshake[role], handshake_le, HS_BUCKETS,
			(uint64_t)c->handshake_ns);
	if (role >= 0 && c->ended)
		observe(&m->lifetime[role], lifetime_le, LT_BUCKETS,
			c->lifetime_ns);
	m->rtx_untraced += c->rtx_untraced;
	pthread_mutex_unlock(&m->lock);
	return 0;
}

static const struct ts_sink_ops metrics_ops = {
	.name = "metrics",
	.rec = metrics_rec,
	.conn_end = metrics_conn,
};

int ts_sink_metrics__new(struct ts_sink *out, struct ts_metrics *m)
{
	out->ops = &metrics_ops;
	out->priv = m;
	return 0;
}

void ts_metrics__set_tracker(struct ts_metrics *m,
			     const struct ts_tracker_stats *st)
{
	pthread_mutex_lock(&m->lock);
	m->tracked = st->live;
	m->evicted = st->evicted;
	pthread_mutex_unlock(&m->lock);
}

void ts_metrics__set_sockets(struct ts_metrics *m,
			     const uint32_t by_state[TS_STATE_MAX])
{
	pthread_mutex_lock(&m->lock);
	memcpy(m->sockets, by_state, sizeof(m->sockets));
	m->have_sockets = true;
	pthread_mutex_unlock(&m->lock);
}

/* Rendering.  Values are integers; seconds are written exactly from
 * nanoseconds ("0.00025", "1.5", "60"). */

static void put_seconds(FILE *f, uint64_t ns)
{
	uint64_t s = ns / 1000000000ULL, frac = ns % 1000000000ULL;
	char d[10];
	int n = 9;

	if (!frac) {
		fprintf(f, "%" PRIu64, s);
		return;
	}
	snprintf(d, sizeof(d), "%09" PRIu64, frac);
	while (n > 0 && d[n - 1] == '0')
		n--;
	fprintf(f, "%" PRIu64 ".%.*s", s, n, d);
}

/* A label value: backslash, double quote and newline escaped, as the
 * exposition format asks. */
static void put_label(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n') {
			fputs("\\n", f);
			continue;
		}
		fputc(*v, f);
	}
}

static void family(FILE *f, const char *name, const char *type,
		   const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void put_hist(FILE *f, const char *name, const char *role,
		     const struct hist *h, const uint64_t *le, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s_bucket{role=\"%s\",le=\"", name, role);
		put_seconds(f, le[i]);
		fprintf(f, "\"} %" PRIu64 "\n", h->buckets[i]);
	}
	fprintf(f, "%s_bucket{role=\"%s\",le=\"+Inf\"} %" PRIu64 "\n", name,
		role, h->count);
	fprintf(f, "%s_sum{role=\"%s\"} ", name, role);
	put_seconds(f, h->sum_ns);
	fprintf(f, "\n%s_count{role=\"%s\"} %" PRIu64 "\n", name, role, h->count);
}

static const char *label_value(const struct label_set *ls, size_t i)
{
	return i < ls->n ? ls->vals[i] : "other";
}

static void render_opened(struct ts_metrics *m, FILE *f)
{
	family(f, "tcpscope_connections_opened_total", "counter",
	       "Connections opened: client (connect(), as TcpActiveOpens counts) "
	       "and server (accepted by a listener, as TcpPassiveOpens counts), by "
	       "listener port and process name");
	for (int role = 0; role < ROLES; role++) {
		for (size_t p = 0; p < ports_dim(m); p++) {
			for (size_t c = 0; c < comms_dim(m); c++) {
				uint64_t v = *opened_at(m, role, p, c);

				if (!v)
					continue;
				fprintf(f, "tcpscope_connections_opened_total{role=\"%s\",",
					role_names[role]);
				if (p < ports_dim(m) - 1) {
					fputs("port=\"", f);
					put_label(f, label_value(&m->ports, p));
					fputs("\",", f);
				}
				fputs("comm=\"", f);
				put_label(f, label_value(&m->comms, c));
				fprintf(f, "\"} %" PRIu64 "\n", v);
			}
		}
	}
}

static void render_counts(struct ts_metrics *m, FILE *f)
{
	family(f, "tcpscope_events_total", "counter",
	       "Events read from the kernel that passed the filters");
	fprintf(f, "tcpscope_events_total %" PRIu64 "\n", m->events);
	family(f, "tcpscope_events_lost_total", "counter",
	       "Events lost because the ring buffer was full");
	fprintf(f, "tcpscope_events_lost_total %" PRIu64 "\n", m->lost);

	family(f, "tcpscope_state_transitions_total", "counter",
	       "TCP state changes, by old and new state (netstat names)");
	for (unsigned int a = 1; a < TS_STATE_MAX; a++)
		for (unsigned int b = 1; b < TS_STATE_MAX; b++)
			if (m->transitions[a][b])
				fprintf(f, "tcpscope_state_transitions_total{from=\"%s\",to=\"%s\"} %" PRIu64 "\n",
					ts_state_name(a), ts_state_name(b),
					m->transitions[a][b]);

	render_opened(m, f);

	family(f, "tcpscope_connections_closed_total", "counter",
	       "Connections that ended, by role and how they ended");
	for (int r = 0; r < NROLE; r++)
		for (int k = 0; k < NCLOSE; k++)
			if (m->closed[r][k])
				fprintf(f, "tcpscope_connections_closed_total{role=\"%s\",close=\"%s\"} %" PRIu64 "\n",
					ts_role_name(r), ts_close_name(k),
					m->closed[r][k]);

	family(f, "tcpscope_handshake_duration_seconds", "histogram",
	       "Handshake time of connections, observed when they end: client "
	       "SYN sent to ESTABLISHED, server SYN_RECV to ESTABLISHED");
	for (int r = 0; r < ROLES; r++)
		put_hist(f, "tcpscope_handshake_duration_seconds", role_names[r],
			 &m->handshake[r], handshake_le, HS_BUCKETS);
	family(f, "tcpscope_connection_lifetime_seconds", "histogram",
	       "Lifetime of connections that reached CLOSE, first step to CLOSE");
	for (int r = 0; r < ROLES; r++)
		put_hist(f, "tcpscope_connection_lifetime_seconds", role_names[r],
			 &m->lifetime[r], lifetime_le, LT_BUCKETS);

	family(f, "tcpscope_retransmissions_total", "counter",
	       "Segments retransmitted, by kind (the state they were sent in)");
	for (int k = 0; k < TS_RTX_KINDS; k++)
		fprintf(f, "tcpscope_retransmissions_total{kind=\"%s\"} %" PRIu64 "\n",
			ts_rtx_name(k), m->rtx[k]);
	family(f, "tcpscope_retransmissions_untraced_total", "counter",
	       "Retransmissions the sockets counted (total_retrans) beyond those "
	       "traced, told when their connections end: transmits that failed, "
	       "which kernels whose tcp_retransmit_skb has no err do not trace");
	fprintf(f, "tcpscope_retransmissions_untraced_total %" PRIu64 "\n",
		m->rtx_untraced);
	family(f, "tcpscope_resets_sent_total", "counter", "RST segments sent");
	fprintf(f, "tcpscope_resets_sent_total %" PRIu64 "\n", m->resets_sent);
	family(f, "tcpscope_resets_received_total", "counter",
	       "RST segments received");
	fprintf(f, "tcpscope_resets_received_total %" PRIu64 "\n",
		m->resets_received);

	family(f, "tcpscope_connections_tracked", "gauge",
	       "Connections the tracker holds now");
	fprintf(f, "tcpscope_connections_tracked %" PRIu64 "\n", m->tracked);
	family(f, "tcpscope_connections_evicted_total", "counter",
	       "Connections let go early to bound memory (raise --max-conns)");
	fprintf(f, "tcpscope_connections_evicted_total %" PRIu64 "\n", m->evicted);

	if (m->have_sockets) {
		family(f, "tcpscope_sockets", "gauge",
		       "TCP sockets by state now, from the BPF socket iterator");
		for (unsigned int s = 1; s < TS_STATE_MAX; s++) {
			if (s == TS_NEW_SYN_RECV)
				continue; /* the iterator shows them as SYN_RECV */
			fprintf(f, "tcpscope_sockets{state=\"%s\"} %u\n",
				ts_state_name(s), m->sockets[s]);
		}
	}
}

static void render_process(const struct ts_proc_stats *ps, FILE *f)
{
	/* The names and help texts of the Prometheus client libraries. */
	const struct {
		const char *name, *help;
		uint64_t v;
	} g[] = {
		{ "process_resident_memory_bytes", "Resident memory size in bytes.",
		  ps->rss_bytes },
		{ "process_virtual_memory_bytes", "Virtual memory size in bytes.",
		  ps->vsize_bytes },
		{ "process_open_fds", "Number of open file descriptors.",
		  ps->open_fds },
		{ "process_max_fds", "Maximum number of open file descriptors.",
		  ps->max_fds },
		{ "process_start_time_seconds",
		  "Start time of the process since unix epoch in seconds.",
		  ps->start_time_s },
	};

	family(f, "process_cpu_seconds_total", "counter",
	       "Total user and system CPU time spent in seconds.");
	fputs("process_cpu_seconds_total ", f);
	put_seconds(f, ps->cpu_ns);
	fputc('\n', f);
	for (size_t i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
		family(f, g[i].name, "gauge", g[i].help);
		fprintf(f, "%s %" PRIu64 "\n", g[i].name, g[i].v);
	}
}

int ts_metrics__render(struct ts_metrics *m, const struct ts_proc_stats *ps,
		       FILE *f)
{
	pthread_mutex_lock(&m->lock);
	family(f, "tcpscope_build_info", "gauge",
	       "Always 1: the version and the tracepoint variant in use");
	fputs("tcpscope_build_info{version=\"", f);
	put_label(f, m->version);
	fputs("\",tp_mode=\"", f);
	put_label(f, m->tp_mode);
	fputs("\"} 1\n", f);
	render_counts(m, f);
	pthread_mutex_unlock(&m->lock);
	if (ps)
		render_process(ps, f);
	return ferror(f) ? -EIO : 0;
}
