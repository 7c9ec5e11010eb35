// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tcpscope trace: load, attach, and stream events through the pipeline. */
#include <argp.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cmd/capture.h"
#include "cmd/cmds.h"
#include "cmd/diagram_opts.h"
#include "cmd/filter_opts.h"
#include "cmd/live_opts.h"
#include "cmd/opt_values.h"
#include "cmd/output.h"
#include "cmd/startup.h"
#include "cmd/trace_snapshot.h"
#include "cmd/usage.h"
#include "core/util/fmt.h"
#include "core/util/log.h"
#include "core/util/parse.h"
#include "core/util/signals.h"
#include "core/sinks/sinks.h"

struct trace_opts {
	struct ts_filter filter;
	struct ts_live_opts live;
	bool json;
	enum ts_color color;
	bool wide; /* --wide: every column, whatever the width */
	bool timeline;
	struct ts_diagram_flags pic; /* --diagram, --ascii */
	uint64_t max_conns;
	bool snapshot;	     /* --snapshot */
	uint64_t interval_s; /* --interval: summary of counts, 0 none */
};

enum {
	OPT_COLOR = 0x2000,
	OPT_WIDE,
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
	{ "color", OPT_COLOR, "WHEN", 0, "Colour: auto (default), always, never", 0 },
	{ "wide", OPT_WIDE, NULL, 0,
	  "Every column (addresses, time in the old state, step), whatever the "
	  "terminal's width, and each owner's cgroup and container; without it a "
	  "terminal narrower than 150 columns gets the 80-column layout", 0 },
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
		state->child_inputs[1] = &o->live;
		state->child_inputs[2] = &o->pic;
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
	case OPT_COLOR:
		ts_opt_color(state, arg, &o->color);
		break;
	case OPT_WIDE:
		o->wide = true;
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
		ts_diagram_flags__check(state, &o->pic, o->timeline, o->json);
		if (o->live.cap.path && !strcmp(o->live.cap.path, "-"))
			ts_usage_error(state, "-w -: trace writes its own output to stdout; use "
					      "'tcpscope record -w -'");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child children[] = {
	{ &ts_filter_argp, 0, "Filters (applied in the kernel):", 1 },
	{ &ts_live_argp, 0, "Tracing:", 2 },
	{ &ts_diagram_argp, 0, "Diagrams:", 3 },
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
	if (!err && fflush(stdout))
		err = -errno;
	if (err && err != -EPIPE)
		ts_err("summary failed: %s", strerror(-err));
	return err;
}

static bool capture_stopped(void *ctx)
{
	struct run_ctx *rc = ctx;

	return ts_sink_capture__stopped(rc->cap);
}

static int new_marked_sink(void *tsnap, struct ts_sink *out, FILE *f,
			   const struct ts_meta *m)
{
	return ts_trace_snap__sink_new(tsnap, out, f, m);
}

/* The records' sink (with --snapshot one that marks known connections),
 * or the timelines. */
static int add_output(const struct trace_opts *o, struct ts_trace_snap *tsnap,
		      struct ts_pipeline *p, const struct ts_meta *meta)
{
	struct ts_output_opts out = {
		.kind = o->pic.diagram ? TS_OUTPUT_DIAGRAM :
			o->timeline ? TS_OUTPUT_TIMELINE : TS_OUTPUT_RECORDS,
		.json = o->json,
		.ascii = o->pic.ascii,
		.max_conns = (uint32_t)o->max_conns,
		.new_records = o->snapshot ? new_marked_sink : NULL,
		.records_ctx = tsnap,
	};

