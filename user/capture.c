// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "capture.h"
#include "snapshot.h"
#include "core/capfile.h"
#include "core/log.h"

#define MAX_ARGS 64

static void say_exists(const char *path)
{
	ts_err("cannot create %s: the file exists (use --force to replace it)", path);
}

int ts_capture_precheck(const struct ts_capture_opts *o)
{
	struct stat st;

	if (!o->path || o->force || lstat(o->path, &st))
		return 0;
	say_exists(o->path);
	return -EEXIST;
}

/*
 * The iterators see the namespace of the process that creates them, so a
 * --netns filter (an inode by then) needs a file of that namespace: a name
 * under /run/netns, else some process living in it.
 */
static int netns_path(uint32_t ino, char *buf, size_t len)
{
	static const char *const dirs[] = { "/run/netns", "/proc" };
	struct stat st;

	for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
		DIR *dir = opendir(dirs[d]);
		struct dirent *e;

		if (!dir)
			continue;
		while ((e = readdir(dir))) {
			if (e->d_name[0] == '.')
				continue;
			if (d == 0)
				snprintf(buf, len, "%s/%s", dirs[d], e->d_name);
			else if (e->d_name[0] >= '0' && e->d_name[0] <= '9')
				snprintf(buf, len, "/proc/%s/ns/net", e->d_name);
			else
				continue;
			if (!stat(buf, &st) && st.st_ino == ino) {
				closedir(dir);
				return 0;
			}
		}
		closedir(dir);
	}
	return -ENOENT;
}

int ts_capture_initial_snapshot(const struct ts_filter *f, struct ts_sock **out, size_t *n)
{
	struct ts_snapshot_opts so = { .pids = true };
	char path[PATH_MAX];
	int err;

	*out = NULL;
	*n = 0;
	if (f->netns) {
		if (netns_path(f->netns, path, sizeof(path))) {
			ts_warn("no file names network namespace %u: the capture starts without a snapshot",
				f->netns);
			return 0;
		}
		so.netns_path = path;
	}
	err = ts_snapshot_collect(&so, out, n);
	if (err)
		return err;
	*n = ts_filter_socks(f, *out, *n);
	return 0;
}

int ts_capture_attach(const struct ts_capture_opts *o, int argc, char **argv,
		      const struct ts_filter *f, struct ts_pipeline *p, struct ts_capsink **out)
{
	struct ts_capw_opts wo = {
	    .path = o->path,
	    .force = o->force,
	    .max_bytes = o->max_bytes,
	};
	char *args[MAX_ARGS + 1];
	struct ts_cap_header *h = NULL;
	struct ts_sock *socks = NULL;
	struct ts_capw *w = NULL;
	struct ts_sink sink;
	size_t nsocks = 0;
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

	err = ts_capture_initial_snapshot(f, &socks, &nsocks);
	if (err) {
		ts_err("cannot take the initial socket snapshot: %s", strerror(-err));
		goto cleanup;
	}
	err = ts_capw_open(&wo, h, socks, nsocks, &w);
	if (err) {
		if (err == -EEXIST)
			say_exists(o->path);
		else
			ts_err("cannot create %s: %s", o->path, strerror(-err));
		goto cleanup;
	}
	if (ts_capw_snapshot_skipped(w))
		ts_warn(
		    "%llu sockets of the initial snapshot had impossible values and were left out",
		    (unsigned long long)ts_capw_snapshot_skipped(w));
	err = ts_sink_capture_new(&sink, w, out);
	if (!err)
		err = ts_pipeline_add_sink(p, sink);
	if (err)
		ts_err("cannot record to %s: %s", o->path, strerror(-err));
cleanup:
	free(socks);
	free(h);
	return err;
}
