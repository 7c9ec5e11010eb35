// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "cmd/diagram_opts.h"
#include "cmd/usage.h"

enum {
	OPT_DIAGRAM = 0x1900,
	OPT_ASCII,
};

static const struct argp_option options[] = {
	{ "diagram", OPT_DIAGRAM, NULL, 0,
	  "With --timeline: draw each connection as an RFC 793 ladder (both ends "
	  "when both were traced on this host)", 3 },
	{ "ascii", OPT_ASCII, NULL, 0,
	  "With --diagram: plain ASCII (default: box-drawing characters when the "
	  "locale is UTF-8)", 3 },
	{},
};

static error_t parse(int key, char *arg, struct argp_state *state)
{
	struct ts_diagram_flags *d = state->input;

	(void)arg;
	switch (key) {
	case OPT_DIAGRAM:
		d->diagram = true;
		break;
	case OPT_ASCII:
		d->ascii = true;
		break;
	case ARGP_KEY_END:
		if (d->ascii && !d->diagram)
			ts_usage_error(state, "--ascii needs --diagram");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp ts_diagram_argp = {
	.options = options,
	.parser = parse,
};

void ts_diagram_flags__check(struct argp_state *state, const struct ts_diagram_flags *d,
			     bool timeline, bool json)
{
	if (d->diagram && (!timeline || json))
		ts_usage_error(state, "--diagram needs --timeline (and no --json)");
}
