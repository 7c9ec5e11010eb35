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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cmd/cmds.h"
#include "cmd/opt_values.h"
#include "cmd/usage.h"
#include "cmd/filter_opts.h"
#include "cmd/output.h"
#include "core/capfile/capfile.h"
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
	{ "max-conns", OPT_MAX_CONNS, "N", 0,
	  "Connections tracked at once (default 65536); past it the least recently active one is shown early and counted as evicted", 0 },
	{ "info", OPT_HEADER, NULL, 0, "Print the file's header (first) and trailer (last) on stderr", 0 },
	{ "color", OPT_COLOR, "WHEN", 0, "Colour: auto (default), always, never", 0 },
	{ "wide", OPT_WIDE, NULL, 0,
	  "Every column (addresses, time in the old state, step), whatever the "
	  "terminal's width; without it a terminal narrower than 150 columns gets the "
	  "80-column layout", 0 },
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
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child children[] = {
	{ &ts_filter_argp, 0, "Filters (as for trace):", 1 },
	{},
};

static const struct argp argp = {
	.options = options,
	.parser = parse_opt,
	.args_doc = "FILE|-",
	.doc = "Report what a capture file (tcpscope record -w) holds; '-' reads it from "
	       "stdin as a stream ('tcpscope record -w - | tcpscope report -').\v"
	       "Without --summary or --at, prints the records exactly as 'trace' "
	       "printed them live. Exit status: 0 complete file; 1 unreadable "
	       "(not a capture, bad header); 2 bad arguments; 3 damaged or "
	       "incomplete file (truncated, corrupt, no trailer): the records "
	       "before the damage are reported and a warning says where it is.",
	.children = children,
};

/* Header strings come from the file: no terminal escapes get through. */
static const char *printable(const char *s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < len; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[i] = '\0';
	return buf;
}

static void print_info(const struct ts_capr *r)
{
	const struct ts_cap_header *h = ts_capr__header(r);
	char host[256], kernel[256], cmd[TS_CAP_MAX_STR];
	const struct ts_sock *socks;
	size_t n;

	ts_capr__snapshot(r, &socks, &n);
	fprintf(stderr, "capture: format %u, host %s, kernel %s, %zu sockets in the snapshot\n"
			"capture: recorded by: %s\n",
		h->version, printable(h->host, host, sizeof(host)),
		printable(h->kernel, kernel, sizeof(kernel)), n,
		printable(h->cmdline, cmd, sizeof(cmd)));
}

static int add_sinks(const struct report_opts *o, const struct ts_capr *r,
		     struct ts_pipeline *p, const struct ts_meta *meta)
{
	struct ts_output_opts out = {
		.kind = o->timeline ? TS_OUTPUT_TIMELINE :
			o->summary  ? TS_OUTPUT_SUMMARY :
			o->at	    ? TS_OUTPUT_AT :
				      TS_OUTPUT_RECORDS,
		.json = o->json,
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
	bool closed = false; /* stdout's reader went away */
	int err, ret = 1;

	argp_parse(&argp, argc, argv, 0, NULL, &o);
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
	ts_pipeline__init(&pipe, &o.filter, &meta);
	err = add_sinks(&o, r, &pipe, &meta);
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
	ret = 0;
cleanup:
	if (!closed && ret != TS_EXIT_USAGE) {
		err = ts_pipeline__finish(&pipe);
		if (err && err != -EPIPE && !ret) {
			ts_err("writing output failed");
			ret = 1;
		}
	}
	if (!ret && !closed && ts_capr__status(r) != TS_CAPR_OK) {
		ts_warn("%s: %s; the %llu records before it were reported",
			o.path, ts_capr__error(r), (unsigned long long)pipe.totals.records);
		ret = EXIT_DAMAGED;
	}
	if (!ret && ts_capr__trailer(r, &t) && (o.header || ts_log_verbose()))
		fprintf(stderr, "capture: trailer: %llu events, %llu lost, %llu chunks\n",
			(unsigned long long)t.events, (unsigned long long)t.lost,
			(unsigned long long)t.chunks);
	ts_capr__close(r);
	ts_pipeline__free(&pipe);
	return ret;
}
