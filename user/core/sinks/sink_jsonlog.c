// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The JSON log: the timeline JSON sink writes each object into memory, and
 * this sink copies whole objects to the file, so that rotation never cuts
 * one in two and the objects are exactly those of 'trace --timeline --json'.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/sinks/sink_jsonlog.h"
#include "core/sinks/sinks.h"
#include "core/util/log.h"

struct ts_jsonlog {
	char *path;
	bool is_stdout;
	uint64_t max_size;
	uint32_t keep;
	FILE *out;	 /* NULL while the file cannot be opened */
	uint64_t size;	 /* bytes in the file now */
	FILE *mem;	 /* what the inner sink wrote */
	char *mem_buf;
	size_t mem_len;
	struct ts_sink inner; /* the timeline JSON sink, onto mem */
	uint64_t dropped;
	uint64_t rotations;
	bool warned;
};

static int open_file(struct ts_jsonlog *l)
{
	struct stat st;
	int fd;

	fd = open(l->path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC,
		  0640);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL; /* a FIFO or device would never rotate */
	}
	l->out = fdopen(fd, "a");
	if (!l->out) {
		int err = -errno;

		close(fd);
		return err;
	}
	l->size = (uint64_t)st.st_size;
	l->warned = false;
	return 0;
}

static int close_file(struct ts_jsonlog *l)
{
	int err = 0;

	if (l->out && !l->is_stdout && fclose(l->out))
		err = -errno;
	if (!l->is_stdout)
		l->out = NULL;
	return err;
}

int ts_jsonlog__reopen(struct ts_jsonlog *l)
{
	int err;

	if (l->is_stdout)
		return 0;
	err = close_file(l);
	if (err)
		ts_warn("closing %s: %s", l->path, strerror(-err));
	err = open_file(l);
	if (err)
		ts_warn("cannot reopen %s: %s (objects are dropped until it can be)",
			l->path, strerror(-err));
	return err;
}

/* FILE -> FILE.1 -> ... -> FILE.keep (the oldest is replaced), then a new
 * FILE.  keep 0: the full file is removed. */
static int rotate(struct ts_jsonlog *l)
{
	char from[PATH_MAX], to[PATH_MAX];

	close_file(l);
	if (!l->keep) {
		if (unlink(l->path) && errno != ENOENT)
			return -errno;
	} else {
		for (uint32_t i = l->keep; i > 1; i--) {
			snprintf(from, sizeof(from), "%s.%u", l->path, i - 1);
			snprintf(to, sizeof(to), "%s.%u", l->path, i);
			if (rename(from, to) && errno != ENOENT)
				return -errno;
		}
		snprintf(to, sizeof(to), "%s.1", l->path);
		if (rename(l->path, to) && errno != ENOENT)
			return -errno;
	}
	l->rotations++;
	return open_file(l);
}

/* Copy what the inner sink wrote to the file, rotating before an object
 * that would take the file past max_size (a single larger object still
 * gets a file of its own). */
static int drain(struct ts_jsonlog *l)
{
	int err = 0;

	if (fflush(l->mem))
		return -errno;
	if (!l->mem_len)
		return 0;
	if (l->max_size && !l->is_stdout && l->out && l->size &&
	    l->size + l->mem_len > l->max_size) {
		err = rotate(l);
		if (err && !l->warned) {
			ts_warn("rotating %s failed: %s", l->path, strerror(-err));
			l->warned = true;
		}
	}
	if (l->out && fwrite(l->mem_buf, 1, l->mem_len, l->out) == l->mem_len) {
		l->size += l->mem_len;
	} else {
		l->dropped++;
		if (l->out && !l->warned) {
			ts_warn("writing %s failed: %s", l->path, strerror(errno));
			l->warned = true;
		}
		if (l->out)
			clearerr(l->out);
	}
	rewind(l->mem);
	return 0;
}

int ts_jsonlog__new(const struct ts_jsonlog_opts *o, const struct ts_meta *m,
		    struct ts_jsonlog **out)
{
	struct ts_jsonlog *l = calloc(1, sizeof(*l));
	int err;

	if (!l)
		return -ENOMEM;
	l->max_size = o->max_size;
	l->keep = o->keep;
	l->is_stdout = !strcmp(o->path, "-");
	l->path = strdup(o->path);
	l->mem = open_memstream(&l->mem_buf, &l->mem_len);
	if (!l->path || !l->mem) {
		err = -ENOMEM;
		goto cleanup;
	}
	err = ts_sink_timeline_json__new(&l->inner, l->mem, m);
	if (err)
		goto cleanup;
	if (l->is_stdout)
		l->out = stdout;
	else
		err = open_file(l);
	if (err)
		goto cleanup;
	*out = l;
	return 0;
cleanup:
	if (l->inner.ops)
		l->inner.ops->destroy(l->inner.priv);
	if (l->mem)
		fclose(l->mem);
	free(l->mem_buf);
	free(l->path);
	free(l);
	return err;
}

static int jsonlog_rec(void *priv, const struct ts_rec *r)
{
	struct ts_jsonlog *l = priv;
	int err;

	/* Of the records, the timeline JSON sink writes losses only. */
	if (r->type != TS_REC_LOST)
		return 0;
	err = l->inner.ops->rec(l->inner.priv, r);
	return err ? err : drain(l);
}

static int jsonlog_conn(void *priv, const struct ts_conn *c)
{
	struct ts_jsonlog *l = priv;
	int err = l->inner.ops->conn_end(l->inner.priv, c);

	return err ? err : drain(l);
}

/* Objects reach the file at least at every batch the source reads. */
static int jsonlog_flush(void *priv)
{
	struct ts_jsonlog *l = priv;

	if (l->out && fflush(l->out) && !l->warned) {
		ts_warn("writing %s failed: %s", l->is_stdout ? "stdout" : l->path,
			strerror(errno));
		l->warned = true;
		clearerr(l->out);
	}
	return 0;
}

static int jsonlog_finish(void *priv, const struct ts_totals *t)
{
	struct ts_jsonlog *l = priv;
	int err = l->inner.ops->finish(l->inner.priv, t);

	if (!err)
		err = drain(l);
	if (!err && l->out && fflush(l->out))
		err = -errno;
	return err;
}

void ts_jsonlog__free(struct ts_jsonlog *l)
{
	if (!l)
		return;
	close_file(l);
	l->inner.ops->destroy(l->inner.priv);
	fclose(l->mem);
	free(l->mem_buf);
	free(l->path);
	free(l);
}

static void jsonlog_destroy(void *priv)
{
	ts_jsonlog__free(priv);
}

static const struct ts_sink_ops jsonlog_ops = {
	.name = "jsonlog",
	.rec = jsonlog_rec,
	.flush = jsonlog_flush,
	.finish = jsonlog_finish,
	.destroy = jsonlog_destroy,
	.conn_end = jsonlog_conn,
};

int ts_sink_jsonlog__new(struct ts_sink *out, struct ts_jsonlog *l)
{
	out->ops = &jsonlog_ops;
	out->priv = l;
	return 0;
}

uint64_t ts_jsonlog__dropped(const struct ts_jsonlog *l)
{
	return l->dropped;
}

uint64_t ts_jsonlog__rotations(const struct ts_jsonlog *l)
{
	return l->rotations;
}
