/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The filter options every command shares (-p, --port, -4, --netns ...). */
#ifndef TS_FILTER_OPTS_H
#define TS_FILTER_OPTS_H

#include <argp.h>
#include "core/stream/filter.h"

/* An argp child; its input must point at a struct ts_filter. */
extern const struct argp ts_filter_argp;

#endif
