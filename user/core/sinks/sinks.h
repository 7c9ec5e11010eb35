/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Constructors of the sinks that write records to a stream. */
#ifndef TS_SINKS_H
#define TS_SINKS_H

#include <stdint.h>
#include <stdio.h>
#include "core/stream/pipeline.h"

/* One aligned line per record, for people. */
int ts_sink_text__new(struct ts_sink *out, FILE *f, const struct ts_meta *m);
/* One JSON object per line, for machines. */
int ts_sink_json__new(struct ts_sink *out, FILE *f, const struct ts_meta *m);

/* One text block per connection as it ends (needs ts_pipeline__track). */
int ts_sink_timeline_text__new(struct ts_sink *out, FILE *f,
			      const struct ts_meta *m);
/* One JSON object ("event":"connection") per connection as it ends. */
int ts_sink_timeline_json__new(struct ts_sink *out, FILE *f,
			      const struct ts_meta *m);
/* Print one connection as JSON. */
void ts_json_write_conn(FILE *f, const struct ts_conn *c,
			const struct ts_meta *m);

/* Print one record as JSON (shared with other JSON sinks). */
void ts_json_write_rec(FILE *f, const struct ts_rec *r,
		       const struct ts_meta *m);
/* Print one record as a text line. */
void ts_text_write_rec(FILE *f, const struct ts_rec *r,
		       const struct ts_meta *m);
void ts_text_write_header(FILE *f);

#endif
