// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tcpscope serve: the live tracer as a service.  The tracing loop (this
 * thread) feeds the metrics sink and the JSON log; libmicrohttpd's own
 * thread answers GET /metrics by rendering the counters into memory under
 * their mutex and sending that copy, so an HTTP client, slow or hostile,
 * never holds anything the tracing loop waits for.
 */
#include <argp.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <microhttpd.h>
#include "cmd/cmds.h"
#include "cmd/filter_opts.h"
#include "cmd/live_opts.h"
#include "cmd/startup.h"
#include "cmd/usage.h"
#include "core/sinks/sink_jsonlog.h"
#include "core/sinks/sink_metrics.h"
#include "core/util/fmt.h"
#include "core/util/log.h"
#include "core/util/parse.h"
#include "core/util/procstat.h"
#include "core/util/signals.h"
#include "kernel/preflight.h"
#include "kernel/snapshot.h"
#include "kernel/source_live.h"

#ifndef TCPSCOPE_VERSION
#define TCPSCOPE_VERSION "0.1.0"
#endif

#define DEFAULT_LISTEN "127.0.0.1:9973"
#define DEFAULT_LOG_KEEP 5
/* HTTP limits: a scraper or two, a person with curl; nothing more. */
#define HTTP_MAX_CONNS 32
#define HTTP_MAX_PER_IP 8
#define HTTP_MEMORY_LIMIT (16 * 1024) /* per connection: request line + headers */
#define HTTP_TIMEOUT_S 10
/* The socket table is read at most this often, however often scraped. */
#define SOCKETS_EVERY_NS 1000000000ULL

struct serve_opts {
	struct ts_filter filter;
	struct ts_live_opts live;
	const char *listen;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	uint64_t max_label_values;
	const char *log_path;
	uint64_t log_max_size;
	uint64_t log_keep;
	uint64_t max_conns;
};

enum {
	OPT_LISTEN = 0x2000,
	OPT_MAX_LABELS,
	OPT_LOG_JSON,
	OPT_LOG_MAX,
	OPT_LOG_KEEP,
	OPT_MAX_CONNS,
};

static const struct argp_option options[] = {
	{ "listen", OPT_LISTEN, "ADDR:PORT", 0,
	  "Serve /metrics here (default " DEFAULT_LISTEN "; a numeric address "
	  "or localhost, [v6]:PORT, PORT 0 for any free port)", 0 },
	{ "max-label-values", OPT_MAX_LABELS, "N", 0,
	  "Values of their own per label (process name, listener port); later "
	  "ones are counted as \"other\" (1..256, default 20)", 0 },
	{ "log-json", OPT_LOG_JSON, "FILE", 0,
	  "Also write each connection as 'trace --timeline --json' does, to FILE "
	  "(- for stdout); SIGHUP reopens FILE", 0 },
	{ "log-max-size", OPT_LOG_MAX, "SIZE", 0,
	  "Rotate FILE before it grows past SIZE (e.g. 64M; default: never)", 0 },
	{ "log-keep", OPT_LOG_KEEP, "N", 0,
	  "Rotated files kept, FILE.1 (newest) to FILE.N (0..100, default 5)", 0 },
	{ "max-conns", OPT_MAX_CONNS, "N", 0,
	  "Connections tracked at once (default 65536); past it the least "
	  "recently active one is let go and counted as evicted", 0 },
	{},
};

/*
 * ADDR:PORT, [ADDR]:PORT or :PORT (all addresses).  Only numeric addresses
 * and "localhost": a service must not wait for DNS when it starts.
 */
