/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * An index of connections by their addresses, to find the other end of a
 * connection when both ends are traced on this host (loopback, two
 * network namespaces joined by a veth pair).  The other end has the
 * reversed tuple: its local address and port are our remote ones.
 * Addresses are compared as the wire carries them: an IPv4-mapped IPv6
 * address (an IPv6 socket's IPv4 peer) is the IPv4 address.
 *
 * The index does not own its nodes: each is embedded in the object it
 * indexes and is removed with it.  Memory: one pointer per bucket; the
 * owner grows the buckets with its nodes (ts_peer_index__grow).
 */
#ifndef TS_PEER_INDEX_H
#define TS_PEER_INDEX_H

#include <stdbool.h>
#include <stdint.h>
#include "core/stream/record.h"

struct ts_peer_key {
	uint8_t family; /* 4 or 6, after unmapping */
	uint16_t lport, rport;
	uint8_t laddr[TS_ADDR_LEN];
	uint8_t raddr[TS_ADDR_LEN];
};

struct ts_peer_node {
	struct ts_peer_node *next;
	struct ts_peer_key key;
	uint32_t hash; /* of key, while linked */
	bool linked;
};

struct ts_peer_index {
	struct ts_peer_node **buckets;
	uint32_t mask;
};

/* nbuckets: rounded up to a power of two. */
int ts_peer_index__init(struct ts_peer_index *ix, uint32_t nbuckets);
void ts_peer_index__free(struct ts_peer_index *ix);
/* Rehash into at least nbuckets buckets (a power of two, never fewer than
 * now).  The nodes keep their order within each chain.  0 or -ENOMEM (the
 * index is then unchanged and still whole). */
int ts_peer_index__grow(struct ts_peer_index *ix, uint32_t nbuckets);

/* The key of one end: its family, local and remote endpoints. */
void ts_peer_key__set(struct ts_peer_key *k, uint8_t family, const uint8_t *saddr,
		      uint16_t sport, const uint8_t *daddr, uint16_t dport);
/* b is the other end of a: a's endpoints reversed. */
bool ts_peer_key__reversed(const struct ts_peer_key *a, const struct ts_peer_key *b);

void ts_peer_index__add(struct ts_peer_index *ix, struct ts_peer_node *n);
void ts_peer_index__del(struct ts_peer_index *ix, struct ts_peer_node *n);
/* The chain that holds every node whose key is n's reversed: walk it with
 * ->next and test each with ts_peer_key__reversed(). */
struct ts_peer_node *ts_peer_index__reverse_chain(const struct ts_peer_index *ix,
						  const struct ts_peer_key *k);
/* The same for a linked node's own key (both ends hash alike), without
 * hashing it again. */
static inline struct ts_peer_node *ts_peer_index__chain_of(const struct ts_peer_index *ix,
							   const struct ts_peer_node *n)
{
	return ix->buckets[n->hash & ix->mask];
}

#endif
