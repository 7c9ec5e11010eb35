// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tcpscope report FILE: replay a capture through the same pipeline as live
 * tracing (same filters, same text and JSON output), or summarise it
 * (--summary), or rebuild the socket table at one moment (--at TIME).
 *
 * Exit status: 0 a complete file; 1 nothing could be read (not a capture,
 * bad header, I/O error); 2 bad arguments; 3 the file is damaged or
 * incomplete (truncated, corrupt, no trailer): every record before the
 * damage was reported and one warning line says where it is.
 */
#include <argp.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cmd/cmds.h"
#include "cmd/opt_values.h"
#include "cmd/usage.h"
#include "cmd/diagram_opts.h"
#include "cmd/filter_opts.h"
#include "cmd/output.h"
#include "core/capfile/capfile.h"
#include "core/sinks/pictures.h"
#include "core/util/escape.h"
#include "core/util/log.h"
#include "core/stream/source_file.h"
#include "core/util/parse.h"
#include "core/stream/tracker.h"
#include "core/util/timearg.h"
#include "core/sinks/sinks.h"

#define EXIT_DAMAGED 3

struct report_opts {
	struct ts_filter filter;
	const char *path;
	const char *at; /* parsed once the header's clocks are known */
	bool json;
	bool summary;
	bool header;
	bool timeline;
	struct ts_diagram_flags pic; /* --diagram, --ascii */
	const char *html;     /* --html FILE */
	const char *perfetto; /* --perfetto FILE */
	uint64_t html_max;
	uint64_t max_conns;
	enum ts_color color;
	bool wide; /* --wide: every column, whatever the width */
};

enum {
	OPT_COLOR = 0x2000,
	OPT_WIDE,
	OPT_AT,
	OPT_HEADER,
	OPT_MAX_CONNS,
	OPT_HTML,
	OPT_HTML_MAX,
	OPT_PERFETTO,
};

