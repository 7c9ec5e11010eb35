// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "core/util/quantile.h"
#include <errno.h>
#include <stdlib.h>

#define SUB_BITS 7
#define SUB (1u << SUB_BITS)
/* Values below SUB are buckets of their own; then SUB per power of two. */
#define NBUCKETS ((64 - SUB_BITS + 1) * SUB)

static unsigned int bucket_of(uint64_t x)
{
	unsigned int e;

	if (x < SUB)
		return (unsigned int)x;
	e = 63 - (unsigned int)__builtin_clzll(x); /* >= SUB_BITS */
	return (e - SUB_BITS + 1) * SUB + (unsigned int)((x >> (e - SUB_BITS)) & (SUB - 1));
}

/* The midpoint of a bucket. */
static uint64_t value_of(unsigned int b)
{
	unsigned int e, m;
	uint64_t lo, width;

	if (b < SUB)
		return b;
	e = b / SUB + SUB_BITS - 1;
	m = b % SUB;
	width = 1ULL << (e - SUB_BITS);
	lo = (1ULL << e) + m * width;
	return lo + (width - 1) / 2;
}

static int to_hist(struct ts_quant *q)
{
	q->hist = calloc(NBUCKETS, sizeof(*q->hist));
	if (!q->hist)
		return -ENOMEM;
	for (size_t i = 0; i < q->n; i++)
		q->hist[bucket_of(q->v[i])]++;
	free(q->v);
	q->v = NULL;
	q->n = 0;
	return 0;
}

int ts_quant__push(struct ts_quant *q, uint64_t x)
{
	if (!q->hist && q->n == TS_QUANT_EXACT && to_hist(q))
		return -ENOMEM;
	if (q->hist) {
		q->hist[bucket_of(x)]++;
	} else {
		if (!q->v) {
			q->v = malloc(TS_QUANT_EXACT * sizeof(*q->v));
			if (!q->v)
				return -ENOMEM;
		}
		q->v[q->n++] = x;
	}
	q->count++;
	if (x > q->max)
		q->max = x;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t ts_quant__pct(struct ts_quant *q, double p)
{
	uint64_t k, seen = 0;

	if (!q->count)
		return 0;
	k = (uint64_t)(p * (double)q->count + 0.999999);
	if (k == 0)
		k = 1;
	if (k >= q->count)
		return q->max;
	if (!q->hist) {
		qsort(q->v, q->n, sizeof(*q->v), cmp_u64);
		return q->v[k - 1];
	}
	for (unsigned int b = 0; b < NBUCKETS; b++) {
		seen += q->hist[b];
		if (seen >= k) {
			uint64_t v = value_of(b);

			return v > q->max ? q->max : v;
		}
	}
	return q->max;
}

void ts_quant__free(struct ts_quant *q)
{
	free(q->v);
	free(q->hist);
	q->v = q->hist = NULL;
	q->n = 0;
	q->count = 0;
}