static int parse_listen(const char *arg, struct sockaddr_storage *ss,
			socklen_t *len, const char **why)
{
	char host[128];
	const char *colon, *port_s;
	struct addrinfo hints = {}, *ai = NULL;
	uint64_t port;
	size_t hl;

	colon = strrchr(arg, ':');
	if (!colon) {
		*why = "expected ADDR:PORT";
		return -EINVAL;
	}
	port_s = colon + 1;
	if (ts_parse_u64(port_s, 0, 65535, &port)) {
		*why = "the port must be 0..65535";
		return -EINVAL;
	}
	hl = (size_t)(colon - arg);
	if (hl >= 2 && arg[0] == '[' && arg[hl - 1] == ']') {
		arg++;
		hl -= 2;
	}
	if (hl >= sizeof(host)) {
		*why = "address too long";
		return -EINVAL;
	}
	memcpy(host, arg, hl);
	host[hl] = '\0';
	if (!hl)
		strcpy(host, "::");
	else if (!strcmp(host, "localhost"))
		strcpy(host, "127.0.0.1");
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port_s, &hints, &ai) || !ai) {
		*why = "cannot resolve the address (numeric addresses and localhost only)";
		return -EINVAL;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct serve_opts *o = state->input;
	const char *why = NULL;

	switch (key) {
	case ARGP_KEY_INIT:
		ts_usage_quiet_argp(state);
		state->child_inputs[0] = &o->filter;
		state->child_inputs[1] = &o->live;
		break;
	case OPT_LISTEN:
		o->listen = arg;
		if (parse_listen(arg, &o->addr, &o->addrlen, &why))
			ts_usage_error(state, "invalid --listen '%s': %s", arg, why);
		break;
	case OPT_MAX_LABELS:
		if (ts_parse_u64(arg, 1, TS_METRICS_MAX_LABEL_VALUES,
				 &o->max_label_values))
			ts_usage_error(state, "invalid --max-label-values '%s': expected 1..%u",
				       arg, TS_METRICS_MAX_LABEL_VALUES);
		break;
	case OPT_LOG_JSON:
		if (!*arg)
			ts_usage_error(state, "invalid --log-json '': expected FILE or -");
		o->log_path = arg;
		break;
	case OPT_LOG_MAX:
		if (ts_parse_size(arg, &o->log_max_size) || o->log_max_size < 4096)
			ts_usage_error(state, "invalid --log-max-size '%s': expected a size of at least 4K (e.g. 64M)",
				       arg);
		break;
	case OPT_LOG_KEEP:
		if (ts_parse_u64(arg, 0, 100, &o->log_keep))
			ts_usage_error(state, "invalid --log-keep '%s': expected 0..100", arg);
		break;
	case OPT_MAX_CONNS:
		if (ts_parse_u64(arg, 1, TS_TRACKER_MAX_CONNS, &o->max_conns))
			ts_usage_error(state, "invalid --max-conns '%s': expected 1..%u", arg,
				       TS_TRACKER_MAX_CONNS);
		break;
	case ARGP_KEY_ARG:
		ts_usage_error(state, "unexpected argument '%s'", arg);
		break;
	case ARGP_KEY_END:
		if ((o->log_max_size || o->log_keep != DEFAULT_LOG_KEEP) &&
		    !o->log_path)
			ts_usage_error(state, "--log-max-size and --log-keep need --log-json FILE");
		if (o->log_max_size && o->log_path && !strcmp(o->log_path, "-"))
			ts_usage_error(state, "--log-max-size needs a file, not stdout");
		if (!o->listen &&
		    parse_listen(DEFAULT_LISTEN, &o->addr, &o->addrlen, &why))
			ts_usage_error(state, "default address: %s", why);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child children[] = {
	{ &ts_filter_argp, 0, "Filters (applied in the kernel):", 1 },
	{ &ts_live_argp, 0, "Tracing:", 2 },
	{},
};

static const struct argp argp = {
	.options = options,
	.parser = parse_opt,
	.args_doc = "",
	.doc = "Trace TCP connections as a service: Prometheus metrics at "
	       "http://ADDR:PORT/metrics, and optionally one JSON object per "
	       "connection for log pipelines.\v"
	       "Counts state transitions, opens by role, closes by kind, "
	       "handshake and lifetime histograms, retransmissions, resets, "
	       "lost events and sockets per state (read at most once a second, "
	       "on scrape). SIGTERM or SIGINT stops; SIGHUP reopens the JSON "
	       "log. See docs/SERVE.md.",
	.children = children,
};

/* What the HTTP thread uses.  Only it touches snap and last_snap_ns. */
struct http_ctx {
	struct ts_metrics *metrics;
	struct ts_snapshotter *snap;
	struct ts_filter filter;
	uint64_t last_snap_ns;
	bool snap_warned;
};

static void refresh_sockets(struct http_ctx *h)
{
	uint32_t by_state[TS_STATE_MAX] = {};
	uint64_t now = ts_now_mono_ns();
	struct ts_sock *socks = NULL;
	size_t n = 0;
	int err;

	if (!h->snap || (h->last_snap_ns && now - h->last_snap_ns < SOCKETS_EVERY_NS))
		return;
	h->last_snap_ns = now;
	err = ts_snapshotter__collect(h->snap, &socks, &n);
	if (err) {
		if (!h->snap_warned)
			ts_warn("reading the socket table failed: %s", strerror(-err));
		h->snap_warned = true;
		return;
	}
	n = ts_filter_socks(&h->filter, socks, n);
	for (size_t i = 0; i < n; i++) {
		unsigned int s = socks[i].state;

		if (s == TS_NEW_SYN_RECV)
			s = TS_SYN_RECV;
		if (s < TS_STATE_MAX)
			by_state[s]++;
	}
	free(socks);
	ts_metrics__set_sockets(h->metrics, by_state);
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status,
			     const char *type, char *body, size_t len,
			     bool must_free)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, body,
					    must_free ? MHD_RESPMEM_MUST_FREE :
							MHD_RESPMEM_PERSISTENT);
	if (!r) {
		if (must_free)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

#define TEXT "text/plain; charset=utf-8"

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **req)
{
	static char index[] = "tcpscope serve: metrics at /metrics\n";
	static char not_found[] = "not found: try /metrics\n";
	static char bad_method[] = "only GET and HEAD\n";
	static int first_call;
	struct http_ctx *h = cls;
	struct ts_proc_stats ps;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int err;

	(void)version;
	(void)upload;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, TEXT, bad_method,
			     strlen(bad_method), false);
	/* The first call only announces the request; a GET with a body is
	 * answered without reading it. */
	if (!*req) {
		*req = &first_call;
		return MHD_YES;
	}
	*upload_size = 0;
	if (!strcmp(url, "/"))
		return reply(conn, MHD_HTTP_OK, TEXT, index, strlen(index), false);
	if (strcmp(url, "/metrics"))
		return reply(conn, MHD_HTTP_NOT_FOUND, TEXT, not_found,
			     strlen(not_found), false);

	refresh_sockets(h);
	f = open_memstream(&buf, &len);
	if (!f)
		return MHD_NO;
	err = ts_proc_stats__read(&ps);
	err = ts_metrics__render(h->metrics, err ? NULL : &ps, f);
	if (fclose(f) || err) {
		free(buf);
		return MHD_NO;
	}
	return reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
		     buf, len, true);
}

