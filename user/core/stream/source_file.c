// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The file source.  A mapped file (or one in memory) is decoded ahead in a
 * thread of its own: inflating and decoding are a third of 'report''s
 * work, and on a machine with two CPUs the pipeline and the sinks run
 * meanwhile on the caller's thread.  The records go through a bounded
 * queue (core/stream/recq.h: READ_AHEAD_SLOTS batches of TS_RECQ_BATCH
 * records, 8 x 512 x 320 bytes: 1.3 MB) in the order the file holds
 * them; the reader's state (status, error, trailer) is read only once its
 * thread has ended, so what the caller sees afterwards is what reading
 * in one thread gave.  A stream (a pipe, stdin) is read in the caller's
 * thread: a read there may wait for the writer, and a reader that stops
 * early (| head) must not wait for it.
 */
#include <pthread.h>
#include "core/stream/recq.h"
#include "core/stream/source_file.h"

/* As live tracing flushes after each ring-buffer batch. */
#define FLUSH_EVERY 65536
#define READ_AHEAD_SLOTS 8

void ts_source_file__meta(const struct ts_capr *r, struct ts_meta *m)
{
	m->wall_offset_ns = ts_capr__header(r)->wall_offset_ns;
}

/* The end of the records: the trailer's time, a last flush. */
static int finish(struct ts_capr *r, struct ts_pipeline *p)
{
	struct ts_cap_trailer t;

	/* A complete capture says when recording ended ('report --at'). */
	if (ts_capr__trailer(r, &t))
		p->totals.end_ns = t.end_mono_ns;
	return ts_pipeline__flush(p);
}

static int run_here(struct ts_capr *r, struct ts_pipeline *p)
{
	struct ts_rec rec;
	unsigned int n = 0;
	int err;

	while ((err = ts_capr__next(r, &rec)) > 0) {
		err = ts_pipeline__push(p, &rec);
		if (err)
			return err;
		if (++n == FLUSH_EVERY) {
			n = 0;
			err = ts_pipeline__flush(p);
			if (err)
				return err;
		}
	}
	if (err)
		return err;
	return finish(r, p);
}

struct read_ahead {
	struct ts_capr *r;
	struct ts_recq *q;
};

/* The reader's thread: batches until ts_capr__next() says the end (0) or
 * fails (-errno), which the last batch carries; or until cancelled. */
static void *read_ahead(void *arg)
{
	struct read_ahead *ra = arg;
	struct ts_recq_batch *b;
	int last = 1;

	while (last > 0 && (b = ts_recq__fill_begin(ra->q))) {
		b->n = 0;
		while (b->n < TS_RECQ_BATCH) {
			last = ts_capr__next(ra->r, &b->recs[b->n]);
			if (last <= 0)
				break;
			b->n++;
		}
		b->last = last;
		ts_recq__fill_end(ra->q);
	}
	return NULL;
}

/* The records of the reader's batches through the pipeline; returns the
 * reader's last word (0 or -errno) or the pipeline's first error. */
static int drain(struct ts_recq *q, struct ts_pipeline *p)
{
	unsigned int n = 0;

	for (;;) {
		struct ts_recq_batch *b = ts_recq__take_begin(q);
		int err = 0, last;

		for (unsigned int i = 0; i < b->n && !err; i++) {
			err = ts_pipeline__push(p, &b->recs[i]);
			if (!err && ++n == FLUSH_EVERY) {
				n = 0;
				err = ts_pipeline__flush(p);
			}
		}
		last = b->last;
		ts_recq__take_end(q);
		if (err)
			return err;
		if (last <= 0)
			return last;
	}
}

int ts_source_file__run(struct ts_capr *r, struct ts_pipeline *p)
{
	struct read_ahead ra = { .r = r };
	pthread_t tid;
	int err;

	if (ts_capr__is_stream(r) || ts_recq__new(READ_AHEAD_SLOTS, &ra.q))
		return run_here(r, p);
	if (pthread_create(&tid, NULL, read_ahead, &ra)) {
		ts_recq__free(ra.q);
		return run_here(r, p);
	}
	err = drain(ra.q, p);
	/* Stopped early (a sink failed): the reader stops at its next batch. */
	ts_recq__cancel(ra.q);
	pthread_join(tid, NULL);
	ts_recq__free(ra.q);
	if (err)
		return err;
	return finish(r, p);
}
