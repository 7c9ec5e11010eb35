/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * --diagram and --ascii, shared by trace and report as one argp child:
 * draw each connection of --timeline as an RFC 793 ladder.
 */
#ifndef TS_DIAGRAM_OPTS_H
#define TS_DIAGRAM_OPTS_H

#include <argp.h>
#include <stdbool.h>

struct ts_diagram_flags {
	bool diagram;
	bool ascii; /* never box-drawing characters */
};

/* An argp child; its input must point at a struct ts_diagram_flags. */
extern const struct argp ts_diagram_argp;

/* For the command's ARGP_KEY_END: --diagram goes with --timeline, not --json. */
void ts_diagram_flags__check(struct argp_state *state, const struct ts_diagram_flags *d,
			     bool timeline, bool json);

#endif