static const struct argp_option options[] = {
	{ "json", 'j', NULL, 0, "One JSON object per line", 0 },
	{ "summary", 's', NULL, 0,
	  "Counts per state change, handshake-time percentiles, top connections by retransmissions", 0 },
	{ "at", OPT_AT, "TIME", 0,
	  "The sockets as they were at TIME: HH:MM:SS[.fff] as trace prints it (local, on "
	  "the capture's first day), a date (2026-11-21 12:00:05, local), RFC 3339 "
	  "(2026-11-21T12:00:05Z) or an offset from the start (+5s)", 0 },
	{ "timeline", 'T', NULL, 0,
	  "One block (or JSON object) per connection: its steps, close kind, handshake, retransmits", 0 },
	{ "html", OPT_HTML, "FILE", 0,
	  "Write a self-contained HTML page of the connections on a time axis (docs/PICTURES.md)", 0 },
	{ "html-max-conns", OPT_HTML_MAX, "N", 0,
	  "Rows the HTML page draws (default 500, at most 100000): the worst first, the rest aggregated", 0 },
	{ "perfetto", OPT_PERFETTO, "FILE", 0,
	  "Write Chrome/Perfetto trace-event JSON (open it in ui.perfetto.dev)", 0 },
	{ "max-conns", OPT_MAX_CONNS, "N", 0,
	  "Connections tracked at once (default 65536); past it the least recently active one is shown early and counted as evicted", 0 },
	{ "info", OPT_HEADER, NULL, 0, "Print the file's header (first) and trailer (last) on stderr", 0 },
	{ "color", OPT_COLOR, "WHEN", 0, "Colour: auto (default), always, never", 0 },
	{ "wide", OPT_WIDE, NULL, 0,
	  "Every column (addresses, time in the old state, step), whatever the "
	  "terminal's width, and each owner's cgroup and container; without it a "
	  "terminal narrower than 150 columns gets the 80-column layout", 0 },
	{ "verbose", 'v', NULL, 0, "Say more about the file", 0 },
	{},
};

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct report_opts *o = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		ts_usage_quiet_argp(state);
		state->child_inputs[0] = &o->filter;
		state->child_inputs[1] = &o->pic;
		break;
	case 'j':
		o->json = true;
		break;
	case 's':
		o->summary = true;
		break;
	case OPT_AT:
		o->at = arg;
		break;
	case OPT_HEADER:
		o->header = true;
		break;
	case 'T':
		o->timeline = true;
		break;
	case OPT_HTML:
		o->html = arg;
		break;
	case OPT_PERFETTO:
		o->perfetto = arg;
		break;
	case OPT_HTML_MAX:
		if (ts_parse_u64(arg, 1, TS_HTML_MAX_CONNS, &o->html_max))
			ts_usage_error(state, "invalid --html-max-conns '%s': expected 1..%u", arg,
				       TS_HTML_MAX_CONNS);
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
	case 'v':
		ts_log_set_verbose(ts_log_verbose() + 1);
		break;
	case ARGP_KEY_ARG:
		if (o->path)
			ts_usage_error(state, "unexpected argument '%s': one FILE only", arg);
		o->path = arg;
		break;
	case ARGP_KEY_END:
		if (!o->path)
			ts_usage_error(state, "FILE is required");
		if (!strcmp(o->path, "-") && isatty(STDIN_FILENO))
			ts_usage_error(state, "-: stdin is a terminal; pipe a capture into it "
					      "('tcpscope record -w - | tcpscope report -')");
		if (o->summary + !!o->at + o->timeline > 1)
			ts_usage_error(state, "--summary, --at and --timeline exclude each other");
		ts_diagram_flags__check(state, &o->pic, o->timeline, o->json);
		if (o->html_max && !o->html)
			ts_usage_error(state, "--html-max-conns needs --html");
		if (o->html && o->perfetto && !strcmp(o->html, o->perfetto))
			ts_usage_error(state, "--html and --perfetto need two different files");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child children[] = {
	{ &ts_filter_argp, 0, "Filters (as for trace):", 1 },
	{ &ts_diagram_argp, 0, "Diagrams:", 2 },
	{},
};

static const struct argp argp = {
	.options = options,
	.parser = parse_opt,
	.args_doc = "FILE|-",
	.doc = "Report what a capture file (tcpscope record -w) holds; '-' reads it from "
	       "stdin as a stream ('tcpscope record -w - | tcpscope report -').\v"
	       "Without --summary or --at, prints the records exactly as 'trace' "
	       "printed them live. --html and --perfetto write pictures of the "
	       "connections to files (docs/PICTURES.md); alone, they print nothing "
	       "else. Exit status: 0 complete file; 1 unreadable "
	       "(not a capture, bad header); 2 bad arguments; 3 damaged or "
	       "incomplete file (truncated, corrupt, no trailer): the records "
	       "before the damage are reported and a warning says where it is.",
	.children = children,
};

static void print_info(const struct ts_capr *r)
{
	const struct ts_cap_header *h = ts_capr__header(r);
	/* Header strings come from the file: no terminal escapes get through. */
	char host[1024], kernel[1024], cmd[TS_ESC_LEN(TS_CAP_MAX_STR)];
	const struct ts_sock *socks;
	size_t n;

	ts_capr__snapshot(r, &socks, &n);
	fprintf(stderr, "capture: format %u, host %s, kernel %s, %zu sockets in the snapshot\n"
			"capture: recorded by: %s\n",
		h->version, ts_escape(host, sizeof(host), h->host),
		ts_escape(kernel, sizeof(kernel), h->kernel), n,
		ts_escape(cmd, sizeof(cmd), h->cmdline));
}

/* Files the pictures go to, opened before anything is read. */
struct outputs {
	FILE *html;
	FILE *perfetto;
};

