// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tcpscope trace: load, attach, and stream events through the pipeline. */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cmd/capture.h"
#include "cmd/cmds.h"
#include "cmd/filter_opts.h"
#include "kernel/loader.h"
#include "core/util/signals.h"
#include "kernel/source_live.h"
#include "cmd/opt_values.h"
#include "cmd/usage.h"
#include "cmd/trace_snapshot.h"
#include "core/util/fmt.h"
#include "core/util/log.h"
#include "core/util/parse.h"
#include "core/sinks/sinks.h"

#define DEFAULT_FLUSH_MS 100

struct trace_opts {
	struct ts_filter filter;
	bool json;
	uint64_t ring_bytes;
	uint64_t flush_ms;
	uint64_t duration_ns; /* 0: until Ctrl-C */
	enum ts_tp_mode mode;
	enum ts_color color;
	struct ts_capture_opts cap; /* -w: record while showing */
	bool timeline;
	uint64_t max_conns;
	bool snapshot;	     /* --snapshot */
	uint64_t interval_s; /* --interval: summary of counts, 0 none */
};

enum {
	OPT_RING = 0x2000,
	OPT_FLUSH,
	OPT_MODE,
	OPT_COLOR,
	OPT_FORCE,
	OPT_MAX_CONNS,
	OPT_SNAPSHOT,
	OPT_INTERVAL,
};

static const struct argp_option options[] = {
	{ "json", 'j', NULL, 0, "One JSON object per line", 0 },
	{ "timeline", 'T', NULL, 0,
	  "One block (or JSON object) per connection when it ends: its steps, "
	  "close kind, handshake, retransmits", 0 },
	{ "max-conns", OPT_MAX_CONNS, "N", 0,
	  "With --timeline: connections tracked at once (default 65536); past "
	  "it the least recently active one is shown early and counted as "
	  "evicted", 0 },
	{ "duration", 'd', "TIME", 0, "Stop after TIME (e.g. 10, 10s, 500ms, 2m)", 0 },
	{ "ring-size", OPT_RING, "SIZE", 0,
	  "Ring buffer size (power of two, at least 4K; default 16M)", 0 },
	{ "flush-ms", OPT_FLUSH, "MS", 0,
	  "Longest delay before an event is written out (default 100)", 0 },
	{ "tp-mode", OPT_MODE, "MODE", 0,
	  "Tracepoint form: auto (default), btf (tp_btf) or classic", 0 },
	{ "color", OPT_COLOR, "WHEN", 0, "Colour: auto (default), always, never", 0 },
	{ "write", 'w', "FILE", 0, "Also record to capture FILE, as 'record -w' does (tracing stops if FILE cannot be written)", 0 },
	{ "force", OPT_FORCE, NULL, 0, "With -w: replace FILE if it exists", 0 },
	{ "verbose", 'v', NULL, 0,
	  "Say which programs were loaded and why (-vv: libbpf debug output)", 0 },
	{ "snapshot", OPT_SNAPSHOT, NULL, 0,
	  "First print the sockets as 'snapshot -a' shows them; mark later events of those connections [known]", 0 },
	{ "interval", OPT_INTERVAL, "SECONDS", 0,
	  "Every SECONDS, print the socket counts per state (and snapshot -s hints)", 0 },
	{},
};

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct trace_opts *o = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		ts_usage_quiet_argp(state);
		state->child_inputs[0] = &o->filter;
		break;
	case 'j':
		o->json = true;
		break;
	case 'T':
		o->timeline = true;
		break;
	case OPT_MAX_CONNS:
		if (ts_parse_u64(arg, 1, TS_TRACKER_MAX_CONNS, &o->max_conns))
			ts_usage_error(state, "invalid --max-conns '%s': expected 1..%u", arg,
				   TS_TRACKER_MAX_CONNS);
		break;
	case 'd':
		ts_opt_duration(state, arg, &o->duration_ns);
		break;
	case OPT_RING:
		ts_opt_ring_size(state, arg, &o->ring_bytes);
		break;
	case OPT_FLUSH:
		if (ts_parse_u64(arg, 1, 10000, &o->flush_ms))
			ts_usage_error(state, "invalid --flush-ms '%s': expected 1..10000", arg);
		break;
	case OPT_MODE:
		ts_opt_tp_mode(state, arg, &o->mode);
		break;
	case OPT_COLOR:
		ts_opt_color(state, arg, &o->color);
		break;
	case 'w':
		o->cap.path = arg;
		break;
	case OPT_FORCE:
		o->cap.force = true;
		break;
	case 'v':
		ts_log_set_verbose(ts_log_verbose() + 1);
		break;
	case OPT_SNAPSHOT:
		o->snapshot = true;
		break;
	case OPT_INTERVAL:
		if (ts_parse_u64(arg, 1, 86400, &o->interval_s))
			ts_usage_error(state, "invalid --interval '%s': expected 1..86400 seconds", arg);
		break;
	case ARGP_KEY_ARG:
		ts_usage_error(state, "unexpected argument '%s'", arg);
		break;
	case ARGP_KEY_END:
		if (o->max_conns && !o->timeline)
			ts_usage_error(state, "--max-conns needs --timeline");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child children[] = {
	{ &ts_filter_argp, 0, "Filters (applied in the kernel):", 1 },
	{},
};

static const struct argp argp = {
	.options = options,
	.parser = parse_opt,
	.args_doc = "",
	.doc = "Stream TCP state changes, retransmissions and resets live.\v"
	       "Each line shows the connection's owner process, its addresses, "
	       "the transition (netstat state names), the time spent in the "
	       "old state and the protocol step it stands for. Lost events are "
	       "reported as they are seen. With --timeline each connection is "
	       "shown once, when it ends (still-open ones at exit), as the "
	       "story of its steps; see docs/TIMELINE.md.",
	.children = children,
};

