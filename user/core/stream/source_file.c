// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "core/stream/source_file.h"

/* As live tracing flushes after each ring-buffer batch. */
#define FLUSH_EVERY 65536

void ts_source_file__meta(const struct ts_capr *r, struct ts_meta *m)
{
	m->wall_offset_ns = ts_capr__header(r)->wall_offset_ns;
}

int ts_source_file__run(struct ts_capr *r, struct ts_pipeline *p)
{
	struct ts_cap_trailer t;
	struct ts_rec rec;
	unsigned int n = 0;
	int err;

	while ((err = ts_capr__next(r, &rec)) > 0) {
		err = ts_pipeline__push(p, &rec);
		if (err)
			return err;
		if (++n == FLUSH_EVERY) {
			n = 0;
			err = ts_pipeline__flush(p);
			if (err)
				return err;
		}
	}
	if (err)
		return err;
	/* A complete capture says when recording ended ('report --at'). */
	if (ts_capr__trailer(r, &t))
		p->totals.end_ns = t.end_mono_ns;
	return ts_pipeline__flush(p);
}