static int open_output(const char *path, FILE **out)
{
	*out = fopen(path, "w");
	if (!*out) {
		int err = -errno;

		ts_err("cannot write %s: %s", path, strerror(errno));
		return err;
	}
	return 0;
}

/* --html and --perfetto: sinks of their own, next to the one on stdout. */
static int add_picture_sinks(const struct report_opts *o, struct ts_pipeline *p,
			     const struct ts_meta *meta, struct outputs *out)
{
	struct ts_sink sink;
	int err = 0;

	if (o->html) {
		const char *base = strrchr(o->path, '/');
		struct ts_html_opts ho = { .max_conns = (uint32_t)o->html_max,
					   .title = base ? base + 1 : o->path };

		err = open_output(o->html, &out->html);
		if (!err) {
			err = ts_sink_html__new(&sink, out->html, meta, &ho);
			if (!err)
				err = ts_pipeline__add_sink(p, sink);
			if (err)
				ts_err("cannot set up %s: %s", o->html, strerror(-err));
		}
	}
	if (!err && o->perfetto) {
		err = open_output(o->perfetto, &out->perfetto);
		if (!err) {
			err = ts_sink_perfetto__new(&sink, out->perfetto, meta);
			if (!err)
				err = ts_pipeline__add_sink(p, sink);
			if (err)
				ts_err("cannot set up %s: %s", o->perfetto, strerror(-err));
		}
	}
	return err;
}

static int add_sinks(const struct report_opts *o, const struct ts_capr *r,
		     struct ts_pipeline *p, const struct ts_meta *meta)
{
	bool pictures = o->html || o->perfetto;
	struct ts_output_opts out = {
		.kind = o->pic.diagram ? TS_OUTPUT_DIAGRAM :
			o->timeline ? TS_OUTPUT_TIMELINE :
			o->summary  ? TS_OUTPUT_SUMMARY :
			o->at	    ? TS_OUTPUT_AT :
			pictures    ? TS_OUTPUT_NONE : /* only the files were asked for */
				      TS_OUTPUT_RECORDS,
		.json = o->json,
		.ascii = o->pic.ascii,
		.track = pictures,
		.max_conns = (uint32_t)o->max_conns,
	};
	const struct ts_cap_header *h = ts_capr__header(r);
	struct ts_at_opts ao = { .json = o->json };
	struct ts_sock *socks = NULL;
	const struct ts_sock *all;
	size_t total;
	int err;

	if (out.kind != TS_OUTPUT_AT)
		return ts_output__add(p, &out, stdout, meta);
	err = ts_parse_at(o->at, h->start_mono_ns, h->wall_offset_ns, &ao.at_mono_ns);
	if (err) {
		ts_err("invalid --at '%s': expected HH:MM:SS[.fff] (local, as trace prints it), "
		       "a date (2026-11-21 12:00:05, local; or RFC 3339 with a zone) or "
		       "+OFFSET (+5s)",
		       o->at);
		return -EDOM; /* a usage error */
	}
	ao.start_ns = h->start_mono_ns;
	/* The snapshot's sockets that pass the filters, as records would;
	 * the sink copies what it needs. */
	ts_capr__snapshot(r, &all, &total);
	err = ts_filter_socks_copy(&o->filter, all, total, &socks, &ao.nsocks);
	if (err) {
		ts_err("cannot set up output: %s", strerror(-err));
		return err;
	}
	ao.socks = socks;
	out.at = &ao;
	err = ts_output__add(p, &out, stdout, meta);
	free(socks);
	return err;
}

