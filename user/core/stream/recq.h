/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A bounded queue of record batches between one producer thread and one
 * consumer thread: the file source decodes a capture ahead in a thread of
 * its own while the caller's thread runs the pipeline.  The batches are
 * allocated once (ts_recq__new): the queue never grows, so its memory is
 * slots * sizeof(struct ts_recq_batch) whatever the file holds.
 *
 * Producer: ts_recq__fill_begin() (blocks while every slot is full; NULL
 * once the consumer cancelled), fill the batch, ts_recq__fill_end().
 * Consumer: ts_recq__take_begin() (blocks while every slot is empty),
 * use the batch, ts_recq__take_end().  Batches come out in the order
 * they went in.
 */
#ifndef TS_RECQ_H
#define TS_RECQ_H

#include "core/stream/record.h"

/* Records per batch: large enough that taking the lock is rare, small
 * enough that the consumer starts soon. */
#define TS_RECQ_BATCH 512

struct ts_recq_batch {
	unsigned int n;	  /* records in recs */
	int last;	  /* the producer's last word: 1 more follow, else final */
	struct ts_rec recs[TS_RECQ_BATCH];
};

struct ts_recq;

/* slots: batches in flight (at least 2).  Returns 0 or -ENOMEM. */
int ts_recq__new(unsigned int slots, struct ts_recq **out);
struct ts_recq_batch *ts_recq__fill_begin(struct ts_recq *q);
void ts_recq__fill_end(struct ts_recq *q);
struct ts_recq_batch *ts_recq__take_begin(struct ts_recq *q);
void ts_recq__take_end(struct ts_recq *q);
/* The consumer stops taking: a producer waiting or coming for an empty
 * slot gets NULL. */
void ts_recq__cancel(struct ts_recq *q);
/* Once both threads are done with it.  NULL-safe. */
void ts_recq__free(struct ts_recq *q);

#endif
