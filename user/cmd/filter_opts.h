/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The filter options every command shares (-p, --port, -4, --netns ...). */
#ifndef TS_FILTER_OPTS_H
#define TS_FILTER_OPTS_H

#include <argp.h>
#include "core/stream/filter.h"

/* An argp child; its input must point at a struct ts_filter. */
extern const struct argp ts_filter_argp;

/* --netns for every command: a name, a path or an inode; path gets the
 * file ("" for an inode).  A bad one ends the run with exit status 2. */
void ts_opt_netns(const struct argp_state *state, const char *arg, uint32_t *ino, char *path,
		  size_t len);
/* -4 / -6 for every command: the two exclude each other (exit 2). */
void ts_opt_family(const struct argp_state *state, int key, uint8_t *family);
/* Live commands: a warning line for a namespace or process that does not
 * exist now (the filter would silently match nothing). */
void ts_filter_opts__check_live(const struct ts_filter *f);

#endif
