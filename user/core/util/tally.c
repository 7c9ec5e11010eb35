// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/util/tally.h"

void ts_tally__add(struct ts_tally *t, const char *name, uint64_t count)
{
	char key[TS_TALLY_NAME];

	snprintf(key, sizeof(key), "%s", name ? name : "");
	t->total += count;
	for (uint32_t i = 0; i < t->n; i++)
		if (!strcmp(t->rows[i].name, key)) {
			t->rows[i].count += count;
			return;
		}
	if (t->n >= TS_TALLY_MAX) {
		t->other += count;
		return;
	}
	memcpy(t->rows[t->n].name, key, sizeof(key));
	t->rows[t->n++].count = count;
}

static int cmp_row(const void *a, const void *b)
{
	const struct ts_tally_row *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->name, y->name);
}

void ts_tally__sort(struct ts_tally *t)
{
	if (t->n)
		qsort(t->rows, t->n, sizeof(t->rows[0]), cmp_row);
}
