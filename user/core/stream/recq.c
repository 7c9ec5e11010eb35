// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include "core/stream/recq.h"

struct ts_recq {
	pthread_mutex_t lock;
	pthread_cond_t not_full;  /* the producer waits on it */
	pthread_cond_t not_empty; /* the consumer waits on it */
	unsigned int slots;
	unsigned int filled;	  /* slots holding a batch not yet taken */
	unsigned int head, tail;  /* next to take, next to fill */
	bool cancelled;
	struct ts_recq_batch *b;
};

int ts_recq__new(unsigned int slots, struct ts_recq **out)
{
	struct ts_recq *q;

	*out = NULL;
	if (slots < 2)
		slots = 2;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->b = calloc(slots, sizeof(*q->b));
	if (!q->b) {
		free(q);
		return -ENOMEM;
	}
	q->slots = slots;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->not_full, NULL);
	pthread_cond_init(&q->not_empty, NULL);
	*out = q;
	return 0;
}

/*
 * Only the producer moves tail and only the consumer moves head; the
 * count under the lock says which slots each side may touch, so a batch
 * is filled and read without the lock held.
 */
struct ts_recq_batch *ts_recq__fill_begin(struct ts_recq *q)
{
	struct ts_recq_batch *b = NULL;

	pthread_mutex_lock(&q->lock);
	while (q->filled == q->slots && !q->cancelled)
		pthread_cond_wait(&q->not_full, &q->lock);
	if (!q->cancelled)
		b = &q->b[q->tail];
	pthread_mutex_unlock(&q->lock);
	return b;
}

void ts_recq__fill_end(struct ts_recq *q)
{
	pthread_mutex_lock(&q->lock);
	q->tail = (q->tail + 1) % q->slots;
	q->filled++;
	pthread_cond_signal(&q->not_empty);
	pthread_mutex_unlock(&q->lock);
}

struct ts_recq_batch *ts_recq__take_begin(struct ts_recq *q)
{
	struct ts_recq_batch *b;

	pthread_mutex_lock(&q->lock);
	while (!q->filled)
		pthread_cond_wait(&q->not_empty, &q->lock);
	b = &q->b[q->head];
	pthread_mutex_unlock(&q->lock);
	return b;
}

void ts_recq__take_end(struct ts_recq *q)
{
	pthread_mutex_lock(&q->lock);
	q->head = (q->head + 1) % q->slots;
	q->filled--;
	/* A producer that waits for room is woken once half the slots are
	 * free, not at every batch: it then fills several in a row. */
	if (q->filled <= q->slots / 2)
		pthread_cond_signal(&q->not_full);
	pthread_mutex_unlock(&q->lock);
}

void ts_recq__cancel(struct ts_recq *q)
{
	pthread_mutex_lock(&q->lock);
	q->cancelled = true;
	pthread_cond_signal(&q->not_full);
	pthread_mutex_unlock(&q->lock);
}

void ts_recq__free(struct ts_recq *q)
{
	if (!q)
		return;
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->not_full);
	pthread_cond_destroy(&q->not_empty);
	free(q->b);
	free(q);
}