int cmd_report(int argc, char **argv)
{
	struct report_opts o = {};
	struct ts_capr *r = NULL;
	struct ts_cap_trailer t;
	struct ts_pipeline pipe;
	struct ts_meta meta = {};
	struct outputs out = {};
	bool closed = false; /* stdout's reader went away */
	int err, ret = 1;

	argp_parse(&argp, argc, argv, 0, NULL, &o);
	/* A closed stdout (| head) is seen as EPIPE and ends the report
	 * quietly with status 0, instead of killing it. */
	signal(SIGPIPE, SIG_IGN);
	ts_pipeline__init(&pipe, &o.filter, &meta);
	err = ts_capr__open(o.path, &r);
	if (err) {
		if (r && ts_capr__status(r) != TS_CAPR_OK)
			ts_err("%s: %s", o.path, ts_capr__error(r));
		else
			ts_err("cannot read %s: %s", o.path, strerror(-err));
		goto cleanup;
	}
	if (o.header || ts_log_verbose())
		print_info(r);
	ts_source_file__meta(r, &meta);
	meta.color = !o.json && ts_color_wanted(o.color);
	meta.compact = !o.json && ts_compact_wanted(o.wide);
	meta.columns = ts_out_columns();
	meta.wide = o.wide;
	meta.cgroup_filtered = o.filter.cgroup != NULL;
	ts_pipeline__init(&pipe, &o.filter, &meta);
	err = add_sinks(&o, r, &pipe, &meta);
	if (!err)
		err = add_picture_sinks(&o, &pipe, &meta, &out);
	if (err) {
		if (err == -EDOM)
			ret = TS_EXIT_USAGE;
		goto cleanup;
	}
	if (o.json)
		ts_json_write_header(stdout, "report",
				     o.timeline ? "timeline" :
				     o.summary	? "summary" :
				     o.at	? "at" :
						  "events",
				     ts_capr__header(r)->start_mono_ns, &meta);
	err = ts_source_file__run(r, &pipe);
	if (err == -EPIPE) {
		/* The reader went away (| head): stop, quietly. */
		closed = true;
		ret = 0;
		goto cleanup;
	}
	if (err) {
		ts_err("reading %s failed: %s", o.path, strerror(-err));
		goto cleanup;
	}
	/* The pictures say where the damage starts, as the warning does. */
	if (ts_capr__status(r) != TS_CAPR_OK)
		for (int i = 0; i < pipe.nsinks; i++)
			ts_sink_picture__note_damage(&pipe.sinks[i], ts_capr__error(r));
	ret = 0;
cleanup:
	if (!closed && ret != TS_EXIT_USAGE) {
		err = ts_pipeline__finish(&pipe);
		if (err && err != -EPIPE && !ret) {
			ts_err("writing output failed");
			ret = 1;
		}
	}
	if (out.html && fclose(out.html) && !ret) {
		ts_err("writing %s failed: %s", o.html, strerror(errno));
		ret = 1;
	}
	if (out.perfetto && fclose(out.perfetto) && !ret) {
		ts_err("writing %s failed: %s", o.perfetto, strerror(errno));
		ret = 1;
	}
	if (!ret && !closed && ts_capr__status(r) != TS_CAPR_OK) {
		ts_warn("%s: %s; the %llu records before it were reported",
			o.path, ts_capr__error(r), (unsigned long long)pipe.totals.records);
		ret = EXIT_DAMAGED;
	}
	if (!ret && ts_capr__trailer(r, &t) && (o.header || ts_log_verbose()))
		fprintf(stderr, "capture: trailer: %llu events, %llu lost, %llu not written, %llu chunks\n",
			(unsigned long long)t.events, (unsigned long long)t.lost,
			(unsigned long long)t.unwritten, (unsigned long long)t.chunks);
	/* A recording cut short by a full disk is complete as a file, not
	 * as a recording. */
	if (!ret && !closed && ts_capr__trailer(r, &t) && t.unwritten) {
		ts_warn("%s: %llu events could not be written when it was recorded (a write "
			"error stopped the recording); the %llu records in the file were reported",
			o.path, (unsigned long long)t.unwritten,
			(unsigned long long)pipe.totals.records);
		ret = EXIT_DAMAGED;
	}
	if (!closed)
		ts_pipeline__warn_forgotten(&pipe);
	ts_capr__close(r);
	ts_pipeline__free(&pipe);
	return ret;
}
