/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Pictures of connections, fed by the tracker like every connection sink
 * (live and replay alike): the RFC 793 ladder in the terminal
 * (--diagram), a self-contained HTML page (report --html) and a
 * Chrome/Perfetto trace-event file (report --perfetto).  See
 * docs/PICTURES.md.
 */
#ifndef TS_PICTURES_H
#define TS_PICTURES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "core/stream/pipeline.h"

/* Width every diagram line fits in. */
#define TS_DIAGRAM_COLS 80

struct ts_diagram_opts {
	bool unicode; /* box-drawing characters; plain ASCII when false */
	/*
	 * How long (in record time) a finished connection waits for the
	 * other end of the same connection, traced on this host too, before
	 * it is drawn alone.  0: TS_DIAGRAM_PAIR_WAIT_NS.
	 */
	uint64_t pair_wait_ns;
};

#define TS_DIAGRAM_PAIR_WAIT_NS 1000000000ull

/* One RFC 793-style ladder per connection (needs ts_pipeline__track). */
int ts_sink_diagram__new(struct ts_sink *out, FILE *f, const struct ts_meta *m,
			 const struct ts_diagram_opts *o);

/*
 * Whether the locale asks for UTF-8: the first of LC_ALL, LC_CTYPE, LANG
 * that is set and not empty names a UTF-8 codeset.  Arguments may be NULL.
 */
bool ts_diagram_locale_utf8(const char *lc_all, const char *lc_ctype,
			    const char *lang);

#define TS_HTML_DEFAULT_MAX_CONNS 500
#define TS_HTML_MAX_CONNS 100000

struct ts_html_opts {
	uint32_t max_conns; /* rows drawn; the rest aggregated. 0: default */
	const char *title;  /* shown on the page (the capture's name) */
};

/*
 * The HTML page (needs ts_pipeline__track).  f stays the caller's; the
 * page is written at finish.
 */
int ts_sink_html__new(struct ts_sink *out, FILE *f, const struct ts_meta *m,
		      const struct ts_html_opts *o);

/* The trace-event JSON for ui.perfetto.dev (needs ts_pipeline__track). */
int ts_sink_perfetto__new(struct ts_sink *out, FILE *f, const struct ts_meta *m);

/*
 * The input ended at damage (msg says where): a picture sink says so in
 * what it writes at finish.  Other sinks are left alone.
 */
void ts_sink_picture__note_damage(struct ts_sink *s, const char *msg);

#endif
