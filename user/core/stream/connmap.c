// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "core/stream/connmap.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define EMPTY UINT32_MAX

static uint32_t slot_of(uint64_t k, uint32_t mask)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return (uint32_t)k & mask;
}

static int grow(struct ts_connmap *m)
{
	uint32_t cap = m->cap ? m->cap * 2 : 1024;
	uint64_t *keys = malloc((size_t)cap * sizeof(*keys));
	uint32_t *idx = malloc((size_t)cap * sizeof(*idx));

	if (!keys || !idx || cap < m->cap) {
		free(keys);
		free(idx);
		return -ENOMEM;
	}
	memset(idx, 0xff, (size_t)cap * sizeof(*idx));
	for (uint32_t i = 0; i < m->cap; i++) {
		uint32_t s;

		if (m->idx[i] == EMPTY)
			continue;
		s = slot_of(m->keys[i], cap - 1);
		while (idx[s] != EMPTY)
			s = (s + 1) & (cap - 1);
		keys[s] = m->keys[i];
		idx[s] = m->idx[i];
	}
	free(m->keys);
	free(m->idx);
	m->keys = keys;
	m->idx = idx;
	m->cap = cap;
	return 0;
}

int ts_connmap__get(struct ts_connmap *m, uint64_t key, uint32_t next, uint32_t *out)
{
	uint32_t s;

	if ((uint64_t)(m->n + 1) * 2 > m->cap) {
		int err = grow(m);

		if (err)
			return err;
	}
	s = slot_of(key, m->cap - 1);
	while (m->idx[s] != EMPTY) {
		if (m->keys[s] == key) {
			*out = m->idx[s];
			return 1;
		}
		s = (s + 1) & (m->cap - 1);
	}
	m->keys[s] = key;
	m->idx[s] = next;
	m->n++;
	*out = next;
	return 0;
}

void ts_connmap__free(struct ts_connmap *m)
{
	free(m->keys);
	free(m->idx);
	memset(m, 0, sizeof(*m));
}