	return ts_output__add(p, &out, stdout, meta);
}

/* --snapshot: the startup snapshot, before the first event. */
static int print_initial(struct ts_trace_snap *tsnap, const struct ts_startup *st)
{
	int err = st->snap_err;

	if (!err)
		err = ts_trace_snap__print_initial(
			tsnap, stdout, ts_loader__mode(st->loader) == TS_TP_BTF,
			st->socks, st->nsocks);
	if (!err && fflush(stdout))
		err = -errno;
	if (err && err != -EPIPE)
		ts_err("snapshot failed: %s", strerror(-err));
	return err;
}

int cmd_trace(int argc, char **argv)
{
	struct trace_opts o = {};
	struct ts_startup st = {};
	struct ts_trace_snap *tsnap = NULL;
	struct ts_live_run_opts ro = {};
	struct run_ctx rc = {};
	struct ts_pipeline pipe;
	struct ts_meta meta = {};
	bool closed = false; /* stdout's reader went away */
	int err, ret = 1;

	ts_live_opts__init(&o.live);
	argp_parse(&argp, argc, argv, 0, NULL, &o);
	ts_filter_opts__check_live(&o.filter);
	if (ts_capture__precheck(&o.live.cap))
		return 1;

	meta.wall_offset_ns = ts_mono_to_wall_offset();
	meta.color = !o.json && ts_color_wanted(o.color);
	meta.compact = !o.json && ts_compact_wanted(o.wide);
	meta.columns = ts_out_columns();
	meta.wide = o.wide;
	meta.cgroup_filtered = o.filter.cgroup != NULL;
	ts_pipeline__init(&pipe, &o.filter, &meta);
	if ((o.snapshot || o.interval_s) &&
	    ts_trace_snap__new(&o.filter, o.json, &tsnap))
		goto cleanup;
	if (add_output(&o, tsnap, &pipe, &meta))
		goto cleanup;
	if (ts_startup__begin(&st, &o.live, &o.filter, argc, argv, &pipe,
			      tsnap ? ts_trace_snap__snapshotter(tsnap) : NULL))
		goto cleanup;

	ts_signals_install();
	if (o.json)
		ts_json_write_header(stdout, "trace", o.timeline ? "timeline" : "events",
				     ts_now_mono_ns(), &meta);
	if (o.snapshot) {
		err = print_initial(tsnap, &st);
		if (err == -EPIPE) {
			closed = true;
			ret = 0;
		}
		if (err)
			goto cleanup;
	}
	ts_note("tracing (%s programs); Ctrl-C to stop", ts_loader__mode_name(st.loader));
	ro.poll_ms = (int)o.live.flush_ms;
	ro.duration_ns = o.live.duration_ns;
	ro.tick_ns = o.interval_s * 1000000000ULL;
	ro.tick = interval_summary;
	ro.stop = capture_stopped;
	ro.ctx = &rc;
	rc.pipe = &pipe;
	rc.tsnap = tsnap;
	rc.cap = st.cap;
	rc.wall_offset_ns = meta.wall_offset_ns;
	err = ts_live__run(st.live, &ro);
	if (err == -EPIPE) {
		/* The reader went away (| head): that ends the run, quietly. */
		closed = true;
		ret = 0;
		goto cleanup;
	}
	if (err)
		goto cleanup;
	ret = 0;
cleanup:
	/* Ctrl-C echoed "^C" on the terminal: the totals start a new line. */
	if (ts_stop_signal() == SIGINT && isatty(STDERR_FILENO))
		fputc('\n', stderr);
	/* The summary belongs to a run that traced; none if setup failed. */
	if (st.live && !closed) {
		err = ts_pipeline__finish(&pipe);
		if (err == -EPIPE) {
			closed = true;
		} else if (err && !ret) {
			ts_err("writing output failed");
			ret = 1;
		}
	}
	if (ts_sink_capture__error(st.cap) && ts_sink_capture__error(st.cap) != -EFBIG)
		ret = 1;
	/* Totals of a run that traced: none when setup failed (a refused -w). */
	if (st.live && !closed)
		fprintf(stderr, "tcpscope: %llu events, %llu lost\n",
			(unsigned long long)pipe.totals.records,
			(unsigned long long)pipe.totals.lost);
	if (st.live && !closed) {
		struct ts_losses d;
		char skipped[256];

		ts_loader__skipped(st.loader, skipped, sizeof(skipped));
		if (skipped[0])
			ts_info("runs the kernel skipped, by program: %s", skipped);
		if (!ts_live__losses(st.live, &d) && (pipe.totals.lost || d.rescued))
			ts_info("lost: %llu ring reservations refused, %llu without connection state, "
				"%llu runs the kernel skipped (a program already running on that CPU); "
				"%llu such runs taken over by the second program",
				(unsigned long long)d.ring, (unsigned long long)d.state,
				(unsigned long long)d.nested, (unsigned long long)d.rescued);
	}
	if (st.live && pipe.totals.conns_evicted)
		ts_warn("%llu connections evicted (raise --max-conns)",
			(unsigned long long)pipe.totals.conns_evicted);
	if (st.live)
		ts_pipeline__warn_forgotten(&pipe);
	ts_startup__end(&st);
	ts_pipeline__free(&pipe);
	ts_trace_snap__free(tsnap);
	return ret;
}
