// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Linear probing; removal shifts the run after the slot back (no tombstones). */
#include <errno.h>
#include <stdlib.h>
#include "core/stream/id_index.h"

#define INITIAL_SLOTS 512 /* power of two */

static uint32_t slot_of(uint64_t id, uint32_t mask)
{
	id ^= id >> 33;
	id *= 0xff51afd7ed558ccdULL;
	id ^= id >> 33;
	return (uint32_t)id & mask;
}

int ts_id_index__init(struct ts_id_index *ix, uint32_t max_objs)
{
	uint64_t max = 16;

	while (max < 2ull * max_objs)
		max <<= 1;
	ix->max_slots = max > (1u << 31) ? 1u << 31 : (uint32_t)max;
	ix->mask = (ix->max_slots < INITIAL_SLOTS ? ix->max_slots : INITIAL_SLOTS) - 1;
	ix->n = 0;
	ix->slots = calloc((size_t)ix->mask + 1, sizeof(*ix->slots));
	return ix->slots ? 0 : -ENOMEM;
}

void ts_id_index__free(struct ts_id_index *ix)
{
	free(ix->slots);
	ix->slots = NULL;
}

void *ts_id_index__find(const struct ts_id_index *ix, uint64_t id)
{
	for (uint32_t i = slot_of(id, ix->mask);; i = (i + 1) & ix->mask) {
		const struct ts_id_slot *s = &ix->slots[i];

		if (!s->obj)
			return NULL;
		if (s->id == id)
			return s->obj;
	}
}

static void put(struct ts_id_slot *slots, uint32_t mask, uint64_t id, void *obj)
{
	uint32_t i = slot_of(id, mask);

	while (slots[i].obj)
		i = (i + 1) & mask;
	slots[i].id = id;
	slots[i].obj = obj;
}

static int grow(struct ts_id_index *ix)
{
	uint32_t old = ix->mask + 1, nb = old * 2;
	struct ts_id_slot *s;

	if (old >= ix->max_slots)
		return -ENOSPC;
	s = calloc(nb, sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (uint32_t i = 0; i < old; i++)
		if (ix->slots[i].obj)
			put(s, nb - 1, ix->slots[i].id, ix->slots[i].obj);
	free(ix->slots);
	ix->slots = s;
	ix->mask = nb - 1;
	return 0;
}

int ts_id_index__add(struct ts_id_index *ix, uint64_t id, void *obj)
{
	/* Keep at most half the slots used: probes stay short. */
	if (2ull * (ix->n + 1) > (uint64_t)ix->mask + 1) {
		int err = grow(ix);

		/* A table that cannot grow still takes it while a slot is free. */
		if (err && ix->n + 1 > ix->mask)
			return err;
	}
	put(ix->slots, ix->mask, id, obj);
	ix->n++;
	return 0;
}

void ts_id_index__del(struct ts_id_index *ix, uint64_t id)
{
	uint32_t i = slot_of(id, ix->mask), j;

	for (;; i = (i + 1) & ix->mask) {
		if (!ix->slots[i].obj)
			return;
		if (ix->slots[i].id == id)
			break;
	}
	/* Move back each later slot of the run whose home is not between the
	 * hole and it (cyclically): every id stays reachable from its home. */
	for (j = i;;) {
		uint32_t home;

		j = (j + 1) & ix->mask;
		if (!ix->slots[j].obj)
			break;
		home = slot_of(ix->slots[j].id, ix->mask);
		if (((j - home) & ix->mask) >= ((j - i) & ix->mask)) {
			ix->slots[i] = ix->slots[j];
			i = j;
		}
	}
	ix->slots[i].obj = NULL;
	ix->slots[i].id = 0;
	ix->n--;
}
