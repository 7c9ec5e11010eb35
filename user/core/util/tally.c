// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/util/tally.h"

static void tally_add(struct ts_tally *t, const char *name, bool inferred, uint64_t count)
{
	char key[TS_TALLY_NAME];

	snprintf(key, sizeof(key), "%s", name ? name : "");
	t->total += count;
	for (uint32_t i = 0; i < t->n; i++)
		if (t->rows[i].inferred == inferred && !strcmp(t->rows[i].name, key)) {
			t->rows[i].count += count;
			return;
		}
	if (t->n >= TS_TALLY_MAX) {
		t->other += count;
		return;
	}
	memcpy(t->rows[t->n].name, key, sizeof(key));
	t->rows[t->n].inferred = inferred;
	t->rows[t->n++].count = count;
}

void ts_tally__add(struct ts_tally *t, const char *name, uint64_t count)
{
	tally_add(t, name, false, count);
}

void ts_tally__add_inferred(struct ts_tally *t, const char *name, uint64_t count)
{
	tally_add(t, name, true, count);
}

static int cmp_row(const void *a, const void *b)
{
	const struct ts_tally_row *x = a, *y = b;
	int c;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	c = strcmp(x->name, y->name);
	return c ? c : (int)x->inferred - (int)y->inferred;
}

void ts_tally__sort(struct ts_tally *t)
{
	if (t->n)
		qsort(t->rows, t->n, sizeof(t->rows[0]), cmp_row);
}
