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

static void say_exists(const char *path)
{
	ts_err("cannot create %s: the file exists (use --force to replace it)", path);
}

int ts_capture__precheck(const struct ts_capture_opts *o)
{
	struct stat st;

	if (!o->path || !strcmp(o->path, "-") || o->force || lstat(o->path, &st))
		return 0;
	say_exists(o->path);
	return -EEXIST;
}

int ts_capture__attach(const struct ts_capture_opts *o, int argc, char **argv,
		       const struct ts_filter *f, const struct ts_sock *socks,
		       size_t nsocks, struct ts_pipeline *p, struct ts_capsink **out)
{
	struct ts_capw_opts wo = {
	    .path = o->path,
	    .force = o->force,
	    .max_bytes = o->max_bytes,
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
		if (err == -EEXIST)
			say_exists(o->path);
		else
			ts_err("cannot create %s: %s", o->path, strerror(-err));
		goto cleanup;
	}
	if (ts_capw__snapshot_skipped(w))
		ts_warn(
		    "%llu sockets of the initial snapshot had impossible values and were left out",
		    (unsigned long long)ts_capw__snapshot_skipped(w));
	err = ts_sink_capture__new(&sink, w, out);
	if (!err)
		err = ts_pipeline__add_sink(p, sink);
	if (err)
		ts_err("cannot record to %s: %s", o->path, strerror(-err));
cleanup:
	free(h);
	return err;
}
