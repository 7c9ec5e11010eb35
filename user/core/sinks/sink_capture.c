// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "core/sinks/sink_capture.h"
#include "core/util/log.h"
#include <errno.h>
#include <stdlib.h>

struct ts_capsink {
	struct ts_capw *w;
	int err;
	bool stopped;
};

/* Say once why recording stopped; the size limit is not an error. */
static void stop(struct ts_capsink *s, int err, const char *msg)
{
	if (s->stopped)
		return;
	s->stopped = true;
	s->err = err;
	if (err == -EFBIG)
		ts_warn("%s", msg);
	else
		ts_err("%s", msg);
}

static int cap_rec(void *priv, const struct ts_rec *r)
{
	struct ts_capsink *s = priv;
	const char *msg;
	int err;

	if (s->stopped)
		return 0;
	err = ts_capw__add(s->w, r);
	if (err) {
		ts_capw__error(s->w, &msg);
		stop(s, err, msg);
	}
	/* Other sinks go on; the command sees ts_sink_capture__stopped(). */
	return 0;
}

static int cap_flush(void *priv)
{
	struct ts_capsink *s = priv;
	const char *msg;
	int err;

	if (s->stopped)
		return 0;
	err = ts_capw__flush(s->w, false);
	if (err) {
		ts_capw__error(s->w, &msg);
		stop(s, err, msg);
	}
	return 0;
}

static int cap_finish(void *priv, const struct ts_totals *t)
{
	struct ts_capsink *s = priv;
	const char *msg;
	int err;

	(void)t;
	err = ts_capw__finish(s->w);
	if (err) {
		ts_capw__error(s->w, &msg);
		stop(s, err, msg);
	}
	/* Already said in one line; the command asks ts_sink_capture__error. */
	return 0;
}

static void cap_destroy(void *priv)
{
	struct ts_capsink *s = priv;

	/* Not finished: an error path.  Leave the file as it stands. */
	ts_capw__free(s->w);
	free(s);
}

static const struct ts_sink_ops capture_ops = {
    .name = "capture",
    .rec = cap_rec,
    .flush = cap_flush,
    .finish = cap_finish,
    .destroy = cap_destroy,
};

int ts_sink_capture__new(struct ts_sink *out, struct ts_capw *w, struct ts_capsink **handle)
{
	struct ts_capsink *s = calloc(1, sizeof(*s));

	if (!s) {
		ts_capw__free(w);
		return -ENOMEM;
	}
	s->w = w;
	out->ops = &capture_ops;
	out->priv = s;
	if (handle)
		*handle = s;
	return 0;
}

bool ts_sink_capture__stopped(const struct ts_capsink *s)
{
	return s && s->stopped;
}

int ts_sink_capture__error(const struct ts_capsink *s)
{
	return s ? s->err : 0;
}

uint64_t ts_sink_capture__bytes(const struct ts_capsink *s)
{
	return ts_capw__bytes(s->w);
}

uint64_t ts_sink_capture__events(const struct ts_capsink *s)
{
	return ts_capw__events(s->w);
}

uint64_t ts_sink_capture__dropped(const struct ts_capsink *s)
{
	return ts_capw__dropped(s->w);
}
