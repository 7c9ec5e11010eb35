/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Option values that several commands share (--duration, --ring-size,
 * --tp-mode, --color): parsed and range-checked in one place, each bad
 * value ending the run with one line and exit status 2.
 */
#ifndef TS_OPT_VALUES_H
#define TS_OPT_VALUES_H

#include <argp.h>
#include <stdbool.h>
#include <stdint.h>
#include "kernel/loader.h"

#define TS_DEFAULT_RING (16ULL << 20)

enum ts_color {
	TS_COLOR_AUTO = 0, /* on a terminal, unless NO_COLOR is set */
	TS_COLOR_ALWAYS,
	TS_COLOR_NEVER,
};

void ts_opt_duration(const struct argp_state *state, const char *arg, uint64_t *ns);
void ts_opt_ring_size(const struct argp_state *state, const char *arg, uint64_t *bytes);
void ts_opt_tp_mode(const struct argp_state *state, const char *arg, enum ts_tp_mode *mode);
void ts_opt_color(const struct argp_state *state, const char *arg, enum ts_color *color);
/* Whether text on stdout gets ANSI colour. */
bool ts_color_wanted(enum ts_color color);
/*
 * Whether text on stdout takes the compact (80-column) layout: never with
 * --wide; on a terminal narrower than the wide layout (TS_WIDE_COLUMNS);
 * not on a terminal only when COLUMNS says the reader is that narrow.
 */
#define TS_WIDE_COLUMNS 150
bool ts_compact_wanted(bool wide);
/* The width of stdout's terminal, else COLUMNS, else 0 (unknown). */
uint16_t ts_out_columns(void);

#endif
