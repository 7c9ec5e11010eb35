// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "cmd/opt_values.h"
#include "cmd/usage.h"
#include "core/util/parse.h"

void ts_opt_duration(const struct argp_state *state, const char *arg, uint64_t *ns)
{
	if (ts_parse_duration(arg, ns) || !*ns)
		ts_usage_error(state, "invalid --duration '%s': e.g. 10, 10s, 500ms, 2m", arg);
}

void ts_opt_ring_size(const struct argp_state *state, const char *arg, uint64_t *bytes)
{
	uint64_t v;

	/* The kernel wants a power-of-two number of pages. */
	if (ts_parse_size(arg, &v) || v < 4096 || v > (1ULL << 30) || (v & (v - 1)))
		ts_usage_error(state, "invalid --ring-size '%s': a power of two from 4K to 1G", arg);
	*bytes = v;
}

void ts_opt_tp_mode(const struct argp_state *state, const char *arg, enum ts_tp_mode *mode)
{
	if (!strcmp(arg, "auto"))
		*mode = TS_TP_AUTO;
	else if (!strcmp(arg, "btf"))
		*mode = TS_TP_BTF;
	else if (!strcmp(arg, "classic"))
		*mode = TS_TP_CLASSIC;
	else
		ts_usage_error(state, "invalid --tp-mode '%s': auto, btf or classic", arg);
}

void ts_opt_color(const struct argp_state *state, const char *arg, enum ts_color *color)
{
	if (!strcmp(arg, "auto"))
		*color = TS_COLOR_AUTO;
	else if (!strcmp(arg, "always"))
		*color = TS_COLOR_ALWAYS;
	else if (!strcmp(arg, "never"))
		*color = TS_COLOR_NEVER;
	else
		ts_usage_error(state, "invalid --color '%s': auto, always or never", arg);
}

bool ts_color_wanted(enum ts_color color)
{
	if (color == TS_COLOR_ALWAYS)
		return true;
	if (color == TS_COLOR_NEVER || getenv("NO_COLOR"))
		return false;
	return isatty(STDOUT_FILENO);
}

uint16_t ts_out_columns(void)
{
	const char *env = getenv("COLUMNS");
	struct winsize ws;
	uint64_t cols;

	if (isatty(STDOUT_FILENO) && !ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col)
		return ws.ws_col;
	if (env && !ts_parse_u64(env, 1, 10000, &cols))
		return (uint16_t)cols;
	return 0;
}

bool ts_compact_wanted(bool wide)
{
	uint16_t cols = ts_out_columns();

	return !wide && cols && cols < TS_WIDE_COLUMNS;
}
