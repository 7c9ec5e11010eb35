// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/stream/peer_index.h"

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

int ts_peer_index__init(struct ts_peer_index *ix, uint32_t nbuckets)
{
	uint32_t nb = 16;

	while (nb < nbuckets && nb < (1u << 24))
		nb <<= 1;
	ix->buckets = calloc(nb, sizeof(*ix->buckets));
	if (!ix->buckets)
		return -ENOMEM;
	ix->mask = nb - 1;
	return 0;
}

void ts_peer_index__free(struct ts_peer_index *ix)
{
	free(ix->buckets);
	ix->buckets = NULL;
}

static void put_addr(uint8_t *dst, uint8_t *family, const uint8_t *src)
{
	memset(dst, 0, TS_ADDR_LEN);
	if (*family == 6 && !memcmp(src, v4mapped, sizeof(v4mapped))) {
		*family = 4;
		memcpy(dst, src + 12, 4);
	} else if (*family == 4) {
		memcpy(dst, src, 4);
	} else {
		memcpy(dst, src, TS_ADDR_LEN);
	}
}

void ts_peer_key__set(struct ts_peer_key *k, uint8_t family, const uint8_t *saddr,
		      uint16_t sport, const uint8_t *daddr, uint16_t dport)
{
	uint8_t fl = family, fr = family;

	memset(k, 0, sizeof(*k));
	put_addr(k->laddr, &fl, saddr);
	put_addr(k->raddr, &fr, daddr);
	/* Both ends mapped or neither: a mix is not one wire tuple. */
	k->family = fl == fr ? fl : family;
	if (fl != fr) {
		memcpy(k->laddr, saddr, TS_ADDR_LEN);
		memcpy(k->raddr, daddr, TS_ADDR_LEN);
	}
	k->lport = sport;
	k->rport = dport;
}

bool ts_peer_key__reversed(const struct ts_peer_key *a, const struct ts_peer_key *b)
{
	return a->family == b->family && a->lport == b->rport && a->rport == b->lport &&
	       !memcmp(a->laddr, b->raddr, TS_ADDR_LEN) &&
	       !memcmp(a->raddr, b->laddr, TS_ADDR_LEN);
}

/* One endpoint, four 32-bit words of address and the port at a time. */
static uint64_t end_hash(const uint8_t *addr, uint16_t port)
{
	uint64_t h = 1469598103934665603ull;

	for (int i = 0; i < TS_ADDR_LEN; i += 4) {
		uint32_t w;

		memcpy(&w, addr + i, 4);
		h = (h ^ w) * 0x100000001b3ull;
		h ^= h >> 29;
	}
	return (h ^ port) * 0x100000001b3ull;
}

/* Both ends of a connection hash alike: the two endpoints in a fixed order. */
static uint32_t key_hash(const struct ts_peer_key *k)
{
	uint64_t x = end_hash(k->laddr, k->lport), y = end_hash(k->raddr, k->rport), h;

	h = (x < y ? x : y) * 0x9e3779b97f4a7c15ull ^ (x < y ? y : x);
	h ^= h >> 31;
	h *= 0xff51afd7ed558ccdull;
	return (uint32_t)(h ^ (h >> 33));
}

void ts_peer_index__add(struct ts_peer_index *ix, struct ts_peer_node *n)
{
	struct ts_peer_node **b;

	if (n->linked)
		return;
	n->hash = key_hash(&n->key);
	b = &ix->buckets[n->hash & ix->mask];
	n->next = *b;
	*b = n;
	n->linked = true;
}

void ts_peer_index__del(struct ts_peer_index *ix, struct ts_peer_node *n)
{
	struct ts_peer_node **pp;

	if (!n->linked)
		return;
	pp = &ix->buckets[n->hash & ix->mask];
	while (*pp && *pp != n)
		pp = &(*pp)->next;
	if (*pp)
		*pp = n->next;
	n->linked = false;
	n->next = NULL;
}

int ts_peer_index__grow(struct ts_peer_index *ix, uint32_t nbuckets)
{
	uint32_t old = ix->mask + 1, nb = old;
	struct ts_peer_node **b;

	while (nb < nbuckets && nb < (1u << 24))
		nb <<= 1;
	if (nb == old)
		return 0;
	b = calloc(nb, sizeof(*b));
	if (!b)
		return -ENOMEM;
	/* Each old chain goes to the tails of the new ones in its order: a
	 * chain holds the same nodes, in the same order, as if the index had
	 * been this large from the start. */
	for (uint32_t i = 0; i < old; i++) {
		struct ts_peer_node *n = ix->buckets[i], *next;

		for (; n; n = next) {
			struct ts_peer_node **pp = &b[n->hash & (nb - 1)];

			next = n->next;
			while (*pp)
				pp = &(*pp)->next;
			n->next = NULL;
			*pp = n;
		}
	}
	free(ix->buckets);
	ix->buckets = b;
	ix->mask = nb - 1;
	return 0;
}

struct ts_peer_node *ts_peer_index__reverse_chain(const struct ts_peer_index *ix,
						  const struct ts_peer_key *k)
{
	return ix->buckets[key_hash(k) & ix->mask];
}
