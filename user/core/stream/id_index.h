/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A map from connection id to the caller's object, by open
 * addressing: each slot holds the id beside the pointer, so that a lookup
 * reads the table and then only the object it finds, never the objects of
 * other ids (a chained table reads each one on the chain, a cache miss
 * each when thousands are held).  At most half the slots are used: the
 * table doubles before, up to the size the caller's bound needs.
 * Memory: 16 bytes a slot, at most 4 slots per object the bound allows.
 */
#ifndef TS_ID_INDEX_H
#define TS_ID_INDEX_H

#include <stdint.h>

struct ts_id_slot {
	uint64_t id;
	void *obj; /* NULL: empty */
};

struct ts_id_index {
	struct ts_id_slot *slots;
	uint32_t mask; /* slots - 1, a power of two */
	uint32_t n;
	uint32_t max_slots;
};

/* Room for max_objs (> 0) ids at most; starts small. 0 or -ENOMEM. */
int ts_id_index__init(struct ts_id_index *ix, uint32_t max_objs);
void ts_id_index__free(struct ts_id_index *ix);
void *ts_id_index__find(const struct ts_id_index *ix, uint64_t id);
/*
 * Add id (not in the index).  Returns 0, or -ENOMEM when the table
 * was full and could not grow (never below the bound given to init: the
 * table is then already large enough), or -ENOSPC past that bound.
 */
int ts_id_index__add(struct ts_id_index *ix, uint64_t id, void *obj);
/* Remove id if it is there. */
void ts_id_index__del(struct ts_id_index *ix, uint64_t id);

#endif