static int listen_socket(const struct serve_opts *o, char *name, size_t nlen)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN];
	int one = 1, fd, err;

	fd = socket(o->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (o->addr.ss_family == AF_INET6) {
		int zero = 0; /* [::]:PORT takes IPv4 too */

		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	}
	if (bind(fd, (const struct sockaddr *)&o->addr, o->addrlen) ||
	    listen(fd, 64) || getsockname(fd, (struct sockaddr *)&ss, &sl)) {
		err = -errno;
		close(fd);
		return err;
	}
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		snprintf(name, nlen, "[%s]:%u", host, ntohs(s6->sin6_port));
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		snprintf(name, nlen, "%s:%u", host, ntohs(s4->sin_port));
	}
	return fd;
}

/* libmicrohttpd's thread inherits the signal mask: it never takes
 * SIGTERM or SIGHUP, so they interrupt the tracing loop's wait. */
static struct MHD_Daemon *start_http(int fd, struct http_ctx *h)
{
	sigset_t block, old;
	struct MHD_Daemon *d;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	d = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL,
		on_request, h, MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTP_MAX_CONNS,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)HTTP_MAX_PER_IP,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_MEMORY_LIMIT,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_TIMEOUT_S,
		MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return d;
}

static volatile sig_atomic_t hup;

