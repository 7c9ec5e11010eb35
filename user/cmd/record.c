// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tcpscope record: trace into a capture file, showing nothing.  The same
 * live source and pipeline as 'trace', with the capture sink as its only
 * sink.
 */
#include <argp.h>
#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#include "cmd/capture.h"
#include "cmd/cmds.h"
#include "cmd/filter_opts.h"
#include "cmd/live_opts.h"
#include "cmd/startup.h"
#include "cmd/usage.h"
#include "core/util/fmt.h"
#include "core/util/log.h"
#include "core/util/parse.h"
#include "core/util/signals.h"

struct record_opts {
	struct ts_filter filter;
	struct ts_live_opts live;
};

enum {
	OPT_MAX_SIZE = 0x2000,
	OPT_FORMAT,
};

static const struct argp_option options[] = {
	{ "max-size", OPT_MAX_SIZE, "SIZE", 0,
	  "Stop before FILE grows past SIZE (e.g. 100M); the file stays complete", 0 },
	{ "format", OPT_FORMAT, "N", 0,
	  "Capture format: 4 (default, zstd) or 3 (zlib, for tcpscope builds from before "
	  "format 4)", 0 },
	{},
};

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct record_opts *o = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		ts_usage_quiet_argp(state);
		state->child_inputs[0] = &o->filter;
		state->child_inputs[1] = &o->live;
		break;
	case OPT_MAX_SIZE:
		if (ts_parse_size(arg, &o->live.cap.max_bytes) || o->live.cap.max_bytes < 4096)
			ts_usage_error(state, "invalid --max-size '%s': at least 4K", arg);
		break;
	case OPT_FORMAT:
		if (strcmp(arg, "3") && strcmp(arg, "4"))
			ts_usage_error(state, "invalid --format '%s': 3 or 4", arg);
		o->live.cap.format = (uint32_t)(arg[0] - '0');
		break;
	case ARGP_KEY_ARG:
		ts_usage_error(state, "unexpected argument '%s'", arg);
		break;
	case ARGP_KEY_END:
		if (!o->live.cap.path)
			ts_usage_error(state, "-w FILE is required");
		if (!strcmp(o->live.cap.path, "-") && isatty(STDOUT_FILENO))
			ts_usage_error(state, "-w -: stdout is a terminal; pipe it ('| tcpscope report -') "
					      "or redirect it to a file");
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
	.args_doc = "-w FILE",
	.doc = "Record TCP state changes, retransmissions and resets to a capture file.\v"
	       "Read it back with 'tcpscope report FILE'. Ctrl-C or SIGTERM stop "
	       "the recording and close the file properly; if the recorder is "
	       "killed, the file is readable up to its last chunk (chunks are "
	       "written at least every second). A full disk stops the recording "
	       "with one error line and leaves a valid file. An existing FILE is "
	       "never replaced without --force.",
	.children = children,
};

struct run_ctx {
	struct ts_capsink *cap;
	struct ts_pipeline *pipe;
	uint64_t start_ns;
	bool status; /* the status line is on screen */
};

static bool capture_stopped(void *ctx)
{
	struct run_ctx *rc = ctx;

	return ts_sink_capture__stopped(rc->cap);
}

/* About once a second, on a terminal only: one line, rewritten in place. */
static int show_status(void *ctx)
{
	struct run_ctx *rc = ctx;
	uint64_t s = (ts_now_mono_ns() - rc->start_ns) / 1000000000ULL;

	fprintf(stderr, "\rtcpscope: %02llu:%02llu:%02llu  %llu events  %llu lost  %llu bytes\033[K",
		(unsigned long long)(s / 3600), (unsigned long long)(s / 60 % 60),
		(unsigned long long)(s % 60),
		(unsigned long long)ts_sink_capture__events(rc->cap),
		(unsigned long long)rc->pipe->totals.lost,
		(unsigned long long)ts_sink_capture__bytes(rc->cap));
	fflush(stderr);
	rc->status = true;
	return 0;
}

int cmd_record(int argc, char **argv)
{
	struct record_opts o = {};
	struct ts_capture_opts *co = &o.live.cap;
	struct ts_startup st = {};
	struct ts_pipeline pipe;
	struct ts_meta meta = {};
	struct ts_live_run_opts ro = {};
	struct run_ctx rc = {};
	int ret = 1;

	ts_live_opts__init(&o.live);
	argp_parse(&argp, argc, argv, 0, NULL, &o);
	ts_filter_opts__check_live(&o.filter);
	if (ts_capture__precheck(co))
		return 1;
	/* Before the file exists: a stop request must still close it. */
	ts_signals_install();

	meta.wall_offset_ns = ts_mono_to_wall_offset();
	ts_pipeline__init(&pipe, &o.filter, &meta);
	if (ts_startup__begin(&st, &o.live, &o.filter, argc, argv, &pipe, NULL))
		goto cleanup;

	ts_note("recording (%s programs) to %s; Ctrl-C to stop",
		ts_loader__mode_name(st.loader), strcmp(co->path, "-") ? co->path : "stdout");
	rc.cap = st.cap;
	rc.pipe = &pipe;
	rc.start_ns = ts_now_mono_ns();
	ro.poll_ms = (int)o.live.flush_ms;
	ro.duration_ns = o.live.duration_ns;
	ro.stop = capture_stopped;
	ro.ctx = &rc;
	if (isatty(STDERR_FILENO)) {
		ro.tick_ns = 1000000000ULL;
		ro.tick = show_status;
	}
	if (ts_live__run(st.live, &ro))
		goto cleanup;
	ret = 0;
cleanup:
	/* The status line (or the "^C" a terminal echoed) ends here. */
	if (rc.status || (ts_stop_signal() == SIGINT && isatty(STDERR_FILENO)))
		fputc('\n', stderr);
	/* finish writes the last chunk and the trailer, errors or not. */
	if (ts_pipeline__finish(&pipe) && !ret) {
		ts_err("writing output failed");
		ret = 1;
	}
	if (st.cap) {
		uint64_t ev = ts_sink_capture__events(st.cap);
		uint64_t bytes = ts_sink_capture__bytes(st.cap);

		fprintf(stderr, "tcpscope: recorded %llu events (%llu lost) to %s: %llu bytes",
			(unsigned long long)ev, (unsigned long long)pipe.totals.lost,
			strcmp(co->path, "-") ? co->path : "stdout", (unsigned long long)bytes);
		if (ev)
			fprintf(stderr, ", %.1f bytes/event", (double)bytes / (double)ev);
		if (ts_sink_capture__dropped(st.cap))
			fprintf(stderr, "; the last %llu events could not be written",
				(unsigned long long)ts_sink_capture__dropped(st.cap));
		fputc('\n', stderr);
		if (ts_sink_capture__error(st.cap) && ts_sink_capture__error(st.cap) != -EFBIG)
			ret = 1;
	}
	ts_startup__end(&st);
	ts_pipeline__free(&pipe);
	return ret;
}
