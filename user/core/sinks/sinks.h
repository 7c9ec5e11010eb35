/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Constructors of the sinks that write records to a stream. */
#ifndef TS_SINKS_H
#define TS_SINKS_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include "core/stream/pipeline.h"

/*
 * A sink's write error: -EPIPE when the reader went away (| head), which
 * commands end quietly on; -EIO for any other.
 */
static inline int ts_sink_werr(FILE *f)
{
	if (!ferror(f))
		return 0;
	return errno == EPIPE ? -EPIPE : -EIO;
}

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

/* The JSON schema every stream follows (docs/JSON.md); each JSON stream
 * starts with one "header" object naming it. */
#define TS_JSON_SCHEMA "tcpscope/1"

struct ts_jsonw;
/* {"event":"header","schema":...,"command":...,"mode":...,"ts_ns","time"} */
void ts_json_write_header(FILE *f, const char *command, const char *mode, uint64_t ts_ns,
			  const struct ts_meta *m);
/* The closing counters (segs_out ... srtt_us); all null when st is NULL. */
void ts_json_stats(struct ts_jsonw *w, const struct ts_tcp_stats *st);
/* Times, owners, ids and addresses: ts_json_*() in core/util/jsonw.h. */

/* cgroup_id, cgroup and container (null when unknown). */
void ts_json_cgroup(struct ts_jsonw *w, uint64_t id, const char *path);
/* A dropped segment's fields: direction, segment, seq, seq_rel (null
 * without the peer's initial sequence number), len, tcp_flags,
 * reason (null unknown), reason_code, location ("func+0xOFF", null). */
void ts_json_drop(struct ts_jsonw *w, uint8_t dir, uint8_t tcp_flags, uint32_t seq,
		  uint32_t len, bool has_base, uint32_t seq_base, const char *reason_name,
		  uint32_t reason, const char *where, uint32_t where_off);
/* A reset's "reason" (null unknown) and "reason_inferred". */
void ts_json_rst_why(struct ts_jsonw *w, struct ts_rst_why why);
/* Print one record as JSON (shared with other JSON sinks). */
void ts_json_write_rec(FILE *f, const struct ts_rec *r,
		       const struct ts_meta *m);
/* Print one record as a text line. */
void ts_text_write_rec(FILE *f, const struct ts_rec *r,
		       const struct ts_meta *m);
void ts_text_write_header(FILE *f, const struct ts_meta *m);

#endif