static void on_hup(int sig)
{
	(void)sig;
	hup = 1;
}

/* What the live loop's callback needs. */
struct loop_ctx {
	struct ts_pipeline *pipe;
	struct ts_metrics *metrics;
	struct ts_jsonlog *log;
	struct ts_capsink *cap;
};

/* After every poll: the tracker's figures, and SIGHUP's reopen.  A
 * capture (-w) that stopped ends the run, as in trace. */
static bool after_poll(void *ctx)
{
	struct loop_ctx *lc = ctx;
	struct ts_tracker_stats st;

	ts_tracker__get_stats(lc->pipe->tracker, &st);
	ts_metrics__set_tracker(lc->metrics, &st);
	if (hup) {
		hup = 0;
		if (lc->log && !ts_jsonlog__reopen(lc->log))
			ts_info("SIGHUP: JSON log reopened");
	}
	return ts_sink_capture__stopped(lc->cap);
}

/* The iterators for tcpscope_sockets, in the filter's namespace; the
 * startup snapshot is their first use. */
static int open_snapshotter(const struct ts_filter *f, struct ts_snapshotter **out)
{
	struct ts_snapshot_opts so = {
		.pids = f->pid != 0,
		.skip_cookies = true,
		.skip_timers = true,
		.skip_inodes = true,
	};
	char path[64];

	if (f->netns) {
		if (ts_netns_path(f->netns, path, sizeof(path)))
			return -ENOENT;
		so.netns_path = path;
	}
	return ts_snapshotter__new(&so, out);
}

/* The metrics sink, and the JSON log's (opened already) with --log-json.
 * 0 or 1 after one line. */
static int add_sinks(const struct serve_opts *o, const char *tp_mode,
		     struct ts_pipeline *pipe, struct ts_metrics **metrics,
		     struct ts_jsonlog **log)
{
	struct ts_metrics_opts mo = {
		.max_label_values = (uint32_t)o->max_label_values,
		.version = TCPSCOPE_VERSION,
		.tp_mode = tp_mode,
	};
	struct ts_tracker_opts to = { .max_conns = (uint32_t)o->max_conns };
	struct ts_sink sink;
	int err;

	err = ts_metrics__new(&mo, metrics);
	if (!err)
		err = ts_pipeline__track(pipe, &to);
	if (!err)
		err = ts_sink_metrics__new(&sink, *metrics);
	if (!err)
		err = ts_pipeline__add_sink(pipe, sink);
	if (err) {
		ts_err("cannot set up the metrics: %s", strerror(-err));
		return 1;
	}
	if (!*log)
		return 0;
	ts_sink_jsonlog__new(&sink, *log);
	err = ts_pipeline__add_sink(pipe, sink);
	if (err) {
		*log = NULL; /* add_sink destroyed it */
		ts_err("cannot set up the JSON log: %s", strerror(-err));
		return 1;
	}
	return 0;
}

