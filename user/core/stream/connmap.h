/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A map from connection id to an index into the caller's own array. */
#ifndef TS_CONNMAP_H
#define TS_CONNMAP_H

#include <stdint.h>

struct ts_connmap {
	uint64_t *keys;
	uint32_t *idx; /* UINT32_MAX: empty slot */
	uint32_t cap;  /* power of two */
	uint32_t n;
};

/*
 * Look key up; when absent, insert it with index next.  Returns 1 when
 * found (*out = its index), 0 when inserted (*out = next), or -ENOMEM.
 */
int ts_connmap__get(struct ts_connmap *m, uint64_t key, uint32_t next, uint32_t *out);
void ts_connmap__free(struct ts_connmap *m);

#endif
