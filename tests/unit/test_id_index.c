// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The tracker's index by connection id (id_index.c) against a plain array
 * under random adds and removals, through growth, wrap-around and the
 * bound; and the peer index's growth keeping each chain's order.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include "check.h"
#include "core/stream/id_index.h"
#include "core/stream/peer_index.h"

#define REF_MAX 4096

/* Every id of the reference is found with its object, and absent ones are not. */
static int mismatches(const struct ts_id_index *ix, const uint64_t *ids, void **objs, int n)
{
	int bad = 0;

	for (int i = 0; i < n; i++)
		if (ts_id_index__find(ix, ids[i]) != objs[i])
			bad++;
	for (int i = 0; i < 64; i++) {
		uint64_t id = check_rnd() | 1ull << 63; /* never one of ours */

		if (ts_id_index__find(ix, id))
			bad++;
	}
	return bad;
}

/*
 * Random adds and removals of ids below id_range, at most max_objs held,
 * checked against the reference every few steps.  A small table (16
 * slots for 7 objects) makes runs that wrap around its end and removals
 * that shift them back; a large one grows from its first size.
 */
static void run_random(uint32_t max_objs, int rounds, uint64_t id_range)
{
	static uint64_t ids[REF_MAX];
	static void *objs[REF_MAX];
	static char mem[REF_MAX];
	struct ts_id_index ix;
	int n = 0, bad = 0;

	CHECK_INT(ts_id_index__init(&ix, max_objs), 0);
	for (int round = 0; round < rounds; round++) {
		bool add = (uint32_t)n < max_objs &&
			   (n < 2 || check_rnd() % 100 < (round < rounds / 2 ? 60 : 40));

		if (add) {
			uint64_t id = check_rnd() % id_range;
			bool dup = false;

			for (int i = 0; i < n && !dup; i++)
				dup = ids[i] == id;
			if (dup)
				continue;
			ids[n] = id;
			objs[n] = &mem[(size_t)(check_rnd() % REF_MAX)];
			if (ts_id_index__add(&ix, id, objs[n]))
				bad++;
			n++;
		} else if (n) {
			int k = (int)(check_rnd() % (uint64_t)n);

			ts_id_index__del(&ix, ids[k]);
			if (ts_id_index__find(&ix, ids[k]))
				bad++;
			ids[k] = ids[n - 1];
			objs[k] = objs[n - 1];
			n--;
		}
		if (round % 97 == 0)
			bad += mismatches(&ix, ids, objs, n);
	}
	bad += mismatches(&ix, ids, objs, n);
	CHECK_INT(bad, 0);
	CHECK_INT(ix.n, n);
	/* At most half used, and never beyond the bound's size. */
	CHECK(2ull * ix.n <= (uint64_t)ix.mask + 1);
	CHECK(ix.mask + 1 <= ix.max_slots);
	ts_id_index__del(&ix, 1ull << 63); /* absent: nothing happens */
	CHECK_INT(ix.n, n);
	ts_id_index__free(&ix);
}

static void test_random(void)
{
	run_random(7, 200000, 50);
	run_random(REF_MAX, 60000, 100000);
	/* Ids spread over 64 bits, as the kernel's socket cookies are. */
	run_random(1000, 30000, UINT64_MAX >> 1);
}

static void test_bound(void)
{
	struct ts_id_index ix;
	static char mem[64];
	int err = 0, i;

	/* 8 objects: 16 slots at most; it takes up to 15, then refuses. */
	CHECK_INT(ts_id_index__init(&ix, 8), 0);
	for (i = 0; i < 64 && !err; i++)
		err = ts_id_index__add(&ix, (uint64_t)i * 7919 + 1, &mem[i]);
	CHECK_INT(err, -ENOSPC);
	CHECK_INT(ix.n, 15);
	for (i = 0; i < 15; i++)
		CHECK(ts_id_index__find(&ix, (uint64_t)i * 7919 + 1) == &mem[i]);
	ts_id_index__free(&ix);
}

/* Growth keeps each chain's nodes and their order (bounded walks see the same). */
static void test_peer_grow(void)
{
	static struct ts_peer_node nodes[600];
	struct ts_peer_index ix;
	uint8_t a[TS_ADDR_LEN] = { 127, 0, 0, 1 }, b[TS_ADDR_LEN] = { 127, 0, 0, 2 };
	int bad = 0;

	CHECK_INT(ts_peer_index__init(&ix, 16), 0);
	for (int i = 0; i < 600; i++) {
		/* Every third node one tuple: a chain of 200 of it. */
		uint16_t port = i % 3 ? (uint16_t)(1000 + i) : 80;

		ts_peer_key__set(&nodes[i].key, 4, a, port, b, 5555);
		ts_peer_index__add(&ix, &nodes[i]);
	}
	CHECK_INT(ts_peer_index__grow(&ix, 1024), 0);
	CHECK_INT(ix.mask + 1, 1024);
	for (int i = 0; i < 600; i++) {
		struct ts_peer_node *n = ts_peer_index__chain_of(&ix, &nodes[i]);

		while (n && n != &nodes[i])
			n = n->next;
		if (!n)
			bad++;
	}
	CHECK_INT(bad, 0);
	/* The tuple's nodes, newest first as they were added. */
	{
		struct ts_peer_node *n = ts_peer_index__chain_of(&ix, &nodes[0]), *prev = NULL;
		int order_bad = 0, count = 0;

		for (; n; n = n->next) {
			if (n->key.lport != 80)
				continue;
			if (prev && prev < n)
				order_bad++;
			prev = n;
			count++;
		}
		CHECK_INT(count, 200);
		CHECK_INT(order_bad, 0);
	}
	for (int i = 0; i < 600; i++)
		ts_peer_index__del(&ix, &nodes[i]);
	for (uint32_t i = 0; i <= ix.mask; i++)
		if (ix.buckets[i])
			bad++;
	CHECK_INT(bad, 0);
	ts_peer_index__free(&ix);
}

int main(void)
{
	test_random();
	test_bound();
	test_peer_grow();
	return check_report();
}
