/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A sink against the plain writer it stands for: n random records through
 * both, the sink flushed every flush_every records, the two streams equal
 * byte for byte.  Include after check.h.
 */
#ifndef TS_SINKCHECK_H
#define TS_SINKCHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/sinks/sinks.h"

typedef void (*sinkcheck_gen)(struct ts_rec *r);
typedef void (*sinkcheck_ref)(FILE *f, const struct ts_rec *r, const struct ts_meta *m);

/*
 * s was made on gf; wf holds what the reference wrote before (a header).
 * after, if not NULL, is what the sink's finish writes that the reference
 * does not (its closing line).  Both streams are closed.
 */
static inline void sinkcheck_run(struct ts_sink *s, FILE *gf, char **got, size_t *glen,
				 FILE *wf, char **want, size_t *wlen,
				 const struct ts_meta *meta, sinkcheck_gen gen,
				 sinkcheck_ref ref, int n, int flush_every,
				 const char *after)
{
	struct ts_totals t = {.records = after ? 1 : 0};
	struct ts_rec r;

	for (int i = 0; i < n; i++) {
		gen(&r);
		CHECK_INT(s->ops->rec(s->priv, &r), 0);
		ref(wf, &r, meta);
		if (i % flush_every == 0)
			CHECK_INT(s->ops->flush(s->priv), 0);
	}
	CHECK_INT(s->ops->finish(s->priv, &t), 0);
	s->ops->destroy(s->priv);
	if (after)
		fputs(after, wf);
	fclose(gf);
	fclose(wf);
	CHECK_INT(*glen, *wlen);
	CHECK(*glen == *wlen && !memcmp(*got, *want, *glen));
	free(*got);
	free(*want);
}

#endif