int cmd_serve(int argc, char **argv)
{
	struct serve_opts o = { .log_keep = DEFAULT_LOG_KEEP };
	struct ts_startup st = {};
	struct ts_metrics *metrics = NULL;
	struct ts_jsonlog *log = NULL;
	struct ts_snapshotter *snap = NULL;
	struct MHD_Daemon *httpd = NULL;
	struct http_ctx http = {};
	struct ts_live_run_opts ro = {};
	struct loop_ctx lc = {};
	struct ts_pipeline pipe;
	struct ts_meta meta = {};
	struct sigaction sa = {};
	char where[INET6_ADDRSTRLEN + 16];
	bool log_added = false;
	int fd = -1, err, ret = 1;

	ts_live_opts__init(&o.live);
	argp_parse(&argp, argc, argv, 0, NULL, &o);
	if (ts_capture__precheck(&o.live.cap))
		return 1;

	meta.wall_offset_ns = ts_mono_to_wall_offset();
	ts_pipeline__init(&pipe, &o.filter, &meta);
	/* A busy port is found before anything is loaded. */
	fd = listen_socket(&o, where, sizeof(where));
	if (fd < 0) {
		ts_err("cannot listen on %s: %s", o.listen ? o.listen : DEFAULT_LISTEN,
		       strerror(-fd));
		goto cleanup;
	}
	if (o.log_path) {
		struct ts_jsonlog_opts jo = {
			.path = o.log_path,
			.max_size = o.log_max_size,
			.keep = (uint32_t)o.log_keep,
		};

		err = ts_jsonlog__new(&jo, &meta, &log);
		if (err) {
			ts_err("cannot open %s: %s", o.log_path, strerror(-err));
			goto cleanup;
		}
	}
	if (ts_preflight__privileges("trace"))
		goto cleanup;
	/* Sockets per state are a bonus: serve without them when the
	 * iterators cannot be loaded or read. */
	err = open_snapshotter(&o.filter, &snap);
	if (ts_startup__begin(&st, &o.live, &o.filter, argc, argv, &pipe, snap))
		goto cleanup;
	if (!err && st.snap_err)
		err = st.snap_err;
	if (err) {
		ts_warn("no tcpscope_sockets metric: the socket iterator cannot be used (%s)",
			strerror(-err));
		ts_snapshotter__free(snap);
		snap = NULL;
	}
	if (add_sinks(&o, ts_loader__mode_name(st.loader), &pipe, &metrics, &log))
		goto cleanup;
	log_added = true; /* the pipeline owns it now */

	http.metrics = metrics;
	http.filter = o.filter;
	http.snap = snap;
	ts_signals_install();
	sa.sa_handler = on_hup;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);

	httpd = start_http(fd, &http);
	if (!httpd) {
		ts_err("cannot start the HTTP server on %s", where);
		goto cleanup;
	}
	fd = -1; /* the daemon owns it now */
	fprintf(stderr, "tcpscope: serving http://%s/metrics\n", where);
	ts_info("tracing (%s programs); SIGTERM to stop", ts_loader__mode_name(st.loader));

	lc.pipe = &pipe;
	lc.metrics = metrics;
	lc.log = log;
	lc.cap = st.cap;
	ro.poll_ms = (int)o.live.flush_ms;
	ro.duration_ns = o.live.duration_ns;
	ro.stop = after_poll;
	ro.ctx = &lc;
	if (ts_live__run(st.live, &ro))
		goto cleanup;
	ret = 0;
cleanup:
	/* Stop answering first: the thread reads what is freed below. */
	if (httpd)
		MHD_stop_daemon(httpd);
	if (fd >= 0)
		close(fd);
	if (st.live && ts_pipeline__finish(&pipe) && !ret) {
		ts_err("writing output failed");
		ret = 1;
	}
	if (ts_sink_capture__error(st.cap) && ts_sink_capture__error(st.cap) != -EFBIG)
		ret = 1;
	if (st.loader)
		fprintf(stderr, "tcpscope: %llu events, %llu lost\n",
			(unsigned long long)pipe.totals.records,
			(unsigned long long)pipe.totals.lost);
	if (st.live)
		ts_pipeline__warn_forgotten(&pipe);
	if (log && ts_jsonlog__dropped(log))
		ts_warn("%llu JSON log objects could not be written",
			(unsigned long long)ts_jsonlog__dropped(log));
	ts_startup__end(&st);
	ts_pipeline__free(&pipe);
	if (log && !log_added)
		ts_jsonlog__free(log);
	ts_snapshotter__free(snap);
	ts_metrics__free(metrics);
	return ret;
}
