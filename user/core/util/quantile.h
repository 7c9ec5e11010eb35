/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Percentiles of a stream of u64 samples in bounded memory.  The first
 * TS_QUANT_EXACT samples are kept as they are (percentiles are exact);
 * past that they move into a log-linear histogram: 128 buckets per power
 * of two, a bucket reported by its midpoint, so a percentile is within
 * 0.4 % (1/256) of a sample of that rank.  The maximum and the count stay
 * exact.  Memory: at most TS_QUANT_EXACT * 8 bytes or the histogram's
 * 58 KiB, whichever is in use.
 */
#ifndef TS_QUANTILE_H
#define TS_QUANTILE_H

#include <stddef.h>
#include <stdint.h>

#define TS_QUANT_EXACT 65536

struct ts_quant {
	uint64_t *v; /* exact samples (sorted by ts_quant__pct) */
	size_t n;
	uint64_t *hist; /* NULL while exact */
	uint64_t count;
	uint64_t max;
};

int ts_quant__push(struct ts_quant *q, uint64_t x); /* 0 or -ENOMEM */
/* Nearest-rank percentile (0 < p <= 1); 0 when empty. */
uint64_t ts_quant__pct(struct ts_quant *q, double p);
void ts_quant__free(struct ts_quant *q);

#endif
