// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cmd/capture.h"
#include "core/capfile/capfile.h"
#include "core/util/log.h"

#define MAX_ARGS 64

static void say_refused(const char *path, int err)
{
	const char *why = ts_capw__refusal(err);

	if (why && err != -EEXIST)
		ts_err("cannot replace %s: %s; --force replaces only regular files of this user",
		       path, why);
	else if (why)
		ts_err("cannot create %s: %s", path, why);
	else
		ts_err("cannot create %s: %s", path, strerror(-err));
}

int ts_capture__precheck(const struct ts_capture_opts *o)
{
	int err;

	if (!o->path || !strcmp(o->path, "-"))
		return 0;
	/* Before the BPF programs load: a refused path costs nothing. */
	err = ts_capw__check_target(o->path, o->force);
	if (err)
		say_refused(o->path, err);
	return err;
}

int ts_capture__attach(const struct ts_capture_opts *o, int argc, char **argv,
		       const struct ts_filter *f, const struct ts_sock *socks,
		       size_t nsocks, struct ts_pipeline *p, struct ts_capsink **out)
{
	struct ts_capw_opts wo = {
	    .path = o->path,
	    .force = o->force,
	    .max_bytes = o->max_bytes,
	    .version = o->format,
	};
	char *args[MAX_ARGS + 1];
	struct ts_cap_header *h = NULL;
	struct ts_capw *w = NULL;
	struct ts_sink sink;
	int n = 0, err;

	h = malloc(sizeof(*h));
	if (!h) {
		err = -ENOMEM;
		ts_err("cannot record: %s", strerror(-err));
		goto cleanup;
	}
	/* The header keeps the whole command line; main() made argv[0]
	 * "tcpscope COMMAND" already. */
	for (int i = 0; i < argc && n < MAX_ARGS; i++)
		args[n++] = argv[i];
	ts_cap_header_init(h, n, args, f);
	/* The live sinks' clock offset, so a report prints the same times. */
	h->wall_offset_ns = p->meta.wall_offset_ns;

	err = ts_capw__open(&wo, h, socks, nsocks, &w);
	if (err) {
		say_refused(o->path, err);
		goto cleanup;
	}
	if (ts_capw__snapshot_skipped(w))
		ts_warn(
		    "%llu sockets of the initial snapshot were left out (impossible values, or past the %d a capture keeps)",
		    (unsigned long long)ts_capw__snapshot_skipped(w), TS_CAP_MAX_SNAP_SOCKS);
	err = ts_sink_capture__new(&sink, w, out);
	if (!err)
		err = ts_pipeline__add_sink(p, sink);
	if (err)
		ts_err("cannot record to %s: %s", o->path, strerror(-err));
cleanup:
	free(h);
	return err;
}