/* What the live loop's callbacks need. */
struct run_ctx {
	struct ts_pipeline *pipe;
	struct ts_trace_snap *tsnap;
	struct ts_capsink *cap;
	int64_t wall_offset_ns;
};

/* --interval: the counts per state, after what was read so far. */
static int interval_summary(void *ctx)
{
	struct run_ctx *rc = ctx;
	int err = ts_pipeline__flush(rc->pipe);

	if (!err)
		err = ts_trace_snap__print_summary(rc->tsnap, stdout, rc->wall_offset_ns);
	if (err)
		ts_err("summary failed: %s", strerror(-err));
	return err;
}

static bool capture_stopped(void *ctx)
{
	struct run_ctx *rc = ctx;

	return ts_sink_capture__stopped(rc->cap);
}

int cmd_trace(int argc, char **argv)
{
	struct trace_opts o = {
		.ring_bytes = TS_DEFAULT_RING,
		.flush_ms = DEFAULT_FLUSH_MS,
	};
	struct ts_loader_opts lo = {};
	struct ts_loader *loader = NULL;
	struct ts_live *live = NULL;
	struct ts_trace_snap *tsnap = NULL;
	struct ts_live_run_opts ro = {};
	struct run_ctx rc = {};
	struct ts_pipeline pipe;
	struct ts_meta meta = {};
	struct ts_sink sink;
	struct ts_capsink *cap = NULL;
	int err, ret = 1;

	argp_parse(&argp, argc, argv, 0, NULL, &o);
	if (ts_capture__precheck(&o.cap))
		return 1;

	meta.wall_offset_ns = ts_mono_to_wall_offset();
	meta.color = !o.json && ts_color_wanted(o.color);
	ts_pipeline__init(&pipe, &o.filter, &meta);
	if ((o.snapshot || o.interval_s) &&
	    ts_trace_snap__new(&o.filter, o.json, &tsnap))
		goto cleanup;
	if (o.timeline) {
		struct ts_tracker_opts to = { .max_conns = (uint32_t)o.max_conns };

		err = ts_pipeline__track(&pipe, &to);
		if (!err)
			err = o.json ? ts_sink_timeline_json__new(&sink, stdout, &meta) :
				       ts_sink_timeline_text__new(&sink, stdout, &meta);
	} else if (o.snapshot) {
		err = ts_trace_snap__sink_new(tsnap, &sink, stdout, &meta);
	} else {
		err = o.json ? ts_sink_json__new(&sink, stdout, &meta) :
			       ts_sink_text__new(&sink, stdout, &meta);
	}
	if (!err)
		err = ts_pipeline__add_sink(&pipe, sink);
	if (err) {
		ts_err("cannot set up output: %s", strerror(-err));
		goto cleanup;
	}

	lo.filter = o.filter;
	lo.ring_bytes = o.ring_bytes;
	/* Wake the reader early only when an eighth of the ring is used,
	 * so bursts cannot overrun it between two polls. */
	lo.wakeup_bytes = o.ring_bytes / 8;
	lo.mode = o.mode;
	if (ts_loader__open(&lo, &loader))
		goto cleanup;
	if (o.cap.path &&
	    ts_capture__attach(&o.cap, argc, argv, &o.filter, &pipe, &cap))
		goto cleanup;
	if (ts_live__new(loader, &pipe, &live))
		goto cleanup;

	ts_signals_install();
	/* Attached first: nothing happens unseen between the two. */
	if (o.snapshot) {
		err = ts_trace_snap__print_initial(
			tsnap, stdout, !strcmp(ts_loader__mode_name(loader), "btf"));
		if (!err && fflush(stdout))
			err = -errno;
		if (err) {
			ts_err("snapshot failed: %s", strerror(-err));
			goto cleanup;
		}
	}
	ts_info("tracing (%s programs); Ctrl-C to stop", ts_loader__mode_name(loader));
	ro.poll_ms = (int)o.flush_ms;
	ro.duration_ns = o.duration_ns;
	ro.tick_ns = o.interval_s * 1000000000ULL;
	ro.tick = interval_summary;
	ro.stop = capture_stopped;
	ro.ctx = &rc;
	rc.pipe = &pipe;
	rc.tsnap = tsnap;
	rc.cap = cap;
	rc.wall_offset_ns = meta.wall_offset_ns;
	err = ts_live__run(live, &ro);
	/* A closed stdout (| head) ends the run like Ctrl-C, quietly. */
	if (err && err != -EPIPE)
		goto cleanup;
	ret = 0;
cleanup:
	/* The summary belongs to a run that traced; none if setup failed. */
	if (live) {
		err = ts_pipeline__finish(&pipe);
		if (err && err != -EPIPE && !ret) {
			ts_err("writing output failed: %s", strerror(-err));
			ret = 1;
		}
	}
	if (ts_sink_capture__error(cap) && ts_sink_capture__error(cap) != -EFBIG)
		ret = 1;
	if (live)
		fprintf(stderr, "tcpscope: %llu events, %llu lost\n",
			(unsigned long long)pipe.totals.records,
			(unsigned long long)pipe.totals.lost);
	if (live && pipe.totals.conns_evicted)
		ts_warn("%llu connections evicted (raise --max-conns)",
			(unsigned long long)pipe.totals.conns_evicted);
	if (live && ts_live__bad_records(live))
		ts_warn("%llu malformed records skipped",
			(unsigned long long)ts_live__bad_records(live));
	ts_live__free(live);
	ts_loader__free(loader);
	ts_pipeline__free(&pipe);
	ts_trace_snap__free(tsnap);
	return ret;
}
